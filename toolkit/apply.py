"""Apply a plan safely: side by side under the rate limit, journaled, resumable, undoable.

Example::

    plan = plan_metadata(df, set={"tier": "gold"})
    preview = apply(plan, session, dry_run=True)   # re-reads every source, reports drift, writes nothing
    outcome = apply(plan, session)                 # ok / skipped / failed / drifted per row
    outcome.failed                                 # rows to look at; apply(plan, session) again retries them
    undo(outcome.journal, session)                 # restore the exact before state

For every ready row apply re-reads the source, compares it with the plan, then writes. Reads
and writes share the session's one rate limiter, so reads are made by the cheapest route:

- **by listing the account** when the plan touches many customers: customer pages of 100 with
  their sources embedded (continued for a customer only while two or more of its planned rows
  are missing), run ahead of the writes in a pipeline: each planned source goes to a writer as
  soon as its page is read. A plan made from the whole-account frame of load_sources (or a
  selection of it) carries the account's size (``plan.loaded``), so apply lists only when that
  takes fewer requests than reading by customer; without that hint it tries when reading by
  customer would take 16 requests or more, and stops once its pages have cost as much as
  reading the rest by customer;
- **by customer**: rows of one customer, up to 8 at a time, with one request to its source list;
- **by id**: one GET per source; always for sources without a customer, for a customer's only
  planned row, and for every source the other routes did not return (detached or moved since
  the plan).

How old the compared state can be: a row by customer or by id is compared with a state read
just before (its own request, or its chunk's list read at most 7 writes earlier). A row read by
the listing waits for the rows handed to writers before it (at most 8 per worker) and the rest of
its page; a state read in bulk is compared only if younger than ``MAX_STATE_AGE`` (10 s, counted
from when its read request was sent), else it is read again by id first (bench/apply.py: at
most 3.9 s). ``outcome.notes`` says which route ran and the oldest state compared. The journal's ``before`` is always the state read
and compared, whichever route read it. Then:

- **drift**: if a field the row changes no longer has the plan's "before" value the row is refused
  as ``drifted`` (``on_drift="overwrite"`` writes anyway, journaling the real before state);
- **already done**: if the source already shows the planned state nothing is sent (a re-run after a
  crash is safe);
- **idempotency**: every POST carries the key ``toolkit:<plan id>:<source>:<action>``, so neither a
  retry nor a re-run within 24 hours applies a change twice. Detach (a DELETE, which takes no key)
  is made safe by re-reading: a source that is consumed after a dropped connection or a 404 counts
  as detached.
- **journal**: one record before each request and one after, flushed at once
  (``./journals/<plan id>.jsonl``, mode 0600). Applying the same plan again, or passing
  ``resume=<journal>``, skips the rows the journal shows done.
"""

from __future__ import annotations

import html
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import CancelledError as FutureCancelled
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import stripe

from toolkit.errors import InvalidInputError
from toolkit.journal import Journal, JournalState, journal_path, read_journal
from toolkit.metadata_rules import metadata_problems
from toolkit.plans import (
    ATTACHABLE_STATUSES,
    IRREVERSIBLE_NOTE,
    PLAN_COLUMNS,
    Plan,
    merge_metadata,
    owner_from_stripe,
    owner_params,
)
from toolkit.ratelimit import Cancelled

__all__ = ["OUTCOME_COLUMNS", "RESULTS", "Outcome", "apply", "idempotency_key", "load_plan", "undo"]

#: Columns of ``Outcome.df``, in order.
OUTCOME_COLUMNS = ["row", "source", "action", "result", "message", "request_id", "before", "after"]
#: Every value ``Outcome.df["result"]`` can take.
RESULTS = ("ok", "skipped", "failed", "drifted", "would_apply", "canceled")
ProgressArg = bool | Callable[[int, int, str], Any] | None


def idempotency_key(plan_id: str, source: str, action: str) -> str:
    """The idempotency key apply() sends for one row: ``toolkit:<plan>:<source>:<action>``."""
    return f"toolkit:{plan_id}:{source}:{action}"


