"""The source transactions of receivers: the money that arrived, as a typed frame.

>>> receivers = toolkit.load_sources(session, progress=False).query("flow == 'receiver'").head(3)
>>> txns = toolkit.load_source_transactions(session, receivers, progress=False)
>>> list(txns.columns[:4]), bool(txns["source"].isin(receivers["id"]).all())
(['id', 'source', 'customer', 'type'], True)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import pandas as pd

from toolkit.errors import Cancelled, InvalidInputError, NotFoundError
from toolkit.fetch.accounts import read_by_account
from toolkit.fetch.frame import paused_gc, transactions_frame
from toolkit.fetch.inputs import id_list, in_order
from toolkit.fetch.lists import next_params, restart
from toolkit.fetch.loaded import ATTRS_KEY, LoadInfo, now_of, with_reads
from toolkit.fetch.pool import FIRST, MORE, RequestPool
from toolkit.fetch.windows import PAGE_SIZE
from toolkit.progress import Progress, ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = [
    "AMOUNTS_KEY",
    "UNFUNDED_NOTE",
    "load_source_transactions",
    "receiver_amounts",
    "unfunded_receivers",
]

#: How the note on receivers whose transactions were not read (``skip_unfunded``) begins.
UNFUNDED_NOTE = "Not asked for their transactions:"


def _received(value: Any) -> int | None:
    """A receiver's ``amount_received`` as an int; None when unknown (NA, missing, not a number)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


_AMOUNTS = ("amount_received", "amount_charged", "amount_returned")
#: Where a transactions frame records each receiver's amounts when its transactions were read.
AMOUNTS_KEY = "receiver_amounts"


def receiver_amounts(sources: Any) -> dict[str, list[int]]:
    """Receiver id -> [received, charged, returned] for the receivers of ``sources`` (a frame
    from :func:`load_sources`, or source dicts) whose three amounts are known.

    >>> receiver_amounts([{"id": "src_a", "flow": "receiver", "receiver": {
    ...     "amount_received": 500, "amount_charged": 200, "amount_returned": 0}}])
    {'src_a': [500, 200, 0]}
    """
    found: dict[str, list[int]] = {}
    if isinstance(sources, pd.DataFrame):
        columns = [f"receiver_{name}" for name in _AMOUNTS]
        if "id" not in sources.columns or any(c not in sources.columns for c in columns):
            return found
        values = [sources[c].astype(object).tolist() for c in columns]
        for sid, *amounts in zip(sources["id"].astype(object).tolist(), *values, strict=True):
            known = [_received(a) for a in amounts]
            if isinstance(sid, str) and all(a is not None for a in known):
                found[sid] = [int(a) for a in known if a is not None]
        return found
    if isinstance(sources, Iterable) and not isinstance(sources, str | bytes):
        for s in sources:
            receiver = s.get("receiver") if isinstance(s, dict) else None
            if isinstance(receiver, dict) and isinstance(s.get("id"), str):
                known = [_received(receiver.get(name)) for name in _AMOUNTS]
                if all(a is not None for a in known):
                    found[s["id"]] = [int(a) for a in known if a is not None]
    return found


def _reusable(
    reuse: Any, amounts: dict[str, list[int]], ids: list[str], where: tuple[Any, Any]
) -> dict[str, list[Any]]:
    """Id -> its transactions (raw dicts) in ``reuse`` for each of ``ids`` whose amounts are
    those ``reuse`` recorded when it read them (unmoved since), when ``reuse`` was read from
    the same (account, mode) as ``where``."""
    if reuse is None:
        return {}
    if not isinstance(reuse, pd.DataFrame) or not {"source", "raw"} <= set(reuse.columns):
        raise InvalidInputError(
            "reuse must be an earlier frame from load_source_transactions (or its snapshot)."
        )
    record = reuse.attrs.get(ATTRS_KEY) or {}
    if (record.get("account"), record.get("mode")) != where:
        return {}  # another account's (or mode's) transactions: nothing to keep
    then = record.get(AMOUNTS_KEY) or {}
    unmoved = {sid for sid in ids if sid in amounts and list(then.get(sid) or ()) == amounts[sid]}
    kept: dict[str, list[Any]] = {sid: [] for sid in unmoved}
    if unmoved:
        for sid, raw in zip(reuse["source"].astype(object), reuse["raw"], strict=True):
            if sid in kept and isinstance(raw, dict):
                kept[sid].append(dict(raw))
    return kept


