"""connect(): sandbox default, key shapes and sources, masking, live-write guard, retries."""

from __future__ import annotations

import json
import socket
import threading
import time
from typing import cast

import pytest
import stripe

from toolkit.errors import (
    Cancelled,
    ConfigurationError,
    InvalidKeyError,
    LiveModeRefused,
    NotFoundError,
    StripeRequestError,
)
from toolkit.sandbox import Sandbox
from toolkit.session import SANDBOX_KEY, connect, mask_key
from toolkit.session.ratelimit import SLACK, RateLimiter, StripeLimits

LIVE = "sk_live_" + "L1ve" * 6
TEST = "sk_test_" + "T3st" * 6
RESTRICTED = "rk_live_" + "R3st" * 6


def test_default_is_the_embedded_sandbox(in_tmp_cwd, monkeypatch, capsys):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    with connect(sandbox_options={"customers": 5}) as session:
        assert session.mode == "sandbox"
        assert session.sandbox is not None
        assert session.api_base.startswith("http://127.0.0.1:")
        # it really serves: one list call through the SDK
        customers = session.call(session.client.v1.customers.list, {"limit": 3})
        assert len(customers.data) == 3
    shown = capsys.readouterr()
    assert shown.out.count("using the built-in sandbox") == 1  # one line says so
    assert shown.err == ""  # information, not an error (a notebook shows stderr in red)
    assert SANDBOX_KEY not in shown.out


@pytest.mark.parametrize(
    ("key", "mode"),
    [(TEST, "test"), (LIVE, "live"), (RESTRICTED, "live"), ("rk_test_" + "a" * 24, "test")],
)
def test_key_shapes_give_the_mode(key, mode):
    assert connect(key, quiet=True).mode == mode


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("pk_test_" + "a" * 24, "publishable"),
        ("sk_test_short", "Developers > API keys"),
        ("hunter2", "sk_test_"),
        ("sk_prod_" + "a" * 24, "sk_live_"),
        (TEST[:20] + "\n" + TEST[20:], "a space or a line break inside it"),
    ],
)
def test_bad_keys_are_refused_with_the_fix(key, hint):
    with pytest.raises(InvalidKeyError) as info:
        connect(key, quiet=True)
    message = str(info.value)
    assert hint in message
    assert key.strip() not in message  # the key itself is never echoed


def test_a_key_pasted_with_spaces_around_it_is_trimmed(in_tmp_cwd, monkeypatch):
    assert connect(" " + TEST + "\n", quiet=True).mode == "test"
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    (in_tmp_cwd / ".env").write_text(f"STRIPE_API_KEY={LIVE}   # my key, from the Dashboard\n")
    assert connect(quiet=True).mode == "live"  # the comment is not part of the key (dotenv)


def test_key_from_environment_then_dotenv(in_tmp_cwd, monkeypatch):
    (in_tmp_cwd / ".env").write_text(f"# mine\nexport STRIPE_API_KEY='{LIVE}'\n")
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    assert connect(quiet=True).mode == "live"
    monkeypatch.setenv("STRIPE_API_KEY", TEST)
    assert connect(quiet=True).mode == "test"  # the environment wins over .env
    assert connect(RESTRICTED, quiet=True).mode == "live"  # the argument wins over both


def test_key_is_masked_everywhere():
    session = connect(LIVE, stripe_account="acct_1Abcdef", quiet=True)
    shown = repr(session) + str(session) + session.key_hint + session.account_label
    assert LIVE not in shown
    assert "sk_live_…L1ve" in repr(session)
    assert "acct_1Abcdef" in repr(session)
    assert mask_key(None) == "<none>"
    assert mask_key("short") == "…"


def test_live_writes_need_allow_live():
    with pytest.raises(LiveModeRefused, match="allow_live=True"):
        connect(LIVE, quiet=True).require_write()
    connect(LIVE, allow_live=True, quiet=True).require_write()
    connect(TEST, quiet=True).require_write()


def test_live_write_is_refused_before_any_request(sandbox):
    session = connect(LIVE, api_base=sandbox.url, quiet=True)
    before = len(sandbox.requests)
    with pytest.raises(LiveModeRefused):
        session.call(
            session.client.v1.sources.update, "src_x", {"metadata": {"a": "b"}}, write=True
        )
    assert len(sandbox.requests) == before


def test_rate_limits_by_mode_within_the_budget():
    live = connect(LIVE, quiet=True).limiter
    assert (live.rate, live.rate_of("POST /v1/sources/{id}"), live.budget) == (50, 12.5, 0.5)
    test = connect(TEST, quiet=True).limiter
    assert (test.rate, test.rate_of("GET /v1/customers"), test.budget) == (25, 25, 1.0)
    full = connect(LIVE, budget=1.0, quiet=True).limiter
    assert (full.rate, full.rate_of("GET /v1/customers")) == (100, 25)
    single = connect(TEST, rate_limit=7, quiet=True).limiter
    assert (single.rate, single.rate_of("GET /v1/customers")) == (7, 7)
    raised = connect(LIVE, limits={"global": 200, "POST /v1/sources/{id}": 80}, quiet=True)
    assert raised.limiter.rate == 100 and raised.limiter.rate_of("POST /v1/sources/{id}") == 40
    assert raised.limiter.rate_of("GET /v1/sources/{id}") == 12.5


