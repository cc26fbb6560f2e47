"""Lists like Stripe's: limits, cursors both ways, has_more, filters, embedded 10 + continuation."""

from __future__ import annotations

import json

import pytest
import stripe

from toolkit.sandbox import Sandbox

from .conftest import raw, send


def _walk_forward(client: stripe.StripeClient, limit: int) -> list[dict]:
    out, after = [], None
    while True:
        params: dict = {"limit": limit}
        if after:
            params["starting_after"] = after
        page = raw(client, "get", "/v1/customers", **params)
        assert len(page["data"]) <= limit
        out.extend(page["data"])
        if not page["has_more"]:
            return out
        assert len(page["data"]) == limit
        after = page["data"][-1]["id"]


def test_customers_page_forward_newest_first(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    customers = _walk_forward(client, 100)
    ids = [c["id"] for c in customers]
    assert ids == sandbox.store().order
    assert len(set(ids)) == 300
    created = [c["created"] for c in customers]
    assert created == sorted(created, reverse=True)
    assert "sources" not in customers[0]


def test_customers_page_backward_with_ending_before(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    order = sandbox.store().order
    before, collected = order[-1], list[str]()
    while True:
        page = raw(client, "get", "/v1/customers", limit=37, ending_before=before)
        ids = [c["id"] for c in page["data"]]
        assert ids == sorted(ids, key=order.index)  # still newest first inside a page
        collected = ids + collected
        if not page["has_more"]:
            break
        before = ids[0]
    assert collected == order[:-1]


def test_limits(client: stripe.StripeClient) -> None:
    assert len(raw(client, "get", "/v1/customers")["data"]) == 10
    assert len(raw(client, "get", "/v1/customers", limit=1)["data"]) == 1
    assert len(raw(client, "get", "/v1/customers", limit=100)["data"]) == 100
    for bad in (0, 101, -1):
        with pytest.raises(stripe.InvalidRequestError) as err:
            client.v1.customers.list(params={"limit": bad})
        assert err.value.http_status == 400
        assert err.value.param == "limit"
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.raw_request("get", "/v1/customers", limit="abc")
    assert err.value.user_message == "Invalid integer: abc"
    assert err.value.code == "parameter_invalid_integer"


def test_cursor_errors(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.list(params={"starting_after": "cus_missing"})
    assert err.value.http_status == 400  # an id passed as a parameter: 400, not 404
    assert err.value.code == "resource_missing"
    assert err.value.param == "starting_after"
    assert err.value.user_message == "No such customer: 'cus_missing'"
    first = raw(client, "get", "/v1/customers", limit=1)["data"][0]["id"]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.list(params={"starting_after": first, "ending_before": first})
    assert err.value.http_status == 400


def test_created_filters(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    listed = sandbox.store().customers.items()  # those on a test clock are listed apart
    customers = {cid: c for cid, c in listed if c.get("test_clock") is None}
    times = sorted(c["created"] for c in customers.values())
    lo, hi = times[50], times[200]
    got = []
    after = None
    while True:
        params: dict = {"limit": 100, "created": {"gte": lo, "lt": hi}}
        if after:
            params["starting_after"] = after
        page = raw(client, "get", "/v1/customers", **params)
        got += page["data"]
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    expected = {c["id"] for c in customers.values() if lo <= c["created"] < hi}
    assert {c["id"] for c in got} == expected
    gt = raw(client, "get", "/v1/customers", limit=100, created={"gt": times[-5]})["data"]
    assert len(gt) == 4
    lte = raw(client, "get", "/v1/customers", limit=100, created={"lte": times[2]})["data"]
    assert len(lte) == 3
    exact = raw(client, "get", "/v1/customers", created=times[7])["data"]
    assert [c["created"] for c in exact] == [times[7]]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.raw_request("get", "/v1/customers", created={"after": 1})
    assert err.value.user_message == "Received unknown parameter: created[after]"


def test_email_filter(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    by_email: dict[str, list[str]] = {}
    for cid in sandbox.store().order:
        email = sandbox.store().customers[cid]["email"]
        by_email.setdefault(email, []).append(cid)
    shared = max((e for e in by_email if e), key=lambda e: len(by_email[e]))
    assert len(by_email[shared]) > 2
    page = raw(client, "get", "/v1/customers", email=shared, limit=2)
    assert [c["id"] for c in page["data"]] == by_email[shared][:2]
    assert page["has_more"]
    rest = raw(client, "get", "/v1/customers", email=shared, starting_after=page["data"][-1]["id"])
    assert [c["id"] for c in rest["data"]] == by_email[shared][2:]
    assert raw(client, "get", "/v1/customers", email="nobody@example.com")["data"] == []


def test_expanded_sources_embed_ten_then_continue(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ds = sandbox.store()
    page = raw(client, "get", "/v1/customers", limit=100, expand=["data.sources"])
    over_ten = 0
    for cus in page["data"]:
        items = ds.items[cus["id"]]
        embedded = cus["sources"]
        assert embedded["object"] == "list"
        assert [s["id"] for s in embedded["data"]] == items[:10]
        assert embedded["has_more"] == (len(items) > 10)
        if len(items) > 10:
            over_ten += 1
            rest, after = [], embedded["data"][-1]["id"]
            while after:
                more = client.v1.customers.payment_sources.list(
                    cus["id"], params={"limit": 100, "starting_after": after}
                )
                rest += [s.id for s in more.data]
                after = more.data[-1].id if more.has_more else None
            assert [s["id"] for s in embedded["data"]] + rest == items
    assert over_ten >= 3
    big = next(c for c, items in ds.items.items() if len(items) > 100)
    sources = [
        s.id
        for s in client.v1.customers.payment_sources.list(
            big, params={"limit": 100, "object": "source"}
        ).auto_paging_iter()
    ]
    assert sources == [i for i in ds.items[big] if i in ds.sources]
    assert len(sources) > 80


def test_object_filter_and_mixed_objects(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    ds = sandbox.store()
    cid = max(ds.items, key=lambda c: sum(1 for i in ds.items[c] if i in ds.cards))
    for kind in ("source", "card", "bank_account"):
        got = [
            o.object
            for o in client.v1.customers.payment_sources.list(
                cid, params={"object": kind, "limit": 100}
            ).auto_paging_iter()
        ]
        expected = [ds.payment_source(i)["object"] for i in ds.items[cid]]
        assert got == [k for k in expected if k == kind]
    everything = raw(client, "get", f"/v1/customers/{cid}/sources", limit=100)
    assert {o["object"] for o in everything["data"]} >= {"source", "card"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.payment_sources.list(cid, params={"object": "planet"})


def test_customer_sources_cursors_both_ways(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    ds = sandbox.store()
    cid = next(c for c, items in ds.items.items() if 20 <= len(items) <= 60)
    items = ds.items[cid]
    page = raw(client, "get", f"/v1/customers/{cid}/sources", limit=5, starting_after=items[4])
    assert [o["id"] for o in page["data"]] == items[5:10]
    assert page["has_more"]
    back = raw(client, "get", f"/v1/customers/{cid}/sources", limit=3, ending_before=items[5])
    assert [o["id"] for o in back["data"]] == items[2:5]
    assert back["has_more"]
    top = raw(client, "get", f"/v1/customers/{cid}/sources", limit=10, ending_before=items[2])
    assert [o["id"] for o in top["data"]] == items[:2]
    assert not top["has_more"]
    tail = raw(client, "get", f"/v1/customers/{cid}/sources", limit=100, starting_after=items[-2])
    assert [o["id"] for o in tail["data"]] == items[-1:]
    assert not tail["has_more"]


def test_source_transactions_paging(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    ds = sandbox.store()
    sid = next(s for s, txns in ds.transactions.items() if len(txns) >= 3)
    ids = [t["id"] for t in ds.transactions[sid]]
    walked, after = [], None
    while True:
        params: stripe.params.SourceTransactionListParams = {"limit": 1}
        if after:
            params["starting_after"] = after
        page = client.v1.sources.transactions.list(sid, params=params)
        walked += [t.id for t in page.data]
        if not page.has_more:
            break
        after = page.data[-1].id
    assert walked == ids
    back = client.v1.sources.transactions.list(sid, params={"ending_before": ids[-1], "limit": 1})
    assert [t.id for t in back.data] == ids[-2:-1]
    created = [t["created"] for t in ds.transactions[sid]]
    assert created == sorted(created, reverse=True)
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.sources.transactions.list("src_missing")
    assert err.value.http_status == 404


def test_sdk_auto_paging_reaches_every_customer(client: stripe.StripeClient) -> None:
    ids = [c.id for c in client.v1.customers.list(params={"limit": 100}).auto_paging_iter()]
    assert len(ids) == len(set(ids)) == 300


def test_expand_wire_forms(sandbox: Sandbox) -> None:
    for target in (
        "/v1/customers?limit=2&expand[]=data.sources",
        "/v1/customers?limit=2&expand[0]=data.sources",
        "/v1/customers?limit=2&expand%5B0%5D=data.sources",
    ):
        status, _, body = send(sandbox, "GET", target)
        assert status == 200
        assert all("sources" in c for c in json.loads(body)["data"])
    status, _, body = send(sandbox, "GET", "/v1/customers?expand[][0]=data.sources")
    assert status == 400
    assert json.loads(body)["error"]["param"] == "expand"
    status, _, body = send(sandbox, "GET", "/v1/customers?expand[]=data.charges")
    assert status == 400
    assert "cannot be expanded" in json.loads(body)["error"]["message"]


def test_retrieve_customer_and_payment_source(
    sandbox: Sandbox, client: stripe.StripeClient
) -> None:
    ds = sandbox.store()
    cid = next(c for c, items in ds.items.items() if len(items) > 10)
    cus = client.v1.customers.retrieve(cid, params={"expand": ["sources"]})
    assert cus.sources is not None
    assert [s.id for s in cus.sources.data] == ds.items[cid][:10]
    assert cus.sources.has_more
    assert cus.default_source == ds.items[cid][0]
    one = client.v1.customers.payment_sources.retrieve(cid, ds.items[cid][3])
    assert one.id == ds.items[cid][3]
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.customers.retrieve("cus_missing")
    assert err.value.http_status == 404
    assert err.value.user_message == "No such customer: 'cus_missing'"
