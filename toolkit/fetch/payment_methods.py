"""The payment methods of customers, beside each customer's ``default_source`` and
``invoice_settings.default_payment_method``: what replaces their sources (typed, paced,
cancellable, with progress).

Stripe lists payment methods only per customer (``GET /v1/customers/{id}/payment_methods``;
``GET /v1/payment_methods`` without ``customer`` lists Treasury's, attached to no one), so this
reads one list per customer, and only the customers that still pay with a source when given the
sources frame. The customer's defaults come with the list (``expand[]=data.customer``); a
customer with no payment method at all is read once more (``GET /v1/customers/{id}``) for them.

>>> pms = toolkit.load_payment_methods(session, sources, progress=False)
>>> list(pms.columns[:4])
['customer', 'id', 'type', 'created']
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import pandas as pd

from toolkit.errors import Cancelled, NotFoundError
from toolkit.fetch.accounts import read_by_account
from toolkit.fetch.inputs import id_list
from toolkit.fetch.invoices import rows_frame
from toolkit.fetch.lists import PAGE_LIMIT, iter_list
from toolkit.fetch.loaded import LoadInfo, now_of, with_reads
from toolkit.progress import Progress, ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = ["PAYMENT_METHOD_COLUMNS", "customers_paying_by_source", "load_payment_methods"]

PAYMENT_METHOD_COLUMNS = (
    "customer",
    "id",
    "type",
    "created",
    "livemode",
    "legacy",
    "is_default",
    "card_brand",
    "last4",
    "customer_default_source",
    "customer_default_payment_method",
)
#: Source types whose sources are not paid with (cards are Stripe's own cards, as the payment
#: methods list shows them).
_CARD_TYPES = ("card", "card_present", "three_d_secure")


def customers_paying_by_source(sources: pd.DataFrame) -> list[str]:
    """The customers of a sources frame that still pay with a source: a pending or chargeable
    source that is not a card (Stripe lists card sources among payment methods already).

    >>> customers_paying_by_source(pd.DataFrame({"customer": ["cus_1", "cus_2"],
    ...     "type": ["sepa_debit", "card"], "status": ["chargeable", "chargeable"]}))
    ['cus_1']
    """
    active = sources["status"].astype(object).isin(("pending", "chargeable"))
    paying = active & ~sources["type"].astype(object).isin(_CARD_TYPES)
    found = sources.loc[paying & sources["customer"].notna(), "customer"].astype(str)
    return list(dict.fromkeys(found))


def load_payment_methods(
    session: SessionLike,
    customers: Any = None,
    *,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """One row per customer and payment method: ``type``, ``created`` (UTC), ``legacy`` (a
    card or card source Stripe shows as a ``card`` payment method, with its own ``card_``/
    ``src_`` id: not a successor), ``is_default`` (the customer's
    ``invoice_settings.default_payment_method``), ``customer_default_source`` and
    ``customer_default_payment_method``. A customer with none has one row with no ``id``.

    ``customers``: ids, or the sources frame (only its customers that still pay with a
    source: :func:`customers_paying_by_source`), or None for every customer of the account
    (listed 100 a read first). Costs one read per customer, plus, for the customers given who
    have no payment method, a read each or the account's customer list (100 a read), whichever
    the account-wide load behind the frame says is fewer; held to the read allowance before the
    first is sent when the customers are given. A frame with an ``account`` column is read account by account.

    >>> toolkit.load_payment_methods(session, ["cus_NoSuchCustomer01"], progress=False).empty
    True
    """
    if isinstance(customers, pd.DataFrame) and "account" in customers.columns:

        def one(sub: SessionLike, mine: pd.DataFrame) -> pd.DataFrame:
            return load_payment_methods(sub, mine, progress=progress, cancel=cancel)

        with session.reading() as meter:
            frame = read_by_account(session, customers, one, cancel)
        return with_reads(frame, meter)
    ids: list[str] | None
    if isinstance(customers, pd.DataFrame) and {"status", "type"} <= set(customers.columns):
        ids = customers_paying_by_source(customers)
    elif isinstance(customers, pd.DataFrame):
        ids = id_list(customers.get("customer", customers.get("id")), "customers", "cus_") or []
    else:
        ids = id_list(customers, "customers", "cus_")
    taken_at = now_of(session)
    rows: list[dict[str, Any]] = []
    missing: list[str] = []
    cost = None if ids is None else len(ids)
    with session.reading("load payment methods", cost=cost) as meter:
        bar = Progress(progress, cost, "Reading payment methods", unit="customers", reads=meter)
        asked = 0
        bare: list[str] = []  # customers with no payment method: their object is read after
        try:
            for cid, customer in _customers(session, ids, cancel):
                if cancel is not None and cancel.is_set():
                    raise Cancelled("Canceled: stopped before every payment method was read.")
                asked += 1
                try:
                    found = _payment_methods(session, cid, customer, cancel)
                except NotFoundError:
                    missing.append(cid)
                else:
                    if found is None:
                        bare.append(cid)
                    else:
                        rows.extend(found)
                bar.step()
            objects = _customer_objects(session, bare, _account_customers(customers), cancel)
            for cid in bare:
                if cid in objects:
                    rows.extend(_rows(cid, objects[cid], []))
                else:
                    missing.append(cid)
        finally:
            bar.close()
    info = LoadInfo(
        taken_at=taken_at.isoformat(),
        account=session.account_label,
        mode=session.mode,
        missing_customers=missing,
        scope="account" if ids is None else "customers",
        customers=asked,
        reads=meter.reads,
        api_version=session.api_version,
    )
    return info.attach(payment_methods_frame(rows))


def _customers(
    session: SessionLike, ids: list[str] | None, cancel: threading.Event | None
) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(customer id, the customer object when a customer page carried it) for each customer."""
    if ids is not None:
        yield from ((cid, None) for cid in ids)
        return
    for customer in iter_list(session.list_customers, cancel=cancel):
        yield customer["id"], customer


