"""Receivers and their money: seeded invariants, planted anomalies, deposits and reversals."""

from __future__ import annotations

import json

import pytest
import stripe

from toolkit.errors import NotFoundError
from toolkit.sandbox import SANDBOX_NOW, Sandbox

from .conftest import LIVE_KEY, make_client, send

DAY = 86_400


def _succeeded(txns: list[dict]) -> int:
    return sum(t["amount"] for t in txns if t["status"] == "succeeded")


def test_seeded_receivers_add_up(sandbox: Sandbox) -> None:
    ds = sandbox.store()
    planted = {sid for ids in sandbox.planted.values() for sid in ids}
    receivers = [s for s in ds.sources.values() if s["flow"] == "receiver"]
    assert len(receivers) > 400
    for src in receivers:
        if src["id"] in planted:
            continue
        rcv, txns = src["receiver"], ds.transactions.get(src["id"], [])
        assert _succeeded(txns) == rcv["amount_received"], src["id"]
        assert all(t["amount"] > 0 and t["currency"] == src["currency"] for t in txns)
        assert rcv["amount_charged"] + rcv["amount_returned"] <= rcv["amount_received"]
        if src["status"] in ("consumed", "canceled", "failed"):
            assert rcv["amount_received"] == rcv["amount_charged"] + rcv["amount_returned"]
        if rcv["amount_returned"]:
            assert rcv["refund_attributes_status"] == "available"
        if src["status"] == "pending":
            assert rcv["amount_received"] == 0
            assert src["created"] > SANDBOX_NOW - 25 * DAY
    received = sorted(s["receiver"]["amount_received"] for s in receivers)
    assert received[0] == 0 and received[-1] >= 10_000_000


def test_planted_anomalies(sandbox: Sandbox) -> None:
    ds = sandbox.store()
    planted = sandbox.planted
    assert set(planted) == {
        "overpaid_consumed",
        "negative_reversal",
        "transactions_mismatch",
        "funds_on_consumed",
        "funds_on_canceled",
        "refund_attributes_missing",
        "stale_pending",
        "currency_mismatch_txn",
    }
    listed = {i for items in ds.items.values() for i in items}

    def unapplied(src: dict) -> int:
        r = src["receiver"]
        return r["amount_received"] - r["amount_charged"] - r["amount_returned"]

    for name, ids in planted.items():
        assert len(ids) >= 2, name
        for sid in ids:
            src, txns = ds.sources[sid], ds.transactions.get(sid, [])
            rcv = src["receiver"]
            assert src["type"] == "ach_credit_transfer"
            if name == "overpaid_consumed":
                assert src["status"] == "consumed" and rcv["amount_charged"] > 0
                assert unapplied(src) > 0 and sid in listed
            elif name == "negative_reversal":
                assert any(t["amount"] < 0 for t in txns)
                assert _succeeded(txns) == rcv["amount_received"]
            elif name == "transactions_mismatch":
                assert _succeeded(txns) != rcv["amount_received"]
            elif name == "funds_on_consumed":
                assert src["status"] == "consumed" and unapplied(src) > 0
                assert sid not in listed and sid in sandbox.detached_ids
            elif name == "funds_on_canceled":
                assert src["status"] == "canceled" and unapplied(src) > 0
            elif name == "refund_attributes_missing":
                assert rcv["amount_returned"] > 0
                assert rcv["refund_attributes_status"] == "missing"
            elif name == "stale_pending":
                assert src["status"] == "pending" and rcv["amount_received"] == 0
                assert src["created"] < SANDBOX_NOW - 60 * DAY
            elif name == "currency_mismatch_txn":
                assert {t["currency"] for t in txns} == {"usd", "eur"}
                assert _succeeded(txns) == rcv["amount_received"]


def test_seeded_mix(sandbox: Sandbox) -> None:
    ds = sandbox.store()
    sources = list(ds.sources.values())
    assert 850 <= len(sources) <= 1300
    assert {s["status"] for s in sources} == {
        "pending",
        "chargeable",
        "consumed",
        "canceled",
        "failed",
    }
    currencies = {s["currency"] for s in sources}
    assert {"usd", "eur", "jpy", "bhd", None} <= currencies  # zero- and three-decimal too
    assert sum(s["type"] == "ach_credit_transfer" for s in sources) > len(sources) / 2
    sizes = sorted(len(items) for items in ds.items.values())
    assert sum(n > 10 for n in sizes) >= 10 and sum(n > 100 for n in sizes) >= 2
    assert all(s["created"] < SANDBOX_NOW for s in sources)
    for src in sources:
        if src.get("customer"):
            assert src["created"] > ds.customers[src["customer"]]["created"], src["id"]
    assert all(c["created"] < SANDBOX_NOW for c in ds.customers.values())
    assert all(
        s["client_secret"].startswith("src_client_secret_") and len(s["client_secret"]) == 42
        for s in sources
    )
    assert len({json.dumps(s["metadata"], sort_keys=True) for s in sources}) > 100
    assert any(s["owner"]["address"] for s in sources)
    for sid in sandbox.detached_ids:
        src = ds.sources[sid]
        assert src["status"] == "consumed" and src["customer"] not in (None, "")
        assert sid not in ds.items[src["customer"]]
    for sid in sandbox.unattached_ids:
        assert "customer" not in ds.sources[sid]
        assert ds.sources[sid]["status"] == "pending"


