"""Invoices and subscriptions in the sandbox: stripe-python 16's shapes, the lists through the
real SDK (filters, cursors, expand), Stripe's default of leaving canceled subscriptions out, and
the seeded bills still wired to Sources."""

from __future__ import annotations

import json
from typing import Any

import stripe

from toolkit.sandbox import SANDBOX_NOW, Sandbox

from .stripe_shapes import check


def _raw(obj: Any) -> dict[str, Any]:
    return json.loads(str(obj))


def _all(listing: Any) -> list[dict[str, Any]]:
    return [_raw(o) for o in listing.auto_paging_iter()]


def test_every_invoice_and_subscription_has_stripes_shape(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ds = sandbox.store()
    invoices = _all(client.v1.invoices.list({"limit": 100}))
    assert [i["id"] for i in invoices] == ds.billing.order("invoices")  # newest first, all
    statuses = set()
    for inv in invoices:
        check(inv, stripe.Invoice)
        statuses.add(inv["status"])
        assert inv["amount_due"] == inv["total"] == sum(li["amount"] for li in inv["lines"]["data"])
        assert inv["amount_remaining"] == (inv["amount_due"] - inv["amount_paid"]) * (
            inv["status"] != "void"
        )
        if inv["collection_method"] == "send_invoice":
            assert inv["due_date"] > inv["created"]
    assert statuses == {"draft", "open", "paid", "uncollectible", "void"}
    subs = _all(client.v1.subscriptions.list({"status": "all", "limit": 100}))
    assert len(subs) == len(ds.billing.subscriptions)
    for sub in subs:
        check(sub, stripe.Subscription)
    expanded = client.v1.invoices.list(
        {"limit": 100, "expand": ["data.customer", "data.default_source"]}
    )
    for inv in map(_raw, expanded.data):
        check(inv, stripe.Invoice)
        assert inv["customer"]["object"] == "customer"
        assert inv["default_source"] is None or inv["default_source"]["object"] == "source"


def test_invoice_filters(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    ds = sandbox.store()
    everything = ds.billing.invoices
    opened = _all(client.v1.invoices.list({"status": "open", "limit": 7}))
    assert {i["id"] for i in opened} == {i for i, v in everything.items() if v["status"] == "open"}
    cid = max(ds.customers, key=lambda c: sum(v["customer"] == c for v in everything.values()))
    mine = _all(client.v1.invoices.list({"customer": cid, "limit": 2}))
    assert {i["id"] for i in mine} == {i for i, v in everything.items() if v["customer"] == cid}
    sub = next(iter(ds.billing.subscriptions.values()))
    billed = _all(client.v1.invoices.list({"subscription": sub["id"], "limit": 100}))
    assert billed and all(
        i["parent"]["subscription_details"]["subscription"] == sub["id"] for i in billed
    )
    assert billed[0]["id"] == sub["latest_invoice"]
    since = SANDBOX_NOW - 60 * 86_400
    recent = _all(client.v1.invoices.list({"created": {"gte": since}, "limit": 100}))
    assert {i["id"] for i in recent} == {i for i, v in everything.items() if v["created"] >= since}
    sent = _all(client.v1.invoices.list({"collection_method": "send_invoice", "limit": 100}))
    assert sent and all(i["collection_method"] == "send_invoice" for i in sent)
    due = _all(client.v1.invoices.list({"due_date": {"lt": SANDBOX_NOW}, "limit": 100}))
    assert due and all(i["due_date"] < SANDBOX_NOW for i in due)
    first = client.v1.invoices.retrieve(opened[0]["id"], {"expand": ["default_payment_method"]})
    check(_raw(first), stripe.Invoice)


def test_subscriptions_leave_canceled_out_unless_asked(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    subs = sandbox.store().billing.subscriptions
    canceled = {s for s, v in subs.items() if v["status"] == "canceled"}
    assert canceled
    default = {s["id"] for s in _all(client.v1.subscriptions.list({"limit": 5}))}
    assert default == set(subs) - canceled
    assert {s["id"] for s in _all(client.v1.subscriptions.list({"status": "canceled"}))} == canceled
    assert {s["id"] for s in _all(client.v1.subscriptions.list({"status": "ended"}))} == canceled
    sub = next(v for v in subs.values() if v["status"] == "active")
    price = sub["items"]["data"][0]["price"]["id"]
    on_price = _all(client.v1.subscriptions.list({"price": price, "status": "all"}))
    assert sub["id"] in {s["id"] for s in on_price}
    assert all(s["items"]["data"][0]["price"]["id"] == price for s in on_price)
    mine = _all(client.v1.subscriptions.list({"customer": sub["customer"], "status": "all"}))
    assert sub["id"] in {s["id"] for s in mine}
    body = _raw(client.v1.subscriptions.retrieve(sub["id"], {"expand": ["latest_invoice"]}))
    check(body, stripe.Subscription)
    assert body["latest_invoice"]["id"] == sub["latest_invoice"]


def test_the_seeded_bills_still_wired_to_sources(sandbox: Sandbox) -> None:
    ds = sandbox.store()
    billing = ds.billing
    planted = billing.planted
    assert len(planted["open_ach_credit_transfer"]) >= 5
    for iid in planted["open_ach_credit_transfer"]:
        inv = billing.invoices[iid]
        assert inv["status"] == "open"
        assert "ach_credit_transfer" in inv["payment_settings"]["payment_method_types"]
        assert inv["customer"] not in ds.cash.migrated  # a migration would have replaced it
    assert planted["subscription_on_source"] and planted["open_on_source"]
    for sid in planted["subscription_on_source"]:
        sub = billing.subscriptions[sid]
        assert sub["default_source"] in ds.sources and sub["status"] != "canceled"
        assert sub["default_source"] in ds.items[sub["customer"]]
    # migrated customers' open bills offer bank transfers instead
    for inv in billing.invoices.values():
        if inv["customer"] in ds.cash.migrated and inv["status"] in ("draft", "open"):
            assert "ach_credit_transfer" not in (
                inv["payment_settings"]["payment_method_types"] or []
            )
    assert any(
        "customer_balance" in (inv["payment_settings"]["payment_method_types"] or [])
        for inv in billing.invoices.values()
    )
