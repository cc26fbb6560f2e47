"""The account-wide load's ``created`` windows: runs of the customer list paged side by side.

A load starts with one window over the whole list. As pages arrive, the density of customers in
``created`` is learnt, and while fewer windows run than the pool has page slots, the window with
the most pages ahead is split in two (an open-ended one loses a chunk of about four pages at its
old end; a bounded one is cut in the middle). Every customer is listed by exactly one window.

When pages answer slowly (a slow server: the small read before the load took
:data:`SLOW_ANSWER` or more), one new window a round trip starves the reads that pages feed (a
customer's continuation can only go out after its page): ``rebalance(..., at_once=n)`` carves
an open-ended window into ``n`` new ones at once (chunks of about four pages, the last one
open-ended), so the pipeline is full one round trip after the first page instead of ``n``. A
chunk below the account's oldest customer costs one empty page, as the open-ended window does.
On a slow server the load's first window sends, beside its first (full) page, a probe of
:data:`FIRST_PAGE` customers (:meth:`Window.probe_params`): its answer is a quarter of a full
page's size, so the density (and the first carve, :meth:`Windows.observe_probe`) is known that
much sooner, while the full page, the critical path, is already on its way. It costs one read
per load, and the probe's customers are listed twice (the full page skips them).

>>> windows = Windows(None, None)
>>> window = windows.all[0]
>>> page = [{"id": f"cus_{i}", "created": 1_000_000 - 10 * i} for i in range(100)]
>>> windows.observe(window, {"data": page, "has_more": True})
True
>>> started = []
>>> windows.rebalance(4, started.append)
>>> len(windows.all) > 1, all(w.lt is not None for w in started)
(True, True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from toolkit.fetch.customer_sources import customer_page_params
from toolkit.fetch.lists import is_last, params_after

__all__ = [
    "CHUNK_PAGES",
    "FIRST_PAGE",
    "MIN_SPLIT_PAGES",
    "PAGE_SIZE",
    "SLOW_ANSWER",
    "Window",
    "Windows",
]

PAGE_SIZE = 100  # Stripe's largest page
FIRST_PAGE = 25  # customers on a slow load's probe: it answers sooner (see the module)
SLOW_ANSWER = 0.07  # seconds: a small read that took this long marks a slow server
CHUNK_PAGES = 4  # customer pages carved off an open-ended window at a time
MIN_SPLIT_PAGES = 6  # a window is split only if it still has about this many pages ahead


@dataclass
class Window:
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
        """The ``GET /v1/customers`` params of this window's next page.

        >>> Window(None, 1_000, None).params()["created"]
        {'lt': 1000}
        """
        created = {}
        if self.gte is not None:
            created["gte"] = self.gte
        if self.lt is not None:
            created["lt"] = self.lt
        params = customer_page_params(**({"created": created} if created else {}))
        return params_after(params, self.cursor)

    def probe_params(self) -> dict[str, Any]:
        """The params of a probe of this window's first :data:`FIRST_PAGE` customers.

        >>> Window(None, None, None).probe_params()["limit"]
        25
        """
        return {**params_after(self.params(), None), "limit": FIRST_PAGE}

    def owns(self, created: Any) -> bool:
        """Is a customer created at ``created`` this window's (not the one below it)?"""
        return self.stop is None or created is None or created >= self.stop

    def restart_at_cursor(self) -> bool:
        """The cursor vanished (a customer deleted mid-load): restart at the cursor's
        ``created``; False when there is nothing to restart from."""
        if self.last is None:
            return False
        self.lt = self.last + 1 if self.lt is None else min(self.lt, self.last + 1)
        self.cursor = None
        return True