def test_the_embedded_sandbox_session_paces_by_its_limits():
    with connect(quiet=True) as session:
        assert session.sandbox.limits.global_rate_of(False) == 25
        assert session.limiter.rate == 25 and session.limiter.budget == 1.0
    with connect(quiet=True, sandbox_options={"limits": None}) as session:
        assert session.limiter.rate is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stripe_account": "cus_123"}, "acct_"),
        ({"api_base": "localhost:1234"}, "http"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"max_workers": 0}, "max_workers"),
    ],
)
def test_bad_options_say_what_to_do(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        connect(TEST, quiet=True, **kwargs)


def test_api_base_from_environment(sandbox, monkeypatch):
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    session = connect(TEST, quiet=True)
    assert session.api_base == sandbox.url
    assert session.call(session.client.v1.customers.list, {"limit": 1}).data


def test_api_base_without_key_is_a_sandbox_elsewhere(sandbox, in_tmp_cwd, monkeypatch):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    session = connect(api_base=sandbox.url, quiet=True)
    assert session.mode == "sandbox" and session.sandbox is None
    assert session.call(session.client.v1.customers.list, {"limit": 1}).data


def test_unknown_key_is_a_clear_401(sandbox):
    box = Sandbox(customers=2, api_key="sk_test_" + "k" * 24)
    with box:
        session = connect(TEST, api_base=box.url, quiet=True)
        with pytest.raises(StripeRequestError) as info:
            session.call(session.client.v1.customers.list)
        assert info.value.status == 401 and "Invalid API Key" in str(info.value)
        assert "k" * 24 not in str(info.value)


def test_429s_are_retried_under_the_shared_limiter(fresh_sandbox):
    session = connect(TEST, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True)
    fresh_sandbox.set_faults(rate_limit=5)
    started = time.monotonic()
    results = [session.call(session.client.v1.customers.list, {"limit": 1}) for _ in range(12)]
    assert all(r.data for r in results)
    assert session.retries > 0
    assert time.monotonic() - started > 1.0  # it waited instead of failing


def test_5xx_retried_for_reads_not_for_unkeyed_writes(fresh_sandbox):
    session = connect(TEST, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True, max_retries=8)
    fresh_sandbox.set_faults(error_rate=0.5)
    for _ in range(10):
        assert session.call(session.client.v1.customers.list, {"limit": 1}).data
    assert session.retries > 0
    fresh_sandbox.set_faults(error_rate=1.0)
    session.retries = 0
    with pytest.raises(StripeRequestError) as info:
        session.call(
            session.client.v1.sources.create,
            {"type": "ach_credit_transfer", "currency": "usd"},
            write=True,
        )
    assert info.value.status == 500 and info.value.uncertain
    assert session.retries == 0  # a POST without an idempotency key is never replayed blindly


def test_raw_returns_plain_json(session):
    page = session.raw("get", "/v1/customers", {"limit": 2, "expand": ["data.sources"]})
    assert isinstance(page, dict) and page["object"] == "list" and len(page["data"]) == 2
    assert isinstance(page["data"][0]["sources"], dict)
    assert not hasattr(page, "to_dict")  # JSON, not StripeObjects


def _types(value, found):
    """Every container type in a JSON value."""
    found.add(type(value))
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    )
    for child in children:
        _types(child, found)
    return found


def test_answers_are_parsed_once_as_plain_dicts(fresh_sandbox, fresh_session, monkeypatch):
    """The SDK's raw_request parses answers into OrderedDicts (about four times the CPU of plain
    dicts on a page of customers): the session's reads and writes get plain dicts, parsed
    once, with the same headers, request id, replay flag and errors."""
    box, session = fresh_sandbox, fresh_session
    parsed: list[object] = []
    loads = json.loads

    def counted(*args, **kwargs):
        parsed.append(kwargs)
        return loads(*args, **kwargs)

    monkeypatch.setattr(json, "loads", counted)
    page = session.list_customers({"limit": 3, "expand": ["data.sources"]})
    assert _types(page, set()) <= {dict, list, str, int, bool, float, type(None)}
    sid = next(s["id"] for c in page["data"] for s in c["sources"]["data"])
    answer = session.update_source(sid, {"metadata": {"p": "1"}}, idempotency_key="plain-1")
    assert type(answer.body) is dict and answer.body["metadata"]["p"] == "1"
    assert answer.request_id and answer.request_id == box.requests[-1].request_id
    assert not answer.replayed
    again = session.update_source(sid, {"metadata": {"p": "1"}}, idempotency_key="plain-1")
    assert again.replayed and again.body == answer.body
    assert len(parsed) >= 3 and not [k for k in parsed if k]  # none with object_pairs_hook
    with pytest.raises(NotFoundError):
        session.retrieve_source("src_doesnotexist0000")


