"""The pool that runs a load's reads side by side under the session's limiter, handing each free
slot to work on an endpoint with room.

A :class:`Task` names one typed session read (``session.list_customers``...) and what to pass it.
Stripe limits each endpoint on its own (toolkit.session.ratelimit), so the pool keeps one queue
per endpoint and starts, among the endpoints that have room now, the most urgent task: customer
pages, continuations and retrievals run side by side, none queued behind another's limit.
Customer pages (the critical path) take at most half the slots while other work waits, and wait
while :data:`BACKLOG` reads they led to are queued (the back-pressure that keeps a load's memory
bounded when pages come faster than their continuations: see :class:`RequestPool`).

How many reads it keeps in flight follows Little's law: an endpoint held at its pace of ``r``
requests/s whose answers take ``t`` s needs ``r x t`` in flight. A pool made without a width
starts at ``session.max_workers`` and, while its answers are too slow for the paces of the
endpoints with work at that width, widens (up to :data:`WIDEST`, under the concurrency Stripe
sheds at; the sandbox models 20), so that slow answers (80 ms + 2 ms per KiB make a page of 100
customers 0.6 s) do not cost throughput; it narrows back when they speed up. A width given
(apply's, one per thread that waits on it) is kept.

Two ways to drive it: a load adds tasks and takes the answers from :meth:`RequestPool.results`
in its own thread; apply's threads (which also write) each :meth:`~RequestPool.call` a read and
wait for its answer while :meth:`~RequestPool.serve` runs the pool in a thread of its own
(:meth:`RequestPool.serving`). Either way every read is paced and ordered by this one scheduler.

>>> pool = RequestPool(toolkit.connect(quiet=True), None)
>>> pool.add(FIRST, "page", pool.session.list_customers, (), {"limit": 1}, None)
>>> [isinstance(body, dict) for _, body in pool.results()]
[True]
>>> pool.close()
>>> with RequestPool.serving(pool.session, None) as reads:
...     page = reads.call(PAGE, pool.session.list_customers, {"limit": 1})
>>> len(page["data"])
1
>>> pool.session.close()
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import Cancelled
from toolkit.session.protocol import SessionLike

__all__ = ["FIRST", "MORE", "PAGE", "RequestPool", "Task"]

# task priorities (lower first): customer pages are the critical path, then further pages of a
# customer's own list, then first continuations and retrievals
PAGE, MORE, FIRST = 0, 1, 2
#: How far ahead of its slot a task may be handed to a thread (it waits for it in the limiter).
LEAD = 0.005
#: Queued reads (not customer pages) past which no customer page starts while they can run:
#: about 1 MB of queued tasks, 40 s of continuations at Stripe's 25/s, ten pages' worth.
BACKLOG = 1000
#: The most reads a pool without a given width keeps in flight (Stripe sheds load past a
#: concurrency it does not publish; the sandbox's cap is 20).
WIDEST = 16
#: The weight of the latest answer in an endpoint's mean answer time.
SMOOTHING = 0.2
#: In-flight reads kept beyond what Little's law asks, as a share of it (answers vary).
HEADROOM = 0.25


@dataclass(order=True)
class Task:
    """One read: ``read(*args, params, cancel=...)`` (``params`` left out when None)."""

    priority: int
    seq: int
    kind: str = field(compare=False)
    read: Callable[..., dict[str, Any]] = field(compare=False)
    args: tuple[Any, ...] = field(compare=False)
    params: dict[str, Any] | None = field(compare=False)
    ref: Any = field(compare=False, default=None)
    started: float = field(compare=False, default=0.0)  # time.monotonic() when a thread ran it

    @property
    def endpoint(self) -> str | None:
        """The endpoint the read calls (``GET /v1/customers``), as the session method names it."""
        return getattr(self.read, "endpoint", None)


class RequestPool:
    """Runs reads in a thread pool (``session.max_workers`` wide), most urgent first.

    What it holds is bounded whatever the server's speed: answers, by ``width`` (a task is
    handed to a thread only when :meth:`results` is pulled again: a slow consumer holds the
    reads back); queued reads, by ``backlog`` (customer pages wait while that many other reads
    are queued, so continuations never pile up behind pages that outrun them; a page already
    sent adds at most its own, so at most ``backlog + page_slots x 100`` are queued). A page
    waits only while another read can run: there is always one to make progress. Reads of
    given ids are :meth:`feed` in as the queue drains, never all at once.
    """

    def __init__(
        self,
        session: SessionLike,
        cancel: threading.Event | None,
        width: int | None = None,
        backlog: int | None = None,
    ) -> None:
        self.session = session
        self.user_cancel = cancel
        self.stop = threading.Event()
        self.base_width = self.width = max(1, width or int(session.max_workers or 8))
        self.widest = self.width if width else max(self.width, WIDEST)
        self.page_slots = max(1, (self.width + 1) // 2)
        self.answer_time: dict[str | None, float] = {}  # mean seconds per answer, by endpoint
        self.pool = ThreadPoolExecutor(max_workers=self.widest, thread_name_prefix="toolkit-fetch")
        self.queues: dict[str | None, list[Task]] = {}
        self.inflight: dict[Future[Any], Task] = {}
        self.pages_inflight = 0
        self.backlog = max(1, BACKLOG if backlog is None else backlog)
        self.queued_others = 0  # queued tasks that are not customer pages
        self._feeds: list[tuple[int, str, Callable[..., dict[str, Any]], Iterator[Any]]] = []
        self.seq = itertools.count()
        self.requests = 0
        # tasks handed to a thread that has not taken its slot in the limiter yet, by endpoint
        self._waiting: Counter[str | None] = Counter()
        self._waiting_lock = threading.Lock()
        self._wake = 0.0
        # served (apply): tasks are added from other threads; a kick wakes the serving thread
        self._queue_lock = threading.Lock()
        self._kick: Future[None] = Future()
        self._closed = threading.Event()
        self._server: threading.Thread | None = None

    def add(
        self,
        priority: int,
        kind: str,
        read: Callable[..., dict[str, Any]],
        args: tuple[Any, ...],
        params: dict[str, Any] | None,
        ref: Any,
    ) -> None:
        """Queue one read."""
        with self._queue_lock:
            task = Task(priority, next(self.seq), kind, read, args, params, ref)
            heapq.heappush(self.queues.setdefault(task.endpoint, []), task)
            if priority != PAGE:
                self.queued_others += 1
            if not self._kick.done():
                self._kick.set_result(None)

    def feed(
        self,
        priority: int,
        kind: str,
        read: Callable[..., dict[str, Any]],
        items: Iterable[tuple[tuple[Any, ...], dict[str, Any] | None, Any]],
    ) -> None:
        """Queue one read per item (``(args, params, ref)``, as :meth:`add` takes them) as the
        queue drains: at most ``backlog`` queued at once, so a load of 100,000 ids holds a
        thousand tasks, not 100,000 (about 400 bytes each). Not for customer pages."""
        if priority == PAGE:
            raise ValueError("customer pages are added one at a time, not fed")
        self._feeds.append((priority, kind, read, iter(items)))
        self._top_up()

    def _top_up(self) -> None:
        """Queue fed reads while fewer than ``backlog`` others are queued."""
        while self._feeds and self.queued_others < self.backlog:
            priority, kind, read, items = self._feeds[0]
            item = next(items, None)
            if item is None:
                self._feeds.pop(0)
                continue
            args, params, ref = item
            self.add(priority, kind, read, args, params, ref)

    def again(self, task: Task, priority: int, params: dict[str, Any] | None) -> None:
        """Queue the same read with other params (the next page, or a restart)."""
        self.add(priority, task.kind, task.read, task.args, params, task.ref)

    def _get(self, task: Task) -> dict[str, Any]:
        with self._waiting_lock:
            self._waiting[task.endpoint] -= 1
        if self.stop.is_set():
            raise Cancelled()
        task.started = time.monotonic()
        if task.params is None:
            return task.read(*task.args, cancel=self.stop)
        return task.read(*task.args, task.params, cancel=self.stop)

    def _ready(self, endpoint: str | None) -> float:
        """When a request to ``endpoint`` could start, counting the tasks already handed out."""
        limiter = self.session.limiter
        if limiter is None:
            return 0.0
        with self._waiting_lock:
            mine, everyone = self._waiting[endpoint], sum(self._waiting.values())
        at = limiter.ready_at(endpoint)
        rate = limiter.rate_of(endpoint) if endpoint is not None else None
        if rate:
            at += mine / rate
        if limiter.rate:
            at = max(at, limiter.ready_at(None) + everyone / limiter.rate)
        return at

    def _next(self) -> Task | None:
        """The most urgent task among the endpoints with room now; None (and ``_wake`` set)
        when every endpoint with work is still busy."""
        now = time.monotonic()
        self._wake = now + 0.1
        others = any(q for e, q in self.queues.items() if q and q[0].priority != PAGE)
        best: tuple[bool, int, float, int] | None = None
        chosen: list[Task] | None = None
        for queue in self.queues.values():
            if not queue:
                continue
            head = queue[0]
            busy = self.pages_inflight >= self.page_slots or self.queued_others >= self.backlog
            if head.priority == PAGE and busy and others:
                continue
            ready = self._ready(head.endpoint)
            rank = (ready > now + LEAD, head.priority, ready, head.seq)
            if best is None or rank < best:
                best, chosen = rank, queue
        if best is None or chosen is None:
            return None
        if best[0] and self.inflight:  # nothing has room: wait for it (or for an answer)
            self._wake = best[2]
            return None
        task = heapq.heappop(chosen)
        if task.priority != PAGE:
            self.queued_others -= 1
        return task

    def _pump(self) -> None:
        while len(self.inflight) < self.width:
            self._top_up()
            with self._queue_lock:
                task = self._next()
            if task is None:
                return
            self.requests += 1
            if task.priority == PAGE:
                self.pages_inflight += 1
            with self._waiting_lock:
                self._waiting[task.endpoint] += 1
            self.inflight[self.pool.submit(self._get, task)] = task

    def learn(self, task: Task) -> None:
        """Count one answer's time (from its thread taking it) in its endpoint's mean, and set
        the width Little's law asks for the endpoints with work (see the module)."""
        if not task.started:
            return
        took = time.monotonic() - task.started
        mean = self.answer_time.get(task.endpoint)
        self.answer_time[task.endpoint] = took if mean is None else mean + SMOOTHING * (took - mean)
        if self.widest > self.base_width:
            self.width = self.wanted_width()
            self.page_slots = max(1, (self.width + 1) // 2)

    def wanted_width(self) -> int:
        """Reads to keep in flight: each endpoint with work (queued or in flight) at its pace
        times its mean answer time, all of them within the global pace, plus
        :data:`HEADROOM`; between the width the pool was made with and :data:`WIDEST`.

        >>> pool = RequestPool(toolkit.connect(limits={"global": 100}, quiet=True), None)
        >>> pool.wanted_width()
        8
        >>> pool.answer_time = {"GET /v1/customers": 0.6, "GET /v1/customers/{id}/sources": 0.2}
        >>> for endpoint in pool.answer_time:
        ...     pool.queues[endpoint] = [Task(FIRST, 0, "x", pool.session.list_customers, (), {})]
        >>> pool.wanted_width()  # 25/s x 0.6 s + 25/s x 0.2 s = 20, + 25%
        16
        >>> pool.close(); pool.session.close()
        """
        limiter = self.session.limiter
        busy = {e for e, q in self.queues.items() if q} | {
            t.endpoint for t in self.inflight.values()
        }
        need = 0.0
        rates = 0.0
        for endpoint in busy:
            took = self.answer_time.get(endpoint)
            rate = limiter.rate_of(endpoint) if limiter is not None and endpoint else None
            if took is None or not rate:
                continue
            need += rate * took
            rates += rate
        if limiter is not None and limiter.rate and rates > limiter.rate:
            need *= limiter.rate / rates  # the global pace holds them all to its rate
        wanted = math.ceil(need * (1 + HEADROOM))
        return max(self.base_width, min(self.widest, wanted))

    def cancelled(self) -> bool:
        """Has the user's cancel event been set (or the pool stopped)?"""
        if self.user_cancel is not None and self.user_cancel.is_set():
            self.stop.set()
        return self.stop.is_set()

    def results(self) -> Iterator[tuple[Task, Any]]:
        """(task, JSON body or exception) as they complete; new tasks may be added meanwhile."""
        while True:
            if self.cancelled():
                raise Cancelled("Canceled: stopped before every source was fetched.")
            self._pump()
            if not self.inflight:
                return
            timeout = min(0.1, max(0.001, self._wake - time.monotonic()))
            done, _ = wait(list(self.inflight), timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                task = self.inflight.pop(future)
                if task.priority == PAGE:
                    self.pages_inflight -= 1
                self.learn(task)
                exc = future.exception()
                yield task, (exc if exc is not None else future.result())
                self._pump()

    # -- served: reads called from other threads (apply) ---------------------------------------
    @classmethod
    @contextmanager
    def serving(
        cls, session: SessionLike, cancel: threading.Event | None, width: int | None = None
    ) -> Iterator[RequestPool]:
        """A pool run by a thread of its own for the duration of the ``with`` block: other
        threads :meth:`call` their reads through it (``width`` of them at once, the session's
        ``max_workers`` unless given). Closed (its threads ended) on leaving."""
        pool = cls(session, cancel, width)
        pool.start_serving()
        try:
            yield pool
        finally:
            pool.close()

    def start_serving(self) -> None:
        """Run :meth:`serve` in a thread of its own (:meth:`close` ends it)."""
        self._server = threading.Thread(target=self.serve, name="toolkit-fetch-serve", daemon=True)
        self._server.start()

    def call(
        self, priority: int, read: Callable[..., dict[str, Any]], *args: Any
    ) -> dict[str, Any]:
        """``read(*args)`` (a typed session read) run by the pool in its turn; waits for the
        answer and returns it (or raises what the read raised; Cancelled once canceled).
        Thread-safe: for a pool run by :meth:`serve`."""
        if self.cancelled() or self._closed.is_set():
            raise Cancelled()
        answer: Future[dict[str, Any]] = Future()
        self.add(priority, "call", read, args, None, answer)
        while True:
            try:
                return answer.result(timeout=0.5)
            except FutureTimeout:
                if self._server is None or not self._server.is_alive():  # nobody will answer
                    self._drop_queued()

    def serve(self) -> None:
        """Run the reads :meth:`call` queues, answering each caller, until :meth:`close`."""
        try:
            while not self._closed.is_set():
                with self._queue_lock:
                    kick = self._kick = Future()
                if self.cancelled():
                    self._drop_queued()
                else:
                    self._pump()
                if not self.inflight:
                    wait([kick], timeout=0.1)
                    continue
                timeout = min(0.1, max(0.001, self._wake - time.monotonic()))
                done, _ = wait([*self.inflight, kick], timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    task = self.inflight.pop(future, None)
                    if task is None:
                        continue  # the kick
                    if task.priority == PAGE:
                        self.pages_inflight -= 1
                    exc = future.exception()
                    if exc is not None:
                        task.ref.set_exception(exc)
                    else:
                        task.ref.set_result(future.result())
        finally:
            for future, task in list(self.inflight.items()):  # answered as they end
                exc = future.exception()
                if exc is not None:
                    task.ref.set_exception(exc)
                else:
                    task.ref.set_result(future.result())
            self.inflight.clear()
            self._closed.set()  # a call from now on is refused, not left waiting
            self._drop_queued()

    def _drop_queued(self) -> None:
        """Answer every queued call with Cancelled (nothing more is sent)."""
        with self._queue_lock:
            queued = [task for queue in self.queues.values() for task in queue]
            self.queues.clear()
            self.queued_others = 0
        self._feeds.clear()
        for task in queued:
            if isinstance(task.ref, Future) and not task.ref.done():
                task.ref.set_exception(Cancelled())

    def close(self) -> None:
        """Stop: nothing more starts, threads end."""
        self.stop.set()
        self._closed.set()
        with self._queue_lock:
            if not self._kick.done():
                self._kick.set_result(None)
        if self._server is not None:
            self._server.join()
        with self._queue_lock:
            self.queues.clear()
            self.queued_others = 0
        self._feeds.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)
