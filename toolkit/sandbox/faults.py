"""Fault injection: latency (fixed plus jitter), a token-bucket rate limit (429), a share of 500s
and of dropped connections, each optionally limited to one method and/or a path regex.

Decisions draw from a seeded random.Random, so a run with the same requests in the same order
faults the same requests. Example::

    faults = Faults(seed=7)
    faults.configure(rate_limit=25, fault_path=r"^/v1/sources")
    decision = faults.decide("GET", "/v1/sources/src_1")  # Decision(delay=0.0, fault=None)
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

FAULT_FIELDS = (
    "latency",
    "jitter",
    "rate_limit",
    "error_rate",
    "drop_rate",
    "lost_reply_rate",
    "error_after_rate",
    "fault_method",
    "fault_path",
)


@dataclass(frozen=True)
class Decision:
    """What to do with one request: sleep ``delay`` seconds, then fault (or not).

    ``fault`` is None, "rate_limit" (429), "error" (500 before the endpoint ran: not saved under
    an idempotency key), "drop" (close without answering, the request not handled),
    "lost_reply" (the request is handled, then the connection closes without an answer: a write
    that lands while its caller never learns it) or "error_after" (the endpoint ran, then a 500:
    Stripe saves that 500 under the request's idempotency key and replays it).
    """

    delay: float
    fault: str | None


class Faults:
    """Thread-safe fault settings and the seeded decisions they make."""

    def __init__(self, seed: int = 7) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(f"{seed}:faults")
        self.latency = 0.0
        self.jitter = 0.0
        self.rate_limit: float | None = None
        self.error_rate = 0.0
        self.drop_rate = 0.0
        self.lost_reply_rate = 0.0
        self.error_after_rate = 0.0
        self.fault_method: str | None = None
        self.fault_path: str | None = None
        self._path_re: re.Pattern[str] | None = None
        self._tokens = 0.0
        self._stamp = time.monotonic()

    def configure(self, **settings: Any) -> None:
        """Change some settings (names as in FAULT_FIELDS); the others stay.

        Example: ``faults.configure(error_rate=0.2, fault_method="POST")``
        """
        unknown = set(settings) - set(FAULT_FIELDS)
        if unknown:
            raise TypeError(f"unknown fault setting(s): {', '.join(sorted(unknown))}")
        with self._lock:
            for name in (
                "latency",
                "jitter",
                "error_rate",
                "drop_rate",
                "lost_reply_rate",
                "error_after_rate",
            ):
                if name in settings:
                    value = float(settings[name] or 0.0)
                    if value < 0 or (name.endswith("_rate") and value > 1):
                        raise ValueError(f"{name} must be >= 0 (and <= 1 for a rate): {value}")
                    setattr(self, name, value)
            if "rate_limit" in settings:
                rate = settings["rate_limit"]
                if rate is not None and float(rate) <= 0:
                    raise ValueError(f"rate_limit must be > 0 requests/s or None: {rate}")
                self.rate_limit = None if rate is None else float(rate)
                self._tokens = self._capacity()
                self._stamp = time.monotonic()
            if "fault_method" in settings:
                method = settings["fault_method"]
                self.fault_method = method.upper() if method else None
            if "fault_path" in settings:
                path = settings["fault_path"] or None
                try:
                    self._path_re = re.compile(path) if path else None
                except re.error as exc:
                    raise ValueError(f"fault_path is not a valid regex: {path!r} ({exc})") from exc
                self.fault_path = path

    def off(self) -> None:
        """No faults at all."""
        self.configure(
            latency=0.0,
            jitter=0.0,
            rate_limit=None,
            error_rate=0.0,
            drop_rate=0.0,
            lost_reply_rate=0.0,
            error_after_rate=0.0,
            fault_method=None,
            fault_path=None,
        )

    def settings(self) -> dict[str, Any]:
        """The current settings as a dict."""
        with self._lock:
            return {name: getattr(self, name) for name in FAULT_FIELDS}

    def _capacity(self) -> float:
        # A bucket of one second's worth of requests (at least one).
        return max(1.0, self.rate_limit or 1.0)

    def applies(self, method: str, path: str) -> bool:
        """Whether the method/path scope covers this request."""
        if self.fault_method and method.upper() != self.fault_method:
            return False
        return not (self._path_re is not None and not self._path_re.search(path))

    def decide(self, method: str, path: str) -> Decision:
        """Draw the fate of one request (cheap when no fault is set)."""
        with self._lock:
            if (
                not self.latency
                and not self.jitter
                and self.rate_limit is None
                and not self.error_rate
                and not self.drop_rate
                and not self.lost_reply_rate
                and not self.error_after_rate
            ):
                return Decision(0.0, None)
            if not self.applies(method, path):
                return Decision(0.0, None)
            delay = self.latency + (self._rng.uniform(0, self.jitter) if self.jitter else 0.0)
            if self.rate_limit is not None:
                now = time.monotonic()
                self._tokens = min(
                    self._capacity(), self._tokens + (now - self._stamp) * self.rate_limit
                )
                self._stamp = now
                if self._tokens < 1.0:
                    return Decision(delay, "rate_limit")
                self._tokens -= 1.0
            if self.drop_rate and self._rng.random() < self.drop_rate:
                return Decision(delay, "drop")
            if self.error_rate and self._rng.random() < self.error_rate:
                return Decision(delay, "error")
            if self.lost_reply_rate and self._rng.random() < self.lost_reply_rate:
                return Decision(delay, "lost_reply")
            if self.error_after_rate and self._rng.random() < self.error_after_rate:
                return Decision(delay, "error_after")
            return Decision(delay, None)
