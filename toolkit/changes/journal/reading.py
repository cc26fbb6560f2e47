"""Reading a journal back, and checking it: a journal is evidence. What it says
(:class:`JournalState`), the plan it records (:func:`load_plan`), and whether it fits the plan a
run resumes (:func:`journal_state_for`).

A line cut short by a crash is tolerated where a crash can leave one; anything else that does not
fit (an unknown record, a row not in the plan, an action of another kind, a plan record that does
not match its digest, a record that does not chain to the one before it) raises
:class:`~toolkit.errors.InvalidInputError` naming the file and line.

>>> state = read_journal(outcome.journal)
>>> len(state.done), len(state.unresolved), state.chained
(2, 0, True)
>>> again = toolkit.load_plan(outcome.journal)
>>> again.id == outcome.plan.id, again.counts["ready"]
(True, 2)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.changes.guards import check_same_account
from toolkit.changes.journal.file import CHAIN, line_hash
from toolkit.changes.journal.records import END_RESULTS, RECORD_TYPES, RUN_EVENTS
from toolkit.changes.kinds import KINDS, rows_refusal
from toolkit.changes.plans.plan import Plan
from toolkit.changes.plans.record import digest_of, plan_from_record
from toolkit.changes.rows import PlanRow
from toolkit.errors import InvalidInputError
from toolkit.session.protocol import SessionLike

__all__ = ["JournalState", "journal_state_for", "load_plan", "missing_plan", "read_journal"]

_FIX = (
    "A journal is evidence and is never repaired: restore it from a backup, or make a new plan "
    "from fresh data (load_sources) and apply that."
)


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
    #: True when every record carries the hash of the one before (see
    #: :mod:`~toolkit.changes.journal.file`); False for a journal written before the chain.
    chained: bool = False
    #: The line of the last record: a record there is followed by nothing that proves it.
    last_line: int = 0

    def proven(self, record: dict[str, Any]) -> bool:
        """Is ``record`` proven by the chain: the journal is chained and a later record carries
        a hash that covers it (every record but the last)?"""
        return self.chained and record["seq"] < self.last_line

    def refuse_unchained(self, what: str) -> None:
        """Refuse to ``what`` (resume, undo) a journal written before the chain."""
        if not self.chained:
            raise InvalidInputError(
                f"{self.path} was written by an earlier toolkit, without the chain that proves "
                f"its records (each carrying the hash of the one before), so it is not used to "
                f"{what}: it can still be read (read_journal, load_plan). To finish the plan, "
                "apply load_plan(path) with a new journal (journal='journals/again'): every row "
                "is read again and rows already done are skipped."
            )

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


def _not_a_journal(path: Path, line: int) -> InvalidInputError:
    return InvalidInputError(
        f"{path} is not a journal of this toolkit (line {line} is not a plan record, nor a "
        "record of one): pass the .jsonl file apply() wrote."
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_record(record: dict[str, Any], kind: str | None, rows: set[Key]) -> str | None:
    """Why a record (other than the plan) is malformed for this journal, or None."""
    rtype = record.get("type")
    if rtype == "run":
        if record.get("event") not in RUN_EVENTS:
            return f"run event {record.get('event')!r} is not one of {', '.join(RUN_EVENTS)}"
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
    action = KINDS[kind].action if kind in KINDS else None
    if rtype in ("begin", "end") and record.get("action", action) != action:
        return f"action {record['action']!r} does not fit a {kind} plan"
    if rtype == "begin" and not isinstance(record.get("params"), dict):
        return "begin record whose params are not a hash"
    if rtype == "end" and record.get("result") not in END_RESULTS:
        return f"result {record.get('result')!r} is not one of {', '.join(END_RESULTS)}"
    return None


def _chain_problem(
    record: dict[str, Any], state: JournalState, previous: tuple[int, str] | None
) -> str | None:
    """Why a record (after the plan record) breaks the journal's chain, or None."""
    if state.plan is None:
        return None  # refused as a record before the plan record
    if not state.chained:
        if "prev" in record:
            return "a chained record in a journal whose plan record has no chain"
        return None
    if previous is not None and record.get("prev") == previous[1]:
        return None
    return (
        "this record does not follow the record before it (line "
        f"{previous[0] if previous else '?'}): its prev is not that line's hash, so a line was "
        "edited, removed or reordered there"
    )


def _check_plan(path: Path, line: int, record: dict[str, Any]) -> None:
    if record.get("chain") not in (None, CHAIN):
        raise _fail(path, line, f"unknown chain {record.get('chain')!r} (a newer toolkit?)")
    if record.get("digest") != digest_of(record):
        raise _fail(
            path,
            line,
            "the plan record does not match its digest (it was edited, or written by a toolkit "
            "before 0.2)",
        )
    if not isinstance(record.get("plan_id"), str):
        raise _fail(path, line, "the plan record has no plan id")
    kind = KINDS.get(record.get("kind"))  # type: ignore[arg-type]
    shown = rows_refusal(record.get("kind"), record.get("rows"))
    if kind is not None and record.get("action") != kind.action:
        wrong = f"action {record.get('action')!r} does not fit its kind"
        shown = f"{wrong}; {shown}" if shown else wrong
    if shown:
        raise _fail(path, line, f"the plan's rows do not fit a {record.get('kind')} plan: {shown}")


