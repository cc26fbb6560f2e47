"""The sandbox's cash balances: Stripe's shapes (stripe-python's typed classes and Stripe's own
fixtures), cursors, running balances, funding instructions that keep the receiver's number, the
admin routes, the migration profiles and the "Sources switched off" profile."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
import stripe

from toolkit.audit.migration_checks import RETIRING_TYPES
from toolkit.sandbox import Sandbox
from toolkit.sandbox.objects import SOURCE_TYPES
from toolkit.sandbox.retired import RETIRED_TYPES
from toolkit.sandbox.seed_cash import CASH_PLANTED

KEY = "sk_test_" + "C4sh" * 6
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures-cash-balance.json"


@pytest.fixture(scope="module")
def box() -> typing.Iterator[Sandbox]:
    with Sandbox(seed=7, customers=300) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(box: Sandbox) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": box.url})


def _fields(cls: type) -> set[str]:
    return {n for n in cls.__annotations__ if not n.isupper() and n != "OBJECT_NAME"}


def _literals(cls: type, name: str) -> set[str]:
    hint = cls.__annotations__[name]  # only the Literal parts are read: no forward refs
    found: set[str] = set()

    def walk(t: Any) -> None:
        if typing.get_origin(t) is typing.Literal:
            found.update(typing.get_args(t))
        for arg in typing.get_args(t):
            walk(arg)

    walk(hint)
    return found


def _raw(obj: Any) -> dict[str, Any]:
    return json.loads(str(obj))


def test_cash_balance_has_stripes_shape(box, client) -> None:
    cid = box.store().cash.planted["cash_multi"][0]
    body = _raw(client.v1.customers.cash_balance.retrieve(cid))
    assert set(body) == _fields(stripe.CashBalance)
    assert set(body["settings"]) == _fields(stripe.CashBalance.Settings)
    assert body["settings"]["reconciliation_mode"] in _literals(
        stripe.CashBalance.Settings, "reconciliation_mode"
    )
    assert set(body["available"]) == {"eur", "usd"} and all(
        isinstance(v, int) for v in body["available"].values()
    )
    fixture = json.loads(FIXTURES.read_text())["cash_balance"]
    assert set(fixture) <= set(body)


def test_cash_balance_transactions_have_stripes_shape_and_running_balances(box, client) -> None:
    ds = box.store()
    cls = stripe.CustomerCashBalanceTransaction
    allowed = _fields(cls)
    types = _literals(cls, "type")
    fixture = json.loads(FIXTURES.read_text())["customer_cash_balance_transaction"]
    seen_types = set()
    for cid in ds.cash.txns:
        listing = client.v1.customers.cash_balance_transactions.list(cid, {"limit": 100})
        txns = [_raw(t) for t in listing.data]
        assert txns, cid
        for t in txns:
            assert set(t) <= allowed and set(fixture) - {"funded"} <= set(t)
            assert t["type"] in types
            seen_types.add(t["type"])
            if t["type"] == "funded":
                bank = t["funded"]["bank_transfer"]
                assert bank["type"] in _literals(cls.Funded.BankTransfer, "type")
        running: dict[str, int] = {}
        for t in reversed(txns):  # oldest first
            running[t["currency"]] = running.get(t["currency"], 0) + t["net_amount"]
            assert t["ending_balance"] == running[t["currency"]]
        assert running == {k: v for k, v in ds.cash.available[cid].items() if k in running}
    assert seen_types == types  # all nine of Stripe's types


def test_cash_balance_transactions_page_with_cursors(box, client) -> None:
    ds = box.store()
    cid = max(ds.cash.txns, key=lambda c: len(ds.cash.txns[c]))
    everything = [t["id"] for t in ds.cash.txns[cid]]
    assert len(everything) >= 3
    first = client.v1.customers.cash_balance_transactions.list(cid, {"limit": 2})
    assert [t.id for t in first.data] == everything[:2] and first.has_more
    rest = client.v1.customers.cash_balance_transactions.list(
        cid, {"limit": 100, "starting_after": everything[1]}
    )
    assert [t.id for t in rest.data] == everything[2:] and not rest.has_more


def test_a_customer_without_cash_balance_answers_an_empty_hash(box, client) -> None:
    ds = box.store()
    cid = next(c for c in ds.customers if c not in ds.cash.available)
    body = _raw(client.v1.customers.cash_balance.retrieve(cid))
    assert body["available"] == {} and body["settings"]["using_merchant_default"] is True
    assert client.v1.customers.cash_balance_transactions.list(cid).data == []
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.cash_balance.retrieve("cus_NoSuchCustomer01")
    assert err.value.http_status == 404 and err.value.code == "resource_missing"


def _receiver_number(box: Sandbox, cid: str) -> str:
    ds = box.store()
    return next(
        ds.sources[p]["ach_credit_transfer"]["account_number"]
        for p in ds.items[cid]
        if p in ds.sources and ds.sources[p]["type"] == "ach_credit_transfer"
    )


def test_funding_instructions_keep_a_migrated_customers_receiver_number(client) -> None:
    with Sandbox(seed=7, customers=300) as fresh:
        c = stripe.StripeClient(KEY, base_addresses={"api": fresh.url})
        ds = fresh.store()
        migrated = ds.cash.planted["migrated_clean"][0]
        params = {
            "bank_transfer": {"type": "us_bank_transfer"},
            "currency": "usd",
            "funding_type": "bank_transfer",
        }
        body = _raw(c.v1.customers.funding_instructions.create(migrated, params))
        assert set(body) == _fields(stripe.FundingInstructions)
        aba = body["bank_transfer"]["financial_addresses"][0]["aba"]
        assert set(aba) == _fields(stripe.FundingInstructions.BankTransfer.FinancialAddress.Aba)
        assert aba["account_number"] == _receiver_number(fresh, migrated)
        assert aba["routing_number"] == "110000000"
        other = ds.cash.planted["not_migrated_funds"][0]
        new = _raw(c.v1.customers.funding_instructions.create(other, params))
        number = new["bank_transfer"]["financial_addresses"][0]["aba"]["account_number"]
        assert number != _receiver_number(fresh, other)  # Stripe creates a new one when missing
        with pytest.raises(stripe.InvalidRequestError) as err:
            c.v1.customers.funding_instructions.create(migrated, {"currency": "usd"})
        assert err.value.code == "parameter_missing"


def test_admin_bank_transfer_and_migration() -> None:
    with Sandbox(seed=7, customers=120) as fresh:
        ds = fresh.store()
        cid = next(c for c in ds.customers if c not in ds.cash.available)
        balance = fresh.migrate_customer(cid)
        assert balance["available"] == {"usd": 0}
        txn = fresh.bank_transfer(cid, 12_345)
        assert txn["type"] == "funded" and txn["ending_balance"] == 12_345
        assert ds.cash.available[cid] == {"usd": 12_345}
        with pytest.raises(KeyError):
            fresh.bank_transfer("cus_NoSuchCustomer01", 100)
        with pytest.raises(ValueError):
            fresh.bank_transfer(cid, 0)
        import urllib.request

        form = f"customer={cid}&amount=5&currency=jpy".encode()
        req = urllib.request.Request(f"{fresh.url}/_sandbox/bank_transfer", form, method="POST")
        with urllib.request.urlopen(req) as reply:
            assert json.loads(reply.read())["currency"] == "jpy"
        assert ds.cash.available[cid] == {"usd": 12_345, "jpy": 5}


def test_every_planted_state_is_seeded_and_seeding_cash_changes_no_source() -> None:
    with (
        Sandbox(seed=7, customers=300) as partial,
        Sandbox(seed=7, customers=300, migration="none") as none,
    ):
        assert set(partial.store().cash.planted) == set(CASH_PLANTED)
        assert all(len(v) in (2, 3) for v in partial.store().cash.planted.values())
        assert partial.store().sources == none.store().sources
        assert partial.store().transactions == none.store().transactions
        assert none.store().cash.available == {} and none.store().cash.planted == {}


def test_a_complete_migration_migrates_every_ach_customer() -> None:
    with Sandbox(seed=7, customers=120, migration="complete") as box:
        ds = box.store()
        ach = {
            cid
            for cid, items in ds.items.items()
            for p in items
            if p in ds.sources and ds.sources[p]["type"] == "ach_credit_transfer"
        }
        assert ach and ach <= ds.cash.migrated
    with pytest.raises(ValueError, match="migration"):
        Sandbox(migration="halfway")


def test_sources_switched_off_refuses_retired_types_in_stripes_shape() -> None:
    with Sandbox(seed=7, customers=40, sources_retired=True) as box:
        c = stripe.StripeClient(KEY, base_addresses={"api": box.url})
        with pytest.raises(stripe.InvalidRequestError) as err:
            c.v1.sources.create({"type": "ach_credit_transfer", "currency": "usd"})
        assert err.value.http_status == 400
        assert err.value.code == "payment_method_not_available" and err.value.param == "type"
        assert "Bank Transfers" in str(err.value.user_message)
        ds = box.store()
        pending = next(
            sid
            for sid in ds.unattached_ids
            if ds.sources[sid]["type"] in RETIRED_TYPES and ds.sources[sid]["status"] == "pending"
        )
        cid = next(iter(ds.customers))
        with pytest.raises(stripe.InvalidRequestError) as err:
            c.v1.customers.payment_sources.create(cid, {"source": pending})
        assert err.value.code == "payment_method_not_available" and err.value.param == "source"
        assert c.v1.sources.create({"type": "card"}).type == "card"  # card sources still work


def test_one_list_of_retired_types_in_the_sandbox_and_the_toolkit() -> None:
    assert RETIRED_TYPES == RETIRING_TYPES & SOURCE_TYPES


def test_customers_embed_their_cash_balance_only_when_asked(box, client) -> None:
    cid = box.store().cash.planted["cash_multi"][0]
    plain = _raw(client.v1.customers.retrieve(cid))
    assert "cash_balance" not in plain
    expanded = _raw(client.v1.customers.retrieve(cid, {"expand": ["cash_balance"]}))
    assert expanded["cash_balance"] == _raw(client.v1.customers.cash_balance.retrieve(cid))
    page = client.v1.customers.list({"limit": 3, "expand": ["data.cash_balance"]})
    assert all(set(_raw(c)["cash_balance"]) == _fields(stripe.CashBalance) for c in page.data)
