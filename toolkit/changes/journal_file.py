"""What a journal file is: a ``.jsonl`` file that starts with its plan record, whose records
are chained, and that one process at a time holds.

**The chain.** Every record after the plan record carries ``prev``: :func:`line_hash` of the
record line before it (lines cut short by a crash are not records and are left out). So a line
edited, removed or reordered anywhere but at the very end breaks the chain, and reading the
journal (resume, undo, load_plan) refuses it naming the line. The last record is followed by
nothing, so undo trusts no before-state written on a journal's last line (resuming seals it).

The chain, like the plan record's digest, is plain unkeyed SHA-256: it catches accidents (a hand
edit, a bad copy, a truncated or spliced file), not a forger, who can recompute it.

**Which files are journals.** A ``.jsonl`` file whose first line is a plan record (or one a crash
cut short): apply refuses to append to any other file (:func:`check_journal_file`), so a typo in
``journal=`` never writes into a user's own file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from toolkit.errors import InvalidInputError, JournalError

__all__ = [
    "CHAIN",
    "SUFFIX",
    "check_journal_file",
    "check_not_held",
    "holder_of",
    "in_use_error",
    "last_record_hash",
    "line_hash",
]

#: What a plan record's ``chain`` says: every later record carries ``prev``, the
#: :func:`line_hash` of the record line before it.
CHAIN = "prev=sha256/1"
#: The suffix of a journal file.
SUFFIX = ".jsonl"


def line_hash(line: str | bytes) -> str:
    """The hash the next record's ``prev`` carries: the SHA-256 of one journal line as written
    (UTF-8, without its newline), first 32 hex digits.

    >>> line_hash('{"type": "plan"}')
    '18e9d52105407191400c43dcc1127000'
    """
    data = line.encode("utf-8") if isinstance(line, str) else line
    return hashlib.sha256(data).hexdigest()[:32]


def _record_of(line: bytes) -> dict[str, Any] | None:
    """The record a journal line holds, or None (a line cut short, or not a JSON object)."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def last_record_hash(path: Path) -> str | None:
    """:func:`line_hash` of the last record line of a journal (None when it holds none yet)."""
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError:
        return None
    for line in reversed(lines):
        if line.strip() and _record_of(line) is not None:
            return line_hash(line)
    return None


def _starts_a_journal(path: Path) -> bool:
    """Does the file begin with a plan record (or one a crash cut short, alone or followed by
    the plan record written again)?"""
    with open(path, "rb") as handle:
        first = handle.readline()
        record = _record_of(first.rstrip(b"\n"))
        if record is not None:
            return record.get("type") == "plan"
        if not first.startswith(b'{"'):
            return False
        if not first.endswith(b"\n"):
            return True  # the only line: the plan record, cut short by a crash
        for line in handle:
            if line.strip():
                after = _record_of(line.rstrip(b"\n"))
                return after is not None and after.get("type") == "plan"
    return True


def check_journal_file(path: str | os.PathLike[str]) -> Path:
    """Refuse a journal path that is not a journal: another suffix than ``.jsonl``, or an
    existing file whose first line is not a plan record. Returns the path.

    >>> check_journal_file("user.csv")
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: user.csv is not a journal: a journal is a .jsonl file that apply() writes. Pass a folder (journal='journals') or a path ending in .jsonl; nothing was sent.
    """
    target = Path(path)
    if target.suffix.lower() != SUFFIX:
        raise InvalidInputError(
            f"{target} is not a journal: a journal is a {SUFFIX} file that apply() writes. Pass "
            f"a folder (journal='journals') or a path ending in {SUFFIX}; nothing was sent."
        )
    try:
        ours = not target.is_file() or target.stat().st_size == 0 or _starts_a_journal(target)
    except OSError as exc:
        raise InvalidInputError(
            f"Cannot read {target} ({exc.strerror or exc}): fix its permissions or pass another "
            "journal path; nothing was sent."
        ) from None
    if not ours:
        raise InvalidInputError(
            f"{target} is not a journal of this toolkit (its first line is not a plan record), "
            "so nothing is appended to it: pass a folder (journal='journals') or a new "
            f"{SUFFIX} path; nothing was sent."
        )
    return target


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
    """Raise :class:`~toolkit.errors.JournalError` naming the holder when another process holds
    the journal at ``path`` (its last lines are still being written); nothing when it is free
    or missing."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise in_use_error(Path(path)) from None
    finally:
        os.close(fd)  # closing releases the lock
