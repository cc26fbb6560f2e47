"""The read ledger: the reads (GET requests) each Stripe key spent over the last 30 days, per
mode and allocation, kept in one private file so that every notebook, CLI run and script adds to
the same count.

Stripe counts an account's reads over a rolling 30 days (docs.stripe.com/rate-limits, "API read
request allocations"); the toolkit keeps the same window. Its one home is
``$TOOLKIT_READS_LEDGER`` when set, else ``$XDG_DATA_HOME/stripe-sources-toolkit/reads.jsonl``
(``~/.local/share/...`` without ``XDG_DATA_HOME``); ``connect(read_ledger=path)`` picks another.
The file is 0600 in a 0700 folder and holds JSON lines, never a key::

    {"at": 1793491200, "key": "k_3f2a9c0d1e4b5a67", "mode": "live", "allocation": "own", "reads": 120}
    {"at": 1793491260, "key": "k_3f2a9c0d1e4b5a67", "mode": "live", "allocation": "own",
     "operation": "load account", "cost": 1216}

``key`` is a digest of the API key and the API host (so one key's reads on Stripe and on a
sandbox never mix); ``allocation`` is ``own``, or ``connected`` for a platform's reads on behalf
of its connected accounts (Stripe gives those a separate allocation), with the ``account``.
A ``cost`` record says what an operation cost, the estimate for the next run of it. Records older
than 30 days are dropped whenever the ledger is written.

>>> ledger = ReadLedger(None)                     # in memory: what the sandbox uses
>>> where = Allocation("k_demo", "test", "own")
>>> ledger.add(where, 120, None, now=1_800_000_000)
>>> ledger.add_cost(where, "load account", 120, now=1_800_000_000)
>>> ledger.used(where, now=1_800_000_000), ledger.last_cost(where, "load account", now=1_800_000_000)
(120, 120)
>>> ledger.used(where, now=1_800_000_000 + 31 * 86_400)
0
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock

from toolkit.errors import ConfigurationError, OutputError
from toolkit.private_files import open_private_append, private_folder, write_private

#: Seconds a ledger write waits for another process's lock before it gives up (with a warning).
LOCK_WAIT = 10.0

__all__ = [
    "LEDGER_VARIABLE",
    "LOCK_WAIT",
    "WINDOW",
    "Allocation",
    "ReadLedger",
    "default_ledger_path",
    "key_digest",
]

#: The environment variable that points the ledger at another file (tests point it at a tmp dir).
LEDGER_VARIABLE = "TOOLKIT_READS_LEDGER"
#: Stripe's window: reads are counted over a rolling 30 days.
WINDOW = 30 * 86_400
_FIELDS = {"at", "key", "mode", "allocation"}


@dataclass(frozen=True)
class Allocation:
    """One allowance of reads: a key (its digest), a mode, and ``own`` or ``connected``."""

    key: str
    mode: str
    allocation: str

    def holds(self, record: dict[str, Any]) -> bool:
        """Is ``record`` one of this allocation's?"""
        return (
            record.get("key") == self.key
            and record.get("mode") == self.mode
            and record.get("allocation") == self.allocation
        )


def key_digest(api_key: str, api_base: str) -> str:
    """What the ledger knows a key by: a digest of the key and the API host, never the key.

    >>> key_digest("sk_test_abc", "https://api.stripe.com")[:2]
    'k_'
    """
    text = f"{api_base.rstrip('/')}|{api_key}".encode()
    return "k_" + hashlib.sha256(text).hexdigest()[:16]


def default_ledger_path() -> Path:
    """``$TOOLKIT_READS_LEDGER``, else the user's data folder's ``stripe-sources-toolkit/
    reads.jsonl``."""
    chosen = os.environ.get(LEDGER_VARIABLE)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "stripe-sources-toolkit" / "reads.jsonl"


def _fix(path: Path) -> str:
    return (
        f"Fix it, delete it (it only counts reads: the count then starts again), or point "
        f"{LEDGER_VARIABLE} (or connect(read_ledger=...)) at another file; it is {path}."
    )


