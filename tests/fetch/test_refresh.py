"""refresh(): a snapshot brought up to date from Stripe's events equals a new full load, and
costs the event pages plus one read per changed source."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pandas as pd
import pytest

import toolkit
from toolkit.fetch.loaded import LoadInfo
from toolkit.sandbox import Sandbox
from toolkit.session import Session

COLUMNS = ["id", "customer", "status", "receiver_amount_received", "owner_email"]


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same rows, same columns in the same order, same values, same metadata."""
    assert list(a.columns) == list(b.columns)
    assert list(a.dtypes) == list(b.dtypes)
    left = a.sort_values("id").reset_index(drop=True)
    right = b.sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(left[COLUMNS], right[COLUMNS])
    assert left["metadata"].tolist() == right["metadata"].tolist()
    meta = [c for c in a.columns if c.startswith("metadata.")]
    pd.testing.assert_frame_equal(left[meta], right[meta])


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
    assert LoadInfo.from_attrs(old).events_since is None  # a fresh sandbox has no events yet
    done = _writes(fresh_sandbox, fresh_session, old)
    fresh_sandbox.clear_log()
    new = toolkit.refresh(old, fresh_session, out=tmp_path / "new.parquet", progress=False)
    sent = list(fresh_sandbox.requests)
    full = toolkit.load_sources(fresh_session, progress=False)
    _same(new, full)
    info = new.attrs["refresh"]
    gone = set(old.loc[old["customer"] == done["deleted_customer"], "id"])
    assert set(info["removed"]) == gone | {done["detached"]}
    assert info["added"] == [done["attached"]]
    assert {done["updated"], done["deposit"]} <= set(info["changed"])
    # the cost: one mark, the event pages, one read per changed source; no customer listed
    reads = [e for e in sent if e.path.startswith("/v1/sources/")]
    assert len(reads) == info["refetched"] == 3
    assert len(sent) == 1 + info["event_pages"] + info["refetched"]
    assert not [e for e in sent if e.path == "/v1/customers"]
    # the new snapshot on disk, and it refreshes on from where it stands
    again = toolkit.load_snapshot(tmp_path / "new.parquet")
    _same(again, new)
    assert LoadInfo.from_attrs(again).events_since is not None
    still = toolkit.refresh(again, fresh_session, progress=False)
    assert still.attrs["refresh"]["refetched"] <= 3  # only events of the mark's own second


def test_refresh_refuses_what_events_cannot_cover(fresh_session: Session) -> None:
    old = toolkit.load_sources(fresh_session, progress=False)
    info = LoadInfo.from_attrs(old)
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
