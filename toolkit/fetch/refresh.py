"""Bring a snapshot up to date from Stripe's events, re-reading only the sources that changed.

A whole-account load costs a request per 100 customers and more; Stripe's ``/v1/events`` says
what changed since a time. :func:`refresh` reads, in one list, the events of the types that
change sources (:data:`~toolkit.fetch.event_changes.REFRESH_EVENT_TYPES`: ``customer.source.*``,
``source.*``, ``customer.deleted`` and the cash balance events a retirement audit follows)
since the snapshot was taken, reads each source they name back once, and decides from what it
reads whether a new load would reach it (:func:`~toolkit.fetch.event_changes.reaches`): the
snapshot with those rows replaced, added or removed is what a new load would return, at a cost
that grows with the changes, not the account.

What events cannot show, a refresh cannot see: Stripe's docs do not promise
``customer.source.updated`` for an update of a source, and send no event at all for a source
not attached to a customer. The report (``attrs["refresh"]["blind_to"]``) says so, and
``recheck="customers"`` (a load through customers) or ``recheck="sources"`` (a load of ids)
reads every row again and names what the events missed (``unseen``).

Stripe keeps events for 30 days, so an older snapshot is refused (run a full load). The events
are asked for from the newest event the snapshot's load (or last refresh) knew
(``LoadInfo.events_since``, in Stripe's clock, so this machine's clock plays no part); events of
that second are read again, which is harmless.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError, NotFoundWarning
from toolkit.fetch.accounts import by_account, with_account
from toolkit.fetch.event_changes import REFRESH_EVENT_TYPES, Changes, changed_objects, reaches
from toolkit.fetch.events import iter_events
from toolkit.fetch.frame import with_metadata_columns
from toolkit.fetch.load import load_sources
from toolkit.fetch.loaded import LoadInfo, now_of, with_reads
from toolkit.fetch.refresh_inputs import (
    checked_out,
    checked_recheck,
    checked_session,
    checked_snapshot,
)
from toolkit.fetch.reread import patch_rows, reread_frame
from toolkit.fetch.schema import METADATA_PREFIX
from toolkit.fetch.snapshot import save_snapshot
from toolkit.progress import Progress, ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = ["RETENTION", "RefreshInfo", "refresh"]

RETENTION = timedelta(days=30)  # Stripe lists the events of the last 30 days
UPDATES_BLIND = (
    "edits of attached sources that Stripe sends no customer.source.updated event for (its "
    "docs do not promise one for a source update), whoever made them"
)
UNATTACHED_BLIND = "edits of sources not attached to a customer: Stripe sends no event for them"
EMPTY_CUSTOMERS_BLIND = (
    "sources attached to a customer of this load who had none in the snapshot (the snapshot "
    "knows its customers by their sources)"
)


@dataclass
class RefreshInfo:
    """What a refresh read and did: the events ``since`` (Stripe's clock; None: the 30 days
    Stripe keeps), ``events`` read in ``event_pages`` pages, ``refetched`` sources read again,
    rows ``added`` / ``removed`` / ``changed``, ``cash_customers`` (their cash balance moved:
    re-run the retirement audit for them); ``blind_to``: the changes events cannot show, and
    ``note``: how to see them. With ``recheck``, ``recheck_requests`` reads re-read every row
    and ``unseen`` lists the rows that changed without an event naming them."""

    since: int | None
    events: int = 0
    event_pages: int = 0
    refetched: int = 0
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    cash_customers: list[str] = field(default_factory=list)
    recheck: str | None = None
    recheck_requests: int = 0
    unseen: list[str] = field(default_factory=list)
    blind_to: list[str] = field(default_factory=list)
    note: str = ""
    reads: int = 0


def refresh(
    snapshot: pd.DataFrame | str | os.PathLike[str],
    session: SessionLike,
    *,
    out: str | os.PathLike[str] | None = None,
    progress: ProgressArg = True,
    recheck: str | None = None,
) -> pd.DataFrame:
    """``snapshot`` (a frame from :func:`~toolkit.load_sources`, or a snapshot file) brought
    up to date from Stripe's events; written to ``out`` (a new ``*.parquet``) when given.

    ``recheck="customers"`` (a whole-account or customers load) re-reads the customer pages
    with their sources, about what the load cost, and ``recheck="sources"`` (a load of ids)
    every id: the result then also holds the changes no event names (``unseen``).

    The new frame's :class:`~toolkit.LoadInfo` has the new time, and ``attrs["refresh"]`` what
    the refresh read, did and cannot see (:class:`RefreshInfo`). Bad arguments and a snapshot
    older than Stripe's 30 days of events raise :class:`~toolkit.InvalidInputError`.

    >>> fresh = toolkit.refresh(sources, session, progress=False)
    >>> len(fresh) == len(sources), fresh.attrs["refresh"]["refetched"]
    (True, 0)
    """
    frame, loaded, taken = checked_snapshot(snapshot)
    session = checked_session(session)
    target = checked_out(out)
    recheck = checked_recheck(recheck, loaded.scope)
    across = bool(loaded.accounts and "account" in frame.columns)
    now = now_of(session)
    if not across and now - taken > RETENTION:
        raise InvalidInputError(
            f"This snapshot was taken {taken:%Y-%m-%d %H:%M} UTC, {(now - taken).days} days "
            "ago; Stripe keeps events for 30 days, so what changed since cannot be read. Run "
            "a full toolkit.load_sources and refresh that from now on."
        )
    with session.reading(None if across else "refresh", cost=None if across else 1) as meter:
        if across:
            fresh_frame = _across_accounts(frame, loaded, session, progress, recheck)
        else:
            fresh_frame = _refresh_one(frame, loaded, session, progress, recheck, meter)
            loaded.taken_at = now.isoformat()
            fresh_frame.attrs = {**frame.attrs, **fresh_frame.attrs, "toolkit": loaded.to_attrs()}
    fresh_frame.attrs["refresh"]["reads"] = meter.reads
    with_reads(fresh_frame, meter)
    if target is not None:
        save_snapshot(fresh_frame, target)
    return fresh_frame


def _refresh_one(
    frame: pd.DataFrame,
    loaded: LoadInfo,
    session: SessionLike,
    progress: ProgressArg,
    recheck: str | None,
    meter: Any = None,
) -> pd.DataFrame:
    """One account's snapshot brought up to date; ``loaded`` is updated to match."""
    info = RefreshInfo(since=loaded.events_since, recheck=recheck)
    bar = Progress(progress, None, "Reading events", unit="page", reads=meter)

    def on_page(count: int) -> None:
        info.event_pages += 1
        info.events += count
        bar.update(info.event_pages, f"{info.events:,} events")

    seen = loaded.events_seen if loaded.events_since is not None else None
    events: list[dict[str, Any]] = []
    try:
        for event in iter_events(session, REFRESH_EVENT_TYPES, loaded.events_since, on_page):
            if seen is not None and event.get("id") == seen:
                break  # the load saw this event and every one listed after it: no more pages
            events.append(event)
    finally:
        bar.close()
    changes = changed_objects(events)
    has_columns = any(str(c).startswith(METADATA_PREFIX) for c in frame.columns)
    reloaded_since = None  # where a recheck's load found the events standing
    reloaded_seen = None
    if recheck is None:
        fresh_frame = _apply(frame, loaded, changes, session, info, progress)
    else:
        fresh_frame, reloaded_since, reloaded_seen = _rechecked(
            frame, loaded, changes, session, info, progress
        )
    fresh_frame = with_metadata_columns(fresh_frame) if has_columns else _plain(fresh_frame)
    _report(frame, fresh_frame, loaded, changes, info)
    marks = [m for m in (changes.newest, reloaded_since) if m is not None]
    if marks:  # where the new frame stands in Stripe's clock
        loaded.events_since = max(marks)
        # the event to stop at next time: the newest listed, unless a recheck's load stands later
        newest_id = events[0].get("id") if events else None
        if reloaded_since is not None and reloaded_since == loaded.events_since:
            loaded.events_seen = reloaded_seen
        elif changes.newest is not None and changes.newest == loaded.events_since:
            loaded.events_seen = newest_id if isinstance(newest_id, str) else None
        else:
            loaded.events_seen = None
    loaded.requests = info.event_pages + info.refetched + info.recheck_requests
    fresh_frame.attrs = {"refresh": vars(info)}
    return fresh_frame


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without ``metadata.<key>`` columns (a snapshot loaded without them)."""
    return frame.drop(columns=[c for c in frame.columns if str(c).startswith(METADATA_PREFIX)])


def _gone_rows(frame: pd.DataFrame, changes: Changes) -> set[str]:
    """Ids of the snapshot's rows whose customer was deleted."""
    customers = frame["customer"].astype("string")
    return set(frame["id"][customers.isin(changes.gone_customers).fillna(False).to_numpy()])


