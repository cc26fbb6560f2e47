"""Writes with Stripe's rules: metadata merge/unset/clear and limits, owner, amount, detach to
consumed, attach refusals, create; caches never serve stale bytes after a write."""

from __future__ import annotations

import pytest
import stripe

from toolkit.sandbox import SANDBOX_NOW, Sandbox

from .conftest import raw


def _attached_source(box: Sandbox, status: str = "chargeable") -> tuple[str, str]:
    ds = box.store()
    for cid, items in ds.items.items():
        for pid in items:
            src = ds.sources.get(pid)
            if (
                src
                and src["status"] == status
                and not any(pid in ids for ids in box.planted.values())
            ):
                return cid, pid
    raise AssertionError(f"no attached {status} source")


def test_metadata_merge_unset_and_clear(box: Sandbox, wclient: stripe.StripeClient) -> None:
    _, sid = _attached_source(box)
    wclient.v1.sources.update(sid, params={"metadata": ""})
    src = wclient.v1.sources.update(sid, params={"metadata": {"a": "1", "b": "2", "c": "café"}})
    assert src.metadata is not None
    assert src.metadata.to_dict() == {"a": "1", "b": "2", "c": "café"}
    src = wclient.v1.sources.update(sid, params={"metadata": {"a": "", "d": "4"}})
    assert src.metadata is not None
    assert src.metadata.to_dict() == {"b": "2", "c": "café", "d": "4"}
    again = wclient.v1.sources.retrieve(sid).metadata
    assert again is not None and again.to_dict() == src.metadata.to_dict()
    src = wclient.v1.sources.update(sid, params={"metadata": ""})
    assert src.metadata is not None and src.metadata.to_dict() == {}


@pytest.mark.parametrize(
    ("metadata", "param", "fragment"),
    [
        ({"k" * 41: "v"}, "metadata[" + "k" * 41 + "]", "40 characters"),
        ({"v": "x" * 501}, "metadata[v]", "500 characters"),
        ({"a[b": "v"}, "metadata[a[b]", "'[' or ']'"),
        ({"a]b": "v"}, "metadata[a]b]", "'[' or ']'"),
        ({f"k{i}": "v" for i in range(51)}, "metadata", "at most 50 keys"),
    ],
)
def test_metadata_limits(
    box: Sandbox, wclient: stripe.StripeClient, metadata: dict, param: str, fragment: str
) -> None:
    _, sid = _attached_source(box)
    before = box.get_source(sid)["metadata"]
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.sources.update(sid, params={"metadata": metadata})
    assert err.value.http_status == 400
    assert err.value.error is not None
    assert err.value.error.type == "invalid_request_error"
    assert err.value.param == param
    assert fragment in err.value.user_message
    assert box.get_source(sid)["metadata"] == before


def test_fifty_keys_counts_what_remains(box: Sandbox, wclient: stripe.StripeClient) -> None:
    _, sid = _attached_source(box)
    wclient.v1.sources.update(sid, params={"metadata": ""})
    wclient.v1.sources.update(sid, params={"metadata": {f"k{i}": "v" for i in range(50)}})
    with pytest.raises(stripe.InvalidRequestError):
        wclient.v1.sources.update(sid, params={"metadata": {"one_more": "v"}})
    swap = wclient.v1.sources.update(sid, params={"metadata": {"k0": "", "one_more": "v"}})
    assert swap.metadata is not None
    assert len(swap.metadata.to_dict()) == 50


def test_owner_amount_and_unknown_params(box: Sandbox, wclient: stripe.StripeClient) -> None:
    _, sid = _attached_source(box)
    src = wclient.v1.sources.update(
        sid, params={"owner": {"email": "new@example.com", "address": {"city": "Lyon"}}}
    )
    assert src.owner is not None
    assert src.owner.email == "new@example.com"
    assert src.owner.address is not None
    assert src.owner.address.city == "Lyon"
    src = wclient.v1.sources.update(sid, params={"owner": {"address": {"line1": "1 Rue"}}})
    # Stripe replaces the address hash whole: the city not sent again is null
    assert src.owner is not None
    assert src.owner.address is not None
    assert (src.owner.address.city, src.owner.address.line1) == (None, "1 Rue")
    assert src.owner.email == "new@example.com"  # owner fields not sent are kept
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.raw_request("post", f"/v1/sources/{sid}", owner={"nickname": "x"})
    assert err.value.user_message == "Received unknown parameter: owner[nickname]"
    assert err.value.param == "owner[nickname]"
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.raw_request("post", f"/v1/sources/{sid}", colour="blue")
    assert err.value.user_message == "Received unknown parameter: colour"
    receiver = box.planted["negative_reversal"][0]
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.sources.update(receiver, params={"amount": 100})
    assert err.value.param == "amount"
    single = next(
        s for s in box.store().sources.values() if s["usage"] == "single_use" and s["amount"]
    )
    assert wclient.v1.sources.update(single["id"], params={"amount": 4321}).amount == 4321
    debit = next(
        s
        for s in box.store().sources.values()
        if s["type"] == "sepa_debit" and s["status"] == "chargeable"
    )
    mandate = wclient.v1.sources.update(
        debit["id"], params={"mandate": {"notification_method": "email"}}
    )
    assert mandate.id == debit["id"]


