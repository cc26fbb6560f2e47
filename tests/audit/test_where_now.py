"""Where the money and the obligations live now (issue 26): successors, bills wired to Sources,
the tie-out of every receiver and accounts receivable, against the sandbox's planted cases and
its independent tie-out."""

from __future__ import annotations

from collections.abc import Iterator

import openpyxl
import pandas as pd
import pytest

import toolkit
from toolkit.audit import MigrationAudit
from toolkit.audit.migration.load import moved_receivers, retirement_reads, run_migration_audit
from toolkit.audit.migration.tie_out import TIE_OUT_MONEY
from toolkit.fetch.invoices import INVOICE_COLUMNS, SUBSCRIPTION_COLUMNS
from toolkit.fetch.ledger import LEDGER_COLUMNS
from toolkit.fetch.payment_methods import PAYMENT_METHOD_COLUMNS
from toolkit.sandbox import Sandbox
from toolkit.sandbox.store import DataSet

KEY = "sk_test_" + "W" * 24
_DAY = 86_400
_FIGURES = (
    "received", "charged", "refunded", "fees", "paid_out", "in_balance", "moved_to_cash",
    "returned", "swept", "unapplied", "gap",
)  # fmt: skip


def _load(box: Sandbox) -> tuple[dict[str, pd.DataFrame], MigrationAudit]:
    session = toolkit.connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)
    sources = toolkit.load_sources(session, progress=False)
    cash = toolkit.load_cash_balances(session, progress=False)
    moves = toolkit.load_cash_balance_transactions(session, cash, progress=False)
    ds = box.store()
    # receivers out of every customer's list (moved by the migration, or detached): read by id,
    # as a user with their ids would
    gone = sorted(set(ds.ledger.expected_tie_out()) - set(sources["id"]))
    assert set(moved_receivers(sources, moves)) <= set(gone)
    sources = pd.concat(
        [sources, toolkit.load_sources(session, ids=gone, progress=False)], ignore_index=True
    )
    frames = {
        "payment_methods": toolkit.load_payment_methods(session, sources, progress=False),
        "invoices": toolkit.load_invoices(session, progress=False),
        "subscriptions": toolkit.load_subscriptions(session, progress=False),
        "ledger": toolkit.load_ledger(session, sources, progress=False),
    }
    audit = toolkit.audit_migration(sources, cash, moves, **frames)
    return {"sources": sources, **frames}, audit


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(seed=11, customers=60) as box:
        yield box


@pytest.fixture(scope="module")
def loaded(box: Sandbox) -> tuple[dict[str, pd.DataFrame], MigrationAudit]:
    return _load(box)


def _flagged(audit: MigrationAudit, check: str) -> set[str]:
    rows = audit.exceptions[audit.exceptions["check"] == check]
    return set(rows["customer"])


def _clean(ds: DataSet) -> set[str]:
    """Customers with no planted case of any kind."""
    busy = {str(ds.sources[s].get("customer")) for ids in ds.planted.values() for s in ids}
    busy |= {c for ids in ds.cash.planted.values() for c in ids} | ds.cash.migrated
    busy |= {c for ids in ds.payment_methods.planted.values() for c in ids}
    busy |= {str(ds.sources[s].get("customer")) for ids in ds.ledger.planted.values() for s in ids}
    bills = {**ds.billing.invoices, **ds.billing.subscriptions}
    busy |= {bills[b]["customer"] for ids in ds.billing.planted.values() for b in ids}
    return set(ds.customers) - busy


def test_every_planted_case_is_found(box, loaded) -> None:
    _, audit = loaded
    ds = box.store()
    planted = ds.payment_methods.planted
    assert set(planted["no_successor"]) <= _flagged(audit, "no_payment_method")
    assert not set(planted["successor"]) & _flagged(audit, "no_payment_method")
    defaults = audit.successors[audit.successors["default_is_successor"]]
    assert set(planted["default_successor"]) == set(defaults["customer"])
    wired = set(audit.wired["bill"])
    for name in ("open_ach_credit_transfer", "open_on_source", "subscription_on_source"):
        assert set(ds.billing.planted[name]) <= wired, name
    ties = audit.tie_out.set_index("source")
    for sid in ds.ledger.planted["charge_missing"]:
        assert ties.at[sid, "gap"] > 0 and "no charge" in ties.at[sid, "gap_reason"]
    for sid in ds.ledger.planted["charge_refunded"]:
        assert ties.at[sid, "refunded"] > 0 and ties.at[sid, "refunds"].startswith("re_")
    gap = {str(ds.sources[s]["customer"]) for s in ds.ledger.planted["charge_missing"]}
    assert gap == _flagged(audit, "tie_out_gap")


