"""Every load, refresh, export and audit reports the GETs it sent, checked against the sandbox's
request log; the read allowance refuses what it can foresee before anything is sent, and stops
the rest at the limit keeping what was read (issue 23 item 2)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

import toolkit
from tests.fetch.brute import stored
from toolkit.audit.migration_run import READS_NOTE, run_migration_audit
from toolkit.errors import ReadAllowanceError
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

TEST = "sk_test_" + "T3st" * 6


@pytest.fixture(scope="module")
def demo() -> Iterator[Sandbox]:
    """The demo account (seed 7, 300 customers), its request log this module's own."""
    with Sandbox(seed=7) as box:
        yield box


def session_on(box: Sandbox, tmp_path: Path, **options) -> Session:
    options.setdefault("read_ledger", tmp_path / "reads.jsonl")
    return connect(TEST, api_base=box.url, rate_limit=1000, quiet=True, **options)


def gets(box: Sandbox, mark: int) -> int:
    return sum(1 for e in box.requests[mark:] if e.method == "GET")


def test_every_load_reports_the_gets_it_sent(demo: Sandbox, tmp_path: Path) -> None:
    session = session_on(demo, tmp_path)

    def reads_of(load):  # (what the load says it read, what the sandbox received)
        mark = len(demo.requests)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = load()
        load_info = toolkit.LoadInfo.from_attrs(frame)
        assert load_info is not None
        return load_info.reads, gets(demo, mark)

    sources = toolkit.load_sources(session, progress=False)
    some = sources["customer"].dropna().unique()[:5].tolist()
    loads = {
        "account": lambda: toolkit.load_sources(session, progress=False),
        "ids": lambda: toolkit.load_sources(session, ids=sources["id"][:100].tolist(), progress=False),
        "customers": lambda: toolkit.load_sources(session, customers=some, progress=False),
        "created": lambda: toolkit.load_sources(session, created=("2026-06-01", None), progress=False),
        "accounts": lambda: toolkit.load_sources(session, accounts="all", progress=False),
        "transactions": lambda: toolkit.load_source_transactions(session, sources, progress=False),
        "cash": lambda: toolkit.load_cash_balances(session, progress=False),
        "cash of some": lambda: toolkit.load_cash_balances(session, some, progress=False),
        "cash moves": lambda: toolkit.load_cash_balance_transactions(session, some, progress=False),
        "refresh": lambda: toolkit.refresh(sources, session, progress=False),
        "recheck": lambda: toolkit.refresh(sources, session, progress=False, recheck="customers"),
    }  # fmt: skip
    for name, load in loads.items():
        said, sent = reads_of(load)
        assert said == sent and sent > 0, name
    assert reads_of(loads["ids"]) == (100, 100)  # one read per id


def test_a_refresh_reports_its_reads(demo: Sandbox, tmp_path: Path) -> None:
    session = session_on(demo, tmp_path)
    sources = toolkit.load_sources(session, progress=False)
    mark = len(demo.requests)
    fresh = toolkit.refresh(sources, session, progress=False)
    assert fresh.attrs["refresh"]["reads"] == gets(demo, mark) == 1  # nothing changed: one list


def test_an_export_reports_its_reads(demo: Sandbox, tmp_path: Path) -> None:
    session = session_on(demo, tmp_path)
    mark = len(demo.requests)
    done = toolkit.export_sources(session, tmp_path / "dataset", progress=False)
    assert done.reads == gets(demo, mark) > 0


def test_the_migration_audit_says_what_it_read(demo: Sandbox, tmp_path: Path) -> None:
    session = session_on(demo, tmp_path)
    mark = len(demo.requests)
    audit = run_migration_audit(session, progress=False)
    note = next(n for n in audit.notes if n.startswith(READS_NOTE))
    found = re.search(r"([\d,]+) reads? \(", note)
    assert found is not None
    said = int(found.group(1).replace(",", ""))
    assert said == gets(demo, mark)
    assert re.search(r"\(this account: [\d,]+ in 30 days\)", note)