def test_writes_show_in_expanded_lists(box: Sandbox, wclient: stripe.StripeClient) -> None:
    ds = box.store()
    cid = ds.order[0] if ds.items[ds.order[0]] else next(c for c in ds.order if ds.items[c])
    first = ds.items[cid][0]
    raw(wclient, "get", "/v1/customers", limit=5, expand=["data.sources"])  # warm the caches
    if first in ds.sources:
        wclient.v1.sources.update(first, params={"metadata": {"fresh": "yes"}})
    page = raw(wclient, "get", "/v1/customers", limit=100, expand=["data.sources"])
    cus = next(c for c in page["data"] if c["id"] == cid)
    if first in ds.sources:
        assert cus["sources"]["data"][0]["metadata"]["fresh"] == "yes"
    wclient.v1.customers.payment_sources.delete(cid, first)
    page = raw(wclient, "get", "/v1/customers", limit=100, expand=["data.sources"])
    cus = next(c for c in page["data"] if c["id"] == cid)
    assert first not in [s["id"] for s in cus["sources"]["data"]]
    assert cus["default_source"] != first


def test_detach_makes_consumed_and_unlisted(box: Sandbox, wclient: stripe.StripeClient) -> None:
    cid, sid = _attached_source(box)
    src = wclient.v1.customers.payment_sources.delete(cid, sid)
    assert isinstance(src, stripe.Source)
    assert (src.id, src.object, src.status) == (sid, "source", "consumed")
    listed = [
        s.id
        for s in wclient.v1.customers.payment_sources.list(
            cid, params={"limit": 100}
        ).auto_paging_iter()
    ]
    assert sid not in listed
    again = wclient.v1.sources.retrieve(sid)
    assert again.status == "consumed"
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.customers.payment_sources.delete(cid, sid)
    assert err.value.http_status == 404
    assert err.value.user_message == f"No such source: '{sid}'"
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.customers.payment_sources.create(cid, params={"source": sid})
    assert err.value.http_status == 400
    assert "consumed" in err.value.user_message


def test_detach_errors_and_cards(box: Sandbox, wclient: stripe.StripeClient) -> None:
    ds = box.store()
    cid, sid = _attached_source(box)
    other = next(c for c in ds.order if c != cid)
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.customers.payment_sources.delete(other, sid)
    assert err.value.http_status == 404
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.customers.payment_sources.delete("cus_missing", sid)
    assert err.value.user_message == "No such customer: 'cus_missing'"
    card_owner, card = next((c, i) for c, items in ds.items.items() for i in items if i in ds.cards)
    gone = wclient.v1.customers.payment_sources.delete(card_owner, card)
    assert isinstance(gone, stripe.Card) and gone.deleted is True
    assert card not in ds.items[card_owner]


def test_attach_rules(box: Sandbox, wclient: stripe.StripeClient) -> None:
    ds = box.store()
    cid = ds.order[3]
    new = wclient.v1.sources.create(params={"type": "ach_credit_transfer", "currency": "usd"})
    assert new.receiver is not None
    assert (new.status, new.flow, new.receiver.amount_received) == ("pending", "receiver", 0)
    assert new.created > SANDBOX_NOW
    assert not hasattr(new, "customer") or new.get("customer") is None  # type: ignore[attr-defined]
    attached = wclient.v1.customers.payment_sources.create(
        cid, params={"source": new.id, "metadata": {"via": "attach"}}
    )
    assert isinstance(attached, stripe.Source) and attached.customer == cid
    assert attached.metadata is not None
    assert attached.metadata.to_dict() == {"via": "attach"}
    first = wclient.v1.customers.payment_sources.list(cid, params={"limit": 1}).data[0]
    assert first.id == new.id
    same = wclient.v1.customers.payment_sources.create(cid, params={"source": new.id})
    assert same.id == new.id
    other = ds.order[4]
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.customers.payment_sources.create(other, params={"source": new.id})
    assert "another customer" in err.value.user_message
    assert err.value.param == "source"
    for status in ("canceled", "failed"):
        bad = next(s for s in ds.sources.values() if s["status"] == status)
        with pytest.raises(stripe.InvalidRequestError) as err:
            wclient.v1.customers.payment_sources.create(other, params={"source": bad["id"]})
        assert status in err.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.customers.payment_sources.create(other, params={"source": "src_missing"})
    # an id passed as a parameter that Stripe does not know: 400 resource_missing, not 404
    assert (err.value.http_status, err.value.code, err.value.param) == (
        400,
        "resource_missing",
        "source",
    )
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.raw_request("post", f"/v1/customers/{other}/sources")
    assert err.value.user_message == "Missing required param: source."
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.customers.payment_sources.create("cus_missing", params={"source": new.id})
    assert err.value.http_status == 404
    unattached = box.unattached_ids[0]
    wclient.v1.customers.payment_sources.create(other, params={"source": unattached})
    assert box.get_source(unattached)["customer"] == other


def test_create_validation(wclient: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.sources.create(params={})
    assert err.value.param == "type"
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.sources.create(params={"type": "three_d_secure", "currency": "eur"})
    assert err.value.param == "redirect[return_url]"
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.sources.create(params={"type": "teleport"})
    assert err.value.param == "type"
    card = wclient.v1.sources.create(params={"type": "card", "metadata": {"k": "v"}})
    assert card.metadata is not None
    assert (card.status, card.usage, card.metadata.k) == ("chargeable", "reusable", "v")
    assert card.client_secret.startswith("src_client_secret_")
    assert len(card.client_secret) == len("src_client_secret_") + 24