class ReadLedger:
    """The records of the last 30 days, from ``path`` (None: kept in memory only)."""

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path).expanduser() if path is not None else None
        self._records: list[dict[str, Any]] = []
        self._oldest: float | None = None  # the oldest record in the file when last read
        #: The file (inode, size, modification time) when what is in memory was all of it:
        #: reload() reads it again only when it changed since (another process wrote to it).
        self._seen: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        self._warned = False
        if self.path is not None:
            self.reload()

    # -- reading ------------------------------------------------------------------------------
    def _read_file(self) -> list[dict[str, Any]]:
        assert self.path is not None
        if self.path.is_dir():
            raise ConfigurationError(f"The read ledger is a folder, not a file. {_fix(self.path)}")
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise ConfigurationError(
                f"The read ledger cannot be read ({why}). {_fix(self.path)}"
            ) from None
        records = []
        lines = text.split("\n")
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and record.keys() >= _FIELDS:
                records.append(record)
            elif number == len(lines):  # a last line cut short by a crash: a lost count only
                continue
            else:
                raise ConfigurationError(
                    f"Line {number} of the read ledger is not a ledger record: is this file "
                    f"the toolkit's read ledger? {_fix(self.path)}"
                )
        return records

    def _stat(self) -> tuple[int, int, int] | None:
        """The file's (inode, size, modification time in ns); (0, -1, 0) when there is none
        yet; None when it cannot be told."""
        assert self.path is not None
        try:
            found = os.stat(self.path)
        except FileNotFoundError:
            return (0, -1, 0)
        except OSError:
            return None
        return (found.st_ino, found.st_size, found.st_mtime_ns)

    def reload(self, now: float | None = None) -> None:
        """Read the file again (other processes add to it); not when it is as it was when this
        ledger last read or wrote all of it (its inode, size and time are the same): every
        apply and load starts with a reload, and a month of records takes a while to parse."""
        if self.path is None:
            return
        cutoff = _now(now) - WINDOW
        before = self._stat()
        if before is not None and before == self._seen:
            with self._lock:
                self._records = [r for r in self._records if _at(r) >= cutoff]
            return
        records = self._read_file()
        after = self._stat()
        with self._lock:
            self._records = [r for r in records if _at(r) >= cutoff]
            self._oldest = min((_at(r) for r in records), default=None)
            self._seen = after if after == before else None

    def _recent(self, where: Allocation, now: float | None) -> list[dict[str, Any]]:
        cutoff = _now(now) - WINDOW
        with self._lock:
            return [r for r in self._records if where.holds(r) and _at(r) >= cutoff]

    def used(self, where: Allocation, now: float | None = None) -> int:
        """Reads of ``where`` in the last 30 days."""
        return sum(int(r.get("reads") or 0) for r in self._recent(where, now))

    def by_day(self, where: Allocation, now: float | None = None) -> dict[str, int]:
        """Reads of ``where`` per UTC day of the last 30 days (days with reads only)."""
        days: Counter[str] = Counter()
        for record in self._recent(where, now):
            if record.get("reads"):
                day = datetime.fromtimestamp(_at(record), tz=UTC).strftime("%Y-%m-%d")
                days[day] += int(record["reads"])
        return dict(sorted(days.items()))

    def by_account(self, where: Allocation, now: float | None = None) -> dict[str, int]:
        """Reads of ``where`` per connected account (a platform's ``connected`` allocation)."""
        found: Counter[str] = Counter()
        for record in self._recent(where, now):
            if record.get("reads") and record.get("account"):
                found[str(record["account"])] += int(record["reads"])
        return dict(found)

    def last_cost(self, where: Allocation, operation: str, now: float | None = None) -> int | None:
        """What ``operation`` cost the last time it ran to its end (in 30 days), or None."""
        costs = [r for r in self._recent(where, now) if r.get("operation") == operation]
        return int(costs[-1]["cost"]) if costs else None

    # -- writing ------------------------------------------------------------------------------
    def add(
        self, where: Allocation, reads: int, account: str | None, now: float | None = None
    ) -> None:
        """Record ``reads`` spent by ``where`` (on behalf of ``account`` when connected)."""
        record: dict[str, Any] = {"at": int(_now(now)), "key": where.key, "mode": where.mode}
        record["allocation"] = where.allocation
        if account:
            record["account"] = account
        record["reads"] = int(reads)
        self._write(record, now)

    def add_cost(
        self, where: Allocation, operation: str, cost: int, now: float | None = None
    ) -> None:
        """Record what ``operation`` cost (the estimate of its next run)."""
        record = {"at": int(_now(now)), "key": where.key, "mode": where.mode}
        record.update(allocation=where.allocation, operation=operation, cost=int(cost))
        self._write(record, now)

    def _write(self, record: dict[str, Any], now: float | None) -> None:
        if self.path is None:
            with self._lock:
                self._records.append(record)
            return
        try:
            self._write_file(record, now)
        except (OSError, OutputError, ConfigurationError) as exc:
            # the reads were sent already: count them in memory, say once that the file is not
            with self._lock:
                self._records.append(record)
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"The read ledger {self.path} could not be written ({exc}): reads are counted "
                    f"for this session only. {_fix(self.path)}",
                    RuntimeWarning,
                    stacklevel=4,
                )

    def _write_file(self, record: dict[str, Any], now: float | None) -> None:
        assert self.path is not None
        folder = private_folder(self.path.parent)
        # one writer at a time, across processes (filelock: portable, released if a process
        # dies); a lock not had in LOCK_WAIT seconds is a filelock.Timeout, an OSError: the
        # reads are then counted for this session only, with a warning
        with FileLock(folder / f".{self.path.name}.lock", timeout=LOCK_WAIT, thread_local=False):
            cutoff = _now(now) - WINDOW
            if self._oldest is not None and self._oldest < cutoff:  # drop what is past 30 days
                kept = [r for r in self._read_file() if _at(r) >= cutoff]
                self._rewrite([*kept, record])
                with self._lock:
                    self._records = [*kept, record]
                    self._oldest = min(_at(r) for r in self._records)
                    self._seen = self._stat()  # the lock is held: the file is what was written
                return
            # in memory is all of the file still, unless another process wrote to it since
            whole = self._seen is not None and self._stat() == self._seen
            with open_private_append(self.path) as handle:  # cheap: no read of the file
                handle.write(json.dumps(record, separators=(",", ":")) + "\n")
            with self._lock:
                self._records.append(record)
                at = _at(record)
                self._oldest = at if self._oldest is None else min(self._oldest, at)
                self._seen = self._stat() if whole else None

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        assert self.path is not None
        lines = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)
        write_private(self.path, lambda handle: handle.write(lines))


def _at(record: dict[str, Any]) -> float:
    try:
        return float(record.get("at") or 0)
    except (TypeError, ValueError):
        return 0.0


def _now(now: float | None) -> float:
    return time.time() if now is None else now
