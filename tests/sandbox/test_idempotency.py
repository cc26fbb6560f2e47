"""Idempotency-Key: same key + same params replays; same key + other params is a 400."""

from __future__ import annotations

import json

import pytest
import stripe

from toolkit.sandbox import Sandbox

from .conftest import LIVE_KEY, make_client, send


def test_replay_returns_the_first_response(box: Sandbox, wclient: stripe.StripeClient) -> None:
    before = len(box.store().sources)
    opts: stripe.RequestOptions = {"idempotency_key": "create-1"}
    first = wclient.v1.sources.create(params={"type": "card"}, options=opts)
    second = wclient.v1.sources.create(params={"type": "card"}, options=opts)
    assert first.id == second.id
    assert len(box.store().sources) == before + 1
    entries = [e for e in box.requests if e.idempotency_key == "create-1"]
    assert [e.replayed for e in entries] == [False, True]
    status, headers, body = send(
        box, "POST", "/v1/sources", "type=card", {"Idempotency-Key": "create-1"}
    )
    assert status == 200
    assert headers["idempotent-replayed"] == "true"
    assert headers["original-request"] == entries[0].request_id
    assert headers["request-id"] != entries[0].request_id
    assert json.loads(body)["id"] == first.id


def test_other_params_conflict(box: Sandbox, wclient: stripe.StripeClient) -> None:
    sid = box.unattached_ids[0]
    opts: stripe.RequestOptions = {"idempotency_key": "meta-1"}
    wclient.v1.sources.update(sid, params={"metadata": {"a": "1"}}, options=opts)
    with pytest.raises(stripe.IdempotencyError) as err:
        wclient.v1.sources.update(sid, params={"metadata": {"a": "2"}}, options=opts)
    assert err.value.http_status == 400
    assert err.value.error is not None
    assert err.value.error.type == "idempotency_error"
    assert "meta-1" in err.value.user_message
    assert box.get_source(sid)["metadata"]["a"] == "1"
    with pytest.raises(stripe.IdempotencyError):
        wclient.v1.sources.update(
            box.unattached_ids[1], params={"metadata": {"a": "1"}}, options=opts
        )


def test_saved_errors_replay_and_validation_errors_do_not(
    box: Sandbox, wclient: stripe.StripeClient
) -> None:
    ds = box.store()
    cid = ds.order[0]
    consumed = next(s for s in ds.sources.values() if s["status"] == "consumed")["id"]
    opts: stripe.RequestOptions = {"idempotency_key": "attach-consumed"}
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as err:
            wclient.v1.customers.payment_sources.create(
                cid, params={"source": consumed}, options=opts
            )
        assert err.value.http_status == 400
    assert box.requests[-1].replayed
    sid = box.unattached_ids[0]
    opts = {"idempotency_key": "bad-then-good"}
    with pytest.raises(stripe.InvalidRequestError):
        wclient.raw_request("post", f"/v1/sources/{sid}", colour="blue", **opts)
    ok = wclient.v1.sources.update(sid, params={"metadata": {"b": "1"}}, options=opts)
    assert ok.metadata is not None
    assert ok.metadata.b == "1"
    assert not box.requests[-1].replayed


def test_injected_500_is_not_saved(box: Sandbox, wclient: stripe.StripeClient) -> None:
    sid = box.unattached_ids[0]
    opts: stripe.RequestOptions = {"idempotency_key": "retry-me"}
    box.set_faults(error_rate=1.0, fault_method="POST")
    with pytest.raises(stripe.APIError) as err:
        wclient.v1.sources.update(sid, params={"metadata": {"r": "1"}}, options=opts)
    assert err.value.http_status == 500
    box.faults_off()
    ok = wclient.v1.sources.update(sid, params={"metadata": {"r": "1"}}, options=opts)
    assert ok.metadata is not None
    assert ok.metadata.r == "1"
    assert not box.requests[-1].replayed


def test_sdk_sends_a_key_on_every_post_and_keys_are_scoped(
    box: Sandbox, wclient: stripe.StripeClient
) -> None:
    wclient.v1.sources.create(params={"type": "card"})
    wclient.v1.sources.create(params={"type": "card"})
    posts = [e for e in box.requests if e.method == "POST"]
    assert len({e.idempotency_key for e in posts}) == 2
    assert all(e.idempotency_key for e in posts)
    opts: stripe.RequestOptions = {"idempotency_key": "shared"}
    test_src = wclient.v1.sources.create(params={"type": "card"}, options=opts)
    live_src = make_client(box, LIVE_KEY).v1.sources.create(params={"type": "card"}, options=opts)
    acct_src = wclient.v1.sources.create(
        params={"type": "card"}, options={**opts, "stripe_account": min(box.connected_accounts)}
    )
    assert len({test_src.id, live_src.id, acct_src.id}) == 3
    assert live_src.livemode and not test_src.livemode


def test_keys_on_delete_have_no_effect(box: Sandbox, wclient: stripe.StripeClient) -> None:
    ds = box.store()
    cid = next(c for c, items in ds.items.items() if any(i in ds.sources for i in items))
    sid = next(i for i in ds.items[cid] if i in ds.sources)
    opts: stripe.RequestOptions = {"idempotency_key": "detach-1"}
    detached = wclient.v1.customers.payment_sources.delete(cid, sid, options=opts)
    assert isinstance(detached, stripe.Source) and detached.status == "consumed"
    with pytest.raises(stripe.InvalidRequestError) as err:  # like Stripe: DELETE is not replayed
        wclient.v1.customers.payment_sources.delete(cid, sid, options=opts)
    assert err.value.http_status == 404


def test_keys_expire_after_24_hours_of_the_sandbox_clock(
    box: Sandbox, wclient: stripe.StripeClient
) -> None:
    sid = box.unattached_ids[0]
    opts: stripe.RequestOptions = {"idempotency_key": "day-old"}
    wclient.v1.sources.update(sid, params={"metadata": {"a": "1"}}, options=opts)
    box.advance_clock(23 * 3600)
    wclient.v1.sources.update(sid, params={"metadata": {"a": "1"}}, options=opts)
    assert [e.replayed for e in box.requests if e.idempotency_key == "day-old"] == [False, True]
    box.advance_clock(3600 + 1)
    # a day later the key is forgotten: the same key with other params is a new request
    wclient.v1.sources.update(sid, params={"metadata": {"a": "2"}}, options=opts)
    assert box.get_source(sid)["metadata"]["a"] == "2"
    assert box.store().idempotency_count() == 1


def test_the_clock_moves_through_the_admin_route(box: Sandbox) -> None:
    before = box.clock()
    status, _, body = send(box, "POST", "/_sandbox/clock", "advance=86400", {})
    assert status == 200 and json.loads(body)["now"] >= before + 86400


def test_idempotency_memory_is_bounded_per_key(box: Sandbox, wclient: stripe.StripeClient) -> None:
    """A saved response is kept compactly: under 800 bytes a key (a source's JSON is ~1.6 KB)."""
    sid = box.unattached_ids[0]
    for i in range(2000):
        send(
            box, "POST", f"/v1/sources/{sid}", f"metadata[n]={i % 7}", {"Idempotency-Key": f"k{i}"}
        )
    assert box.store().idempotency_count() == 2000
    assert box.store().idempotency_bytes() < 2000 * 800


def test_the_request_log_is_bounded() -> None:
    with Sandbox(seed=1, customers=3, log_limit=100) as small:
        client = make_client(small)
        for _ in range(250):
            client.v1.customers.list(params={"limit": 1})
        assert len(small.requests) <= 100
        assert small.requests[-1].path == "/v1/customers"
