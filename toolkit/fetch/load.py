"""Page every source of an account (or of chosen customers, or given ids) into a DataFrame.

Stripe has no account-wide source list: sources hang off customers. The account-wide load lists
customers 100 at a time with their first 10 payment sources embedded, splits the listing into
``created`` windows that are paged side by side (:mod:`toolkit.fetch.windows`), and continues,
side by side, each customer whose embedded list has more (:mod:`toolkit.fetch.pool`). Every
request goes through the session's one rate limiter and its retries. Every source comes out
exactly once, with its customer.

It runs in plain threads (no asyncio), so it works inside a running Jupyter kernel; a kernel
interrupt or a set ``cancel`` event stops it promptly and leaves no thread behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Sequence
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError, ReadAllowanceError
from toolkit.fetch.accounts import load_accounts
from toolkit.fetch.event_changes import REFRESH_EVENT_TYPES
from toolkit.fetch.events import event_position
from toolkit.fetch.frame import SourcesBuilder, paused_gc
from toolkit.fetch.inputs import Created, check_flag, created_range, id_list
from toolkit.fetch.loaded import now_of, with_reads
from toolkit.fetch.source_fetch import SourceFetch
from toolkit.fetch.windows import SLOW_ANSWER
from toolkit.progress import ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = ["Accounts", "iter_sources", "load_sources"]

#: ``accounts=``: "all" connected accounts, a list of ``acct_...``, or None (the session's own).
Accounts = str | Sequence[str] | None
BATCH = 2000  # sources converted to columns at a time while the load goes on
#: Seconds between two hand-ons of the rows that arrived to ``load_sources(on_rows=...)``.
ROWS_EVERY = 1.0


def _fetch(
    session: SessionLike,
    customers: Any,
    ids: Any,
    created: Created,
    progress: ProgressArg,
    cancel: threading.Event | None,
) -> SourceFetch:
    customer_ids = id_list(customers, "customers", "cus_")
    source_ids = id_list(ids, "ids", "src_")
    lo, hi = created_range(created)
    if source_ids is not None and (lo is not None or hi is not None):
        raise InvalidInputError(
            "created filters customers by creation time; it does not combine with ids. "
            "Load by ids, then filter the frame on its 'created' column."
        )
    return SourceFetch(
        session,
        customers=customer_ids,
        ids=source_ids,
        created=(lo, hi),
        progress=progress,
        cancel=cancel,
    )


def iter_sources(
    session: SessionLike,
    *,
    customers: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    created: Created = None,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> Generator[dict[str, Any], None, None]:
    """Yield every source (a dict without ``client_secret``) exactly once, as pages arrive.

    Account-wide by default; ``customers=[...]`` limits to those customers; ``ids=[...]``
    retrieves sources by id (the only way to reach detached ones; unknown ids are skipped);
    ``created=(start, end)`` keeps customers created at or after start and before end.
    Order follows arrival (use :func:`load_sources` for a sorted frame).

    >>> first = next(toolkit.iter_sources(session, progress=False))
    >>> first["object"], "client_secret" in first
    ('source', False)

    Arguments are checked at once. Worker threads end when the iterator is exhausted, closed
    or garbage-collected. Its reads are counted and held to the read allowance as a load's
    (:class:`~toolkit.ReadAllowanceError`, before the first read when its cost is known).
    """
    return _metered(session, _fetch(session, customers, ids, created, progress, cancel))


def _metered(session: SessionLike, fetch: SourceFetch) -> Generator[dict[str, Any], None, None]:
    """The sources of ``fetch``, under a read meter opened at the first ``next()``."""
    with session.reading(fetch.operation, cost=fetch.cost) as meter:
        fetch.meter = meter
        yield from fetch


def load_sources(
    session: SessionLike,
    *,
    customers: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    created: Created = None,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
    metadata_columns: bool = True,
    accounts: Accounts = None,
    on_rows: Callable[[pd.DataFrame], Any] | None = None,
) -> pd.DataFrame:
    """Load sources into the toolkit's frame (see :mod:`toolkit.fetch.schema` for the columns).

    Filters as :func:`iter_sources`. Rows are sorted newest first (by ``created``, then ``id``);
    with ``ids=[...]`` they keep the order of ``ids``. What the load records (when, account,
    mode, ids not found, its cost: ``reads``, the GETs it sent) is its :class:`~toolkit.LoadInfo`,
    kept in ``df.attrs["toolkit"]``. Raises :class:`toolkit.Cancelled` when ``cancel`` is set,
    and :class:`toolkit.ReadAllowanceError` when the account's read allowance would be passed:
    before anything is sent when the cost is known (one read per id or customer; what the same
    load cost last time), else at the limit, with the sources read so far in its ``partial``.
    ``accounts="all"`` (or a list of ``acct_...``) loads each connected account under its own
    limits into one frame with an ``account`` column (:mod:`toolkit.fetch.accounts`).
    ``on_rows(frame)`` is called, in the loading thread, with the rows of the first answer as
    soon as it is parsed, then with the rows that arrived since (at most each second): a view
    shows them while the load goes on; the frame returned is the same (sorted, complete).

    >>> df = toolkit.load_sources(session, created=("2026-01-01", None), progress=False)
    >>> sorted(df["status"].dropna().unique())[:2]
    ['canceled', 'chargeable']
    >>> toolkit.LoadInfo.from_attrs(df).scope
    'created'
    """
    metadata_columns = bool(check_flag(metadata_columns, "metadata_columns"))
    if accounts is not None:  # every connected account, side by side: toolkit.fetch.accounts

        def one(sub: SessionLike, report: ProgressArg) -> pd.DataFrame:
            # each account makes its metadata columns in its own thread; load_accounts joins them
            return load_sources(
                sub, customers=customers, ids=ids, created=created, progress=report,
                cancel=cancel, metadata_columns=metadata_columns,
            )  # fmt: skip

        with session.reading() as meter:  # each account's load is checked on its own
            df = load_accounts(
                session, accounts, one, progress=progress, metadata_columns=metadata_columns,
                cancel=cancel,
            )  # fmt: skip
        return with_reads(df, meter)
    fetch = _fetch(session, customers, ids, created, progress, cancel)
    marks = fetch.scope == "account" or (fetch.scope == "customers" and fetch.customer_ids)
    # stamped before any source is read; after the events mark, its answer's Date stamps the
    # load (no request of its own for the server's time)
    taken_at = None if marks else now_of(session)
    builder = SourcesBuilder(owned=True)
    with session.reading(fetch.operation, cost=fetch.cost) as meter:
        fetch.meter = meter
        try:
            # where a later refresh reads on from, and the event it stops at
            asked = time.monotonic()
            mark, seen = event_position(session, REFRESH_EVENT_TYPES) if marks else (None, None)
            if marks and time.monotonic() - asked >= SLOW_ANSWER:  # a slow server: a probe
                fetch.slow = True  # beside the first page, windows carved at once (fetch.windows)
            taken_at = taken_at or now_of(session)
            _gather(fetch, builder, on_rows, metadata_columns)
        except ReadAllowanceError as exc:  # keep what was read: the message says where
            partial = _finish(fetch, builder, metadata_columns)
            info = fetch.info(taken_at or now_of(session))
            info.reads = meter.reads
            kept = f"The {len(partial):,} sources read before it stopped are in error.partial."
            raise exc.keeping(info.attach(partial), kept) from None
    df = _finish(fetch, builder, metadata_columns)
    info = fetch.info(taken_at or now_of(session))
    info.events_since = mark
    info.events_seen = seen
    info.reads = meter.reads
    return info.attach(df)


def _gather(
    fetch: SourceFetch,
    builder: SourcesBuilder,
    on_rows: Callable[[pd.DataFrame], Any] | None = None,
    metadata_columns: bool = True,
) -> None:
    """Every source of ``fetch`` into ``builder``, in batches while later pages are still in
    flight (what arrived is in it even when the load stops). ``on_rows(frame)`` gets the rows
    of the first answer at once, then what arrived since, at most every :data:`ROWS_EVERY`
    seconds (and the rest at the end)."""
    batch: list[dict[str, Any]] = []
    fresh: list[dict[str, Any]] = []
    last: float | None = None

    def hand_on() -> None:
        nonlocal fresh, last
        if on_rows is not None and fresh:
            rows = SourcesBuilder(owned=True)
            rows.add(fresh)
            on_rows(rows.finish(metadata_columns=metadata_columns, order=None))
            fresh, last = [], time.monotonic()

    with paused_gc():  # tens of thousands of acyclic dicts: the cyclic GC only slows the load
        try:
            for page in fetch.pages():
                batch.extend(page)
                if on_rows is not None:
                    fresh.extend(page)
                    if last is None or time.monotonic() - last >= ROWS_EVERY:
                        hand_on()
                if len(batch) >= BATCH:
                    builder.add(batch)
                    batch = []
            hand_on()
        finally:
            builder.add(batch)


def _finish(fetch: SourceFetch, builder: SourcesBuilder, metadata_columns: bool) -> pd.DataFrame:
    """The frame of what ``builder`` holds: newest first, or in the order of ``ids``."""
    with paused_gc():
        order: Any = "newest"
        if fetch.ids is not None:
            wanted = {sid: i for i, sid in enumerate(fetch.ids)}
            got = [wanted.get(str(r.get("id")), len(wanted)) for r in builder.raws]
            order = sorted(range(len(got)), key=got.__getitem__)
        return builder.finish(metadata_columns=metadata_columns, order=order)