def test_answers_of_an_sdk_without_its_requestor_come_from_raw_request():
    from toolkit.session.transport import send_plain

    class Response:
        def __init__(self):
            self.data = {"object": "list"}
            self.headers = {"Request-Id": "req_1"}
            self.request_id = "req_1"

    class Client:  # no _requestor: the SDK's public raw_request
        def raw_request(self, method, path, **params):
            assert (method, path, params) == ("get", "/v1/customers", {"limit": 1})
            return Response()

    reply = send_plain(cast("stripe.StripeClient", Client()), "get", "/v1/customers", {"limit": 1})
    assert reply.data == {"object": "list"} and reply.request_id == "req_1"


def test_rate_limiter_spaces_requests_across_threads():
    limiter = RateLimiter(StripeLimits.single(50))
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(10):
            limiter.acquire("GET /v1/customers")
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = max(stamps) - min(stamps)
    assert len(stamps) == 40
    # never faster than 50/s, but for the catch-up slack at budget 1 (issue 27: a pace that
    # fell behind may send SLACK seconds of its schedule together; a window never holds more)
    assert elapsed >= (39 / 50 - SLACK) * 0.95


def test_rate_limiter_cancel_stops_waiting():
    limiter = RateLimiter(StripeLimits.single(1))
    limiter.acquire()
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        limiter.acquire(cancel=cancel)
        limiter.acquire(cancel=cancel)
    assert time.monotonic() - started < 0.8


def test_a_session_stamps_with_the_servers_clock_from_its_date_header(
    sandbox, in_tmp_cwd, monkeypatch
):
    from toolkit.sandbox import SANDBOX_NOW

    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    logged = len(sandbox.requests)
    # before any answer the session asks the server (a bare HEAD: no read, not in the log)
    assert connect(api_base=sandbox.url, quiet=True).now().timestamp() == SANDBOX_NOW
    assert len(sandbox.requests) == logged
    # whatever the key: the server's clock, not this machine's (34 days apart here)
    with Sandbox(seed=1, customers=3) as own:
        session = connect(TEST, api_base=own.url, quiet=True)
        assert session.now().timestamp() == SANDBOX_NOW
        own.advance_clock(3 * 86400)
        session.client.v1.customers.list(params={"limit": 1})  # its answer's Date moved on
        assert session.now().timestamp() == SANDBOX_NOW + 3 * 86400


def test_a_server_that_cannot_be_reached_leaves_the_machines_clock(in_tmp_cwd):
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    session = connect(TEST, api_base=f"http://127.0.0.1:{port}", quiet=True)
    started = time.monotonic()
    assert abs(session.now().timestamp() - time.time()) < 5
    assert session.now().tzinfo is not None
    assert time.monotonic() - started < 2  # a refused connection is said at once, asked once


def _in_use() -> stripe.APIError:
    body = {
        "error": {
            "code": "idempotency_key_in_use",
            "message": "There is currently another in-progress request using this Idempotent Key",
            "type": "invalid_request_error",
        }
    }
    return stripe.APIError(
        body["error"]["message"], json.dumps(body), 409, body, {"Stripe-Should-Retry": "true"}
    )


def test_a_409_for_a_key_in_flight_waits_longer_and_may_have_landed():
    from toolkit.session.retries import IN_FLIGHT_PAUSE, retry_delay
    from toolkit.session.transport import mapped

    limiter = RateLimiter(None)
    waits = [retry_delay(_in_use(), attempt, True, limiter, None) for attempt in range(5)]
    assert all(w is not None for w in waits)
    first, last = waits[0], waits[-1]
    assert first is not None and last is not None
    assert first >= IN_FLIGHT_PAUSE * 0.75 and last >= 4 * IN_FLIGHT_PAUSE
    assert not limiter.refused and not limiter.pauses  # nothing shared slows down
    error = mapped(_in_use(), "Updating src_1")
    assert (error.status, error.code, error.uncertain) == (409, "idempotency_key_in_use", True)
    assert not isinstance(error, NotFoundError)


def test_a_connected_account_session_knows_the_servers_time_without_asking(sandbox):
    """A load of each connected account is stamped with the server's time: the platform's last
    answer told it, so the account's session sends no HEAD of its own before its first read."""
    platform = connect("sk_test_" + "Cl0ck" * 5, api_base=sandbox.url, quiet=True)
    platform.list_customers({"limit": 1})
    sub = platform.for_account("acct_1Demo0000000")
    asked: list[int] = []
    sub._http.clock._ask = lambda: asked.append(1)
    assert sub.now() == platform.now() and asked == []
    sub.close()
    platform.close()


def test_the_sdk_still_logs_its_requests_when_asked(session, caplog):
    """The session skips the SDK's log lines (formatting them costs CPU on every request) only
    while no one reads them: with the ``stripe`` logger at INFO they are there as before."""
    with caplog.at_level("INFO", logger="stripe"):
        session.list_customers({"limit": 1})
    assert any("Request to Stripe api" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level("WARNING", logger="stripe"):
        session.list_customers({"limit": 1})
    assert not [r for r in caplog.records if r.name == "stripe"]