def unfunded_receivers(sources: Any) -> list[str]:
    """The receivers of ``sources`` (a frame from :func:`load_sources`, or source dicts) whose
    ``receiver.amount_received`` is 0: those ``skip_unfunded=True`` does not list. A receiver
    whose amount is unknown (a plain id, a frame without the column) is never among them.

    >>> unfunded_receivers([{"id": "src_a", "flow": "receiver", "receiver": {"amount_received": 0}},
    ...                     {"id": "src_b", "flow": "receiver", "receiver": {"amount_received": 5}}])
    ['src_a']
    """
    found: list[str] = []
    if isinstance(sources, pd.DataFrame):
        if "id" not in sources.columns or "receiver_amount_received" not in sources.columns:
            return found
        frame = sources
        if "flow" in frame.columns:
            frame = frame[frame["flow"].astype(object) == "receiver"]
        for sid, amount in zip(
            frame["id"].astype(object),
            frame["receiver_amount_received"].astype(object),
            strict=True,
        ):
            if isinstance(sid, str) and _received(amount) == 0:
                found.append(sid)
        return found
    if isinstance(sources, Iterable) and not isinstance(sources, str | bytes):
        for s in sources:
            if isinstance(s, dict) and s.get("flow", "receiver") == "receiver" and s.get("id"):
                receiver = s.get("receiver")
                if isinstance(receiver, dict) and _received(receiver.get("amount_received")) == 0:
                    found.append(s["id"])
    return found


def _source_refs(sources: Any) -> tuple[list[str], dict[str, str | None]]:
    """Ids to list transactions for, and id -> customer, from a frame, dicts or ids."""
    customers: dict[str, str | None] = {}
    if isinstance(sources, pd.DataFrame):
        if "id" not in sources.columns:
            raise InvalidInputError(
                "load_source_transactions needs the frame from load_sources (an 'id' column) "
                "or a list of source ids."
            )
        frame = sources
        if "flow" in frame.columns:
            frame = frame[frame["flow"].astype(object) == "receiver"]
        ids = id_list(frame["id"], "sources", "src_") or []
        if "customer" in frame.columns:
            for sid, cus in zip(
                frame["id"].astype(object), frame["customer"].astype(object), strict=True
            ):
                customers[sid] = None if cus is None or pd.isna(cus) else cus
        return ids, customers
    if isinstance(sources, Iterable) and not isinstance(sources, str | bytes):
        items = list(sources)
        if items and all(isinstance(s, dict) for s in items):
            ids = []
            for s in items:
                if s.get("flow", "receiver") == "receiver" and s.get("id"):
                    ids.append(s["id"])
                    customers[s["id"]] = s.get("customer")
            return id_list(ids, "sources", "src_") or [], customers
        return id_list(items, "sources", "src_") or [], customers
    return id_list(sources, "sources", "src_") or [], customers


