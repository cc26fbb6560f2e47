"""The per-row work of apply(): read the source, compare it with the plan, write, journal.

A row counts as applied only when Stripe's answer shows the new state. A reply that Stripe
replayed for the row's idempotency key (``Idempotent-Replayed: true``) is not proof of the state
now, so the source is read again; a failure after which the request may have landed (a 5xx, a
dropped connection) is resolved the same way, and reported ``uncertain`` when it cannot be.

Every request is journaled before it is sent (a begin record) and after (an end record); when the
journal cannot be written nothing more is sent. Example (what apply() does per row)::

    runner = Runner(plan, session, run_id="run_x", dry_run=False, journal=j, state=None,
                    on_drift="refuse", stop=threading.Event())
    runner.run(row)   # an outcome row: ok, skipped, failed, uncertain, drifted, canceled
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import stripe

from toolkit.errors import JournalError
from toolkit.journal import Journal, JournalState
from toolkit.metadata_rules import metadata_problems, unicode_problem
from toolkit.outcome import outcome_row
from toolkit.plans import ATTACHABLE_STATUSES, Plan, merge_metadata, owner_from_stripe
from toolkit.ratelimit import Cancelled

__all__ = [
    "MAX_STATE_AGE",
    "Runner",
    "expected_after",
    "idempotency_key",
    "is_done",
    "state_of",
    "touched",
]

#: A state read in bulk is compared with the plan only while younger than this many seconds
#: (counted from when its read request was sent); an older one is read again by id first.
MAX_STATE_AGE = 10.0


def idempotency_key(plan_id: str, run_id: str, source: str, action: str) -> str:
    """The idempotency key of one row in one run: ``toolkit:<plan>:<run>:<source>:<action>``.

    A key belongs to one journaled attempt: resuming that run reuses it, a new run (for example
    after an undo) gets a new one, so Stripe never replays an old answer to a new change.

    >>> idempotency_key("plan_x", "run_1", "src_1", "update_metadata")
    'toolkit:plan_x:run_1:src_1:update_metadata'
    """
    return f"toolkit:{plan_id}:{run_id}:{source}:{action}"


# ---------------------------------------------------------------------------------------------
# state per kind: read, compare
# ---------------------------------------------------------------------------------------------
def state_of(kind: str, obj: dict[str, Any]) -> Any:
    """The part of a source a plan of ``kind`` is about, in the plan's before/after shape."""
    if kind == "metadata":
        return {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}
    if kind == "owner":
        return owner_from_stripe(obj.get("owner"))
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return {"customer": customer, "status": obj.get("status")}


def touched(kind: str, params: dict[str, Any]) -> dict[str, str | None] | None:
    """Field -> value the row writes (None = removed); None for a metadata clear."""
    if kind == "metadata":
        meta = params.get("metadata")
        if meta == "":
            return None
        return {k: (v if v != "" else None) for k, v in meta.items()}
    if kind == "owner":
        flat = {k: v for k, v in params.get("owner", {}).items() if k != "address"}
        for k, v in params.get("owner", {}).get("address", {}).items():
            flat[f"address.{k}"] = v
        return {k: (v if v != "" else None) for k, v in flat.items()}
    return {}


def expected_after(kind: str, before: Any, params: dict[str, Any]) -> Any:
    """The state a row's write produces from ``before`` (metadata and owner)."""
    if kind == "metadata":
        return merge_metadata(before or {}, params.get("metadata", {}))
    changes = touched(kind, params) or {}
    return {**(before or {}), **changes}


def is_done(kind: str, row: dict[str, Any], current: Any) -> bool:
    """Does the source already show what this row would write?"""
    if kind in ("metadata", "owner"):
        changes = touched(kind, row["params"])
        if changes is None:
            return current == {}
        return all(current.get(k) == v for k, v in changes.items())
    if kind == "attach":
        return current.get("customer") == row["customer"]
    return current.get("status") == "consumed"


def drift(kind: str, row: dict[str, Any], current: Any) -> str | None:
    """Why the source no longer matches the plan's before, or None."""
    before = row["before"]
    if kind in ("metadata", "owner"):
        if before is None:
            return None
        changes = touched(kind, row["params"])
        names = sorted(set(before) | set(current)) if changes is None else list(changes)
        diffs = [
            f"{name} is {_show(current.get(name))}, plan expected {_show(before.get(name))}"
            for name in names
            if current.get(name) != before.get(name)
        ]
        return "; ".join(diffs) or None
    if kind == "detach":
        if current.get("customer") != row["customer"]:
            now = current.get("customer") or "no customer"
            return f"now attached to {now}, plan expected {row['customer']}"
        return None
    if before is None:
        return None
    if current.get("customer") != before.get("customer"):
        return f"customer is {current.get('customer')}, plan expected {before.get('customer')}"
    if current.get("status") != before.get("status"):
        return f"status is {current.get('status')}, plan expected {before.get('status')}"
    return None


