"""One load's engine: turns Stripe's pages into sources and follow-up reads (see
:mod:`toolkit.fetch.load` for the strategy), recording what the load saw and missed.

Example::

    fetch = SourceFetch(session, customers=None, ids=None, created=(None, None),
                        progress=False, cancel=None)
    for src in fetch: ...
    info = fetch.info(taken_at)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from toolkit.errors import Cancelled, NotFoundError, StripeRequestError
from toolkit.fetch.clocks import clock_page_params, clocks_apply, clocks_left_out, clocks_params
from toolkit.fetch.customer_sources import (
    embedded_sources,
    is_source,
    more_sources,
    sources_params,
)
from toolkit.fetch.inputs import in_order
from toolkit.fetch.lists import is_last, restart
from toolkit.fetch.loaded import LoadInfo
from toolkit.fetch.pool import FIRST, MORE, PAGE, RequestPool, Task
from toolkit.fetch.windows import PAGE_SIZE, Window, Windows
from toolkit.progress import Progress, ProgressArg
from toolkit.redact import redact_source
from toolkit.session.endpoints import LIST_CUSTOMER_SOURCES
from toolkit.session.protocol import SessionLike

__all__ = ["PAGES_AHEAD", "SourceFetch"]

#: Customer pages kept in flight on a slow server, over what keeps the continuations at their
#: pace: the pages (the critical path) run ahead, and the continuations' backlog absorbs a
#: slow page.
PAGES_AHEAD = 2.0


class SourceFetch:
    """One load: turns responses into sources and follow-up reads (runs in the caller's thread)."""

    def __init__(
        self,
        session: SessionLike,
        *,
        customers: list[str] | None,
        ids: list[str] | None,
        created: tuple[int | None, int | None],
        progress: ProgressArg,
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
        self.deleted_customers: list[str] = []
        self.windows = Windows(self.lo, self.hi)
        self.done_units = 0
        self.sources = 0
        self.clocks: int | None = None  # test clocks whose customers were listed
        self.clocks_note: str | None = None
        self.clocks_seen: set[str] = set()
        self.pool: RequestPool | None = None
        #: the server answers slowly (load_sources: the events mark was slow): the first window
        #: sends a probe beside its first page, and windows are carved at once (fetch.windows)
        self.slow = False
        self.page_customers = 0  # customers on the customer pages answered ...
        self.page_follow_ups = 0  # ... and the continuations they queued
        self.meter: Any = None  # the read meter of the load (its reads show on the bar)

    # -- driving ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[dict[str, Any]]:
        for batch in self.pages():
            yield from batch

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The sources as they arrive, one list per answer from Stripe (a list may be empty):
        a consumer can show a page's rows before the next answer comes."""
        if self.ids is not None:
            total, unit = len(self.ids), "ids"
        elif self.customer_ids is not None:
            total, unit = len(self.customer_ids), "customers"
        else:
            total, unit = None, "customers"
        self.pool = pool = RequestPool(self.session, self.cancel)
        bar = Progress(self.progress_arg, total, "Loading sources", unit=unit, reads=self.meter)
        try:
            self._start()
            for task, result in pool.results():
                if isinstance(result, BaseException):
                    self._failed(task, result)
                else:
                    yield list(self._handle(task, result))
                bar.update(self.done_units, f"{self.sources:,} sources")
            bar.update(self.done_units, f"{self.sources:,} sources")
        finally:
            pool.close()
            bar.close()

    @property
    def scope(self) -> str:
        """What this load covers: "account", "created", "customers" or "ids"."""
        if self.ids is not None:
            return "ids"
        if self.customer_ids is not None:
            return "customers"
        return "account" if self.lo is None and self.hi is None else "created"

    @property
    def operation(self) -> str:
        """What the load is called in the read ledger and its messages: ``"load ids"``, or
        ``"load account acct_1..."`` for a connected account's whole-account load."""
        account = self.session.stripe_account
        return f"load {self.scope}" + (f" {account}" if account and self.scope == "account" else "")

    @property
    def cost(self) -> int | None:
        """The reads this load sends at least, when known before it starts: one per id, one
        per customer (and one for where the events stand), one page of a window; None for a
        whole-account load (the ledger knows what it cost last time)."""
        if self.ids is not None:
            return len(self.ids)
        if self.customer_ids is not None:
            return len(self.customer_ids) + (1 if self.customer_ids else 0)
        return None if self.scope == "account" else 1

    def info(self, taken_at: datetime) -> LoadInfo:
        """What this load records about itself."""
        return LoadInfo(
            taken_at=taken_at.isoformat(),
            account=self.session.account_label,
            mode=self.session.mode,
            missing_ids=in_order(self.missing_ids, self.ids),
            missing_customers=in_order(self.missing_customers, self.customer_ids),
            deleted_customers=in_order(self.deleted_customers, self.customer_ids) or None,
            scope=self.scope,
            customers=len(self.customers_seen),
            requests=self.pool.requests if self.pool is not None else 0,
            test_clocks=self.clocks,
            test_clocks_note=self.clocks_note,
            api_version=self.session.api_version,
        )

    def _start(self) -> None:
        assert self.pool is not None
        session = self.session
        # the reads of given ids are fed in as the pool's queue drains, never all at once
        if self.ids is not None:
            ids = self.ids
            self.pool.feed(FIRST, "source", session.retrieve_source, (((s,), None, s) for s in ids))
        elif self.customer_ids is not None:
            cids = self.customer_ids
            if self.lo is None and self.hi is None:
                read = session.list_customer_sources
                items = (((c,), sources_params(), c) for c in cids)
                self.pool.feed(FIRST, "items", read, items)
            else:
                items = (((c,), {"expand": ["sources"]}, c) for c in cids)
                self.pool.feed(FIRST, "customer", session.retrieve_customer, items)
        else:
            first = self.windows.all[0]
            if self.slow:  # the probe first: it answers a full page's round trip sooner
                self.pool.add(
                    PAGE, "probe", session.list_customers, (), first.probe_params(), first
                )
            self._page(first)
            if clocks_apply(session.mode, self.scope):
                self.clocks = 0
                self._clocks(None)

    def _clocks(self, after: str | None) -> None:
        assert self.pool is not None
        read = self.session.list_test_clocks
        self.pool.add(FIRST, "clocks", read, (), clocks_params(after), None)

    def _clock_page(self, clock: str, after: str | None) -> None:
        assert self.pool is not None
        params = clock_page_params(clock, self.lo, self.hi, after)
        self.pool.add(MORE, "clock_page", self.session.list_customers, (), params, clock)

    def _page(self, window: Window) -> None:
        assert self.pool is not None
        self.pool.add(PAGE, "page", self.session.list_customers, (), window.params(), window)

    def _items(self, cid: str, params: dict[str, Any], priority: int) -> None:
        """Read a page of the customer's own source list (``params``: from customer_sources)."""
        assert self.pool is not None
        self.pool.add(priority, "items", self.session.list_customer_sources, (cid,), params, cid)

    def _failed(self, task: Task, exc: BaseException) -> None:
        if isinstance(exc, Cancelled):
            raise Cancelled("Canceled: stopped before every source was fetched.")
        if task.kind == "probe" and isinstance(exc, StripeRequestError):
            return  # the window's first page (already sent) reads what the probe would have
        if isinstance(exc, NotFoundError) and exc.cursor_vanished and self._resume(task):
            return
        if task.kind == "clocks":
            note = clocks_left_out(exc)
            if note is not None:  # say plainly what the load left out, and go on
                self.clocks, self.clocks_note = None, note
                return
        if not isinstance(exc, NotFoundError):
            raise exc
        if task.kind == "source":
            self.missing_ids.append(task.ref)
            self.done_units += 1
            return
        if task.kind == "items":  # the customer in the path: unknown, or deleted meanwhile?
            self._ask_gone(task.ref)
            return
        if task.kind in ("customer", "gone"):
            self._customer_missing(task.ref)
            return
        raise exc

    def _ask_gone(self, cid: str) -> None:
        """Ask Stripe whether a customer whose sources it would not list was deleted (a deleted
        customer still retrieves, as ``{"deleted": true}``) or never existed."""
        assert self.pool is not None
        self.pool.add(FIRST, "gone", self.session.retrieve_customer, (cid,), None, cid)

    def _customer_missing(self, cid: str, deleted: bool = False) -> None:
        found = self.deleted_customers if deleted else self.missing_customers
        if cid not in found:
            found.append(cid)
        if self.customer_ids is not None:
            self.done_units += 1

    def _resume(self, task: Task) -> bool:
        """The cursor object vanished mid-load (Stripe's 400 ``resource_missing`` on
        ``starting_after``: a deleted customer, a detached source): go on without it.
        Customers: restart the window at the cursor's ``created``; a customer's sources, a test
        clock's customers, the test clocks: list them again. What was already seen is skipped,
        so no row is lost or repeated."""
        assert self.pool is not None
        if task.kind == "page":
            window: Window = task.ref
            if not window.restart_at_cursor():
                return False
            self._page(window)
            return True
        if task.kind == "items":
            self.pool.again(task, MORE, restart(task.params or {}))
            return True
        if task.kind == "clock_page":
            self._clock_page(task.ref, None)
            return True
        if task.kind == "clocks":
            self._clocks(None)
            return True
        return False

    def _emit(self, src: dict[str, Any], cid: str | None) -> dict[str, Any] | None:
        sid = src.get("id")
        if sid is None or sid in self.seen:
            return None
        self.seen.add(sid)
        out = redact_source(src)
        if not out.get("customer") and cid is not None:
            out["customer"] = cid
        self.sources += 1
        return out

    # -- responses ----------------------------------------------------------------------------
    def _handle(self, task: Task, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if task.kind in ("page", "probe"):
            yield from self._on_page(task, body)
        elif task.kind == "items":
            yield from self._on_items(task, body)
        elif task.kind == "clocks":
            self._on_clocks(body)
        elif task.kind == "clock_page":
            data = body.get("data") or []
            for cus in data:
                if cus.get("id") not in self.customers_seen:
                    self.done_units += 1
                yield from self._on_customer(cus)
            if not is_last(body):
                self._clock_page(task.ref, data[-1].get("id"))
        elif task.kind == "customer":
            yield from self._on_retrieved_customer(task.ref, body)
        elif task.kind == "gone":
            self._customer_missing(task.ref, deleted=bool(body.get("deleted")))
        elif task.kind == "source":
            self.done_units += 1
            if not is_source(body):
                self.missing_ids.append(task.ref)
                return
            cus = body.get("customer")
            if self.customer_set is not None and cus not in self.customer_set:
                return
            out = self._emit(body, None)
            if out is not None:
                yield out

    def _on_clocks(self, body: dict[str, Any]) -> None:
        data = body.get("data") or []
        for clock in data:
            if clock.get("id") and clock["id"] not in self.clocks_seen:
                self.clocks_seen.add(clock["id"])
                self.clocks = (self.clocks or 0) + 1
                self._clock_page(clock["id"], None)
        if not is_last(body):
            self._clocks(data[-1].get("id"))

    def _on_retrieved_customer(self, cid: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if body.get("deleted"):  # Stripe keeps a deleted customer as {"deleted": true}
            self._customer_missing(cid, deleted=True)
            return
        self.done_units += 1
        created = body.get("created")
        if created is None or (
            (self.lo is None or created >= self.lo) and (self.hi is None or created < self.hi)
        ):
            yield from self._on_customer(body)

    def _on_customer(self, cus: dict[str, Any]) -> Iterator[dict[str, Any]]:
        cid = cus.get("id")
        if not cid or cid in self.customers_seen:
            return
        self.customers_seen.add(cid)
        found, more = embedded_sources(cus)
        for item in found:
            out = self._emit(item, cid)
            if out is not None:
                yield out
        if more is not None:
            self.page_follow_ups += 1
            self._items(cid, more, FIRST)

    def _on_items(self, task: Task, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        cid = task.ref
        found, more = more_sources(body, task.params)
        for item in found:
            out = self._emit(item, cid)
            if out is not None:
                yield out
        if more is not None:
            self._items(cid, more, MORE)
        elif self.customer_ids is not None and self.lo is None and self.hi is None:
            self.done_units += 1  # customers=[...]: this customer is complete

    def windows_wanted(self, round_trip: float) -> int:
        """Windows of customer pages to keep in flight so that the continuations they feed keep
        their endpoint at its pace (Little's law: pages a second needed, the endpoint's rate
        over the continuations a page brings, times a page's ``round_trip``), times
        :data:`PAGES_AHEAD` so that a backlog builds and the last window ends early; 1 when
        the session has no pace for that endpoint.

        >>> fetch = SourceFetch(toolkit.connect(quiet=True), customers=None, ids=None,
        ...     created=(None, None), progress=False, cancel=None)
        >>> fetch.windows_wanted(0.6)
        1
        >>> fetch.page_customers, fetch.page_follow_ups = 1000, 50
        >>> fetch.windows_wanted(0.6), fetch.windows_wanted(0.01)
        (6, 1)
        """
        limiter = self.session.limiter
        rate = limiter.rate_of(LIST_CUSTOMER_SOURCES) if limiter is not None else None
        if not rate or not self.page_customers:
            return 1
        per_page = max(1.0, PAGE_SIZE * self.page_follow_ups / self.page_customers)
        return max(1, math.ceil(PAGES_AHEAD * rate * round_trip / per_page))

    def _on_page(self, task: Task, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """A customer page of a window (or the probe of the first one, whose full page is
        already on its way: it only teaches the density, and its customers come out sooner)."""
        assert self.pool is not None
        window: Window = task.ref
        data = body.get("data") or []
        probe = task.kind == "probe"
        if probe and window.top is not None:
            return  # the window's full page answered first: it had all of these
        self.page_customers += len(data)
        for cus in data:
            if not window.owns(cus.get("created")):
                continue  # belongs to the window below
            if cus.get("id") not in self.customers_seen:
                self.done_units += 1
            yield from self._on_customer(cus)
        if probe:
            if not self.windows.observe_probe(window, body):
                return
        elif self.windows.observe(window, body):
            self._page(window)
        round_trip = time.monotonic() - task.started if task.started else 0.0
        if data and len(data) < PAGE_SIZE and not is_last(body):  # a short first page:
            round_trip *= PAGE_SIZE / len(data)  # a full one answers about that much later
        # on a fast server one window more a round trip fills the pipeline soon enough, and
        # windows carved ahead may cost empty pages (reads)
        wanted = self.windows_wanted(round_trip) if self.slow else 1
        active = sum(1 for w in self.windows.all if not w.done)
        # more windows than the pool's first page slots only when Little's law asks for them
        # (each window costs a partial page at its end, and a read is a cost too)
        target = min(self.pool.page_slots, max((self.pool.base_width + 1) // 2, wanted))
        self.windows.rebalance(target, self._page, at_once=max(1, wanted - active))
