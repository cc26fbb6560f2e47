"""The audit on the sandbox's seeded data, checked against an independent computation.

The frames are built from the sandbox's stored objects with toolkit.fetch.frame (no HTTP here: the
end-to-end version through load_sources is in test_audit_e2e.py). Every planted anomaly must be
found by the check of the same name, and receivers that were not planted raise no flag.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.audit.audit_frames import assert_currency_totals, assert_planted_found
from toolkit.audit import audit_receivers
from toolkit.audit.receivers.checks import check_names
from toolkit.fetch.frame import sources_frame, transactions_frame
from toolkit.sandbox.store import SANDBOX_NOW

TAKEN_AT = datetime.fromtimestamp(SANDBOX_NOW, UTC).isoformat()


def planted_sources(planted: dict[str, list[str]]) -> set[str]:
    return {sid for ids in planted.values() for sid in ids}


@pytest.fixture(scope="module")
def seeded(sandbox):
    ds = sandbox.store()
    raw_sources = [ds.sources[sid] for sid in sorted(ds.sources)]
    frame = sources_frame(raw_sources)
    frame.attrs["toolkit"] = {"taken_at": TAKEN_AT, "account": "sandbox", "mode": "test"}
    raw_txns = [t for sid in sorted(ds.transactions) for t in ds.transactions[sid]]
    owners = {s["id"]: s.get("customer") for s in raw_sources}
    txns = transactions_frame(raw_txns, owners)
    return raw_sources, raw_txns, frame, txns, sandbox.planted


def expected_flags(src: dict, txns: list[dict], pending_days: int = 30) -> set[str]:
    """Each check, computed independently from the raw Stripe-shaped objects."""
    rcv = src.get("receiver")
    if rcv is None:
        return {"receiver_missing"}
    received, charged, returned = (
        rcv["amount_received"],
        rcv["amount_charged"],
        rcv["amount_returned"],
    )
    unapplied = received - charged - returned
    age = (SANDBOX_NOW - src["created"]) // 86400
    flags = set()
    status = src["status"]
    for name in ("consumed", "canceled", "failed"):
        if status == name and unapplied > 0:
            flags.add(f"funds_on_{name}")
    if charged + returned > received:
        flags.add("over_applied")
    if status == "consumed" and unapplied != 0:
        flags.add("overpaid_consumed")
    if returned > 0 and rcv["refund_attributes_status"] == "missing":
        flags.add("refund_attributes_missing")
    if status == "pending" and age > pending_days:
        flags.add("stale_pending")
    same = [t for t in txns if t["currency"] == src["currency"]]
    if sum(t["amount"] for t in same if t["status"] == "succeeded") != received:
        flags.add("transactions_mismatch")
    if any(t["amount"] < 0 and t["status"] != "failed" for t in txns):
        flags.add("negative_reversal")
    if len(same) != len(txns):
        flags.add("currency_mismatch_txn")
    return flags


def test_seeded_numbers_equal_an_independent_computation(seeded):
    raw_sources, raw_txns, frame, txns, _ = seeded
    audit = audit_receivers(frame, txns)
    receivers = [s for s in raw_sources if s["flow"] == "receiver"]
    assert len(receivers) > 100
    assert sorted(audit.sources["source"]) == sorted(s["id"] for s in receivers)

    totals = assert_currency_totals(audit, receivers)

    per_source = audit.sources.set_index("source")
    by_id = {s["id"]: s for s in receivers}
    txns_of: dict[str, list[dict]] = defaultdict(list)
    for t in raw_txns:
        txns_of[t["source"]].append(t)
    for sid, s in by_id.items():
        row = per_source.loc[sid]
        r = s["receiver"]
        assert row["unapplied"] == r["amount_received"] - r["amount_charged"] - r["amount_returned"]
        assert row["age_days"] == (SANDBOX_NOW - s["created"]) // 86400
        assert row["transactions"] == len(txns_of[sid])
        if txns_of[sid]:
            last = max(t["created"] for t in txns_of[sid])
            assert row["days_since_last_transaction"] == (SANDBOX_NOW - last) // 86400

    # by customer / status: same totals, split differently, never across currencies
    for table in (audit.by_customer, audit.by_status):
        sums = table.groupby("currency")["unapplied"].sum()
        for cur, t in totals.items():
            assert sums[cur] == t["unapplied"]
    held = audit.sources[audit.sources["unapplied"] > 0].groupby("currency")["unapplied"].sum()
    aging = audit.aging.groupby("currency")["unapplied"].sum()
    for cur in totals:
        assert aging[cur] == held.get(cur, 0)


def test_every_planted_anomaly_is_found_and_clean_receivers_raise_no_flag(seeded):
    raw_sources, raw_txns, frame, txns, planted = seeded
    assert set(planted) <= set(check_names())
    audit = audit_receivers(frame, txns)
    flags = assert_planted_found(audit, planted)
    planted_ids = planted_sources(planted)
    noisy = {sid: f for sid, f in flags.items() if f and sid not in planted_ids}
    assert noisy == {}
    # and the flags on planted sources equal the independent computation
    txns_of: dict[str, list[dict]] = defaultdict(list)
    for t in raw_txns:
        txns_of[t["source"]].append(t)
    by_id = {s["id"]: s for s in raw_sources}
    for sid in planted_ids:
        assert flags[sid] == expected_flags(by_id[sid], txns_of[sid]), sid
    # the exceptions table holds exactly the planted sources
    assert set(audit.exceptions["source"]) == planted_ids


def test_seeded_audit_is_reproducible(seeded):
    _, _, frame, txns, _ = seeded
    first = audit_receivers(frame, txns)
    second = audit_receivers(frame.sample(frac=1.0, random_state=3), txns.iloc[::-1])
    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(table, second.tables()[name], obj=name)
    assert first.as_of == pd.Timestamp(TAKEN_AT)
