"""One rate limiter per session that knows Stripe's limiters (docs.stripe.com/rate-limits).

Stripe counts requests per account against a **global** limit (100/s live, 25/s in test mode)
and against a limit **per endpoint** (25/s by default), where an endpoint is one named operation
(``GET /v1/customers/{id}/sources``, see :mod:`toolkit.session.endpoints`). The limiter holds
one pace for the account and one per endpoint, each at ``budget`` x its limit:

- requests of a pace are spaced evenly, and no window of one second (plus a margin for
  the network) ever holds more than the pace's rate: the load Stripe sees never exceeds
  ``budget x limit``, whichever thread sends; at budget 1 a pace held up (a thread the OS
  ran late, a pause in the work) may catch up on up to :data:`SLACK` seconds of its schedule,
  inside that window, instead of losing those slots for good (below 1, where the promise is a
  share, one request);
- :meth:`RateLimiter.ready_at` says when an endpoint has room next, so a scheduler can hand a
  free slot to work on another endpoint instead of queueing behind a busy one;
- after a 429 only the limiter Stripe names (``Stripe-Rate-Limited-Reason``) slows down:
  ``endpoint-rate`` that endpoint's pace, ``global-rate`` the global pace (each pauses, cuts its
  rate to 70% and recovers 10 points a second), ``global-concurrency`` the requests the session
  keeps in flight, ``endpoint-concurrency`` those in flight on that endpoint only (each cap
  pauses, starts at 70% of what was in flight and grows by one a second);
  ``resource-specific`` (one object over its own limit, such as updates of one PaymentIntent)
  and a ``lock_timeout`` slow nothing shared: only that request waits before its retry. A 429
  without a reason Stripe names slows the global pace.

>>> limiter = RateLimiter(StripeLimits.of_mode("test"), budget=0.5)
>>> limiter.rate, limiter.rate_of("GET /v1/customers")
(12.5, 12.5)
>>> with limiter.slot("GET /v1/customers"):
...     pass
>>> limiter.acquired, limiter.by_endpoint["GET /v1/customers"]
(1, 1)
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from toolkit.errors import Cancelled

__all__ = ["ENDPOINT_RATE", "GLOBAL_RATES", "RateLimiter", "StripeLimits"]

#: Stripe's global limit per account, requests/s, by mode.
GLOBAL_RATES = {"live": 100.0, "test": 25.0}
#: Stripe's default limit of one endpoint, requests/s.
ENDPOINT_RATE = 25.0
#: The window a pace counts in: one second plus a margin for the network's jitter (a request
#: that left late must not land inside the next second's count) ...
WINDOW = 1.02
#: ... and a wider one below a budget of 1, whose promise is never to take more than its share.
SHARED_WINDOW = 1.06
#: Seconds of its schedule a pace that fell behind may catch up on (requests sent closer
#: together than its spacing, never more than its rate in a window).
SLACK = 0.12
#: After a 429 a pace runs at this share of what it ran at ...
DECREASE = 0.7
#: ... never below this share of its limit ...
MIN_FACTOR = 0.2
#: ... and wins back this share of its limit each second.
RECOVERY = 0.1
#: A concurrency cap grows back by one request a second; at this size it is lifted.
CAP_LIFTED = 64


@dataclass(frozen=True)
class StripeLimits:
    """The limits of one account: global requests/s, each endpoint's default, and the endpoints
    Stripe has raised (or lowered) for it. ``StripeLimits(200, endpoints={"POST /v1/sources/{id}":
    50})`` for an account whose limits were raised."""

    global_rate: float | None
    endpoint_rate: float | None = ENDPOINT_RATE
    endpoints: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def of_mode(cls, mode: str) -> StripeLimits:
        """Stripe's published defaults for ``"live"`` or ``"test"`` (sandbox: test mode's)."""
        return cls(GLOBAL_RATES.get(mode, GLOBAL_RATES["test"]))

    @classmethod
    def single(cls, rate: float | None) -> StripeLimits:
        """One cap of ``rate`` requests/s on everything (a server that is not Stripe)."""
        return cls(rate, rate)

    def rate_of(self, endpoint: str) -> float | None:
        """One endpoint's limit (requests/s), or None when it has none."""
        return self.endpoints.get(endpoint, self.endpoint_rate)


