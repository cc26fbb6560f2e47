"""Invoices and subscriptions: the obligations that may still collect through a source (typed,
paced, cancellable, with progress).

Both are listed account-wide, every customer's at once (``GET /v1/invoices?status=open``,
``GET /v1/subscriptions``): one read per 100. ``payment_method_types`` is what the bill offers
(None: the account's invoice settings), ``default_source`` / ``default_payment_method`` what it
collects through.

>>> invoices = toolkit.load_invoices(session, progress=False)
>>> list(invoices.columns[:4]), set(invoices["status"]) <= {"open"}
(['id', 'customer', 'status', 'collection_method'], True)
>>> subs = toolkit.load_subscriptions(session, progress=False)
>>> list(subs.columns[:3])
['id', 'customer', 'status']
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.fetch.lists import iter_pages
from toolkit.fetch.loaded import LoadInfo, now_of
from toolkit.money import to_major
from toolkit.progress import Progress, ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = [
    "INVOICE_COLUMNS",
    "SUBSCRIPTION_COLUMNS",
    "load_invoices",
    "load_subscriptions",
    "rows_frame",
]

INVOICE_COLUMNS = (
    "id",
    "customer",
    "status",
    "collection_method",
    "currency",
    "amount_due",
    "amount_due_major",
    "amount_remaining",
    "amount_remaining_major",
    "due_date",
    "created",
    "number",
    "subscription",
    "default_source",
    "default_payment_method",
    "payment_method_types",
    "livemode",
)
SUBSCRIPTION_COLUMNS = (
    "id",
    "customer",
    "status",
    "collection_method",
    "currency",
    "created",
    "latest_invoice",
    "default_source",
    "default_payment_method",
    "payment_method_types",
    "livemode",
)
_INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")


def load_invoices(
    session: SessionLike,
    status: str | None = "open",
    *,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """Every invoice of the account in ``status`` (None: every status), newest first:
    ``amount_due`` and ``amount_remaining`` (Int64 minor units, with ``_major`` Decimals),
    ``due_date`` and ``created`` (UTC), ``default_source``, ``default_payment_method``,
    ``payment_method_types`` (comma-separated; None when the invoice takes the account's
    settings). One read per 100 invoices.

    >>> toolkit.load_invoices(session, status="overdue")
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: status must be one of draft, open, paid, uncollectible, void (or None for every status), not 'overdue'.
    """
    if status is not None and status not in _INVOICE_STATUSES:
        raise InvalidInputError(
            f"status must be one of {', '.join(_INVOICE_STATUSES)} (or None for every status), "
            f"not {status!r}."
        )
    params = {"status": status} if status else {}
    rows, info = _listed(session, session.list_invoices, params, "invoices", progress, cancel)
    frame = rows_frame([_invoice_row(i) for i in rows], list(INVOICE_COLUMNS))
    for col in ("amount_due", "amount_remaining"):
        frame[col] = frame[col].astype("Int64")
        frame[f"{col}_major"] = to_major(frame[col], frame["currency"])
    frame["due_date"] = _times(frame["due_date"])
    return _finish(frame, INVOICE_COLUMNS, info)


def load_subscriptions(
    session: SessionLike,
    status: str | None = None,
    *,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """Every subscription of the account, newest first (``status`` None: every one that has
    not ended, as Stripe lists them; ``"all"`` includes canceled ones): ``default_source``,
    ``default_payment_method``, ``payment_method_types`` (as :func:`load_invoices`),
    ``latest_invoice``. One read per 100 subscriptions.

    >>> bool(toolkit.load_subscriptions(session, status="all", progress=False)["status"].notna().all())
    True
    """
    params = {"status": status} if status else {}
    rows, info = _listed(
        session, session.list_subscriptions, params, "subscriptions", progress, cancel
    )
    frame = rows_frame([_subscription_row(s) for s in rows], list(SUBSCRIPTION_COLUMNS))
    return _finish(frame, SUBSCRIPTION_COLUMNS, info)


def rows_frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Rows of Stripe's values as a frame of object columns, a missing value None (never NaN),
    ready to be typed column by column.

    >>> rows_frame([{"a": 1}, {"b": "x"}], ["a", "b"])["b"].tolist()
    [None, 'x']
    """
    return pd.DataFrame(
        {c: pd.Series([r.get(c) for r in rows], dtype=object) for c in columns},
        index=pd.RangeIndex(len(rows)),
    )


def _listed(
    session: SessionLike,
    read: Callable[..., dict[str, Any]],
    params: dict[str, Any],
    what: str,
    progress: ProgressArg,
    cancel: threading.Event | None,
) -> tuple[list[dict[str, Any]], LoadInfo]:
    taken_at = now_of(session)
    found: list[dict[str, Any]] = []
    with session.reading(f"load {what}") as meter:
        bar = Progress(progress, None, f"Reading {what}", unit="pages", reads=meter)
        try:
            for page in iter_pages(read, params=params, cancel=cancel):
                found.extend(page)
                bar.step()
        finally:
            bar.close()
    info = LoadInfo(
        taken_at=taken_at.isoformat(),
        account=session.account_label,
        mode=session.mode,
        scope="account",
        reads=meter.reads,
        api_version=session.api_version,
    )
    return found, info


def _types(obj: dict[str, Any]) -> str | None:
    types = (obj.get("payment_settings") or {}).get("payment_method_types")
    return ", ".join(types) if types else None


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _invoice_row(inv: dict[str, Any]) -> dict[str, Any]:
    parent = (inv.get("parent") or {}).get("subscription_details") or {}
    return {
        "id": inv.get("id"),
        "customer": _id(inv.get("customer")),
        "status": inv.get("status"),
        "collection_method": inv.get("collection_method"),
        "currency": inv.get("currency"),
        "amount_due": inv.get("amount_due"),
        "amount_remaining": inv.get("amount_remaining"),
        "due_date": inv.get("due_date"),
        "created": inv.get("created"),
        "number": inv.get("number"),
        "subscription": _id(parent.get("subscription") or inv.get("subscription")),
        "default_source": _id(inv.get("default_source")),
        "default_payment_method": _id(inv.get("default_payment_method")),
        "payment_method_types": _types(inv),
        "livemode": inv.get("livemode"),
    }


def _subscription_row(sub: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sub.get("id"),
        "customer": _id(sub.get("customer")),
        "status": sub.get("status"),
        "collection_method": sub.get("collection_method"),
        "currency": sub.get("currency"),
        "created": sub.get("created"),
        "latest_invoice": _id(sub.get("latest_invoice")),
        "default_source": _id(sub.get("default_source")),
        "default_payment_method": _id(sub.get("default_payment_method")),
        "payment_method_types": _types(sub),
        "livemode": sub.get("livemode"),
    }


def _times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(pd.to_numeric(values).astype("Int64"), unit="s", utc=True)


def _finish(frame: pd.DataFrame, columns: tuple[str, ...], info: LoadInfo) -> pd.DataFrame:
    frame["created"] = _times(frame["created"])
    frame = frame.sort_values(["created", "id"], ascending=False, kind="stable")
    frame = frame.reset_index(drop=True)
    frame["livemode"] = frame["livemode"].astype("boolean")
    return info.attach(frame[list(columns)])
