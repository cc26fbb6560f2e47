"""Back-pressure: what a load or an export holds is bounded by its consumer, not by the server's
speed. Answers: a consumer (the Parquet writer, ``on_rows``, a caller of ``iter_sources``) that
is behind holds the reads back, so at most ``width`` answers wait for it. Queued reads: customer
pages wait while continuations are queued past the pool's backlog, and the result is the same.
Everything is counted (requests the sandbox received, tasks queued), never timed."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import toolkit
import toolkit.fetch.dataset as dataset
from toolkit.fetch import load as load_module
from toolkit.fetch import pool as pool_module
from toolkit.fetch.pool import FIRST, PAGE, RequestPool
from toolkit.fetch.source_fetch import SourceFetch
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

TEST_KEY = "sk_test_" + "T3st" * 6


class _Unpaced:
    """The two things the pool asks of a session: how wide, and its limiter (none: unpaced)."""

    max_workers = 4
    limiter = None


def _read(endpoint: str) -> Any:
    def read(*args: Any, cancel: threading.Event | None = None) -> dict[str, Any]:
        return {"data": list(args)}

    read.endpoint = endpoint  # type: ignore[attr-defined]
    return read


def _pages_and_continuations(backlog: int | None) -> tuple[int, int, int]:
    """Two windows of 10 customer pages, each page leading to 100 continuations (answered at
    once: the server is as fast as it gets). Returns the most continuations queued at once,
    the pages and the continuations read."""
    pool = RequestPool(_Unpaced(), None, width=4, backlog=backlog)  # type: ignore[arg-type]
    page, more = _read("GET /v1/customers"), _read("GET /v1/customers/{id}/sources")
    for window in range(2):
        pool.add(PAGE, "page", page, (window, 0), None, None)
    most = pages = continuations = 0
    try:
        for task, _ in pool.results():
            if task.kind == "page":
                pages += 1
                window, number = task.args
                for customer in range(100):
                    pool.add(FIRST, "items", more, (window, number, customer), None, None)
                if number < 9:
                    pool.add(PAGE, "page", page, (window, number + 1), None, None)
            else:
                continuations += 1
            most = max(most, pool.queued_others)
    finally:
        pool.close()
    return most, pages, continuations


def test_customer_pages_wait_while_their_continuations_are_queued() -> None:
    most, pages, continuations = _pages_and_continuations(backlog=10)
    assert (pages, continuations) == (20, 2000)  # everything read: no page held for ever
    # at most the backlog, plus what the pages already sent (2 slots of 100 customers) add
    assert most <= 10 + 2 * 100
    # without it, the pages run ahead and the continuations pile up with the account
    unbounded, _, _ = _pages_and_continuations(backlog=10**9)
    assert unbounded > 1000


def test_reads_of_given_ids_are_fed_in_as_the_queue_drains() -> None:
    pool = RequestPool(_Unpaced(), None, width=4, backlog=25)  # type: ignore[arg-type]
    read = _read("GET /v1/sources/{id}")
    fed = iter(range(5000))
    pool.feed(FIRST, "source", read, (((n,), None, n) for n in fed))
    assert pool.queued_others == 25  # not 5,000
    most, got = 0, []
    try:
        for _, body in pool.results():
            got.append(body["data"][0])
            most = max(most, pool.queued_others)
    finally:
        pool.close()
    assert sorted(got) == list(range(5000)) and most <= 25
    with pytest.raises(ValueError):
        RequestPool(_Unpaced(), None).feed(PAGE, "page", read, [])  # type: ignore[arg-type]


def _widest(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The widest any pool was (the most reads it keeps in flight) each time it sent reads."""
    widest = [0]
    pump = RequestPool._pump

    def counted(self: RequestPool) -> None:
        widest[0] = max(widest[0], self.width)
        pump(self)

    monkeypatch.setattr(RequestPool, "_pump", counted)
    return widest


