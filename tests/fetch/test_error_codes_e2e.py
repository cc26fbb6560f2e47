"""The toolkit against Stripe's error codes, end to end through the SDK: a cursor detached or
deleted mid-load (Stripe's 400 ``resource_missing`` on ``starting_after``) restarts its list and
the load equals a full one; a server that does not serve an endpoint says so instead of "Stripe
does not know"; deleted customers are reported as deleted; a key still in flight (409) is
waited for; test clocks a restricted key may not list leave a note, never an error."""

from __future__ import annotations

import http.server
import threading
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pandas as pd
import pytest
import stripe

import toolkit
from toolkit.errors import NotFoundError, StripeRequestError
from toolkit.sandbox import Sandbox
from toolkit.sandbox.log import RequestLogEntry
from toolkit.session import Session, connect

KEY = "sk_test_" + "Err0rC0des" * 3


class MidLoadSandbox(Sandbox):
    """A sandbox where another user acts while a load runs: ``hook(entry)`` runs after each
    request is handled and before its answer is sent (a write it makes through the API lands
    between two of the load's requests)."""

    hook: Callable[[RequestLogEntry], None] | None = None

    def log_request(self, entry: RequestLogEntry) -> None:
        super().log_request(entry)
        hook = self.hook
        if hook is not None and entry.account is None and not entry.path.startswith("/_"):
            hook(entry)


@pytest.fixture
def box() -> Iterator[MidLoadSandbox]:
    with MidLoadSandbox(seed=7, customers=60) as sandbox:
        yield sandbox


def _session(box: Sandbox, **kwargs: Any) -> Session:
    return connect(KEY, api_base=box.url, rate_limit=1000, quiet=True, **kwargs)


def _client(box: Sandbox) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": box.url}, max_network_retries=0)