class _Pace:
    """One limiter's schedule: even spacing, at most ``rate`` starts in any ``window``."""

    def __init__(self, rate: float, window: float = WINDOW, slack: float = SLACK) -> None:
        self.rate = rate
        self.window = window
        self.slack = slack
        self.tat = 0.0  # theoretical arrival time of the next request (GCRA)
        self.starts: deque[float] = deque()
        self.cut_to = 1.0
        self.cut_at = -math.inf
        self.paused_until = 0.0
        self.cuts = 0

    def factor(self, now: float) -> float:
        return min(1.0, self.cut_to + RECOVERY * (now - self.cut_at))

    def earliest(self, now: float) -> float:
        rate = self.rate * self.factor(now)
        interval = 1.0 / rate
        # late threads (or a held-up scheduler) catch up on SLACK of the schedule, at least one
        at = max(self.paused_until, self.tat - max(interval, self.slack))
        while self.starts and self.starts[0] <= now - self.window:
            self.starts.popleft()
        cap = max(1, math.floor(rate + 1e-9))
        if len(self.starts) >= cap:
            at = max(at, self.starts[-cap] + self.window)
        return at

    def take(self, now: float) -> None:
        interval = 1.0 / (self.rate * self.factor(now))
        self.tat = max(self.tat, now) + interval
        self.starts.append(now)

    def cut(self, now: float, pause: float) -> None:
        self.cut_to = max(MIN_FACTOR, self.factor(now) * DECREASE)
        self.cut_at = now
        self.paused_until = max(self.paused_until, now + pause)
        self.cuts += 1


