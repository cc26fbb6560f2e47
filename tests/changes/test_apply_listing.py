"""apply() re-reading a plan's sources by listing the account (the bulk route), end to end.

The drift check, journal, resume and undo must hold exactly as when each source is re-read on
its own; only the number of read requests changes (counted in the sandbox's request log).
"""

from __future__ import annotations

import importlib
import threading
import time
from typing import Any

import pandas as pd
import pytest

from tests.changes.changes_support import TEST_KEY, effective_writes
from toolkit.changes.journal.reading import read_journal
from toolkit.changes.plans.builders import plan_detach, plan_metadata
from toolkit.changes.run.applying import apply
from toolkit.changes.run.undoing import undo
from toolkit.fetch import load_sources
from toolkit.fetch.pool import RequestPool
from toolkit.sandbox import Sandbox
from toolkit.session import connect

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")
runner_module = importlib.import_module("toolkit.changes.run.runner")
listing_module = importlib.import_module("toolkit.changes.run.listing")


def reads(box):
    """Read requests in the log, by kind."""
    out: dict[str, Any] = {"pages": 0, "continuations": 0, "by_id": []}
    for e in box.requests:
        if e.method != "GET":
            continue
        if e.path == "/v1/customers":
            out["pages"] += 1
        elif e.path.endswith("/sources"):
            out["continuations"] += 1
        elif e.path.startswith("/v1/sources/"):
            out["by_id"].append(e.path.rsplit("/", 1)[-1])
    return out


def attached(frame):
    return frame[frame["customer"].notna()].sort_values("id")


