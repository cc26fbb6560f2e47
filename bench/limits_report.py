"""What Stripe's limits allow for the requests a benchmark made, from the server's request log.

For the requests that reached the server (429s included: Stripe counts them against the limits
too), the least time the limits allow is the larger of each endpoint's requests / its limit and
all requests / the global limit (each limiter's admissions), plus, when the run's latency model
is given (``latency=(base seconds, seconds per KiB)``), one round trip of a customer page at its
size (the median ``GET /v1/customers`` answer): continuations and writes can only start after
one. Peaks are the most requests that arrived in any 1-second window, per endpoint and overall,
measured from the server's arrival times.

Given the run's start (``start``, epoch seconds like the log's), :meth:`LimitsReport.phases`
splits the wall time at the binding limiter (the one whose admissions set the bound): the
start (until its first request arrived; least: a page's round trip), the body (its first to its
last request; least: (n - 1) / rate) and the tail (its last request to the end; least: that
request's own answer); :meth:`LimitsReport.busy_lines` prints, per endpoint, the share of each
second of the run its limit was used.

>>> log = [{"method": "POST", "path": f"/v1/sources/src_{i}", "status": 200, "time": i / 25}
...        for i in range(50)]
>>> r = LimitsReport.of(log, wall=2.1, global_rate=100, endpoint_rate=25, budget=1.0)
>>> round(r.bound, 2), r.refused, r.peak_endpoint["POST /v1/sources/{id}"]
(2.0, 0, 25)
"""

from __future__ import annotations

import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toolkit.session.endpoints import endpoint_of


