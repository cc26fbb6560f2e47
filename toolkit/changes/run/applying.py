"""Apply a plan safely: side by side under the rate limit, journaled, resumable, undoable.

Example::

    plan = plan_metadata(df, set={"tier": "gold"})
    preview = apply(plan, session, dry_run=True)   # re-reads every source, reports drift, writes nothing
    outcome = apply(plan, session)                 # ok / skipped / failed / uncertain / drifted per row
    outcome.failed                                 # rows to look at; apply(plan, session) again retries them
    undo(outcome.journal, session)                 # restore the exact before state

For every ready row apply re-reads the source (by the cheapest route, see
:mod:`toolkit.changes.run.listing`; ``outcome.notes`` says which ran and the oldest state compared), compares
it with the plan, then writes (:mod:`toolkit.changes.run.runner` does one row):

- **drift**: if a field the row changes no longer has the plan's "before" value the row is refused
  as ``drifted`` (``on_drift="overwrite"`` writes anyway, journaling the real before state);
- **already done**: if the source already shows the planned state nothing is sent;
- **runs and keys**: each apply is a run with an id of its own, recorded in the journal, and
  every POST carries the key ``toolkit:<plan>:<run>:<source>:<action>``. Resuming a run that
  stopped mid-request reuses that request's key; a new run gets new keys, so Stripe never
  replays an old answer to a new change (after an undo, say). A row counts as applied only when
  Stripe's answer (or a re-read, for a replayed or lost answer) shows the new state. Detach (a
  DELETE, which takes no key) is made safe by re-reading.
- **journal**: one record before each request and one after, flushed at once
  (``./journals/<plan id>.jsonl``, mode 0600, one process at a time: the journal is held for
  the whole run, ``with Journal(...)``). Applying the same plan
  again, or passing ``resume=<journal>``, skips the rows the journal shows done; rows an undo
  restored are done no more. If the journal cannot be written (a full disk) nothing more is
  sent and :class:`~toolkit.errors.JournalError` carries the Outcome and the resume call (or,
  when not even the plan record fitted, says that nothing was written and to apply again).
- **rules, again**: a row's status is never taken on trust (a plan file's digest guards against
  accidents, not forgeries): the rows are checked against the plan builders' rules before
  anything is sent, and the rules about the source (a receiver holding money is never
  detached, Stripe's limits) against the state read just before each write.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from contextlib import AbstractContextManager, ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.changes.guards import check_same_account, check_session
from toolkit.changes.journal.file import check_journal_file, journal_path
from toolkit.changes.journal.reading import JournalState, journal_state_for
from toolkit.changes.journal.records import run_end, run_start
from toolkit.changes.journal.undone import OriginalJournal
from toolkit.changes.journal.writer import Journal
from toolkit.changes.kinds import kind_of, rows_refusal
from toolkit.changes.plans.approval import APPROVAL_VARIABLE, approval_record
from toolkit.changes.plans.plan import Plan
from toolkit.changes.plans.record import plan_record
from toolkit.changes.rows import PlanRow
from toolkit.changes.run.listing import Listing, account_clocks, account_customers, least_reads
from toolkit.changes.run.outcome import OUTCOME_COLUMNS, Outcome
from toolkit.changes.run.pool import Task, execute, rows_to_run, run_notes
from toolkit.changes.run.runner import Runner
from toolkit.errors import InvalidInputError, JournalError
from toolkit.fetch.loaded import LoadInfo
from toolkit.progress import Progress, ProgressArg
from toolkit.session.protocol import SessionLike
from toolkit.session.reads import APPLY_ADVICE, ReadMeter
from toolkit.session.settings import check_bool, read_dotenv, setting

__all__ = ["apply"]


def _new_run_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"run_{stamp}_{secrets.token_hex(3)}"


def _start_run(
    journal: Journal,
    plan: Plan,
    session: SessionLike,
    state: JournalState | None,
    *,
    run_id: str,
    tasks: list[Task],
    on_drift: str,
    resume_call: str,
    approval: dict[str, Any],
    rows: list[PlanRow],
) -> None:
    """Record the plan (unless the journal holds it already) and the run's start; a journal that
    cannot be written raises a :class:`~toolkit.errors.JournalError` saying what to do."""
    recorded = state is not None  # the journal holds the plan record
    try:
        if not recorded:
            journal.write_plan(plan_record(plan, session.account_label, session.mode, rows))
            recorded = True
        journal.write(
            run_start(
                run_id,
                rows=len(tasks),
                resume=state is not None,
                on_drift=on_drift,
                approval=approval,
            )
        )
    except JournalError as exc:
        if not recorded:  # no plan record: there is nothing to resume
            raise JournalError(
                f"{exc} The plan record did not fit, so nothing was written to Stripe and the "
                "journal records no plan: once the journal can be written, apply the plan again "
                "(the same call)."
            ) from exc
        raise JournalError(
            f"{exc} Nothing was sent. Once the journal can be written, run: {resume_call}",
            resume=resume_call,
        ) from exc


def _customers(hint: Any, plan: Plan, session: SessionLike) -> int | None:
    return account_customers(hint if hint is not None else plan.loaded, session)


def _reading(
    session: SessionLike, plan: Plan, tasks: list[Task], hint: Any, dry_run: bool
) -> AbstractContextManager[ReadMeter]:
    """The meter over a run's reads, held to the read allowance by the fewest reads its rows
    can take (refused before anything is sent or journaled when they would pass it)."""
    cost = least_reads(kind_of(plan.kind), tasks, _customers(hint, plan, session))
    operation = "undo" if plan.undoes else ("apply dry run" if dry_run else "apply")
    return session.reading(operation, cost=cost, advice=APPLY_ADVICE)


def apply(
    plan: Plan,
    session: SessionLike,
    *,
    dry_run: bool = False,
    journal: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    on_drift: str = "refuse",
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
    max_workers: int | None = None,
    hint: pd.DataFrame | LoadInfo | dict[str, Any] | None = None,
    require_approval: bool | None = None,
) -> Outcome:
    """Apply the ready rows of ``plan`` and return an :class:`Outcome` (one row per plan row).


    - ``journal``: a ``.jsonl`` file or a folder (default ``./journals``; the file is
      ``<plan id>.jsonl``). If that journal already exists the rows it shows done are skipped;
      an existing file that is not one of the toolkit's journals is refused, never appended to.
    - ``resume``: a journal from an earlier run of this plan; its done rows are skipped.
    - ``on_drift``: ``"refuse"`` (default) or ``"overwrite"``.
    - ``progress``: True (tqdm bar), False, or ``callable(done, total, label)``.
    - ``cancel``: a ``threading.Event``; once set no new request starts (also set on Ctrl-C,
      which then re-raises after the journal is consistent).
    - ``max_workers``: threads side by side (default ``session.max_workers``).
    - ``hint``: a whole-account frame from load_sources (or its ``attrs["toolkit"]``); default
      ``plan.loaded``. It tells apply the account's size, so it re-reads by listing the account
      only when that takes fewer requests than by customer. It only changes how sources are
      read, never what is compared.
    - ``require_approval``: does this write need the plan file approved by someone other than
      its maker (:func:`~toolkit.approve`)? None (default): ``$TOOLKIT_REQUIRE_APPROVAL`` when
      set, else yes for a live key only. False waives it (recorded in the journal). Dry runs
      and undos need none (:mod:`~toolkit.changes.plans.approval`).

    Every row is checked again before anything is sent, whatever its status says: a plan whose
    rows no plan builder makes (a ready row with params the builder's rules refuse, an unknown
    status) is refused whole, and every rule about the source itself (drift, a receiver holding
    money, Stripe's limits) is checked against the state read just before its write.

    Raises :class:`~toolkit.errors.LiveModeRefused` for a live session without ``allow_live``
    (not for dry runs); :class:`~toolkit.errors.ApprovalRequired` for a write of a plan no one
    but its maker approved when an approval is required (before anything is read or sent); :class:`~toolkit.errors.InvalidInputError` for a journal of another
    plan, an edited journal, a file that is not a journal, a plan with rows no plan builder
    makes, or a plan made on another account or mode;
    :class:`~toolkit.errors.JournalError` when another process holds the journal or it cannot
    be written (with the Outcome so far and the resume call);
    :class:`~toolkit.errors.ReadAllowanceError` when the re-reads would pass the read allowance
    (before anything is sent), or a read was refused mid-run (the Outcome is its ``partial``;
    the journal is consistent, resume later). ``outcome.reads`` is the GETs the run sent.

    >>> plan = toolkit.plan_metadata(sources.head(3), set={"reviewed": "2026-12"})
    >>> preview = toolkit.apply(plan, session, dry_run=True, progress=False)
    >>> preview.totals["would_apply"] + preview.totals["skipped"]
    3
    >>> toolkit.apply(plan, session, progress=False).ok
    True
    """
    if not isinstance(plan, Plan):
        raise InvalidInputError("apply() needs a Plan: build one with plan_metadata(...) etc.")
    check_session(session, "apply()")
    check_bool(dry_run, "dry_run")
    if on_drift not in ("refuse", "overwrite"):
        raise InvalidInputError(f"on_drift must be 'refuse' or 'overwrite', got {on_drift!r}.")
    if not dry_run:
        session.require_write()
    loaded = plan.loaded or LoadInfo()
    check_same_account(loaded.account, loaded.mode, session, f"The plan {plan.id}")
    rows = plan.rows()  # plain rows, made once: every check below reads these
    refusal = rows_refusal(plan.kind, rows)
    if refusal:
        raise InvalidInputError(
            f"The plan {plan.id} has rows no plan builder makes (was it edited?): {refusal}. "
            "Nothing was sent: make the plan again from fresh data (load_sources, then plan_...)."
        )
    approval: dict[str, Any] = {}
    if not dry_run:
        variable = setting(APPROVAL_VARIABLE, read_dotenv(Path.cwd() / ".env"))
        approval = approval_record(plan, session.mode, require_approval, variable)
    started = time.monotonic()
    if resume is not None:
        path = check_journal_file(resume)
        if not path.exists():
            raise InvalidInputError(f"No journal at {path} to resume from.")
    else:
        path = journal_path(journal, plan.id)
    resume_call = f"toolkit.apply(toolkit.load_plan({str(path)!r}), session, resume={str(path)!r})"
    run_id = _new_run_id()
    mask = session.mask
    stop = cancel if cancel is not None else threading.Event()
    with ExitStack() as held:  # the journals are let go of (closed) in reverse order
        writer: Journal | None = None
        original: OriginalJournal | None = None
        if dry_run:
            exists = path.exists() and path.stat().st_size > 0
            state = journal_state_for(path, plan, session, rows) if exists else None
            results, tasks = rows_to_run(plan, state, rows)
            meter = held.enter_context(_reading(session, plan, tasks, hint, dry_run))
        else:
            if plan.undoes:  # an undo holds the journal it undoes, too
                original = held.enter_context(OriginalJournal(plan, path.parent, mask))
            writer = held.enter_context(Journal(path, mask=mask))
            state = journal_state_for(path, plan, session, rows) if path.stat().st_size else None
            results, tasks = rows_to_run(plan, state, rows)
            meter = held.enter_context(_reading(session, plan, tasks, hint, dry_run))
            _start_run(
                writer,
                plan,
                session,
                state,
                run_id=run_id,
                tasks=tasks,
                on_drift=on_drift,
                resume_call=resume_call,
                approval=approval,
                rows=rows,
            )
        runner = Runner(
            plan,
            session,
            run_id=run_id,
            dry_run=dry_run,
            journal=writer,
            state=state,
            on_drift=on_drift,
            stop=stop,
            record_row=original.record_row if original is not None else None,
        )
        label = f"{'checking' if dry_run else 'applying'} {plan.action}"
        bar = Progress(progress, len(tasks), label)
        workers = max(1, min(max_workers or session.max_workers, len(tasks) or 1))
        customers = _customers(hint, plan, session)
        interrupted, listed = False, 0
        listing: Listing | None = None
        try:
            interrupted, listing, listed = execute(
                runner,
                tasks,
                results,
                workers=workers,
                customers=customers,
                bar=bar,
                clocks=account_clocks(hint if hint is not None else plan.loaded, session),
            )
        finally:
            df = pd.DataFrame([results[i] for i in sorted(results)], columns=OUTCOME_COLUMNS)
            outcome = Outcome(
                df=df,
                plan=plan,
                journal=None if dry_run else path,
                dry_run=dry_run,
                interrupted=interrupted,
                seconds=time.monotonic() - started,
                notes=run_notes(runner, listing, listed),
                reads=meter.reads,
            )
            failure = runner.failure or (original.failure if original is not None else None)
            if writer is not None and failure is None and not writer.broken:
                event = (
                    "interrupted" if interrupted else ("canceled" if stop.is_set() else "finish")
                )
                try:
                    writer.write(run_end(event, outcome.totals, session.api_version))
                except JournalError as exc:
                    failure = exc
    if runner.read_refusal is not None and failure is None:
        again = (
            "apply the plan again (the same call) once reads are left"
            if dry_run
            else (f"resume with: {resume_call}")
        )
        raise runner.read_refusal.keeping(
            outcome,
            f"The run stopped there: {outcome.headline()}; rows not started were not sent "
            f"(the Outcome is the error's .partial). To finish, {again}.",
        )
    if failure is not None:
        raise JournalError(
            f"{failure} {outcome.headline()}. Rows not started were not sent. Free some space "
            f"(or fix the folder), then resume with: {resume_call}",
            outcome=outcome,
            resume=resume_call,
        )
    if interrupted:
        print(
            f"Interrupted: {outcome.headline()}. The journal is consistent; resume with "
            f"apply(plan, session, resume={str(path)!r}).",
            file=sys.stderr,
        )
        raise KeyboardInterrupt
    return outcome
