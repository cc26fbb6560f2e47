"""The ledger behind receivers: the charges made from them, their refunds, the sweeps that took
their money to the account balance, each with its balance transaction and the payout that took
it (typed, paced, cancellable, with progress).

The cheapest path the lists allow (Stripe has no ``source`` filter on charges, and a balance
transaction does not name its payout):

1. ``GET /v1/charges`` from the oldest receiver's ``created`` on, with
   ``expand[]=data.balance_transaction`` and ``data.refunds``: one read per 100 charges of the
   account in that window, kept when made from a receiver given;
2. ``GET /v1/balance_transactions?type=adjustment`` over the same window: the sweeps (Stripe's
   monthly sweep of money left on a source; its description names the source: the sandbox's
   plausible choice where Stripe's docs are silent);
3. ``GET /v1/payouts`` from the first of those balance transactions' ``available_on``, then,
   oldest first, ``GET /v1/balance_transactions?payout=po_...`` of each automatic payout made
   after a balance transaction still unplaced in its currency became available, until every one
   is placed.

:func:`ledger_reads` says before it starts the least it will cost.

>>> ledger = toolkit.load_ledger(session, sources, progress=False)
>>> list(ledger.columns[:4]), set(ledger["kind"]) <= {"charge", "refund", "sweep"}
(['kind', 'id', 'source', 'customer'], True)
"""

from __future__ import annotations

import math
import re
import threading
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.fetch.invoices import rows_frame
from toolkit.fetch.lists import PAGE_LIMIT, iter_list, iter_pages
from toolkit.fetch.loaded import LoadInfo, now_of
from toolkit.money import to_major
from toolkit.progress import Progress, ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = ["LEDGER_COLUMNS", "ledger_reads", "load_ledger"]

LEDGER_COLUMNS = (
    "kind",
    "id",
    "source",
    "customer",
    "currency",
    "amount",
    "amount_major",
    "fee",
    "net",
    "created",
    "charge",
    "balance_transaction",
    "available_on",
    "payout",
    "payout_status",
    "payout_arrival",
)
_SOURCE_ID = re.compile(r"src_[A-Za-z0-9]+")


