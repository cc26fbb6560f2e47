"""Stripe's error codes where they cost users data: ids passed as parameters (cursors included)
are 400 ``resource_missing`` naming the parameter, an unknown URL is a 404 without a code, a
deleted customer still retrieves, a customer with a cash balance cannot be deleted, and
idempotency keys are checked for length and for a first request still in flight."""

from __future__ import annotations

import json
import threading
import time

import pytest
import stripe

from toolkit.sandbox import Sandbox

from .conftest import KEY, make_client, send


def _error(body: bytes) -> dict:
    return json.loads(body)["error"]


def test_a_cursor_detached_mid_listing_is_a_400_naming_starting_after(
    box: Sandbox, wclient: stripe.StripeClient
) -> None:
    ds = box.store()
    cid = next(c for c, items in ds.items.items() if sum(i in ds.sources for i in items) >= 3)
    page = wclient.v1.customers.payment_sources.list(cid, {"object": "source", "limit": 2})
    cursor = page.data[-1].id
    wclient.v1.customers.payment_sources.delete(cid, cursor)  # detached between two pages
    with pytest.raises(stripe.InvalidRequestError) as err:
        wclient.v1.customers.payment_sources.list(
            cid, {"object": "source", "limit": 2, "starting_after": cursor}
        )
    assert (err.value.http_status, err.value.code, err.value.param) == (
        400,
        "resource_missing",
        "starting_after",
    )
    assert err.value.user_message == f"No such source: '{cursor}'"
    assert wclient.v1.sources.retrieve(cursor).status == "consumed"  # it still exists, by id


def test_a_customer_deleted_under_a_cursor_and_an_unknown_ending_before(
    box: Sandbox, wclient: stripe.StripeClient
) -> None:
    cash = box.store().cash.available
    cursor = next(c for c in box.store().order if not cash.get(c))
    wclient.v1.customers.delete(cursor)
    for param in ("starting_after", "ending_before"):
        status, _, body = send(box, "GET", f"/v1/customers?limit=3&{param}={cursor}")
        error = _error(body)
        assert status == 400
        assert (error["code"], error["param"]) == ("resource_missing", param)
        assert error["message"] == f"No such customer: '{cursor}'"


def test_an_object_in_the_path_is_still_a_404_with_param_id(sandbox: Sandbox) -> None:
    status, _, body = send(sandbox, "GET", "/v1/customers/cus_nope/sources")
    error = _error(body)
    assert status == 404
    assert (error["code"], error["param"], error["message"]) == (
        "resource_missing",
        "id",
        "No such customer: 'cus_nope'",
    )


@pytest.mark.parametrize(
    ("method", "target", "hint"),
    [
        ("GET", "/v1/customers/cus_1/sourcez", False),
        ("GET", "/v1/customers/", True),
        ("PUT", "/v1/customers", False),
    ],
)
def test_an_unknown_url_is_a_404_without_a_code(
    sandbox: Sandbox, method: str, target: str, hint: bool
) -> None:
    status, _, body = send(sandbox, method, target)
    error = _error(body)
    assert status == 404
    assert "code" not in error and "param" not in error
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(f"Unrecognized request URL ({method}: {target}). ")
    assert error["message"].endswith(
        "Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
    )
    assert ("remove the trailing slash" in error["message"]) is hint


def test_a_deleted_customer_retrieves_as_deleted(
    box: Sandbox, wclient: stripe.StripeClient
) -> None:
    cash = box.store().cash.available
    cid = next(c for c in box.store().order if not cash.get(c))
    wclient.v1.customers.delete(cid)
    for target in (f"/v1/customers/{cid}", f"/v1/customers/{cid}?expand[]=sources"):
        status, _, body = send(box, "GET", target)
        assert status == 200
        assert json.loads(body) == {"id": cid, "object": "customer", "deleted": True}
    assert wclient.v1.customers.retrieve(cid).to_dict().get("deleted") is True
    for target in (f"/v1/customers/{cid}/sources", f"/v1/customers/{cid}/cash_balance"):
        status, _, body = send(box, "GET", target)
        assert status == 404 and _error(body)["message"] == f"No such customer: '{cid}'"
    status, _, _ = send(box, "DELETE", f"/v1/customers/{cid}")
    assert status == 404  # deleting it again


