"""PaymentMethods in the sandbox: stripe-python 16's shape, a customer's list (their payment
methods, legacy cards and card sources) through the real SDK with filters and cursors, the
customer's default payment method, the successors a migration brings, the seeded cases."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from toolkit.sandbox import Sandbox
from toolkit.sandbox.payment_methods import SUCCESSOR_OF

from .conftest import make_client
from .stripe_shapes import check


def _raw(obj: Any) -> dict[str, Any]:
    return json.loads(str(obj))


def _all(listing: Any) -> list[dict[str, Any]]:
    return [_raw(o) for o in listing.auto_paging_iter()]


def test_every_customers_payment_methods_have_stripes_shape(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ds = sandbox.store()
    kinds = set()
    for cid in ds.customers:
        for pm in _all(client.v1.customers.payment_methods.list(cid, {"limit": 100})):
            check(pm, stripe.PaymentMethod)
            assert pm["customer"] == cid
            kinds.add((pm["type"], pm["id"][:3]))
    # new payment methods of each type, and the legacy cards and card sources Stripe lists too
    assert {("card", "pm_"), ("customer_balance", "pm_"), ("sepa_debit", "pm_")} <= kinds
    assert {("us_bank_account", "pm_"), ("card", "car"), ("card", "src")} <= kinds


def test_a_customers_list_holds_legacy_cards_and_card_sources_newest_first(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ds = sandbox.store()
    cid = max(ds.customers, key=lambda c: len(ds.payment_methods.by_customer.get(c, ())) * 1000
              + sum(p.startswith("card_") for p in ds.items.get(c, ())))  # fmt: skip
    listed = _all(client.v1.customers.payment_methods.list(cid, {"limit": 2}))
    legacy = [
        p
        for p in ds.items[cid]
        if (p in ds.cards and ds.cards[p]["object"] == "card")
        or ds.sources.get(p, {}).get("type") == "card"
    ]
    ids = [pm["id"] for pm in listed]
    assert set(ids) == set(ds.payment_methods.by_customer.get(cid, ())) | set(legacy)
    assert [pm["created"] for pm in listed] == sorted(
        (pm["created"] for pm in listed), reverse=True
    )
    cards = _all(client.v1.customers.payment_methods.list(cid, {"type": "card", "limit": 100}))
    assert {pm["id"] for pm in cards} == {pm["id"] for pm in listed if pm["type"] == "card"}
    none = client.v1.customers.payment_methods.list(cid, {"type": "klarna"})
    assert none.data == [] and not none.has_more
    # the account-wide list with customer= is the same list
    same = _all(client.v1.payment_methods.list({"customer": cid, "limit": 3}))
    assert [pm["id"] for pm in same] == ids
    # retrieve, by itself and through its customer
    first = ids[0]
    assert _raw(client.v1.payment_methods.retrieve(first)) == listed[0]
    assert _raw(client.v1.customers.payment_methods.retrieve(cid, first)) == listed[0]
    other = next(c for c in ds.customers if c != cid and c not in ds.deleted_customers)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.payment_methods.retrieve(other, first)
    assert err.value.http_status == 404


def test_the_account_wide_list_without_customer_holds_unattached_ones_only(
    client: stripe.StripeClient,
) -> None:
    assert client.v1.payment_methods.list({"limit": 100}).data == []


def test_expand_customer_and_the_customers_default_payment_method(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ds = sandbox.store()
    cid = next(
        c for c, cus in ds.customers.items() if cus["invoice_settings"]["default_payment_method"]
    )
    default = ds.customers[cid]["invoice_settings"]["default_payment_method"]
    plain = _raw(client.v1.customers.retrieve(cid))
    assert plain["invoice_settings"]["default_payment_method"] == default
    body = _raw(
        client.v1.customers.retrieve(cid, {"expand": ["invoice_settings.default_payment_method"]})
    )
    embedded = body["invoice_settings"]["default_payment_method"]
    assert embedded == _raw(client.v1.payment_methods.retrieve(default))
    check(embedded, stripe.PaymentMethod)
    page = client.v1.customers.list(
        {"limit": 100, "expand": ["data.invoice_settings.default_payment_method"]}
    )
    shown = [_raw(c)["invoice_settings"]["default_payment_method"] for c in page.data]
    assert all(pm is None or pm["object"] == "payment_method" for pm in shown)
    listed = client.v1.customers.payment_methods.list(cid, {"expand": ["data.customer"]})
    assert all(_raw(pm)["customer"]["id"] == cid for pm in listed.data)


def test_seeded_customers_with_and_without_successors(sandbox: Sandbox) -> None:
    ds = sandbox.store()
    planted = ds.payment_methods.planted
    assert len(planted["successor"]) >= 10 and len(planted["no_successor"]) >= 10
    assert planted["default_successor"]
    for cid in planted["successor"] + planted["no_successor"]:
        retiring = {
            ds.sources[p]["type"]
            for p in ds.items[cid]
            if p in ds.sources
            and ds.sources[p]["type"] in SUCCESSOR_OF
            and ds.sources[p]["status"] in ("pending", "chargeable")
        }
        assert retiring, cid
        has = {pm["type"] for pm in ds.payment_methods.objects.values() if pm["customer"] == cid}
        covered = all(set(SUCCESSOR_OF[k]) & has for k in retiring)
        assert covered == (cid in planted["successor"]), cid


def test_a_migration_brings_a_customer_balance_successor_and_rewires_the_bills() -> None:
    with Sandbox(seed=7, customers=300) as box:
        ds = box.store()
        c = make_client(box)
        invoice_id = ds.billing.planted["open_ach_credit_transfer"][0]
        cid = ds.billing.invoices[invoice_id]["customer"]
        assert not ds.payment_methods.of_type(cid, "customer_balance")
        subs = [
            s
            for s in ds.billing.subscriptions.values()
            if s["customer"] == cid and s["status"] != "canceled"
        ]
        box.migrate_customer(cid)
        kinds = [pm.type for pm in c.v1.customers.payment_methods.list(cid, {"limit": 100}).data]
        assert kinds.count("customer_balance") == 1
        invoice = _raw(c.v1.invoices.retrieve(invoice_id))
        types = invoice["payment_settings"]["payment_method_types"]
        assert "customer_balance" in types and "ach_credit_transfer" not in types
        gone = set(ds.cash.fed_by) & {
            s for s in ds.sources if ds.sources[s].get("customer") == cid
        }  # the receivers the migration removed
        for sub in subs:
            body = _raw(c.v1.subscriptions.retrieve(sub["id"]))
            assert "ach_credit_transfer" not in (
                body["payment_settings"]["payment_method_types"] or []
            )
            assert body["default_source"] not in gone
        box.migrate_customer(cid)  # a second time: still one successor
        assert len(ds.payment_methods.of_type(cid, "customer_balance")) == 1
