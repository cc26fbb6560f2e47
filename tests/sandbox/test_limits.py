"""Stripe's limiters and retry signals in the sandbox: global and per-endpoint rates, the
concurrency cap, latency that grows with the answer, the 429 reason header, saved 500s, object
locks. Driven over HTTP (plain, or the stripe SDK)."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import stripe

from tests.sandbox.conftest import KEY, LIVE_KEY, make_client, send
from toolkit.sandbox import Sandbox
from toolkit.sandbox.limits import Limits


def _burst(box: Sandbox, targets: list[tuple[str, str]], key: str = KEY) -> list[tuple]:
    """Send the requests at once from many threads; (status, headers, body) in order."""
    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(lambda t: send(box, t[0], t[1], key=key), targets))


def _frozen(box: Sandbox) -> None:
    """No latency, and the limiters' clock stopped: a burst meets exactly one second's
    buckets however slowly a loaded machine sends it (CI once let 28 of 40 through)."""
    box.limits.base_latency = box.limits.latency_per_kb = 0.0
    box.limits.clock = lambda: 1000.0


def test_endpoint_limit_counts_one_operation_whatever_the_ids() -> None:
    with Sandbox(seed=3, customers=40, limits="live", concurrency=None) as box:
        _frozen(box)
        ids = list(box.store().sources)[:40]
        replies = _burst(box, [("GET", f"/v1/sources/{sid}") for sid in ids])
    refused = [h for s, h, _ in replies if s == 429]
    assert sum(s == 200 for s, _, _ in replies) == 25  # one second's bucket
    assert refused and all(h["stripe-rate-limited-reason"] == "endpoint-rate" for h in refused)
    body = json.loads(next(b for s, _, b in replies if s == 429))
    assert body["error"]["code"] == "rate_limit"
    assert body["error"]["type"] == "invalid_request_error"


def test_other_endpoints_have_their_own_bucket() -> None:
    with Sandbox(seed=3, customers=40, limits="live", concurrency=None) as box:
        box.limits.base_latency = box.limits.latency_per_kb = 0.0
        sids = list(box.store().sources)[:20]
        cids = list(box.store().customers)[:20]
        targets = [("GET", f"/v1/sources/{s}") for s in sids]
        targets += [("GET", f"/v1/customers/{c}/sources") for c in cids]
        replies = _burst(box, targets)
    assert all(s == 200 for s, _, _ in replies)  # 40 requests, two endpoints of 25/s


def test_test_mode_global_limit_and_auto_profile() -> None:
    with Sandbox(seed=3, customers=60, limits="auto", concurrency=None) as box:
        _frozen(box)
        sids = list(box.store().sources)[:15]
        cids = list(box.store().customers)[:15]
        targets = [("GET", f"/v1/sources/{s}") for s in sids]
        targets += [("GET", f"/v1/customers/{c}") for c in cids]
        test_replies = _burst(box, targets)
        live = box.store(livemode=True)
        live_targets = [("GET", f"/v1/sources/{s}") for s in list(live.sources)[:15]]
        live_targets += [("GET", f"/v1/customers/{c}") for c in list(live.customers)[:15]]
        live_replies = _burst(box, live_targets, key=LIVE_KEY)
    reasons = {h.get("stripe-rate-limited-reason") for s, h, _ in test_replies if s == 429}
    assert reasons == {"global-rate"}  # 30 requests over 25/s in test mode
    assert all(s == 200 for s, _, _ in live_replies)  # live mode: 100/s


def test_endpoint_limits_are_configurable() -> None:
    raised = {"GET /v1/sources/{id}": 60.0}
    with Sandbox(seed=3, customers=60, limits="live", endpoint_limits=raised) as box:
        box.limits.base_latency = box.limits.latency_per_kb = 0.0
        replies = _burst(box, [("GET", f"/v1/sources/{s}") for s in list(box.store().sources)[:18]])
        assert box.limits.rate_of("GET /v1/sources/{id}") == 60.0
        assert box.limits.rate_of("GET /v1/customers") == 25.0
    assert all(s == 200 for s, _, _ in replies)


def test_concurrency_cap_names_its_limiter() -> None:
    limits = Limits(concurrency=2, base_latency=0.3)
    with Sandbox(seed=3, customers=10, limits=limits) as box:
        replies = _burst(box, [("GET", "/v1/customers?limit=1")] * 6)
    refused = [h for s, h, _ in replies if s == 429]
    assert sum(s == 200 for s, _, _ in replies) >= 2 and refused
    assert {h["stripe-rate-limited-reason"] for h in refused} == {"global-concurrency"}


def test_latency_grows_with_the_answer() -> None:
    with Sandbox(seed=3, customers=120, limits="live") as box:
        sid = next(iter(box.store().sources))
        start = time.perf_counter()
        send(box, "GET", f"/v1/sources/{sid}")
        small = time.perf_counter() - start
        start = time.perf_counter()
        status, _, body = send(box, "GET", "/v1/customers?limit=100&expand[]=data.sources")
        big = time.perf_counter() - start
    assert status == 200 and len(body) > 100_000
    assert small >= box.limits.base_latency
    assert big - small >= 0.8 * box.limits.latency_per_kb * (len(body) / 1024)


def test_limits_off_by_default_and_profiles_checked() -> None:
    assert not Sandbox(seed=3, customers=0).limits.on
    with pytest.raises(ValueError, match="auto, live, test, off"):
        Sandbox(seed=3, customers=0, limits="fast")


def test_saved_500_is_replayed_and_says_not_to_retry() -> None:
    with Sandbox(seed=3, customers=10, error_after_rate=1.0, fault_method="POST") as box:
        sid = next(iter(box.store().sources))
        headers = {"Idempotency-Key": "k-500"}
        first = send(box, "POST", f"/v1/sources/{sid}", "metadata[a]=1", headers)
        box.faults_off()
        again = send(box, "POST", f"/v1/sources/{sid}", "metadata[a]=1", headers)
        other = send(box, "POST", f"/v1/sources/{sid}", "metadata[a]=2", {"Idempotency-Key": "k2"})
        source = box.get_source(sid)
    assert first[0] == again[0] == 500
    assert first[1]["stripe-should-retry"] == "false"
    assert again[1]["idempotent-replayed"] == "true" and again[2] == first[2]
    assert other[0] == 200 and source["metadata"]["a"] == "2"  # the write had landed; a new key
    assert first[1]["stripe-version"]


def test_sdk_does_not_retry_a_saved_500() -> None:
    with Sandbox(seed=3, customers=10, error_after_rate=1.0, fault_method="POST") as box:
        sid = next(iter(box.store().sources))
        client = stripe.StripeClient(KEY, base_addresses={"api": box.url}, max_network_retries=3)
        with pytest.raises(stripe.APIError):
            client.v1.sources.update(sid, params={"metadata": {"a": "1"}})
        posts = [e for e in box.requests if e.method == "POST"]
    assert len(posts) == 1  # Stripe-Should-Retry: false stops the SDK's retries
    assert box.get_source(sid)["metadata"]["a"] == "1"


def test_concurrent_write_on_one_object_times_out_with_lock_timeout() -> None:
    with Sandbox(seed=3, customers=10, latency=0.6, fault_method="POST", lock_wait=0.1) as box:
        sid = next(iter(box.store().sources))
        replies: list[tuple] = []

        def write(n: int) -> None:
            replies.append(send(box, "POST", f"/v1/sources/{sid}", f"metadata[n]={n}"))

        threads = [threading.Thread(target=write, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    statuses = sorted(s for s, _, _ in replies)
    assert statuses == [200, 429]
    _, headers, body = next(r for r in replies if r[0] == 429)
    assert json.loads(body)["error"]["code"] == "lock_timeout"
    assert headers["stripe-should-retry"] == "true"
    assert "stripe-rate-limited-reason" not in headers


def test_writes_on_different_objects_do_not_wait_for_each_other() -> None:
    with Sandbox(seed=3, customers=10, latency=0.4, fault_method="POST", lock_wait=0.05) as box:
        sids = list(box.store().sources)[:4]
        replies = _burst_posts(box, sids)
    assert all(s == 200 for s in replies)


def _burst_posts(box: Sandbox, sids: list[str]) -> list[int]:
    with ThreadPoolExecutor(max_workers=len(sids)) as pool:
        return list(
            pool.map(lambda s: send(box, "POST", f"/v1/sources/{s}", "metadata[x]=1")[0], sids)
        )


def test_stripe_version_is_the_one_asked_for_else_the_sandboxs() -> None:
    with Sandbox(seed=3, customers=3) as box:
        default = send(box, "GET", "/v1/customers")[1]["stripe-version"]
        asked = send(box, "GET", "/v1/customers", headers={"Stripe-Version": "2025-01-27.acacia"})
    assert default == "2024-06-20"
    assert asked[1]["stripe-version"] == "2025-01-27.acacia"


def test_sdk_client_sees_the_reason_on_its_error() -> None:
    with Sandbox(seed=3, customers=40, limits="live", concurrency=None) as box:
        box.limits.base_latency = box.limits.latency_per_kb = 0.0
        client = make_client(box)
        errors = []
        sources = list(box.store().sources)
        for n in range(2000):  # until refused: a loaded machine may send 30 slower than 25/s
            try:
                client.v1.sources.retrieve(sources[n % len(sources)])
            except stripe.RateLimitError as exc:
                errors.append(exc)
                break
    assert errors
    headers = errors[0].headers
    assert headers is not None and headers["Stripe-Rate-Limited-Reason"] == "endpoint-rate"


def test_the_log_keeps_each_answers_size_and_time_for_the_benches() -> None:
    """Issue 27's benches compute a page's round trip at its size from the log."""
    with Sandbox(seed=3, customers=20, limits="live") as box:
        box.limits.base_latency, box.limits.latency_per_kb = 0.05, 0.001
        status, _, body = send(box, "GET", "/v1/customers?limit=10&expand[]=data.sources")
        entry = box.requests[-1].to_dict()
    assert status == 200
    assert entry["size"] == len(body)
    assert entry["seconds"] >= box.limits.latency(len(body)) - 1e-3