def _apply(
    frame: pd.DataFrame,
    loaded: LoadInfo,
    changes: Changes,
    session: SessionLike,
    info: RefreshInfo,
    progress: ProgressArg,
) -> pd.DataFrame:
    """The snapshot with the sources the events name read back."""
    in_frame = set(frame["id"].astype(str))
    gone = _gone_rows(frame, changes)
    if loaded.scope == "ids":  # a load of ids: the same ids, read again
        named = [s for s in changes.named if s in in_frame]
        refetch = named + sorted(s for s in gone if s not in set(named))
        fresh = reread_frame(session, refetch, progress)
        info.refetched = len(refetch)
        return patch_rows(frame, fresh, refetch)
    # account and customers loads reach sources through customers: the snapshot's rows of a
    # deleted customer go, a source detached since goes (both without a read: neither comes
    # back), every other source named is read back and judged by what it is now
    of_customer = dict(zip(frame["id"].astype(str), frame["customer"], strict=True))
    drop = gone | (changes.detached & in_frame)
    refetch = [
        s
        for s in changes.named
        if s not in drop
        and s not in changes.detached
        and changes.attached.get(s, of_customer.get(s)) not in changes.gone_customers
    ]
    fresh = reread_frame(session, refetch, progress)
    info.refetched = len(refetch)
    scope = set(frame["customer"].dropna().astype(str)) if loaded.scope == "customers" else None
    keep = [
        reaches(
            {"id": sid, "customer": cus, "status": status},
            changes,
            in_snapshot=sid in in_frame,
            customers=scope,
        )
        for sid, cus, status in zip(fresh["id"], fresh["customer"], fresh["status"], strict=True)
    ]
    fresh = fresh[pd.Series(keep, index=fresh.index, dtype=bool)]
    kept = frame[~frame["id"].isin(drop)]
    patched = patch_rows(kept, fresh, [s for s in refetch if s in in_frame])
    new_rows = fresh[~fresh["id"].isin(in_frame)]
    if len(new_rows):
        patched = pd.concat([new_rows, patched], ignore_index=True, sort=False)
        patched = patched.sort_values(["created", "id"], ascending=[False, True], kind="stable")
        patched = patched.reset_index(drop=True)
    return patched


