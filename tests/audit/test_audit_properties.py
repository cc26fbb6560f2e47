"""Properties of the audit on random receivers: roll-ups add up per currency and never mix
currencies, aging covers exactly the funds held, a receiver is flagged iff a rule holds."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.audit.audit_frames import receiver, sources_frame
from toolkit.audit import audit_receivers

pytestmark = pytest.mark.slow  # property tests: many examples each

STATUSES = ["pending", "chargeable", "consumed", "canceled", "failed"]

row = st.fixed_dictionaries(
    {
        "received": st.integers(0, 10**7),
        "charged": st.integers(0, 10**7),
        "returned": st.integers(0, 10**6),
        "status": st.sampled_from(STATUSES),
        "currency": st.sampled_from(["usd", "eur", "jpy", "kwd"]),
        "customer": st.sampled_from(["cus_A", "cus_B", None]),
        "days_old": st.integers(0, 400),
        "refund_status": st.sampled_from(["available", "missing", "requested"]),
    }
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=0, max_size=12))
def test_rollups_and_flags(rows):
    frame = sources_frame([receiver(f"src_{i}", **r) for i, r in enumerate(rows)])
    audit = audit_receivers(frame)
    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    held: dict[str, int] = defaultdict(int)
    for r in rows:
        unapplied = r["received"] - r["charged"] - r["returned"]
        s = sums[r["currency"]]
        s["received"] += r["received"]
        s["unapplied"] += unapplied
        s["receivers"] += 1
        held[r["currency"]] += max(unapplied, 0)
    by_cur = audit.by_currency.set_index("currency")
    assert set(by_cur.index) == set(sums)
    for cur, s in sums.items():
        for key, value in s.items():
            assert by_cur.loc[cur, key] == value
    for table in (audit.by_customer, audit.by_status):
        got = table.groupby("currency")["unapplied"].sum().to_dict()
        assert got == {c: s["unapplied"] for c, s in sums.items()}
        assert table["receivers"].sum() == len(rows)
    aging = audit.aging.groupby("currency")["unapplied"].sum().to_dict()
    assert aging == dict(held) or (not rows and aging == {})

    flagged = set(audit.sources.loc[audit.sources["flag_count"] > 0, "source"])
    expected = set()
    for i, r in enumerate(rows):
        unapplied = r["received"] - r["charged"] - r["returned"]
        if (
            (r["status"] in ("consumed", "canceled", "failed") and unapplied > 0)
            or unapplied < 0
            or (r["status"] == "consumed" and unapplied != 0)
            or (r["returned"] > 0 and r["refund_status"] == "missing")
            or (r["status"] == "pending" and r["days_old"] > 30)
        ):
            expected.add(f"src_{i}")
    assert flagged == expected