@pytest.mark.slow
def test_plan_over_many_customers_uses_the_listing_and_refuses_drift(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    frame = load_sources(session, progress=False)
    assert frame.attrs["toolkit"]["scope"] == "account"
    assert frame.attrs["toolkit"]["customers"] == 60 and frame.attrs["toolkit"]["requests"] >= 1
    selection = attached(frame)
    plan = plan_metadata(selection, set={"tier": "gold"})
    ready = list(plan.ready["source"])
    assert len(ready) > 100 and plan.ready["customer"].nunique() > 30
    drifted, detached = ready[5], ready[17]
    # between plan and apply: someone else changes a key the plan sets, and detaches a source
    session.client.v1.sources.update(drifted, {"metadata": {"tier": "silver"}})
    session.client.v1.sources.detach(box.get_source(detached)["customer"], detached)
    before = {sid: dict(box.get_source(sid)["metadata"]) for sid in ready}
    box.clear_log()

    assert plan.loaded is not None and plan.loaded.customers == 60  # the size hint
    assert plan.subset(ready[:3]).loaded == plan.loaded
    outcome = apply(plan, session, progress=False)

    by_source = outcome.df.set_index("source")
    assert by_source.loc[drifted, "result"] == "drifted"
    assert "tier is 'silver', plan expected" in by_source.loc[drifted, "message"]
    assert box.get_source(drifted)["metadata"]["tier"] == "silver"  # not overwritten
    assert by_source.loc[detached, "result"] == "ok"
    assert outcome.totals["ok"] == len(ready) - 1 and outcome.totals["failed"] == 0
    # reads: one customer page (60 customers) and continuations; the detached source (no
    # longer in its customer's list) by id; far fewer reads than rows
    got = reads(box)
    assert got["pages"] == 1
    assert detached in got["by_id"] and drifted not in got["by_id"]
    assert got["pages"] + got["continuations"] + len(got["by_id"]) <= len(ready) // 10
    assert any("by listing the account" in note for note in outcome.notes)
    writes = effective_writes(box)
    assert drifted not in writes and writes == dict.fromkeys(set(ready) - {drifted}, 1)
    # the journal's before is the state read, the drift refusal is journaled
    assert outcome.journal is not None
    state = read_journal(outcome.journal)
    for key in list(state.done)[:20]:
        assert state.before_of(key) == before[key[1]]
    records = outcome.journal.read_text()
    assert drifted in records and "drifted:" in records
    # undo restores the exact before state; the undo is in the journal, so applying the plan
    # again writes every row again (once), and the drifted one is still refused
    back = undo(outcome.journal, session, progress=False)
    assert back.totals["failed"] == 0 and back.totals["drifted"] == 0
    for sid in set(ready) - {drifted}:
        assert box.get_source(sid)["metadata"] == before[sid]
    box.clear_log()
    again = apply(plan, session, hint=frame, progress=False)
    assert again.totals["ok"] == len(ready) - 1 and again.totals["drifted"] == 1
    assert effective_writes(box) == dict.fromkeys(set(ready) - {drifted}, 1)


def test_dry_run_over_the_listing_reports_drift_and_writes_nothing(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    frame = load_sources(session, progress=False)
    plan = plan_metadata(attached(frame), set={"seg": "b"})
    ready = list(plan.ready["source"])
    session.client.v1.sources.update(ready[3], {"metadata": {"seg": "a"}})
    box.clear_log()
    preview = apply(plan, session, dry_run=True, hint=frame, progress=False)
    assert preview.totals["drifted"] == 1 and preview.totals["would_apply"] == len(ready) - 1
    assert preview.df.set_index("source").loc[ready[3], "result"] == "drifted"
    assert all(e.method == "GET" for e in box.requests)
    assert reads(box)["pages"] == 1 and len(box.requests) < len(ready) // 10


def test_detach_over_the_listing_skips_a_source_detached_since(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    frame = load_sources(session, progress=False)
    selection = attached(frame)
    selection = selection[selection["status"].isin(["chargeable", "pending"])]
    plan = plan_detach(selection)
    ready = list(plan.ready["source"])
    assert len(ready) > 40
    gone = ready[2]
    session.client.v1.customers.payment_sources.delete(box.get_source(gone)["customer"], gone)
    box.clear_log()
    outcome = apply(plan, session, hint=frame, progress=False)
    row = outcome.df.set_index("source").loc[gone]
    assert row["result"] == "skipped" and "already consumed" in row["message"]
    assert outcome.totals["ok"] == len(ready) - 1 and outcome.totals["failed"] == 0
    assert effective_writes(box, "DELETE") == dict.fromkeys(set(ready) - {gone}, 1)
    got = reads(box)
    assert got["pages"] == 1 and gone in got["by_id"]  # not in any list any more: read by id


def test_state_older_than_the_limit_is_read_again_by_id(fresh_sandbox, fresh_session, monkeypatch):
    box, session = fresh_sandbox, fresh_session
    frame = load_sources(session, progress=False)
    plan = plan_metadata(attached(frame).head(60), set={"age": "1"})
    box.clear_log()
    monkeypatch.setattr(runner_module, "MAX_STATE_AGE", 0.0)
    outcome = apply(plan, session, hint=frame, progress=False)
    assert outcome.totals["ok"] == 60
    assert sorted(reads(box)["by_id"]) == sorted(plan.ready["source"])  # every row re-read
    note = next(n for n in outcome.notes if "older ones read again by id" in n)
    assert "; 0 older" not in note


def test_canceled_during_the_listing_then_resumed_writes_each_row_once(
    fresh_sandbox, fresh_session
):
    box, session = fresh_sandbox, fresh_session
    frame = load_sources(session, progress=False)
    plan = plan_metadata(attached(frame), set={"wave": "1"})
    ready = list(plan.ready["source"])
    box.clear_log()
    stop = threading.Event()

    def progress(done, total, label):
        if done >= 25:
            stop.set()

    first = apply(plan, session, hint=frame, progress=progress, cancel=stop, max_workers=2)
    assert first.totals["canceled"] > 0 and first.totals["failed"] == 0
    assert first.totals["ok"] + first.totals["canceled"] == len(ready)
    second = apply(plan, session, resume=first.journal, hint=frame, progress=False)
    assert second.totals["failed"] == 0 and second.totals["canceled"] == 0
    assert effective_writes(box) == dict.fromkeys(ready, 1)
    assert all(box.get_source(sid)["metadata"]["wave"] == "1" for sid in ready)


@pytest.fixture
def big_sandbox():
    with Sandbox(seed=5, customers=700) as box:
        yield box


def test_route_follows_the_cost(big_sandbox):
    box = big_sandbox
    session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
    store = box.store()
    listed = set(store.order)  # customers on a test clock are not in the account listing
    owned = {  # customer -> its attached sources (in its list)
        cid: sorted(i for i in items if i in store.sources)
        for cid, items in store.items.items()
        if cid in listed and any(i in store.sources for i in items)
    }
    # one source each of 20 customers spread over a 700-customer account (7 pages)
    spread = sorted(owned)[:: len(owned) // 20][:20]
    ids = [sorted(owned[c])[0] for c in spread]
    assert len(ids) == 20
    plan = plan_metadata(ids, set={"r": "1"})
    plan.df["customer"] = spread  # as a frame would carry it
    by_customer = len(ids)  # one read each

    # the size hint says listing takes 7 pages: cheaper than 20 reads
    hint = {"scope": "account", "account": session.account_label, "customers": 700}
    box.clear_log()
    assert apply(plan, session, hint=hint, progress=False).totals["ok"] == 20
    got = reads(box)
    deepest = max(store.order.index(c) for c in spread)  # the listing stops once all are found
    assert got["pages"] == deepest // 100 + 1 and not got["continuations"]
    # by id only a lone row beyond the 10 sources a page embeds per customer
    assert all(
        len(owned[c]) > 10 for c, sid in zip(spread, ids, strict=True) if sid in got["by_id"]
    )

    # an account far bigger than the plan: read by id (never the listing)
    plan2 = plan_metadata(ids, set={"r": "2"})
    plan2.df["customer"] = spread
    box.clear_log()
    big = {**hint, "customers": 1_000_000}
    assert apply(plan2, session, hint=big, progress=False).totals["ok"] == 20
    got = reads(box)
    assert got["pages"] == 0 and sorted(got["by_id"]) == sorted(ids)

    # no hint: the listing is tried but stops before it costs more than about twice the
    # by-customer reads
    plan3 = plan_metadata(ids, set={"r": "3"})
    plan3.df["customer"] = spread
    box.clear_log()
    assert apply(plan3, session, progress=False).totals["ok"] == 20
    got = reads(box)
    assert got["pages"] + got["continuations"] + len(got["by_id"]) <= 2 * by_customer + 1

    # a hint from another account is ignored (no listing for a 20-row plan without it)
    assert listing_module.account_customers({**hint, "account": "acct_x (test)"}, session) is None
    assert listing_module.account_customers({**hint, "scope": "customers"}, session) is None


@pytest.mark.slow
def test_listing_under_faults_each_row_written_once():
    with Sandbox(seed=5, customers=30) as box:
        session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True, max_retries=4)
        frame = load_sources(session, progress=False)
        selection = attached(frame).drop_duplicates("customer").head(12)
        plan = plan_metadata(selection, set={"batch": "l1"})
        ids = list(plan.ready["source"])
        assert plan.loaded is not None
        assert len(ids) == 12 and plan.loaded.customers == 30
        box.clear_log()
        box.set_faults(latency=0.2, error_rate=0.2, drop_rate=0.1, rate_limit=6)
        outcomes = []
        for _ in range(6):
            outcome = apply(plan, session, progress=False)
            outcomes.append(outcome)
            assert len(outcome.df) == len(plan.df)  # no row lost
            for row in outcome.df.to_dict("records"):
                landed = box.get_source(row["source"])["metadata"].get("batch") == "l1"
                assert row["result"] in ("ok", "skipped", "failed") and (
                    row["result"] == "ok" or row["message"]
                )
                assert landed == (row["result"] != "failed"), row  # outcome matches the sandbox
            if outcome.totals["failed"] == 0:
                break
        box.faults_off()
        assert any("by listing the account" in n for n in outcomes[0].notes)
        assert outcomes[-1].totals["failed"] == 0
        assert effective_writes(box) == dict.fromkeys(ids, 1)
        assert {"error", "drop", "rate_limit"} <= {e.fault for e in box.requests}


def test_every_read_of_a_run_goes_through_fetch_s_scheduler(
    fresh_sandbox, fresh_session, monkeypatch
):
    """apply's re-reads (customer pages, continuations, by customer, by id) are calls to fetch's
    RequestPool, the one scheduler that paces the loads' reads too: no read of a run is sent
    around it."""
    box, session = fresh_sandbox, fresh_session
    frame = load_sources(session, progress=False)
    selection = attached(frame)
    calls: list[str] = []
    call = RequestPool.call

    def counted(pool, priority, read, *args):
        calls.append(read.endpoint)
        return call(pool, priority, read, *args)

    monkeypatch.setattr(RequestPool, "call", counted)
    sizes = selection["customer"].value_counts()
    several = selection[selection["customer"] == sizes.index[0]].head(20)  # with its list
    lone = selection[selection["customer"].isin(sizes[sizes == 1].index)].head(2)  # by id
    assert len(several) >= 2 and len(lone) == 2
    few = pd.concat([several, lone])
    few.attrs = {}  # no size hint: re-read by customer, not by listing the account
    plans = {
        "listing": plan_metadata(selection, set={"via": "listing"}),
        "by customer and by id": plan_metadata(few, set={"route": "few"}),
    }
    for route, plan in plans.items():
        calls.clear()
        box.clear_log()
        outcome = apply(plan, session, progress=False)
        assert outcome.totals["ok"] == len(plan.ready), route
        gets = [e for e in box.requests if e.method == "GET"]
        assert len(calls) == len(gets) > 0, route
        assert not [t for t in threading.enumerate() if t.name.startswith("toolkit-fetch")]
    assert reads(box)["continuations"] >= 1 and reads(box)["by_id"]  # the second plan's routes


@pytest.fixture
def clock_sandbox():
    with Sandbox(seed=5, customers=120) as box:  # test clocks are seeded from 100 customers
        yield box


def _clocked(box):
    """Customers on a test clock -> their attached sources."""
    store = box.store()
    return {
        cid: {i for i in store.items.get(cid, []) if i in store.sources}
        for cid, cus in store.customers.items()
        if cus.get("test_clock")
    }


def _clock_reads(box):
    lists = sum(1 for e in box.requests if e.method == "GET" and e.path.endswith("/test_clocks"))
    pages = sum(
        1
        for e in box.requests
        if e.method == "GET" and e.path == "/v1/customers" and e.params.get("test_clock")
    )
    return lists, pages


def test_rows_on_test_clock_customers_are_read_with_their_clocks(clock_sandbox):
    """Stripe's customer list leaves out customers on a test clock: the listing pages them by
    clock (one list of clocks, a page per clock) instead of re-reading them by customer."""
    box = clock_sandbox
    session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
    clocked = _clocked(box)
    on_clocks = set().union(*clocked.values())
    assert len(clocked) == 6 and len(on_clocks) >= 6
    frame = load_sources(session, progress=False)
    assert frame.attrs["toolkit"]["test_clocks"] == 2
    plan = plan_metadata(attached(frame), set={"clocked": "1"})
    assert on_clocks <= set(plan.ready["source"])
    load_gets = [e for e in box.requests if e.method == "GET" and not e.path.startswith("/v1/ev")]
    box.clear_log()
    outcome = apply(plan, session, progress=False)
    assert outcome.totals["ok"] == len(plan.ready) and outcome.totals["failed"] == 0
    got = reads(box)
    assert _clock_reads(box) == (1, 2)  # the clocks, then one page of each clock's customers
    assert not on_clocks & set(got["by_id"])
    read_by_customer = {e.path.split("/")[3] for e in box.requests if e.path.endswith("/sources")}
    assert not read_by_customer & set(clocked)
    gets = sum(1 for e in box.requests if e.method == "GET")
    assert outcome.reads == gets <= len(load_gets)  # no more than the account-wide load's reads
    note = next(n for n in outcome.notes if "by listing the account" in n)
    assert "3 of test clocks" in note
    assert effective_writes(box) == dict.fromkeys(plan.ready["source"], 1)
    # the undo reads the same way
    box.clear_log()
    assert outcome.journal is not None
    back = undo(outcome.journal, session, progress=False)
    assert back.totals["failed"] == 0 and _clock_reads(box) == (1, 2)
    assert sum(1 for e in box.requests if e.method == "GET") == gets


def test_no_list_of_clocks_when_the_load_saw_none(clock_sandbox):
    box = clock_sandbox
    session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
    frame = load_sources(session, progress=False)
    plan = plan_metadata(attached(frame), set={"clocked": "2"})
    hint = {**frame.attrs["toolkit"], "test_clocks": 0}  # as a load of an account without any
    box.clear_log()
    outcome = apply(plan, session, hint=hint, progress=False)
    assert outcome.totals["ok"] == len(plan.ready)
    assert _clock_reads(box) == (0, 0)  # the clock customers' rows: read by customer


def test_a_key_that_may_not_list_test_clocks_reads_their_rows_by_customer(clock_sandbox):
    box = clock_sandbox
    key = "rk_test_" + "N0Cl0cks" * 3
    box.restricted_keys[key] = {"customers": "read", "sources": "write"}
    session = connect(key, api_base=box.url, rate_limit=1000, quiet=True)
    frame = load_sources(session, progress=False)
    assert frame.attrs["toolkit"].get("test_clocks") is None
    clocked = _clocked(box)
    # the frame lacks the clock customers' sources: plan them by customer and id, as a user would
    store = box.store()
    extra = pd.DataFrame(
        [{"id": sid, "customer": cid} for cid, ids in clocked.items() for sid in sorted(ids)]
    )
    selection = pd.concat([attached(frame)[["id", "customer"]], extra], ignore_index=True)
    selection.attrs = frame.attrs
    plan = plan_metadata(list(selection["id"]), set={"clocked": "3"})
    plan.df["customer"] = list(selection["customer"])
    assert store.test_clocks
    box.clear_log()
    outcome = apply(plan, session, hint=frame, progress=False)
    assert outcome.totals["ok"] == len(plan.ready) and outcome.totals["failed"] == 0
    assert _clock_reads(box) == (1, 0)  # refused (403), then read by customer
    note = next(n for n in outcome.notes if "by listing the account" in n)
    assert "customers on test clocks are not included" in note


def test_the_listing_hands_at_most_its_lookahead_and_goes_on_at_half() -> None:
    """At most ``lookahead`` listed rows wait for a writer; once full, the listing hands more
    only when half of them are written (it wakes once per half a lookahead, not per write)."""
    from concurrent.futures import Future
    from types import SimpleNamespace

    handed: list[Future[Any]] = []

    def submit(chunk: Any, fn: Any, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        handed.append(future)
        return future

    rows = [(i, {"source": f"src_{i}", "customer": "cus_1"}) for i in range(10)]
    runner = SimpleNamespace(session=None, stop=threading.Event(), run_one=lambda *a: None)
    listing = listing_module.Listing(runner, rows, submit=submit, lookahead=4, customers=None)
    peak = []

    def hand_all() -> None:
        for i in range(10):
            listing._hand({"id": f"src_{i}", "customer": "cus_1"}, "cus_1", 0.0)
            peak.append(listing.ahead)

    def settle(count: int) -> None:
        deadline = time.monotonic() + 5
        while len(handed) != count and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # and no more than that
        assert len(handed) == count

    thread = threading.Thread(target=hand_all)
    thread.start()
    settle(4)
    handed[0].set_result([])  # 3 wait: not yet
    settle(4)
    handed[1].set_result([])  # 2 wait, half: two more
    settle(6)
    for future in handed[2:6]:
        future.set_result([])
    settle(10)
    for future in handed[6:]:
        future.set_result([])
    thread.join(5)
    assert max(peak) <= 4 and listing.ahead == 0 and listing.handed == 10