def _frame(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("id").reset_index(drop=True)


def _cursor_refusals(box: Sandbox) -> list[RequestLogEntry]:
    return [e for e in box.requests if e.status == 400 and "starting_after" in e.params]


def test_sources_detached_under_the_cursors_mid_load_equal_a_full_load(box: MidLoadSandbox):
    ds = box.store()
    session = _session(box)
    full = toolkit.load_sources(session, progress=False)

    # two customers whose sources are continued: one past its 10 embedded sources, one past a
    # first continuation page of 100 as well
    def continued(cid: str) -> list[str]:  # its sources after the last one embedded
        items = ds.items.get(cid, [])
        head = [p for p in items[:10] if p in ds.sources]
        after = items[items.index(head[-1]) + 1 :] if head and len(items) > 10 else []
        return [p for p in after if p in ds.sources]

    small = next(c for c in ds.order if 0 < len(continued(c)) < 100)
    large = next(c for c in ds.order if len(continued(c)) > 100)
    embedded_cursor = [p for p in ds.items[small][:10] if p in ds.sources][-1]
    client, detached = _client(box), list[str]()

    def detach_under_the_cursor(entry: RequestLogEntry) -> None:
        if entry.status != 200 or entry.method != "GET" or len(detached) >= 2:
            return
        if entry.path == "/v1/customers" and "test_clock" not in entry.params:
            if embedded_cursor not in detached:  # the page embedding `small`'s first 10 is out
                detached.append(embedded_cursor)
                client.v1.customers.payment_sources.delete(small, embedded_cursor)
        elif entry.path == f"/v1/customers/{large}/sources" and len(detached) == 1:
            after = entry.params.get("starting_after")
            page, more = ds.page_items(large, "source", int(entry.params["limit"]), after, None)
            assert more  # the load will ask for the next page after this one's last source
            detached.append(page[-1])
            client.v1.customers.payment_sources.delete(large, page[-1])

    box.hook = detach_under_the_cursor
    box.clear_log()
    with warnings.catch_warnings():
        warnings.simplefilter("error", toolkit.NotFoundWarning)
        mid = toolkit.load_sources(session, progress=False)
    box.hook = None
    assert len(detached) == 2 and all(box.get_source(s)["status"] == "consumed" for s in detached)
    refused = _cursor_refusals(box)
    assert sorted(e.params["starting_after"] for e in refused) == sorted(detached)
    assert {e.path for e in refused} == {f"/v1/customers/{c}/sources" for c in (small, large)}
    # nothing lost, nothing twice: the load equals the full load taken before the detaches
    assert mid["id"].is_unique
    pd.testing.assert_frame_equal(_frame(mid), _frame(full))
    load_info = toolkit.LoadInfo.from_attrs(mid)
    assert load_info is not None and load_info.missing_customers == []


def test_a_customer_deleted_under_the_page_cursor_mid_load():
    with MidLoadSandbox(seed=5, customers=260, migration="none") as box:
        ds = box.store()
        session = _session(box)
        full = toolkit.load_sources(session, progress=False)
        victim = ds.order[99]  # the cursor of the first customer page (no created filter)
        client, done = _client(box), list[str]()

        def delete_the_cursor(entry: RequestLogEntry) -> None:
            first_page = entry.path == "/v1/customers" and not {"starting_after", "created"} & set(
                entry.params
            )
            if entry.status == 200 and first_page and "test_clock" not in entry.params and not done:
                done.append(client.v1.customers.delete(victim).id)

        box.hook = delete_the_cursor
        box.clear_log()
        mid = toolkit.load_sources(session, progress=False)
        box.hook = None
        assert done == [victim]
        assert [e.params["starting_after"] for e in _cursor_refusals(box)] == [victim]
        assert mid["id"].is_unique
        others = full[full["customer"] != victim]
        pd.testing.assert_frame_equal(_frame(mid[mid["customer"] != victim]), _frame(others))
        assert set(mid["id"]) <= set(full["id"])  # its first sources were read before it went


@pytest.fixture
def not_stripe(tmp_path) -> Iterator[str]:
    """A web server that is not Stripe: every path is a 404 page."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_server_that_is_not_stripe_is_a_clear_error_not_missing_customers(not_stripe: str):
    session = connect(KEY, api_base=not_stripe, rate_limit=1000, quiet=True)
    customers = [f"cus_Unknown{i}Aa" for i in range(6)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", toolkit.NotFoundWarning)
        with pytest.raises(StripeRequestError) as err:
            toolkit.load_sources(session, customers=customers, progress=False)
    assert not isinstance(err.value, NotFoundError)
    assert "does not serve GET /v1/customers/{id}/sources" in str(err.value)
    assert not_stripe in str(err.value) and "api_base" in str(err.value)
    assert "does not know" not in str(err.value)


def test_an_unknown_url_is_not_not_found(box: Sandbox):
    session = _session(box)
    with pytest.raises(StripeRequestError) as err:
        session.raw("get", "/v1/customers/cus_1/sourcez")
    assert not isinstance(err.value, NotFoundError)
    assert (err.value.status, err.value.code) == (404, None)
    assert "does not serve GET /v1/customers/{id}/sourcez" in str(err.value)
    with pytest.raises(NotFoundError) as missing:
        session.retrieve_source("src_1NoSuchSource0000")
    assert (missing.value.status, missing.value.param) == (404, "id")
    with pytest.raises(NotFoundError) as cursor:  # an id passed as a parameter: 400
        session.list_customers({"limit": 1, "starting_after": "cus_NoSuchOne00"})
    assert (cursor.value.status, cursor.value.param, cursor.value.cursor_vanished) == (
        400,
        "starting_after",
        True,
    )


def test_deleted_customers_are_reported_as_deleted(box: Sandbox):
    ds = box.store()
    gone, kept = [c for c in ds.order if not ds.cash.available.get(c) and ds.items.get(c)][:2]
    _client(box).v1.customers.delete(gone)
    session = _session(box)
    assert session.retrieve_customer(gone) == {"id": gone, "object": "customer", "deleted": True}
    created = (pd.Timestamp("2000-01-01", tz="UTC"), None)
    calls: list[dict[str, Any]] = [{}, {"created": created}]
    for kwargs in calls:  # listing its sources, retrieving it
        with pytest.warns(toolkit.NotFoundWarning, match=f"as deleted: {gone}"):
            df = toolkit.load_sources(session, customers=[gone, kept], progress=False, **kwargs)
        info = toolkit.LoadInfo.from_attrs(df)
        assert info is not None
        assert info.deleted_customers == [gone] and info.missing_customers == []
        assert set(df["customer"]) == {kept}
    with pytest.warns(toolkit.NotFoundWarning, match="does not know 1 of the customers"):
        df = toolkit.load_sources(session, customers=["cus_NeverWas0000"], progress=False)
    info = toolkit.LoadInfo.from_attrs(df)
    assert info is not None
    assert info.missing_customers == ["cus_NeverWas0000"] and not info.deleted_customers


def test_a_write_whose_key_is_in_flight_waits_and_gets_the_saved_answer():
    with Sandbox(seed=3, customers=10, latency=1.0, fault_method="POST") as box:
        session = connect(KEY, api_base=box.url, rate_limit=1000, quiet=True, timeout=0.3)
        sid = next(iter(box.store().sources))
        answer = session.update_source(sid, {"metadata": {"k": "1"}}, idempotency_key="slow-k")
        statuses = [e.status for e in box.requests if e.idempotency_key == "slow-k"]
        assert 409 in statuses and statuses[-1] == 200  # the first timed out, then "in use"
        assert answer.replayed and answer.body["metadata"]["k"] == "1"
        assert box.requests[-1].replayed
        handled = [e for e in box.requests if e.status == 200 and not e.replayed]
        assert len(handled) == 1  # one write, whatever the retries


def _clockless_key(box: Sandbox) -> str:
    key = "rk_test_" + "N0Cl0cks" * 3
    box.restricted_keys[key] = {"customers": "read", "sources": "read"}
    return key


def test_a_key_that_may_not_list_test_clocks_leaves_a_note_everywhere():
    with Sandbox(seed=3, customers=100) as box:  # test clocks are seeded from 100 customers
        key = _clockless_key(box)
        assert box.store().test_clocks
        session = connect(key, api_base=box.url, rate_limit=1000, quiet=True)
        sources = toolkit.load_sources(session, progress=False)
        cash = toolkit.load_cash_balances(session, progress=False)
        for frame in (sources, cash):
            info = toolkit.LoadInfo.from_attrs(frame)
            assert info is not None
            assert info.test_clocks is None
            assert info.test_clocks_note is not None
            assert info.test_clocks_note.startswith(
                "customers on test clocks are not included: listing test clocks failed (HTTP 403"
            )
        clocked = {c for c, cus in box.store().customers.items() if cus.get("test_clock")}
        assert clocked and not clocked & set(cash["customer"])
        assert set(cash["customer"]) == set(box.store().order)
