"""Stripe's limiters as the sandbox applies them (docs.stripe.com/rate-limits), by profile.

- a **global** rate per account and mode: 100 requests/s (``"live"``) or 25/s (``"test"``);
  ``"auto"`` applies each key's own mode (a live key 100/s, a test key 25/s), as Stripe does;
- a rate **per endpoint**, 25/s by default, where an endpoint is one named operation (method and
  path template: ``GET /v1/customers/{id}/sources``) whatever the ids; ``endpoint_limits``
  overrides some (as Stripe does for accounts it has raised);
- a **concurrency** cap: requests of one account in flight at once. Stripe does not publish the
  number; the sandbox uses 20 by default (the figure of Stripe's engineering blog on its
  concurrent-requests limiter), configurable;
- a **latency that grows with the response**: ``base_latency`` plus ``latency_per_kb`` for each
  KiB sent, so an expanded page of 100 customers costs far more than one retrieve.

Two more of Stripe's limiters, off unless asked for (Stripe publishes neither number):

- ``endpoint_concurrency``: requests of one account in flight at once **on one endpoint**
  (``{"GET /v1/sources/{id}": 4}``);
- ``resource_limits``: requests per second **on one object** of an endpoint (the id in the
  path: ``{"POST /v1/sources/{id}": 2}``), as Stripe limits updates of one PaymentIntent.

And the **read request allocation** (toolkit.sandbox.read_allocation): reads over 30 days, per
allocation and mode, counted always and refused past ``read_allocation`` when one is set.

Over a limit the answer is Stripe's 429 (``code: rate_limit``) with a
``Stripe-Rate-Limited-Reason`` header naming the limiter, one of Stripe's five:
``global-concurrency``, ``endpoint-concurrency``, ``global-rate``, ``endpoint-rate`` or
``resource-specific``. Buckets hold one second's worth of requests (the burst Stripe allows is
not published: this is the plausible choice).

>>> limits = Limits.profile("test")
>>> ticket = limits.admit(None, False, "GET /v1/customers")
>>> ticket.release(); limits.latency(0) == limits.base_latency
True
>>> hot = Limits(resource_limits={"POST /v1/sources/{id}": 1})
>>> _ = hot.admit(None, False, "POST /v1/sources/{id}", "src_1")
>>> try:
...     hot.admit(None, False, "POST /v1/sources/{id}", "src_1")
... except ApiError as exc:
...     exc.status, exc.headers["Stripe-Rate-Limited-Reason"]
(429, 'resource-specific')
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.read_allocation import ReadAllocation

__all__ = [
    "DEFAULT_CONCURRENCY",
    "ENDPOINT_RATE",
    "GLOBAL_RATES",
    "PROFILES",
    "Limits",
    "Ticket",
    "limited",
]

#: Requests per second per account, by profile.
GLOBAL_RATES = {"live": 100.0, "test": 25.0}
#: The profiles :meth:`Limits.profile` knows (None and "off": no limiter).
PROFILES = ("auto", "live", "test", "off")
#: The default limit of each endpoint (requests per second).
ENDPOINT_RATE = 25.0
#: Requests of one account in flight at once (Stripe does not publish it).
DEFAULT_CONCURRENCY = 20
Scope = tuple[str | None, bool]


def limited(reason: str) -> ApiError:
    """Stripe's 429 for a limiter, with the header that names it."""
    error = ApiError(
        429,
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
        saved=False,
    )
    error.headers["Stripe-Rate-Limited-Reason"] = reason
    return error


class _Bucket:
    """A token bucket: ``rate`` tokens a second, at most ``rate`` (one second) held."""

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.stamp = now

    def take(self, now: float) -> bool:
        # ``now`` may predate the stamp by a hair (taken before the lock): never a debt
        self.tokens = min(self.rate, self.tokens + max(0.0, now - self.stamp) * self.rate)
        self.stamp = max(self.stamp, now)
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


@dataclass
class Ticket:
    """An admitted request: release it when its answer has been sent."""

    limits: Limits | None
    scope: Scope
    endpoint: str | None = None

    def release(self) -> None:
        if self.limits is not None:
            self.limits.release(self.scope, self.endpoint)
            self.limits = None


