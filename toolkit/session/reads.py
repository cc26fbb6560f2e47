"""Reads as a cost: every GET a session sends is counted as it leaves, held to the account's read
allowance, and kept in the read ledger (:mod:`toolkit.session.read_ledger`).

Stripe's rule (docs.stripe.com/rate-limits, "API read request allocations"): "Your account's read
API requests must not exceed an average of 500 per transaction", over "a rolling 30-day period";
"Every account, regardless of transaction count, has a minimum allocation of 10,000 read requests
per month"; "Connect platforms use a separate allocation to make read requests on behalf of their
connected accounts"; "Write API requests have no allocation limit." An account retiring Sources
often has few transactions, so it lives on the 10,000 floor.

How the toolkit models it:

- a session's reads draw on its key's ``own`` allocation; a session acting for a connected
  account (``Stripe-Account``) draws on the platform's ``connected`` allocation, one for all its
  connected accounts (Stripe reckons it "based on the aggregate transaction count across its
  connected accounts"); the allowance applies to each allocation apart;
- ``connect(read_allowance=N)`` is the limit over 30 days. Default: 10,000 for a live key
  (Stripe's floor: raise it to what your transactions earn), none for a test key and for the
  sandbox (Stripe reckons allocations from transactions and its docs say nothing of test mode:
  test reads are counted and shown, not limited, unless you set a limit);
- an operation whose cost is known (a load of ids costs one read each; what the same operation
  cost last time, from the ledger) is refused before it sends anything when it would pass the
  allowance; any other stops at the limit, and no read past it is ever sent;
- Stripe's own refusal (a 429 that names the read allocation) is final: it is not retried, and
  the session sends no more reads of that allocation.

Operations read through a meter: ``with session.reading("apply", cost=n) as meter: ...`` then
``meter.reads`` is what they sent (every GET of the session, and of its connected-account
sessions, while the meter is open, retries included).

>>> with session.reading("an example") as meter:
...     _ = session.retrieve_source(sources.id[0])
>>> meter.reads
1
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from toolkit.errors import ReadAllowanceError
from toolkit.session.read_ledger import Allocation, ReadLedger

__all__ = [
    "APPLY_ADVICE",
    "CONNECTED",
    "FLUSH_EVERY",
    "LIVE_FLOOR",
    "LOAD_ADVICE",
    "OWN",
    "ReadBook",
    "ReadMeter",
    "allocation_of",
    "default_allowance",
    "reads_text",
]

#: Stripe's minimum allocation: 10,000 reads a month, whatever the transactions.
LIVE_FLOOR = 10_000
OWN, CONNECTED = "own", "connected"
#: Reads counted in memory before they are written to the ledger (also at each operation's end).
FLUSH_EVERY = 100
LOAD_ADVICE = (
    "Cheaper paths: toolkit.refresh(snapshot, session) reads only what changed since a load; "
    "customers=[...] or ids=[...] read only those; a narrower created=(start, end) reads fewer "
    "customers."
)
APPLY_ADVICE = (
    "Cheaper paths: apply a smaller plan (a few rows at a time), or make the plan from a "
    "whole-account load so that apply re-reads sources by listing instead of one by one."
)
_RAISE = (
    "If Stripe allows this account more (an average of 500 reads per transaction over 30 days, "
    "at least 10,000), raise the limit: toolkit.connect(..., read_allowance=N)."
)

_STRIPE_SAID = (
    "Reads older than 30 days stop counting; Stripe Support can tell you the account's "
    "allocation (and set connect(read_allowance=N) below it so that the toolkit stops first)."
)


def default_allowance(mode: str) -> int | None:
    """The read allowance of a mode when none is given: Stripe's floor for a live key.

    >>> default_allowance("live"), default_allowance("test"), default_allowance("sandbox")
    (10000, None, None)
    """
    return LIVE_FLOOR if mode == "live" else None


def reads_text(reads: int, standing: str) -> str:
    """``"1,216 reads (this account: 4,830 in 30 days)"``: the one way reads are said.

    >>> reads_text(1, "this account: 1 in 30 days")
    '1 read (this account: 1 in 30 days)'
    """
    return f"{reads:,} read{'' if reads == 1 else 's'} ({standing})"


def allocation_of(headers: Mapping[str, str] | None) -> tuple[str, str | None]:
    """The allocation a request draws on, from its headers: the platform's ``connected`` one
    (and the account) with ``Stripe-Account``, else ``own``.

    >>> allocation_of({"Stripe-Account": "acct_1"}), allocation_of({})
    (('connected', 'acct_1'), ('own', None))
    """
    for name, value in (headers or {}).items():
        if str(name).lower() == "stripe-account" and value:
            return CONNECTED, str(value)
    return OWN, None


class ReadMeter:
    """The reads one operation sent: ``meter.reads``; ``meter.describe()`` for a summary."""

    def __init__(
        self,
        book: ReadBook,
        origin: int,
        allocation: str,
        operation: str | None,
        advice: str = LOAD_ADVICE,
    ) -> None:
        self.book = book
        self.origin = origin
        self.operation = operation
        self.advice = advice
        self.opened_on = allocation
        self.reads = 0
        self.allocations: Counter[str] = Counter()

    @property
    def allocation(self) -> str:
        """The allocation most of its reads drew on (the session's own before any)."""
        top = self.allocations.most_common(1)
        return top[0][0] if top else self.opened_on

    def describe(self) -> str:
        """``"1,216 reads (this account: 4,830 in 30 days)"``."""
        return reads_text(self.reads, self.book.standing(self.allocation))

    def __repr__(self) -> str:
        return f"<ReadMeter {self.operation or 'reads'}: {self.describe()}>"


class ReadBook:
    """The reads of one key and mode (shared by a session and its connected-account sessions):
    counted as they leave, held to ``allowance`` per allocation, written to ``ledger``."""

    def __init__(
        self, ledger: ReadLedger, key: str, mode: str, allowance: int | None, label: str
    ) -> None:
        self.ledger = ledger
        self.key = key
        self.mode = mode
        self.allowance = allowance
        self.label = label
        self.sent = 0  # every GET sent through this book
        self._lock = threading.Lock()
        self._base: dict[str, int] = {}  # allocation -> reads in the ledger when last looked
        self._pending: Counter[tuple[str, str | None]] = Counter()
        self._meters: list[ReadMeter] = []
        self._refused: dict[str, str] = {}  # allocation -> Stripe's refusal

    # -- where things stand -------------------------------------------------------------------
    def where(self, allocation: str) -> Allocation:
        """The ledger's key for ``allocation`` of this book."""
        return Allocation(self.key, self.mode, allocation)

    def _used(self, allocation: str) -> int:
        if allocation not in self._base:
            self._base[allocation] = self.ledger.used(self.where(allocation))
        pending = sum(n for (a, _), n in self._pending.items() if a == allocation)
        return self._base[allocation] + pending

    def used(self, allocation: str = OWN) -> int:
        """Reads of ``allocation`` in the last 30 days, those not yet in the ledger included."""
        with self._lock:
            return self._used(allocation)

    def whose(self, allocation: str) -> str:
        """Whose reads ``allocation`` counts, for messages."""
        if allocation == CONNECTED:
            return f"the platform's reads for its connected accounts ({self.mode} mode)"
        return f"this account ({self.label})"

    def standing(self, allocation: str = OWN) -> str:
        """``"this account: 4,830 of 10,000 in 30 days"``."""
        used = self.used(allocation)
        name = "connected accounts" if allocation == CONNECTED else "this account"
        limit = f" of {self.allowance:,}" if self.allowance is not None else ""
        return f"{name}: {used:,}{limit} in 30 days"

    def sync(self) -> None:
        """Read the ledger again (other processes add to it) and write what is pending."""
        with self._lock:
            self._flush()
            self.ledger.reload()
            self._base.clear()

    def flush(self) -> None:
        """Write the reads not yet in the ledger."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        for (allocation, account), n in sorted(self._pending.items(), key=str):
            self.ledger.add(self.where(allocation), n, account)
            self._base[allocation] = self._base.get(allocation, 0) + n
        self._pending.clear()

    # -- a read leaving -----------------------------------------------------------------------
    def spend(self, lineage: tuple[int, ...], allocation: str, account: str | None) -> None:
        """Count one read about to be sent by the session of ``lineage``; raise
        :class:`ReadAllowanceError` instead when it would pass the allowance (nothing is sent)."""
        with self._lock:
            meters = [m for m in self._meters if m.origin in lineage]
            if allocation in self._refused:
                raise self._stopped(allocation, meters, self._refused[allocation])
            if self.allowance is not None and self._used(allocation) >= self.allowance:
                raise self._stopped(allocation, meters, None)
            self._pending[(allocation, account)] += 1
            self.sent += 1
            for meter in meters:
                meter.reads += 1
                meter.allocations[allocation] += 1
            if sum(self._pending.values()) >= FLUSH_EVERY:
                self._flush()

    def _stopped(
        self, allocation: str, meters: list[ReadMeter], stripe_said: str | None
    ) -> ReadAllowanceError:
        meter = meters[-1] if meters else None
        what = (meter.operation if meter is not None else None) or "This work"
        sent = meter.reads if meter is not None else 0
        used = self._used(allocation)
        if stripe_said is not None:
            head = (
                f"Stripe refused a read for the read request allocation of "
                f"{self.whose(allocation)} ({stripe_said}), so no more reads are sent: retrying "
                "soon does not help, Stripe counts reads over 30 days."
            )
        else:
            head = (
                f"Stopped at the read allowance: {self.whose(allocation)} has sent {used:,} of "
                f"its {self.allowance:,} reads in the last 30 days, so no more are sent."
            )
        advice = meter.advice if meter is not None else LOAD_ADVICE
        tail = _RAISE if stripe_said is None else _STRIPE_SAID
        return ReadAllowanceError(
            f"{head} {_capital(what)} had sent {sent:,} read{'' if sent == 1 else 's'}. "
            f"{advice} {tail}",
            operation=meter.operation if meter is not None else None,
            reads=sent,
            used=used,
            allowance=self.allowance,
            status=429 if stripe_said is not None else None,
            stripe_message=stripe_said,
        )

    def refused_by_stripe(
        self, lineage: tuple[int, ...], allocation: str, message: str, request_id: str | None
    ) -> ReadAllowanceError:
        """Stripe's 429 for the read allocation: no more reads of ``allocation`` leave."""
        with self._lock:
            self._refused[allocation] = message
            meters = [m for m in self._meters if m.origin in lineage]
            error = self._stopped(allocation, meters, message)
        error.request_id = request_id
        return error

    # -- operations ---------------------------------------------------------------------------
    @contextmanager
    def metering(
        self,
        origin: int,
        allocation: str,
        operation: str | None,
        cost: int | None,
        advice: str,
    ) -> Iterator[ReadMeter]:
        """A meter over one operation (see :meth:`toolkit.Session.reading`)."""
        self.sync()
        where = self.where(allocation)
        last = cost is None and operation is not None
        if last:
            cost = self.ledger.last_cost(where, str(operation))
        self._check(allocation, operation, cost, last, advice)
        meter = ReadMeter(self, origin, allocation, operation, advice)
        with self._lock:
            self._meters.append(meter)
        finished = False
        try:
            yield meter
            finished = True
        finally:
            with self._lock:
                self._meters.remove(meter)
                self._flush()
                if finished and operation is not None and meter.reads:
                    self.ledger.add_cost(self.where(meter.allocation), operation, meter.reads)

    def _check(
        self, allocation: str, operation: str | None, cost: int | None, last: bool, advice: str
    ) -> None:
        """Refuse an operation whose known ``cost`` would pass the allowance."""
        if self.allowance is None or not cost:
            return
        used = self.used(allocation)
        if used + cost <= self.allowance:
            return
        left = max(0, self.allowance - used)
        basis = " (what it cost the last time it ran)" if last else ""
        raise ReadAllowanceError(
            f"{_capital(operation or 'this work')} would cost about {cost:,} reads{basis}, and "
            f"{self.whose(allocation)} has {left:,} left of its read allowance of "
            f"{self.allowance:,} in 30 days ({used:,} sent): nothing was sent. {advice} {_RAISE}",
            operation=operation,
            cost=cost,
            used=used,
            allowance=self.allowance,
        )


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
