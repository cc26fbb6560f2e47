"""The windows an export walks the customers in: months of their ``created``, from about when
the oldest customer was created (found with a few one-row probes) to now.

>>> month_windows(None, 1793000000)
[(None, None)]
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from toolkit.session.protocol import SessionLike

__all__ = ["month_windows", "oldest_created"]


def month_windows(oldest: int | None, now: int) -> list[tuple[int | None, int | None]]:
    """``created`` windows of customers: everything before ``oldest``'s month, each month up to
    ``now``'s, then everything after.

    >>> month_windows(1790812800, 1793000000)  # 2026-10-01 .. 2026-10-26
    [(None, 1790812800), (1790812800, 1793491200), (1793491200, None)]
    """
    if oldest is None:
        return [(None, None)]
    start = datetime.fromtimestamp(oldest, tz=UTC).replace(day=1, hour=0, minute=0, second=0)
    bounds = [int(start.timestamp())]
    while bounds[-1] <= now:
        month = datetime.fromtimestamp(bounds[-1], tz=UTC)
        nxt = month.replace(year=month.year + (month.month == 12), month=month.month % 12 + 1)
        bounds.append(int(nxt.timestamp()))
    windows: list[tuple[int | None, int | None]] = [(None, bounds[0])]
    windows += list(itertools.pairwise(bounds))
    windows.append((bounds[-1], None))
    return windows


def oldest_created(session: SessionLike, now: int) -> int | None:
    """About when the oldest customer was created (to the day), from one-row probes."""

    def any_before(t: int) -> bool:
        page = session.list_customers({"limit": 1, "created": {"lt": t}})
        return bool(page.get("data"))

    if not any_before(now + 1):
        return None
    lo, hi = 1_293_840_000, now + 1  # 2011-01-01 (before Stripe's first customers)
    if any_before(lo):
        return lo
    while hi - lo > 86_400:  # the oldest customer is in [lo, hi)
        mid = (lo + hi) // 2
        if any_before(mid):
            hi = mid
        else:
            lo = mid
    return lo
