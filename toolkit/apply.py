"""Apply a plan safely: side by side under the rate limit, journaled, resumable, undoable.

Example::

    plan = plan_metadata(df, set={"tier": "gold"})
    preview = apply(plan, session, dry_run=True)   # re-reads every source, reports drift, writes nothing
    outcome = apply(plan, session)                 # ok / skipped / failed / uncertain / drifted per row
    outcome.failed                                 # rows to look at; apply(plan, session) again retries them
    undo(outcome.journal, session)                 # restore the exact before state

For every ready row apply re-reads the source (by the cheapest route, see
:mod:`toolkit.listing`; ``outcome.notes`` says which ran and the oldest state compared), compares
it with the plan, then writes (:mod:`toolkit.runner` does one row):

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
  (``./journals/<plan id>.jsonl``, mode 0600, one process at a time). Applying the same plan
  again, or passing ``resume=<journal>``, skips the rows the journal shows done; rows an undo
  restored are done no more. If the journal cannot be written (a full disk) nothing more is
  sent and :class:`~toolkit.errors.JournalError` carries the Outcome and the resume call.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import CancelledError as FutureCancelled
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError, JournalError
from toolkit.journal import Journal, JournalState, host, journal_path, read_journal
from toolkit.listing import (
    LOOKAHEAD_PER_WORKER,
    Listing,
    account_customers,
    by_customer_cost,
    chunks,
    listable,
    use_listing,
)
from toolkit.outcome import OUTCOME_COLUMNS, RESULTS, Outcome, outcome_row
from toolkit.plans import PLAN_COLUMNS, Plan
from toolkit.runner import MAX_STATE_AGE, Runner, idempotency_key
from toolkit.settings import check_bool
from toolkit.undo_book import UndoBook

__all__ = [
    "OUTCOME_COLUMNS",
    "RESULTS",
    "Outcome",
    "apply",
    "check_same_account",
    "check_session",
    "idempotency_key",
    "load_plan",
]

ProgressArg = bool | Callable[[int, int, str], Any] | None
_SESSION_PARTS = ("call", "client", "mode", "require_write")


def check_session(session: Any, what: str) -> None:
    """Refuse anything but a Session (from :func:`toolkit.connect`) with a message naming the fix."""
    if isinstance(session, str | bytes) or not all(hasattr(session, a) for a in _SESSION_PARTS):
        hint = ""
        if isinstance(session, str) and session.startswith(("sk_", "rk_")):
            hint = " (that looks like an API key: pass session = toolkit.connect(key) instead)"
        raise InvalidInputError(
            f"{what} needs a session from toolkit.connect(...), not {type(session).__name__}{hint}."
        )


def check_same_account(account: Any, mode: Any, session: Any, what: str) -> None:
    """Refuse work recorded on one account or mode from running on another, naming both."""
    if account is None and mode is None:
        return
    here_account = getattr(session, "account_label", None)
    here_mode = getattr(session, "mode", None)
    if (account is not None and account != here_account) or (
        mode is not None and mode != here_mode
    ):
        raise InvalidInputError(
            f"{what} was made on {account} ({mode} mode) but this session is connected to "
            f"{here_account} ({here_mode} mode): connect to that account, or make a new plan "
            "from this account's sources (load_sources, then plan_...)."
        )


def missing_plan(path: Path, state: JournalState) -> InvalidInputError:
    """The error for a journal without a plan record: the run stopped while writing it."""
    return InvalidInputError(
        f"{path} holds no plan record: the run stopped while recording the plan, before any "
        "request, so nothing was written to Stripe: apply the plan again (the same call, with "
        "this journal or after deleting it)."
    )


def load_plan(journal: str | os.PathLike[str]) -> Plan:
    """Rebuild the plan a journal records (same id), e.g. to resume it in a new process.

    ``apply(load_plan("journals/plan_x.jsonl"), session, resume="journals/plan_x.jsonl")``

    The journal is checked first (its digest, its records, its rows against its kind): an edited
    or damaged one raises :class:`~toolkit.errors.InvalidInputError` naming the file and line.
    """
    path = Path(journal)
    state = read_journal(path)
    if state.plan is None:
        raise missing_plan(path, state)
    header = state.plan
    df = pd.DataFrame(header["rows"], columns=PLAN_COLUMNS)
    return Plan(
        id=header["plan_id"],
        kind=header["kind"],
        df=df,
        notes=list(header.get("notes") or []),
        created=header.get("created", ""),
        loaded={"account": header.get("account"), "mode": header.get("mode")},
        undoes=header.get("undoes"),
    )


def _plan_header(plan: Plan, session: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "plan_id": plan.id,
        "kind": plan.kind,
        "action": plan.action,
        "created": plan.created,
        "irreversible": plan.irreversible,
        "account": getattr(session, "account_label", None),
        "mode": getattr(session, "mode", None),
        "notes": plan.notes,
        "rows": plan.rows(),
    }
    if plan.undoes:
        record["undoes"] = plan.undoes
    return record


def _journal_state(path: Path, plan: Plan, session: Any) -> JournalState | None:
    """The checked state of an existing journal for ``plan`` (None: it records nothing yet)."""
    state = read_journal(path)
    if state.plan is None:
        return None  # the plan record was never finished: nothing was sent
    if state.plan_id != plan.id:
        raise InvalidInputError(
            f"{path} is the journal of plan {state.plan_id}, not {plan.id}: "
            "pass that plan (load_plan(path) rebuilds it) or another journal."
        )
    if state.plan["rows"] != plan.rows():
        raise InvalidInputError(
            f"{path} records plan {plan.id} with other rows than the plan given (was the plan "
            "changed after its first run?): resume it with load_plan(path), or make a new plan "
            "for a different change."
        )
    header = state.plan
    check_same_account(header.get("account"), header.get("mode"), session, f"the journal {path}")
    return state


def _new_run_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"run_{stamp}_{secrets.token_hex(3)}"


class _Progress:
    def __init__(self, progress: ProgressArg, total: int, label: str) -> None:
        self.total, self.label, self.done = total, label, 0
        self.callback = progress if callable(progress) else None
        self.bar = None
        if progress is True and total:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=label, unit="row", leave=True)
        if self.callback:
            self.callback(0, total, label)

    def step(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(1)
        if self.callback:
            self.callback(self.done, self.total, self.label)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _triage(
    plan: Plan, state: JournalState | None
) -> tuple[dict[int, dict[str, Any]], list[tuple[int, dict[str, Any]]]]:
    """Rows settled without a request (invalid, no-op, done in an earlier run) and rows to run."""
    results: dict[int, dict[str, Any]] = {}
    tasks: list[tuple[int, dict[str, Any]]] = []
    done = state.done if state else {}
    for index, row in enumerate(plan.rows()):
        key = (int(row["row"]), str(row["source"]))
        if row["status"] == "invalid":
            results[index] = outcome_row(row, "skipped", f"invalid in plan: {row['reason']}")
        elif row["status"] == "noop":
            results[index] = outcome_row(
                row, "skipped", f"no change: {row['reason'] or 'nothing to do'}"
            )
        elif key in done:
            end = done[key]
            results[index] = outcome_row(
                row,
                "skipped",
                "done in an earlier run (journal)",
                end.get("request_id"),
                None,
                end.get("after"),
            )
        else:
            tasks.append((index, row))
    return results, tasks


def _execute(
    runner: Runner,
    tasks: list[tuple[int, dict[str, Any]]],
    results: dict[int, dict[str, Any]],
    *,
    workers: int,
    customers: int | None,
    bar: _Progress,
) -> tuple[bool, Listing | None, int]:
    """Run ``tasks`` in a thread pool (and the account listing, when it is cheaper), filling
    ``results``; returns (interrupted, listing, rows read by listing)."""
    stop, kind = runner.stop, runner.kind
    interrupted = False
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="toolkit-apply")
    futures: dict[Future[list[tuple[int, dict]]], list[tuple[int, dict[str, Any]]]] = {}
    fresh: list[Future[list[tuple[int, dict]]]] = []
    lock = threading.Lock()

    def submit(chunk: list[tuple[int, dict[str, Any]]], fn: Callable[..., Any], *args: Any) -> Any:
        future = executor.submit(fn, *args)
        with lock:
            futures[future] = chunk
            fresh.append(future)
        return future

    listed = [item for item in tasks if listable(kind, item[1])]
    if not listed or not use_listing(by_customer_cost(listed), customers):
        listed = []
    reader: threading.Thread | None = None
    listing: Listing | None = None
    try:
        in_listing = {index for index, _ in listed}
        for chunk in chunks(kind, [t for t in tasks if t[0] not in in_listing]):
            submit(chunk, runner.run_chunk, chunk)
        if listed:
            listing = Listing(
                runner,
                listed,
                submit=submit,
                lookahead=LOOKAHEAD_PER_WORKER * workers,
                customers=customers,
            )
            reader = threading.Thread(target=listing.run, name="toolkit-apply-list", daemon=True)
            reader.start()
        pending: set[Future[list[tuple[int, dict]]]] = set()
        while True:
            alive = reader is not None and reader.is_alive()
            with lock:
                pending.update(fresh)
                fresh.clear()
            if not pending:
                if not alive:
                    break
                assert reader is not None
                reader.join(0.05)
                continue
            finished, pending = wait(pending, timeout=0.2, return_when="FIRST_COMPLETED")
            for future in finished:
                for index, result in future.result():
                    results[index] = result
                    bar.step()
    except KeyboardInterrupt:
        interrupted = True
        stop.set()
    except BaseException:
        stop.set()
        raise
    finally:
        stop_now = interrupted or stop.is_set()
        if reader is not None:
            reader.join()
        executor.shutdown(wait=True, cancel_futures=stop_now)
        for future, chunk in futures.items():
            try:
                done_rows = dict(future.result())
            except FutureCancelled:
                done_rows = {}
            for index, row in chunk:
                if index not in results:
                    results[index] = done_rows.get(index) or outcome_row(
                        row, "canceled", "stopped before it started"
                    )
        for index, row in tasks:  # never handed to a worker
            if index not in results:
                results[index] = outcome_row(row, "canceled", "stopped before it started")
        bar.close()
    return interrupted, listing, len(listed)


def _notes(runner: Runner, listing: Listing | None, listed: int) -> list[str]:
    notes = []
    if listing is not None:
        notes.append(
            f"re-read {listing.handed} of {listed} sources by listing the account "
            f"({listing.pages} customer pages, {listing.requests - listing.pages} continuations)"
            + (f"; the listing stopped early: {listing.error}" if listing.error else "")
        )
    if runner.oldest or runner.stale:
        notes.append(
            f"the oldest state read in bulk and compared was {runner.oldest:.1f} s old "
            f"(limit {MAX_STATE_AGE:.0f} s; {runner.stale} older ones read again by id)"
        )
    return notes


def _open(
    plan: Plan, session: Any, path: Path, mask: Any
) -> tuple[Journal, UndoBook | None, JournalState | None]:
    """Lock the journal (and, for an undo, the journal it undoes) and read where it stands."""
    book = UndoBook(plan, path.parent, mask) if plan.undoes else None
    try:
        writer = Journal(path, mask=mask)
    except BaseException:
        if book is not None:
            book.close()
        raise
    try:
        state = _journal_state(path, plan, session) if path.stat().st_size else None
    except BaseException:
        writer.close()
        if book is not None:
            book.close()
        raise
    return writer, book, state


def apply(
    plan: Plan,
    session: Any,
    *,
    dry_run: bool = False,
    journal: str | os.PathLike[str] | None = None,
    resume: str | os.PathLike[str] | None = None,
    on_drift: str = "refuse",
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
    max_workers: int | None = None,
    hint: pd.DataFrame | dict[str, Any] | None = None,
) -> Outcome:
    """Apply the ready rows of ``plan`` and return an :class:`Outcome` (one row per plan row).

    ``outcome = apply(plan, session)``; ``apply(plan, session, dry_run=True)`` to preview.

    - ``journal``: a file or folder (default ``./journals``; the file is ``<plan id>.jsonl``).
      If that journal already exists the rows it shows done are skipped.
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

    Raises :class:`~toolkit.errors.LiveModeRefused` for a live session without ``allow_live``
    (not for dry runs); :class:`~toolkit.errors.InvalidInputError` for a journal of another
    plan, an edited journal, or a plan made on another account or mode;
    :class:`~toolkit.errors.JournalError` when another process holds the journal or it cannot
    be written (with the Outcome so far and the resume call).
    """
    if not isinstance(plan, Plan):
        raise InvalidInputError("apply() needs a Plan: build one with plan_metadata(...) etc.")
    check_session(session, "apply()")
    check_bool(dry_run, "dry_run")
    if on_drift not in ("refuse", "overwrite"):
        raise InvalidInputError(f"on_drift must be 'refuse' or 'overwrite', got {on_drift!r}.")
    if not dry_run:
        session.require_write()
    loaded = plan.loaded or {}
    check_same_account(loaded.get("account"), loaded.get("mode"), session, f"The plan {plan.id}")
    started = time.monotonic()
    path = Path(resume) if resume is not None else journal_path(journal, plan.id)
    if resume is not None and not path.exists():
        raise InvalidInputError(f"No journal at {path} to resume from.")
    resume_call = f"toolkit.apply(toolkit.load_plan({str(path)!r}), session, resume={str(path)!r})"
    mask = getattr(session, "mask", None)
    run_id = _new_run_id()
    writer: Journal | None = None
    book: UndoBook | None = None
    if dry_run:
        state = (
            _journal_state(path, plan, session) if path.exists() and path.stat().st_size else None
        )
    else:
        writer, book, state = _open(plan, session, path, mask)
    results, tasks = _triage(plan, state)
    try:
        if writer is not None:
            if state is None:
                writer.write_plan(_plan_header(plan, session))
            writer.write(
                {
                    "type": "run",
                    "event": "start",
                    "run": run_id,
                    "pid": os.getpid(),
                    "host": host(),
                    "rows": len(tasks),
                    "resume": state is not None,
                    "on_drift": on_drift,
                }
            )
    except JournalError as exc:
        if writer is not None:
            writer.close()
        if book is not None:
            book.close()
        raise JournalError(
            f"{exc} Nothing was sent. Once the journal can be written, run: {resume_call}",
            resume=resume_call,
        ) from exc
    stop = cancel if cancel is not None else threading.Event()
    runner = Runner(
        plan,
        session,
        run_id=run_id,
        dry_run=dry_run,
        journal=writer,
        state=state,
        on_drift=on_drift,
        stop=stop,
        settle=book.settle if book is not None else None,
    )
    label = f"{'checking' if dry_run else 'applying'} {plan.action}"
    bar = _Progress(progress, len(tasks), label)
    workers = max(1, min(max_workers or getattr(session, "max_workers", 8), len(tasks) or 1))
    customers = account_customers(hint if hint is not None else plan.loaded, session)
    interrupted, listing, listed = False, None, 0
    try:
        interrupted, listing, listed = _execute(
            runner, tasks, results, workers=workers, customers=customers, bar=bar
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
            notes=_notes(runner, listing, listed),
        )
        failure = runner.failure or (book.failure if book is not None else None)
        if writer is not None:
            event = "interrupted" if interrupted else ("canceled" if stop.is_set() else "finish")
            if failure is None and not writer.broken:
                try:
                    writer.write({"type": "run", "event": event, "totals": outcome.totals})
                except JournalError as exc:
                    failure = exc
            writer.close()
        if book is not None:
            book.close()
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
