"""The per-row work of apply(): read the source, compare it with the plan, write, journal.

A row counts as applied only when Stripe's answer shows the new state. A reply that Stripe
replayed for the row's idempotency key (``Idempotent-Replayed: true``) is not proof of the state
now, so the source is read again; a failure after which the request may have landed (a 5xx, a
dropped connection) is resolved the same way, and reported ``uncertain`` when it cannot be.

Every request is journaled before it is sent (a begin record) and after (an end record); when the
journal cannot be written nothing more is sent. What a kind of change reads, compares and writes
is its :class:`~toolkit.changes.kinds.base.ChangeKind`: the runner never asks which kind it runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from toolkit.changes.journal.reading import JournalState
from toolkit.changes.journal.records import begin_record, end_record, skip_record
from toolkit.changes.journal.writer import Journal
from toolkit.changes.plans.plan import Plan
from toolkit.changes.rows import PlanRow
from toolkit.changes.run.outcome import outcome_row
from toolkit.changes.text import unicode_problem
from toolkit.errors import (
    Cancelled,
    JournalError,
    NotFoundError,
    ReadAllowanceError,
    StripeRequestError,
)
from toolkit.fetch.customer_sources import iter_customer_sources
from toolkit.fetch.pool import FIRST, RequestPool
from toolkit.session import Session

__all__ = ["MAX_STATE_AGE", "Runner", "idempotency_key", "row_message"]

#: A state read in bulk is compared with the plan only while younger than this many seconds
#: (counted from when its read request was sent); an older one is read again by id first.
MAX_STATE_AGE = 10.0
_CONFIRMED = "confirmed by re-read: an earlier run applied it"
_WRITTEN = "done: Stripe's answer shows the new state"
_RESTORED = "Stripe's answer shows the state from before the change"
Key = tuple[int, str]


def idempotency_key(plan_id: str, run_id: str, source: str, action: str) -> str:
    """The idempotency key of one row in one run: ``toolkit:<plan>:<run>:<source>:<action>``.

    A key belongs to one journaled attempt: resuming that run reuses it, a new run (for example
    after an undo) gets a new one, so Stripe never replays an old answer to a new change.

    >>> idempotency_key("plan_x", "run_1", "src_1", "update_metadata")
    'toolkit:plan_x:run_1:src_1:update_metadata'
    """
    return f"toolkit:{plan_id}:{run_id}:{source}:{action}"


def row_message(exc: BaseException) -> tuple[str, str | None]:
    """A row's message for a failed request, and Stripe's request id."""
    if isinstance(exc, StripeRequestError):
        text = exc.detail
        if exc.error_type == "idempotency_error":
            text += (
                " (this row's idempotency key was already used with other parameters: "
                "was the journal changed? Make a new plan for a different change.)"
            )
        return text, exc.request_id
    return f"{type(exc).__name__}: {exc}", None


def _unsendable(value: Any, where: str = "params") -> str | None:
    """Why ``value`` (a row's params) cannot be sent as text, or None."""
    if isinstance(value, str):
        return unicode_problem(value, where)
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _unsendable(str(key), f"key {key!r}") or _unsendable(item, f"{key!r}")
            if problem:
                return problem
    return None


class Runner:
    """The per-row work of one apply() call; methods run in worker threads."""

    def __init__(
        self,
        plan: Plan,
        session: Session,
        *,
        run_id: str,
        dry_run: bool,
        journal: Journal | None,
        state: JournalState | None,
        on_drift: str,
        stop: threading.Event,
        record_row: Callable[[Key, dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.plan = plan
        self.change = plan.change
        self.session = session
        self.run_id = run_id
        self.dry_run = dry_run
        self.journal = journal
        self.state = state
        self.on_drift = on_drift
        self.stop = stop
        #: For an undo: records each row's outcome in the original journal, and returns it as
        #: the undo reports it (:meth:`~toolkit.changes.journal.undone.OriginalJournal.record_row`).
        self.record_row = record_row
        self.ages_lock = threading.Lock()
        self.oldest = 0.0  # seconds: the oldest bulk-read state compared with the plan
        self.stale = 0  # bulk-read states too old to compare, read again by id
        self.failure: JournalError | None = None  # the first journal write that failed
        #: The read allowance refused a read: nothing more is sent (the run stops as if canceled).
        self.read_refusal: ReadAllowanceError | None = None
        self.unresolved = set(state.unresolved) if state is not None else set()
        #: The scheduler every read of the run goes through (fetch's pool, served for the run:
        #: :func:`~toolkit.changes.run.pool.execute` sets it); None: reads are sent directly.
        self.reads: RequestPool | None = None

    # -- journal ----------------------------------------------------------------------------
    def _log(self, record: dict[str, Any]) -> bool:
        """Journal one record; False (and nothing more is sent) when the journal failed."""
        if self.journal is None:
            return True
        try:
            self.journal.write({"run": self.run_id, **record})
            return True
        except JournalError as exc:
            self.failure = self.failure or exc
            self.stop.set()
            return False

    def _end(self, row: PlanRow, result: str, message: str, **fields: Any) -> str:
        if self._log(end_record(row, result, message, **fields)):
            return message
        return f"{message} (the journal could not record this: resume to confirm it)"

    def refuse_reads(self, exc: ReadAllowanceError) -> None:
        """A read was refused for the read allowance: stop the run (rows not started are
        canceled, and apply raises the refusal once the journal is consistent)."""
        self.read_refusal = self.read_refusal or exc
        self.stop.set()

    # -- reading ----------------------------------------------------------------------------
    def reader(self, priority: int, read: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
        """``read`` (a typed session read) as the run sends it: through :attr:`reads` in its
        turn (``priority``: :mod:`toolkit.fetch.pool`'s), canceled with the run."""
        reads = self.reads
        if reads is None:
            return lambda *args, cancel=None: read(*args, cancel=self.stop)
        return lambda *args, cancel=None: reads.call(priority, read, *args)

    def read(self, source: str) -> Any:
        """The source's current state (one GET)."""
        return self.change.state_of(self.reader(FIRST, self.session.retrieve_source)(source))

    def prefetch(self, customer: str, wanted: set[str]) -> dict[str, Any]:
        """Read the sources of one customer with its list (100 a page) instead of one GET each.

        Stops once every wanted source is found, and after ``len(wanted)`` pages at most, so it
        never costs more requests than reading the sources one by one.
        """
        found: dict[str, Any] = {}
        read = self.reader(FIRST, self.session.list_customer_sources)
        pages = iter_customer_sources(read, customer)
        for _ in range(len(wanted)):
            data = next(pages, None)
            if data is None:
                break
            found.update((obj["id"], obj) for obj in data if obj.get("id") in wanted)
            if wanted <= found.keys():
                break
        return found

    # -- rows -------------------------------------------------------------------------------
    def run_chunk(self, chunk: list[tuple[int, PlanRow]]) -> list[tuple[int, dict]]:
        """Run rows of one customer: one list read for all of them, then each row's write."""
        found: dict[str, Any] = {}
        read_at = time.monotonic()
        if len(chunk) > 1 and not self.stop.is_set():
            customer = str(chunk[0][1]["customer"])
            try:
                found = self.prefetch(customer, {str(row["source"]) for _, row in chunk})
            except Cancelled:
                pass
            except ReadAllowanceError as exc:
                self.refuse_reads(exc)
            except Exception:  # each row then reads its source by id
                found = {}
        return [
            (index, self.run(row, found.get(str(row["source"])), read_at)) for index, row in chunk
        ]

    def run_one(
        self, index: int, row: PlanRow, obj: dict[str, Any], read_at: float
    ) -> list[tuple[int, dict]]:
        """Run one row whose source the account listing returned (``obj``, read at ``read_at``)."""
        return [(index, self.run(row, obj, read_at))]

    def run(
        self,
        row: PlanRow,
        prefetched: dict[str, Any] | None = None,
        read_at: float | None = None,
    ) -> dict[str, Any]:
        """One row: compare the source's current state with the plan, then write (or not).

        ``prefetched`` is the source as a bulk read returned it, ``read_at`` the
        ``time.monotonic()`` at which that read was sent; a state older than
        :data:`MAX_STATE_AGE` seconds is read again by id before comparing.
        """
        if prefetched is not None and read_at is not None:
            age = time.monotonic() - read_at
            with self.ages_lock:
                if age > MAX_STATE_AGE:
                    prefetched = None
                    self.stale += 1
                else:
                    self.oldest = max(self.oldest, age)
        try:
            result = self._run(row, prefetched)
        except Cancelled:
            result = outcome_row(row, "canceled", "stopped before the request was sent")
        except ReadAllowanceError as exc:
            self.refuse_reads(exc)
            result = outcome_row(row, "canceled", "not sent: the read allowance is reached")
        except Exception as exc:  # one failing row never stops the others
            message, request_id = row_message(exc)
            result = outcome_row(row, "failed", message, request_id)
        if self.record_row is not None and not self.dry_run:
            result = self.record_row((int(row["row"]), str(row["source"])), result)
        return result

    def _skip(self, key: Key, message: str) -> None:
        if not self.dry_run:
            self._log(skip_record(key, message))

    def _current(self, row: PlanRow, prefetched: dict[str, Any] | None) -> Any:
        if prefetched is not None:
            return self.change.state_of(prefetched)
        return self.read(str(row["source"]))

    def _run(self, row: PlanRow, prefetched: dict[str, Any] | None) -> dict[str, Any]:
        key = (int(row["row"]), str(row["source"]))
        change = self.change
        if self.stop.is_set():
            return outcome_row(row, "canceled", "stopped before the request was sent")
        try:
            current = self._current(row, prefetched)
        except StripeRequestError as exc:
            message, request_id = row_message(exc)
            if isinstance(exc, NotFoundError):
                message = f"no such source {row['source']} on this account ({message})"
            return outcome_row(row, "failed", message, request_id)
        if change.is_done(row, current):
            if key in self.unresolved and not self.dry_run:
                message = self._end(row, "ok", _CONFIRMED, after=current)
                return outcome_row(row, "ok", message, None, None, current)
            self._skip(key, change.already)
            done = outcome_row(row, "skipped", change.already, None, current, current)
            return {**done, "why": "already"}
        drift = change.drift(row, current)
        if drift and self.on_drift == "refuse":
            message = f"drifted: {drift}; nothing sent (re-plan from fresh data)"
            self._skip(key, message)
            return outcome_row(row, "drifted", message, None, current, None)
        problem = self._precheck(row, current)
        if problem:
            self._skip(key, problem)
            return outcome_row(row, "failed", problem, None, current, None)
        if self.dry_run:
            message = row["change"] or "would apply"
            if drift:
                message = f"{message} (overwriting drift: {drift})"
            return outcome_row(row, "would_apply", message, None, current, None)
        if self.stop.is_set():
            return outcome_row(
                row, "canceled", "stopped before the request was sent", None, current
            )
        attempt = self._attempt(key)
        sent = change.to_send(row, current)  # e.g. a whole owner address: this state + the change
        if not self._log(begin_record(sent, attempt, current, drift)):
            message = "not sent: the journal could not be written"
            return outcome_row(row, "canceled", message, None, current)
        return self._send(sent, attempt, current)

    def _precheck(self, row: PlanRow, current: Any) -> str | None:
        problem = _unsendable(row["params"])
        if problem:
            return f"cannot be sent: {problem}"
        return self.change.precheck(row, current)

    def _attempt(self, key: Key) -> str:
        """The run whose idempotency key this row's request carries (see JournalState)."""
        if self.state is not None:
            earlier = self.state.attempt_of(key)
            if earlier:
                return earlier
        return self.run_id

    def _reread(self, source: str) -> Any | None:
        try:
            return self.read(source)
        except Cancelled:
            raise
        except Exception:
            return None

    def _send(self, row: PlanRow, attempt: str, current: Any) -> dict[str, Any]:
        key = idempotency_key(self.plan.id, attempt, str(row["source"]), row["action"])
        try:
            written = self.change.write(self.session, row, key, self.stop, self.read)
        except Cancelled:
            self._end(
                row, "canceled", "stopped: the request may not have been sent; resume to check"
            )
            return outcome_row(row, "canceled", "stopped; resume to finish", None, current)
        except Exception as exc:
            message, request_id = row_message(exc)
            if isinstance(exc, StripeRequestError) and exc.uncertain:
                return self._resolve(row, current, message, request_id)
            message = self._end(row, "failed", message, request_id=request_id)
            return outcome_row(row, "failed", message, request_id, current, None)
        if written.replayed:
            return self._check_replay(row, current, written.request_id)
        if not self.change.is_done(row, written.after):
            message = "Stripe answered but the source does not show the change: check it"
            message = self._end(
                row, "failed", message, after=written.after, request_id=written.request_id
            )
            return outcome_row(row, "failed", message, written.request_id, current, written.after)
        done = written.message or _WRITTEN
        if self.plan.undoes and not written.message:  # say what was put back
            done = f"restored ({row['change']}): {_RESTORED}" if row.get("change") else _RESTORED
        message = self._end(row, "ok", done, after=written.after, request_id=written.request_id)
        return outcome_row(row, "ok", message, written.request_id, current, written.after)

    def _resolve(
        self, row: PlanRow, current: Any, failure: str, request_id: str | None
    ) -> dict[str, Any]:
        """A request that may have landed: read the source again and say what it shows."""
        now = self._reread(str(row["source"]))
        if now is not None and self.change.is_done(row, now):
            message = self._end(
                row, "ok", f"confirmed by re-read after {failure}", after=now, request_id=request_id
            )
            return outcome_row(row, "ok", message, request_id, current, now)
        if now is not None and now == current:
            message = f"{failure}; a re-read shows nothing changed: apply again to retry"
            message = self._end(row, "failed", message, after=now, request_id=request_id)
            return outcome_row(row, "failed", message, request_id, current, now)
        message = (
            f"{failure}; the request may or may not have landed and a re-read could not tell: "
            "apply again (or undo) to read it again"
        )
        message = self._end(row, "uncertain", message, after=now, request_id=request_id)
        return outcome_row(row, "uncertain", message, request_id, current, now)

    def _check_replay(self, row: PlanRow, current: Any, request_id: str | None) -> dict[str, Any]:
        """Stripe replayed a saved answer: it says what was true then, so read what is true now."""
        now = self._reread(str(row["source"]))
        if now is not None and self.change.is_done(row, now):
            message = (
                "Stripe replayed the answer to this row's earlier request; a re-read shows "
                "the change"
            )
            message = self._end(row, "ok", message, after=now, request_id=request_id, replayed=True)
            return outcome_row(row, "ok", message, request_id, current, now)
        result = "failed" if now is not None else "uncertain"
        message = (
            "Stripe replayed an earlier answer for this row's idempotency key "
            "(Idempotent-Replayed) and the source does not show the change now: nothing was "
            "written. Apply again to write it with a new key."
        )
        message = self._end(row, result, message, after=now, request_id=request_id, replayed=True)
        return outcome_row(row, result, message, request_id, current, now)
