"""One process at a time holds a journal: a lock file beside it (``<journal>.lock``), taken with
:mod:`filelock`, the portable lock the export folder uses too.

The operating system holds the lock for the process (``flock`` on Linux and macOS,
``LockFileEx`` on Windows) and lets go of it when the process ends, even by a kill, so a killed run
never blocks the next one. A second run or undo on the same journal, in this process or another,
is refused with a :class:`~toolkit.errors.JournalError` naming the holder (the last run or undo
the journal records as started and not finished). The lock file holds nothing and stays beside
the journal (in the journals folder, readable by you only).

>>> lock_path(Path("journals/plan_x.jsonl")).name
'plan_x.jsonl.lock'
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from filelock import FileLock, Timeout

from toolkit.errors import JournalError

__all__ = ["JournalLock", "check_not_held", "holder_of", "in_use_error", "lock_path"]


def lock_path(path: Path) -> Path:
    """The lock file of the journal at ``path``."""
    return path.with_name(path.name + ".lock")


def _lock_of(path: Path) -> FileLock:
    return FileLock(lock_path(path), timeout=0, thread_local=False)


class JournalLock:
    """Held while a journal is written: ``with JournalLock(path): ...``. Raises
    :class:`~toolkit.errors.JournalError` naming the holder when another run holds it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = _lock_of(self.path)

    def acquire(self) -> None:
        """Take the lock, or raise :class:`~toolkit.errors.JournalError` naming the holder."""
        try:
            self._lock.acquire()
        except Timeout:
            raise in_use_error(self.path) from None
        except OSError as exc:
            raise JournalError(
                f"Could not lock the journal {self.path} ({exc.strerror or exc}): fix the "
                "folder's permissions or pass another journal folder; nothing was sent."
            ) from None

    def release(self) -> None:
        """Let go of the lock (nothing when it is not held)."""
        if self._lock.is_locked:
            self._lock.release()

    def __enter__(self) -> JournalLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_of(path: Path) -> str:
    """Who holds a journal: the last run or undo that started and did not finish, as text."""
    holder = None
    try:
        lines = path.read_bytes().decode("utf-8", "replace").split("\n")
    except OSError:
        lines = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("type") not in ("run", "undo"):
            continue
        holder = record if record.get("event") == "start" else None
    if holder is None:
        return "another process"
    what = "an undo" if holder.get("type") == "undo" else "an apply"
    return (
        f"{what} in pid {holder.get('pid')} on {holder.get('host')} "
        f"(running since {holder.get('time')})"
    )


def in_use_error(path: Path) -> JournalError:
    """The error for a journal another process holds, naming that process."""
    return JournalError(
        f"{path} is in use by {holder_of(path)}. Two runs must never share a journal: wait for "
        "that one to finish (or stop it), then run this again."
    )


def check_not_held(path: str | os.PathLike[str]) -> None:
    """Raise :class:`~toolkit.errors.JournalError` naming the holder when another run holds the
    journal at ``path`` (its last lines are still being written); nothing when it is free or
    missing (a journal never locked has no lock file)."""
    journal = Path(path)
    if not lock_path(journal).exists():
        return
    probe = _lock_of(journal)
    try:
        probe.acquire()
    except Timeout:
        raise in_use_error(journal) from None
    except OSError:
        return  # cannot tell: whatever reads the journal next says what is wrong
    probe.release()