def read_journal(path: str | os.PathLike[str]) -> JournalState:
    """Read and check a journal file; returns its :class:`JournalState`.

    A line cut short by a crash is counted and skipped when it is the last one, or when the next
    record starts a new run (or writes the plan record again). Anything else that does not fit,
    a plan record that does not match its digest, or a record whose ``prev`` is not the hash of
    the record line before it (a line edited, removed or reordered) raises
    :class:`~toolkit.errors.InvalidInputError` naming the file and the line. A journal written
    before the chain is read (``chained`` is False) but not resumed or undone.

    ``read_journal("journals/plan_x.jsonl").done``
    """
    target = Path(path)
    if not target.is_file():
        raise InvalidInputError(f"No journal at {target}: pass the .jsonl file apply() wrote.")
    raw = target.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad_line = raw[: exc.start].count(b"\n") + 1
        raise _fail(
            target, bad_line, "this is not UTF-8 text, so not a journal the toolkit wrote"
        ) from None
    state = JournalState(path=target)
    damaged: list[int] = []  # lines cut short, waiting for what follows them
    ready: set[Key] = set()
    previous: tuple[int, str] | None = None  # the last record's line and line_hash
    for number, line in enumerate(text.split("\n"), start=1):  # not splitlines: U+2028 is data
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if state.plan is None and not damaged and not line.startswith('{"'):
                raise _not_a_journal(target, number) from None
            damaged.append(number)
            continue
        rtype = record.get("type") if isinstance(record, dict) else None
        if state.plan is None and rtype not in RECORD_TYPES:
            raise _not_a_journal(target, number)
        if not isinstance(record, dict):
            raise _fail(target, number, "a journal line holds one JSON object, this one does not")
        if rtype not in RECORD_TYPES:
            raise _fail(target, number, f"unknown record type {rtype!r}")
        restart = (rtype == "run" and record.get("event") == "start") or (
            rtype == "plan" and state.plan is None
        )
        if damaged and not restart:
            raise _fail(target, damaged[0], "this line is not a JSON record")
        state.damaged_lines += len(damaged)
        damaged.clear()
        if rtype != "plan":
            problem = _chain_problem(record, state, previous)
            if problem:
                raise _fail(target, number, problem)
        previous = (number, line_hash(line))
        state.last_line = number
        record["seq"] = number
        if rtype == "plan":
            if state.plan is not None:
                raise _fail(target, number, "a second plan record")
            _check_plan(target, number, record)
            state.plan = record
            state.chained = record.get("chain") == CHAIN
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


def missing_plan(path: Path) -> InvalidInputError:
    """The error for a journal without a plan record: the run stopped while writing it."""
    return InvalidInputError(
        f"{path} holds no plan record: the run stopped while recording the plan, before any "
        "request, so nothing was written to Stripe: apply the plan again (the same call, with "
        "this journal or after deleting it)."
    )


def load_plan(journal: str | os.PathLike[str]) -> Plan:
    """Rebuild the plan a journal records (same id), e.g. to resume it in a new process.

    ``apply(load_plan("journals/plan_x.jsonl"), session, resume="journals/plan_x.jsonl")``

    The journal is checked first (its digest, its chain of records, its rows against its kind):
    an edited or damaged one raises :class:`~toolkit.errors.InvalidInputError` naming the file
    and line. A journal written before the chain is read, but apply will not resume it.

    >>> toolkit.load_plan(outcome.journal).id == outcome.plan.id
    True
    """
    path = Path(journal)
    state = read_journal(path)
    if state.plan is None:
        raise missing_plan(path)
    header = state.plan
    return plan_from_record(header)


def journal_state_for(
    path: Path, plan: Plan, session: SessionLike, rows: list[PlanRow] | None = None
) -> JournalState | None:
    """The checked state of an existing journal for ``plan`` (None: it records nothing yet);
    ``rows``: ``plan.rows()`` when the caller has them already."""
    state = read_journal(path)
    if state.plan is None:
        return None  # the plan record was never finished: nothing was sent
    state.refuse_unchained("resume")
    if state.plan_id != plan.id:
        raise InvalidInputError(
            f"{path} is the journal of plan {state.plan_id}, not {plan.id}: "
            "pass that plan (load_plan(path) rebuilds it) or another journal."
        )
    if state.plan["rows"] != (plan.rows() if rows is None else rows):
        raise InvalidInputError(
            f"{path} records plan {plan.id} with other rows than the plan given (was the plan "
            "changed after its first run?): resume it with load_plan(path), or make a new plan "
            "for a different change."
        )
    header = state.plan
    check_same_account(header.get("account"), header.get("mode"), session, f"the journal {path}")
    return state