# ---------------------------------------------------------------------------------------------
# Outcome
# ---------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What apply() did, one row per plan row: ``outcome.df``, ``outcome.totals``.

    ``outcome.df`` columns: row, source, action, result (ok, skipped, failed, drifted,
    would_apply, canceled), message (why; Stripe's message on failure), request_id, before, after
    (the state read before writing and returned after).
    """

    df: pd.DataFrame
    plan: Plan
    journal: Path | None
    dry_run: bool = False
    interrupted: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        """Rows by result plus ``total``: ``{"ok": 9, "skipped": 1, "failed": 0, ...}``."""
        found = Counter(self.df["result"]) if len(self.df) else Counter()
        out = {name: int(found.get(name, 0)) for name in RESULTS}
        out["total"] = len(self.df)
        return out

    @property
    def failed(self) -> pd.DataFrame:
        """Rows to retry: failed or canceled. Re-running ``apply(plan, session)`` retries them."""
        return self.df[self.df["result"].isin(["failed", "canceled"])]

    @property
    def drifted(self) -> pd.DataFrame:
        """Rows refused because the source changed since the plan was made: re-plan them."""
        return self.df[self.df["result"] == "drifted"]

    @property
    def ok(self) -> bool:
        """True when nothing failed, drifted or was canceled."""
        t = self.totals
        return t["failed"] == 0 and t["drifted"] == 0 and t["canceled"] == 0

    def headline(self) -> str:
        """One line: ``Applied plan_… : 10 ok, 2 skipped, 0 failed, 0 drifted``."""
        t = self.totals
        verb = "Dry run of" if self.dry_run else "Applied"
        parts = [f"{t[name]} {name}" for name in RESULTS if t[name] or name in ("ok", "failed")]
        text = f"{verb} {self.plan.id} ({self.plan.action}): " + ", ".join(parts)
        if self.interrupted:
            text += " — interrupted"
        return text

    def __repr__(self) -> str:
        lines = [self.headline()]
        if self.journal:
            lines.append(f"journal: {self.journal}")
        shown = self.df[self.df["result"] != "ok"][["row", "source", "result", "message"]]
        if len(shown):
            lines.append(shown.head(10).to_string(index=False, max_colwidth=80))
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        t = self.totals
        colors = {"ok": "#070", "failed": "#b00", "drifted": "#b60", "canceled": "#b60"}
        cells = "".join(
            f"<td style='padding:0 0.8em'><b style='color:{colors.get(name, 'inherit')}'>"
            f"{t[name]}</b> {esc(name)}</td>"
            for name in RESULTS
            if t[name] or name in ("ok", "failed")
        )
        verb = "Dry run of" if self.dry_run else "Applied"
        parts = [
            "<div class='toolkit-outcome'>",
            f"<h4 style='margin:0.2em 0'>{verb} <code>{esc(self.plan.id)}</code> · "
            f"{esc(self.plan.action)}{' — interrupted' if self.interrupted else ''}</h4>",
            f"<table><tr>{cells}</tr></table>",
        ]
        if self.journal:
            parts.append(
                f"<p style='margin:0.2em 0'>Journal: <code>{esc(str(self.journal))}</code></p>"
            )
        if self.plan.irreversible and not self.dry_run:
            parts.append(f"<p><b>Cannot be undone.</b> {esc(IRREVERSIBLE_NOTE)}</p>")
        problems = self.df[~self.df["result"].isin(["ok", "would_apply"])]
        if len(problems):
            cols = ["row", "source", "result", "message", "request_id"]
            parts.append(problems[cols].head(20).to_html(index=False, escape=True, na_rep=""))
        else:
            cols = ["row", "source", "result", "message"]
            parts.append(self.df[cols].head(10).to_html(index=False, escape=True, na_rep=""))
        parts.append("</div>")
        return "".join(parts)


def _outcome_row(
    row: dict[str, Any],
    result: str,
    message: str = "",
    request_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> dict[str, Any]:
    return {
        "row": row["row"],
        "source": row["source"],
        "action": row["action"],
        "result": result,
        "message": message,
        "request_id": request_id,
        "before": before,
        "after": after,
    }


# ---------------------------------------------------------------------------------------------
# state per kind: read, compare, write
# ---------------------------------------------------------------------------------------------
def _state_of(kind: str, obj: dict[str, Any]) -> Any:
    """The part of a source a plan of ``kind`` is about, in the plan's before/after shape."""
    if kind == "metadata":
        return {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}
    if kind == "owner":
        return owner_from_stripe(obj.get("owner"))
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return {"customer": customer, "status": obj.get("status")}


def _touched(kind: str, params: dict[str, Any]) -> dict[str, str | None] | None:
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


def _is_done(kind: str, row: dict[str, Any], current: Any) -> bool:
    """Does the source already show what this row would write?"""
    if kind in ("metadata", "owner"):
        touched = _touched(kind, row["params"])
        if touched is None:
            return current == {}
        return all(current.get(k) == v for k, v in touched.items())
    if kind == "attach":
        return current.get("customer") == row["customer"]
    return current.get("status") == "consumed"


def _drift(kind: str, row: dict[str, Any], current: Any) -> str | None:
    """Why the source no longer matches the plan's before, or None."""
    before = row["before"]
    if kind in ("metadata", "owner"):
        if before is None:
            return None
        touched = _touched(kind, row["params"])
        names = sorted(set(before) | set(current)) if touched is None else list(touched)
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


def _request_id(obj: Any) -> str | None:
    response = getattr(obj, "last_response", None)
    return getattr(response, "request_id", None) if response is not None else None


def _error_message(exc: BaseException) -> tuple[str, str | None]:
    if isinstance(exc, stripe.StripeError):
        text = exc.user_message or str(exc._message or exc)  # type: ignore[attr-defined]
        status = f"HTTP {exc.http_status}" if exc.http_status else type(exc).__name__
        code = f" {exc.code}" if exc.code else ""
        error = getattr(exc, "error", None)
        if getattr(error, "type", None) == "idempotency_error":
            text += (
                " (this row's idempotency key was already used with other parameters: "
                "was the plan changed after a run? Make a new plan for a different change.)"
            )
        return f"{status}{code}: {text}", exc.request_id
    return f"{type(exc).__name__}: {exc}", None


def _is_not_found(exc: BaseException) -> bool:
    return isinstance(exc, stripe.StripeError) and exc.http_status == 404


def _is_uncertain(exc: BaseException) -> bool:
    """A failure after which the request may or may not have landed."""
    if isinstance(exc, stripe.APIConnectionError):
        return True
    return isinstance(exc, stripe.StripeError) and (exc.http_status or 0) >= 500


class _Runner:
    """The per-row work of one apply() call; methods run in worker threads."""

    def __init__(
        self,
        plan: Plan,
        session: Any,
        *,
        dry_run: bool,
        journal: Journal | None,
        state: JournalState | None,
        on_drift: str,
        stop: threading.Event,
    ) -> None:
        self.plan = plan
        self.kind = plan.kind
        self.session = session
        self.dry_run = dry_run
        self.journal = journal
        self.state = state
        self.on_drift = on_drift
        self.stop = stop
        self.sources = session.client.v1.sources
        self.ages_lock = threading.Lock()
        self.oldest = 0.0  # seconds: the oldest bulk-read state compared with the plan
        self.stale = 0  # bulk-read states too old to compare, read again by id

    def _log(self, record: dict[str, Any]) -> None:
        if self.journal is not None:
            self.journal.write(record)

    def read(self, source: str) -> Any:
        obj = self.session.call(self.sources.retrieve, source, cancel=self.stop)
        return _state_of(self.kind, obj.to_dict())

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
            return self._run(row, prefetched)
        except Cancelled:
            return _outcome_row(row, "canceled", "stopped before the request was sent")
        except Exception as exc:  # one failing row never stops the others
            message, request_id = _error_message(exc)
            return _outcome_row(row, "failed", message, request_id)

    def _run(self, row: dict[str, Any], prefetched: dict[str, Any] | None) -> dict[str, Any]:
        key = (int(row["row"]), str(row["source"]))
        if self.stop.is_set():
            return _outcome_row(row, "canceled", "stopped before the request was sent")
        try:
            if prefetched is not None:
                current = _state_of(self.kind, prefetched)
            else:
                current = self.read(row["source"])
        except Cancelled:
            raise
        except stripe.StripeError as exc:
            message, request_id = _error_message(exc)
            if _is_not_found(exc):
                message = f"no such source {row['source']} on this account ({message})"
            return _outcome_row(row, "failed", message, request_id)
        if _is_done(self.kind, row, current):
            if self._maybe_ours(key) and not self.dry_run:
                self._log(
                    {
                        "type": "end",
                        "row": key[0],
                        "source": key[1],
                        "action": row["action"],
                        "result": "ok",
                        "after": current,
                        "message": "confirmed by re-read: an earlier run applied it",
                    }
                )
                return _outcome_row(
                    row,
                    "ok",
                    "applied by an earlier run (confirmed by re-read)",
                    None,
                    None,
                    current,
                )
            message = (
                "already consumed: nothing to detach"
                if self.kind == "detach"
                else "already as planned: nothing sent"
            )
            self._log({"type": "skip", "row": key[0], "source": key[1], "message": message})
            return _outcome_row(row, "skipped", message, None, current, current)
        drift = _drift(self.kind, row, current)
        if drift and self.on_drift == "refuse":
            message = f"drifted: {drift}; nothing sent (re-plan from fresh data)"
            self._log({"type": "skip", "row": key[0], "source": key[1], "message": message})
            return _outcome_row(row, "drifted", message, None, current, None)
        problem = self._precheck(row, current)
        if problem:
            self._log({"type": "skip", "row": key[0], "source": key[1], "message": problem})
            return _outcome_row(row, "failed", problem, None, current, None)
        if self.dry_run:
            message = row["change"] or "would apply"
            if drift:
                message = f"{message} (overwriting drift: {drift})"
            return _outcome_row(row, "would_apply", message, None, current, None)
        if self.stop.is_set():
            return _outcome_row(
                row, "canceled", "stopped before the request was sent", None, current
            )
        self._log(
            {
                "type": "begin",
                "row": key[0],
                "source": key[1],
                "customer": row["customer"],
                "action": row["action"],
                "params": row["params"],
                "before": current,
                **({"drift": drift} if drift else {}),
            }
        )
        try:
            after, request_id, message = self._write(row)
        except Cancelled:
            self._end(
                row, "canceled", "stopped: the request may not have been sent; resume to check"
            )
            return _outcome_row(row, "canceled", "stopped; resume to finish", None, current)
        except Exception as exc:
            message, request_id = _error_message(exc)
            self._end(row, "failed", message, request_id=request_id, uncertain=_is_uncertain(exc))
            return _outcome_row(row, "failed", message, request_id, current, None)
        if not _is_done(self.kind, row, after):
            message = "Stripe answered but the source does not show the change: check it"
            self._end(row, "failed", message, after=after, request_id=request_id)
            return _outcome_row(row, "failed", message, request_id, current, after)
        self._end(row, "ok", message, after=after, request_id=request_id)
        return _outcome_row(row, "ok", message, request_id, current, after)

    def _maybe_ours(self, key: tuple[int, str]) -> bool:
        """Did an earlier run send this row's request without learning whether it landed?"""
        if self.state is None:
            return False
        if key in self.state.pending:
            return True
        end = self.state.ended.get(key)
        return bool(end and (end.get("result") == "canceled" or end.get("uncertain")))

    def _end(
        self,
        row: dict[str, Any],
        result: str,
        message: str,
        *,
        after: Any = None,
        request_id: str | None = None,
        uncertain: bool = False,
    ) -> None:
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
        if uncertain:  # the request may have landed: a later run's re-read decides
            record["uncertain"] = True
        self._log(record)

    def _precheck(self, row: dict[str, Any], current: Any) -> str | None:
        """Stripe's rules against the live state (plans made from bare ids could not check)."""
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

    def _write(self, row: dict[str, Any]) -> tuple[Any, str | None, str]:
        """Send the row's request; (state after, request id, message)."""
        session, source = self.session, row["source"]
        options = {"idempotency_key": idempotency_key(self.plan.id, source, row["action"])}
        if self.kind in ("metadata", "owner"):
            obj = session.call(
                self.sources.update,
                source,
                dict(row["params"]),
                options=options,
                write=True,
                cancel=self.stop,
            )
            return _state_of(self.kind, obj.to_dict()), _request_id(obj), ""
        if self.kind == "attach":
            obj = session.call(
                session.client.v1.customers.payment_sources.create,
                row["customer"],
                {"source": source},
                options=options,
                write=True,
                cancel=self.stop,
            )
            return _state_of(self.kind, obj.to_dict()), _request_id(obj), ""
        return self._detach(row)

    def _detach(self, row: dict[str, Any]) -> tuple[Any, str | None, str]:
        """DELETE takes no idempotency key: retry only after re-reading the source."""
        source, customer = row["source"], row["customer"]
        last: BaseException | None = None
        for attempt in range(4):
            try:
                obj = self.session.call(
                    self.sources.detach, customer, source, write=True, cancel=self.stop
                )
                state = _state_of("detach", obj.to_dict())
                state["customer"] = None
                return state, _request_id(obj), ""
            except Cancelled:
                raise
            except stripe.StripeError as exc:
                if not (_is_uncertain(exc) or _is_not_found(exc)):
                    raise
                last = exc
            current = self.read(source)  # did the lost or refused request land?
            if current.get("status") == "consumed":
                message = "confirmed detached by re-read after " + _error_message(last)[0]
                return {"customer": None, "status": "consumed"}, None, message
            if _is_not_found(last) or current.get("customer") != customer:
                raise last
            if self.stop.wait(min(2.0, 0.2 * 2**attempt)):
                raise Cancelled()
        assert last is not None
        raise last


# ---------------------------------------------------------------------------------------------
# apply
# ---------------------------------------------------------------------------------------------
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


#: Rows of one customer re-read together with one list request (then written one by one).
CHUNK_ROWS = 8
#: A state read in bulk is compared with the plan only while younger than this many seconds
#: (counted from when its read request was sent); an older one is read again by id first.
MAX_STATE_AGE = 10.0
#: Without a size hint the account listing is tried only when re-reading by customer would
#: take at least this many requests.
LISTING_MIN_REQUESTS = 16
#: Rows the account listing hands to the writers ahead of them, per worker (the pipeline depth).
LOOKAHEAD_PER_WORKER = 8
#: Customers per page of the account listing (Stripe's largest page).
LISTING_PAGE = 100


def _by_customer_cost(rows: Any) -> int:
    """Requests re-reading rows by customer takes: one list per chunk of CHUNK_ROWS rows of a
    customer (a lone row: one GET). ``rows``: (index, row) pairs, or a customer -> rows Counter."""
    counts = rows if isinstance(rows, Counter) else Counter(str(r["customer"]) for _, r in rows)
    return sum(-(-n // CHUNK_ROWS) for n in counts.values() if n > 0)


def _account_customers(hint: Any, session: Any) -> int | None:
    """How many customers the account has, from a whole-account load_sources frame (or its
    ``attrs["toolkit"]``) of the same account; None when the hint does not say."""
    if hint is None:
        return None
    attrs = hint.attrs.get("toolkit") if isinstance(hint, pd.DataFrame) else hint
    if not isinstance(attrs, dict) or attrs.get("scope") != "account":
        return None
    if attrs.get("account") != getattr(session, "account_label", None):
        return None
    customers = attrs.get("customers")
    return customers if isinstance(customers, int) and customers >= 0 else None


def _use_listing(cost: int, customers: int | None) -> bool:
    """Re-read by listing the account? Yes when its pages take fewer requests than re-reading by
    customer (``cost``); without a size hint, try it when ``cost`` is big enough (it stops early
    when it turns out dearer, see :class:`_Listing`)."""
    if customers is None:
        return cost >= LISTING_MIN_REQUESTS
    return -(-customers // LISTING_PAGE) < cost


class _Listing:
    """Re-read the plan's sources by listing the account's customers, 100 a page with their
    first 10 sources embedded, and hand each planned source to a writer as soon as it is read.

    - A customer whose embedded list has more is continued only while at least two of its
      planned rows are still missing, and for at most as many pages as re-reading them by
      customer would take; a lone missing row is read by id.
    - At most ``lookahead`` rows wait for a writer, so reads run ahead of the writes by about
      that many rows plus one response.
    - It stops once every planned source is found, or when the next customer page is not worth
      it: with the account's size known (``customers``, from a load_sources frame), when the
      pages left would cost as many requests as re-reading the customers not listed yet by
      customer; without it, once the pages already read cost that much (so it never costs more
      than about twice the by-customer re-read).

    Rows it did not hand over (detached or moved since the plan, or not reached) are then
    re-read by customer or by id as usual.
    """

    def __init__(
        self,
        runner: _Runner,
        rows: list[tuple[int, dict[str, Any]]],
        *,
        submit: Callable[..., Future[list[tuple[int, dict]]]],
        lookahead: int,
        customers: int | None,
    ) -> None:
        self.runner = runner
        self.session = runner.session
        self.stop = runner.stop
        self.submit = submit
        self.customers = customers
        self.wanted = {str(row["source"]): (index, row) for index, row in rows}
        self.open: Counter[str] = Counter(str(row["customer"]) for _, row in rows)
        self.unlisted: Counter[str] = Counter(self.open)  # open rows of customers not listed yet
        self.listed = 0  # customers listed
        self.slots = threading.BoundedSemaphore(max(1, lookahead))
        self.requests = 0
        self.pages = 0
        self.handed = 0  # rows found by the listing and handed to a writer
        self.error: BaseException | None = None

    def run(self) -> None:
        """List, hand over, then send what was not found the usual way (a thread's target)."""
        try:
            self._list()
        except Cancelled:
            return
        except Exception as exc:  # the rest is re-read by customer or by id
            self.error = exc
        if self.stop.is_set():
            return
        rest = sorted(self.wanted.values(), key=lambda item: item[0])
        self.wanted = {}
        for chunk in _chunks(self.runner.kind, rest):
            self.submit(chunk, self.runner.run_chunk, chunk)

    def _next_page_worth_it(self) -> bool:
        remaining = _by_customer_cost(self.unlisted)
        if remaining == 0 or self.stop.is_set():
            return False
        customers = self.customers
        if customers is not None and self.listed < customers:  # pages left, as the hint says
            return -(-(customers - self.listed) // LISTING_PAGE) < remaining
        return self.pages < remaining  # no hint, or more customers than it said

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        return self.session.raw("get", path, params, cancel=self.stop)

    def _list(self) -> None:
        params: dict[str, Any] = {"limit": LISTING_PAGE, "expand": ["data.sources"]}
        while self.wanted and self._next_page_worth_it():
            read_at = time.monotonic()
            page = self._get("/v1/customers", params)
            self.pages += 1
            data = page.get("data") or []
            for cus in data:
                cid = cus.get("id")
                if not isinstance(cid, str):
                    continue
                self.listed += 1
                self.unlisted.pop(cid, None)
                embedded = cus.get("sources")
                if not isinstance(embedded, dict):
                    self._customer(cid, None)
                    continue
                last = None
                for obj in embedded.get("data") or ():
                    if obj.get("object") == "source":
                        last = obj.get("id")
                        self._hand(obj, cid, read_at)
                if embedded.get("has_more"):
                    self._customer(cid, last)
            if not page.get("has_more") or not data:
                return
            params = {**params, "starting_after": data[-1]["id"]}

    def _customer(self, cid: str, after: str | None) -> None:
        """Continue one customer's source list while two or more of its planned rows are
        missing, for at most as many pages as re-reading them by customer would take."""
        params: dict[str, Any] = {"object": "source", "limit": LISTING_PAGE}
        if after is not None:
            params["starting_after"] = after
        path = f"/v1/customers/{quote(cid, safe='')}/sources"
        budget = -(-self.open.get(cid, 0) // CHUNK_ROWS)
        while self.open.get(cid, 0) >= 2 and budget > 0 and not self.stop.is_set():
            budget -= 1
            read_at = time.monotonic()
            page = self._get(path, params)
            data = page.get("data") or []
            for obj in data:
                if obj.get("object") == "source":
                    self._hand(obj, cid, read_at)
            if not page.get("has_more") or not data:
                return
            params = {**params, "starting_after": data[-1]["id"]}

    def _hand(self, obj: dict[str, Any], cid: str, read_at: float) -> None:
        item = self.wanted.pop(str(obj.get("id")), None)
        if item is None:
            return
        index, row = item
        self.open[str(row["customer"])] -= 1
        if self.unlisted.get(str(row["customer"])):  # listed under another customer
            self.unlisted[str(row["customer"])] -= 1
        if not obj.get("customer"):
            obj = {**obj, "customer": cid}
        while not self.slots.acquire(timeout=0.1):
            if self.stop.is_set():
                raise Cancelled()
        future = self.submit([item], self.runner.run_one, index, row, obj, read_at)
        self.handed += 1
        future.add_done_callback(lambda _done: self.slots.release())


def _chunks(
    kind: str, tasks: list[tuple[int, dict[str, Any]]]
) -> list[list[tuple[int, dict[str, Any]]]]:
    """Split the rows to run into work items: rows of the same customer in chunks of up to
    CHUNK_ROWS (read with one list request), every other row on its own; in plan order."""
    by_customer: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    chunks: list[list[tuple[int, dict[str, Any]]]] = []
    for index, row in tasks:
        customer = row.get("customer") if kind in ("metadata", "owner", "detach") else None
        if isinstance(customer, str) and customer:
            by_customer.setdefault(customer, []).append((index, row))
        else:
            chunks.append([(index, row)])
    for items in by_customer.values():
        chunks.extend(items[i : i + CHUNK_ROWS] for i in range(0, len(items), CHUNK_ROWS))
    chunks.sort(key=lambda chunk: chunk[0][0])
    return chunks


def _listable(kind: str, row: dict[str, Any]) -> bool:
    """Can the account listing re-read this row's source (it is attached to a customer)?"""
    customer = row.get("customer")
    return kind in ("metadata", "owner", "detach") and isinstance(customer, str) and bool(customer)


def _plan_header(plan: Plan, session: Any) -> dict[str, Any]:
    return {
        "type": "plan",
        "plan_id": plan.id,
        "kind": plan.kind,
        "action": plan.action,
        "created": plan.created,
        "irreversible": plan.irreversible,
        "account": getattr(session, "account_label", None),
        "mode": getattr(session, "mode", None),
        "notes": plan.notes,
        "rows": plan.df[PLAN_COLUMNS].to_dict("records"),
    }


def load_plan(journal: str | os.PathLike[str]) -> Plan:
    """Rebuild the plan a journal records (same id), e.g. to resume it in a new process.

    ``apply(load_plan("journals/plan_x.jsonl"), session, resume="journals/plan_x.jsonl")``
    """
    state = read_journal(journal)
    if state.plan is None:
        raise InvalidInputError(f"{journal} has no plan record: is it a toolkit journal?")
    header = state.plan
    df = pd.DataFrame(header["rows"], columns=PLAN_COLUMNS)
    return Plan(
        id=header["plan_id"],
        kind=header["kind"],
        df=df,
        notes=list(header.get("notes") or []),
        created=header.get("created", ""),
    )


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
      ``plan.loaded``, which a plan made from such a frame (or a selection of it) carries. It
      tells apply the account's size, so it re-reads by listing the account only when that
      takes fewer requests than by customer (see the module docstring). It only changes how
      sources are read, never what is compared.

    Raises :class:`~toolkit.errors.LiveModeRefused` for a live session without ``allow_live``
    (not for dry runs), :class:`~toolkit.errors.InvalidInputError` for a journal of another plan.
    """
    if not isinstance(plan, Plan):
        raise InvalidInputError("apply() needs a Plan: build one with plan_metadata(...) etc.")
    if on_drift not in ("refuse", "overwrite"):
        raise InvalidInputError(f"on_drift must be 'refuse' or 'overwrite', got {on_drift!r}.")
    if not dry_run:
        session.require_write()
    started = time.monotonic()

    path = Path(resume) if resume is not None else journal_path(journal, plan.id)
    state: JournalState | None = None
    if path.exists():
        state = read_journal(path)
        if state.plan_id not in (None, plan.id):
            raise InvalidInputError(
                f"{path} is the journal of plan {state.plan_id}, not {plan.id}: "
                "pass that plan (load_plan(path) rebuilds it) or another journal."
            )
    elif resume is not None:
        raise InvalidInputError(f"No journal at {path} to resume from.")

    results: dict[int, dict[str, Any]] = {}
    tasks: list[tuple[int, dict[str, Any]]] = []
    done = state.done if state else {}
    for index, row in enumerate(plan.df[PLAN_COLUMNS].to_dict("records")):
        if row["status"] == "invalid":
            results[index] = _outcome_row(row, "skipped", f"invalid in plan: {row['reason']}")
        elif row["status"] == "noop":
            results[index] = _outcome_row(
                row, "skipped", f"no change: {row['reason'] or 'nothing to do'}"
            )
        elif (int(row["row"]), str(row["source"])) in done:
            end = done[(int(row["row"]), str(row["source"]))]
            results[index] = _outcome_row(
                row,
                "skipped",
                "done in an earlier run (journal)",
                end.get("request_id"),
                None,
                end.get("after"),
            )
        else:
            tasks.append((index, row))

    writer: Journal | None = None
    if not dry_run:
        writer = Journal(path)
        if state is None or state.plan is None:
            writer.write(_plan_header(plan, session))
        writer.write(
            {
                "type": "run",
                "event": "start",
                "rows": len(tasks),
                "resume": state is not None,
                "on_drift": on_drift,
            }
        )
    stop = cancel if cancel is not None else threading.Event()
    runner = _Runner(
        plan,
        session,
        dry_run=dry_run,
        journal=writer,
        state=state,
        on_drift=on_drift,
        stop=stop,
    )
    label = f"{'checking' if dry_run else 'applying'} {plan.action}"
    bar = _Progress(progress, len(tasks), label)
    workers = max(1, min(max_workers or getattr(session, "max_workers", 8), len(tasks) or 1))
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

    listed = [item for item in tasks if _listable(plan.kind, item[1])]
    customers = _account_customers(hint if hint is not None else plan.loaded, session)
    if not listed or not _use_listing(_by_customer_cost(listed), customers):
        listed = []
    reader: threading.Thread | None = None
    listing: _Listing | None = None
    try:
        in_listing = {index for index, _ in listed}
        for chunk in _chunks(plan.kind, [t for t in tasks if t[0] not in in_listing]):
            submit(chunk, runner.run_chunk, chunk)
        if listed:
            listing = _Listing(
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
                    results[index] = done_rows.get(index) or _outcome_row(
                        row, "canceled", "stopped before it started"
                    )
        for index, row in tasks:  # never handed to a worker
            if index not in results:
                results[index] = _outcome_row(row, "canceled", "stopped before it started")
        bar.close()
        df = pd.DataFrame([results[i] for i in sorted(results)], columns=OUTCOME_COLUMNS)
        notes = []
        if listing is not None:
            notes.append(
                f"re-read {listing.handed} of {len(listed)} sources by listing the account "
                f"({listing.pages} customer pages, {listing.requests - listing.pages} "
                "continuations)"
                + (f"; the listing stopped early: {listing.error}" if listing.error else "")
            )
        if runner.oldest or runner.stale:
            notes.append(
                f"the oldest state read in bulk and compared was {runner.oldest:.1f} s old "
                f"(limit {MAX_STATE_AGE:.0f} s; {runner.stale} older ones read again by id)"
            )
        outcome = Outcome(
            df=df,
            plan=plan,
            journal=None if dry_run else path,
            dry_run=dry_run,
            interrupted=interrupted,
            seconds=time.monotonic() - started,
            notes=notes,
        )
        if writer is not None:
            event = "interrupted" if interrupted else ("canceled" if stop.is_set() else "finish")
            writer.write({"type": "run", "event": event, "totals": outcome.totals})
            writer.close()
    if interrupted:
        print(
            f"Interrupted: {outcome.headline()}. The journal is consistent; resume with "
            f"apply(plan, session, resume={str(path)!r}).",
            file=sys.stderr,
        )
        raise KeyboardInterrupt
    return outcome


# ---------------------------------------------------------------------------------------------
# undo
# ---------------------------------------------------------------------------------------------
def _inverse_row(kind: str, row: dict[str, Any], before: Any, after: Any) -> dict[str, Any] | None:
    """A plan row that turns ``after`` back into ``before`` for the fields the row changed."""
    if kind == "metadata":
        touched = _touched(kind, row["params"])
        names = sorted(set(before) | set(after)) if touched is None else list(touched)
        params = {n: before.get(n, "") for n in names if before.get(n) != after.get(n)}
        if not params:
            return None
        change = "; ".join(
            f"restore {n}={before[n]!r}" if n in before else f"unset {n}" for n in params
        )
        return {
            **row,
            "params": {"metadata": params},
            "before": after,
            "after": merge_metadata(after, params),
            "status": "ready",
            "reason": "",
            "change": change,
        }
    touched = _touched(kind, row["params"]) or {}
    flat = {n: (before.get(n) or "") for n in touched if before.get(n) != after.get(n)}
    if not flat:
        return None
    change = "; ".join(f"restore owner.{n}={before.get(n)!r}" for n in flat)
    return {
        **row,
        "params": {"owner": owner_params(flat)},
        "before": after,
        "after": {**after, **{n: before.get(n) for n in flat}},
        "status": "ready",
        "reason": "",
        "change": change,
    }


def undo(
    journal: str | os.PathLike[str],
    session: Any,
    *,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Undo the metadata or owner changes a journal shows applied, restoring the exact before
    state (keys that did not exist are unset again). Returns the Outcome of the inverse plan.

    ``undo(outcome.journal, session)``; ``undo(path, session, dry_run=True)`` to preview.

    The inverse plan has id ``<plan id>-undo`` and its own journal next to the original, so an
    interrupted undo resumes when run again. A field changed by someone else since is refused as
    drifted. Detach cannot be undone (the source is consumed) and attach is not undone (detaching
    would consume the source): both raise :class:`~toolkit.errors.InvalidInputError`.
    """
    state = read_journal(journal)
    if state.plan is None:
        raise InvalidInputError(f"{journal} has no plan record: is it a toolkit journal?")
    kind = state.plan.get("kind")
    if kind == "detach":
        raise InvalidInputError(
            "Detach cannot be undone: Stripe consumed the detached sources and they cannot be "
            f"attached or charged again. The journal {journal} lists which ones were detached."
        )
    if kind == "attach":
        raise InvalidInputError(
            "Attach is not undone automatically: detaching would consume the sources for good. "
            "If you mean it, build plan_detach(...) for them and review it."
        )
    if kind not in ("metadata", "owner"):
        raise InvalidInputError(f"Cannot undo a plan of kind {kind!r}.")
    plan_rows = {
        (int(r["row"]), str(r["source"])): r for r in state.plan.get("rows", []) if r.get("source")
    }
    rows = []
    for key, end in sorted(state.done.items()):
        base = plan_rows.get(key)
        before = state.before_of(key)
        after = end.get("after")
        if base is None or before is None or after is None:
            continue
        inverse = _inverse_row(kind, base, before, after)
        if inverse is not None:
            rows.append(inverse)
    undo_id = f"{state.plan_id}-undo"
    df = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    plan = Plan(id=undo_id, kind=kind, df=df, notes=[f"undo of {state.plan_id}"])
    return apply(
        plan,
        session,
        dry_run=dry_run,
        journal=Path(journal).parent / f"{undo_id}.jsonl",
        progress=progress,
        cancel=cancel,
    )
