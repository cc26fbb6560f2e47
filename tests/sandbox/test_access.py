"""Keys, modes and accounts: 401 shapes, test/live separation, Stripe-Account data sets,
Request-Id everywhere, unknown URLs."""

from __future__ import annotations

import base64
import json

import pytest
import stripe

from toolkit.sandbox import Sandbox

from .conftest import KEY, LIVE_KEY, make_client, raw, send


def test_missing_and_malformed_keys(sandbox: Sandbox) -> None:
    status, headers, body = send(sandbox, "GET", "/v1/customers", key=None)
    assert status == 401
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert "You did not provide an API key" in error["message"]
    assert headers["request-id"].startswith("req_")
    # a publishable key may only retrieve a source (with its client_secret)
    status, _, body = send(sandbox, "GET", "/v1/customers", key="pk_test_abc")
    assert status == 401
    assert "cannot be made with a publishable API key" in json.loads(body)["error"]["message"]
    for bad in ("pk_tset_abc", "sk_test_", "sk_prod_abc", "sk_test_abc!def", "whatever"):
        status, _, body = send(sandbox, "GET", "/v1/customers", key=bad)
        assert status == 401, bad
        message = json.loads(body)["error"]["message"]
        assert message.startswith("Invalid API Key provided")
        assert bad not in message or len(bad) <= 4  # the key is masked
    with pytest.raises(stripe.AuthenticationError) as err:
        make_client(sandbox, "sk_nope").v1.customers.list()
    assert err.value.http_status == 401


def test_key_shapes_and_basic_auth(sandbox: Sandbox) -> None:
    for key in ("sk_test_a1", "rk_test_B2", "sk_live_c3", "rk_live_D4"):
        status, _, _ = send(sandbox, "GET", "/v1/customers?limit=1", key=key)
        assert status == 200, key
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    status, _, _ = send(
        sandbox,
        "GET",
        "/v1/customers?limit=1",
        key=None,
        headers={"Authorization": f"Basic {basic}"},
    )
    assert status == 200


def test_a_sandbox_with_one_key() -> None:
    with Sandbox(customers=5, api_key="sk_test_only") as box:
        assert send(box, "GET", "/v1/customers", key="sk_test_only")[0] == 200
        assert send(box, "GET", "/v1/customers", key="sk_test_other")[0] == 401


def test_live_and_test_are_separate(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    live = make_client(sandbox, LIVE_KEY)
    test_page = raw(client, "get", "/v1/customers", limit=100)
    live_page = raw(live, "get", "/v1/customers", limit=100)
    assert not {c["id"] for c in test_page["data"]} & {c["id"] for c in live_page["data"]}
    assert all(c["livemode"] for c in live_page["data"])
    assert not any(c["livemode"] for c in test_page["data"])
    test_sid = sandbox.planted["stale_pending"][0]
    with pytest.raises(stripe.InvalidRequestError) as err:
        live.v1.sources.retrieve(test_sid)
    assert err.value.http_status == 404
    live_planted = sandbox.store(livemode=True).planted["stale_pending"][0]
    assert live.v1.sources.retrieve(live_planted).livemode is True
    assert len(sandbox.store(livemode=True).customers) < len(sandbox.store().customers)


def test_connected_accounts(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    demo, other_id = sorted(sandbox.connected_accounts)[:2]
    acct = raw(client, "get", "/v1/customers", limit=100, stripe_account=demo)
    again = raw(client, "get", "/v1/customers", limit=100, stripe_account=demo)
    other = raw(client, "get", "/v1/customers", limit=100, stripe_account=other_id)
    platform = raw(client, "get", "/v1/customers", limit=100)
    ids = [c["id"] for c in acct["data"]]
    assert ids == [c["id"] for c in again["data"]]
    assert not set(ids) & {c["id"] for c in other["data"]}
    assert not set(ids) & {c["id"] for c in platform["data"]}
    assert len(sandbox.store(demo).customers) == 30
    with Sandbox(seed=7, customers=300) as twin:
        assert twin.connected_accounts == sandbox.connected_accounts
        twin_client = make_client(twin)
        twin_ids = raw(twin_client, "get", "/v1/customers", limit=100, stripe_account=demo)
        assert [c["id"] for c in twin_ids["data"]] == ids
    status, _, body = send(sandbox, "GET", "/v1/customers", headers={"Stripe-Account": "nope"})
    assert status == 403
    assert json.loads(body)["error"]["code"] == "account_invalid"
    entry = next(e for e in reversed(sandbox.requests) if e.account == other_id)
    assert entry.livemode is False


def test_request_id_on_every_response(sandbox: Sandbox) -> None:
    seen = set()
    for method, target, key in (
        ("GET", "/v1/customers?limit=1", KEY),
        ("GET", "/v1/sources/src_missing", KEY),
        ("GET", "/v1/customers", None),
        ("GET", "/v1/unknown", KEY),
        ("PUT", "/v1/customers", KEY),
    ):
        _, headers, _ = send(sandbox, method, target, key=key)
        seen.add(headers["request-id"])
        assert headers["content-type"] == "application/json"
    assert len(seen) == 5


def test_unrecognized_urls(sandbox: Sandbox) -> None:
    for method, target in (
        ("GET", "/v1/disputes"),  # served since issue 26: /v1/charges
        ("POST", "/v1/charges"),
        ("PUT", "/v1/customers"),
        ("DELETE", "/v1/sources/src_1"),
    ):
        status, _, body = send(sandbox, method, target)
        assert status == 404
        error = json.loads(body)["error"]
        assert error["message"].startswith(f"Unrecognized request URL ({method}: ")
        assert error["type"] == "invalid_request_error"


def test_sdk_error_objects(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.sources.retrieve("src_x")
    e = err.value
    assert (e.http_status, e.code, e.param) == (404, "resource_missing", "id")
    assert e.user_message == "No such source: 'src_x'"
    assert e.request_id and e.request_id.startswith("req_")
    assert e.error is not None
    assert e.error.doc_url == "https://stripe.com/docs/error-codes/resource-missing"
    assert e.error.request_log_url is not None
    assert e.error.request_log_url.endswith(e.request_id)
