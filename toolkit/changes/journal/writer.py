"""Writing a journal: an append-only JSON-lines file of applied changes, the evidence of what was
sent and seen.

One journal file per plan (``./journals/<plan id>.jsonl`` by default, readable by you only), held
by one process at a time (:mod:`~toolkit.changes.journal.lock`). Each record
(:mod:`~toolkit.changes.journal.records`) is flushed as soon as it is written, and carries
``prev``, the hash of the record line before it (:mod:`~toolkit.changes.journal.file`), so a line
edited, removed or reordered is found when the journal is read.

The digest and the chain are plain, unkeyed SHA-256: a guard against accidents, not against
someone who means to forge a journal or a plan file and recomputes them
(:func:`~toolkit.changes.plans.record.digest_of` is public). That is why apply never trusts a
row from a file: it checks every row against the plan builders' rules again, and every rule
about the live source (drift, money on a receiver, Stripe's limits) against the state read just
before the write. Journals written before the chain (a plan record without ``chain``) can still
be read (``read_journal``, ``load_plan``) but are not resumed or undone: nothing proves their
records.

Secrets are removed by path, never by key name: a source object's own ``client_secret`` and the
session's API key by value; customer data (``before``, ``after``, ``params``, ``rows``) is kept
exactly, whatever its keys are called. Example::

    with Journal("journals/plan_x.jsonl", mask=session.mask) as journal:
        journal.write_plan(plan_record(plan, session.account_label, session.mode))
        journal.write(run_start("run_1", rows=10, resume=False, on_drift="refuse"))
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from toolkit.changes.journal.file import CHAIN, check_journal_file, last_record_hash, line_hash
from toolkit.changes.journal.lock import JournalLock
from toolkit.changes.plans.record import digest_of
from toolkit.errors import JournalError
from toolkit.private_files import open_private_append
from toolkit.redact import drop_client_secret, mask_secrets

__all__ = ["Journal", "log_record"]

#: Fields that hold customer data: kept exactly (only the API key is masked, by value).
_DATA_FIELDS = ("before", "after", "params", "rows", "current")

log = logging.getLogger(__name__)


def log_record(path: Any, data: Mapping[str, Any]) -> None:
    """Log a journal event: the plan, runs and undos at INFO (ids, counts, the approval's
    status), rows at DEBUG (row, source id, result); never what a row sends or holds (params,
    before, after: customer data) nor a message (Stripe's may quote it)."""
    kind = data.get("type")
    name = getattr(path, "name", path)
    if kind == "plan":
        log.info("journal %s: plan %s (%s, %d rows) recorded", name, data.get("plan_id"),
                 data.get("action"), len(data.get("rows") or []))  # fmt: skip
    elif kind == "run":
        approval = (data.get("approval") or {}).get("status")
        extra = f", approval {approval}" if approval else ""
        totals = data.get("totals")
        shown = f"rows {data.get('rows')}{extra}" if totals is None else f"totals {totals}"
        run = f" {data['run']}" if data.get("run") else ""
        log.info("journal %s: run%s %s (%s)", name, run, data.get("event"), shown)
    elif kind == "undo":
        log.info("journal %s: undo %s %s", name, data.get("by"), data.get("event"))
    elif log.isEnabledFor(logging.DEBUG):
        log.debug("journal %s: %s row %s %s %s", name, kind, data.get("row"), data.get("source"),
                  data.get("result") or data.get("action") or "")  # fmt: skip


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds")


def _dumps(data: Mapping[str, Any]) -> str:
    """One JSON line: readable UTF-8, or all ASCII escapes when the record holds text that is
    not valid Unicode (a lone surrogate), so one bad value never stops the journal."""
    line = json.dumps(data, ensure_ascii=False, default=str)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(data, ensure_ascii=True, default=str)
    return line


class Journal:
    """An open, append-only journal file (mode 0600), locked for this process. Thread-safe;
    every record is flushed. Once a write fails (a full disk) every later write raises at once
    and nothing more is written.

    ``with Journal(path) as j: j.write({"type": "begin", ...})``: leaving the block flushes the
    file to disk, closes it and lets go of the lock.

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
        self._held = JournalLock(self.path)
        try:
            self._held.acquire()
            #: line_hash of the last record written: the next record's ``prev``
            self._last = last_record_hash(self.path)
            # a line cut short by a crash must not glue itself to the next record
            if self.path.stat().st_size:
                with open(self.path, "rb") as check:
                    check.seek(-1, os.SEEK_END)
                    if check.read(1) != b"\n":
                        with self._lock:
                            self._write_line("")
        except BaseException:
            self._handle.close()
            self._held.release()
            raise

    def _clean(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record with ``time``, a source's own client secret dropped and key-shaped text
        masked outside the customer data (the session's key is masked in the line: _append)."""
        data: dict[str, Any] = {"time": _now()}
        for name, value in record.items():
            if name not in _DATA_FIELDS:
                if isinstance(value, str):
                    value = mask_secrets(value)
                elif value is not None and not isinstance(value, int | float):
                    value = drop_client_secret(value)
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
        # the record as text first, outside the lock (writers of other rows wait only for the
        # write itself); then, under the lock, ``prev`` goes last, as json.dumps would put it
        body = _dumps(data)
        if self._mask is not None and self._mask(body) != body:  # the session's key is in it
            data = self._mask(data)
            body = _dumps(data)
        with self._lock:
            line = body
            if chained:
                data["prev"] = self._last
                prev = f'"prev": {json.dumps(self._last)}}}'
                line = f"{body[:-1]}, {prev}" if body != "{}" else "{" + prev
            self._write_line(line)
            self._last = line_hash(line)
        return data

    def write(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record (``time`` and ``prev`` are added) and flush it; returns what was
        written."""
        data = self._append(self._clean(record))
        log_record(self.path, data)
        return data

    def write_plan(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append the plan record with its chain and digest (computed over what is written)."""
        data = self._clean({**record, "type": "plan", "chain": CHAIN})
        if self._mask is not None:  # before the digest, which covers what is written
            line = _dumps(data)
            if self._mask(line) != line:  # the key is in it somewhere: mask it value by value
                data = self._mask(data)
        data["digest"] = digest_of(data)
        written = self._append(data, chained=False)
        log_record(self.path, written)
        return written

    @property
    def broken(self) -> bool:
        """True once a write failed: nothing more is written."""
        return self.failure is not None

    def close(self) -> None:
        """Flush to disk, close and let go of the lock (again: nothing)."""
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
                    self._handle.close()
                except OSError:
                    pass
                self._held.release()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
