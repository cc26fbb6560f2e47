"""``GET /v1/events`` and ``GET /v1/accounts``: every write records Stripe's event, the list
filters and pages as Stripe's does, 30 days are kept; connected accounts are listed, a revoked
one is listed but refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Unpack

import pytest
import stripe

from toolkit.sandbox import Sandbox

from .conftest import make_client, send

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures-cash-balance.json"


def _receiver(box: Sandbox) -> tuple[str, str]:
    ds = box.store()
    return next(
        (cid, pid)
        for cid in ds.order
        for pid in ds.items.get(cid, [])
        if pid in ds.sources and ds.sources[pid]["type"] == "ach_credit_transfer"
    )


def _types(
    client: stripe.StripeClient, **params: Unpack[stripe.params.EventListParams]
) -> list[str]:
    return [e.type for e in client.v1.events.list({"limit": 100, **params}).data]


def test_every_write_records_its_event_newest_first() -> None:
    with Sandbox(seed=3, customers=20) as box:
        client = make_client(box)
        assert _types(client) == []  # the seeded history has no events
        cid, pid = _receiver(box)
        cash = box.store().cash.available  # Stripe refuses to delete a customer with a cash balance
        other = next(c for c in box.store().order if c != cid and not cash.get(c))
        pending = box.unattached_ids[0]
        client.v1.sources.update(pid, {"metadata": {"team": "ar"}})
        client.v1.sources.update(pending, {"metadata": {"team": "ar"}})  # not attached: none
        client.v1.customers.payment_sources.delete(cid, pid)
        box.deposit(pid, 500)
        box.bank_transfer(cid, 100)
        client.v1.customers.delete(other)
        assert _types(client) == [
            "customer.deleted",
            "cash_balance.funds_available",
            "customer_cash_balance_transaction.created",
            "source.transaction.created",
            "customer.source.deleted",
            "customer.source.updated",
        ]
        updated = client.v1.events.list({"type": "customer.source.updated"}).data[0]
        assert updated.data.object.id == pid
        assert updated.data.object.metadata["team"] == "ar"
        assert updated.data.previous_attributes is not None
        assert "team" not in updated.data.previous_attributes["metadata"]
        assert updated.request is not None
        assert updated.request.id is not None
        assert updated.request.id.startswith("req_")
        deleted = client.v1.events.list({"type": "customer.source.deleted"}).data[0]
        assert deleted.data.object.status == "consumed"
        # Stripe's event envelope, field for field
        with open(FIXTURES) as f:
            envelope = set(json.load(f)["event"])
        assert envelope <= set(updated.to_dict())
        assert client.v1.events.retrieve(updated.id).id == updated.id
        gone = client.v1.customers.list({"limit": 100}).data
        assert other not in {c.id for c in gone}


def test_filters_cursors_and_refusals() -> None:
    with Sandbox(seed=3, customers=20) as box:
        client = make_client(box)
        _, pid = _receiver(box)
        box.deposit(pid, 700)
        for n in range(5):
            client.v1.sources.update(pid, {"metadata": {"n": str(n)}})
        assert _types(client, type="customer.source.*") == ["customer.source.updated"] * 5
        assert set(_types(client, types=["source.transaction.created"])) == {
            "source.transaction.created"
        }
        first = client.v1.events.list({"limit": 2})
        assert first.has_more and len(first.data) == 2
        rest = client.v1.events.list({"limit": 100, "starting_after": first.data[-1].id})
        ids = [e.id for e in first.data] + [e.id for e in rest.data]
        assert len(ids) == len(set(ids)) == len(_types(client))
        now = int(box.clock())
        assert _types(client, created={"gt": now + 60}) == []
        assert _types(client, delivery_success=False) == []  # no webhooks: none failed
        assert len(_types(client, delivery_success=True)) == len(ids)
        assert len(_types(client, created={"gte": now - 60})) == len(ids)
        status, _, body = send(box, "GET", "/v1/events?type=a.b&types[]=c.d")
        assert status == 400 and json.loads(body)["error"]["param"] == "types"
        many = "&".join(f"types[]=t{i}.x" for i in range(21))
        assert send(box, "GET", f"/v1/events?{many}")[0] == 400


def test_events_are_kept_30_days() -> None:
    with Sandbox(seed=3, customers=20) as box:
        client = make_client(box)
        _, pid = _receiver(box)
        client.v1.sources.update(pid, {"metadata": {"old": "1"}})
        old = client.v1.events.list().data[0].id
        box.advance_clock(29 * 86400)
        assert client.v1.events.retrieve(old).id == old
        client.v1.sources.update(pid, {"metadata": {"new": "1"}})
        box.advance_clock(2 * 86400)
        assert _types(client) == ["customer.source.updated"]  # the first one is gone
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.events.retrieve(old)


def test_events_of_one_second_list_in_reverse_order_of_occurrence() -> None:
    with Sandbox(seed=3, customers=20) as box:
        box.store().events.now = lambda: 1_800_000_000.0  # every event in the same second
        client = make_client(box)
        cid, pid = _receiver(box)
        pending = box.unattached_ids[0]
        client.v1.customers.payment_sources.create(cid, {"source": pending})
        box.deposit(pid, 100)
        client.v1.sources.update(pending, {"metadata": {"n": "1"}})
        client.v1.customers.payment_sources.delete(cid, pid)
        box.deposit(pid, 200)
        happened = [
            "customer.source.created",
            "source.transaction.created",
            "customer.source.updated",
            "customer.source.deleted",
            "source.transaction.created",
        ]
        wanted = ["customer.source.created", "customer.source.deleted", "customer.source.updated"]
        types = [*wanted, "source.transaction.created"]
        assert _types(client, types=types) == happened[::-1]
        assert _types(client, type="customer.source.*") == [
            t for t in happened[::-1] if t in wanted
        ]
        paged, after = [], None  # page by page: the same order, every event once
        while True:
            params: stripe.params.EventListParams = {"limit": 2, "types": types}
            if after:
                params["starting_after"] = after
            page = client.v1.events.list(params)
            paged += [e.type for e in page.data]
            if not page.has_more:
                break
            after = page.data[-1].id
        assert paged == happened[::-1]


def test_a_profile_without_source_update_events() -> None:
    with Sandbox(seed=3, customers=20, source_update_events=False) as box:
        client = make_client(box)
        cid, pid = _receiver(box)
        client.v1.sources.update(pid, {"metadata": {"team": "ar"}})
        client.v1.customers.payment_sources.create(cid, {"source": pid, "metadata": {"x": "1"}})
        assert {"team": "ar", "x": "1"}.items() <= box.get_source(pid)["metadata"].items()
        client.v1.customers.payment_sources.delete(cid, pid)
        assert _types(client) == ["customer.source.deleted"]  # attach and detach still recorded


def test_accounts_are_listed_and_a_revoked_one_refused() -> None:
    with Sandbox(seed=3, customers=20, revoked_accounts=["acct_1Revoked00"]) as box:
        client = make_client(box)
        accounts = client.v1.accounts.list({"limit": 100}).data
        listed = {a.id for a in accounts}
        assert listed == set(box.connected_accounts) | {"acct_1Revoked00"}
        created = [a.created for a in accounts if a.created is not None]
        assert len(created) == len(accounts)
        assert created == sorted(created, reverse=True)
        assert all(
            a.object == "account" and a.business_profile is not None and a.business_profile.name
            for a in accounts
        )
        with pytest.raises(stripe.PermissionError) as err:
            client.v1.customers.list(options={"stripe_account": "acct_1Revoked00"})
        body = err.value.json_body or {}
        assert isinstance(body, dict) and body["error"]["code"] == "account_invalid"
        first = min(box.connected_accounts)
        assert client.v1.accounts.list(options={"stripe_account": first}).data == []
        page = client.v1.accounts.list({"limit": 1})
        assert page.has_more and len(page.data) == 1
        newest = max(created)  # created filters, as Stripe's list does (once ignored here)
        assert client.v1.accounts.list({"created": {"gt": newest}}).data == []
        assert len(client.v1.accounts.list({"created": {"gte": newest}}).data) == 1
