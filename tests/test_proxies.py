"""The environment's proxy settings are read once per session, for its server (requests would
read the whole environment again for every request): the same proxies, NO_PROXY honoured."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from toolkit.session import connect
from toolkit.session.guarded_http import GuardedHTTPClient

TEST_KEY = "sk_test_" + "Pr0xy" * 5


def _client(api_base: str) -> GuardedHTTPClient:
    return GuardedHTTPClient(lambda method, headers: None, 5.0, api_base)


def test_a_proxy_in_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    client = _client("https://api.stripe.com")
    assert client._proxy == {"https": "http://proxy.example:3128"}


def test_no_proxy_covers_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.stripe.com")
    assert not _client("https://api.stripe.com")._proxy


def test_each_thread_s_session_does_not_read_the_environment_again() -> None:
    client = _client("http://127.0.0.1:9")
    client._own_session()
    assert client._thread_local.session.trust_env is False


class _Recorder:
    """A one-thread HTTP server that records each request line and answers with ``answer``."""

    def __init__(self, answer: Callable[[str], tuple[int, dict[str, str], bytes]]) -> None:
        outer = self
        self.lines: list[str] = []
        self.headers: list[dict[str, str]] = []

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                outer.lines.append(f"{self.command} {self.path}")
                outer.headers.append(dict(self.headers.items()))
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                status, headers, body = answer(self.path)
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(body: dict[str, object]) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "application/json"}, json.dumps(body).encode()


def test_requests_go_through_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The session sends to its transport adapter itself (not through ``Session.request``): the
    proxy the environment names still carries every request."""
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    proxy = _Recorder(lambda path: _json({"object": "list", "data": [], "has_more": False}))
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        session = connect(TEST_KEY, api_base="http://api.example.invalid", quiet=True)
        page = session.list_customers({"limit": 3})
        assert page["object"] == "list"
        assert any(
            line.startswith("GET http://api.example.invalid/v1/customers?limit=3")
            for line in proxy.lines
        ), proxy.lines
    finally:
        proxy.close()


def test_a_redirect_is_followed_as_before() -> None:
    """A request whose answer redirects is sent again the SDK's way, which follows the redirect
    (the redirecting server is asked twice; it answered the first with a redirect only)."""
    target = _Recorder(lambda path: _json({"object": "list", "data": [], "has_more": False}))
    hop = _Recorder(lambda path: (307, {"Location": target.url + path}, b""))
    try:
        session = connect(TEST_KEY, api_base=hop.url, quiet=True)
        assert session.list_customers({"limit": 2})["object"] == "list"
        assert [line.split("?")[0] for line in hop.lines] == ["GET /v1/customers"] * 2
        assert [line.split("?")[0] for line in target.lines] == ["GET /v1/customers"]
    finally:
        hop.close()
        target.close()


def test_cookies_and_credentials_in_the_url_are_sent_as_before() -> None:
    """A cookie the server sets is sent back, and credentials in ``api_base`` become Basic auth,
    as the requests session did when it sent every request itself."""
    empty = {"object": "list", "data": [], "has_more": False}
    server = _Recorder(
        lambda path: (200, {"Set-Cookie": "lb=a1; Path=/"}, json.dumps(empty).encode())
    )
    try:
        session = connect(TEST_KEY, api_base=server.url, quiet=True)
        session.list_customers({"limit": 1})
        session.list_customers({"limit": 1})
        assert "Cookie" not in server.headers[0]
        assert server.headers[1]["Cookie"] == "lb=a1"
        host = server.url.removeprefix("http://")
        session = connect(TEST_KEY, api_base=f"http://user:pw@{host}", quiet=True)
        session.list_customers({"limit": 1})
        assert server.headers[-1]["Authorization"].startswith("Basic ")
    finally:
        server.close()


def test_a_redirect_that_fails_fails_as_the_sdks_own_client_says() -> None:
    """A redirect to a server that is gone: the error is the SDK's own for that failure, not
    that error wrapped a second time as an unexpected one."""
    import socket

    import stripe

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        gone = f"http://127.0.0.1:{probe.getsockname()[1]}"
    hop = _Recorder(lambda path: (307, {"Location": gone + path}, b""))
    try:
        url = hop.url + "/v1/customers"
        with pytest.raises(stripe.APIConnectionError) as sdk:
            stripe.RequestsClient(timeout=5.0).request("get", url, {})
        with pytest.raises(stripe.APIConnectionError) as ours:
            _client(hop.url).request("get", url, {})
        assert str(ours.value) == str(sdk.value)
    finally:
        hop.close()