@dataclass
class Limits:
    """The limiters of every account the sandbox serves (one set per account and mode)."""

    global_rate: float | None = None
    live_global_rate: float | None = None
    endpoint_rate: float | None = None
    endpoint_limits: Mapping[str, float] = field(default_factory=dict)
    concurrency: int | None = None
    base_latency: float = 0.0
    latency_per_kb: float = 0.0
    endpoint_concurrency: Mapping[str, int] = field(default_factory=dict)
    resource_limits: Mapping[str, float] = field(default_factory=dict)
    reads: ReadAllocation = field(default_factory=lambda: ReadAllocation(None))
    #: the limiters' time in seconds (tests freeze it to count one second's bucket exactly)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._global: dict[Scope, _Bucket] = {}
        self._endpoints: dict[tuple[Scope, str], _Bucket] = {}
        self._resources: dict[tuple[Scope, str, str], _Bucket] = {}
        self._inflight: dict[Scope, int] = {}
        self._endpoint_inflight: dict[tuple[Scope, str], int] = {}

    @classmethod
    def profile(
        cls,
        name: str | None,
        *,
        endpoint_limits: Mapping[str, float] | None = None,
        concurrency: int | None = DEFAULT_CONCURRENCY,
        base_latency: float = 0.03,
        latency_per_kb: float = 0.00025,
        endpoint_concurrency: Mapping[str, int] | None = None,
        resource_limits: Mapping[str, float] | None = None,
    ) -> Limits:
        """``"auto"``, ``"live"``, ``"test"`` or None / ``"off"`` (no limits, no latency model);
        ``endpoint_concurrency`` and ``resource_limits`` apply whatever the profile."""
        extra = {
            "endpoint_concurrency": dict(endpoint_concurrency or {}),
            "resource_limits": dict(resource_limits or {}),
        }
        if name is None or name == "off":
            return cls(**extra)  # type: ignore[arg-type]
        if name not in PROFILES:
            raise ValueError(f"limits must be one of {', '.join(PROFILES)} or None, not {name!r}")
        test_rate = GLOBAL_RATES["live" if name == "live" else "test"]
        live_rate = GLOBAL_RATES["test" if name == "test" else "live"]
        return cls(
            global_rate=test_rate,
            live_global_rate=live_rate,
            endpoint_rate=ENDPOINT_RATE,
            endpoint_limits=dict(endpoint_limits or {}),
            concurrency=concurrency,
            base_latency=base_latency,
            latency_per_kb=latency_per_kb,
            **extra,  # type: ignore[arg-type]
        )

    @property
    def on(self) -> bool:
        """True when any limiter or the latency model applies."""
        return (
            self.global_rate is not None
            or self.live_global_rate is not None
            or self.endpoint_rate is not None
            or bool(self.endpoint_limits)
            or self.concurrency is not None
            or bool(self.endpoint_concurrency or self.resource_limits)
            or bool(self.base_latency or self.latency_per_kb)
        )

    def global_rate_of(self, livemode: bool) -> float | None:
        """The global limit of a mode (requests/s), or None when unlimited."""
        if livemode and self.live_global_rate is not None:
            return self.live_global_rate
        return self.global_rate

    def rate_of(self, endpoint: str) -> float | None:
        """The limit of one endpoint (requests/s), or None when unlimited."""
        return self.endpoint_limits.get(endpoint, self.endpoint_rate)

    def admit(
        self, account: str | None, livemode: bool, endpoint: str, resource: str | None = None
    ) -> Ticket:
        """Admit one request (on object ``resource``, the id in its path, if any) or raise
        Stripe's 429 naming the limiter that refused it. A read admitted is counted against the
        read allocation, after every other limiter let it through."""
        read = endpoint.startswith("GET ")
        if not self.on:
            if read:
                self.reads.admit(account, livemode)
            return Ticket(None, (account, livemode))
        scope = (account, livemode)
        now = self.clock()
        with self._lock:
            if self.concurrency is not None and self._inflight.get(scope, 0) >= self.concurrency:
                raise limited("global-concurrency")
            cap = self.endpoint_concurrency.get(endpoint)
            if cap is not None and self._endpoint_inflight.get((scope, endpoint), 0) >= cap:
                raise limited("endpoint-concurrency")
            global_rate = self.global_rate_of(livemode)
            if global_rate is not None:
                bucket = self._global.setdefault(scope, _Bucket(global_rate, now))
                if not bucket.take(now):
                    raise limited("global-rate")
            rate = self.rate_of(endpoint)
            if rate is not None:
                bucket = self._endpoints.setdefault((scope, endpoint), _Bucket(rate, now))
                if not bucket.take(now):
                    raise limited("endpoint-rate")
            per_object = self.resource_limits.get(endpoint)
            if per_object is not None and resource is not None:
                key = (scope, endpoint, resource)
                if not self._resources.setdefault(key, _Bucket(per_object, now)).take(now):
                    raise limited("resource-specific")
            if read:
                self.reads.admit(account, livemode)
            self._inflight[scope] = self._inflight.get(scope, 0) + 1
            where = (scope, endpoint)
            self._endpoint_inflight[where] = self._endpoint_inflight.get(where, 0) + 1
        return Ticket(self, scope, endpoint)

    def release(self, scope: Scope, endpoint: str | None = None) -> None:
        """One request of ``scope`` (on ``endpoint``) is answered."""
        with self._lock:
            self._inflight[scope] = max(0, self._inflight.get(scope, 0) - 1)
            if endpoint is not None:
                where = (scope, endpoint)
                self._endpoint_inflight[where] = max(0, self._endpoint_inflight.get(where, 0) - 1)

    def latency(self, size: int) -> float:
        """Seconds an answer of ``size`` bytes takes."""
        return self.base_latency + self.latency_per_kb * (size / 1024)