def test_no_clean_customer_is_flagged(box, loaded) -> None:
    _, audit = loaded
    clean = _clean(box.store())
    assert clean
    for check in ("no_payment_method", "wired_to_sources", "tie_out_gap", "refunded_after_charge"):
        assert not _flagged(audit, check) & clean, check
    assert not set(audit.wired["customer"]) & clean


def _compare(audit: MigrationAudit, expected: dict[str, dict]) -> None:
    ties = audit.tie_out.set_index("source")
    assert set(ties.index) == set(expected)
    for sid, row in expected.items():
        got = {name: int(ties.at[sid, name]) for name in _FIGURES}
        assert got == {name: row[name] for name in _FIGURES}, sid
        assert ties.at[sid, "currency"] == row["currency"]


def test_the_tie_out_equals_the_sandbox_independent_one(box, loaded) -> None:
    _, audit = loaded
    _compare(audit, box.store().ledger.expected_tie_out())
    t = audit.tie_out
    money = t["charged"] + t["returned"] + t["swept"] + t["moved_to_cash"] + t["unapplied"]
    assert (t["received"] == money + t["gap"]).all()  # the identity holds, row by row
    charged = t[t["charged"] > 0]
    assert charged["charges"].str.startswith("ch_").all()
    assert charged["balance_transactions"].str.startswith("txn_").all()
    assert t["dashboard"].str.startswith("https://dashboard.stripe.com/test/sources/src_").all()


def test_the_tie_out_holds_after_a_sweep() -> None:
    with Sandbox(seed=11, customers=60) as box:
        box.advance_clock(20 * _DAY)  # past 2026-11-15: the first monthly sweep
        assert box.store().cash.sweeps
        _, audit = _load(box)
        expected = box.store().ledger.expected_tie_out()
        _compare(audit, expected)
        swept = audit.tie_out[audit.tie_out["swept"] > 0]
        assert set(swept["source"]) == set(box.store().ledger.planted["swept"])
        assert swept["sweeps"].str.startswith("txn_").all()
        assert _flagged(audit, "swept_to_balance")


def test_receivable_matches_open_invoices_and_money_waiting(loaded) -> None:
    frames, audit = loaded
    r = audit.receivable
    invoices = frames["invoices"]
    due = invoices.groupby(["customer", "currency"])["amount_remaining"].sum()
    got = r[r["due"] > 0].set_index(["customer", "currency"])["due"]
    assert got.to_dict() == {k: int(v) for k, v in due.items() if v > 0}
    assert (r["waiting"] == r["on_receivers"] + r["in_cash_balance"]).all()
    assert r["action"].str.len().gt(0).all()
    both = r[(r["due"] > 0) & (r["in_cash_balance"] > 0)]
    assert both["action"].str.startswith("Apply").all()


def test_loader_frames_have_stable_columns_and_dtypes(loaded) -> None:
    frames, _ = loaded
    expected = {
        "payment_methods": (PAYMENT_METHOD_COLUMNS, {"created": "datetime64", "legacy": "boolean",
                                                     "is_default": "boolean"}),
        "invoices": (INVOICE_COLUMNS, {"amount_due": "Int64", "amount_remaining": "Int64",
                                       "created": "datetime64", "due_date": "datetime64"}),
        "subscriptions": (SUBSCRIPTION_COLUMNS, {"created": "datetime64"}),
        "ledger": (LEDGER_COLUMNS, {"amount": "Int64", "fee": "Int64", "net": "Int64",
                                    "created": "datetime64"}),
    }  # fmt: skip
    for name, (columns, dtypes) in expected.items():
        frame = frames[name]
        assert tuple(frame.columns) == columns, name
        for column, dtype in dtypes.items():
            assert str(frame[column].dtype).startswith(dtype), (name, column)
        for column in frame.columns:
            if frame[column].dtype == object:
                assert not any(isinstance(v, float) for v in frame[column]), (name, column)
        info = toolkit.LoadInfo.from_attrs(frame)
        assert info is not None and info.reads and info.reads > 0, name


