"""The receiver audit spends the fewest reads (issue 27 item 3): a receiver that never received
money is not asked for its transactions when ``skip_unfunded`` says so, checked against the
sandbox's request log, and the audit's figures stay those of a full read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.fetch.transactions import UNFUNDED_NOTE, unfunded_receivers
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

TEST = "sk_test_" + "T3st" * 6
TXNS = "/source_transactions"


@pytest.fixture(scope="module")
def demo() -> Iterator[Sandbox]:
    """The demo account (seed 7, 300 customers), its request log this module's own."""
    with Sandbox(seed=7) as box:
        yield box


def session_on(box: Sandbox, tmp_path: Path) -> Session:
    return connect(TEST, api_base=box.url, rate_limit=1000, quiet=True,
                   read_ledger=tmp_path / "reads.jsonl")  # fmt: skip


def transaction_lists(box: Sandbox, mark: int) -> list[str]:
    """The sources whose transactions were listed (GET), after log entry ``mark``."""
    return [
        e.path.split("/")[3]
        for e in box.requests[mark:]
        if e.method == "GET" and e.path.endswith(TXNS)
    ]


def test_unfunded_receivers_are_never_asked_for_transactions(demo: Sandbox, tmp_path: Path):
    session = session_on(demo, tmp_path)
    sources = toolkit.load_sources(session, progress=False)
    receivers = sources[sources["flow"] == "receiver"]
    unfunded = set(unfunded_receivers(receivers))
    assert 0 < len(unfunded) < len(receivers)
    mark = len(demo.requests)
    txns = toolkit.load_source_transactions(session, receivers, skip_unfunded=True, progress=False)
    listed = transaction_lists(demo, mark)
    assert not unfunded & set(listed)  # a zero-received receiver's transactions never listed
    assert len(listed) == len(receivers) - len(unfunded)  # one page each, no more
    load_info = toolkit.LoadInfo.from_attrs(txns)
    assert load_info is not None and load_info.reads == len(listed)
    assert sorted(txns.attrs["toolkit"]["unfunded_skipped"]) == sorted(unfunded)


def test_the_audit_of_the_demo_account_reads_less_and_finds_the_same(
    demo: Sandbox, tmp_path: Path
) -> None:
    session = session_on(demo, tmp_path)
    sources = toolkit.load_sources(session, progress=False)
    receivers = sources[sources["flow"] == "receiver"]
    mark = len(demo.requests)
    every = toolkit.load_source_transactions(session, receivers, progress=False)
    full = len(transaction_lists(demo, mark))
    mark = len(demo.requests)
    funded = toolkit.load_source_transactions(
        session, receivers, skip_unfunded=True, progress=False
    )
    fewer = len(transaction_lists(demo, mark))
    assert full == len(receivers) and fewer <= 0.8 * full  # at least a fifth of the reads saved
    before = toolkit.audit_receivers(sources, every)
    after = toolkit.audit_receivers(sources, funded)
    for name in ("sources", "exceptions", "by_currency", "by_customer", "by_status", "aging",
                 "checks", "unmatched_transactions"):  # fmt: skip
        pd.testing.assert_frame_equal(getattr(before, name), getattr(after, name), obj=name)
    assert not any(n.startswith(UNFUNDED_NOTE) for n in before.notes)
    assert any(n.startswith(UNFUNDED_NOTE) for n in after.notes)


def test_the_default_still_reads_every_receiver(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    """Stripe does not say a fully reversed deposit leaves amount_received above 0: without
    ``skip_unfunded`` such a receiver's transactions are read (and the reversal seen)."""
    session = session_on(fresh_sandbox, tmp_path)
    sources = toolkit.load_sources(session, progress=False)
    chargeable = sources[(sources["flow"] == "receiver") & (sources["status"] == "chargeable")]
    sid = str(chargeable["id"].iloc[0])
    received = int(chargeable["receiver_amount_received"].iloc[0])
    fresh_sandbox.reverse(sid, received)  # amount_received back to 0, transactions remain
    one = toolkit.load_sources(session, ids=[sid], progress=False)
    assert unfunded_receivers(one) == [sid]
    seen = toolkit.load_source_transactions(session, one, progress=False)
    assert (seen["amount"] < 0).any()
    skipped = toolkit.load_source_transactions(session, one, skip_unfunded=True, progress=False)
    assert len(skipped) == 0 and skipped.attrs["toolkit"]["unfunded_skipped"] == [sid]


def test_a_second_audit_reads_only_the_receivers_whose_amounts_moved(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    box = fresh_sandbox
    session = session_on(box, tmp_path)
    sources = toolkit.load_sources(session, progress=False)
    receivers = sources[sources["flow"] == "receiver"]
    first = toolkit.load_source_transactions(session, receivers, skip_unfunded=True, progress=False)
    kept = toolkit.load_snapshot(toolkit.save_snapshot(first, tmp_path / "txns.parquet"))
    funded = receivers[receivers["receiver_amount_received"] > 0]["id"].astype(str).tolist()
    unfunded = unfunded_receivers(receivers)
    moved = [funded[0], funded[1], unfunded[0]]
    for i, sid in enumerate(moved):
        box.deposit(sid, 1_500 + i)
    later = toolkit.load_sources(session, progress=False)
    now = later[later["flow"] == "receiver"]
    mark = len(box.requests)
    second = toolkit.load_source_transactions(
        session, now, skip_unfunded=True, reuse=kept, progress=False
    )
    assert sorted(transaction_lists(box, mark)) == sorted(moved)  # before: every funded receiver
    assert second.attrs["toolkit"]["reused"] == len(funded) - 2
    full = toolkit.load_source_transactions(session, now, skip_unfunded=True, progress=False)
    pd.testing.assert_frame_equal(second, full, check_like=True)  # the same rows as a full read
    before = toolkit.audit_receivers(later, full)
    after = toolkit.audit_receivers(later, second)
    pd.testing.assert_frame_equal(before.sources, after.sources)
    pd.testing.assert_frame_equal(before.exceptions, after.exceptions)