def peak_in_window(times: list[float], window: float = 1.0) -> int:
    """The most of ``times`` (seconds) inside any half-open window of ``window`` seconds.

    >>> peak_in_window([0.0, 0.5, 0.99, 1.0, 1.5])
    3
    """
    times = sorted(times)
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window - 1e-9:  # float noise: 1.04 - 0.04 < 1.0
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class LimitsReport:
    """Requests per endpoint, refusals and peaks of one timed run against its limits."""

    wall: float
    global_rate: float
    endpoint_rate: float
    budget: float
    endpoints: dict[str, float] = field(default_factory=dict)
    requests: int = 0
    refused: int = 0
    by_endpoint: Counter[str] = field(default_factory=Counter)
    refused_by_reason: Counter[str] = field(default_factory=Counter)
    peak_endpoint: dict[str, int] = field(default_factory=dict)
    peak_global: int = 0
    latency: tuple[float, float] | None = None
    start: float | None = None
    arrivals: dict[str, list[tuple[float, float, int]]] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        log: Iterable[Mapping[str, Any]],
        *,
        wall: float,
        global_rate: float,
        endpoint_rate: float,
        budget: float,
        endpoints: Mapping[str, float] | None = None,
        latency: tuple[float, float] | None = None,
        start: float | None = None,
    ) -> LimitsReport:
        """The report of a run from its log entries (``method``, ``path``, ``status``, ``time``;
        ``size`` and ``seconds`` when the server logged them)."""
        report = cls(wall, global_rate, endpoint_rate, budget, dict(endpoints or {}))
        report.latency, report.start = latency, start
        arrivals: dict[str, list[float]] = defaultdict(list)
        detail: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
        every: list[float] = []
        for entry in log:
            endpoint = endpoint_of(entry["method"], entry["path"])
            report.requests += 1
            report.by_endpoint[endpoint] += 1
            if entry["status"] == 429:
                report.refused += 1
                report.refused_by_reason[entry.get("limited") or entry.get("fault") or "?"] += 1
            arrivals[endpoint].append(entry["time"])
            every.append(entry["time"])
            detail[endpoint].append(
                (entry["time"], entry.get("seconds", 0.0), entry.get("size", 0) or 0)
            )
        report.arrivals = {e: sorted(d) for e, d in detail.items()}
        report.peak_endpoint = {e: peak_in_window(t) for e, t in arrivals.items()}
        report.peak_global = peak_in_window(every)
        return report

    def rate_of(self, endpoint: str) -> float:
        """An endpoint's limit (requests/s)."""
        return self.endpoints.get(endpoint, self.endpoint_rate)

    @property
    def admissions(self) -> float:
        """The least seconds each limiter needs to admit these requests (the largest)."""
        per_endpoint = max((n / self.rate_of(e) for e, n in self.by_endpoint.items()), default=0)
        return max(per_endpoint, self.requests / self.global_rate)

    def answer_time(self, size: int) -> float:
        """Seconds the latency model takes to answer ``size`` bytes (0 without a model)."""
        if self.latency is None:
            return 0.0
        base, per_kb = self.latency
        return base + per_kb * size / 1024

    @property
    def round_trip(self) -> float:
        """One customer page's round trip at its size (the median page's), by the latency
        model; 0 without one or without customer pages."""
        sizes = sorted(size for _, _, size in self.arrivals.get("GET /v1/customers", []) if size)
        return self.answer_time(sizes[len(sizes) // 2]) if sizes else 0.0

    @property
    def bound(self) -> float:
        """The least seconds Stripe's limits allow for these requests: each limiter's
        admissions, plus a customer page's round trip (nothing else can start before one)."""
        return self.admissions + self.round_trip

    @property
    def binding(self) -> tuple[str, float]:
        """The limiter whose admissions set the bound: (endpoint or "all endpoints", rate)."""
        name, rate = "all endpoints", self.global_rate
        worst = self.requests / self.global_rate
        for endpoint, n in self.by_endpoint.items():
            if n / self.rate_of(endpoint) > worst + 1e-9:
                name, rate, worst = endpoint, self.rate_of(endpoint), n / self.rate_of(endpoint)
        return name, rate

    def phases(self) -> list[tuple[str, float, float]]:
        """(phase, wall seconds, least seconds) for the start, the body and the tail of the run
        at its binding limiter (empty without ``start``)."""
        if self.start is None or not self.requests:
            return []
        name, rate = self.binding
        if name == "all endpoints":
            times = sorted(t for d in self.arrivals.values() for t in d)
        else:
            times = self.arrivals[name]
        first, last = times[0], times[-1]
        end = self.start + self.wall
        body_least = (len(times) - 1) / rate
        return [
            ("start", first[0] - self.start, self.round_trip),
            ("body", last[0] - first[0], body_least),
            ("tail", end - last[0], self.answer_time(last[2])),
        ]

    def busy_lines(self, width: int = 30) -> list[str]:
        """Per endpoint, the share of each second of the run its limit was used (%), the
        seconds in rows of ``width``."""
        if self.start is None:
            return []
        seconds = max(1, math.ceil(self.wall))
        out = []
        for endpoint, _n in self.by_endpoint.most_common():
            counts = [0] * seconds
            for t, _, _ in self.arrivals[endpoint]:
                k = int(t - self.start)
                if 0 <= k < seconds:
                    counts[k] += 1
            rate = self.rate_of(endpoint)
            shares = [min(999, round(100 * c / rate)) for c in counts]
            full = sum(1 for s in shares if s >= 90)
            out.append(
                f"  {endpoint}: busy share of each second (%), {full} of {seconds} seconds >= 90%"
            )
            for i in range(0, seconds, width):
                out.append("    " + " ".join(f"{s:>3}" for s in shares[i : i + width]))
        return out

    @property
    def ratio(self) -> float:
        """Wall time over the least time the limits allow."""
        return self.wall / self.bound if self.bound else float("inf")

    @property
    def refused_share(self) -> float:
        """The share of requests answered 429."""
        return self.refused / self.requests if self.requests else 0.0

    def within_budget(self) -> bool:
        """No endpoint and no global 1-second window above budget x limit."""
        over_endpoint = any(
            peak > self.budget * self.rate_of(e) for e, peak in self.peak_endpoint.items()
        )
        return not over_endpoint and self.peak_global <= self.budget * self.global_rate

    def lines(self) -> list[str]:
        """Human-readable lines: requests by endpoint, bound and ratio, refusals, peaks."""
        out = []
        for endpoint, n in self.by_endpoint.most_common():
            out.append(
                f"  {endpoint:<44} {n:>6,} requests, peak {self.peak_endpoint[endpoint]:>3} in 1 s "
                f"(limit {self.rate_of(endpoint):g}/s x budget {self.budget:g} = "
                f"{self.rate_of(endpoint) * self.budget:g})"
            )
        out.append(
            f"  {'all endpoints':<44} {self.requests:>6,} requests, peak {self.peak_global:>3} in "
            f"1 s (limit {self.global_rate:g}/s x budget {self.budget:g} = "
            f"{self.global_rate * self.budget:g})"
        )
        if self.round_trip:
            out.append(
                f"least time: admissions {self.admissions:.2f} s ({self.binding[0]}) + a customer "
                f"page's round trip {self.round_trip:.2f} s"
            )
        for phase, wall, least in self.phases():
            ratio = f"{wall / least:.2f}x" if least > 0 else "-"
            out.append(f"  phase {phase:<6} wall {wall:7.2f} s, least {least:7.2f} s, {ratio}")
        out.append(
            f"wall {self.wall:.2f} s / least time the limits allow {self.bound:.2f} s = "
            f"{self.ratio:.3f}x"
            + (
                f"; over the least time within the budget ({self.bound / self.budget:.2f} s): "
                f"{self.ratio * self.budget:.3f}x"
                if self.budget != 1
                else ""
            )
        )
        reasons = ", ".join(f"{n} {r}" for r, n in self.refused_by_reason.most_common())
        out.append(
            f"refused (429): {self.refused:,} of {self.requests:,} = {self.refused_share:.2%}"
            + (f" ({reasons})" if reasons else "")
        )
        return out

    def state_goals(self, measure: str) -> None:
        """At budget 1, the run's wall / least time and share refused as ``goals.goal`` lines
        (what ``bench/all.py`` gathers); below 1, that no window went above budget x limits."""
        from goals import goal

        if self.budget == 1.0:
            goal(f"{measure}: wall / least time", self.ratio, "<= 1.10")
            goal(f"{measure}: refused (%)", self.refused_share * 100, "<= 0.5")
        else:
            windows = 0.0 if self.within_budget() else 1.0
            goal(f"{measure} at budget {self.budget:g}: windows over its limits", windows, "<= 0")

    def goals(self) -> tuple[bool, list[str]]:
        """Issue 12's goals for this run, met or not, with one line each.

        With budget 1: wall <= 1.10x the bound and at most 0.5% refused (Stripe's own limiter
        judges a window there); below 1: no 1-second window above budget x limit.
        """
        if self.budget == 1.0:
            met = self.ratio <= 1.10 and self.refused_share <= 0.005
            line = (
                f"goal (budget 1): wall <= 1.10x bound and refused <= 0.5%: "
                f"{self.ratio:.3f}x, {self.refused_share:.2%}"
            )
        else:
            met = self.within_budget()
            line = f"goal (budget {self.budget:g}): no 1-second window above budget x limit"
        return met, [f"{line}: {'PASS' if met else 'FAIL'}"]
