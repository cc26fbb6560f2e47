"""The retirement audit on what Stripe's automatic migration does to the money: funds moved from
a receiver into the cash balance are counted once (even from sources read before the move), and
money swept from receivers to the account balance on the 15th is shown, named, and keeps its
customer from "ready"."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

import toolkit
from toolkit.audit.migration.load import receivers_to_read, run_migration_audit
from toolkit.sandbox import Sandbox
from toolkit.sandbox.store import SANDBOX_NOW, DataSet
from toolkit.session import Session, connect

TEST = "sk_test_" + "M0ved" * 5
AS_OF = datetime.fromtimestamp(SANDBOX_NOW, UTC)
DAY = 86_400


def _session(box: Sandbox) -> Session:
    return connect(TEST, api_base=box.url, rate_limit=1000, quiet=True)


def _left(src: dict) -> int:
    r = src["receiver"]
    return int(r["amount_received"] - r["amount_charged"] - r["amount_returned"])


def _usd(migration: toolkit.MigrationAudit) -> pd.Series:
    return migration.by_currency.set_index("currency").loc["usd"]


def _held(ds: DataSet, cid: str) -> int:
    return sum(
        max(_left(ds.sources[p]), 0)
        for p in ds.items[cid]
        if p in ds.sources and ds.sources[p]["type"] == "ach_credit_transfer"
    )


def test_money_moved_by_the_migration_is_counted_once() -> None:
    with Sandbox(seed=7, customers=300) as box:
        s = _session(box)
        ds = box.store()
        cid = ds.cash.planted["not_migrated_funds"][0]
        held = _held(ds, cid)
        assert held > 0
        stale = toolkit.load_sources(s, progress=False)  # read before the migration
        cash = toolkit.load_cash_balances(s, progress=False)
        moves = toolkit.load_cash_balance_transactions(s, cash, progress=False)
        before = toolkit.audit_migration(stale, cash, moves, as_of=AS_OF)

        box.migrate_customer(cid)
        cash = toolkit.load_cash_balances(s, progress=False)
        moves = toolkit.load_cash_balance_transactions(s, cash, progress=False)
        fresh = toolkit.load_sources(s, progress=False)
        for sources in (stale, fresh):
            migration = toolkit.audit_migration(sources, cash, moves, as_of=AS_OF)
            row = migration.customers.set_index(["customer", "currency"]).loc[(cid, "usd")]
            assert int(row["cash_available"]) == held == int(row["moved_to_cash"])
            assert int(row["legacy_unapplied"]) == 0  # not on the receiver as well
            assert "legacy_funds" not in row["checks"] and "no_successor" not in row["checks"]
            # the account's money is the same before and after: moved, not doubled
            usd, was = _usd(migration), _usd(before)
            assert int(usd["legacy_unapplied"]) + int(usd["cash_available"]) == int(
                was["legacy_unapplied"]
            ) + int(was["cash_available"])
        gone = (fresh["customer"] == cid) & (fresh["type"].astype(object) == "ach_credit_transfer")
        assert not gone.any()  # its receivers left its list


def test_a_sweep_is_shown_and_keeps_its_customer_from_ready() -> None:
    with Sandbox(seed=7, customers=300) as box:
        box.advance_clock(15 * DAY)  # past 2026-11-15: Stripe's monthly sweep ran
        ds = box.store()
        s = _session(box)
        listed = {p for items in ds.items.values() for p in items}
        swept = [w for w in ds.cash.sweeps if w["source"] in listed]
        assert swept

        # every receiver's transactions: every sweep of a listed receiver is shown, once
        sources = toolkit.load_sources(s, progress=False)
        cash = toolkit.load_cash_balances(s, progress=False)
        moves = toolkit.load_cash_balance_transactions(s, cash, progress=False)
        stxns = toolkit.load_source_transactions(s, sources, progress=False)
        full = toolkit.audit_migration(sources, cash, moves, source_transactions=stxns)
        expected: dict[tuple[str, str], int] = {}
        for w in swept:
            key = (w["customer"], w["currency"])
            expected[key] = expected.get(key, 0) + w["amount"]
        t = full.customers
        got = {
            (c, cur): int(v)
            for c, cur, v in zip(t["customer"], t["currency"], t["swept_to_balance"], strict=True)
            if v
        }
        assert got == expected
        assert int(_usd(full)["swept_to_balance"]) == sum(w["amount"] for w in swept)
        rows = t.set_index(["customer", "currency"])
        for w in swept:
            row = rows.loc[(w["customer"], w["currency"])]
            assert f"{w['source']} (2026-11-15)" in row["swept_sources"]
            assert row["state"] != "ready" and "swept_to_balance" in row["checks"]
        findings = full.exceptions[full.exceptions["check"] == "swept_to_balance"]
        assert len(findings) == len(expected)
        assert findings["detail"].str.contains("swept to the account balance").all()
        # for some customers the sweep is the only thing left to do
        assert (t["checks"] == "swept_to_balance").any()

        # the one call reads fewer receivers, and no customer it calls ready had money swept
        box.clear_log()
        quick = run_migration_audit(s, progress=False)
        reads = sum("source_transactions" in e.path for e in box.requests)
        assert reads == len(receivers_to_read(sources, moves)) < len(stxns["source"].unique())
        ready = set(quick.customers.loc[quick.customers["state"] == "ready", "customer"])
        assert not ready & {w["customer"] for w in swept}
        idle = [
            w for w in swept if ds.sources[w["source"]]["status"] not in ("pending", "chargeable")
        ]
        assert idle
        q = quick.customers.set_index(["customer", "currency"])
        for w in idle:
            assert w["source"] in q.loc[(w["customer"], w["currency"]), "swept_sources"]