def _receivers(sources: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(sources, pd.DataFrame) or not {"id", "flow", "created"} <= set(
        sources.columns
    ):
        raise InvalidInputError("load_ledger needs the sources frame from toolkit.load_sources.")
    return sources[sources["flow"].astype(object) == "receiver"]


def ledger_reads(sources: pd.DataFrame) -> int:
    """The least reads :func:`load_ledger` takes for ``sources``, known before it starts: a
    page of charges per 100 charges its receivers count (at least one each that was charged),
    a page of adjustments and a page of payouts; each payout read is one more.

    >>> ledger_reads(sources) >= 3
    True
    """
    receivers = _receivers(sources)
    charged = int(
        (pd.to_numeric(receivers.get("receiver_amount_charged"), errors="coerce") > 0).sum()
    )
    return max(1, math.ceil(charged / PAGE_LIMIT)) + 2


def load_ledger(
    session: SessionLike,
    sources: pd.DataFrame,
    *,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """The charges, refunds and sweeps of the receivers in ``sources`` (the frame from
    :func:`toolkit.load_sources`; a receiver's id in ``source``), one row each: ``kind``,
    ``amount`` (positive: charged, refunded or swept; Int64 minor units with ``amount_major``),
    ``fee`` and ``net`` (of its balance transaction: a refund's is negative), ``charge`` (a
    refund's), ``balance_transaction``, ``available_on``, and the ``payout`` that took it
    (``payout_status``, ``payout_arrival``; None while it is in the balance). Reads as the
    module docstring says; at least :func:`ledger_reads`, and only when called.

    >>> sources = toolkit.load_sources(session, progress=False)
    >>> ledger = toolkit.load_ledger(session, sources, progress=False)
    >>> sorted(set(ledger["kind"]) - {"charge", "refund", "sweep"})
    []
    """
    receivers = _receivers(sources)
    ids = set(receivers["id"].astype(str))
    taken_at = now_of(session)
    rows: list[dict[str, Any]] = []
    start = _unix(receivers["created"].min()) if len(receivers) else None
    with session.reading("load ledger", cost=ledger_reads(sources) if ids else 0) as meter:
        bar = Progress(progress, None, "Reading the ledger", unit="pages", reads=meter)
        try:
            if ids and start is not None:
                window = {"created": {"gte": start}}
                rows += _charges(session, ids, window, bar, cancel)
                rows += _sweeps(session, ids, window, bar, cancel)
                _place(session, rows, bar, cancel)
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
    return info.attach(ledger_frame(rows))


def _unix(value: Any) -> int | None:
    if value is None or pd.isna(value):
        return None
    if isinstance(value, int | float):
        return int(value)
    return int(pd.Timestamp(value).timestamp())


def _charges(
    session: SessionLike,
    ids: set[str],
    window: dict[str, Any],
    bar: Progress,
    cancel: threading.Event | None,
) -> list[dict[str, Any]]:
    params = {**window, "expand": ["data.balance_transaction", "data.refunds"]}
    rows: list[dict[str, Any]] = []
    for page in iter_pages(session.list_charges, params=params, cancel=cancel):
        bar.step()
        for charge in page:
            src = charge.get("source")
            sid = src.get("id") if isinstance(src, dict) else src
            sid = sid if sid in ids else charge.get("payment_method")
            if sid not in ids:
                continue
            bt = charge.get("balance_transaction")
            bt = bt if isinstance(bt, dict) else {"id": bt}
            base = {"source": sid, "customer": _id(charge.get("customer"))}
            rows.append(
                {
                    **base,
                    "kind": "charge",
                    "id": charge["id"],
                    "currency": charge.get("currency"),
                    "amount": charge.get("amount"),
                    "fee": bt.get("fee"),
                    "net": bt.get("net"),
                    "created": charge.get("created"),
                    "balance_transaction": bt.get("id"),
                    "available_on": bt.get("available_on"),
                }
            )
            for refund in (charge.get("refunds") or {}).get("data") or []:
                rows.append(
                    {
                        **base,
                        "kind": "refund",
                        "id": refund["id"],
                        "currency": refund.get("currency"),
                        "amount": refund.get("amount"),
                        "fee": 0,
                        "net": -int(refund.get("amount") or 0),
                        "created": refund.get("created"),
                        "charge": charge["id"],
                        "balance_transaction": _id(refund.get("balance_transaction")),
                        "available_on": refund.get("created"),
                    }
                )
    return rows


def _sweeps(
    session: SessionLike,
    ids: set[str],
    window: dict[str, Any],
    bar: Progress,
    cancel: threading.Event | None,
) -> list[dict[str, Any]]:
    rows = []
    params = {**window, "type": "adjustment"}
    for page in iter_pages(session.list_balance_transactions, params=params, cancel=cancel):
        bar.step()
        for bt in page:
            named = [s for s in _SOURCE_ID.findall(bt.get("description") or "") if s in ids]
            if not named or int(bt.get("amount") or 0) <= 0:
                continue
            rows.append(
                {
                    "kind": "sweep",
                    "id": bt["id"],
                    "source": named[0],
                    "currency": bt.get("currency"),
                    "amount": bt.get("amount"),
                    "fee": bt.get("fee"),
                    "net": bt.get("net"),
                    "created": bt.get("created"),
                    "balance_transaction": bt["id"],
                    "available_on": bt.get("available_on"),
                }
            )
    return rows


def _place(
    session: SessionLike, rows: list[dict[str, Any]], bar: Progress, cancel: threading.Event | None
) -> None:
    """Find the payout of each row's balance transaction (module docstring, step 3)."""
    unplaced = {r["balance_transaction"]: r for r in rows if r.get("balance_transaction")}
    if not unplaced:
        return
    first = min(int(r.get("available_on") or r.get("created") or 0) for r in unplaced.values())
    payouts = list(
        iter_list(session.list_payouts, params={"created": {"gte": first}}, cancel=cancel)
    )
    bar.step()
    for payout in sorted(payouts, key=lambda p: (p.get("created") or 0, p["id"])):
        if not unplaced:
            return
        if payout.get("automatic") is False:
            continue  # Stripe lists the balance transactions of automatic payouts only
        due = [
            r
            for r in unplaced.values()
            if r.get("currency") == payout.get("currency")
            and int(r.get("available_on") or 0) <= int(payout.get("created") or 0)
        ]
        if not due:
            continue
        params = {"payout": payout["id"]}
        for page in iter_pages(session.list_balance_transactions, params=params, cancel=cancel):
            bar.step()
            for bt in page:
                row = unplaced.pop(bt["id"], None)
                if row is None:
                    continue
                for same in rows:  # a row and its twin (none today) share the transaction
                    if same.get("balance_transaction") == bt["id"]:
                        same["net"] = bt.get("net", same.get("net"))
                        same["payout"] = payout["id"]
                        same["payout_status"] = payout.get("status")
                        same["payout_arrival"] = payout.get("arrival_date")


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def ledger_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The typed frame of ledger rows (columns :data:`LEDGER_COLUMNS`), oldest first."""
    df = rows_frame(rows, [c for c in LEDGER_COLUMNS if c != "amount_major"])
    df = df.sort_values(["created", "id"], kind="stable").reset_index(drop=True)
    for col in ("amount", "fee", "net"):
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    df["amount_major"] = to_major(df["amount"], df["currency"])
    for col in ("created", "available_on", "payout_arrival"):
        df[col] = pd.to_datetime(pd.to_numeric(df[col]).astype("Int64"), unit="s", utc=True)
    return df[list(LEDGER_COLUMNS)]
