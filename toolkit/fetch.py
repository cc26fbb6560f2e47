"""Page every source of an account (or of chosen customers, or given ids) into a DataFrame.

Stripe has no account-wide source list: sources hang off customers. The account-wide load lists
customers 100 at a time with their first 10 payment sources embedded, splits the listing into
``created`` windows that are paged side by side (chosen from the data as it arrives, split again
while workers are idle), and continues, side by side, each customer whose embedded list has more.
Every request goes through the session's one rate limiter and its retries. Every source comes out
exactly once, with its customer. Example::

    session = toolkit.connect()
    df = toolkit.load_sources(session)                         # the whole account
    df = toolkit.load_sources(session, customers=["cus_123"])  # some customers
    df = toolkit.load_sources(session, ids=["src_1", "src_2"]) # by id (detached ones too)
    df.attrs["toolkit"]["missing_ids"]                         # ids Stripe does not know
    txns = toolkit.load_source_transactions(session, df[df.flow == "receiver"])

It runs in plain threads (no asyncio), so it works inside a running Jupyter kernel; a kernel
interrupt or a set ``cancel`` event stops it promptly and leaves no thread behind.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import pandas as pd
import stripe

from toolkit.errors import Cancelled, InvalidInputError, StripeRequestError
from toolkit.frame import SourcesBuilder, _NoGC, transactions_frame
from toolkit.redact import redact_source

__all__ = [
    "Progress",
    "iter_sources",
    "load_source_transactions",
    "load_sources",
]

#: ``progress`` may be True (a tqdm.auto bar), False, or ``callable(done, total, label)``.
Progress = bool | Callable[[int, int | None, str], None]
Created = tuple[Any, Any] | None

PAGE = 100  # Stripe's largest page
BATCH = 2000  # sources converted to columns at a time while the load goes on
EMBEDDED = 10  # payment sources Stripe embeds per customer with expand[]=data.sources
CHUNK_PAGES = 4  # customer pages carved off an open-ended window at a time
MIN_SPLIT_PAGES = 6  # a window is split only if it still has about this many pages ahead

# task kinds, in priority order (lower first): customer pages are the critical path, then
# further pages of a customer's own list, then first continuations and retrievals
_PAGE, _MORE, _FIRST = 0, 1, 2


# -- inputs -------------------------------------------------------------------------------------
def _to_epoch(value: Any, name: str) -> int | None:
    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"created {name} must be a date, a datetime or a Unix time.")
    if isinstance(value, int | float):
        return int(value)
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"created {name} {value!r} is not a date: use '2026-01-31', a datetime or a Unix time."
        ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        stamp = pd.Timestamp(value.isoformat())
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(UTC)
    return math.ceil(stamp.timestamp())


def _created_range(created: Created) -> tuple[int | None, int | None]:
    """``created=(start, end)``: customers created at or after start and before end."""
    if created is None:
        return None, None
    if not isinstance(created, tuple | list) or len(created) != 2:
        raise InvalidInputError(
            "created must be a pair (start, end), e.g. ('2026-01-01', '2026-02-01'); "
            "use None for an open end."
        )
    lo, hi = _to_epoch(created[0], "start"), _to_epoch(created[1], "end")
    if lo is not None and hi is not None and hi <= lo:
        raise InvalidInputError(f"created end ({created[1]}) must come after start ({created[0]}).")
    return lo, hi


def _id_list(values: Any, what: str, prefix: str) -> list[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    elif isinstance(values, pd.DataFrame):
        if "id" not in values.columns:
            raise InvalidInputError(f"{what}: pass a list of ids or a frame with an 'id' column.")
        values = values["id"].tolist()
    elif isinstance(values, pd.Series | pd.Index):
        values = values.tolist()
    try:
        items = list(values)
    except TypeError:
        raise InvalidInputError(f"{what} must be a list of ids like '{prefix}...'.") from None
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        if item is None or (not isinstance(item, str) and pd.isna(item)):
            continue
        if not isinstance(item, str):
            raise InvalidInputError(
                f"{what} must be ids (strings) like '{prefix}...', got {item!r}."
            )
        text = item.strip()
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return out


# -- progress -----------------------------------------------------------------------------------
class _Progress:
    """A tqdm.auto bar (a widget in Jupyter, text in a terminal), a callback, or nothing."""

    def __init__(self, progress: Progress, total: int | None, unit: str, desc: str) -> None:
        self.callback: Callable[[int, int | None, str], None] | None = None
        self.bar: Any = None
        self.total = total
        self.unit = unit
        if callable(progress) and not isinstance(progress, bool):
            self.callback = progress
        elif progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, unit=f" {unit}", desc=desc, leave=True)

    def update(self, done: int, sources: int) -> None:
        label = f"{sources:,} sources"
        if self.callback is not None:
            self.callback(done, self.total, label)
        if self.bar is not None:
            self.bar.set_postfix_str(label, refresh=False)
            self.bar.update(done - self.bar.n)  # redraws at most every tqdm mininterval

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# -- the task runner ----------------------------------------------------------------------------
@dataclass(order=True)
class _Task:
    priority: int
    seq: int
    kind: str = field(compare=False)
    path: str = field(compare=False)
    params: dict[str, Any] = field(compare=False)
    ref: Any = field(compare=False, default=None)


class _Runner:
    """Runs GET requests in a thread pool (``session.max_workers`` wide), most urgent first.

    Customer pages (the critical path) take at most half the slots while other work waits, so
    the small continuation requests keep the rate limiter busy while the big pages load.
    """

    def __init__(self, session: Any, cancel: threading.Event | None) -> None:
        self.session = session
        self.user_cancel = cancel
        self.stop = threading.Event()
        self.width = max(1, int(getattr(session, "max_workers", 8) or 8))
        self.page_slots = max(1, (self.width + 1) // 2)
        self.pool = ThreadPoolExecutor(max_workers=self.width, thread_name_prefix="toolkit-fetch")
        self.pages: list[_Task] = []
        self.others: list[_Task] = []
        self.inflight: dict[Future[Any], _Task] = {}
        self.pages_inflight = 0
        self.seq = itertools.count()
        self.requests = 0

    def add(self, priority: int, kind: str, path: str, params: dict[str, Any], ref: Any) -> None:
        task = _Task(priority, next(self.seq), kind, path, params, ref)
        heapq.heappush(self.pages if priority == _PAGE else self.others, task)

    def _get(self, task: _Task) -> dict[str, Any]:
        if self.stop.is_set():
            raise Cancelled()
        return self.session.raw("get", task.path, task.params, cancel=self.stop)

    def _next(self) -> _Task | None:
        if self.pages and (self.pages_inflight < self.page_slots or not self.others):
            return heapq.heappop(self.pages)
        if self.others:
            return heapq.heappop(self.others)
        return None

    def _pump(self) -> None:
        while len(self.inflight) < self.width:
            task = self._next()
            if task is None:
                return
            self.requests += 1
            if task.priority == _PAGE:
                self.pages_inflight += 1
            self.inflight[self.pool.submit(self._get, task)] = task

    def cancelled(self) -> bool:
        if self.user_cancel is not None and self.user_cancel.is_set():
            self.stop.set()
        return self.stop.is_set()

    def results(self) -> Iterator[tuple[_Task, Any]]:
        """(task, JSON body or exception) as they complete; new tasks may be added meanwhile."""
        while True:
            if self.cancelled():
                raise Cancelled("Canceled: stopped before every source was fetched.")
            self._pump()
            if not self.inflight:
                return
            done, _ = wait(list(self.inflight), timeout=0.1, return_when=FIRST_COMPLETED)
            for future in done:
                task = self.inflight.pop(future)
                if task.priority == _PAGE:
                    self.pages_inflight -= 1
                exc = future.exception()
                yield task, (exc if exc is not None else future.result())
                self._pump()

    def close(self) -> None:
        self.stop.set()
        self.pages.clear()
        self.others.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)


def _seg(value: str) -> str:
    """An id as one URL path segment (user input never reaches another endpoint)."""
    return quote(value, safe="")


def _not_found(exc: BaseException) -> bool:
    return isinstance(exc, stripe.StripeError) and (
        exc.http_status == 404 or getattr(exc, "code", None) == "resource_missing"
    )


def _request_error(exc: BaseException, what: str) -> BaseException:
    if isinstance(exc, stripe.StripeError):
        err = exc.error
        message = (err.message if err is not None else None) or str(exc)
        return StripeRequestError(
            f"{what} failed after retries: {message}",
            status=exc.http_status,
            code=getattr(exc, "code", None),
            request_id=exc.request_id,
            stripe_message=message,
        )
    return exc


# -- account-wide windows ------------------------------------------------------------------------
@dataclass
class _Window:
    """A run of the customer list: ``gte <= created < lt`` as sent, items below ``stop`` ignored."""

    gte: int | None
    lt: int | None
    stop: int | None
    cursor: str | None = None
    top: int | None = None  # created of the first customer seen
    last: int | None = None  # created of the last customer seen (where the cursor is)
    density: float | None = None  # customers per second of created, from the last full page
    done: bool = False

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": PAGE, "expand": ["data.sources"]}
        created = {}
        if self.gte is not None:
            created["gte"] = self.gte
        if self.lt is not None:
            created["lt"] = self.lt
        if created:
            params["created"] = created
        if self.cursor is not None:
            params["starting_after"] = self.cursor
        return params


class _Fetch:
    """One load: turns responses into sources and follow-up requests (runs in the caller's thread)."""

    def __init__(
        self,
        session: Any,
        *,
        customers: list[str] | None,
        ids: list[str] | None,
        created: tuple[int | None, int | None],
        progress: Progress,
        cancel: threading.Event | None,
    ) -> None:
        self.session = session
        self.customer_ids = customers
        self.customer_set = set(customers) if customers is not None else None
        self.ids = ids
        self.lo, self.hi = created
        self.cancel = cancel
        self.progress_arg = progress
        self.seen: set[str] = set()
        self.customers_seen: set[str] = set()
        self.missing_ids: list[str] = []
        self.missing_customers: list[str] = []
        self.windows: list[_Window] = []
        self.density_items = 0
        self.density_span = 0
        self.done_units = 0
        self.sources = 0
        self.runner: _Runner | None = None
        self.bar: _Progress | None = None

    # -- driving ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self.ids is not None:
            total, unit = len(self.ids), "ids"
        elif self.customer_ids is not None:
            total, unit = len(self.customer_ids), "customers"
        else:
            total, unit = None, "customers"
        self.runner = runner = _Runner(self.session, self.cancel)
        self.bar = _Progress(self.progress_arg, total, unit, "Loading sources")
        try:
            self._start()
            for task, result in runner.results():
                if isinstance(result, BaseException):
                    self._failed(task, result)
                else:
                    yield from self._handle(task, result)
                self.bar.update(self.done_units, self.sources)
            self.bar.update(self.done_units, self.sources)
        finally:
            runner.close()
            self.bar.close()

    def _start(self) -> None:
        assert self.runner is not None
        if self.ids is not None:
            for sid in self.ids:
                self.runner.add(_FIRST, "source", f"/v1/sources/{_seg(sid)}", {}, sid)
        elif self.customer_ids is not None:
            for cid in self.customer_ids:
                if self.lo is None and self.hi is None:
                    params = {"object": "source", "limit": PAGE}
                    path = f"/v1/customers/{_seg(cid)}/sources"
                    self.runner.add(_FIRST, "items", path, params, cid)
                else:
                    params = {"expand": ["sources"]}
                    self.runner.add(_FIRST, "customer", f"/v1/customers/{_seg(cid)}", params, cid)
        else:
            window = _Window(self.lo, self.hi, self.lo)
            self.windows.append(window)
            self._page(window)

    def _page(self, window: _Window) -> None:
        assert self.runner is not None
        self.runner.add(_PAGE, "page", "/v1/customers", window.params(), window)

    def _items(self, cid: str, after: str | None, priority: int) -> None:
        assert self.runner is not None
        params: dict[str, Any] = {"object": "source", "limit": PAGE}
        if after is not None:
            params["starting_after"] = after
        self.runner.add(priority, "items", f"/v1/customers/{_seg(cid)}/sources", params, cid)

    def _failed(self, task: _Task, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            raise Cancelled("Canceled: stopped before every source was fetched.")
        if _not_found(exc) and "starting_after" in task.params and self._resume(task):
            return
        if _not_found(exc):
            if task.kind == "source":
                self.missing_ids.append(task.ref)
                self.done_units += 1
                return
            if task.kind in ("items", "customer"):
                if task.ref not in self.missing_customers:
                    self.missing_customers.append(task.ref)
                if self.customer_ids is not None:
                    self.done_units += 1
                return
        what = {"page": "Listing customers", "source": f"Retrieving {task.ref}"}.get(
            task.kind, f"Listing the sources of {task.ref}"
        )
        raise _request_error(exc, what) from exc

    def _resume(self, task: _Task) -> bool:
        """The cursor object vanished mid-load (deleted customer, detached source): go on
        without it. Customers: restart the window at the cursor's ``created``; a customer's
        sources: list them again. What was already seen is skipped."""
        if task.kind == "page":
            window: _Window = task.ref
            if window.last is None:
                return False
            window.lt = window.last + 1 if window.lt is None else min(window.lt, window.last + 1)
            window.cursor = None
            self._page(window)
            return True
        if task.kind == "items":
            retry = {k: v for k, v in task.params.items() if k != "starting_after"}
            assert self.runner is not None
            self.runner.add(_MORE, "items", task.path, retry, task.ref)
            return True
        return False

    def _emit(self, src: dict[str, Any], cid: str | None) -> dict[str, Any] | None:
        sid = src.get("id")
        if src.get("object", "source") != "source" or sid is None or sid in self.seen:
            return None
        self.seen.add(sid)
        out = redact_source(src)
        if not out.get("customer") and cid is not None:
            out["customer"] = cid
        self.sources += 1
        return out

    # -- responses ----------------------------------------------------------------------------
    def _handle(self, task: _Task, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if task.kind == "page":
            yield from self._on_page(task.ref, body)
        elif task.kind == "items":
            yield from self._on_items(task, body)
        elif task.kind == "customer":
            if body.get("deleted"):
                self.missing_customers.append(task.ref)
                self.done_units += 1
                return
            created = body.get("created")
            self.done_units += 1
            if created is None or (
                (self.lo is None or created >= self.lo) and (self.hi is None or created < self.hi)
            ):
                yield from self._on_customer(body)
        elif task.kind == "source":
            self.done_units += 1
            if body.get("object") != "source":
                self.missing_ids.append(task.ref)
                return
            cus = body.get("customer")
            if self.customer_set is not None and cus not in self.customer_set:
                return
            out = self._emit(body, None)
            if out is not None:
                yield out

    def _on_customer(self, cus: dict[str, Any]) -> Iterator[dict[str, Any]]:
        cid = cus.get("id")
        if not cid or cid in self.customers_seen:
            return
        self.customers_seen.add(cid)
        embedded = cus.get("sources")
        if not isinstance(embedded, dict):
            self._items(cid, None, _FIRST)
            return
        last_source: str | None = None
        for item in embedded.get("data") or ():
            if item.get("object") == "source":
                last_source = item.get("id")
                out = self._emit(item, cid)
                if out is not None:
                    yield out
        if embedded.get("has_more"):
            self._items(cid, last_source, _FIRST)

    def _on_items(self, task: _Task, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        cid = task.ref
        data = body.get("data") or []
        for item in data:
            out = self._emit(item, cid)
            if out is not None:
                yield out
        if body.get("has_more") and data:
            self._items(cid, data[-1].get("id"), _MORE)
        elif self.customer_ids is not None and self.lo is None and self.hi is None:
            self.done_units += 1  # customers=[...]: this customer is complete

    def _on_page(self, window: _Window, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        data = body.get("data") or []
        for cus in data:
            created = cus.get("created")
            if window.stop is not None and created is not None and created < window.stop:
                continue  # belongs to the window below
            if cus.get("id") not in self.customers_seen:
                self.done_units += 1
            yield from self._on_customer(cus)
        if data:
            first, last = data[0].get("created"), data[-1].get("created")
            window.cursor = data[-1].get("id")
            if window.top is None:
                window.top = first
            window.last = last
            if isinstance(first, int) and isinstance(last, int) and len(data) >= 2:
                span = max(1, first - last)
                window.density = len(data) / span
                self.density_items += len(data)
                self.density_span += span
        below = (
            window.stop is not None
            and window.last is not None
            and data
            and window.last < window.stop
        )
        if not body.get("has_more") or not data or below or window.cursor is None:
            window.done = True
        else:
            self._page(window)
        self._rebalance()

    # -- windows ------------------------------------------------------------------------------
    def _density(self, window: _Window | None = None) -> float | None:
        if window is not None and window.density:
            return window.density
        if self.density_span:
            return self.density_items / self.density_span
        return None

    def _remaining_pages(self, window: _Window) -> float:
        if window.done or window.last is None:
            return 0.0
        if window.stop is None:
            return math.inf
        density = self._density(window)
        if density is None:
            return 0.0
        return density * max(0, window.last - window.stop) / PAGE

    def _rebalance(self) -> None:
        """Split windows while fewer than ``max_workers`` run and one has pages enough ahead."""
        assert self.runner is not None
        target = self.runner.page_slots
        active = sum(1 for w in self.windows if not w.done)
        while active < target:
            best = max(self.windows, key=self._remaining_pages, default=None)
            if best is None or self._remaining_pages(best) < MIN_SPLIT_PAGES:
                return
            if not self._split(best):
                return
            active += 1

    def _split(self, window: _Window) -> bool:
        assert window.last is not None
        if window.stop is None:
            density = self._density()
            if density is None:
                return False
            chunk = max(1, int(CHUNK_PAGES * PAGE / density))
            cut = window.last - chunk
            new = _Window(None, cut, None)
        else:
            if window.last - window.stop < 2:
                return False
            cut = (window.stop + window.last + 1) // 2
            new = _Window(window.stop, cut, window.stop)
        if not (window.stop is None or window.stop < cut <= window.last):
            return False
        window.stop = cut
        self.windows.append(new)
        self._page(new)
        return True


def _fetch(
    session: Any,
    customers: Any,
    ids: Any,
    created: Created,
    progress: Progress,
    cancel: threading.Event | None,
) -> _Fetch:
    customer_ids = _id_list(customers, "customers", "cus_")
    source_ids = _id_list(ids, "ids", "src_")
    lo, hi = _created_range(created)
    if source_ids is not None and (lo is not None or hi is not None):
        raise InvalidInputError(
            "created filters customers by creation time; it does not combine with ids. "
            "Load by ids, then filter the frame on its 'created' column."
        )
    return _Fetch(
        session,
        customers=customer_ids,
        ids=source_ids,
        created=(lo, hi),
        progress=progress,
        cancel=cancel,
    )


# -- public -------------------------------------------------------------------------------------
def iter_sources(
    session: Any,
    *,
    customers: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    created: Created = None,
    progress: Progress = True,
    cancel: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every source (a dict without ``client_secret``) exactly once, as pages arrive.

    Account-wide by default; ``customers=[...]`` limits to those customers; ``ids=[...]``
    retrieves sources by id (the only way to reach detached ones; unknown ids are skipped);
    ``created=(start, end)`` keeps customers created at or after start and before end.
    Order follows arrival (use :func:`load_sources` for a sorted frame). Example::

        for src in toolkit.iter_sources(session, customers=["cus_123"], progress=False):
            print(src["id"], src["status"])

    Arguments are checked at once. Worker threads end when the iterator is exhausted, closed
    or garbage-collected.
    """
    return iter(_fetch(session, customers, ids, created, progress, cancel))


def _in_order(found: list[str], asked: list[str] | None) -> list[str]:
    """``found`` in the order the ids were asked for (completion order is arbitrary)."""
    position = {v: i for i, v in enumerate(asked or [])}
    return sorted(dict.fromkeys(found), key=lambda v: (position.get(v, len(position)), v))


def _attrs(session: Any, taken_at: datetime, fetch: _Fetch) -> dict[str, Any]:
    return {
        "taken_at": taken_at.isoformat(),
        "account": getattr(session, "account_label", None),
        "mode": getattr(session, "mode", None),
        "missing_ids": _in_order(fetch.missing_ids, fetch.ids),
        "missing_customers": _in_order(fetch.missing_customers, fetch.customer_ids),
        # the cost of this load, e.g. for apply() to choose how to re-read an account's sources
        "scope": _scope(fetch),
        "customers": len(fetch.customers_seen),
        "requests": fetch.runner.requests if fetch.runner is not None else 0,
    }


def _scope(fetch: _Fetch) -> str:
    """What a load covered: "account" (every customer), "created", "customers" or "ids"."""
    if fetch.ids is not None:
        return "ids"
    if fetch.customer_ids is not None:
        return "customers"
    return "account" if fetch.lo is None and fetch.hi is None else "created"


def _now(session: Any) -> datetime:
    now = getattr(session, "now", None)
    return now() if callable(now) else datetime.now(tz=UTC)


def load_sources(
    session: Any,
    *,
    customers: Sequence[str] | None = None,
    ids: Sequence[str] | None = None,
    created: Created = None,
    progress: Progress = True,
    cancel: threading.Event | None = None,
    metadata_columns: bool = True,
) -> pd.DataFrame:
    """Load sources into the toolkit's frame (see :mod:`toolkit.frame` for the columns).

    Filters as :func:`iter_sources`. Rows are sorted newest first (by ``created``, then ``id``);
    with ``ids=[...]`` they keep the order of ``ids``. ``df.attrs["toolkit"]`` holds
    ``taken_at``, ``account``, ``mode``, ``missing_ids`` (ids Stripe does not know),
    ``missing_customers``, and the load's cost: ``scope`` ("account", "created", "customers" or
    "ids"), ``customers`` (customers listed) and ``requests`` (requests sent). Raises :class:`toolkit.Cancelled` when ``cancel`` is set.
    Example::

        df = toolkit.load_sources(session, created=("2026-01-01", None))
        df.groupby("status").size()
    """
    taken_at = _now(session)
    fetch = _fetch(session, customers, ids, created, progress, cancel)
    builder = SourcesBuilder(owned=True)
    batch: list[dict[str, Any]] = []
    with _NoGC():  # tens of thousands of acyclic dicts: the cyclic GC only slows the load
        for src in fetch:  # convert in batches while later pages are still in flight
            batch.append(src)
            if len(batch) >= BATCH:
                builder.add(batch)
                batch = []
        builder.add(batch)
        order: Any = "newest"
        if fetch.ids is not None:
            wanted = {sid: i for i, sid in enumerate(fetch.ids)}
            got = [wanted.get(r.get("id"), len(wanted)) for r in builder.raws]
            order = sorted(range(len(got)), key=got.__getitem__)
        df = builder.finish(metadata_columns=metadata_columns, order=order)
    df.attrs["toolkit"] = _attrs(session, taken_at, fetch)
    return df


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
        ids = _id_list(frame["id"], "sources", "src_") or []
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
            return _id_list(ids, "sources", "src_") or [], customers
        return _id_list(items, "sources", "src_") or [], customers
    return _id_list(sources, "sources", "src_") or [], customers


def load_source_transactions(
    session: Any,
    sources: Any,
    *,
    progress: Progress = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """The source transactions of the given receivers, as a typed frame, newest first.

    ``sources``: the frame from :func:`load_sources` (only ``flow == "receiver"`` rows are
    queried), source dicts, or ids. Columns: id, source, customer, type, status, currency,
    amount (Int64, minor units, negative for reversals), created (UTC), livemode, raw.
    Unknown source ids land in ``df.attrs["toolkit"]["missing_ids"]``. Example::

        txns = toolkit.load_source_transactions(session, df)
        txns.groupby("source")["amount"].sum()
    """
    taken_at = _now(session)
    ids, customers = _source_refs(sources)
    runner = _Runner(session, cancel)
    bar = _Progress(progress, len(ids), "sources", "Loading source transactions")
    txns: list[dict[str, Any]] = []
    seen: set[str] = set()
    missing: list[str] = []
    done = 0
    nogc = _NoGC()
    nogc.__enter__()
    try:
        for sid in ids:
            path = f"/v1/sources/{_seg(sid)}/source_transactions"
            runner.add(_FIRST, "txns", path, {"limit": PAGE}, sid)
        for task, result in runner.results():
            sid = task.ref
            if isinstance(result, BaseException):
                if isinstance(result, Cancelled):
                    raise Cancelled("Canceled: stopped before every transaction was fetched.")
                if _not_found(result):
                    missing.append(sid)
                    done += 1
                    continue
                raise _request_error(result, f"Listing the transactions of {sid}") from result
            data = result.get("data") or []
            for txn in data:
                tid = txn.get("id")
                if tid and tid not in seen:
                    seen.add(tid)
                    txns.append(txn)
            if result.get("has_more") and data:
                params = {"limit": PAGE, "starting_after": data[-1].get("id")}
                runner.add(_MORE, "txns", task.path, params, sid)
            else:
                done += 1
            bar.update(done, len(txns))
    finally:
        runner.close()
        bar.close()
        nogc.__exit__()
    txns.sort(key=lambda t: t.get("id") or "")
    txns.sort(key=lambda t: t.get("created") or 0, reverse=True)
    df = transactions_frame(txns, customers)
    df.attrs["toolkit"] = {
        "taken_at": taken_at.isoformat(),
        "account": getattr(session, "account_label", None),
        "mode": getattr(session, "mode", None),
        "missing_ids": _in_order(missing, ids),
    }
    return df