def test_deposit_and_reverse_through_python(box: Sandbox, wclient: stripe.StripeClient) -> None:
    sid = box.planted["stale_pending"][0]
    txn = box.deposit(sid, 12_500)
    assert (txn["object"], txn["amount"], txn["status"], txn["source"]) == (
        "source_transaction",
        12_500,
        "succeeded",
        sid,
    )
    assert txn["id"].startswith("srctxn_") and txn["created"] > SANDBOX_NOW
    src = wclient.v1.sources.retrieve(sid)
    assert src.receiver is not None
    assert (src.status, src.receiver.amount_received) == ("chargeable", 12_500)
    back = box.reverse(sid, 2_500)
    assert back["amount"] == -2_500
    listed = wclient.v1.sources.transactions.list(sid)
    assert [t.amount for t in listed.data] == [-2_500, 12_500]
    receiver = wclient.v1.sources.retrieve(sid).receiver
    assert receiver is not None and receiver.amount_received == 10_000
    with pytest.raises(ValueError):
        box.reverse(sid, 20_000)
    with pytest.raises(ValueError):
        box.deposit(sid, 0)
    with pytest.raises(NotFoundError, match="src_missing"):
        box.deposit("src_missing", 100)
    card = next(s["id"] for s in box.store().sources.values() if s["type"] == "card")
    with pytest.raises(ValueError):
        box.deposit(card, 100)
    copy = box.get_source(sid)
    copy["receiver"]["amount_received"] = 1
    assert box.get_source(sid)["receiver"]["amount_received"] == 10_000


def test_deposit_and_reverse_over_http(box: Sandbox) -> None:
    sid = box.planted["stale_pending"][1]
    status, _, body = send(box, "POST", "/_sandbox/deposit", f"source={sid}&amount=7000", key=None)
    assert status == 200
    assert json.loads(body)["amount"] == 7000
    status, _, body = send(
        box,
        "POST",
        "/_sandbox/reverse",
        json.dumps({"source": sid, "amount": 500}),
        {"Content-Type": "application/json"},
    )
    assert (status, json.loads(body)["amount"]) == (200, -500)
    assert box.get_source(sid)["receiver"]["amount_received"] == 6500
    status, _, body = send(box, "POST", "/_sandbox/deposit", "source=src_missing&amount=1")
    assert status == 404
    assert json.loads(body)["error"]["message"] == "No such source: 'src_missing'"
    status, _, _ = send(box, "POST", "/_sandbox/deposit", f"source={sid}&amount=abc")
    assert status == 400
    live_sid = box.store(livemode=True).planted["stale_pending"][0]
    status, _, _ = send(
        box, "POST", "/_sandbox/deposit", f"source={live_sid}&amount=100&livemode=true"
    )
    assert status == 200
    live = make_client(box, LIVE_KEY).v1.sources.retrieve(live_sid)
    assert live.receiver is not None
    assert live.receiver.amount_received == 100
    acct_sid = box.store("acct_X").planted["stale_pending"][0]
    status, _, _ = send(
        box,
        "POST",
        "/_sandbox/deposit",
        f"source={acct_sid}&amount=9",
        {"Stripe-Account": "acct_X"},
    )
    assert status == 200
    assert box.get_source(acct_sid, account="acct_X")["receiver"]["amount_received"] == 9
    status, _, body = send(box, "GET", "/_sandbox/planted")
    assert json.loads(body)["planted"] == box.planted


def test_reset_reseeds(box: Sandbox, wclient: stripe.StripeClient) -> None:
    sid = box.planted["stale_pending"][0]
    box.deposit(sid, 100)
    wclient.v1.sources.create(params={"type": "card"}, options={"idempotency_key": "k"})
    assert send(box, "POST", "/_sandbox/reset", "")[0] == 200
    assert box.get_source(sid)["receiver"]["amount_received"] == 0
    assert box.requests == []
    again = wclient.v1.sources.create(params={"type": "card"}, options={"idempotency_key": "k"})
    assert not box.requests[-1].replayed
    assert again.id in box.store().sources
