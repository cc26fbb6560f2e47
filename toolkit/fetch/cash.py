"""Customer cash balances and their transactions: where ACH Credit Transfer money lands after
an account moves to Bank Transfers, as typed frames (paced, cancellable, with progress).

>>> cash = toolkit.load_cash_balances(session, sources, progress=False)
>>> list(cash.columns[:4])
['customer', 'currency', 'available', 'available_major']
>>> moves = toolkit.load_cash_balance_transactions(session, cash, progress=False)
>>> list(moves.columns[:4])
['id', 'customer', 'type', 'currency']
"""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.fetch.accounts import read_by_account
from toolkit.fetch.frame import paused_gc
from toolkit.fetch.inputs import id_list
from toolkit.fetch.lists import next_params, params_after
from toolkit.fetch.loaded import LoadInfo, now_of, with_reads
from toolkit.fetch.per_customer import PerCustomer
from toolkit.fetch.windows import PAGE_SIZE
from toolkit.money import to_major
from toolkit.progress import Progress, ProgressArg
from toolkit.session import Session

__all__ = [
    "CASH_BALANCE_COLUMNS",
    "CASH_TRANSACTION_COLUMNS",
    "load_cash_balance_transactions",
    "load_cash_balances",
]

CASH_BALANCE_COLUMNS = (
    "customer",
    "currency",
    "available",
    "available_major",
    "reconciliation_mode",
    "using_merchant_default",
    "livemode",
    "funding_account_number",
    "funding_routing_number",
)
CASH_TRANSACTION_COLUMNS = (
    "id",
    "customer",
    "type",
    "currency",
    "net_amount",
    "net_amount_major",
    "ending_balance",
    "ending_balance_major",
    "created",
    "reference",
    "network",
    "sender_name",
    "livemode",
)


def _customer_ids(customers: Any) -> list[str] | None:
    """Customer ids from ids, a frame with a ``customer`` column (sources, cash balances) or
    None (every customer of the account)."""
    if customers is None:
        return None
    if isinstance(customers, pd.DataFrame):
        if "customer" not in customers.columns:
            raise InvalidInputError(
                "Pass customer ids ('cus_...'), or a frame with a 'customer' column (the frame "
                "from load_sources or load_cash_balances)."
            )
        customers = customers["customer"]
    return id_list(customers, "customers", "cus_") or []


