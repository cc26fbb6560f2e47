"""Where the sandbox used to be kinder than Stripe: empty strings, test-clock customers, accounts
the key cannot reach, restricted keys."""

from __future__ import annotations

import json

import pytest
import stripe

from tests.sandbox.conftest import KEY, LIVE_KEY, make_client, raw, send
from toolkit.sandbox import Sandbox


@pytest.fixture()
def box():
    with Sandbox(seed=3, customers=120) as sandbox:
        yield sandbox


@pytest.mark.parametrize(
    "body, param",
    [
        ("owner[name]=", "owner[name]"),
        ("owner[email]=", "owner[email]"),
        ("owner[address][city]=", "owner[address][city]"),
        ("owner=", "owner"),
    ],
)
def test_empty_owner_field_is_refused_as_stripe_does(box: Sandbox, body: str, param: str) -> None:
    sid = next(iter(box.store().sources))
    before = box.get_source(sid)
    status, _, reply = send(box, "POST", f"/v1/sources/{sid}", body)
    error = json.loads(reply)["error"]
    assert status == 400
    assert error["code"] == "parameter_invalid_empty"
    assert error["param"] == param
    assert error["message"].startswith(f"You passed an empty string for '{param}'.")
    assert box.get_source(sid) == before


def test_metadata_may_still_be_unset(box: Sandbox) -> None:
    sid = next(iter(box.store().sources))
    assert send(box, "POST", f"/v1/sources/{sid}", "metadata[k]=v")[0] == 200
    assert send(box, "POST", f"/v1/sources/{sid}", "metadata[k]=")[0] == 200
    assert "k" not in box.get_source(sid)["metadata"]


def test_test_clock_customers_listed_only_when_asked_for(box: Sandbox) -> None:
    client = make_client(box)
    ds = box.store()
    clocked = {cid for cid, c in ds.customers.items() if c["test_clock"]}
    assert len(ds.test_clocks) == 2 and len(clocked) == 6
    listed = set()
    for customer in client.v1.customers.list(params={"limit": 100}).auto_paging_iter():
        listed.add(customer.id)
    assert not listed & clocked and len(listed) == len(ds.customers) - 6
    clocks = raw(client, "get", "/v1/test_helpers/test_clocks", limit=100)
    assert {c["id"] for c in clocks["data"]} == set(ds.test_clocks)
    assert clocks["data"][0]["object"] == "test_helpers.test_clock"
    found = set()
    for clock in clocks["data"]:
        page = raw(client, "get", "/v1/customers", limit=100, test_clock=clock["id"])
        assert all(c["test_clock"] == clock["id"] for c in page["data"])
        found |= {c["id"] for c in page["data"]}
    assert found == clocked
    status, _, body = send(box, "GET", "/v1/customers?test_clock=clock_nope")
    error = json.loads(body)["error"]
    assert status == 400 and "clock_nope" in error["message"]
    assert (error["code"], error["param"]) == ("resource_missing", "test_clock")


def test_no_test_clocks_in_live_mode(box: Sandbox) -> None:
    status, _, body = send(box, "GET", "/v1/test_helpers/test_clocks", key=LIVE_KEY)
    assert status == 400
    assert "test mode" in json.loads(body)["error"]["message"]
    assert not box.store(livemode=True).test_clocks


def test_account_the_key_cannot_reach(box: Sandbox) -> None:
    client = make_client(box)
    with pytest.raises(stripe.PermissionError) as err:
        client.v1.customers.list(options={"stripe_account": "acct_1NotConnected"})
    assert err.value.http_status == 403
    body = err.value.json_body
    assert isinstance(body, dict) and body["error"]["code"] == "account_invalid"
    assert "acct_1NotConnected" in str(err.value.user_message)
    assert KEY not in str(err.value.user_message)  # the key is masked
    reached = min(box.connected_accounts)
    assert client.v1.customers.list(options={"stripe_account": reached}).data


def test_connected_accounts_are_configurable() -> None:
    with Sandbox(seed=3, customers=20, connected_accounts=["acct_1Mine"]) as box:
        assert box.connected_accounts == frozenset({"acct_1Mine"})
        status = send(box, "GET", "/v1/customers", headers={"Stripe-Account": "acct_1Mine"})[0]
    assert status == 200


def test_restricted_key_needs_the_permission() -> None:
    reader = "rk_test_" + "r" * 24
    grants = {reader: {"customers": "read", "sources": "read"}}
    with Sandbox(seed=3, customers=20, restricted_keys=grants, api_key=KEY) as box:
        client = make_client(box, reader)
        sid = next(iter(box.store().sources))
        assert client.v1.sources.retrieve(sid).id == sid
        assert client.v1.customers.list().data
        with pytest.raises(stripe.PermissionError) as err:
            client.v1.sources.update(sid, params={"metadata": {"a": "1"}})
        status = send(box, "GET", "/v1/test_helpers/test_clocks", key=reader)[0]
    assert err.value.http_status == 403
    assert "'rak_source_write' permission" in str(err.value.user_message)
    assert "rk_test_****" in str(err.value.user_message)
    assert status == 403