def _show(value: Any) -> str:
    return "unset" if value is None else repr(value)


# ---------------------------------------------------------------------------------------------
# Stripe's answers
# ---------------------------------------------------------------------------------------------
def _request_id(obj: Any) -> str | None:
    response = getattr(obj, "last_response", None)
    return getattr(response, "request_id", None) if response is not None else None


def _replayed(obj: Any) -> bool:
    """Did Stripe answer with a saved response (``Idempotent-Replayed: true``)?"""
    headers = getattr(getattr(obj, "last_response", None), "headers", None) or {}
    return any(
        str(k).lower() == "idempotent-replayed" and str(v).lower() == "true"
        for k, v in dict(headers).items()
    )


def error_message(exc: BaseException) -> tuple[str, str | None]:
    """A row's message for a failed request, and Stripe's request id."""
    if isinstance(exc, stripe.StripeError):
        text = exc.user_message or str(exc._message or exc)  # type: ignore[attr-defined]
        status = f"HTTP {exc.http_status}" if exc.http_status else type(exc).__name__
        code = f" {exc.code}" if exc.code else ""
        error = getattr(exc, "error", None)
        if getattr(error, "type", None) == "idempotency_error":
            text += (
                " (this row's idempotency key was already used with other parameters: "
                "was the journal changed? Make a new plan for a different change.)"
            )
        return f"{status}{code}: {text}", exc.request_id
    return f"{type(exc).__name__}: {exc}", None


def is_not_found(exc: BaseException) -> bool:
    """A 404 from Stripe."""
    return isinstance(exc, stripe.StripeError) and exc.http_status == 404


def is_uncertain(exc: BaseException) -> bool:
    """A failure after which the request may or may not have landed."""
    if isinstance(exc, stripe.APIConnectionError):
        return True
    return isinstance(exc, stripe.StripeError) and (exc.http_status or 0) >= 500


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


_CONFIRMED = "confirmed by re-read: an earlier run applied it"


