"""The Sources retirement audit on seeded accounts: every planted state found, clean customers
unflagged, figures equal to an independent computation on the sandbox's data, zero-decimal and
several currencies, an account with no cash balances, one fully migrated, the exports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

import toolkit
from toolkit.audit import MigrationAudit
from toolkit.audit.migration.checks import CREDIT_TRANSFER_TYPES, MIGRATION_CHECKS, RETIRING_TYPES
from toolkit.errors import InvalidInputError
from toolkit.sandbox import Sandbox
from toolkit.sandbox.store import SANDBOX_NOW, DataSet
from toolkit.session import connect

TEST = "sk_test_" + "M1grate" * 4
AS_OF = datetime.fromtimestamp(SANDBOX_NOW, UTC)


def _audit(box: Sandbox, **kwargs) -> MigrationAudit:
    s = connect(TEST, api_base=box.url, rate_limit=1000, quiet=True)
    sources = toolkit.load_sources(s, progress=False)
    cash = toolkit.load_cash_balances(s, progress=False)
    moves = toolkit.load_cash_balance_transactions(s, cash, progress=False)
    stxns = toolkit.load_source_transactions(s, sources, progress=False)
    return toolkit.audit_migration(
        sources, cash, moves, source_transactions=stxns, as_of=AS_OF, **kwargs
    )


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(seed=7, customers=300) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def migration(box: Sandbox) -> MigrationAudit:
    return _audit(box)


def _rows(migration: MigrationAudit, customers: list[str]) -> pd.DataFrame:
    return migration.customers[migration.customers["customer"].isin(customers)]


def _checks(migration: MigrationAudit, cid: str) -> set[str]:
    found = migration.exceptions[migration.exceptions["customer"] == cid]
    return set(found["check"])


def _moved(ds: DataSet, cid: str) -> dict[str, int]:
    """Source id -> the money Stripe's migration moved from it into the customer's cash balance."""
    return {
        t["funded"]["bank_transfer"]["reference"]: t["net_amount"]
        for t in ds.cash.txns.get(cid, [])
        if t["type"] == "funded" and t["funded"]["bank_transfer"]["reference"].startswith("src_")
    }


def test_every_planted_state_is_found(box, migration) -> None:
    planted = box.store().cash.planted
    for cid in planted["migrated_legacy_funds"]:  # the receivers' money moved into the cash
        assert not {"legacy_funds", "no_successor"} & _checks(migration, cid)
        row = _rows(migration, [cid]).set_index("currency").loc["usd"]
        moved = _moved(box.store(), cid)
        assert moved and int(row["moved_to_cash"]) == sum(moved.values())
        assert all(sid in row["moved_from_sources"] for sid in moved)
        assert int(row["legacy_unapplied"]) == 0
    for cid in planted["paying_both"]:
        assert {"receiver_after_cash", "paying_both"} <= _checks(migration, cid)
    for cid in planted["cash_unapplied_weeks"]:
        assert "cash_unapplied" in _checks(migration, cid)
        row = _rows(migration, [cid]).iloc[0]
        assert int(row["unapplied_days"]) == 40
    for cid in planted["not_migrated_funds"]:
        assert {"no_successor", "legacy_funds"} <= _checks(migration, cid)
        assert set(_rows(migration, [cid])["state"]) & {"blocked"}


def test_clean_customers_raise_no_flag(box, migration) -> None:
    planted = box.store().cash.planted
    clean = planted["migrated_clean"] + planted["cash_jpy"] + planted["cash_multi"]
    rows = _rows(migration, clean)
    assert set(rows["customer"]) == set(clean)
    assert set(rows["state"]) == {"ready"} and (rows["checks"] == "").all()
    assert migration.exceptions["customer"].isin(clean).sum() == 0
    multi = _rows(migration, planted["cash_multi"][:1])
    assert set(multi["currency"]) == {"eur", "usd"}  # one row per currency


def _independent(ds: DataSet) -> tuple[dict, dict, set]:
    """Legacy unapplied and cash available per (customer, currency), and the customers with
    an active receiver and no cash balance: straight from the sandbox's store."""
    legacy: dict = defaultdict(int)
    blocked = set()
    for cid, items in ds.items.items():
        for pid in items:
            src = ds.sources.get(pid)
            if src is None or src["flow"] != "receiver":
                continue
            r = src["receiver"]
            left = r["amount_received"] - r["amount_charged"] - r["amount_returned"]
            legacy[(cid, src["currency"])] += max(left, 0)
            credit = src["type"] in CREDIT_TRANSFER_TYPES
            if (
                credit
                and src["status"] in ("pending", "chargeable")
                and not ds.cash.available.get(cid)
            ):
                blocked.add(cid)
    cash = {(c, cur): v for c, bal in ds.cash.available.items() for cur, v in bal.items()}
    return legacy, cash, blocked