def _rechecked(
    frame: pd.DataFrame,
    loaded: LoadInfo,
    changes: Changes,
    session: SessionLike,
    info: RefreshInfo,
    progress: ProgressArg,
) -> tuple[pd.DataFrame, int | None, str | None]:
    """Every row read again: the customer pages (or every id of a load of ids); and where the
    events stood when that load began, and the event it saw last (None: not asked)."""
    with warnings.catch_warnings():  # a customer deleted since: its rows go, as in a load
        warnings.simplefilter("ignore", NotFoundWarning)
        if loaded.scope == "ids":
            fresh = reread_frame(session, list(frame["id"].astype(str)), progress)
        elif loaded.scope == "customers":
            customers = set(frame["customer"].dropna().astype(str)) - changes.gone_customers
            fresh = load_sources(session, customers=sorted(customers), progress=progress)
        else:
            fresh = load_sources(session, progress=progress)
    done = LoadInfo.from_attrs(fresh) or LoadInfo()
    info.recheck_requests = int(done.requests or 0)
    if loaded.scope != "ids":  # a load through customers reads where the events stand first
        info.recheck_requests += 1
        loaded.customers = done.customers
    return fresh, done.events_since, done.events_seen


def _recheck_cost(frame: pd.DataFrame, loaded: LoadInfo) -> str:
    """How many reads a recheck takes, said plainly: a load of ids reads each id; a load through
    customers costs what the snapshot's load cost (when the frame is that load's), else at least
    a page per 100 customers and one per 100 more sources of a customer with more than the 10 a
    page embeds."""
    if loaded.scope == "ids":
        return f"{len(frame):,} reads (one per id)"
    if "refresh" not in frame.attrs and isinstance(loaded.requests, int) and loaded.requests:
        return f"about {loaded.requests + 1:,} reads (what its load cost)"
    per_customer = frame["customer"].value_counts()
    more = sum(math.ceil((n - 10) / 100) for n in per_customer if n > 10)
    customers = loaded.customers if isinstance(loaded.customers, int) else len(per_customer)
    return f"at least {max(1, math.ceil(customers / 100)) + more + 1:,} reads"


