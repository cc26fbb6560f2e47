"""Running a plan's rows side by side: which rows need a request, the writers' threads, the
account listing when it is cheaper, and what the run says about itself. Every read of the run
goes through fetch's scheduler (:class:`~toolkit.fetch.pool.RequestPool`, served for the run).

>>> results, tasks = rows_to_run(toolkit.plan_metadata(["src_1abc", "x"], set={"a": "1"}), None)
>>> [r["result"] for r in results.values()], [row["source"] for _, row in tasks]
(['skipped'], ['src_1abc'])
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import CancelledError as FutureCancelled
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from toolkit.changes.journal.reading import JournalState
from toolkit.changes.plans.plan import Plan
from toolkit.changes.rows import PlanRow
from toolkit.changes.run.listing import (
    LOOKAHEAD_PER_WORKER,
    Listing,
    by_customer_cost,
    chunks,
    listable,
    use_listing,
)
from toolkit.changes.run.outcome import outcome_row
from toolkit.changes.run.runner import MAX_STATE_AGE, Runner
from toolkit.fetch.pool import RequestPool
from toolkit.progress import Progress

__all__ = ["Task", "execute", "rows_to_run", "run_notes"]

#: A row to run: its index in the plan, and the row.
Task = tuple[int, PlanRow]
#: Seconds the run waits between takes of its finished rows while more than GATHER_ITEMS
#: work items (or twice the writers) are still to finish: progress then moves every 20 ms.
GATHER = 0.02
GATHER_ITEMS = 16


def rows_to_run(
    plan: Plan, state: JournalState | None, rows: list[PlanRow] | None = None
) -> tuple[dict[int, dict[str, Any]], list[Task]]:
    """Rows settled without a request (invalid, no-op, done in an earlier run) and rows to run
    (``rows``: ``plan.rows()`` when the caller has them already)."""
    results: dict[int, dict[str, Any]] = {}
    tasks: list[Task] = []
    done = state.done if state else {}
    for index, row in enumerate(plan.rows() if rows is None else rows):
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


def execute(
    runner: Runner,
    tasks: list[Task],
    results: dict[int, dict[str, Any]],
    *,
    workers: int,
    customers: int | None,
    bar: Progress,
    clocks: int | None = None,
) -> tuple[bool, Listing | None, int]:
    """Run ``tasks`` in a thread pool (and the account listing, when it is cheaper), filling
    ``results``; returns (interrupted, listing, rows read by listing)."""
    # every read of the run goes through fetch's scheduler: as many at once as writers, and the
    # account listing's
    with RequestPool.serving(runner.session, runner.stop, width=workers + 1) as reads:
        runner.reads = reads
        try:
            return _execute(
                runner, tasks, results, workers=workers, customers=customers, bar=bar, clocks=clocks
            )
        finally:
            runner.reads = None


def _execute(
    runner: Runner,
    tasks: list[Task],
    results: dict[int, dict[str, Any]],
    *,
    workers: int,
    customers: int | None,
    bar: Progress,
    clocks: int | None,
) -> tuple[bool, Listing | None, int]:
    stop, change = runner.stop, runner.change
    interrupted = False
    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="toolkit-apply")
    futures: dict[Future[list[tuple[int, dict[str, Any]]]], list[Task]] = {}
    # finished work items, in the order they finish: the loop below takes each once
    finished: queue.SimpleQueue[Future[list[tuple[int, dict[str, Any]]]]] = queue.SimpleQueue()
    lock = threading.Lock()

    def submit(chunk: list[Task], fn: Callable[..., Any], *args: Any) -> Any:
        future = executor.submit(fn, *args)
        with lock:
            futures[future] = chunk
        future.add_done_callback(finished.put)
        return future

    listed = [item for item in tasks if listable(change, item[1])]
    if not listed or not use_listing(by_customer_cost(listed), customers):
        listed = []
    reader: threading.Thread | None = None
    listing: Listing | None = None
    try:
        in_listing = {index for index, _ in listed}
        for chunk in chunks(change, [t for t in tasks if t[0] not in in_listing]):
            submit(chunk, runner.run_chunk, chunk)
        if listed:
            listing = Listing(
                runner,
                listed,
                submit=submit,
                lookahead=LOOKAHEAD_PER_WORKER * workers,
                customers=customers,
                clocks=clocks,
            )
            reader = threading.Thread(target=listing.run, name="toolkit-apply-list", daemon=True)
            reader.start()
        taken = 0  # work items whose rows are in results
        while True:
            alive = reader is not None and reader.is_alive()  # it may still submit more
            with lock:
                submitted = len(futures)
            if taken == submitted and not alive:
                break
            if submitted - taken > max(GATHER_ITEMS, 2 * workers):
                # many rows still to come: take what finished in batches (a thread woken per
                # finished row costs CPU the writers then lack); the last ones as they finish
                stop.wait(GATHER)
            try:
                future = finished.get(timeout=0.05)
            except queue.Empty:
                continue
            while True:
                taken += 1
                for index, result in future.result():
                    results[index] = result
                    bar.step()
                try:
                    future = finished.get_nowait()
                except queue.Empty:
                    break
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


def run_notes(runner: Runner, listing: Listing | None, listed: int) -> list[str]:
    notes = []
    if listing is not None:
        continuations = listing.requests - listing.pages - listing.clock_reads
        clocks = f", {listing.clock_reads} of test clocks" if listing.clock_reads else ""
        notes.append(
            f"re-read {listing.handed} of {listed} sources by listing the account "
            f"({listing.pages} customer pages, {continuations} continuations{clocks})"
            + (f"; the listing stopped early: {listing.error}" if listing.error else "")
            + (f"; {listing.clocks_note}" if listing.clocks_note else "")
        )
    if runner.oldest or runner.stale:
        notes.append(
            f"the oldest state read in bulk and compared was {runner.oldest:.1f} s old "
            f"(limit {MAX_STATE_AGE:.0f} s; {runner.stale} older ones read again by id)"
        )
    return notes