def test_figures_equal_an_independent_computation(box, migration) -> None:
    legacy, cash, blocked = _independent(box.store())
    t = migration.customers
    got_legacy = {
        (c, cur): int(v)
        for c, cur, v in zip(t["customer"], t["currency"], t["legacy_unapplied"], strict=True)
        if (c, cur) in legacy
    }
    assert got_legacy == dict(legacy)
    got_cash = {
        (c, cur): int(v)
        for c, cur, v in zip(t["customer"], t["currency"], t["cash_available"], strict=True)
        if not pd.isna(v)
    }
    assert got_cash == cash
    flagged = set(
        migration.exceptions.loc[migration.exceptions["check"] == "no_successor", "customer"]
    )
    assert flagged == blocked
    for row in migration.by_currency.itertuples():
        assert int(row.legacy_unapplied) == sum(
            v for (_, cur), v in legacy.items() if cur == row.currency
        )
        assert int(row.cash_available) == sum(
            v for (_, cur), v in cash.items() if cur == row.currency
        )
    jpy = migration.by_currency.set_index("currency").loc["jpy"]
    assert jpy["cash_available_major"] == Decimal(int(jpy["cash_available"]))  # zero-decimal


def test_customers_with_nothing_retiring_and_no_cash_are_not_audited(box, migration) -> None:
    ds = box.store()

    def retiring(pid: str) -> bool:
        return ds.sources.get(pid, {"type": "card"})["type"] in RETIRING_TYPES

    quiet = [
        cid
        for cid, items in ds.items.items()
        if items and cid not in ds.cash.available and not any(retiring(p) for p in items)
    ]
    assert quiet
    assert not migration.customers["customer"].isin(quiet).any()


def test_summary_counts_customers_by_their_worst_currency(migration) -> None:
    def worst_of(states: pd.Series) -> str:
        for state in ("blocked", "needs action"):
            if state in set(states):
                return state
        return "ready"

    worst = migration.customers.groupby("customer")["state"].agg(worst_of)
    for state in ("ready", "needs action", "blocked"):
        assert migration.count(state) == int((worst == state).sum())
    assert repr(migration).startswith("<MigrationAudit as of 2026-11-01:")
    assert migration.checks["ran"].sum() == len(MIGRATION_CHECKS) - 5  # funding not read
    not_given = {"successor_number_differs", "no_payment_method", "wired_to_sources"}
    not_given |= {"tie_out_gap", "refunded_after_charge"}  # no payment methods, bills, ledger
    assert set(migration.checks.loc[~migration.checks["ran"], "name"]) == not_given


def test_an_account_with_no_cash_balances_at_all() -> None:
    with Sandbox(seed=11, customers=80, migration="none") as box:
        migration = _audit(box)
        ds = box.store()
    _, _, blocked = _independent(ds)
    assert blocked and migration.count("blocked") == len(blocked)
    assert migration.customers["cash_available"].isna().all()
    assert (migration.by_currency["cash_available"] == 0).all()
    for name in ("cash_unapplied", "receiver_after_cash", "paying_both"):
        assert migration.checks.set_index("name").loc[name, "flagged"] == 0


def test_an_account_already_fully_migrated() -> None:
    with Sandbox(seed=11, customers=80, migration="complete") as box:
        migration = _audit(box)
        ds = box.store()
    assert "no_successor" not in set(migration.exceptions["check"])
    # Stripe's migration took every ACH Credit Transfer receiver out of the customers' lists
    # and moved the money on them into the cash balances: counted there, and only there
    assert not (migration.customers["active_receivers"] > 0).any()
    migrated = migration.customers[migration.customers["customer"].isin(ds.cash.migrated)]
    assert len(migrated) and migrated["has_cash_balance"].all()
    moved = sum(sum(_moved(ds, cid).values()) for cid in ds.cash.migrated)
    assert moved > 0 and int(migration.customers["moved_to_cash"].sum()) == moved
    usd = migrated[migrated["currency"] == "usd"]  # Multibanco (EUR) receivers are not moved
    assert len(usd) and int(usd["legacy_unapplied"].sum()) == 0