def _report(
    frame: pd.DataFrame,
    fresh: pd.DataFrame,
    loaded: LoadInfo,
    changes: Changes,
    info: RefreshInfo,
) -> None:
    """Fill the report: rows added, removed, changed; what the events could not show."""
    before, after = set(frame["id"].astype(str)), set(fresh["id"].astype(str))
    info.added = sorted(after - before)
    info.removed = sorted(before - after)
    old_raw = dict(zip(frame["id"].astype(str), frame["raw"], strict=True))
    info.changed = sorted(
        str(sid)
        for sid, raw in zip(fresh["id"], fresh["raw"], strict=True)
        if str(sid) in old_raw and old_raw[str(sid)] != raw
    )
    info.cash_customers = sorted(changes.cash_customers)
    blind = [UPDATES_BLIND] + ([UNATTACHED_BLIND] if loaded.scope == "ids" else [])
    how = "recheck='sources') reads every id again"
    if loaded.scope != "ids":
        how = "recheck='customers') reads the customer pages again"
    if info.recheck is None:
        info.blind_to = blind
        info.note = (
            f"Only what Stripe's events name was read again; not seen: {'; '.join(blind)}. "
            f"refresh(..., {how} and sees them too, for {_recheck_cost(frame, loaded)}."
        )
    else:
        explained = set(changes.named) | _gone_rows(frame, changes)
        info.unseen = sorted(
            s for s in {*info.added, *info.removed, *info.changed} if s not in explained
        )
        info.note = (
            f"Every row was read again ({info.recheck_requests:,} reads): "
            f"{len(info.unseen)} changes no event named."
        )
    if loaded.scope == "customers":
        info.blind_to.append(EMPTY_CUSTOMERS_BLIND)


def _across_accounts(
    frame: pd.DataFrame,
    loaded: LoadInfo,
    session: SessionLike,
    progress: ProgressArg,
    recheck: str | None,
) -> pd.DataFrame:
    """Refresh each account's rows from its own events, side by side."""
    accounts = list(loaded.accounts or {})

    def work(sub: SessionLike, account: str) -> pd.DataFrame:
        part = frame[frame["account"] == account].drop(columns="account")
        part.attrs = {"toolkit": dict((loaded.accounts or {})[account])}
        fresh = refresh(part, sub, progress=progress, recheck=recheck)
        out = with_account(fresh, account)
        out.attrs = fresh.attrs
        return out

    frames, refused = by_account(session, accounts, work)
    parts = [frames[a] for a in accounts if a in frames]
    total = RefreshInfo(since=None, recheck=recheck)
    for part in parts:
        done: dict[str, Any] = part.attrs.get("refresh", {})
        for name in ("events", "event_pages", "refetched", "recheck_requests", "reads"):
            setattr(total, name, getattr(total, name) + int(done.get(name, 0)))
        for name in ("added", "removed", "changed", "cash_customers", "unseen"):
            getattr(total, name).extend(done.get(name, []))
        total.blind_to += [b for b in done.get("blind_to", []) if b not in total.blind_to]
        total.note = total.note or str(done.get("note", ""))
    merged = pd.concat(parts, ignore_index=True, sort=False) if parts else frame.iloc[0:0]
    merged = merged.sort_values(["created", "id"], ascending=False, kind="stable")
    merged = with_metadata_columns(merged.reset_index(drop=True))
    loaded.taken_at = now_of(session).isoformat()
    loaded.accounts = {a: frames[a].attrs.get("toolkit", {}) for a in accounts if a in frames}
    loaded.refused_accounts = refused or None
    loaded.requests = sum(int(i.get("requests") or 0) for i in loaded.accounts.values())
    merged.attrs = {"toolkit": loaded.to_attrs(), "refresh": vars(total)}
    return merged
