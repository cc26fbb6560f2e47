"""Append-only JSON-lines journals of applied changes: the evidence of what was sent and seen.

One journal file per plan (``./journals/<plan id>.jsonl`` by default, readable by you only), held
by one process at a time (an exclusive lock; a second apply is refused naming the holder).
Records, one JSON object per line, each flushed as soon as it is written:

- ``plan``, once, first: ``plan_id, kind, action, created, irreversible, account, mode, notes,
  rows`` (so a journal alone is enough to resume or undo), ``undoes`` for an undo plan,
  ``chain`` (:data:`CHAIN`) and ``digest``: the SHA-256 of the record's canonical JSON
  (``sort_keys``, separators ``,`` and ``:``) without ``digest`` and ``time``.
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

**The chain** (:mod:`~toolkit.changes.journal_file`): every record after the plan record carries
``prev``, the hash of the record line before it, so a line edited, removed or reordered is found
when the journal is read. The digest and the chain are plain, unkeyed SHA-256: a guard against
accidents, not against someone who means to forge a journal or a plan file and recomputes them
(:func:`digest_of` is public). That is why apply never trusts a row from a file: it checks every
row against the plan builders' rules again, and every rule about the live source (drift, money on
a receiver, Stripe's limits) against the state read just before the write. A journal is a
``.jsonl`` file whose first line is its plan record: apply appends to no other file. Journals
written before the chain (a plan record without ``chain``) can still be read (``read_journal``,
``load_plan``) but are not resumed or undone: nothing proves their records.

Secrets are removed by path, never by key name: a source object's own ``client_secret`` and the
session's API key by value; customer data (``before``, ``after``, ``params``, ``rows``) is kept
exactly, whatever its keys are called. Example::

    with Journal("journals/plan_x.jsonl", mask=session.mask) as journal:
        journal.write_plan(plan_record(plan, session.account_label, session.mode))
        journal.write(run_start("run_1", rows=10, resume=False, on_drift="refuse"))

Reading a journal back is :mod:`~toolkit.changes.journal_state`.
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
from pathlib import Path
from typing import Any

from toolkit.changes.journal_file import (
    CHAIN,
    SUFFIX,
    check_journal_file,
    in_use_error,
    last_record_hash,
    line_hash,
)
from toolkit.changes.plan import Plan
from toolkit.changes.rows import PlanRow
from toolkit.errors import JournalError
from toolkit.private_files import open_private_append
from toolkit.redact import drop_client_secret, mask_secrets

__all__ = [
    "DEFAULT_FOLDER",
    "END_RESULTS",
    "RECORD_TYPES",
    "RUN_EVENTS",
    "Journal",
    "begin_record",
    "digest_of",
    "end_record",
    "journal_path",
    "plan_record",
    "run_end",
    "run_start",
    "skip_record",
    "undo_record",
    "undone_record",
]

#: Where journals go unless told otherwise (git-ignored).
DEFAULT_FOLDER = Path("journals")
#: What an end record's ``result`` can say.
END_RESULTS = ("ok", "failed", "canceled", "uncertain")
#: Fields that hold customer data: kept exactly (only the API key is masked, by value).
_DATA_FIELDS = ("before", "after", "params", "rows", "current")
#: Every record type, and the events of runs.
RECORD_TYPES = ("plan", "run", "begin", "end", "skip", "undo", "undone")
RUN_EVENTS = ("start", "finish", "interrupted", "canceled", "aborted")


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def digest_of(record: Mapping[str, Any]) -> str:
    """The SHA-256 a plan record carries: its canonical JSON without ``digest``, ``time``, ``seq``.

    Unkeyed: it catches a plan or journal changed by accident, not a forgery (anyone can
    recompute it), so apply checks every row again whatever its digest says.

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
    ``<journal or ./journals>/<plan_id>.jsonl``. A file that is not a journal is refused
    (:func:`check_journal_file`)."""
    if journal is None:
        return DEFAULT_FOLDER / f"{plan_id}{SUFFIX}"
    path = Path(journal)
    if path.is_dir() or (not path.suffix and not path.exists()):
        return path / f"{plan_id}{SUFFIX}"
    return check_journal_file(path)


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
        self.path = check_journal_file(path)
        self._mask = mask
        self._lock = threading.Lock()
        self.failure: JournalError | None = None
        self._handle = open_private_append(self.path)
        try:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._handle.close()
            raise in_use_error(self.path) from None
        #: line_hash of the last record written: the next record's ``prev``
        self._last = last_record_hash(self.path)
        # a line cut short by a crash must not glue itself to the next record
        if self.path.stat().st_size:
            with open(self.path, "rb") as check:
                check.seek(-1, os.SEEK_END)
                if check.read(1) != b"\n":
                    with self._lock:
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
        """Write one line (the caller holds the lock)."""
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

    def _append(self, data: dict[str, Any], *, chained: bool = True) -> dict[str, Any]:
        with self._lock:
            if chained:
                data["prev"] = self._last
            line = _dumps(data)
            self._write_line(line)
            self._last = line_hash(line)
        return data

    def write(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record (``time`` and ``prev`` are added) and flush it; returns what was
        written."""
        return self._append(self._clean(record))

    def write_plan(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append the plan record with its chain and digest (computed over what is written)."""
        data = self._clean({**record, "type": "plan", "chain": CHAIN})
        data["digest"] = digest_of(data)
        return self._append(data, chained=False)

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


# -- the records ---------------------------------------------------------------------------------
def plan_record(plan: Plan, account: str | None, mode: str | None) -> dict[str, Any]:
    """The plan record (its digest is added when written, see :meth:`Journal.write_plan`)."""
    record: dict[str, Any] = {
        "type": "plan",
        "plan_id": plan.id,
        "kind": plan.kind,
        "action": plan.action,
        "created": plan.created,
        "irreversible": plan.irreversible,
        "account": account,
        "mode": mode,
        "notes": plan.notes,
        "rows": plan.rows(),
    }
    if plan.undoes:
        record["undoes"] = plan.undoes
    return record


def run_start(run: str, *, rows: int, resume: bool, on_drift: str) -> dict[str, Any]:
    """A run begins: its id (part of every idempotency key it sends), who runs it."""
    return {
        "type": "run",
        "event": "start",
        "run": run,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "rows": rows,
        "resume": resume,
        "on_drift": on_drift,
    }


def run_end(
    event: str, totals: Mapping[str, int], api_version: str | None = None
) -> dict[str, Any]:
    """A run ends: finish, interrupted, canceled or aborted, with its totals and the API version
    Stripe answered with (its ``Stripe-Version`` header; None when no answer came).

    >>> run_end("finish", {"done": 2}, "2024-06-20")["api_version"]
    '2024-06-20'
    """
    record: dict[str, Any] = {"type": "run", "event": event, "totals": dict(totals)}
    if api_version:
        record["api_version"] = api_version
    return record


def begin_record(
    row: PlanRow, attempt: str, before: Any, drift: str | None = None
) -> dict[str, Any]:
    """Before a request: what is sent, the state read and compared, the attempt's run id."""
    record: dict[str, Any] = {
        "type": "begin",
        "row": int(row["row"]),
        "source": row["source"],
        "customer": row["customer"],
        "action": row["action"],
        "params": row["params"],
        "before": before,
        "run": attempt,
    }
    if drift:
        record["drift"] = drift
    return record


def end_record(
    row: PlanRow,
    result: str,
    message: str,
    *,
    after: Any = None,
    request_id: str | None = None,
    replayed: bool = False,
) -> dict[str, Any]:
    """After a request (or a re-read that settled an earlier one): ``result`` is one of
    :data:`END_RESULTS`."""
    record: dict[str, Any] = {
        "type": "end",
        "row": int(row["row"]),
        "source": row["source"],
        "action": row["action"],
        "result": result,
        "after": after,
        "message": message,
        "request_id": request_id,
    }
    if replayed:
        record["replayed"] = True
    return record


def skip_record(key: tuple[int, str], message: str) -> dict[str, Any]:
    """Nothing was sent for a row (already as planned, drifted, refused by a pre-check)."""
    return {"type": "skip", "row": key[0], "source": key[1], "message": message}


def undo_record(event: str, by: str) -> dict[str, Any]:
    """An undo of this plan starts or finishes (``by``: the undo plan's id)."""
    record: dict[str, Any] = {"type": "undo", "event": event, "by": by}
    if event == "start":
        record.update(pid=os.getpid(), host=socket.gethostname())
    return record


def undone_record(key: tuple[int, str], by: str, message: str) -> dict[str, Any]:
    """An undo restored a row (or found its write had not landed): it is done no more."""
    return {"type": "undone", "row": key[0], "source": key[1], "by": by, "message": message}
