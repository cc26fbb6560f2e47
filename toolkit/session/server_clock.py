"""The server's time, as its answers' ``Date`` header tells it: what loads and reports are
stamped with.

A stamp is the server's time, not this machine's: a refresh asks Stripe for the events since a
load's stamp, and a laptop clock running ahead would miss some. Each answer's ``Date`` is kept as
it arrives (parsed only when asked); :meth:`ServerClock.now` gives the latest one while it is
fresh, else asks the server once (a bare ``HEAD``, no key: no read of any account), else falls
back to the last known time moved on by this machine's clock, else to this machine's clock.
Any server works the same way: Stripe, a proxy, the sandbox (whose clock stands still between
``advance_clock`` calls, so a sandbox run's stamps are reproducible).

>>> from email.utils import formatdate
>>> clock = ServerClock(ask=lambda: None)
>>> clock.saw(formatdate(1793491200, usegmt=True))
>>> clock.now().isoformat()
'2026-11-01T00:00:00+00:00'
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = ["ServerClock"]

#: A ``Date`` this recent (seconds, by this machine's clock) is the server's time now: the header
#: has whole seconds, so a load stamped with it is at most this much early, never late.
FRESH = 5.0
#: After the server could not say (no network), how long before it is asked again.
RETRY_AFTER = 60.0


class ServerClock:
    """The latest ``Date`` a server sent, and the way to ask it for one (``ask`` returns the
    header, or None when the server cannot be reached)."""

    def __init__(self, ask: Callable[[], str | None]) -> None:
        self._ask = ask
        self._latest: tuple[str, float] | None = None  # the header and when it arrived
        self._asked_in_vain = -RETRY_AFTER
        self._lock = threading.Lock()

    def saw(self, date: str | None) -> None:
        """Keep an answer's ``Date`` header (None: the answer had none)."""
        if date:
            self._latest = (date, time.monotonic())  # one assignment: safe across threads

    def now(self) -> datetime:
        """The server's time now (see the module's docstring for the order of the ways)."""
        latest = self._latest
        if latest is None or time.monotonic() - latest[1] > FRESH:
            with self._lock:
                if time.monotonic() - self._asked_in_vain > RETRY_AFTER:
                    answer = self._ask()
                    if answer:
                        self.saw(answer)
                    else:
                        self._asked_in_vain = time.monotonic()
            latest = self._latest
        if latest is None:
            return datetime.now(tz=UTC)
        date, arrived = latest
        try:
            told = parsedate_to_datetime(date)
        except (TypeError, ValueError):  # a server that sends no real date: this machine's
            return datetime.now(tz=UTC)
        told = told.replace(tzinfo=UTC) if told.tzinfo is None else told.astimezone(UTC)
        age = time.monotonic() - arrived
        return told if age <= FRESH else told + timedelta(seconds=int(age))
