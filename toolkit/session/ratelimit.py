"""One rate limiter per session, shared by every thread that talks to Stripe.

Requests are spaced evenly (``1 / rate`` seconds apart, with a small burst allowance), so a pool of
workers never exceeds the account's limit; a 429 pauses every worker at once.

Example::

    limiter = RateLimiter(25)      # test mode: 25 requests per second
    limiter.acquire()              # blocks until this thread may send one request
    limiter.pause(1.5)             # after a 429: nobody sends for 1.5 s
"""

from __future__ import annotations

import threading
import time

from toolkit.errors import Cancelled

__all__ = ["RateLimiter"]


class RateLimiter:
    """Thread-safe pacing of requests: ``rate`` per second, ``burst`` of them back to back at most.

    ``rate=None`` means no limit (pauses after a 429 still apply).
    """

    def __init__(self, rate: float | None, *, burst: int = 1) -> None:
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive or None, got {rate!r}")
        self.rate = rate
        self.burst = max(1, int(burst))
        self._lock = threading.Lock()
        self._next = time.monotonic()  # earliest time the next slot starts
        self._paused_until = 0.0
        self.acquired = 0  # requests let through, for benchmarks and tests
        self.pauses = 0

    def acquire(self, cancel: threading.Event | None = None) -> None:
        """Block until the caller may send one request; raise :class:`Cancelled` if cancelled."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._paused_until)
            if self.rate is not None:
                interval = 1.0 / self.rate
                # allow up to `burst` slots to be taken immediately after an idle spell
                start = max(start, self._next - interval * (self.burst - 1))
                self._next = max(self._next, start) + interval
            self.acquired += 1
        self._sleep_until(start, cancel)

    def pause(self, seconds: float) -> None:
        """Hold back every thread for ``seconds`` (used after a 429)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self.pauses += 1

    @staticmethod
    def _sleep_until(deadline: float, cancel: threading.Event | None) -> None:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if cancel is not None:
                if cancel.wait(min(remaining, 0.1)):
                    raise Cancelled()
            else:
                time.sleep(min(remaining, 0.1))

    def __repr__(self) -> str:
        rate = "unlimited" if self.rate is None else f"{self.rate:g}/s"
        return f"RateLimiter({rate}, burst={self.burst})"