def test_missing_inputs_skip_their_checks_and_say_so(box) -> None:
    s = connect(TEST, api_base=box.url, rate_limit=1000, quiet=True)
    sources = toolkit.load_sources(s, progress=False)
    cash = toolkit.load_cash_balances(s, sources, progress=False)
    migration = toolkit.audit_migration(sources, cash, as_of=AS_OF)
    ran = migration.checks.set_index("name")["ran"]
    assert not ran["cash_unapplied"] and not ran["paying_both"] and ran["legacy_funds"]
    assert any("cash_transactions" in note for note in migration.notes)
    with pytest.raises(InvalidInputError, match="load_cash_balances"):
        toolkit.audit_migration(sources, sources)
    with pytest.raises(InvalidInputError, match="unapplied_days"):
        toolkit.audit_migration(sources, cash, unapplied_days=-1)
    with pytest.raises(InvalidInputError, match="DataFrame"):
        toolkit.audit_migration(sources.to_dict("records"), cash)


def test_funding_instructions_compare_the_successor_number() -> None:
    with Sandbox(seed=7, customers=300) as box:
        s = connect(TEST, api_base=box.url, rate_limit=1000, quiet=True)
        sources = toolkit.load_sources(s, progress=False)
        planted = box.store().cash.planted
        chosen = planted["migrated_clean"] + planted["not_migrated_funds"]
        cash = toolkit.load_cash_balances(s, chosen, funding_instructions=True, progress=False)
        # a migrated customer's receivers left their list: read them by id to compare
        gone = [
            sid
            for sid, src in box.store().sources.items()
            if src.get("customer") in chosen and sid not in set(sources["id"])
        ]
        assert gone
        mine = pd.concat(
            [sources[sources["customer"].isin(chosen)], toolkit.load_sources(s, ids=gone)]
        )
        migration = toolkit.audit_migration(mine, cash, as_of=AS_OF)
    rows = migration.customers.set_index("customer")
    for cid in planted["migrated_clean"]:
        assert bool(rows.loc[cid, "successor_matches_receiver"]) is True
    for cid in planted["not_migrated_funds"]:
        assert "successor_number_differs" in _checks(migration, cid)
        assert "no_successor" not in _checks(migration, cid)  # instructions now exist


def test_exports_workbook_csv_and_chart(migration, tmp_path) -> None:
    path = migration.to_excel(tmp_path / "retirement.xlsx")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Cover", "Summary", "Checks", "Exceptions", "Customers", "By currency"]
    cover = [[c.value for c in row] for row in wb["Cover"].iter_rows()]
    labels = [r[0] for r in cover]
    assert "Blocked (money can be lost)" in labels and "Checks" in labels
    usd = next(r for r in cover if r[0] == "USD")
    assert isinstance(usd[2], Decimal | float | int)
    row = next(i for i, r in enumerate(wb["Cover"].iter_rows(), 1) if r[0].value == "USD")
    assert '"USD"' in wb["Cover"].cell(row=row, column=3).number_format
    written = migration.to_csv(tmp_path / "csv")
    assert set(written) == {"summary", "checks", "exceptions", "customers", "by_currency"}
    assert len(pd.read_csv(written["exceptions"])) == len(migration.exceptions)
    figure = migration.plot(tmp_path / "m.png")
    assert (tmp_path / "m.png").stat().st_size > 1000 and figure.axes


def test_the_one_call_reads_fewer_receivers_and_finds_the_same(box, migration) -> None:
    from toolkit.audit.migration.load import run_migration_audit

    s = connect(TEST, api_base=box.url, rate_limit=1000, quiet=True)
    box.clear_log()
    quick = run_migration_audit(s, as_of=AS_OF, progress=False)
    txn_reads = sum("source_transactions" in e.path for e in box.requests)
    receivers = sum(1 for src in box.store().sources.values() if src["flow"] == "receiver")
    assert txn_reads < receivers / 2
    columns = ["customer", "currency", "check", "detail"]
    assert quick.exceptions[columns].equals(migration.exceptions[columns])
