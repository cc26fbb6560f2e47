"""Append-only JSON-lines journals of applied changes: what was sent, before and after.

One journal file per plan (``./journals/<plan id>.jsonl`` by default, readable by you only).
Records, one JSON object per line, each flushed as soon as it is written:

- ``{"type": "plan", ...}`` once, first: the plan id, kind and every row (so a journal alone is
  enough to resume or undo);
- ``{"type": "run", "event": "start" | "finish" | "interrupted" | "canceled", ...}`` per run;
- ``{"type": "begin", "row", "source", "action", "params", "before", ...}`` before each request;
- ``{"type": "end", "row", "source", "action", "result", "after", "message", "request_id", ...}``
  after it (``result``: ok, failed, drifted, skipped).

A journal never holds an API key or a ``client_secret``. Example::

    state = read_journal("journals/plan_20261123T0125_3fa9c1d2.jsonl")
    state.done          # {(row, source): end record} of the rows applied
    state.pending       # rows begun but never finished (the process died mid-request)
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import InvalidInputError

__all__ = [
    "DEFAULT_FOLDER",
    "Journal",
    "JournalState",
    "journal_path",
    "read_journal",
    "scrub",
]

#: Where journals go unless told otherwise (git-ignored).
DEFAULT_FOLDER = Path("journals")
_SECRET_FIELDS = {"client_secret", "api_key", "secret", "authorization", "idempotency_key"}


def scrub(value: Any) -> Any:
    """A copy of ``value`` without secret fields (``client_secret``, keys) at any depth.

    ``scrub({"id": "src_1", "client_secret": "src_client_secret_x"})`` -> ``{"id": "src_1"}``.
    """
    if isinstance(value, Mapping):
        return {str(k): scrub(v) for k, v in value.items() if str(k).lower() not in _SECRET_FIELDS}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def journal_path(journal: str | os.PathLike[str] | None, plan_id: str) -> Path:
    """The journal file for ``plan_id``: ``journal`` itself if it names a file, else
    ``<journal or ./journals>/<plan_id>.jsonl``."""
    if journal is None:
        return DEFAULT_FOLDER / f"{plan_id}.jsonl"
    path = Path(journal)
    if path.is_dir() or (not path.suffix and not path.exists()):
        return path / f"{plan_id}.jsonl"
    return path


class Journal:
    """An open, append-only journal file (mode 0600). Thread-safe; every record is flushed.

    ``with Journal(path) as j: j.write({"type": "begin", ...})``
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self._handle = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()
        # a line cut short by a crash must not glue itself to the next record
        if self.path.stat().st_size:
            with open(self.path, "rb") as check:
                check.seek(-1, os.SEEK_END)
                if check.read(1) != b"\n":
                    self._handle.write("\n")
                    self._handle.flush()

    def write(self, record: Mapping[str, Any]) -> None:
        """Append one record (a ``time`` field is added) and flush it to the OS."""
        data = {"time": _now(), **scrub(record)}
        line = json.dumps(data, ensure_ascii=False, sort_keys=False, default=str)
        with self._lock:
            self._handle.write(line + "\n")
            self._handle.flush()

    def close(self) -> None:
        """Flush to disk and close."""
        with self._lock:
            if not self._handle.closed:
                self._handle.flush()
                os.fsync(self._handle.fileno())
                self._handle.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class JournalState:
    """What a journal says: the plan it belongs to and how far each row got."""

    path: Path
    plan: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    begun: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    ended: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    damaged_lines: int = 0

    @property
    def plan_id(self) -> str | None:
        """The id of the plan this journal records."""
        return self.plan.get("plan_id") if self.plan else None

    @property
    def done(self) -> dict[tuple[int, str], dict[str, Any]]:
        """Rows whose last end record says ok (or skipped because already done)."""
        return {k: v for k, v in self.ended.items() if v.get("result") == "ok"}

    @property
    def pending(self) -> dict[tuple[int, str], dict[str, Any]]:
        """Rows begun after their last end record: the request may or may not have landed."""
        out = {}
        for key, begin in self.begun.items():
            end = self.ended.get(key)
            if end is None or end.get("seq", -1) < begin.get("seq", -1):
                out[key] = begin
        return out

    def before_of(self, key: tuple[int, str]) -> Any:
        """The state a done row had right before the request that changed it (for undo)."""
        end = self.done.get(key)
        return end.get("before") if end else None


def read_journal(path: str | os.PathLike[str]) -> JournalState:
    """Read a journal file; a damaged last line (cut by a crash) is counted and skipped.

    ``read_journal("journals/plan_x.jsonl").done``
    """
    target = Path(path)
    if not target.is_file():
        raise InvalidInputError(f"No journal at {target}: pass the .jsonl file apply() wrote.")
    state = JournalState(path=target)
    with open(target, encoding="utf-8") as handle:
        for seq, line in enumerate(handle):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                state.damaged_lines += 1
                continue
            if not isinstance(record, dict):
                state.damaged_lines += 1
                continue
            record["seq"] = seq
            state.records.append(record)
            kind = record.get("type")
            if kind == "plan" and state.plan is None:
                state.plan = record
            elif kind in ("begin", "end"):
                key = (int(record.get("row", 0)), str(record.get("source")))
                if kind == "end" and key in state.begun:
                    # the state right before the request this end record closes
                    record["before"] = state.begun[key].get("before")
                (state.begun if kind == "begin" else state.ended)[key] = record
    return state
