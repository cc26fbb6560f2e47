"""Unit tests of the receiver audit on hand-built frames (no network)."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from tests.audit.audit_frames import AS_OF, card, receiver, sources_frame, txn, txn_frame
from toolkit.audit import Audit, audit_receivers
from toolkit.audit.receivers.checks import CHECKS, check_names
from toolkit.audit.receivers.result import AGING_BUCKETS, SOURCE_COLUMNS
from toolkit.errors import InvalidInputError


def clean_rows() -> tuple[list[dict], list[dict]]:
    """Receivers that must raise no flag, with transactions that add up."""
    rows = [
        receiver("src_clean_pending", received=5000, days_old=10, customer="cus_A"),
        receiver("src_clean_chargeable", received=2500, charged=1000, status="chargeable"),
        receiver(
            "src_clean_consumed", received=3000, charged=2000, returned=1000, status="consumed"
        ),
        receiver("src_clean_canceled", received=0, status="canceled", days_old=200),
        receiver("src_clean_empty_old", received=0, status="chargeable", days_old=400),
        receiver("src_clean_pending_29", received=0, status="pending", days_old=29.9),
        receiver("src_clean_jpy", received=700, charged=200, currency="jpy", customer="cus_B"),
    ]
    txns = [
        txn("t_c1", "src_clean_pending", 3000),
        txn("t_c2", "src_clean_pending", 2000),
        txn("t_c3", "src_clean_pending", 999, status="pending"),
        txn("t_c4", "src_clean_pending", 999, status="failed"),
        txn("t_c5", "src_clean_chargeable", 2500),
        txn("t_c6", "src_clean_consumed", 3000),
        txn("t_c7", "src_clean_jpy", 700, currency="jpy", customer="cus_B"),
    ]
    return rows, txns


# name -> (rows, transactions, the exact set of checks that must fire on "src_case")
CASES: dict[str, tuple[dict, list[dict], set[str]]] = {
    "receiver_missing": (
        receiver("src_case", received=None, charged=None, returned=None),
        [],
        {"receiver_missing"},
    ),
    "funds_on_consumed": (
        receiver("src_case", received=1000, charged=800, status="consumed"),
        [txn("t1", "src_case", 1000)],
        {"funds_on_consumed", "overpaid_consumed"},
    ),
    "funds_on_canceled": (
        receiver("src_case", received=500, status="canceled"),
        [txn("t1", "src_case", 500)],
        {"funds_on_canceled"},
    ),
    "funds_on_failed": (
        receiver("src_case", received=500, status="failed"),
        [txn("t1", "src_case", 500)],
        {"funds_on_failed"},
    ),
    "over_applied": (
        receiver("src_case", received=500, charged=600, status="chargeable"),
        [txn("t1", "src_case", 500)],
        {"over_applied"},
    ),
    "overpaid_consumed": (
        receiver("src_case", received=1000, charged=700, returned=400, status="consumed"),
        [txn("t1", "src_case", 1000)],
        {"overpaid_consumed", "over_applied"},
    ),
    "refund_attributes_missing": (
        receiver(
            "src_case", received=1000, returned=1000, status="chargeable", refund_status="missing"
        ),
        [txn("t1", "src_case", 1000)],
        {"refund_attributes_missing"},
    ),
    "stale_pending": (
        receiver("src_case", received=1000, status="pending", days_old=45),
        [txn("t1", "src_case", 1000, days_old=44)],
        {"stale_pending"},
    ),
    "transactions_mismatch": (
        receiver("src_case", received=1000, charged=1000, status="chargeable"),
        [txn("t1", "src_case", 900)],
        {"transactions_mismatch"},
    ),
    "negative_reversal": (
        receiver("src_case", received=900, charged=900, status="chargeable"),
        [txn("t1", "src_case", 1000), txn("t2", "src_case", -100)],
        {"negative_reversal"},
    ),
    "currency_mismatch_txn": (
        receiver("src_case", received=1000, charged=1000, status="chargeable"),
        [txn("t1", "src_case", 1000), txn("t2", "src_case", 50, currency="eur")],
        {"currency_mismatch_txn"},
    ),
}


def test_every_check_has_a_case_and_plain_explanation():
    assert set(CASES) == set(check_names())
    for check in CHECKS:
        text = check.explanation.format(days=30)
        assert len(text) > 80 and "_" not in text, check.name
        assert "_" not in check.title


@pytest.mark.parametrize("name", list(CASES))
def test_check_fires_on_its_case_and_clean_receivers_raise_nothing(name):
    row, case_txns, expected = CASES[name]
    rows, txns = clean_rows()
    audit = audit_receivers(
        sources_frame([*rows, row, card("src_card")]), txn_frame(txns + case_txns)
    )
    flagged = audit.sources.set_index("source")
    assert set(flagged.loc["src_case", "flags"].split(", ")) == expected
    assert (flagged.drop(index="src_case")["flag_count"] == 0).all()
    assert set(audit.exceptions["source"]) == {"src_case"}
    assert set(audit.exceptions["check"]) == expected
    assert all(audit.exceptions["detail"].str.len() > 10)
    counts = audit.checks.set_index("name")["flagged"]
    assert {n for n, c in counts.items() if c} == expected


def test_clean_receivers_raise_no_flag():
    rows, txns = clean_rows()
    audit = audit_receivers(sources_frame(rows), txn_frame(txns))
    assert audit.exceptions.empty
    assert (audit.sources["flag_count"] == 0).all()
    assert audit.sources["flags"].eq("").all()
    assert audit.checks["ran"].all()


def test_figures_equal_an_independent_computation():
    rows, txns = clean_rows()
    rows.append(receiver("src_x", received=12345, charged=345, returned=1000, status="chargeable"))
    audit = audit_receivers(sources_frame([*rows, card("src_card")]), txn_frame(txns))
    assert list(audit.sources.columns) == list(SOURCE_COLUMNS)
    assert len(audit.sources) == len(rows)
    by_id = {r["id"]: r for r in rows}
    for rec in audit.sources.to_dict("records"):
        src = by_id[rec["source"]]
        rcv = src["receiver_amount_received"]
        chg = src["receiver_amount_charged"]
        ret = src["receiver_amount_returned"]
        exp = 0 if src["currency"] == "jpy" else 2
        assert (rec["received"], rec["charged"], rec["returned"]) == (rcv, chg, ret)
        assert rec["unapplied"] == rcv - chg - ret
        assert rec["unapplied_major"] == Decimal(rcv - chg - ret) / (10**exp)
        assert rec["received_major"] == Decimal(rcv) / (10**exp)
        assert rec["currency"] == src["currency"]
        assert rec["age_days"] == int((AS_OF - src["created"]) / pd.Timedelta(days=1))
        assert rec["owner_email"] == src["owner_email"]
    # totals per currency, computed by hand
    usd = [r for r in rows if r["currency"] == "usd"]
    by_cur = audit.by_currency.set_index("currency")
    assert list(by_cur.index) == ["jpy", "usd"]
    for col, key in [
        ("received", "receiver_amount_received"),
        ("charged", "receiver_amount_charged"),
    ]:
        assert by_cur.loc["usd", col] == sum(r[key] for r in usd)
    unapplied_usd = sum(
        r["receiver_amount_received"] - r["receiver_amount_charged"] - r["receiver_amount_returned"]
        for r in usd
    )
    assert by_cur.loc["usd", "unapplied"] == unapplied_usd
    assert by_cur.loc["usd", "unapplied_major"] == Decimal(unapplied_usd) / 100
    assert by_cur.loc["jpy", "unapplied_major"] == Decimal(500)
    assert by_cur.loc["usd", "receivers"] == len(usd)


def test_transaction_figures_and_last_transaction():
    rows, txns = clean_rows()
    audit = audit_receivers(sources_frame(rows), txn_frame(txns))
    pending = audit.sources.set_index("source").loc["src_clean_pending"]
    assert pending["transactions"] == 4
    assert pending["transactions_total"] == 5000  # succeeded only
    assert pending["transactions_total_major"] == Decimal("50.00")
    assert pending["days_since_last_transaction"] == 5
    assert pending["last_transaction_at"] == AS_OF - pd.Timedelta(days=5)
    empty = audit.sources.set_index("source").loc["src_clean_canceled"]
    assert empty["transactions"] == 0 and empty["transactions_total"] == 0
    assert pd.isna(empty["days_since_last_transaction"])


def test_without_transactions_the_transaction_checks_do_not_run():
    row, _txns, _ = CASES["transactions_mismatch"]
    audit = audit_receivers(sources_frame([row]))
    ran = audit.checks.set_index("name")["ran"]
    needs = {c.name for c in CHECKS if c.needs}
    assert needs == {"transactions_mismatch", "negative_reversal", "currency_mismatch_txn"}
    assert not ran[list(needs)].any() and ran.drop(index=list(needs)).all()
    assert audit.checks.set_index("name").loc["transactions_mismatch", "flagged"] is pd.NA
    assert audit.exceptions.empty
    assert audit.sources["transactions"].isna().all()
    assert any("No source transactions" in n for n in audit.notes)
    assert set(audit.checks_run) == set(check_names()) - needs


def test_no_receivers_at_all(tmp_path):
    for frame in (sources_frame([card("src_card")]), sources_frame([])):
        audit = audit_receivers(frame, txn_frame([]))
        assert audit.sources.empty and list(audit.sources.columns) == list(SOURCE_COLUMNS)
        assert audit.exceptions.empty and audit.by_currency.empty and audit.aging.empty
        assert audit.by_customer.empty and audit.by_status.empty
        assert (audit.checks["flagged"] == 0).all()
        assert audit.notes
        path = audit.to_excel(tmp_path / "empty.xlsx")
        assert path.exists()
        assert audit.to_csv(tmp_path / "csv")["sources"].read_text().startswith("source,customer")
        audit.plot(tmp_path / "empty.png")


def test_zero_decimal_and_three_decimal_currencies():
    rows = [
        receiver("src_jpy", received=1500, charged=500, currency="jpy"),
        receiver("src_kwd", received=1500, charged=500, currency="kwd"),
        receiver("src_usd", received=1500, charged=500, currency="USD"),
    ]
    audit = audit_receivers(sources_frame(rows))
    major = audit.sources.set_index("source")["unapplied_major"]
    assert major["src_jpy"] == Decimal(1000) and str(major["src_jpy"]) == "1000"
    assert str(major["src_kwd"]) == "1.000"
    assert str(major["src_usd"]) == "10.00"
    assert audit.sources.set_index("source").loc["src_usd", "currency"] == "usd"


def test_several_currencies_are_never_added_together():
    rows = [
        receiver("src_u1", received=1000, customer="cus_A"),
        receiver("src_u2", received=2000, customer="cus_A", status="consumed", charged=2000),
        receiver("src_e1", received=3000, customer="cus_A", currency="eur"),
        receiver("src_j1", received=4000, customer="cus_B", currency="jpy"),
    ]
    audit = audit_receivers(sources_frame(rows))
    by_cur = audit.by_currency.set_index("currency")
    assert dict(by_cur["unapplied"]) == {"eur": 3000, "jpy": 4000, "usd": 1000}
    assert dict(by_cur["received"]) == {"eur": 3000, "jpy": 4000, "usd": 3000}
    cust = audit.by_customer.set_index(["customer", "currency"])
    assert cust.loc[("cus_A", "usd"), "unapplied"] == 1000
    assert cust.loc[("cus_A", "eur"), "unapplied"] == 3000
    assert len(cust) == 3
    status = audit.by_status.set_index(["status", "currency"])
    assert status.loc[("consumed", "usd"), "received"] == 2000
    assert status.loc[("pending", "usd"), "received"] == 1000
    assert set(audit.aging["currency"]) == {"eur", "jpy", "usd"}
    summary = dict(zip(audit.summary["item"], audit.summary["value"], strict=True))
    assert summary["Unapplied (USD)"] == "10.00 USD"
    assert summary["Unapplied (JPY)"] == "4,000 JPY"
    assert not any("all currencies" in k.lower() for k in summary)


def test_source_without_receiver_hash_and_non_receivers():
    rows = [
        receiver("src_nohash", received=None, charged=None, returned=None),
        receiver("src_ok", received=100),
        card("src_card"),
    ]
    audit = audit_receivers(sources_frame(rows))
    assert list(audit.sources["source"]) == ["src_nohash", "src_ok"] or set(
        audit.sources["source"]
    ) == {"src_nohash", "src_ok"}
    row = audit.sources.set_index("source").loc["src_nohash"]
    assert pd.isna(row["unapplied"]) and row["unapplied_major"] is None
    assert row["flags"] == "receiver_missing"
    assert audit.by_currency.set_index("currency").loc["usd", "unapplied"] == 100
    assert audit.by_currency.set_index("currency").loc["usd", "receivers"] == 2


def test_receiver_hash_on_a_source_without_flow_still_counts():
    row = receiver("src_odd", received=100, flow=None)
    audit = audit_receivers(sources_frame([row]))
    assert list(audit.sources["source"]) == ["src_odd"]


def test_transactions_for_sources_not_in_the_frame():
    rows, txns = clean_rows()
    extra = [txn("t_orphan", "src_elsewhere", 777), txn("t_card", "src_card", 5)]
    audit = audit_receivers(sources_frame([*rows, card("src_card")]), txn_frame(txns + extra))
    assert list(audit.unmatched_transactions["id"]) == ["t_orphan"]
    assert audit.exceptions.empty
    assert any("not in this table" in n for n in audit.notes)
    assert any("not receivers" in n for n in audit.notes)
    assert "unmatched_transactions" in audit.tables()
    assert 777 not in set(audit.sources["transactions_total"])


def test_aging_bucket_boundaries():
    ages = [0, 30, 31, 60, 61, 90, 91, 400]
    rows = [receiver(f"src_{d}", received=100 + d, days_old=d + 0.5) for d in ages]
    rows.append(receiver("src_nothing_held", received=100, charged=100, days_old=200))
    audit = audit_receivers(sources_frame(rows), pending_days=10_000)
    bucket = audit.sources.set_index("source")["aging_bucket"]
    expected = {0: 0, 30: 0, 31: 1, 60: 1, 61: 2, 90: 2, 91: 3, 400: 3}
    for d, b in expected.items():
        assert bucket[f"src_{d}"] == AGING_BUCKETS[b]
    assert bucket["src_nothing_held"] is None
    aging = audit.aging.set_index("bucket")
    assert list(aging.index) == list(AGING_BUCKETS)
    assert aging.loc["0-30 days", "unapplied"] == 100 + 130
    assert aging.loc["over 90 days", "receivers"] == 2
    assert aging.loc["over 90 days", "unapplied_major"] == Decimal("6.91")
    assert aging["unapplied"].sum() == sum(100 + d for d in ages)


def test_pending_days_threshold():
    rows = [receiver("src_p", received=100, days_old=20.5)]
    assert audit_receivers(sources_frame(rows)).exceptions.empty
    audit = audit_receivers(sources_frame(rows), pending_days=15)
    assert list(audit.exceptions["check"]) == ["stale_pending"]
    assert "15 days" in audit.exceptions["title"].iloc[0]
    assert "15 days" in audit.checks.set_index("name").loc["stale_pending", "explanation"]


def test_as_of_defaults_to_the_snapshot_time_never_the_clock():
    rows = [receiver("src_p", received=100, days_old=20)]
    audit = audit_receivers(sources_frame(rows, taken_at="2026-12-01T00:00:00Z"))
    assert audit.as_of == pd.Timestamp("2026-12-01T00:00:00Z")
    assert audit.as_of_basis == "snapshot"
    assert audit.sources["age_days"].iloc[0] == 50
    assert audit.account == "sandbox" and audit.mode == "sandbox"


def test_as_of_given_overrides_and_is_normalized_to_utc():
    rows = [receiver("src_p", received=100, days_old=20)]
    audit = audit_receivers(sources_frame(rows), as_of="2026-11-11T02:00:00+02:00")
    assert audit.as_of == pd.Timestamp("2026-11-11T00:00:00Z")
    assert audit.as_of_basis == "given"
    assert audit.sources["age_days"].iloc[0] == 30
    naive = audit_receivers(sources_frame(rows), as_of=pd.Timestamp("2026-11-11"))
    assert naive.as_of is not None
    assert str(naive.as_of.tz) == "UTC"
    with pytest.raises(InvalidInputError):
        audit_receivers(sources_frame(rows), as_of="not a date")


def test_as_of_without_snapshot_time_falls_back_to_latest_activity():
    rows = [receiver("src_a", received=100, days_old=20), receiver("src_b", days_old=3)]
    audit = audit_receivers(sources_frame(rows, taken_at=None))
    assert audit.as_of == AS_OF - pd.Timedelta(days=3)
    assert audit.as_of_basis == "latest activity"
    assert any("no snapshot time" in n for n in audit.notes)
    with_txn = audit_receivers(
        sources_frame(rows, taken_at=None), txn_frame([txn("t", "src_a", 100, days_old=1)])
    )
    assert with_txn.as_of == AS_OF - pd.Timedelta(days=1)
    assert audit_receivers(sources_frame([], taken_at=None)).as_of is None
    assert audit.account is None and audit.mode is None


def test_same_input_gives_the_same_audit(tmp_path):
    rows, txns = clean_rows()
    row, case_txns, _ = CASES["negative_reversal"]
    frame = sources_frame([*rows, row])
    first = audit_receivers(frame, txn_frame(txns + case_txns))
    second = audit_receivers(frame.iloc[::-1].copy(), txn_frame((txns + case_txns)[::-1]))
    second_frame_attrs = frame.attrs
    assert second_frame_attrs == frame.attrs
    for name, table in first.tables().items():
        pd.testing.assert_frame_equal(table, second.tables()[name], obj=name)
    a = first.to_csv(tmp_path / "a")
    b = second.to_csv(tmp_path / "b")
    for name in a:
        assert a[name].read_bytes() == b[name].read_bytes()


def test_input_is_not_modified():
    rows, txns = clean_rows()
    frame = sources_frame(rows)
    tx = txn_frame(txns)
    before, before_tx = frame.copy(), tx.copy()
    audit_receivers(frame, tx)
    pd.testing.assert_frame_equal(frame, before)
    pd.testing.assert_frame_equal(tx, before_tx)


def test_bad_inputs_are_refused_clearly():
    with pytest.raises(InvalidInputError, match="load_sources"):
        audit_receivers([{"id": "src_1"}])
    with pytest.raises(InvalidInputError, match="'id'"):
        audit_receivers(pd.DataFrame({"x": [1]}))
    with pytest.raises(InvalidInputError, match="pending_days"):
        audit_receivers(sources_frame([]), pending_days=-1)
    with pytest.raises(InvalidInputError, match="load_source_transactions"):
        audit_receivers(sources_frame([]), pd.DataFrame({"id": ["t"]}))


def test_duplicate_rows_are_counted_once():
    rows = [receiver("src_a", received=100), receiver("src_a", received=100)]
    audit = audit_receivers(sources_frame(rows))
    assert len(audit.sources) == 1
    assert any("duplicate" in n for n in audit.notes)


def test_repr_and_html():
    rows, txns = clean_rows()
    audit = audit_receivers(sources_frame(rows), txn_frame(txns))
    assert isinstance(audit, Audit)
    assert repr(audit).startswith("<Audit as of 2026-11-01T00:00:00+00:00: 7 receivers, 0 flagged")
    html = audit._repr_html_()
    assert "<table" in html and "Receiver figures missing" in html
    assert audit.flagged.empty


def test_stale_pending_says_whether_money_is_held():
    rows = [
        receiver("src_empty", received=0, days_old=61),
        receiver("src_held", received=2500, days_old=31),
        receiver("src_young", received=0, days_old=30),
        receiver("src_old_chargeable", received=2500, status="chargeable", days_old=300),
    ]
    audit = audit_receivers(sources_frame(rows))
    found = audit.exceptions.set_index("source")
    assert set(found.index) == {"src_empty", "src_held"}
    assert set(found["check"]) == {"stale_pending"}
    assert "nothing has been received" in found.loc["src_empty", "detail"]
    assert "holding 25.00 USD" in found.loc["src_held", "detail"]
    assert "Pending for 61 days" in found.loc["src_empty", "detail"]


def test_missing_transaction_ids_are_noted():
    rows, txns = clean_rows()
    tx = txn_frame(txns)
    tx.attrs["toolkit"] = {"missing_ids": ["src_gone"]}
    audit = audit_receivers(sources_frame(rows), tx)
    assert any("src_gone" in n for n in audit.notes)
    assert "src_gone" in " ".join(map(str, audit.summary["value"]))
