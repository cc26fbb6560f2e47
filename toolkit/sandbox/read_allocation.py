"""Stripe's read request allocation as the sandbox models it (docs.stripe.com/rate-limits, "API
read request allocations"): an account's reads (GET requests) over a rolling 30 days must not
exceed 500 per transaction, at least 10,000 a month; a Connect platform's reads on behalf of its
connected accounts draw on a separate allocation; writes are not counted.

``Sandbox(read_allocation=N)`` (``python -m toolkit sandbox --read-allocation N``) gives each
allocation N reads: the platform's own reads, and apart from them its reads on behalf of all its
connected accounts (``Stripe-Account``: one allocation for all of them, as Stripe reckons it
from their aggregate transactions), in each mode. A sandbox lives for less than 30 days, so every
read it admitted counts; a read another limiter refused (a 429) is not admitted and not counted.
Without ``read_allocation`` reads are counted (:meth:`ReadAllocation.used`) but never refused.

Past the allocation a read answers what Stripe plausibly would. Stripe's docs name no error for
it, so the sandbox chooses: HTTP 429 ``rate_limit`` (Stripe's code for its limiters) with a
message that names the read request allocation, ``Stripe-Rate-Limited-Reason: read-allocation``
(a reason of its own beside Stripe's five) and ``Stripe-Should-Retry: false`` (reads are
counted over 30 days: a retry within seconds cannot help).

>>> reads = ReadAllocation(2)
>>> reads.admit(None, False); reads.admit(None, False)
>>> try:
...     reads.admit(None, False)
... except ApiError as exc:
...     exc.status, exc.code, exc.headers["Stripe-Should-Retry"]
(429, 'rate_limit', 'false')
>>> reads.admit("acct_1", False)            # the platform's reads for connected accounts: apart
>>> reads.used(None, False), reads.used("acct_2", False)
(2, 1)
"""

from __future__ import annotations

import threading
from collections import Counter

from toolkit.sandbox.errors import ApiError

__all__ = ["READ_ALLOCATION_REASON", "ReadAllocation", "allocation_spent"]

#: The ``Stripe-Rate-Limited-Reason`` of a read past the allocation (the sandbox's choice).
READ_ALLOCATION_REASON = "read-allocation"


def allocation_spent(allocation: int, connected: bool) -> ApiError:
    """The 429 for a read past the read request allocation."""
    whose = "on behalf of connected accounts " if connected else ""
    error = ApiError(
        429,
        f"This account has used its read request allocation: {allocation:,} read (GET) "
        f"requests {whose}in the last 30 days. Stripe allows an average of 500 read requests per "
        "transaction over a rolling 30 days, at least 10,000 a month; write requests are not "
        "limited. Learn more: https://docs.stripe.com/rate-limits#api-read-request-allocations",
        code="rate_limit",
        saved=False,
    )
    error.headers["Stripe-Rate-Limited-Reason"] = READ_ALLOCATION_REASON
    error.headers["Stripe-Should-Retry"] = "false"
    return error


class ReadAllocation:
    """Reads counted per allocation (own or connected) and mode; at most ``allocation`` each
    (None: counted, never refused)."""

    def __init__(self, allocation: int | None) -> None:
        if allocation is not None and (isinstance(allocation, bool) or allocation < 0):
            raise ValueError(f"read_allocation must be a whole number >= 0, not {allocation!r}")
        self.allocation = allocation
        self._lock = threading.Lock()
        self._reads: Counter[tuple[bool, bool]] = Counter()  # (connected, livemode) -> reads

    def admit(self, account: str | None, livemode: bool) -> None:
        """Count one read of ``account`` (None: the platform's own) or raise the 429."""
        key = (account is not None, bool(livemode))
        with self._lock:
            if self.allocation is not None and self._reads[key] >= self.allocation:
                raise allocation_spent(self.allocation, key[0])
            self._reads[key] += 1

    def used(self, account: str | None = None, livemode: bool = False) -> int:
        """Reads admitted of the allocation ``account`` draws on (None: the platform's own)."""
        with self._lock:
            return self._reads[(account is not None, bool(livemode))]

    def reset(self) -> None:
        """Forget every read."""
        with self._lock:
            self._reads.clear()