def _payment_methods(
    session: SessionLike,
    cid: str,
    customer: dict[str, Any] | None,
    cancel: threading.Event | None,
) -> list[dict[str, Any]] | None:
    """The rows of ``cid``'s payment methods (one read: each carries its customer, expanded),
    or None when it has none and its customer object is still to be read."""
    params = {"expand": ["data.customer"]} if customer is None else {}
    read = session.list_customer_payment_methods
    found = list(iter_list(read, cid, params=params, cancel=cancel))
    if customer is None and found:
        customer = found[0].get("customer")
    if not isinstance(customer, dict):
        return None
    return _rows(cid, customer, found)


def _account_customers(customers: Any) -> int | None:
    """How many customers the account-wide load behind the frame ``customers`` listed."""
    if not isinstance(customers, pd.DataFrame):
        return None
    info = LoadInfo.from_attrs(customers)
    if info is None or info.scope != "account" or not info.customers:
        return None
    return int(info.customers)


def _customer_objects(
    session: SessionLike, ids: list[str], listed: int | None, cancel: threading.Event | None
) -> dict[str, dict[str, Any]]:
    """The customer objects of ``ids`` by the fewer reads: one each, or the account's customer
    list (100 a read) when the account-wide load said it takes fewer pages than ``ids``."""
    if not ids:
        return {}
    wanted = set(ids)
    out: dict[str, dict[str, Any]] = {}
    if listed is not None and math.ceil(listed / PAGE_LIMIT) < len(ids):
        for customer in iter_list(session.list_customers, cancel=cancel):
            if customer.get("id") in wanted:
                out[customer["id"]] = customer
                if len(out) == len(wanted):
                    break
    # the rest one by one (a customer deleted since, or on a test clock, is not in the list)
    for cid in (c for c in ids if c not in out):
        try:
            out[cid] = session.retrieve_customer(cid, cancel=cancel)
        except NotFoundError:
            continue
    return out


def _rows(cid: str, customer: dict[str, Any], found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per payment method of ``customer`` (one row with no ``id`` when it has none)."""
    default_source = customer.get("default_source")
    default_pm = (customer.get("invoice_settings") or {}).get("default_payment_method")
    if isinstance(default_pm, dict):
        default_pm = default_pm.get("id")
    base = {
        "customer": cid,
        "customer_default_source": default_source,
        "customer_default_payment_method": default_pm,
    }
    if not found:
        return [{**base, "livemode": customer.get("livemode")}]
    rows = []
    for pm in found:
        card = pm.get("card") or {}
        details = pm.get(pm.get("type") or "") or {}
        rows.append(
            {
                **base,
                "id": pm.get("id"),
                "type": pm.get("type"),
                "created": pm.get("created"),
                "livemode": pm.get("livemode"),
                "legacy": not str(pm.get("id") or "").startswith("pm_"),
                "is_default": pm.get("id") == default_pm,
                "card_brand": card.get("brand"),
                "last4": details.get("last4") if isinstance(details, dict) else None,
            }
        )
    return rows


def payment_methods_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The typed frame of payment method rows (columns :data:`PAYMENT_METHOD_COLUMNS`)."""
    df = rows_frame(rows, list(PAYMENT_METHOD_COLUMNS))
    df = df.sort_values(["customer", "created", "id"], kind="stable", na_position="last")
    df = df.reset_index(drop=True)
    df["created"] = pd.to_datetime(df["created"].astype("Int64"), unit="s", utc=True)
    for col in ("livemode", "legacy", "is_default"):
        df[col] = df[col].astype("boolean")
    return df
