"""refresh(): a snapshot brought up to date from Stripe's events equals a new full load, and
costs the event pages plus one read per changed source."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest

import toolkit
from tests.fetch.refresh_support import assert_same_frame, new_receiver
from toolkit.fetch.loaded import LoadInfo
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

TEST_KEY = "sk_test_" + "R3fr" * 6


def _writes(box: Sandbox, session: Session, old: pd.DataFrame) -> dict[str, str]:
    """Every kind of change a refresh must see, through the API and the sandbox's admin."""
    client = session.client
    cards = old[(old["status"] == "chargeable") & (old["type"] == "card")]
    receivers = old[old["type"] == "ach_credit_transfer"]
    done = {
        "updated": str(old["id"].iloc[0]),
        "detached": str(cards["id"].iloc[0]),
        "deposit": str(receivers["id"].iloc[2]),
        "attached": box.unattached_ids[0],
    }
    client.v1.sources.update(done["updated"], {"metadata": {"refresh": "yes"}})
    client.v1.customers.payment_sources.delete(str(cards["customer"].iloc[0]), done["detached"])
    box.deposit(done["deposit"], 4_321)
    others = old[old["customer"] != cards["customer"].iloc[0]]["customer"].dropna().unique()
    client.v1.customers.payment_sources.create(str(others[0]), {"source": done["attached"]})
    done["deleted_customer"] = str(others[-1])
    client.v1.customers.delete(done["deleted_customer"])
    return done


def test_refresh_equals_a_full_load_and_reads_only_what_changed(
    fresh_sandbox: Sandbox, fresh_session: Session, tmp_path
) -> None:
    old = toolkit.load_sources(fresh_session, progress=False)
    load_info = LoadInfo.from_attrs(old)  # a fresh sandbox has no events yet:
    assert load_info is not None and load_info.events_since is None
    done = _writes(fresh_sandbox, fresh_session, old)
    fresh_sandbox.clear_log()
    new = toolkit.refresh(old, fresh_session, out=tmp_path / "new.parquet", progress=False)
    sent = list(fresh_sandbox.requests)
    full = toolkit.load_sources(fresh_session, progress=False)
    assert_same_frame(new, full)
    info = new.attrs["refresh"]
    gone = set(old.loc[old["customer"] == done["deleted_customer"], "id"])
    assert set(info["removed"]) == gone | {done["detached"]}
    assert info["added"] == [done["attached"]]
    assert {done["updated"], done["deposit"]} <= set(info["changed"])
    # the cost: the event pages (one list of every type), one read per changed source (none
    # for the detached one: a detach is final); no customer listed
    reads = [e for e in sent if e.path.startswith("/v1/sources/")]
    assert len(reads) == info["refetched"] == 3
    assert len(sent) == info["event_pages"] + info["refetched"] == 4
    assert not [e for e in sent if e.path == "/v1/customers"]
    # the new snapshot on disk, and it refreshes on from where it stands
    again = toolkit.load_snapshot(tmp_path / "new.parquet")
    assert_same_frame(again, new)
    load_info = LoadInfo.from_attrs(again)
    assert load_info is not None and load_info.events_since is not None
    still = toolkit.refresh(again, fresh_session, progress=False)
    assert still.attrs["refresh"]["refetched"] <= 3  # only events of the mark's own second


def test_refresh_refuses_what_events_cannot_cover(fresh_session: Session) -> None:
    old = toolkit.load_sources(fresh_session, progress=False)
    info = LoadInfo.from_attrs(old)
    assert info is not None
    taken = pd.Timestamp(info.taken_at) - timedelta(days=31)
    stale = old.copy()
    stale.attrs = {"toolkit": {**info.to_attrs(), "taken_at": taken.isoformat()}}
    with pytest.raises(toolkit.InvalidInputError, match=r"30 days.*full"):
        toolkit.refresh(stale, fresh_session, progress=False)
    windowed = toolkit.load_sources(fresh_session, created=("2026-01-01", None), progress=False)
    with pytest.raises(toolkit.InvalidInputError, match="'created' load"):
        toolkit.refresh(windowed, fresh_session, progress=False)
    with pytest.raises(toolkit.InvalidInputError, match="does not say when"):
        toolkit.refresh(pd.DataFrame({"id": ["src_1"]}), fresh_session, progress=False)


def test_refresh_of_an_ids_load_keeps_its_ids(
    fresh_sandbox: Sandbox, fresh_session: Session
) -> None:
    every = toolkit.load_sources(fresh_session, progress=False)
    cards = every[(every["status"] == "chargeable") & (every["type"] == "card")]
    ids = cards["id"].head(3).tolist()
    old = toolkit.load_sources(fresh_session, ids=ids, progress=False)
    fresh_session.client.v1.customers.payment_sources.delete(str(cards["customer"].iloc[0]), ids[0])
    fresh_session.client.v1.sources.update(str(every["id"].iloc[-1]), {"metadata": {"x": "1"}})
    new = toolkit.refresh(old, fresh_session, progress=False)
    assert new["id"].tolist() == ids  # a detached source stays: it was asked for by id
    assert new.set_index("id").at[ids[0], "status"] == "consumed"
    assert new.attrs["refresh"]["refetched"] == 1  # the other update is not in this frame


