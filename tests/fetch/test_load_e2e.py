"""load_sources end to end through the stripe SDK against the shared seeded sandbox."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
import stripe

import toolkit
from tests.fetch.brute import as_map, brute_force, lower_bound, stored
from toolkit.errors import InvalidInputError
from toolkit.fetch import iter_sources, load_source_transactions, load_sources
from toolkit.fetch.frame import empty_frame
from toolkit.fetch.schema import FRAME_COLUMNS, TRANSACTION_COLUMNS, frame_dtypes
from toolkit.fetch.snapshot import diff_snapshots, load_snapshot, save_snapshot
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

KEY = "sk_test_" + "F3tch" * 5


@pytest.fixture(scope="module")
def everything(session: Session) -> pd.DataFrame:
    return load_sources(session, progress=False)


@pytest.fixture(scope="module")
def truth(session: Session) -> dict[str, str]:
    return brute_force(session.client)


def _fixed(df: pd.DataFrame) -> dict[str, str]:
    return {c: t for c, t in frame_dtypes(df).items() if not c.startswith("metadata.")}


def test_account_wide_equals_brute_force(
    everything: pd.DataFrame, truth: dict[str, str], sandbox: Sandbox
) -> None:
    assert everything["id"].is_unique
    assert as_map(everything) == truth
    assert truth == stored(sandbox)
    ds = sandbox.store()
    big = [c for c, items in ds.items.items() if len(items) > 100]
    medium = [c for c, items in ds.items.items() if 10 < len(items) <= 100]
    assert big and medium  # the data set has both kinds, and they came out whole
    counts = everything["customer"].value_counts()
    for cid in big + medium:
        sources = sum(1 for p in ds.items[cid] if ds.payment_source(p)["object"] == "source")
        assert counts.get(cid, 0) == sources
    assert sum(counts[c] for c in big) > 100 * len(big) - 20


def test_frame_schema_and_attrs(everything: pd.DataFrame, session: Session) -> None:
    fixed = [c for c in everything.columns if not c.startswith("metadata.")]
    assert tuple(fixed) == FRAME_COLUMNS
    assert _fixed(everything) == _fixed(empty_frame())
    assert any(c.startswith("metadata.") for c in everything.columns)
    info = everything.attrs["toolkit"]
    assert info["account"] == session.account_label and info["mode"] == session.mode
    assert info["missing_ids"] == []
    assert info["api_version"] == stripe.api_version  # the Stripe-Version Stripe answered with
    assert info["test_clocks"]  # test mode: the customers on test clocks are included
    datetime.fromisoformat(info["taken_at"])
    created = everything["created"]
    assert created.is_monotonic_decreasing  # newest first
    assert set(everything["type"].dropna().astype(str)) > {"ach_credit_transfer"}


def test_client_secret_appears_nowhere(everything: pd.DataFrame) -> None:
    text = json.dumps(everything.drop(columns=["created"]).to_dict("records"), default=str)
    assert "client_secret" not in text.replace("client_secret=[redacted]", "")
    assert "src_client_secret_" not in text


def test_iter_sources_yields_each_source_once(session: Session, truth: dict[str, str]) -> None:
    seen: dict[str, str] = {}
    for src in iter_sources(session, progress=False):
        assert "client_secret" not in src
        assert src["id"] not in seen
        seen[src["id"]] = src["customer"]
    assert seen == truth


def test_requests_near_the_lower_bound(session: Session, sandbox: Sandbox) -> None:
    before = session.limiter.acquired
    load_sources(session, progress=False)
    made = session.limiter.acquired - before
    assert made <= lower_bound(sandbox) + 3


def test_detached_and_unattached_sources_only_by_id(
    everything: pd.DataFrame, session: Session, sandbox: Sandbox
) -> None:
    detached = sandbox.detached_ids[:5]
    unattached = sandbox.unattached_ids[:2]
    assert not set(detached + unattached) & set(everything["id"])
    df = load_sources(session, ids=[*detached, *unattached], progress=False)
    assert df["id"].tolist() == [*detached, *unattached]  # the order asked for
    assert set(df.set_index("id").loc[detached, "status"]) == {"consumed"}
    assert _fixed(df) == _fixed(empty_frame())


def test_unknown_ids_are_reported_not_fatal(session: Session, truth: dict[str, str]) -> None:
    known = sorted(truth)[:3]
    ids = [known[0], "src_doesnotexist0001", known[1], " ", known[2], known[0], "src_bogus"]
    with pytest.warns(toolkit.NotFoundWarning, match="2 of the source ids"):
        df = load_sources(session, ids=ids, progress=False)
    assert df["id"].tolist() == known
    assert df.attrs["toolkit"]["missing_ids"] == ["src_doesnotexist0001", "src_bogus"]
    assert as_map(df) == {k: truth[k] for k in known}


def test_customers_filter(session: Session, sandbox: Sandbox, truth: dict[str, str]) -> None:
    ds = sandbox.store()
    big = next(c for c, items in ds.items.items() if len(items) > 100)
    none = next(c for c, items in ds.items.items() if not items)
    some = next(c for c, items in ds.items.items() if 1 <= len(items) <= 10)
    with pytest.warns(toolkit.NotFoundWarning, match="cus_unknown000"):
        df = load_sources(session, customers=[big, none, some, "cus_unknown000"], progress=False)
    assert as_map(df) == {s: c for s, c in truth.items() if c in {big, none, some}}
    assert df.attrs["toolkit"]["missing_customers"] == ["cus_unknown000"]
    single = load_sources(session, customers=some, progress=False)
    assert set(single["customer"]) == {some}


def test_created_filter(session: Session, sandbox: Sandbox, truth: dict[str, str]) -> None:
    ds = sandbox.store()
    order = ds.order  # newest first
    hi = ds.customers[order[40]]["created"]
    lo = ds.customers[order[160]]["created"]
    inside = {c for c in ds.customers if lo <= ds.customers[c]["created"] < hi}
    expected = {s: c for s, c in truth.items() if c in inside}
    for created in (
        (lo, hi),
        (datetime.fromtimestamp(lo, UTC), datetime.fromtimestamp(hi, UTC)),
        (pd.Timestamp(lo, unit="s").isoformat(), pd.Timestamp(hi, unit="s").isoformat()),
    ):
        df = load_sources(session, created=created, progress=False)
        assert as_map(df) == expected
    newer = load_sources(session, created=(hi, None), progress=False)
    assert set(newer["customer"]) <= {c for c in ds.customers if ds.customers[c]["created"] >= hi}
    picked = [*sorted(inside)[:2], order[0]]
    both = load_sources(session, customers=picked, created=(lo, hi), progress=False)
    assert as_map(both) == {s: c for s, c in truth.items() if c in set(picked) & inside}


def test_bad_filters_are_clear_errors(session: Session) -> None:
    with pytest.raises(InvalidInputError, match="ids"):
        load_sources(session, ids=["src_1"], created=("2026-01-01", None), progress=False)
    with pytest.raises(InvalidInputError, match="pair"):
        load_sources(session, created="2026-01-01", progress=False)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="after start"):
        load_sources(session, created=("2026-02-01", "2026-01-01"), progress=False)
    with pytest.raises(InvalidInputError, match="not a date"):
        load_sources(session, created=("someday", None), progress=False)
    with pytest.raises(InvalidInputError, match="strings"):
        load_sources(session, customers=[1, 2], progress=False)  # type: ignore[list-item]
    with pytest.raises(InvalidInputError, match="pair"):
        iter_sources(session, created=(1, 2, 3), progress=False)  # type: ignore[arg-type]  # checked before iterating


@pytest.mark.parametrize("kind", ["no customers", "no demo data"])
def test_empty_account(kind: str) -> None:
    options: dict[str, Any] = {"customers": 0} if kind == "no customers" else {"demo": False}
    with Sandbox(**options) as box, connect(KEY, api_base=box.url, quiet=True) as session:
        df = load_sources(session, progress=False)
        assert len(df) == 0
        assert frame_dtypes(df) == frame_dtypes(empty_frame())
        paths = sorted(e.path for e in box.requests)
        # the customers, the test clocks, and the mark a later refresh reads on from
        assert paths == ["/v1/customers", "/v1/events", "/v1/test_helpers/test_clocks"]
        assert list(iter_sources(session, progress=False)) == []
        txns = load_source_transactions(session, df, progress=False)
        assert len(txns) == 0 and tuple(txns.columns) == TRANSACTION_COLUMNS


def test_progress_reports_and_silence(
    session: Session,
    sandbox: Sandbox,
    capsys: pytest.CaptureFixture[str],
    truth: dict[str, str],
) -> None:
    calls: list[tuple[int, int | None, str]] = []
    load_sources(session, progress=lambda d, t, label: calls.append((d, t, label)))
    assert calls and calls[-1][1] is None
    assert calls[-1][0] == len(sandbox.store().customers)
    assert calls[-1][2] == f"{len(truth):,} sources"
    ids = sorted(truth)[:4]
    calls.clear()
    load_sources(session, ids=ids, progress=lambda d, t, label: calls.append((d, t, label)))
    assert calls[-1][:2] == (4, 4)
    capsys.readouterr()
    load_sources(session, customers=ids[:0] or None, ids=ids, progress=False)
    assert capsys.readouterr().err == ""
    load_sources(session, ids=ids, progress=True)
    assert "Loading sources" in capsys.readouterr().err


def test_cancel_stops_and_leaves_no_thread(session: Session) -> None:
    from toolkit.errors import Cancelled

    cancel = threading.Event()

    def progress(done: int, total: int | None, label: str) -> None:
        if done >= 50:
            cancel.set()

    with pytest.raises(Cancelled):
        load_sources(session, progress=progress, cancel=cancel)
    assert not [t for t in threading.enumerate() if t.name.startswith("toolkit-fetch")]


def test_keyboard_interrupt_leaves_no_thread(session: Session) -> None:
    def progress(done: int, total: int | None, label: str) -> None:
        if done >= 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        load_sources(session, progress=progress)
    assert not [t for t in threading.enumerate() if t.name.startswith("toolkit-fetch")]
    stopped = iter_sources(session, progress=False)
    next(stopped)
    stopped.close()  # a consumer that stops early
    assert not [t for t in threading.enumerate() if t.name.startswith("toolkit-fetch")]


def test_source_transactions(everything: pd.DataFrame, session: Session, sandbox: Sandbox) -> None:
    receivers = everything[everything["flow"] == "receiver"]
    txns = load_source_transactions(session, everything, progress=False)
    ds = sandbox.store()
    expected = {t["id"]: sid for sid in receivers["id"] for t in ds.transactions.get(sid, [])}
    assert dict(zip(txns["id"], txns["source"], strict=True)) == expected
    assert txns["id"].is_unique and len(txns) > 0
    assert tuple(txns.columns) == TRANSACTION_COLUMNS
    assert str(txns["amount"].dtype) == "Int64"
    assert str(txns["created"].dtype) == "datetime64[us, UTC]"
    owners = dict(zip(everything["id"], everything["customer"], strict=True))
    assert all(owners[s] == c for s, c in zip(txns["source"], txns["customer"], strict=True))
    assert (txns["amount"] < 0).any()  # reversals are negative
    one = receivers["id"].iloc[0]
    with pytest.warns(toolkit.NotFoundWarning, match="src_unknown00000"):
        by_ids = load_source_transactions(session, [one, "src_unknown00000"], progress=False)
    assert set(by_ids["source"]) <= {one}
    assert by_ids.attrs["toolkit"]["missing_ids"] == ["src_unknown00000"]


def test_snapshot_round_trip_of_a_real_load(everything: pd.DataFrame, tmp_path) -> None:
    back = load_snapshot(save_snapshot(everything, tmp_path / "all.parquet"))
    pd.testing.assert_frame_equal(back, everything)
    assert back.attrs == everything.attrs
    assert len(diff_snapshots(back, everything)) == 0


def test_snapshot_diff_after_changes(fresh_sandbox: Sandbox, fresh_session: Session) -> None:
    before = load_sources(fresh_session, progress=False)
    client = fresh_session.client
    ds = fresh_sandbox.store()
    attached = before[before["status"].isin(["chargeable", "pending"])]
    first, second = attached["id"].iloc[0], attached["id"].iloc[1]
    client.v1.sources.update(first, {"metadata": {"reviewed": "yes"}})
    cus = before.set_index("id").loc[second, "customer"]
    client.v1.customers.payment_sources.delete(cus, second)
    after = load_sources(fresh_session, progress=False)
    diff = diff_snapshots(before, after).set_index("id")
    assert diff.loc[first, "change"] == "changed"
    assert "metadata.reviewed" in diff.loc[first, "fields"]
    assert diff.loc[first, "after"]["metadata.reviewed"] == "yes"
    assert diff.loc[second, "change"] == "removed"  # detached: no longer on a customer
    assert len(diff) == 2
    assert ds is fresh_sandbox.store()


def test_empty_selections_make_no_request(session: Session) -> None:
    before = session.limiter.acquired
    assert len(load_sources(session, ids=[], progress=False)) == 0
    assert len(load_sources(session, customers=[], progress=False)) == 0
    assert len(load_source_transactions(session, [], progress=False)) == 0
    assert session.limiter.acquired == before


def test_ids_combined_with_customers(session: Session, truth: dict[str, str]) -> None:
    some = sorted(truth)[:6]
    keep = {truth[some[0]], truth[some[1]]}
    df = load_sources(session, ids=some, customers=sorted(keep), progress=False)
    assert set(df["customer"]) == keep
    assert set(df["id"]) == {s for s in some if truth[s] in keep}


def test_connected_account(fresh_sandbox: Sandbox) -> None:
    account = min(fresh_sandbox.connected_accounts)
    with connect(KEY, api_base=fresh_sandbox.url, stripe_account=account, quiet=True) as session:
        df = load_sources(session, progress=False)
    ds = fresh_sandbox.store(account)
    assert len(ds.customers) > 0 and len(df) > 0
    assert set(df["customer"]) <= set(ds.customers)
    assert df.attrs["toolkit"]["account"] == f"{account} (test)"
    assert {r.account for r in fresh_sandbox.requests} == {account}