def test_a_customer_with_any_cash_balance_cannot_be_deleted(
    box: Sandbox, wclient: stripe.StripeClient
) -> None:
    ds = box.store()
    held = ds.cash.available
    zero = next(c for c in ds.order if held.get(c) and not any(held[c].values()))
    funded = next(c for c in ds.order if any(held.get(c, {}).values()))
    for cid in (zero, funded):
        items = list(ds.items.get(cid, ()))
        with pytest.raises(stripe.InvalidRequestError) as err:
            wclient.v1.customers.delete(cid)
        assert err.value.http_status == 400
        assert "cash balance" in err.value.user_message and cid in err.value.user_message
        assert "deleted" not in wclient.v1.customers.retrieve(cid).to_dict()  # untouched
        assert ds.items.get(cid, []) == items
    assert not wclient.v1.events.list({"type": "customer.deleted"}).data
    without = next(c for c in ds.order if not held.get(c))
    assert wclient.v1.customers.delete(without).deleted is True


@pytest.mark.parametrize(("length", "status"), [(255, 200), (256, 400), (0, 400)])
def test_idempotency_keys_are_1_to_255_characters(box: Sandbox, length: int, status: int) -> None:
    key = "k" * length
    got, headers, body = send(box, "POST", "/v1/sources", "type=card", {"Idempotency-Key": key})
    assert got == status
    if status == 400:
        error = _error(body)
        assert error["type"] == "idempotency_error"
        assert error["message"].startswith(
            f"Idempotent key length is {length} characters long, which is outside accepted "
            "lengths. Idempotent Keys must be 1-255 characters long."
        )
        assert headers["stripe-should-retry"] == "false"
        assert len(box.store().idempotency) == 0
    else:
        assert box.store().idempotency_count() == 1


def _wait_in_flight(box: Sandbox, key: str) -> None:
    """Until the sandbox holds ``key`` for a running request (a fixed sleep races a busy machine)."""
    deadline = time.monotonic() + 10
    while not box.store().idempotency.in_flight(key):
        assert time.monotonic() < deadline, f"no request took {key} in 10 s"
        time.sleep(0.005)


def test_a_key_still_in_flight_answers_409_then_replays(box: Sandbox) -> None:
    sid = box.unattached_ids[0]
    box.set_faults(latency=1.5, fault_method="POST")
    body, key = "metadata[slow]=1", {"Idempotency-Key": "slow-1"}
    first: list[tuple[int, dict[str, str], bytes]] = []
    thread = threading.Thread(
        target=lambda: first.append(send(box, "POST", f"/v1/sources/{sid}", body, key))
    )
    thread.start()
    _wait_in_flight(box, "slow-1")
    for params in (body, "metadata[slow]=2"):  # whatever its parameters
        status, headers, payload = send(box, "POST", f"/v1/sources/{sid}", params, key)
        error = _error(payload)
        assert status == 409
        assert error["code"] == "idempotency_key_in_use"
        assert error["type"] == "invalid_request_error"
        assert error["message"].startswith(
            "There is currently another in-progress request using this Idempotent Key"
        )
        assert "slow-1" in error["message"]
        assert headers["stripe-should-retry"] == "true"
    thread.join(10)
    box.faults_off()
    assert first[0][0] == 200
    status, headers, payload = send(box, "POST", f"/v1/sources/{sid}", body, key)
    assert status == 200 and headers["idempotent-replayed"] == "true"
    assert json.loads(payload) == json.loads(first[0][2])
    assert box.get_source(sid)["metadata"]["slow"] == "1"


def test_the_sdk_sees_a_409_as_retryable(box: Sandbox) -> None:
    """stripe-python honours ``Stripe-Should-Retry: true``: with its own retries on, a 409 for a
    key in flight is retried until the first answer is saved, then replayed."""
    sid = box.unattached_ids[0]
    box.set_faults(latency=1.5, fault_method="POST")
    opts: stripe.RequestOptions = {"idempotency_key": "sdk-409"}
    thread = threading.Thread(
        target=lambda: make_client(box).v1.sources.update(sid, {"metadata": {"a": "1"}}, opts)
    )
    thread.start()
    _wait_in_flight(box, "sdk-409")
    retrying = stripe.StripeClient(KEY, base_addresses={"api": box.url}, max_network_retries=4)
    answer = retrying.v1.sources.update(sid, {"metadata": {"a": "1"}}, opts)
    thread.join(10)
    statuses = [e.status for e in box.requests if e.idempotency_key == "sdk-409"]
    assert answer.metadata is not None
    assert answer.metadata["a"] == "1"
    assert 409 in statuses and statuses[-1] == 200 and box.requests[-1].replayed
