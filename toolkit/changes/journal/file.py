"""What a journal file is: a ``.jsonl`` file that starts with its plan record and whose records
are chained (one process at a time holds it: :mod:`~toolkit.changes.journal.lock`).

**The chain.** Every record after the plan record carries ``prev``: :func:`line_hash` of the
record line before it (lines cut short by a crash are not records and are left out). So a line
edited, removed or reordered anywhere but at the very end breaks the chain, and reading the
journal (resume, undo, load_plan) refuses it naming the line. The last record is followed by
nothing, so undo trusts no before-state written on a journal's last line (resuming seals it).

The chain, like the plan record's digest, is plain unkeyed SHA-256: it catches accidents (a hand
edit, a bad copy, a truncated or spliced file), not a forger, who can recompute it.

**Which files are journals.** A ``.jsonl`` file whose first line is a plan record (or one a crash
cut short): apply refuses to append to any other file (:func:`check_journal_file`), so a typo in
``journal=`` never writes into a user's own file. One journal per plan: ``./journals/<plan
id>.jsonl`` by default (:func:`journal_path`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from toolkit.errors import InvalidInputError

__all__ = [
    "CHAIN",
    "DEFAULT_FOLDER",
    "SUFFIX",
    "check_journal_file",
    "journal_path",
    "last_record_hash",
    "line_hash",
]

#: What a plan record's ``chain`` says: every later record carries ``prev``, the
#: :func:`line_hash` of the record line before it.
CHAIN = "prev=sha256/1"
#: The suffix of a journal file.
SUFFIX = ".jsonl"
#: Where journals go unless told otherwise (git-ignored).
DEFAULT_FOLDER = Path("journals")


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


def journal_path(journal: str | os.PathLike[str] | None, plan_id: str) -> Path:
    """The journal file for ``plan_id``: ``journal`` itself if it names a file, else
    ``<journal or ./journals>/<plan_id>.jsonl``. A file that is not a journal is refused
    (:func:`check_journal_file`).

    >>> str(journal_path(None, "plan_x")), str(journal_path("runs/a.jsonl", "plan_x"))
    ('journals/plan_x.jsonl', 'runs/a.jsonl')
    """
    if journal is None:
        return DEFAULT_FOLDER / f"{plan_id}{SUFFIX}"
    path = Path(journal)
    if path.is_dir() or (not path.suffix and not path.exists()):
        return path / f"{plan_id}{SUFFIX}"
    return check_journal_file(path)
