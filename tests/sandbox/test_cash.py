"""The sandbox's cash balances: Stripe's shapes (stripe-python's typed classes and Stripe's own
fixtures), cursors, running balances, funding instructions that keep the receiver's number, the
admin routes, the migration profiles and the "Sources switched off" profile."""

from __future__ import annotations

import copy
import json
import typing
from pathlib import Path
from typing import Any

import pytest
import stripe

import toolkit
from toolkit.audit.migration.checks import RETIRING_TYPES
from toolkit.sandbox import Sandbox
from toolkit.sandbox.objects import SOURCE_TYPES
from toolkit.sandbox.retired import RETIRED_TYPES
from toolkit.sandbox.seed_cash import CASH_PLANTED
from toolkit.sandbox.store import SANDBOX_NOW

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
    """The account number of the customer's newest ACH Credit Transfer receiver (a migrated
    customer's receivers left their list but still name them)."""
    ds = box.store()
    newest = max(
        (
            s
            for s in ds.sources.values()
            if s.get("customer") == cid and s["type"] == "ach_credit_transfer"
        ),
        key=lambda s: (s["created"], s["id"]),
    )
    return str(newest["ach_credit_transfer"]["account_number"])


def test_funding_instructions_keep_a_migrated_customers_receiver_number(client) -> None:
    with Sandbox(seed=7, customers=300) as fresh:
        c = stripe.StripeClient(KEY, base_addresses={"api": fresh.url})
        ds = fresh.store()
        migrated = ds.cash.planted["migrated_clean"][0]
        params: stripe.params.CustomerFundingInstructionsCreateParams = {
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
            c.v1.customers.funding_instructions.create(migrated, {"currency": "usd"})  # type: ignore[typeddict-item]
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
        with pytest.raises(toolkit.NotFoundError, match="cus_NoSuchCustomer01"):
            fresh.bank_transfer("cus_NoSuchCustomer01", 100)
        with pytest.raises(ValueError):
            fresh.bank_transfer(cid, 0)
        import urllib.request

        form = f"customer={cid}&amount=5&currency=jpy".encode()
        req = urllib.request.Request(f"{fresh.url}/_sandbox/bank_transfer", form, method="POST")
        with urllib.request.urlopen(req) as reply:
            assert json.loads(reply.read())["currency"] == "jpy"
        assert ds.cash.available[cid] == {"usd": 12_345, "jpy": 5}


def test_every_planted_state_is_seeded_and_seeding_cash_changes_only_migrated_receivers() -> None:
    with (
        Sandbox(seed=7, customers=300) as partial,
        Sandbox(seed=7, customers=300, migration="none") as none,
    ):
        after, before = partial.store(), none.store()
        assert set(after.cash.planted) == set(CASH_PLANTED)
        assert all(len(v) in (2, 3) for v in after.cash.planted.values())
        assert before.cash.available == {} and before.cash.planted == {}
        assert set(after.sources) == set(before.sources)  # the same source ids
        changed = {  # the ACH Credit Transfer sources in a migrated customer's list
            p
            for c in after.cash.migrated
            for p in before.items.get(c, ())
            if p in before.sources and before.sources[p]["type"] == "ach_credit_transfer"
        }
        assert changed and set(after.cash.fed_by) == changed
        assert (
            after.detached_ids
            == before.detached_ids
            + [  # reachable by id only
                sid for sid in after.detached_ids[len(before.detached_ids) :] if sid in changed
            ]
        )
        assert set(after.detached_ids) - set(before.detached_ids) == changed
        assert after.transactions == before.transactions
        for sid, src in before.sources.items():
            if sid not in changed:
                assert after.sources[sid] == src
                continue
            moved = max(_left(src), 0)  # moved into the cash balance, counted as charged
            rcv = {**src["receiver"], "amount_charged": src["receiver"]["amount_charged"] + moved}
            assert after.sources[sid] == {**src, "status": "consumed", "receiver": rcv}
        planted = {sid for ids in after.planted.values() for sid in ids}
        assert not planted & changed  # the receiver audit's anomalies stay where they are
        for cid in after.customers:
            kept = [p for p in before.items.get(cid, []) if p not in changed]
            assert after.items.get(cid, []) == kept


def test_a_complete_migration_migrates_every_ach_customer() -> None:
    with (
        Sandbox(seed=7, customers=120, migration="complete") as box,
        Sandbox(seed=7, customers=120, migration="none") as unmigrated,
    ):
        ds, old = box.store(), unmigrated.store()
        ach = {
            cid
            for cid, items in old.items.items()
            for p in items
            if p in old.sources and old.sources[p]["type"] == "ach_credit_transfer"
        }
        assert ach and ach <= ds.cash.migrated
        assert not any(
            ds.sources[p]["type"] == "ach_credit_transfer"
            for items in ds.items.values()
            for p in items
            if p in ds.sources
        )
        assert "not_migrated_funds" not in ds.cash.planted
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


def test_each_cash_balance_transaction_carries_the_hash_named_after_its_type(box, client) -> None:
    cls = stripe.CustomerCashBalanceTransaction
    hashed = {t for t in _literals(cls, "type") if t in cls.__annotations__}
    assert hashed == {
        "adjusted_for_overdraft",
        "applied_to_payment",
        "funded",
        "refunded_from_payment",
        "transferred_to_balance",
        "unapplied_from_payment",
    }  # return_initiated, return_canceled and funding_reversed have none in stripe-python 16
    overdrafts = 0
    for cid in box.store().cash.txns:
        txns = [
            _raw(t)
            for t in client.v1.customers.cash_balance_transactions.list(cid, {"limit": 100}).data
        ]
        by_id = {t["id"]: t for t in txns}
        for t in txns:
            assert {name for name in hashed if name in t} == ({t["type"]} & hashed)
            if t["type"] in hashed:
                inner = getattr(cls, "".join(w.title() for w in t["type"].split("_")))
                assert set(t[t["type"]]) == _fields(inner)
            if t["type"] == "adjusted_for_overdraft":  # Stripe covers an overdraft at once
                linked = by_id[t["adjusted_for_overdraft"]["linked_transaction"]]
                assert linked["type"] == "funding_reversed" and linked["ending_balance"] < 0
                assert t["net_amount"] == -linked["ending_balance"] and t["ending_balance"] == 0
                assert t["adjusted_for_overdraft"]["balance_transaction"].startswith("txn_")
                overdrafts += 1
    assert overdrafts


def _left(src: dict[str, Any]) -> int:
    r = src["receiver"]
    return int(r["amount_received"] - r["amount_charged"] - r["amount_returned"])


PARAMS: stripe.params.CustomerFundingInstructionsCreateParams = {
    "bank_transfer": {"type": "us_bank_transfer"},
    "currency": "usd",
    "funding_type": "bank_transfer",
}


def test_a_migration_removes_the_receivers_and_moves_their_money_into_the_cash_balance() -> None:
    with Sandbox(seed=7, customers=300) as fresh:
        c = stripe.StripeClient(KEY, base_addresses={"api": fresh.url})
        ds = fresh.store()
        cid = ds.cash.planted["not_migrated_funds"][0]
        receivers = [
            ds.sources[p]
            for p in ds.items[cid]
            if p in ds.sources and ds.sources[p]["type"] == "ach_credit_transfer"
        ]
        left = {s["id"]: _left(s) for s in receivers}
        received = {s["id"]: s["receiver"]["amount_received"] for s in receivers}
        before_txns = copy.deepcopy({sid: ds.transactions.get(sid, []) for sid in left})
        held = {sid: amount for sid, amount in left.items() if amount > 0}
        assert held
        number = receivers[0]["ach_credit_transfer"]["account_number"]  # the newest receiver
        mark = len(ds.events.events)

        balance = fresh.migrate_customer(cid)

        # unreconciled funds move into the USD cash balance, one `funded` per receiver
        assert balance["available"] == {"usd": sum(held.values())}
        moves = [_raw(t) for t in c.v1.customers.cash_balance_transactions.list(cid).data]
        assert {
            t["funded"]["bank_transfer"]["reference"]: t["net_amount"]
            for t in moves
            if t["type"] == "funded"
        } == held
        # the ACH Credit Transfer payment method is removed: no longer in the customer's list
        listed = c.v1.customers.payment_sources.list(cid, {"object": "source", "limit": 100})
        assert not [s for s in listed.data if getattr(s, "type", None) == "ach_credit_transfer"]
        for sid, amount in left.items():
            src = _raw(c.v1.sources.retrieve(sid))  # still retrievable by id
            assert src["customer"] == cid and src["status"] == "consumed"
            assert _left(src) == min(amount, 0)
            txns = [_raw(t) for t in c.v1.sources.transactions.list(sid, {"limit": 100}).data]
            assert txns == before_txns[sid]  # none added
            assert src["receiver"]["amount_received"] == received[sid]
        # the source events stop; the money landing in the cash balance is recorded
        kinds = [e["type"] for e in ds.events.events[mark:]]
        assert not [k for k in kinds if k.startswith(("source.", "customer.source."))]
        assert kinds.count("customer_cash_balance_transaction.created") == len(held)
        # the bank details stay the same
        body = _raw(c.v1.customers.funding_instructions.create(cid, PARAMS))
        assert body["bank_transfer"]["financial_addresses"][0]["aba"]["account_number"] == number

        # money sent to a migrated receiver's number lands in the cash balance
        mark = len(ds.events.events)
        txn = fresh.deposit(receivers[0]["id"], 5_000)
        assert txn["object"] == "customer_cash_balance_transaction" and txn["type"] == "funded"
        assert ds.cash.available[cid]["usd"] == sum(held.values()) + 5_000
        assert _left(ds.sources[receivers[0]["id"]]) == 0
        assert not [e for e in ds.events.events[mark:] if e["type"].startswith("source.")]
        # a reversal larger than the balance overdraws it, and Stripe adjusts the overdraft
        reversal = fresh.reverse(receivers[0]["id"], ds.cash.available[cid]["usd"] + 700)
        assert reversal["type"] == "funding_reversed" and reversal["ending_balance"] == -700
        adjusted = ds.cash.txns[cid][0]
        assert adjusted["type"] == "adjusted_for_overdraft" and adjusted["ending_balance"] == 0
        assert adjusted["adjusted_for_overdraft"]["linked_transaction"] == reversal["id"]


def test_passing_the_15th_sweeps_money_left_on_sources_for_45_days() -> None:
    day = 86_400
    sweep = SANDBOX_NOW + 14 * day  # 2026-11-15T00:00:00Z
    with (
        Sandbox(seed=7, customers=300) as fresh,
        Sandbox(seed=7, customers=300, migration="none") as idle,
    ):
        ds = fresh.store()
        expected, partly = {}, 0
        for sid, src in ds.sources.items():
            if src["type"] != "ach_credit_transfer" or _left(src) <= 0:
                continue
            left = _left(src)
            recent = sum(
                t["amount"]
                for t in ds.transactions.get(sid, ())
                if t["status"] == "succeeded"
                and t["amount"] > 0
                and t["created"] > sweep - 45 * day
            )
            if left > recent:
                expected[sid] = left - recent
                partly += recent > 0
        assert expected and partly  # some keep their newest money
        before = {sid: _left(ds.sources[sid]) for sid in expected}

        fresh.advance_clock(13 * day)  # 2026-11-14: not yet
        assert ds.cash.sweeps == []
        mark = len(ds.events.events)
        fresh.advance_clock(2 * day)

        assert {s["source"]: s["amount"] for s in ds.cash.sweeps} == expected
        assert {s["swept_at"] for s in ds.cash.sweeps} == {sweep}
        assert len(ds.events.events) == mark  # Stripe documents no event for a sweep
        c = stripe.StripeClient(KEY, base_addresses={"api": fresh.url})
        for sid in sorted(expected)[:8]:
            src = _raw(c.v1.sources.retrieve(sid))
            assert _left(src) == before[sid] - expected[sid]
            newest = c.v1.sources.transactions.list(sid, {"limit": 1}).data[0]
            assert (newest.amount, newest.created) == (-expected[sid], sweep)
        fresh.advance_clock(day)  # no second sweep before 2026-12-15
        assert len(ds.cash.sweeps) == len(expected)
        # an account that has not started migrating is not swept
        untouched = copy.deepcopy(idle.store().sources)
        idle.advance_clock(16 * day)
        assert idle.store().cash.sweeps == [] and idle.store().sources == untouched