class Runner:
    """The per-row work of one apply() call; methods run in worker threads."""

    def __init__(
        self,
        plan: Plan,
        session: Any,
        *,
        run_id: str,
        dry_run: bool,
        journal: Journal | None,
        state: JournalState | None,
        on_drift: str,
        stop: threading.Event,
        settle: Callable[[tuple[int, str], dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.plan = plan
        self.kind = plan.kind
        self.session = session
        self.run_id = run_id
        self.dry_run = dry_run
        self.journal = journal
        self.state = state
        self.on_drift = on_drift
        self.stop = stop
        self.settle = settle
        self.sources = session.client.v1.sources
        self.ages_lock = threading.Lock()
        self.oldest = 0.0  # seconds: the oldest bulk-read state compared with the plan
        self.stale = 0  # bulk-read states too old to compare, read again by id
        self.failure: JournalError | None = None  # the first journal write that failed
        self.unresolved = set(state.unresolved) if state is not None else set()

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

    def _end(
        self,
        row: dict[str, Any],
        result: str,
        message: str,
        *,
        after: Any = None,
        request_id: str | None = None,
        replayed: bool = False,
    ) -> str:
        record = {
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
        if self._log(record):
            return message
        return f"{message} (the journal could not record this: resume to confirm it)"

    # -- reading ----------------------------------------------------------------------------
    def read(self, source: str) -> Any:
        """The source's current state (one GET)."""
        obj = self.session.call(self.sources.retrieve, source, cancel=self.stop)
        return state_of(self.kind, obj.to_dict())

    def prefetch(self, customer: str, wanted: set[str]) -> dict[str, Any]:
        """Read the sources of one customer with its list (100 a page) instead of one GET each.

        Stops once every wanted source is found, and after ``len(wanted)`` pages at most, so it
        never costs more requests than reading the sources one by one.
        """
        found: dict[str, Any] = {}
        params: dict[str, Any] = {"object": "source", "limit": 100}
        for _ in range(len(wanted)):
            page = self.session.raw(
                "get", f"/v1/customers/{customer}/sources", params, cancel=self.stop
            )
            data = page.get("data") or []
            for obj in data:
                if obj.get("object") == "source" and obj.get("id") in wanted:
                    found[obj["id"]] = obj
            if wanted <= found.keys() or not page.get("has_more") or not data:
                break
            params = {**params, "starting_after": data[-1]["id"]}
        return found

    # -- rows -------------------------------------------------------------------------------
    def run_chunk(self, chunk: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict]]:
        """Run rows of one customer: one list read for all of them, then each row's write."""
        found: dict[str, Any] = {}
        read_at = time.monotonic()
        if len(chunk) > 1 and not self.stop.is_set():
            customer = chunk[0][1]["customer"]
            try:
                found = self.prefetch(customer, {str(row["source"]) for _, row in chunk})
            except Cancelled:
                pass
            except Exception:  # each row then reads its source by id
                found = {}
        return [
            (index, self.run(row, found.get(str(row["source"])), read_at)) for index, row in chunk
        ]

    def run_one(
        self, index: int, row: dict[str, Any], obj: dict[str, Any], read_at: float
    ) -> list[tuple[int, dict]]:
        """Run one row whose source the account listing returned (``obj``, read at ``read_at``)."""
        return [(index, self.run(row, obj, read_at))]

    def run(
        self,
        row: dict[str, Any],
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
        except Exception as exc:  # one failing row never stops the others
            message, request_id = error_message(exc)
            result = outcome_row(row, "failed", message, request_id)
        if self.settle is not None and not self.dry_run:
            result = self.settle((int(row["row"]), str(row["source"])), result)
        return result

    def _skip(self, key: tuple[int, str], message: str) -> None:
        self._log({"type": "skip", "row": key[0], "source": key[1], "message": message})

    def _run(self, row: dict[str, Any], prefetched: dict[str, Any] | None) -> dict[str, Any]:
        key = (int(row["row"]), str(row["source"]))
        if self.stop.is_set():
            return outcome_row(row, "canceled", "stopped before the request was sent")
        try:
            if prefetched is not None:
                current = state_of(self.kind, prefetched)
            else:
                current = self.read(row["source"])
        except Cancelled:
            raise
        except stripe.StripeError as exc:
            message, request_id = error_message(exc)
            if is_not_found(exc):
                message = f"no such source {row['source']} on this account ({message})"
            return outcome_row(row, "failed", message, request_id)
        if is_done(self.kind, row, current):
            if self._maybe_ours(key) and not self.dry_run:
                message = self._end(row, "ok", _CONFIRMED, after=current)
                return outcome_row(row, "ok", message, None, None, current)
            message = (
                "already consumed: nothing to detach"
                if self.kind == "detach"
                else "already as planned: nothing sent"
            )
            if not self.dry_run:
                self._skip(key, message)
            return {
                **outcome_row(row, "skipped", message, None, current, current),
                "why": "already",
            }
        found = drift(self.kind, row, current)
        if found and self.on_drift == "refuse":
            message = f"drifted: {found}; nothing sent (re-plan from fresh data)"
            if not self.dry_run:
                self._skip(key, message)
            return outcome_row(row, "drifted", message, None, current, None)
        problem = self._precheck(row, current)
        if problem:
            if not self.dry_run:
                self._skip(key, problem)
            return outcome_row(row, "failed", problem, None, current, None)
        if self.dry_run:
            message = row["change"] or "would apply"
            if found:
                message = f"{message} (overwriting drift: {found})"
            return outcome_row(row, "would_apply", message, None, current, None)
        if self.stop.is_set():
            return outcome_row(
                row, "canceled", "stopped before the request was sent", None, current
            )
        attempt = self._attempt(key)
        begun = self._log(
            {
                "type": "begin",
                "row": key[0],
                "source": key[1],
                "customer": row["customer"],
                "action": row["action"],
                "params": row["params"],
                "before": current,
                **({"drift": found} if found else {}),
                "run": attempt,
            }
        )
        if not begun:
            message = "not sent: the journal could not be written"
            return outcome_row(row, "canceled", message, None, current)
        return self._send(row, attempt, current)

    def _attempt(self, key: tuple[int, str]) -> str:
        """The run whose idempotency key this row's request carries (see JournalState)."""
        if self.state is not None:
            earlier = self.state.attempt_of(key)
            if earlier:
                return earlier
        return self.run_id

    def _send(self, row: dict[str, Any], attempt: str, current: Any) -> dict[str, Any]:
        try:
            after, request_id, message, replayed = self._write(row, attempt)
        except Cancelled:
            self._end(
                row, "canceled", "stopped: the request may not have been sent; resume to check"
            )
            return outcome_row(row, "canceled", "stopped; resume to finish", None, current)
        except Exception as exc:
            message, request_id = error_message(exc)
            if not is_uncertain(exc):
                message = self._end(row, "failed", message, request_id=request_id)
                return outcome_row(row, "failed", message, request_id, current, None)
            return self._resolve(row, current, message, request_id)
        if replayed:
            return self._check_replay(row, current, request_id)
        if not is_done(self.kind, row, after):
            message = "Stripe answered but the source does not show the change: check it"
            message = self._end(row, "failed", message, after=after, request_id=request_id)
            return outcome_row(row, "failed", message, request_id, current, after)
        message = self._end(row, "ok", message, after=after, request_id=request_id)
        return outcome_row(row, "ok", message, request_id, current, after)

    def _reread(self, source: str) -> Any | None:
        try:
            return self.read(source)
        except Cancelled:
            raise
        except Exception:
            return None

    def _resolve(
        self, row: dict[str, Any], current: Any, failure: str, request_id: str | None
    ) -> dict[str, Any]:
        """A request that may have landed: read the source again and say what it shows."""
        now = self._reread(row["source"])
        if now is not None and is_done(self.kind, row, now):
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

    def _check_replay(
        self, row: dict[str, Any], current: Any, request_id: str | None
    ) -> dict[str, Any]:
        """Stripe replayed a saved answer: it says what was true then, so read what is true now."""
        now = self._reread(row["source"])
        if now is not None and is_done(self.kind, row, now):
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

    def _maybe_ours(self, key: tuple[int, str]) -> bool:
        """Did an earlier run send this row's request without learning whether it landed?"""
        return key in self.unresolved

    def _precheck(self, row: dict[str, Any], current: Any) -> str | None:
        """Stripe's rules against the live state (plans made from bare ids could not check)."""
        problem = _unsendable(row["params"])
        if problem:
            return f"cannot be sent: {problem}"
        if self.kind == "metadata":
            problems = metadata_problems(merge_metadata(current, row["params"]["metadata"]))
            return "; ".join(problems) or None
        if self.kind == "attach":
            if current.get("status") not in ATTACHABLE_STATUSES:
                return (
                    f"status is {current.get('status')}: Stripe attaches only chargeable or "
                    "pending sources"
                )
            if current.get("customer"):
                return f"already attached to {current.get('customer')}"
        if self.kind == "detach" and not current.get("customer"):
            return "not attached to a customer"
        return None

    # -- writing ----------------------------------------------------------------------------
    def _write(self, row: dict[str, Any], attempt: str) -> tuple[Any, str | None, str, bool]:
        """Send the row's request; (state after, request id, message, replayed)."""
        session, source = self.session, row["source"]
        key = idempotency_key(self.plan.id, attempt, source, row["action"])
        options = {"idempotency_key": key}
        if self.kind in ("metadata", "owner"):
            obj = session.call(
                self.sources.update,
                source,
                dict(row["params"]),
                options=options,
                write=True,
                cancel=self.stop,
            )
        elif self.kind == "attach":
            obj = session.call(
                session.client.v1.customers.payment_sources.create,
                row["customer"],
                {"source": source},
                options=options,
                write=True,
                cancel=self.stop,
            )
        else:
            return (*self._detach(row), False)
        return state_of(self.kind, obj.to_dict()), _request_id(obj), "", _replayed(obj)

    def _detach(self, row: dict[str, Any]) -> tuple[Any, str | None, str]:
        """DELETE takes no idempotency key: retry only after re-reading the source."""
        source, customer = row["source"], row["customer"]
        last: BaseException | None = None
        for attempt in range(4):
            try:
                obj = self.session.call(
                    self.sources.detach, customer, source, write=True, cancel=self.stop
                )
                state = state_of("detach", obj.to_dict())
                state["customer"] = None
                return state, _request_id(obj), ""
            except Cancelled:
                raise
            except stripe.StripeError as exc:
                if not (is_uncertain(exc) or is_not_found(exc)):
                    raise
                last = exc
            current = self.read(source)  # did the lost or refused request land?
            if current.get("status") == "consumed":
                message = "confirmed detached by re-read after " + error_message(last)[0]
                return {"customer": None, "status": "consumed"}, None, message
            if is_not_found(last) or current.get("customer") != customer:
                raise last
            if self.stop.wait(min(2.0, 0.2 * 2**attempt)):
                raise Cancelled()
        assert last is not None
        raise last
