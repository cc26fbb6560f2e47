"""What Stripe's limits allow for the requests a benchmark made, from the server's request log.

For the requests that reached the server (429s included: Stripe counts them against the limits
too), the least time the limits allow is the larger of each endpoint's requests / its limit and
all requests / the global limit. Peaks are the most requests that arrived in any 1-second window,
per endpoint and overall, measured from the server's arrival times.

>>> log = [{"method": "POST", "path": f"/v1/sources/src_{i}", "status": 200, "time": i / 25}
...        for i in range(50)]
>>> r = LimitsReport.of(log, wall=2.1, global_rate=100, endpoint_rate=25, budget=1.0)
>>> round(r.bound, 2), r.refused, r.peak_endpoint["POST /v1/sources/{id}"]
(2.0, 0, 25)
"""

from __future__ import annotations

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
    ) -> LimitsReport:
        """The report of a run from its log entries (``method``, ``path``, ``status``, ``time``)."""
        report = cls(wall, global_rate, endpoint_rate, budget, dict(endpoints or {}))
        arrivals: dict[str, list[float]] = defaultdict(list)
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
        report.peak_endpoint = {e: peak_in_window(t) for e, t in arrivals.items()}
        report.peak_global = peak_in_window(every)
        return report

    def rate_of(self, endpoint: str) -> float:
        """An endpoint's limit (requests/s)."""
        return self.endpoints.get(endpoint, self.endpoint_rate)

    @property
    def bound(self) -> float:
        """The least seconds Stripe's limits allow for these requests."""
        per_endpoint = max((n / self.rate_of(e) for e, n in self.by_endpoint.items()), default=0)
        return max(per_endpoint, self.requests / self.global_rate)

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
