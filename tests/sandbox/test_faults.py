"""Injected faults (latency, 429, 500, drops), their method/path scope, and the request log."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator

import pytest
import stripe

from toolkit.sandbox import RequestLogEntry, Sandbox

from .conftest import KEY, make_client, send


@pytest.fixture
def tiny() -> Iterator[Sandbox]:
    with Sandbox(seed=5, customers=8) as box:
        yield box


def _sid(box: Sandbox) -> str:
    return box.planted["negative_reversal"][0]


def test_latency_and_jitter(tiny: Sandbox) -> None:
    client = make_client(tiny)
    tiny.set_faults(latency=0.15, jitter=0.1)
    start = time.perf_counter()
    client.v1.sources.retrieve(_sid(tiny))
    elapsed = time.perf_counter() - start
    assert 0.15 <= elapsed < 0.6
    tiny.faults_off()
    start = time.perf_counter()
    client.v1.sources.retrieve(_sid(tiny))
    assert time.perf_counter() - start < 0.1


def test_rate_limit_answers_429_with_stripes_body(tiny: Sandbox) -> None:
    tiny.set_faults(rate_limit=5)
    statuses, bodies = [], []
    for _ in range(15):
        status, headers, body = send(tiny, "GET", f"/v1/sources/{_sid(tiny)}")
        statuses.append(status)
        if status == 429:
            bodies.append(json.loads(body))
            assert headers["request-id"].startswith("req_")
    assert statuses[:5] == [200] * 5
    assert statuses.count(429) >= 8
    assert bodies[0]["error"]["type"] == "invalid_request_error"
    assert bodies[0]["error"]["code"] == "rate_limit"
    with pytest.raises(stripe.RateLimitError):
        for _ in range(10):
            make_client(tiny).v1.sources.retrieve(_sid(tiny))
    time.sleep(0.45)  # the bucket refills at 5 tokens/s
    assert send(tiny, "GET", f"/v1/sources/{_sid(tiny)}")[0] == 200
    assert any(e.fault == "rate_limit" and e.status == 429 for e in tiny.requests)


def test_error_rate_gives_500_api_errors(tiny: Sandbox) -> None:
    client = make_client(tiny)
    tiny.set_faults(error_rate=1.0)
    with pytest.raises(stripe.APIError) as err:
        client.v1.sources.retrieve(_sid(tiny))
    assert err.value.http_status == 500
    assert err.value.error is not None
    assert err.value.error.type == "api_error"
    tiny.set_faults(error_rate=0.5)
    statuses = [send(tiny, "GET", f"/v1/sources/{_sid(tiny)}")[0] for _ in range(40)]
    assert {200, 500} == set(statuses)
    assert 8 <= statuses.count(500) <= 32


def test_faults_are_deterministic_for_a_seed() -> None:
    runs = []
    for _ in range(2):
        with Sandbox(seed=9, customers=3, error_rate=0.4, drop_rate=0.1) as box:
            sid = box.planted["stale_pending"][0]
            runs.append([send_or_drop(box, sid) for _ in range(30)])
    assert runs[0] == runs[1]
    assert {0, 200, 500} <= set(runs[0])


def send_or_drop(box: Sandbox, sid: str) -> int:
    try:
        return send(box, "GET", f"/v1/sources/{sid}")[0]
    except (http.client.HTTPException, OSError):  # a dropped connection
        return 0


def test_drop_closes_the_connection(tiny: Sandbox) -> None:
    client = make_client(tiny)
    tiny.set_faults(drop_rate=1.0)
    with pytest.raises(stripe.APIConnectionError):
        client.v1.sources.retrieve(_sid(tiny))
    entry = tiny.requests[-1]
    assert (entry.status, entry.fault, entry.method) == (0, "drop", "GET")
    tiny.faults_off()
    assert client.v1.sources.retrieve(_sid(tiny)).id == _sid(tiny)


def test_method_and_path_scope(tiny: Sandbox) -> None:
    client = make_client(tiny)
    sid = _sid(tiny)
    tiny.set_faults(error_rate=1.0, fault_method="POST")
    assert client.v1.sources.retrieve(sid).id == sid
    with pytest.raises(stripe.APIError):
        client.v1.sources.update(sid, params={"metadata": {"a": "b"}})
    tiny.set_faults(fault_method=None, fault_path=r"/source_transactions$")
    assert client.v1.sources.retrieve(sid).id == sid
    with pytest.raises(stripe.APIError):
        client.v1.sources.transactions.list(sid)
    tiny.set_faults(error_rate=0.0, latency=0.2, fault_path=r"^/v1/customers")
    start = time.perf_counter()
    client.v1.sources.retrieve(sid)
    assert time.perf_counter() - start < 0.15
    start = time.perf_counter()
    client.v1.customers.list(params={"limit": 1})
    assert time.perf_counter() - start >= 0.2
    with pytest.raises(ValueError):
        tiny.set_faults(error_rate=2)
    with pytest.raises(TypeError):
        tiny.set_faults(colour="red")


def test_constructor_faults() -> None:
    with Sandbox(customers=2, error_rate=1.0, fault_method="get") as box:
        assert send(box, "GET", "/v1/customers")[0] == 500
        assert send(box, "POST", "/v1/sources", "type=card")[0] == 200


def test_request_log(tiny: Sandbox) -> None:
    client = make_client(tiny)
    tiny.clear_log()
    sid = _sid(tiny)
    client.v1.sources.update(
        sid, params={"metadata": {"k": "v"}}, options={"idempotency_key": "log-1"}
    )
    client.v1.customers.list(params={"limit": 2, "expand": ["data.sources"]})
    account = min(tiny.connected_accounts)
    client.raw_request("get", "/v1/customers", limit=1, stripe_account=account)
    send(tiny, "GET", "/v1/customers", key=None)
    assert len(tiny.requests) == 4
    post, listing, acct, unauth = tiny.requests
    assert isinstance(post, RequestLogEntry)
    assert (post.method, post.path, post.status) == ("POST", f"/v1/sources/{sid}", 200)
    assert post.params == {"metadata": {"k": "v"}}
    assert post.idempotency_key == "log-1"
    assert (post.account, post.livemode, post.replayed) == (None, False, False)
    assert listing.params == {"limit": "2", "expand": {"0": "data.sources"}}
    assert listing.idempotency_key is None
    assert acct.account == account
    assert (unauth.status, unauth.livemode) == (401, None)
    assert post.time <= listing.time <= acct.time
    _status, _headers, body = send(tiny, "GET", "/_sandbox/requests")
    logged = json.loads(body)["data"]
    assert [e["request_id"] for e in logged] == [e.request_id for e in tiny.requests]
    assert len(tiny.requests) == 4  # admin routes are not logged
    assert send(tiny, "DELETE", "/_sandbox/requests")[0] == 200
    assert tiny.requests == []
    tiny.clear_log()


def test_admin_fault_routes(tiny: Sandbox) -> None:
    status, _, body = send(tiny, "POST", "/_sandbox/faults", "error_rate=1&fault_path=^/v1/sources")
    assert status == 200
    assert json.loads(body)["error_rate"] == 1.0
    assert send(tiny, "GET", f"/v1/sources/{_sid(tiny)}")[0] == 500
    assert send(tiny, "GET", "/v1/customers")[0] == 200
    assert send(tiny, "GET", "/_sandbox/health")[0] == 200  # never faulted
    send(tiny, "POST", "/_sandbox/faults/off", "")
    assert send(tiny, "GET", f"/v1/sources/{_sid(tiny)}")[0] == 200
    assert send(tiny, "POST", "/_sandbox/faults", "colour=red")[0] == 400
    status, _, body = send(tiny, "GET", "/_sandbox/faults")
    assert json.loads(body)["rate_limit"] is None
    assert send(tiny, "GET", "/_sandbox/nothing")[0] == 404
    assert KEY  # admin routes need no key, but accept one