def load_cash_balances(
    session: Session,
    customers: Any = None,
    *,
    funding_instructions: bool = False,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """One row per customer and currency of their cash balance: ``available`` (Int64, minor
    units) and ``available_major`` (Decimal), ``reconciliation_mode``, ``using_merchant_default``.

    ``customers``: ids, a frame with a ``customer`` column (the sources frame), or None for
    every customer of the account (read from the customer pages with
    ``expand[]=data.cash_balance``: one request per 100 customers; chosen customers cost one
    request each). A customer with no cash balance at all has one row with no
    currency (so that "read, none" differs from "not read"); unknown ids are the LoadInfo's
    ``missing_customers``. Read only: ``funding_instructions=True`` also asks Stripe for each
    customer's USD bank-transfer address (``funding_account_number``, ``funding_routing_number``),
    which Stripe *creates* for a customer who has none: it is a write, refused in live mode unless
    the session allows live writes. A frame with an ``account`` column (``load_sources(accounts=
    ...)``) is read account by account, each with its own session.

    >>> cash = toolkit.load_cash_balances(session, ["cus_NoSuchCustomer01"], progress=False)
    >>> len(cash), toolkit.LoadInfo.from_attrs(cash).missing_customers
    (0, ['cus_NoSuchCustomer01'])
    """
    if isinstance(customers, pd.DataFrame) and "account" in customers.columns:

        def one(sub: Session, mine: pd.DataFrame) -> pd.DataFrame:
            return load_cash_balances(
                sub, mine, funding_instructions=funding_instructions, progress=progress,
                cancel=cancel,
            )  # fmt: skip

        with session.reading() as meter:
            frame = read_by_account(session, customers, one, cancel)  # each its own session
        return with_reads(frame, meter)
    ids = _customer_ids(customers)
    if funding_instructions:
        session.require_write()
    operation = "load cash balances" + ("" if ids is None else " of customers")
    with session.reading(operation, cost=None if ids is None else len(ids)) as meter:
        frame, info = _balances(session, ids, funding_instructions, progress, cancel, meter)
    info.reads = meter.reads
    return info.attach(frame)


def _balances(
    session: Session,
    ids: list[str] | None,
    funding_instructions: bool,
    progress: ProgressArg,
    cancel: threading.Event | None,
    meter: Any,
) -> tuple[pd.DataFrame, LoadInfo]:
    """The cash balances of ``ids`` (None: every customer), and the LoadInfo of the read."""
    taken_at = now_of(session)
    reads = PerCustomer(
        session,
        ids,
        session.retrieve_cash_balance,
        lambda _: None,
        cancel,
        embedded=_embedded_balance,
        expand="data.cash_balance",
    )
    total = len(ids) if ids is not None else None
    bar = Progress(progress, total, "Reading cash balances", unit="customers", reads=meter)
    rows: list[dict[str, Any]] = []
    done = 0
    try:
        for cid, body, _task in reads.results():
            done += 1
            if body is not None:
                rows.extend(_balance_rows(cid, body))
            bar.update(done, f"{sum(1 for r in rows if r['currency']):,} balances")
    finally:
        reads.close()
        bar.close()
    frame = _balances_frame(rows)
    if funding_instructions and len(frame):
        frame = _with_funding(session, frame, cancel)
    return frame, reads.info(session, taken_at)


def _embedded_balance(cus: dict[str, Any]) -> dict[str, Any]:
    """The cash balance a customer page carries (``expand[]=data.cash_balance``); a customer
    whose ``cash_balance`` is null has none."""
    return cus.get("cash_balance") or {"available": {}, "livemode": cus.get("livemode")}


def _balance_rows(cid: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    settings = body.get("settings") or {}
    base = {
        "customer": cid,
        "reconciliation_mode": settings.get("reconciliation_mode"),
        "using_merchant_default": settings.get("using_merchant_default"),
        "livemode": body.get("livemode"),
    }
    available = body.get("available") or {}
    if not available:
        return [{**base, "currency": None, "available": None}]
    return [
        {**base, "currency": cur, "available": amount} for cur, amount in sorted(available.items())
    ]


def _balances_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=[c for c in CASH_BALANCE_COLUMNS if not c.startswith("fund")])
    df = df.sort_values(["customer", "currency"], na_position="last", kind="stable")
    df = df.reset_index(drop=True)
    df["available"] = df["available"].astype("Int64")
    df["available_major"] = to_major(df["available"], df["currency"])
    for col in ("reconciliation_mode", "customer", "currency"):
        df[col] = df[col].astype(object)
    df["using_merchant_default"] = df["using_merchant_default"].astype("boolean")
    df["livemode"] = df["livemode"].astype("boolean")
    df["funding_account_number"] = pd.Series([None] * len(df), dtype=object)
    df["funding_routing_number"] = pd.Series([None] * len(df), dtype=object)
    return df[list(CASH_BALANCE_COLUMNS)]


def _with_funding(session: Session, frame: pd.DataFrame, cancel: Any) -> pd.DataFrame:
    numbers: dict[str, tuple[str | None, str | None]] = {}
    for cid in dict.fromkeys(frame["customer"].tolist()):
        answer = session.create_funding_instructions(cid, cancel=cancel)
        addresses = ((answer.body or {}).get("bank_transfer") or {}).get("financial_addresses")
        aba = next((a.get("aba") for a in addresses or [] if a.get("type") == "aba"), None) or {}
        numbers[cid] = (aba.get("account_number"), aba.get("routing_number"))
    frame["funding_account_number"] = frame["customer"].map(lambda c: numbers[c][0])
    frame["funding_routing_number"] = frame["customer"].map(lambda c: numbers[c][1])
    return frame


def load_cash_balance_transactions(
    session: Session,
    customers: Any,
    *,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """Every cash balance transaction of the given customers, newest first: ``type`` (funded,
    applied_to_payment, ...), ``net_amount`` and ``ending_balance`` (Int64, minor units, with
    ``_major`` Decimals), ``created`` (UTC), and for bank transfers ``reference``, ``network``,
    ``sender_name``. ``customers``: ids or a frame with a ``customer`` column (for example the
    frame from :func:`load_cash_balances`: customers with no cash balance are skipped).

    >>> moves = toolkit.load_cash_balance_transactions(session, [], progress=False)
    >>> len(moves)
    0
    """
    if isinstance(customers, pd.DataFrame) and "account" in customers.columns:

        def one(sub: Session, mine: pd.DataFrame) -> pd.DataFrame:
            return load_cash_balance_transactions(sub, mine, progress=progress, cancel=cancel)

        with session.reading() as meter:
            frame = read_by_account(session, customers, one, cancel)
        return with_reads(frame, meter)
    taken_at = now_of(session)
    if isinstance(customers, pd.DataFrame) and "available" in customers.columns:
        customers = customers[customers["currency"].notna()]
    ids = _customer_ids(customers)
    if ids is None:
        raise InvalidInputError(
            "load_cash_balance_transactions needs customers: pass the frame from "
            "load_cash_balances (or customer ids)."
        )

    def params(cursor: str | None) -> dict[str, Any]:
        return params_after({"limit": PAGE_SIZE}, cursor or None)

    with session.reading("load cash balance transactions", cost=len(ids)) as meter:
        reads = PerCustomer(session, ids, session.list_cash_balance_transactions, params, cancel)
        bar = Progress(
            progress, len(ids), "Reading cash balance transactions", unit="customers", reads=meter
        )
        txns: list[dict[str, Any]] = []
        done = 0
        try:
            with paused_gc():
                for _cid, body, task in reads.results():
                    data = (body or {}).get("data") or []
                    txns.extend(data)
                    following = next_params(task.params, body) if body else None
                    if following is not None:
                        reads.again(task, following)
                        continue
                    done += 1
                    bar.update(done, f"{len(txns):,} transactions")
        finally:
            reads.close()
            bar.close()
    info = reads.info(session, taken_at)
    info.reads = meter.reads
    return info.attach(_transactions_frame(txns))


def _transactions_frame(txns: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for t in txns:
        bank = ((t.get("funded") or {}).get("bank_transfer")) or {}
        details = bank.get(bank.get("type") or "") or {}
        rows.append(
            {
                "id": t.get("id"),
                "customer": t.get("customer"),
                "type": t.get("type"),
                "currency": t.get("currency"),
                "net_amount": t.get("net_amount"),
                "ending_balance": t.get("ending_balance"),
                "created": t.get("created"),
                "reference": bank.get("reference"),
                "network": details.get("network"),
                "sender_name": details.get("sender_name"),
                "livemode": t.get("livemode"),
            }
        )
    df = pd.DataFrame(rows, columns=[c for c in CASH_TRANSACTION_COLUMNS if "major" not in c])
    df = df.drop_duplicates("id").sort_values(["created", "id"], ascending=False, kind="stable")
    df = df.reset_index(drop=True)
    for col in ("net_amount", "ending_balance"):
        df[col] = df[col].astype("Int64")
        df[f"{col}_major"] = to_major(df[col], df["currency"])
    df["created"] = pd.to_datetime(df["created"].astype("Int64"), unit="s", utc=True)
    df["livemode"] = df["livemode"].astype("boolean")
    return df[list(CASH_TRANSACTION_COLUMNS)]
