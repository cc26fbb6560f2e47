"""Bring a snapshot up to date from Stripe's events, re-reading only the sources that changed.

A whole-account load costs a request per 100 customers and more; Stripe's ``/v1/events`` says
what changed since a time. :func:`refresh` reads the events of the types that change sources
since the snapshot was taken (``source.*``, ``customer.source.*``, ``customer.deleted``, and the
cash balance events, which move money a receiver audit follows), re-reads each source they name
once, and returns the snapshot with those rows replaced, added or removed: what a new load would
return, at a cost that grows with the changes, not the account.

Stripe keeps events for 30 days, so an older snapshot is refused (run a full load). The events
are asked for from the newest event Stripe had when the snapshot's load began
(``LoadInfo.events_since``, in Stripe's clock, so this machine's clock plays no part); a source
changed while that load ran is read again, which is harmless.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.fetch.accounts import by_account, with_account
from toolkit.fetch.events import event_mark, iter_events
from toolkit.fetch.frame import with_metadata_columns
from toolkit.fetch.loaded import LoadInfo, now_of
from toolkit.fetch.reread import patch_rows, reread_frame
from toolkit.fetch.schema import METADATA_PREFIX
from toolkit.fetch.snapshot import load_snapshot, save_snapshot
from toolkit.progress import Progress, ProgressArg
from toolkit.session import Session

__all__ = ["EVENT_QUERIES", "RETENTION", "RefreshInfo", "changed_objects", "refresh"]

RETENTION = timedelta(days=30)  # Stripe lists the events of the last 30 days
#: The event lists read, one ``type`` wildcard or ``types`` list each (Stripe allows one of them).
EVENT_QUERIES: tuple[dict[str, Any], ...] = (
    {"type": "source.*"},
    {"type": "customer.source.*"},
    {
        "types": [
            "customer.deleted",
            "customer_cash_balance_transaction.created",
            "cash_balance.funds_available",
        ]
    },
)
_CASH = ("customer_cash_balance_transaction.", "cash_balance.")


@dataclass
class RefreshInfo:
    """What a refresh read and did: the events ``since`` (Stripe's clock; None: the 30 days
    Stripe keeps), ``events`` read in ``event_pages`` pages, ``refetched``
    sources read again, rows ``added`` / ``removed`` / ``changed``, and ``cash_customers``:
    customers whose cash balance moved (re-run the retirement audit for them)."""

    since: int | None
    events: int = 0
    event_pages: int = 0
    refetched: int = 0
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    cash_customers: list[str] = field(default_factory=list)


@dataclass
class Changes:
    """What the events name: sources to read again, sources and customers gone, cash moved."""

    refetch: dict[str, str] = field(default_factory=dict)  # source id -> the last event type
    gone_customers: set[str] = field(default_factory=set)
    cash_customers: set[str] = field(default_factory=set)


def changed_objects(events: list[dict[str, Any]]) -> Changes:
    """What a list of events (newest first, as Stripe lists them) names.

    >>> events = [
    ...     {"type": "customer.source.deleted", "data": {"object": {"id": "src_1", "object": "source"}}},
    ...     {"type": "source.transaction.created", "data": {"object": {"source": "src_2"}}},
    ...     {"type": "customer.source.updated", "data": {"object": {"id": "src_1", "object": "source"}}},
    ... ]
    >>> changed_objects(events).refetch
    {'src_1': 'customer.source.deleted', 'src_2': 'source.transaction.created'}
    """
    changes = Changes()
    for event in reversed(events):  # oldest first: the last event of a source wins
        kind = str(event.get("type", ""))
        obj = (event.get("data") or {}).get("object") or {}
        if kind == "customer.deleted":
            changes.gone_customers.add(str(obj.get("id")))
        elif kind.startswith(_CASH):
            customer = obj.get("customer")
            if customer:
                changes.cash_customers.add(str(customer))
        elif kind.startswith("source.transaction."):
            if obj.get("source"):
                changes.refetch[str(obj["source"])] = kind
        elif obj.get("object") == "source" and obj.get("id"):
            changes.refetch[str(obj["id"])] = kind
    return changes


def _checked(snapshot: pd.DataFrame | str | os.PathLike[str]) -> tuple[pd.DataFrame, LoadInfo]:
    frame = snapshot if isinstance(snapshot, pd.DataFrame) else load_snapshot(snapshot)
    info = LoadInfo.from_attrs(frame)
    if info is None or not info.taken_at:
        raise InvalidInputError(
            "This frame does not say when it was loaded (df.attrs['toolkit'] is missing), so "
            "its changes cannot be read from events: run toolkit.load_sources again."
        )
    if info.scope not in ("account", "customers", "ids"):
        raise InvalidInputError(
            f"refresh brings whole-account, customers or ids loads up to date, not a "
            f"{info.scope!r} load: load the account (or those customers) instead."
        )
    return frame, info


def refresh(
    snapshot: pd.DataFrame | str | os.PathLike[str],
    session: Session,
    *,
    out: str | os.PathLike[str] | None = None,
    progress: ProgressArg = True,
) -> pd.DataFrame:
    """``snapshot`` (a frame from :func:`~toolkit.load_sources`, or a snapshot file) brought up
    to date from Stripe's events; written to ``out`` (a new snapshot) when given.

    The new frame's :class:`~toolkit.LoadInfo` has the new time, and ``attrs["refresh"]`` what
    the refresh read and did (:class:`RefreshInfo`). A snapshot older than Stripe's 30 days of
    events raises :class:`~toolkit.InvalidInputError`: run a full load.

    >>> fresh = toolkit.refresh(sources, session, progress=False)
    >>> len(fresh) == len(sources), fresh.attrs["refresh"]["refetched"]
    (True, 0)
    """
    frame, loaded = _checked(snapshot)
    if loaded.accounts and "account" in frame.columns:
        fresh_frame = _across_accounts(frame, loaded, session, progress)
        if out is not None:
            save_snapshot(fresh_frame, Path(out))
        return fresh_frame
    taken = datetime.fromisoformat(str(loaded.taken_at))
    now = now_of(session)
    if now - taken > RETENTION:
        raise InvalidInputError(
            f"This snapshot was taken {taken:%Y-%m-%d %H:%M} UTC, {(now - taken).days} days ago; "
            "Stripe keeps events for 30 days, so what changed since cannot be read. Run a full "
            "toolkit.load_sources and refresh that from now on."
        )
    info = RefreshInfo(since=loaded.events_since)
    bar = Progress(progress, None, "Reading events", unit="page")

    def on_page(count: int) -> None:
        info.event_pages += 1
        info.events += count
        bar.update(info.event_pages, f"{info.events:,} events")

    mark = event_mark(session)  # where the new frame stands: read before the events
    try:
        events = list(iter_events(session, EVENT_QUERIES, loaded.events_since, on_page))
    finally:
        bar.close()
    changes = changed_objects(events)
    fresh_frame = _apply(frame, loaded, changes, session, info, progress)
    loaded.taken_at, loaded.events_since = now.isoformat(), mark
    loaded.requests = 1 + info.event_pages + info.refetched
    fresh_frame.attrs = {**frame.attrs, "toolkit": loaded.to_attrs(), "refresh": vars(info)}
    if out is not None:
        save_snapshot(fresh_frame, Path(out))
    return fresh_frame


def _apply(
    frame: pd.DataFrame,
    loaded: LoadInfo,
    changes: Changes,
    session: Session,
    info: RefreshInfo,
    progress: ProgressArg,
) -> pd.DataFrame:
    by_reach = loaded.scope != "ids"  # account and customers loads reach sources via customers
    in_frame = set(frame["id"].astype(str))
    customers = frame["customer"].astype("string")
    scope_customers = set(customers.dropna()) if loaded.scope == "customers" else None
    of_gone = set(frame["id"][customers.isin(changes.gone_customers).fillna(False).to_numpy()])
    removed: set[str] = set()
    if by_reach:  # what a new load would no longer reach
        removed = {str(s) for s in of_gone}
        removed |= {s for s, kind in changes.refetch.items() if kind == "customer.source.deleted"}
        refetch = [
            s
            for s, kind in changes.refetch.items()
            if s not in removed and (s in in_frame or kind == "customer.source.created")
        ]
    else:  # a load of ids: the same ids, read again
        named = [s for s in changes.refetch if s in in_frame]
        refetch = named + sorted(str(s) for s in of_gone if s not in set(named))
    fresh = reread_frame(session, refetch, progress)
    info.refetched = len(refetch)
    if scope_customers is not None:
        fresh = fresh[fresh["customer"].isin(scope_customers)]
    kept = frame[~frame["id"].isin(removed)]
    patched = patch_rows(kept, fresh, [s for s in refetch if s in in_frame])
    new_rows = fresh[~fresh["id"].isin(in_frame)]
    info.removed = sorted(removed & in_frame)
    info.added = sorted(new_rows["id"].astype(str))
    info.changed = sorted(_changed(frame, fresh))
    info.cash_customers = sorted(changes.cash_customers)
    if len(new_rows):
        patched = pd.concat([new_rows, patched], ignore_index=True, sort=False)
        patched = patched.sort_values(["created", "id"], ascending=False, kind="stable")
        patched = patched.reset_index(drop=True)
    has_columns = any(str(c).startswith(METADATA_PREFIX) for c in frame.columns)
    return with_metadata_columns(patched) if has_columns else patched


def _changed(before: pd.DataFrame, fresh: pd.DataFrame) -> list[str]:
    """Ids of ``fresh`` rows that differ from ``before``'s row of the same id."""
    old = before.drop_duplicates("id").set_index("id")
    out = []
    for _, row in fresh.iterrows():
        sid = row["id"]
        if sid not in old.index:
            continue
        if row.get("raw") != old.at[sid, "raw"]:
            out.append(str(sid))
    return out