class Windows:
    """Every window of one load, and the density of customers they have seen."""

    def __init__(self, lo: int | None, hi: int | None) -> None:
        self.all = [Window(lo, hi, lo)]
        self.density_items = 0
        self.density_span = 0

    def observe_probe(self, window: Window, page: dict[str, Any]) -> bool:
        """Record a probe of ``window`` (its first customers, while its first full page is on
        its way): the density, and where the carve starts. False when it teaches nothing (the
        full page answered first, or the list ends within the probe).

        >>> windows = Windows(None, None)
        >>> probe = [{"id": f"cus_{i}", "created": 1_000_000 - 10 * i} for i in range(25)]
        >>> windows.observe_probe(windows.all[0], {"data": probe, "has_more": True})
        True
        >>> windows.all[0].cursor is None, windows.all[0].last, round(windows.density(), 3)
        (True, 999760, 0.104)
        """
        data = page.get("data") or []
        if window.top is not None or window.done or not data or is_last(page):
            return False
        self._learn(window, data)
        return True

    def _learn(self, window: Window, data: list[dict[str, Any]]) -> None:
        """The ``created`` range and density of a page of ``window`` (not its cursor)."""
        first, last = data[0].get("created"), data[-1].get("created")
        if window.top is None:
            window.top = first
        window.last = last
        if isinstance(first, int) and isinstance(last, int) and len(data) >= 2:
            span = max(1, first - last)
            window.density = len(data) / span
            self.density_items += len(data)
            self.density_span += span

    def observe(self, window: Window, page: dict[str, Any]) -> bool:
        """Record a page of ``window`` (Stripe's answer); True when it has another page to fetch."""
        data = page.get("data") or []
        if data:
            window.cursor = data[-1].get("id")
            self._learn(window, data)
        below = (
            window.stop is not None
            and window.last is not None
            and bool(data)
            and window.last < window.stop
        )
        if is_last(page) or below or window.cursor is None:
            window.done = True
            return False
        return True

    def density(self, window: Window | None = None) -> float | None:
        """Customers per second of ``created``: the window's, else the load's so far."""
        if window is not None and window.density:
            return window.density
        if self.density_span:
            return self.density_items / self.density_span
        return None

    def remaining_pages(self, window: Window) -> float:
        """About how many pages ``window`` still has ahead."""
        if window.done or window.last is None:
            return 0.0
        if window.stop is None:
            return math.inf
        density = self.density(window)
        if density is None:
            return 0.0
        return density * max(0, window.last - window.stop) / PAGE_SIZE

    def rebalance(self, target: int, start: Callable[[Window], None], at_once: int = 1) -> None:
        """Split windows while fewer than ``target`` run and one has pages enough ahead;
        ``start(window)`` fetches a new window's first page. An open-ended window is carved
        into up to ``at_once`` new windows in one go (see the module).

        >>> windows = Windows(None, None)
        >>> page = [{"id": f"cus_{i}", "created": 1_000_000 - 10 * i} for i in range(100)]
        >>> _ = windows.observe(windows.all[0], {"data": page, "has_more": True})
        >>> started = []
        >>> windows.rebalance(4, started.append, at_once=3)
        >>> [(w.gte, w.lt) for w in started]
        [(991090, 995050), (987130, 991090), (None, 987130)]
        """
        active = sum(1 for w in self.all if not w.done)
        while active < target:
            best = max(self.all, key=self.remaining_pages, default=None)
            if best is None or self.remaining_pages(best) < MIN_SPLIT_PAGES:
                return
            if best.stop is None and at_once > 1:
                new = self._carve(best, min(at_once, target - active))
            else:
                one = self._split(best)
                new = [one] if one is not None else []
            if not new:
                return
            for window in new:
                start(window)
            active += len(new)

    def _carve(self, window: Window, count: int) -> list[Window]:
        """Carve an open-ended ``window`` (below its last page) into ``count`` new windows:
        chunks of about :data:`CHUNK_PAGES` pages, the oldest one open-ended."""
        density = self.density()
        if density is None or window.last is None:
            return []
        chunk = max(1, int(CHUNK_PAGES * PAGE_SIZE / density))
        cuts = [window.last - chunk * (i + 1) for i in range(count)]
        if cuts[-1] <= 0:  # before the epoch: fewer, none in the past of 1970
            cuts = [c for c in cuts if c > 0]
            if not cuts:
                return []
        window.stop = cuts[0]
        new = [Window(low, high, low) for high, low in itertools.pairwise(cuts)]
        new.append(Window(None, cuts[-1], None))
        self.all.extend(new)
        return new

    def _split(self, window: Window) -> Window | None:
        assert window.last is not None
        if window.stop is None:
            density = self.density()
            if density is None:
                return None
            chunk = max(1, int(CHUNK_PAGES * PAGE_SIZE / density))
            cut = window.last - chunk
            new = Window(None, cut, None)
        else:
            if window.last - window.stop < 2:
                return None
            cut = (window.stop + window.last + 1) // 2
            new = Window(window.stop, cut, window.stop)
        if not (window.stop is None or window.stop < cut <= window.last):
            return None
        window.stop = cut
        self.all.append(new)
        return new