def test_progress_bars_say_what_was_read(demo: Sandbox, tmp_path: Path, capsys) -> None:
    session = session_on(demo, tmp_path)
    frame = toolkit.load_sources(session, progress=True)
    bar = capsys.readouterr().err.strip().split("\r")[-1]
    load_info = toolkit.LoadInfo.from_attrs(frame)
    assert load_info is not None
    reads = load_info.reads
    assert f"{len(frame):,} sources · {reads:,} reads (this account: " in bar, bar


def test_a_load_of_ids_past_the_allowance_sends_nothing(demo: Sandbox, tmp_path: Path) -> None:
    session = session_on(demo, tmp_path, read_allowance=50)
    ids = [f"src_1NoSuchSource{i:04d}" for i in range(60)]
    mark = len(demo.requests)
    with pytest.raises(ReadAllowanceError) as info:
        toolkit.load_sources(session, ids=ids, progress=False)
    assert gets(demo, mark) == 0
    error = info.value
    assert (error.cost, error.left, error.operation) == (60, 50, "load ids")
    for way in ("refresh", "customers=", "ids=", "created="):  # the cheaper paths
        assert way in str(error)


def test_a_whole_account_load_is_held_to_what_it_cost_last_time(
    demo: Sandbox, tmp_path: Path
) -> None:
    first = session_on(demo, tmp_path)
    load_info = toolkit.LoadInfo.from_attrs(toolkit.load_sources(first, progress=False))
    assert load_info is not None and load_info.reads is not None
    cost = load_info.reads
    second = session_on(demo, tmp_path, read_allowance=2 * cost - 1)
    mark = len(demo.requests)
    with pytest.raises(ReadAllowanceError, match="what it cost the last time it ran") as info:
        toolkit.load_sources(second, progress=False)
    assert gets(demo, mark) == 0 and info.value.cost == cost


def test_a_load_stops_at_the_limit_and_keeps_what_it_read(demo: Sandbox, tmp_path: Path) -> None:
    session = session_on(demo, tmp_path, read_allowance=10)
    mark = len(demo.requests)
    with pytest.raises(ReadAllowanceError, match="Stopped at the read allowance") as info:
        toolkit.load_sources(session, progress=False)
    assert gets(demo, mark) == 10  # never a read past the allowance
    partial = info.value.partial
    loaded = toolkit.LoadInfo.from_attrs(partial)
    assert loaded is not None
    assert loaded.reads == 10 and info.value.reads == 10
    assert 0 < len(partial) < len(stored(demo))
    assert set(partial["id"]) <= set(stored(demo))
    assert f"The {len(partial):,} sources read before it stopped are in error.partial" in str(
        info.value
    )


def test_an_export_stopped_at_the_limit_goes_on_from_its_checkpoint(
    demo: Sandbox, tmp_path: Path
) -> None:
    folder = tmp_path / "dataset"
    short = session_on(demo, tmp_path, read_allowance=60)
    mark = len(demo.requests)
    with pytest.raises(ReadAllowanceError, match="run the same export again") as info:
        toolkit.export_sources(short, folder, progress=False)
    assert info.value.partial.reads == 60 == gets(demo, mark)
    enough = session_on(demo, tmp_path, read_allowance=None)
    done = toolkit.export_sources(enough, folder, progress=False)
    assert done.windows_skipped > 0  # what the first run finished is not read again
    assert set(toolkit.read_dataset(folder)["id"]) == set(stored(demo))


def test_stripes_read_allocation_stops_a_load_without_retries(tmp_path: Path) -> None:
    with Sandbox(seed=7, read_allocation=8) as box:
        session = session_on(box, tmp_path)  # a test key: no allowance of its own
        with pytest.raises(ReadAllowanceError, match="Stripe refused a read") as info:
            toolkit.load_sources(session, progress=False)
        assert info.value.status == 429 and session.retries == 0
        refused = [e for e in box.requests if e.status == 429]
        assert refused and all(e.limited == "read-allocation" for e in refused)
        assert len(refused) <= session.max_workers  # those in flight; nothing sent after
        assert len(info.value.partial) > 0