def test_the_workbook_has_the_new_sheets_with_dashboard_links(loaded, tmp_path) -> None:
    _, audit = loaded
    path = audit.to_excel(tmp_path / "retirement.xlsx")
    book = openpyxl.load_workbook(path)
    for sheet in ("Successors", "Wired to Sources", "Tie-out", "Receivable"):
        assert sheet in book.sheetnames
    ws = book["Tie-out"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["source", "customer", "currency", "received"]
    link = ws.cell(row=2, column=header.index("dashboard") + 1)
    assert link.hyperlink is not None
    assert link.hyperlink.target.startswith("https://dashboard.stripe.com/test/sources/src_")
    received = ws.cell(row=2, column=header.index("received") + 1).value
    assert received == float(audit.tie_out["received_major"].iloc[0])
    cover = [row[0] for row in book["Cover"].iter_rows(values_only=True)]
    assert "Receivers with a gap" in cover and "Bills wired to Sources" in cover
    assert any(str(v).startswith("Tie-out by currency") for v in cover)
    wired = book["Wired to Sources"]
    assert wired.max_row == len(audit.wired) + 1


def test_the_one_call_asks_before_it_reads(box, capsys) -> None:
    session = toolkit.connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)
    plain = run_migration_audit(session, progress=False)
    assert not len(plain.tie_out.columns) and "tie_out" not in plain.tables()
    audit = run_migration_audit(
        session, payment_methods=True, bills=True, ledger=True, progress=False
    )
    sources = toolkit.load_sources(session, progress=False)
    asked = retirement_reads(sources, payment_methods=True, bills=True, ledger=True)
    note = next(n for n in audit.notes if n.startswith("Asked for"))
    for name, least in asked.items():
        assert f"{name.replace('_', ' ')} at least {least:,}" in note
    assert {"Successors", "Tie-out", "Receivable", "Wired to Sources"} <= {
        {"successors": "Successors", "tie_out": "Tie-out", "receivable": "Receivable",
         "wired": "Wired to Sources"}.get(n, n) for n in audit.tables()
    }  # fmt: skip
    for name in TIE_OUT_MONEY:
        assert audit.tie_out[name].dtype == "Int64"


def test_reading_the_moved_receivers_keeps_the_audit_date(box) -> None:
    """The receivers read by id are appended without losing the load's time (a concat drops
    ``attrs``): with the ledger asked for, the audit is still dated by the snapshot, not by the
    latest activity found in the data."""
    session = toolkit.connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)
    plain = run_migration_audit(session, progress=False)
    audit = run_migration_audit(session, ledger=True, progress=False)
    assert plain.as_of_basis == audit.as_of_basis == "snapshot"
    sources = toolkit.load_sources(session, progress=False)
    cash = toolkit.load_cash_balances(session, progress=False)
    moves = toolkit.load_cash_balance_transactions(session, cash, progress=False)
    every = toolkit.with_moved_receivers(session, sources, moves, progress=False)
    moved = moved_receivers(sources, moves)
    assert moved and len(every) == len(sources) + len(moved)
    before, after = toolkit.LoadInfo.from_attrs(sources), toolkit.LoadInfo.from_attrs(every)
    assert before is not None and after is not None
    assert after.taken_at == before.taken_at and after.reads == (before.reads or 0) + len(moved)


def test_the_audit_says_why_it_covers_fewer_customers_than_it_read(box) -> None:
    """Every customer is read for its cash balance; the audit covers fewer: a note says so (a
    user saw "306 customers read" beside an audit of 232 without a word)."""
    session = toolkit.connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)
    audit = run_migration_audit(session, progress=False)
    read = toolkit.load_cash_balances(session, progress=False)["customer"].nunique()
    covered = audit.customers["customer"].nunique()
    assert read > covered
    note = next(n for n in audit.notes if "customers were read for their cash balance" in n)
    assert f"{read:,} customers" in note and f"the {covered:,} with a receiver" in note


def test_customers_without_a_payment_method_cost_the_fewer_reads(box) -> None:
    """A customer with no payment method needs its object (its defaults): one read each, or the
    account's customer list when that takes fewer pages. Both give the same frame."""
    session = toolkit.connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)
    sources = toolkit.load_sources(session, progress=False)
    paying = toolkit.fetch.payment_methods.customers_paying_by_source(sources)
    by_frame = toolkit.load_payment_methods(session, sources, progress=False)
    by_ids = toolkit.load_payment_methods(session, paying, progress=False)
    pd.testing.assert_frame_equal(by_frame, by_ids)
    bare = int(by_frame["id"].isna().sum())
    loaded = toolkit.LoadInfo.from_attrs(sources)
    assert loaded is not None and loaded.customers is not None
    listed = loaded.customers
    pages = -(-listed // 100)
    assert bare > pages  # the demo case: listing the customers is cheaper
    load_info = toolkit.LoadInfo.from_attrs(by_ids)
    assert load_info is not None and load_info.reads == len(paying) + bare
    load_info = toolkit.LoadInfo.from_attrs(by_frame)
    assert load_info is not None and load_info.reads == len(paying) + pages
