"""The records of a journal, one JSON object per line: what each holds, and the builders.

- ``plan``, once, first: the plan record (:func:`~toolkit.changes.plans.record.plan_record`:
  ``plan_id, kind, action, created, irreversible, account, mode, notes, rows``, ``undoes`` for an
  undo plan), so a journal alone is enough to resume or undo; with ``chain``
  (:data:`~toolkit.changes.journal.file.CHAIN`) and ``digest``
  (:func:`~toolkit.changes.plans.record.digest_of` of the record as written).
- ``run``: ``event`` start (``run`` id, ``pid``, ``host``, ``user``, ``rows``, ``resume``,
  ``on_drift``, ``approval``: ``status`` approved with the plan file's ``digest``, its
  ``maker``, the ``checkers`` and when they ``approved``; or waived, ``how``; or not_required,
  ``why``; and ``by``, who ran it: :mod:`~toolkit.changes.plans.approval`),
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

Every record also carries ``time``, and every record after the plan record ``prev`` (the chain:
:mod:`~toolkit.changes.journal.file`). Writing them is :mod:`~toolkit.changes.journal.writer`,
reading them back :mod:`~toolkit.changes.journal.reading`.

>>> run_end("finish", {"done": 2}, "2024-06-20")["api_version"]
'2024-06-20'
"""

from __future__ import annotations

import getpass
import os
import socket
from collections.abc import Mapping
from typing import Any

from toolkit.changes.rows import PlanRow

__all__ = [
    "APPROVAL_STATUSES",
    "END_RESULTS",
    "RECORD_TYPES",
    "RUN_EVENTS",
    "begin_record",
    "end_record",
    "run_end",
    "run_start",
    "skip_record",
    "undo_record",
    "undone_record",
]

#: What an end record's ``result`` can say.
END_RESULTS = ("ok", "failed", "canceled", "uncertain")
#: Every record type, and the events of runs.
RECORD_TYPES = ("plan", "run", "begin", "end", "skip", "undo", "undone")
#: What an approval record's ``status`` can say.
APPROVAL_STATUSES = ("approved", "waived", "not_required")
RUN_EVENTS = ("start", "finish", "interrupted", "canceled", "aborted")


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def run_start(
    run: str,
    *,
    rows: int,
    resume: bool,
    on_drift: str,
    approval: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A run begins: its id (part of every idempotency key it sends), who runs it, and what
    approved it (``approval``)."""
    record: dict[str, Any] = {
        "type": "run",
        "event": "start",
        "run": run,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "user": _user(),
        "rows": rows,
        "resume": resume,
        "on_drift": on_drift,
    }
    if approval:
        record["approval"] = dict(approval)
    return record


def run_end(
    event: str, totals: Mapping[str, int], api_version: str | None = None
) -> dict[str, Any]:
    """A run ends: finish, interrupted, canceled or aborted, with its totals and the API version
    Stripe answered with (its ``Stripe-Version`` header; None when no answer came)."""
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