class RateLimiter:
    """Thread-safe pacing of one session's requests within ``budget`` x Stripe's limits.

    ``limits=None`` means no pacing (pauses after a 429 still apply).
    """

    def __init__(self, limits: StripeLimits | None, *, budget: float = 1.0) -> None:
        if not 0 < budget <= 1:
            raise ValueError(f"budget must be a share above 0 and at most 1, got {budget!r}")
        self.limits = limits
        self.budget = budget
        self._lock = threading.Lock()
        self._global = self._make(limits.global_rate if limits else None)
        self._endpoints: dict[str, _Pace | None] = {}
        self._cap: int | None = None  # requests in flight, after a concurrency 429
        self._cap_at = 0.0
        self._paused_until = 0.0
        # after an endpoint-concurrency 429: endpoint -> [cap, set at, paused until]
        self._endpoint_caps: dict[str, list[float]] = {}
        self._endpoint_inflight: Counter[str] = Counter()
        self.inflight = 0
        self.acquired = 0  # requests let through, for benchmarks and tests
        self.by_endpoint: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # 429s by the limiter Stripe named
        self.pauses = 0

    def _make(self, rate: float | None) -> _Pace | None:
        if not rate:
            return None
        if self.budget == 1:
            return _Pace(rate, WINDOW, SLACK)
        return _Pace(rate * self.budget, SHARED_WINDOW, 0.0)

    @property
    def rate(self) -> float | None:
        """The session's global pace (requests/s), or None when unlimited."""
        return self._global.rate if self._global is not None else None

    def rate_of(self, endpoint: str) -> float | None:
        """The pace of one endpoint (requests/s), or None when unlimited."""
        pace = self._pace(endpoint)
        return pace.rate if pace is not None else None

    def current_rate(self, endpoint: str | None = None) -> float | None:
        """The rate a pace runs at now (lower than :meth:`rate_of` for a while after a 429);
        ``endpoint=None``: the global pace."""
        with self._lock:
            pace = self._global if endpoint is None else self._pace(endpoint)
            return pace.rate * pace.factor(time.monotonic()) if pace is not None else None

    @property
    def concurrency(self) -> int | None:
        """Requests the session keeps in flight at most, after a global-concurrency 429 (else
        None)."""
        with self._lock:
            return self._concurrency_cap(time.monotonic())

    def concurrency_of(self, endpoint: str) -> int | None:
        """Requests the session keeps in flight at most on ``endpoint``, after an
        endpoint-concurrency 429 naming it (else None)."""
        with self._lock:
            return self._endpoint_cap(endpoint, time.monotonic())

    def _pace(self, endpoint: str) -> _Pace | None:
        if endpoint not in self._endpoints:
            rate = self.limits.rate_of(endpoint) if self.limits else None
            self._endpoints[endpoint] = self._make(rate)
        return self._endpoints[endpoint]

    def _paces(self, endpoint: str | None) -> list[_Pace]:
        paces = [self._global]
        if endpoint is not None:
            paces.append(self._pace(endpoint))
        return [p for p in paces if p is not None]

    def _ready(self, endpoint: str | None, now: float) -> float:
        at = self._paused_until
        for pace in self._paces(endpoint):
            at = max(at, pace.earliest(now))
        cap = self._concurrency_cap(now)
        if cap is not None and self.inflight >= cap:
            at = max(at, now + 0.01)
        if endpoint is not None and endpoint in self._endpoint_caps:
            at = max(at, self._endpoint_caps[endpoint][2])
            cap = self._endpoint_cap(endpoint, now)
            if cap is not None and self._endpoint_inflight[endpoint] >= cap:
                at = max(at, now + 0.01)
        return at

    def ready_at(self, endpoint: str | None) -> float:
        """The ``time.monotonic()`` at which a request to ``endpoint`` could start."""
        with self._lock:
            return self._ready(endpoint, time.monotonic())

    def _concurrency_cap(self, now: float) -> int | None:
        if self._cap is None:
            return None
        cap = self._cap + int(now - self._cap_at)  # one more each second
        if cap >= CAP_LIFTED:
            self._cap = None
            return None
        return cap

    def _endpoint_cap(self, endpoint: str, now: float) -> int | None:
        held = self._endpoint_caps.get(endpoint)
        if held is None:
            return None
        cap = int(held[0]) + int(now - held[1])  # one more each second
        if cap >= CAP_LIFTED and now >= held[2]:
            del self._endpoint_caps[endpoint]
            return None
        return cap

    def acquire(self, endpoint: str | None = None, cancel: threading.Event | None = None) -> None:
        """Block until the caller may send one request to ``endpoint``; raise
        :class:`Cancelled` if ``cancel`` is set meanwhile. Pair with :meth:`release`."""
        while True:
            with self._lock:
                now = time.monotonic()
                at = self._ready(endpoint, now)
                if at <= now:
                    for pace in self._paces(endpoint):
                        pace.take(now)
                    self.inflight += 1
                    self.acquired += 1
                    if endpoint is not None:
                        self.by_endpoint[endpoint] += 1
                        self._endpoint_inflight[endpoint] += 1
                    return
            _sleep(min(at - now, 0.05), cancel)

    def release(self, endpoint: str | None = None) -> None:
        """One request acquired earlier (for ``endpoint``) has its answer."""
        with self._lock:
            self.inflight = max(0, self.inflight - 1)
            if endpoint is not None and self._endpoint_inflight[endpoint] > 0:
                self._endpoint_inflight[endpoint] -= 1

    @contextmanager
    def slot(
        self, endpoint: str | None = None, cancel: threading.Event | None = None
    ) -> Iterator[None]:
        """Hold one request's slot for the block (acquire, then release)."""
        self.acquire(endpoint, cancel)
        try:
            yield
        finally:
            self.release(endpoint)

    def limited(self, endpoint: str | None, reason: str | None, pause: float) -> None:
        """Stripe refused a request (429): slow the limiter its reason names, for ``pause``
        seconds and then at a lower rate (or concurrency) that recovers. ``resource-specific``
        slows nothing shared (one object is over its own limit: only its retry waits). No
        reason, or one Stripe does not document: the global pace."""
        with self._lock:
            now = time.monotonic()
            self.refused[reason or "unnamed"] += 1
            if reason == "resource-specific":
                return
            self.pauses += 1
            if reason == "global-concurrency" or (
                reason == "endpoint-concurrency" and not endpoint
            ):
                self._cap = max(1, int(max(1, self.inflight) * DECREASE))
                self._cap_at = now
                self._paused_until = max(self._paused_until, now + pause)
                return
            if reason == "endpoint-concurrency" and endpoint:
                inflight = self._endpoint_inflight[endpoint]
                cap = max(1, int(max(1, inflight) * DECREASE))
                self._endpoint_caps[endpoint] = [cap, now, now + pause]
                return
            pace = self._pace(endpoint) if reason == "endpoint-rate" and endpoint else None
            pace = pace or self._global
            if pace is not None:
                pace.cut(now, pause)
            else:
                self._paused_until = max(self._paused_until, now + pause)

    def pause(self, seconds: float) -> None:
        """Hold back every thread for ``seconds``."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)
            self.pauses += 1

    def __repr__(self) -> str:
        rate = "unlimited" if self.rate is None else f"{self.rate:g}/s"
        return f"RateLimiter({rate}, budget={self.budget:g})"


def _sleep(seconds: float, cancel: threading.Event | None) -> None:
    if seconds <= 0:
        return
    if cancel is None:
        time.sleep(seconds)
    elif cancel.wait(seconds):
        raise Cancelled()
