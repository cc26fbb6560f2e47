"""Append-only JSON-lines journals of applied changes: the evidence of what was sent and seen.

One journal file per plan (``./journals/<plan id>.jsonl`` by default, readable by you only), held
by one process at a time (an exclusive lock; a second apply is refused naming the holder).
Records, one JSON object per line, each flushed as soon as it is written:

- ``plan``, once, first: ``plan_id, kind, action, created, irreversible, account, mode, notes,
  rows`` (so a journal alone is enough to resume or undo), ``undoes`` for an undo plan, and
  ``digest``: the SHA-256 of the record's canonical JSON (``sort_keys``, separators ``,`` and
  ``:``, ASCII) without ``digest`` and ``time``. A journal whose plan record does not match its
  digest, or whose rows or records do not fit its kind, is refused.
- ``run``: ``event`` start (``run`` id, ``pid``, ``host``, ``rows``, ``resume``, ``on_drift``),
  then finish, interrupted, canceled or aborted (``totals``). A run's id is part of every
  idempotency key it sends: a key belongs to one journaled attempt.
- ``begin``: ``row, source, customer, action, params, before, run`` [``drift``], written before
  each request (nothing is sent unless it is on disk).
- ``end``: ``row, source, action, result, after, message, request_id, run`` [``replayed``]
  after it; ``result`` is ok, failed, canceled (stopped, the request may not have been sent) or
  uncertain (it may or may not have landed).
- ``skip``: ``row, source, message, run``: nothing was sent (already as planned, drifted,
  refused by a pre-check).
- ``undo``: ``event`` start or finish, ``by`` (the undo plan's id), ``pid``, ``host``.
- ``undone``: ``row, source, by, message``: an undo restored the row, or found that its write
  had not landed. The row is no longer done: applying the plan again writes it again.

Secrets are removed by path, never by key name: a source object's own ``client_secret`` and the
session's API key by value; customer data (``before``, ``after``, ``params``, ``rows``) is kept
exactly, whatever its keys are called. Example::

    state = read_journal("journals/plan_20261123T0125_3fa9c1d2.jsonl")
    state.done          # {(row, source): end record} of the rows applied (and not undone)
    state.unresolved    # rows whose request may have landed without the journal knowing
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import hashlib
import json
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import InvalidInputError, JournalError
from toolkit.plans import ACTIONS, rows_problems
from toolkit.private_files import open_private_append
from toolkit.redact import drop_client_secret, mask_secrets

__all__ = [
    "DEFAULT_FOLDER",
    "END_RESULTS",
    "Journal",
    "JournalState",
    "digest_of",
    "journal_path",
    "read_journal",
]

#: Where journals go unless told otherwise (git-ignored).
DEFAULT_FOLDER = Path("journals")
#: What an end record's ``result`` can say.
END_RESULTS = ("ok", "failed", "canceled", "uncertain")
#: Fields that hold customer data: kept exactly (only the API key is masked, by value).
_DATA_FIELDS = ("before", "after", "params", "rows", "current")
_RECORD_TYPES = ("plan", "run", "begin", "end", "skip", "undo", "undone")
_RUN_EVENTS = ("start", "finish", "interrupted", "canceled", "aborted")
_FIX = (
    "A journal is evidence and is never repaired: restore it from a backup, or make a new plan "
    "from fresh data (load_sources) and apply that."
)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def digest_of(record: Mapping[str, Any]) -> str:
    """The SHA-256 a plan record carries: its canonical JSON without ``digest``, ``time``, ``seq``.

    >>> digest_of({"plan_id": "plan_x", "rows": []})[:12]
    '146b2989be31'
    """
    body = {k: v for k, v in record.items() if k not in ("digest", "time", "seq")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _dumps(data: Mapping[str, Any]) -> str:
    """One JSON line: readable UTF-8, or all ASCII escapes when the record holds text that is
    not valid Unicode (a lone surrogate), so one bad value never stops the journal."""
    line = json.dumps(data, ensure_ascii=False, default=str)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(data, ensure_ascii=True, default=str)
    return line


def journal_path(journal: str | os.PathLike[str] | None, plan_id: str) -> Path:
    """The journal file for ``plan_id``: ``journal`` itself if it names a file, else
    ``<journal or ./journals>/<plan_id>.jsonl``."""
    if journal is None:
        return DEFAULT_FOLDER / f"{plan_id}.jsonl"
    path = Path(journal)
    if path.is_dir() or (not path.suffix and not path.exists()):
        return path / f"{plan_id}.jsonl"
    return path


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


class Journal:
    """An open, append-only journal file (mode 0600), locked for this process. Thread-safe;
    every record is flushed. Once a write fails (a full disk) every later write raises at once
    and nothing more is written.

    ``with Journal(path) as j: j.write({"type": "begin", ...})``

    ``mask`` hides the session's key wherever it appears (``Session.mask``). Raises
    :class:`~toolkit.errors.JournalError` when another process holds the journal.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, mask: Callable[[Any], Any] | None = None
    ) -> None:
        self.path = Path(path)
        self._mask = mask
        self._lock = threading.Lock()
        self.failure: JournalError | None = None
        self._handle = open_private_append(self.path)
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise JournalError(
                f"{self.path} is in use by {holder_of(self.path)}. Two runs must never share "
                "a journal: wait for that one to finish (or stop it), then run this again."
            ) from None
        # a line cut short by a crash must not glue itself to the next record
        if self.path.stat().st_size:
            with open(self.path, "rb") as check:
                check.seek(-1, os.SEEK_END)
                if check.read(1) != b"\n":
                    self._write_line("")

    def _clean(self, record: Mapping[str, Any]) -> dict[str, Any]:
        data: dict[str, Any] = {"time": _now()}
        for name, value in record.items():
            if self._mask is not None:
                value = self._mask(value)
            if name not in _DATA_FIELDS:
                value = drop_client_secret(value)
                if isinstance(value, str):
                    value = mask_secrets(value)
            data[str(name)] = value
        return data

    def _write_line(self, line: str) -> None:
        with self._lock:
            if self.failure is not None:
                raise self.failure
            try:
                self._handle.write(line + "\n")
                self._handle.flush()
            except OSError as exc:
                self.failure = JournalError(
                    f"Could not write the journal {self.path} ({exc.strerror or exc}): nothing "
                    "more was sent."
                )
                raise self.failure from exc

    def write(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record (a ``time`` field is added) and flush it; returns what was written."""
        data = self._clean(record)
        self._write_line(_dumps(data))
        return data

    def write_plan(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append the plan record with its digest (computed over what is written)."""
        data = self._clean({**record, "type": "plan"})
        data["digest"] = digest_of(data)
        self._write_line(_dumps(data))
        return data

    @property
    def broken(self) -> bool:
        """True once a write failed: nothing more is written."""
        return self.failure is not None

    def close(self) -> None:
        """Flush to disk, release the lock and close."""
        with self._lock:
            if self._handle.closed:
                return
            try:
                if self.failure is None:
                    self._handle.flush()
                    os.fsync(self._handle.fileno())
            except OSError:
                pass
            finally:
                try:
                    self._handle.close()  # closing the file releases the lock
                except OSError:
                    pass

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def host() -> str:
    """This machine's name, for the records that say who runs."""
    return socket.gethostname()


Key = tuple[int, str]


@dataclass
class JournalState:
    """What a journal says: the plan it belongs to and how far each row got."""

    path: Path
    plan: dict[str, Any] | None = None
    records: list[dict[str, Any]] = field(default_factory=list)
    begun: dict[Key, dict[str, Any]] = field(default_factory=dict)
    ended: dict[Key, dict[str, Any]] = field(default_factory=dict)
    undone: dict[Key, dict[str, Any]] = field(default_factory=dict)
    damaged_lines: int = 0

    @property
    def plan_id(self) -> str | None:
        """The id of the plan this journal records."""
        return self.plan.get("plan_id") if self.plan else None

    def _after_undo(self, key: Key, record: dict[str, Any]) -> bool:
        undone = self.undone.get(key)
        return undone is None or record["seq"] > undone["seq"]

    @property
    def done(self) -> dict[Key, dict[str, Any]]:
        """Rows whose last end record says ok and that no undo restored since."""
        return {
            k: v
            for k, v in self.ended.items()
            if v.get("result") == "ok" and self._after_undo(k, v)
        }

    @property
    def pending(self) -> dict[Key, dict[str, Any]]:
        """Rows begun after their last end record: the request may or may not have landed."""
        out = {}
        for key, begin in self.begun.items():
            end = self.ended.get(key)
            if (end is None or end["seq"] < begin["seq"]) and self._after_undo(key, begin):
                out[key] = begin
        return out

    @property
    def unresolved(self) -> dict[Key, dict[str, Any]]:
        """Rows whose request may have landed without the journal knowing: begun and not ended,
        or ended canceled (stopped mid-request) or uncertain. Maps to their begin record."""
        out = dict(self.pending)
        for key, end in self.ended.items():
            begin = self.begun.get(key)
            if begin is None or begin["seq"] > end["seq"] or not self._after_undo(key, end):
                continue
            if end.get("result") in ("canceled", "uncertain"):
                out[key] = begin
        return out

    def attempt_of(self, key: Key) -> str | None:
        """The run whose key a resumed row must reuse: that of a request begun and never
        answered (pending, or canceled mid-request); None when a new attempt is due."""
        begin = self.begun.get(key)
        if begin is None or not self._after_undo(key, begin):
            return None
        end = self.ended.get(key)
        if end is None or end["seq"] < begin["seq"] or end.get("result") == "canceled":
            return begin.get("run")
        return None

    def before_of(self, key: Key) -> Any:
        """The state a row had right before the request that changed it (for undo)."""
        begin = self.begun.get(key)
        return begin.get("before") if begin else None


def _fail(path: Path, line: int | None, problem: str) -> InvalidInputError:
    where = f"{path}, line {line}" if line else str(path)
    return InvalidInputError(f"{where}: {problem}. {_FIX}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_record(record: dict[str, Any], kind: str | None, rows: set[Key]) -> str | None:
    """Why a record (other than the plan) is malformed for this journal, or None."""
    rtype = record.get("type")
    if rtype == "run":
        if record.get("event") not in _RUN_EVENTS:
            return f"run event {record.get('event')!r} is not one of {', '.join(_RUN_EVENTS)}"
        return None
    if rtype == "undo":
        return None if record.get("event") in ("start", "finish") else "bad undo event"
    if not _is_int(record.get("row")):
        return f"row {record.get('row')!r} is not a whole number"
    if not isinstance(record.get("source"), str):
        return f"{rtype} record without a source id"
    key = (record["row"], record["source"])
    if key not in rows:
        return f"row {key[0]} / {key[1]} is not a ready row of the plan"
    if (
        rtype in ("begin", "end")
        and kind is not None
        and record.get("action", ACTIONS.get(kind)) != ACTIONS.get(kind)
    ):
        return f"action {record['action']!r} does not fit a {kind} plan"
    if rtype == "begin" and not isinstance(record.get("params"), dict):
        return "begin record whose params are not a hash"
    if rtype == "end" and record.get("result") not in END_RESULTS:
        return f"result {record.get('result')!r} is not one of {', '.join(END_RESULTS)}"
    return None


def _check_plan(path: Path, line: int, record: dict[str, Any]) -> None:
    if record.get("digest") != digest_of(record):
        raise _fail(
            path,
            line,
            "the plan record does not match its digest (it was edited, or written by a toolkit "
            "before 0.2)",
        )
    if not isinstance(record.get("plan_id"), str):
        raise _fail(path, line, "the plan record has no plan id")
    problems = rows_problems(record.get("kind"), record.get("rows"))
    if record.get("kind") in ACTIONS and record.get("action") != ACTIONS[record["kind"]]:
        problems.insert(0, f"action {record.get('action')!r} does not fit its kind")
    if problems:
        shown = "; ".join(problems[:3]) + (
            f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
        )
        raise _fail(path, line, f"the plan's rows do not fit a {record.get('kind')} plan: {shown}")


def read_journal(path: str | os.PathLike[str]) -> JournalState:
    """Read and check a journal file; returns its :class:`JournalState`.

    A line cut short by a crash is counted and skipped when it is the last one, or when the next
    record starts a new run (or writes the plan record again). Anything else that does not fit,
    or a plan record that does not match its digest, raises
    :class:`~toolkit.errors.InvalidInputError` naming the file and the line.

    ``read_journal("journals/plan_x.jsonl").done``
    """
    target = Path(path)
    if not target.is_file():
        raise InvalidInputError(f"No journal at {target}: pass the .jsonl file apply() wrote.")
    raw = target.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(
            target, line, "this is not UTF-8 text, so not a journal the toolkit wrote"
        ) from None
    state = JournalState(path=target)
    damaged: list[int] = []  # lines cut short, waiting for what follows them
    ready: set[Key] = set()
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 is data
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            damaged.append(number)
            continue
        if not isinstance(record, dict):
            raise _fail(target, number, "a journal line holds one JSON object, this one does not")
        rtype = record.get("type")
        if rtype not in _RECORD_TYPES:
            raise _fail(target, number, f"unknown record type {rtype!r}")
        restart = (rtype == "run" and record.get("event") == "start") or (
            rtype == "plan" and state.plan is None
        )
        if damaged and not restart:
            raise _fail(target, damaged[0], "this line is not a JSON record")
        state.damaged_lines += len(damaged)
        damaged.clear()
        record["seq"] = number
        if rtype == "plan":
            if state.plan is not None:
                raise _fail(target, number, "a second plan record")
            _check_plan(target, number, record)
            state.plan = record
            ready = {(r["row"], r["source"]) for r in record["rows"] if r.get("status") == "ready"}
            state.records.append(record)
            continue
        if state.plan is None:
            raise _fail(target, number, f"a {rtype} record before the plan record")
        problem = _check_record(record, state.plan.get("kind"), ready)
        if problem:
            raise _fail(target, number, problem)
        state.records.append(record)
        key = (record.get("row"), record.get("source"))
        if rtype == "begin":
            state.begun[key] = record  # type: ignore[index]
        elif rtype == "end":
            state.ended[key] = record  # type: ignore[index]
        elif rtype == "undone":
            state.undone[key] = record  # type: ignore[index]
    state.damaged_lines += len(damaged)
    return state