def load_source_transactions(
    session: SessionLike,
    sources: Any,
    *,
    skip_unfunded: bool = False,
    reuse: pd.DataFrame | None = None,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """The source transactions of the given receivers, as a typed frame, newest first.

    ``sources``: the frame from :func:`load_sources` (only ``flow == "receiver"`` rows are
    queried), source dicts, or ids. Columns: id, source, customer, type, status, currency,
    amount (Int64, minor units, negative for reversals), created (UTC), livemode, raw.
    Unknown source ids are the :class:`~toolkit.LoadInfo`'s ``missing_ids``. A frame with an
    ``account`` column (``load_sources(accounts=...)``) is read account by account.

    Each receiver costs one read (a page of 100 transactions). ``skip_unfunded=True`` spares
    the receivers whose ``receiver.amount_received`` is 0 (:func:`unfunded_receivers`; a
    quarter of them on a typical account): no money was counted as received there, so no
    succeeded transfer is missed. Stripe does not say that a pending or failed transfer, or a
    deposit reversed in full, moves ``amount_received``, so such transactions on those
    receivers are not seen; the frame's ``attrs["toolkit"]["unfunded_skipped"]`` names the
    receivers left out and :func:`~toolkit.audit_receivers` says so in its notes.

    ``reuse``: an earlier frame of this function (or its snapshot, ``save_snapshot`` keeps
    what it needs): a receiver whose received, charged and returned amounts are those it had
    when that frame read it keeps its transactions from there, without a read; only the
    receivers whose amounts moved (or that are new) are read. The frame records each
    receiver's amounts in ``attrs["toolkit"]["receiver_amounts"]`` for that, and how many it
    reused in ``"reused"``. A transfer that moves none of the amounts (one still pending, or
    one that failed) shows up only in a read without ``reuse``.

    >>> txns = toolkit.load_source_transactions(session, ["src_1NoSuchSource0000"], progress=False)
    >>> len(txns), toolkit.LoadInfo.from_attrs(txns).missing_ids
    (0, ['src_1NoSuchSource0000'])
    """
    if isinstance(sources, pd.DataFrame) and "account" in sources.columns:

        def one(sub: SessionLike, mine: pd.DataFrame) -> pd.DataFrame:
            return load_source_transactions(
                sub, mine, skip_unfunded=skip_unfunded, reuse=reuse, progress=progress,
                cancel=cancel,
            )  # fmt: skip

        with session.reading() as meter:
            frame = read_by_account(session, sources, one, cancel)  # each its own session
        if skip_unfunded:
            frame.attrs.setdefault(ATTRS_KEY, {})["unfunded_skipped"] = unfunded_receivers(sources)
        return with_reads(frame, meter)
    taken_at = now_of(session)
    ids, customers = _source_refs(sources)
    skipped: list[str] = []
    if skip_unfunded:
        unfunded = set(unfunded_receivers(sources))
        skipped = [sid for sid in ids if sid in unfunded]
        ids = [sid for sid in ids if sid not in unfunded]
    amounts = receiver_amounts(sources)
    where = (session.account_label, session.mode)
    kept = _reusable(reuse, amounts, ids, where)
    wanted = [sid for sid in ids if sid not in kept]
    with session.reading("load source transactions", cost=len(wanted)) as meter:
        txns, missing = _read(session, wanted, progress, cancel, meter)
    for rows in kept.values():
        txns.extend(rows)
    txns.sort(key=lambda t: t.get("id") or "")
    txns.sort(key=lambda t: t.get("created") or 0, reverse=True)
    info = LoadInfo(
        taken_at=taken_at.isoformat(),
        account=session.account_label,
        mode=session.mode,
        missing_ids=in_order(missing, wanted),
        reads=meter.reads,
    )
    frame = info.attach(transactions_frame(txns, customers))
    gone = set(missing)
    frame.attrs[ATTRS_KEY][AMOUNTS_KEY] = {
        sid: amounts[sid] for sid in ids if sid in amounts and sid not in gone
    }
    if reuse is not None:
        frame.attrs[ATTRS_KEY]["reused"] = len(kept)
    if skip_unfunded:
        frame.attrs[ATTRS_KEY]["unfunded_skipped"] = skipped
    return frame


def _read(
    session: SessionLike,
    ids: list[str],
    progress: ProgressArg,
    cancel: threading.Event | None,
    meter: Any,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The transactions of ``ids`` (one list each, page after page) and the ids Stripe does
    not know."""
    pool = RequestPool(session, cancel)
    bar = Progress(progress, len(ids), "Loading source transactions", unit="sources", reads=meter)
    txns: list[dict[str, Any]] = []
    seen: set[str] = set()
    missing: list[str] = []
    done = 0
    try:
        with paused_gc():
            read = session.list_source_transactions  # fed in as the pool's queue drains
            pool.feed(FIRST, "txns", read, (((s,), {"limit": PAGE_SIZE}, s) for s in ids))
            for task, result in pool.results():
                sid = task.ref
                if isinstance(result, BaseException):
                    if isinstance(result, Cancelled):
                        raise Cancelled("Canceled: stopped before every transaction was fetched.")
                    if isinstance(result, NotFoundError) and result.cursor_vanished:
                        pool.again(task, MORE, restart(task.params or {}))  # seen: skip
                        continue
                    if isinstance(result, NotFoundError):
                        missing.append(sid)
                        done += 1
                        continue
                    raise result
                data = result.get("data") or []
                for txn in data:
                    tid = txn.get("id")
                    if tid and tid not in seen:
                        seen.add(tid)
                        txns.append(txn)
                following = next_params(task.params, result)
                if following is not None:
                    pool.again(task, MORE, following)
                else:
                    done += 1
                bar.update(done, f"{len(txns):,} transactions")
    finally:
        pool.close()
        bar.close()
    return txns, missing