def test_a_slow_consumer_holds_back_the_reads(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the consumer of a load's answers is busy, no read is sent beyond those in flight
    (at most the pool's width)."""
    width = 2
    widest = _widest(monkeypatch)
    session = connect(TEST_KEY, api_base=sandbox.url, rate_limit=1000, max_workers=width,
                      quiet=True)  # fmt: skip
    fetch = SourceFetch(session, customers=None, ids=None, created=(None, None),
                        progress=False, cancel=None)  # fmt: skip
    start = len(sandbox.requests)
    held: list[int] = []
    rows = 0
    for consumed, page in enumerate(fetch.pages(), 1):
        rows += len(page)
        time.sleep(0.01)  # a slow consumer: the pool's threads are free to run ahead
        held.append(len(sandbox.requests) - start - consumed)  # answered, not yet taken
    assert rows == fetch.sources > 0 and len(held) > 3 * width
    assert max(held) <= widest[0]
    session.close()


def test_a_slow_on_rows_holds_back_the_load(
    sandbox: Sandbox, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``load_sources(on_rows=...)`` hands each answer's rows on in the loading thread: while
    the view is busy with them, no read is sent beyond those in flight; the frame is the same."""
    monkeypatch.setattr(load_module, "ROWS_EVERY", 0.0)  # every answer's rows, at once
    during: list[int] = []
    shown: list[int] = []

    def slow_view(rows: pd.DataFrame) -> None:
        before = len(sandbox.requests)
        time.sleep(0.01)
        shown.append(len(rows))
        during.append(len(sandbox.requests) - before)

    narrow = connect(TEST_KEY, api_base=sandbox.url, rate_limit=1000, max_workers=2, quiet=True)
    widest = _widest(monkeypatch)
    df = toolkit.load_sources(narrow, progress=False, on_rows=slow_view)
    narrow.close()
    assert sum(shown) == len(df) and len(during) > 3 * narrow.max_workers
    assert max(during) <= widest[0]
    full = toolkit.load_sources(session, progress=False)
    pd.testing.assert_frame_equal(df.drop(columns="raw"), full.drop(columns="raw"))


@pytest.mark.slow
def test_a_slow_writer_holds_back_the_export_and_the_dataset_is_the_same(
    sandbox: Sandbox, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parquet parts written slowly: while a part is written, at most the pool's width of reads
    (those already in flight) reach the server, and the dataset is the one a fast writer
    writes, and the frame of load_sources."""
    # parts of 10 sources: most are written while their window's reads are still going on
    fast = toolkit.export_sources(session, tmp_path / "fast", batch=10, progress=False)
    write = dataset._write
    during: list[int] = []

    def slow_write(*args: Any) -> Any:
        before = len(sandbox.requests)
        time.sleep(0.03)
        written = write(*args)
        during.append(len(sandbox.requests) - before)
        return written

    monkeypatch.setattr(dataset, "_write", slow_write)
    widest = _widest(monkeypatch)
    slow = toolkit.export_sources(session, tmp_path / "slow", batch=10, progress=False)
    assert len(during) >= slow.sources // 10 and any(during)
    assert max(during) <= widest[0]
    # (the parts differ with the order answers came in; the rows do not)
    assert (slow.sources, slow.windows) == (fast.sources, fast.windows)
    back, again = toolkit.read_dataset(tmp_path / "slow"), toolkit.read_dataset(tmp_path / "fast")
    pd.testing.assert_frame_equal(back, again)
    full = toolkit.load_sources(session, progress=False, metadata_columns=False)
    assert sorted(back["id"]) == sorted(full["id"])


def _most_queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The most reads queued at once (not customer pages) in any pool, as they are added."""
    most = [0]
    add = RequestPool.add

    def counted(self: RequestPool, *args: Any) -> None:
        add(self, *args)
        most[0] = max(most[0], self.queued_others)

    monkeypatch.setattr(RequestPool, "add", counted)
    return most


def test_a_backlog_of_one_loads_the_same_frame(
    sandbox: Sandbox, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tightest backlog: a customer page waits while one continuation is queued. Nothing
    deadlocks (the test clocks' pages queue behind customer pages on the same endpoint) and
    the frame and the cash balances are those of the default backlog."""
    full = toolkit.load_sources(session, progress=False)
    balances = toolkit.load_cash_balances(session, progress=False)
    narrow = connect(TEST_KEY, api_base=sandbox.url, rate_limit=1000, max_workers=2, quiet=True)
    monkeypatch.setattr(pool_module, "BACKLOG", 1)
    most = _most_queued(monkeypatch)
    tight = toolkit.load_sources(narrow, progress=False)
    # one customer page in flight at a time (2 workers): its customers, and the one queued
    assert most[0] <= 1 + 100
    pd.testing.assert_frame_equal(tight.drop(columns="raw"), full.drop(columns="raw"))
    assert tight["raw"].tolist() == full["raw"].tolist()
    tight_balances = toolkit.load_cash_balances(narrow, progress=False)
    pd.testing.assert_frame_equal(tight_balances, balances)
    assert most[0] <= 1 + 100
    # reads of given ids, fed in one at a time: sources, customers, transactions
    ids, customers = full["id"].tolist()[:120], full["customer"].dropna().unique().tolist()[:40]
    receivers = full[full["flow"] == "receiver"].head(60)
    most[0] = 0
    by_ids = toolkit.load_sources(narrow, ids=ids, progress=False)
    of_customers = toolkit.load_sources(narrow, customers=customers, progress=False)
    txns = toolkit.load_source_transactions(narrow, receivers, progress=False)
    assert most[0] <= 1 + narrow.max_workers  # one fed, and a next page of each read in flight
    monkeypatch.undo()
    assert by_ids["id"].tolist() == ids
    pd.testing.assert_frame_equal(
        of_customers.drop(columns="raw"),
        toolkit.load_sources(session, customers=customers, progress=False).drop(columns="raw"),
    )
    pd.testing.assert_frame_equal(
        txns, toolkit.load_source_transactions(session, receivers, progress=False)
    )
    narrow.close()