def _across_accounts(
    frame: pd.DataFrame, loaded: LoadInfo, session: Session, progress: ProgressArg
) -> pd.DataFrame:
    """Refresh each account's rows from its own events, side by side."""
    accounts = list(loaded.accounts or {})

    def work(sub: Session, account: str) -> pd.DataFrame:
        part = frame[frame["account"] == account].drop(columns="account")
        part.attrs = {"toolkit": dict((loaded.accounts or {})[account])}
        fresh = refresh(part, sub, progress=progress)
        out = with_account(fresh, account)
        out.attrs = fresh.attrs
        return out

    frames, refused = by_account(session, accounts, work)
    parts = [frames[a] for a in accounts if a in frames]
    total = RefreshInfo(since=None)
    for part in parts:
        done = part.attrs.get("refresh", {})
        for name in ("events", "event_pages", "refetched"):
            setattr(total, name, getattr(total, name) + int(done.get(name, 0)))
        for name in ("added", "removed", "changed", "cash_customers"):
            getattr(total, name).extend(done.get(name, []))
    merged = pd.concat(parts, ignore_index=True, sort=False) if parts else frame.iloc[0:0]
    merged = merged.sort_values(["created", "id"], ascending=False, kind="stable")
    merged = with_metadata_columns(merged.reset_index(drop=True))
    loaded.taken_at = now_of(session).isoformat()
    loaded.accounts = {a: frames[a].attrs.get("toolkit", {}) for a in accounts if a in frames}
    loaded.refused_accounts = refused or None
    loaded.requests = sum(int(i.get("requests") or 0) for i in loaded.accounts.values())
    merged.attrs = {"toolkit": loaded.to_attrs(), "refresh": vars(total)}
    return merged
