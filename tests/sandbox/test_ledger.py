"""The sandbox's ledger: charges, refunds, balance transactions and payouts in stripe-python 16's
shapes, served through the real SDK (filters, cursors, expand); receivers whose charges, fees and
payouts tie out and the planted ones that do not; cash balance moves linked to the account
balance; the monthly sweep's balance transaction."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from toolkit.sandbox import SANDBOX_NOW, Sandbox
from toolkit.sandbox.ledger import LEDGER_PLANTED

from .conftest import make_client
from .stripe_shapes import check

DAY = 86_400


def _raw(obj: Any) -> dict[str, Any]:
    return json.loads(str(obj))


def _all(listing: Any) -> list[dict[str, Any]]:
    return [_raw(o) for o in listing.auto_paging_iter()]


def test_every_ledger_object_has_stripes_shape(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ledger = sandbox.store().ledger
    charges = _all(client.v1.charges.list({"limit": 100}))
    assert [c["id"] for c in charges] == ledger.order("charges")
    for charge in charges:
        check(charge, stripe.Charge)
        assert "refunds" not in charge  # included only when expanded (API 2022-11-15)
    kinds = set()
    for bt in _all(client.v1.balance_transactions.list({"limit": 100, "expand": ["data.source"]})):
        check(bt, stripe.BalanceTransaction)
        kinds.add((bt["type"], bt["reporting_category"]))
        assert (
            bt["net"]
            == bt["amount"] - bt["fee"]
            == bt["amount"] - sum(f["amount"] for f in bt["fee_details"])
        )
    assert {("charge", "charge"), ("refund", "refund"), ("payout", "payout")} <= kinds
    assert {
        ("adjustment", "unreconciled_customer_funds"),
        ("adjustment", "other_adjustment"),
    } <= kinds
    for payout in _all(client.v1.payouts.list({"limit": 100})):
        check(payout, stripe.Payout)
    for rid in ledger.refunds:
        check(_raw(client.v1.refunds.retrieve(rid)), stripe.Refund)
    some = client.v1.charges.list(
        {"limit": 20, "expand": ["data.balance_transaction", "data.customer", "data.refunds"]}
    )
    for charge in map(_raw, some.data):
        check(charge, stripe.Charge)
        assert charge["balance_transaction"]["source"] == charge["id"]


def test_a_source_charge_carries_the_source_as_stripe_shows_it(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ledger = sandbox.store().ledger
    sid, ids = next((s, c) for s, c in ledger.by_source.items() if len(c) > 1)
    charge = _raw(client.v1.charges.retrieve(ids[0]))
    assert charge["source"] == _raw(client.v1.sources.retrieve(sid))
    assert charge["payment_method"] == sid and charge["payment_intent"] is None
    kind = charge["source"]["type"]
    assert charge["payment_method_details"]["type"] == kind
    if kind == "ach_credit_transfer":
        details = charge["payment_method_details"][kind]
        assert details["account_number"] == charge["source"][kind]["account_number"]
    bt = _raw(client.v1.balance_transactions.retrieve(charge["balance_transaction"]))
    assert bt["source"] == charge["id"] and bt["amount"] == charge["amount"]
    assert bt["fee"] > 0 and bt["available_on"] > charge["created"]


def test_every_receiver_is_charged_what_it_counts_but_the_planted_ones(
    sandbox: Sandbox,
) -> None:
    ds = sandbox.store()
    ledger = ds.ledger
    rows = ledger.expected_tie_out()
    assert set(LEDGER_PLANTED) - set(ledger.planted) == {"swept"}  # none swept before the 15th
    for name in ("charge_missing", "charge_refunded"):
        assert len(ledger.planted[name]) == 2
    for sid, src in ds.sources.items():
        rcv = src.get("receiver")
        if rcv is None or not (rcv["amount_received"] or sid in ledger.by_source):
            continue
        row = rows[sid]
        charged = sum(ledger.charges[c]["amount"] for c in ledger.by_source.get(sid, ()))
        assert row["charged"] == charged
        assert rcv["amount_charged"] == charged + row["moved_to_cash"] + row["gap"]
        assert row["received"] == (
            row["charged"]
            + row["moved_to_cash"]
            + row["returned"]
            + row["swept"]
            + row["unapplied"]
            + row["gap"]
        )
        assert row["paid_out"] + row["in_balance"] == charged - row["fees"] - row["refunded"]
        flagged = bool(row["gap"] or row["refunded"] or row["swept"])
        planted = sid in ledger.planted["charge_missing"] + ledger.planted["charge_refunded"]
        assert flagged == planted, sid
    for sid in ledger.planted["charge_missing"]:
        assert rows[sid]["gap"] > 0
    for sid in ledger.planted["charge_refunded"]:
        newest = ledger.charges[ledger.by_source[sid][-1]]
        assert rows[sid]["refunded"] == newest["amount"] == newest["amount_refunded"] > 0
    # clean receivers exist in numbers, paid out through the payouts
    clean = [r for r in rows.values() if r["charged"] and not (r["gap"] or r["refunded"])]
    assert len(clean) > 100 and sum(r["paid_out"] > 0 for r in clean) > 100


def test_charge_filters_and_cursors(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    ledger = sandbox.store().ledger
    charges = ledger.charges
    cid = max(
        {c["customer"] for c in charges.values() if c["customer"]},
        key=lambda x: sum(c["customer"] == x for c in charges.values()),
    )
    mine = _all(client.v1.charges.list({"customer": cid, "limit": 1}))
    assert {c["id"] for c in mine} == {i for i, c in charges.items() if c["customer"] == cid}
    since = SANDBOX_NOW - 30 * DAY
    recent = _all(client.v1.charges.list({"created": {"gte": since}, "limit": 100}))
    assert {c["id"] for c in recent} == {i for i, c in charges.items() if c["created"] >= since}
    order = ledger.order("charges")
    page = client.v1.charges.list({"limit": 3, "ending_before": order[5]})
    assert [c.id for c in page.data] == order[2:5] and page.has_more
    page = client.v1.charges.list({"limit": 3, "starting_after": order[5]})
    assert [c.id for c in page.data] == order[6:9]


def test_balance_transaction_filters_and_payouts_tie_out(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ledger = sandbox.store().ledger
    charge = next(iter(ledger.charges.values()))
    by_source = _all(client.v1.balance_transactions.list({"source": charge["id"]}))
    assert [bt["id"] for bt in by_source] == [charge["balance_transaction"]]
    assert client.v1.balance_transactions.list({"source": "ch_nope"}).data == []
    refunds = _all(client.v1.balance_transactions.list({"type": "refund", "limit": 100}))
    assert refunds and all(bt["type"] == "refund" and bt["amount"] < 0 for bt in refunds)
    eur = _all(client.v1.balance_transactions.list({"currency": "EUR", "limit": 100}))
    assert eur and all(bt["currency"] == "eur" for bt in eur)
    payouts = _all(client.v1.payouts.list({"limit": 100}))
    assert len(payouts) == len(ledger.payouts) > 20
    for payout in payouts[:15]:
        paid = _all(client.v1.balance_transactions.list({"payout": payout["id"], "limit": 100}))
        own = [bt for bt in paid if bt["type"] == "payout"]
        assert [bt["id"] for bt in own] == [payout["balance_transaction"]]
        assert sum(bt["net"] for bt in paid if bt["type"] != "payout") == payout["amount"]
        assert sum(bt["net"] for bt in paid) == 0
        assert all(bt["available_on"] <= payout["created"] for bt in paid)
    # every balance transaction available before the last payout was paid out
    last = max(p["created"] for p in payouts)
    for bt in ledger.balance.values():
        if bt["available_on"] <= last and bt["created"] < SANDBOX_NOW:
            assert bt["id"] in ledger.paid_in, bt
    assert {p["status"] for p in payouts} == {"paid"}
    arrived = _all(client.v1.payouts.list({"arrival_date": {"gte": last}, "limit": 100}))
    assert [p["id"] for p in arrived] == [p["id"] for p in payouts if p["arrival_date"] >= last]
    expanded = _raw(
        client.v1.payouts.retrieve(payouts[0]["id"], {"expand": ["balance_transaction"]})
    )
    assert expanded["balance_transaction"]["amount"] == -payouts[0]["amount"]
    assert client.v1.payouts.list({"status": "in_transit"}).data == []


def test_cash_balance_moves_link_to_the_ledger(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ds = sandbox.store()
    seen = set()
    for cid, txns in ds.cash.txns.items():
        for txn in txns:
            kind = txn["type"]
            if kind in ("transferred_to_balance", "adjusted_for_overdraft"):
                tid = txn[kind]["balance_transaction"]
                bt = _raw(client.v1.balance_transactions.retrieve(tid, {"expand": ["source"]}))
                assert bt["source"]["id"] == txn["id"] and bt["type"] == "adjustment"
                assert bt["amount"] == -txn["net_amount"]
                seen.add(kind)
            elif kind == "applied_to_payment":
                intent = txn[kind]["payment_intent"]
                paid = _all(client.v1.charges.list({"payment_intent": intent}))
                assert [(c["amount"], c["customer"]) for c in paid] == [(-txn["net_amount"], cid)]
                assert paid[0]["payment_method_details"]["type"] == "customer_balance"
                pm = _raw(client.v1.payment_methods.retrieve(paid[0]["payment_method"]))
                assert pm["type"] == "customer_balance" and pm["customer"] == cid
                seen.add(kind)
            elif kind == "refunded_from_payment":
                refund = _raw(client.v1.refunds.retrieve(txn[kind]["refund"]))
                assert refund["amount"] == txn["net_amount"]
                assert refund["destination_details"]["type"] == "customer_cash_balance"
                seen.add(kind)
    assert seen == {
        "transferred_to_balance",
        "adjusted_for_overdraft",
        "applied_to_payment",
        "refunded_from_payment",
    }


def test_the_monthly_sweep_leaves_a_balance_transaction_and_shows_in_the_tie_out() -> None:
    with Sandbox(seed=7, customers=300) as box:
        ds = box.store()
        c = make_client(box)
        before = ds.ledger.expected_tie_out()
        box.advance_clock(15 * DAY)  # past 2026-11-15
        assert ds.cash.sweeps
        rows = ds.ledger.expected_tie_out()
        assert ds.ledger.planted["swept"] == list(
            dict.fromkeys(w["source"] for w in ds.cash.sweeps)
        )
        for sweep in ds.cash.sweeps:
            bt = _raw(c.v1.balance_transactions.retrieve(sweep["balance_transaction"]))
            check(bt, stripe.BalanceTransaction)
            assert (bt["type"], bt["reporting_category"]) == ("adjustment", "other_adjustment")
            assert bt["amount"] == bt["net"] == sweep["amount"] and bt["source"] is None
            assert sweep["source"] in bt["description"] and bt["created"] == sweep["swept_at"]
            row, was = rows[sweep["source"]], before[sweep["source"]]
            assert row["swept"] == sweep["amount"] and row["received"] == was["received"]
            assert row["unapplied"] == was["unapplied"] - sweep["amount"]
        adjustments = _all(c.v1.balance_transactions.list({"type": "adjustment", "limit": 100}))
        assert {w["balance_transaction"] for w in ds.cash.sweeps} <= {a["id"] for a in adjustments}


def test_the_same_seed_gives_the_same_ledger_and_bills() -> None:
    def snapshot(box: Sandbox) -> str:
        ds = box.store()
        return json.dumps(
            [
                ds.ledger.charges,
                ds.ledger.balance,
                ds.ledger.payouts,
                ds.ledger.refunds,
                ds.ledger.planted,
                ds.billing.invoices,
                ds.billing.subscriptions,
                ds.payment_methods.objects,
                ds.payment_methods.planted,
                ds.billing.planted,
            ],
            sort_keys=True,
        )

    assert snapshot(Sandbox(seed=5, customers=80)) == snapshot(Sandbox(seed=5, customers=80))


@pytest.mark.parametrize("migration", ["complete", "none"])
def test_every_migration_profile_ties_out(migration: str) -> None:
    ds = Sandbox(seed=7, customers=120, migration=migration).store()
    rows = ds.ledger.expected_tie_out()
    flagged = {s for s, r in rows.items() if r["gap"] or r["refunded"] or r["swept"]}
    planted = ds.ledger.planted
    assert flagged == set(planted["charge_missing"] + planted["charge_refunded"])
    assert ds.ledger.payouts
