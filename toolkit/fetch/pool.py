"""The pool that runs a load's reads side by side, most urgent first, under the session's limiter.

A :class:`Task` names one typed session read (``session.list_customers``...) and what to pass it;
customer pages (the critical path) take at most half the slots while other work waits, so the
small continuation requests keep the rate limiter busy while the big pages load.

>>> pool = RequestPool(toolkit.connect(quiet=True), None)
>>> pool.add(FIRST, "page", pool.session.list_customers, (), {"limit": 1}, None)
>>> [isinstance(body, dict) for _, body in pool.results()]
[True]
>>> pool.close(); pool.session.close()
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from toolkit.errors import Cancelled
from toolkit.session import Session

__all__ = ["FIRST", "MORE", "PAGE", "RequestPool", "Task"]

# task priorities (lower first): customer pages are the critical path, then further pages of a
# customer's own list, then first continuations and retrievals
PAGE, MORE, FIRST = 0, 1, 2


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


class RequestPool:
    """Runs reads in a thread pool (``session.max_workers`` wide), most urgent first."""

    def __init__(self, session: Session, cancel: threading.Event | None) -> None:
        self.session = session
        self.user_cancel = cancel
        self.stop = threading.Event()
        self.width = max(1, int(getattr(session, "max_workers", 8) or 8))
        self.page_slots = max(1, (self.width + 1) // 2)
        self.pool = ThreadPoolExecutor(max_workers=self.width, thread_name_prefix="toolkit-fetch")
        self.pages: list[Task] = []
        self.others: list[Task] = []
        self.inflight: dict[Future[Any], Task] = {}
        self.pages_inflight = 0
        self.seq = itertools.count()
        self.requests = 0

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
        task = Task(priority, next(self.seq), kind, read, args, params, ref)
        heapq.heappush(self.pages if priority == PAGE else self.others, task)

    def again(self, task: Task, priority: int, params: dict[str, Any] | None) -> None:
        """Queue the same read with other params (the next page, or a restart)."""
        self.add(priority, task.kind, task.read, task.args, params, task.ref)

    def _get(self, task: Task) -> dict[str, Any]:
        if self.stop.is_set():
            raise Cancelled()
        if task.params is None:
            return task.read(*task.args, cancel=self.stop)
        return task.read(*task.args, task.params, cancel=self.stop)

    def _next(self) -> Task | None:
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
            if task.priority == PAGE:
                self.pages_inflight += 1
            self.inflight[self.pool.submit(self._get, task)] = task

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
            done, _ = wait(list(self.inflight), timeout=0.1, return_when=FIRST_COMPLETED)
            for future in done:
                task = self.inflight.pop(future)
                if task.priority == PAGE:
                    self.pages_inflight -= 1
                exc = future.exception()
                yield task, (exc if exc is not None else future.result())
                self._pump()

    def close(self) -> None:
        """Stop: nothing more starts, threads end."""
        self.stop.set()
        self.pages.clear()
        self.others.clear()
        self.pool.shutdown(wait=True, cancel_futures=True)