def test_refresh_reads_the_cash_balance_events(
    fresh_sandbox: Sandbox, fresh_session: Session
) -> None:
    old = toolkit.load_sources(fresh_session, progress=False)
    customer = str(old["customer"].dropna().iloc[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh_sandbox.bank_transfer(customer, 10_000)
        new = toolkit.refresh(old, fresh_session, progress=False)
    assert new.attrs["refresh"]["cash_customers"] == [customer]
    assert new.attrs["refresh"]["refetched"] == 0


# -- issue 22: the minimal cases where a refresh did not equal a full load --------------------


def _refreshed_and_full(session: Session, old: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return (
        toolkit.refresh(old, session, progress=False),
        toolkit.load_sources(session, progress=False),
    )


def _customer(old: pd.DataFrame, n: int = 0) -> str:
    return str(old["customer"].dropna().unique()[n])


def test_refresh_keeps_a_source_attached_then_updated(
    fresh_sandbox: Sandbox, fresh_session: Session
) -> None:
    sid = new_receiver(fresh_session)
    old = toolkit.load_sources(fresh_session, progress=False)
    client = fresh_session.client
    client.v1.customers.payment_sources.create(_customer(old), {"source": sid})
    client.v1.sources.update(sid, {"metadata": {"after": "attach"}})
    new, full = _refreshed_and_full(fresh_session, old)
    assert sid in set(new["id"])
    assert_same_frame(new, full)


def test_refresh_keeps_a_source_attached_then_funded(
    fresh_sandbox: Sandbox, fresh_session: Session
) -> None:
    sid = new_receiver(fresh_session)
    old = toolkit.load_sources(fresh_session, progress=False)
    fresh_session.client.v1.customers.payment_sources.create(_customer(old), {"source": sid})
    fresh_sandbox.deposit(sid, 2_500)
    new, full = _refreshed_and_full(fresh_session, old)
    assert sid in set(new["id"])
    assert_same_frame(new, full)


@pytest.mark.parametrize("deposit_first", [True, False], ids=["deposit-detach", "detach-deposit"])
def test_refresh_drops_a_detached_receiver_whatever_the_order(
    fresh_sandbox: Sandbox, fresh_session: Session, deposit_first: bool
) -> None:
    old = toolkit.load_sources(fresh_session, progress=False)
    receivers = old[(old["type"] == "ach_credit_transfer") & (old["status"] == "chargeable")]
    sid, cid = str(receivers["id"].iloc[0]), str(receivers["customer"].iloc[0])
    if deposit_first:
        fresh_sandbox.deposit(sid, 1_000)
    fresh_session.client.v1.customers.payment_sources.delete(cid, sid)
    if not deposit_first:
        fresh_sandbox.deposit(sid, 1_000)
    new, full = _refreshed_and_full(fresh_session, old)
    assert sid not in set(new["id"])
    assert new.attrs["refresh"]["removed"] == [sid]
    assert_same_frame(new, full)


def test_refresh_adds_nothing_for_a_deleted_customer(
    fresh_sandbox: Sandbox, fresh_session: Session
) -> None:
    sid = fresh_sandbox.unattached_ids[0]
    old = toolkit.load_sources(fresh_session, progress=False)
    cid = _customer(old, 3)
    fresh_session.client.v1.customers.payment_sources.create(cid, {"source": sid})
    fresh_session.client.v1.customers.delete(cid)
    new, full = _refreshed_and_full(fresh_session, old)
    assert sid not in set(new["id"])
    assert new.attrs["refresh"]["added"] == []
    assert_same_frame(new, full)


# -- issue 23: what a refresh cannot see, said plainly, and the recheck that sees it ----------


@pytest.fixture
def blind_sandbox() -> Iterator[Sandbox]:
    """A sandbox that sends no customer.source.updated (Stripe does not promise it)."""
    with Sandbox(seed=11, customers=60, source_update_events=False) as box:
        yield box


def test_refresh_says_what_it_cannot_see_and_recheck_sees_it(blind_sandbox: Sandbox) -> None:
    session = connect(TEST_KEY, api_base=blind_sandbox.url, rate_limit=1000, quiet=True)
    old = toolkit.load_sources(session, progress=False)
    sid = str(old["id"].iloc[0])
    session.client.v1.sources.update(sid, {"metadata": {"edited": "elsewhere"}})
    full = toolkit.load_sources(session, progress=False)
    blind = toolkit.refresh(old, session, progress=False)
    info = blind.attrs["refresh"]
    assert info["events"] == 0 and info["changed"] == []  # no event: the edit is not seen
    assert "edited" not in blind.set_index("id").at[sid, "metadata"]
    assert any("customer.source.updated" in b for b in info["blind_to"])
    assert "recheck='customers'" in info["note"]
    blind_sandbox.clear_log()
    seen = toolkit.refresh(old, session, progress=False, recheck="customers")
    assert_same_frame(seen, full)
    info = seen.attrs["refresh"]
    assert info["changed"] == info["unseen"] == [sid]
    assert info["blind_to"] == [] and info["recheck"] == "customers"
    customer_pages = [e for e in blind_sandbox.requests if e.path == "/v1/customers"]
    assert customer_pages and not [e for e in blind_sandbox.requests if "/v1/sources/" in e.path]
    gets = sum(e.method == "GET" for e in blind_sandbox.requests)
    assert info["recheck_requests"] + info["event_pages"] == gets


def test_recheck_of_an_ids_load_reads_every_id(blind_sandbox: Sandbox) -> None:
    session = connect(TEST_KEY, api_base=blind_sandbox.url, rate_limit=1000, quiet=True)
    ids = [*blind_sandbox.unattached_ids, *blind_sandbox.detached_ids[:2]]
    old = toolkit.load_sources(session, ids=ids, progress=False)
    session.client.v1.sources.update(ids[0], {"metadata": {"edited": "1"}})  # unattached: no event
    plain = toolkit.refresh(old, session, progress=False)
    assert plain.attrs["refresh"]["changed"] == []
    assert any("not attached" in b for b in plain.attrs["refresh"]["blind_to"])
    assert "recheck='sources'" in plain.attrs["refresh"]["note"]
    seen = toolkit.refresh(old, session, progress=False, recheck="sources")
    assert seen["id"].tolist() == ids
    assert seen.attrs["refresh"]["unseen"] == [ids[0]]
    assert seen.attrs["refresh"]["recheck_requests"] == len(ids)
    with pytest.raises(toolkit.InvalidInputError, match="recheck='sources'"):
        toolkit.refresh(old, session, progress=False, recheck="customers")


# -- bad arguments: one clear InvalidInputError each, before anything is read ----------------


def test_refresh_refuses_bad_arguments(
    fresh_sandbox: Sandbox, fresh_session: Session, tmp_path
) -> None:
    old = toolkit.load_sources(fresh_session, progress=False)
    info = old.attrs["toolkit"]

    def with_info(**changes: object) -> pd.DataFrame:
        frame = old.copy()
        frame.attrs = {"toolkit": {**info, **changes}}
        return frame

    def _without_attrs(frame: pd.DataFrame) -> pd.DataFrame:
        frame.attrs = {}
        return frame

    txns = toolkit.load_source_transactions(fresh_session, old.head(3), progress=False)
    bad: list[tuple[object, dict[str, object], str]] = [
        (["src_1", "src_2"], {}, "needs a sources frame .* not list"),
        (None, {}, "not NoneType"),
        (tmp_path, {}, "is a folder: refresh takes a snapshot file"),
        (tmp_path / "none.parquet", {}, "No snapshot at"),
        (with_info(taken_at="yesterday"), {}, "taken_at is 'yesterday', not an ISO 8601 time"),
        (with_info(taken_at="2026-11-01T00:00:00"), {}, "with its UTC offset"),
        (with_info(taken_at=["2026-11-01"]), {}, "not an ISO 8601 time"),
        (with_info(events_since="yesterday"), {}, "events_since is 'yesterday'"),
        (with_info(scope="everything"), {}, "not a 'everything' load"),
        (with_info().assign(_=0).drop(columns="_").pipe(_without_attrs), {}, "does not say when"),
        (with_info()[["id", "customer", "status"]], {}, "lacks the columns type, usage"),
        (txns, {}, "source-transactions frame"),
        (pd.DataFrame({"x": [1]}), {}, "has no 'id' column"),
        (old, {"session": "sk_test_" + "x" * 24}, "needs a session from toolkit.connect"),
        (old, {"out": 5}, "file path such as 'snapshots/today.parquet', not int"),
        (old, {"out": tmp_path / "new.csv"}, r"name it \*.parquet"),
        (old, {"recheck": "everything"}, "recheck must be None, 'customers'"),
        (old, {"recheck": "sources"}, "rechecked with recheck='customers'"),
    ]
    fresh_sandbox.clear_log()
    for snapshot, kwargs, message in bad:
        arguments: dict[str, Any] = {"session": fresh_session, "progress": False, **kwargs}
        with pytest.raises(toolkit.InvalidInputError, match=message):
            toolkit.refresh(snapshot, **arguments)
    assert fresh_sandbox.requests == []  # refused before anything was read
