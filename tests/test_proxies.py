"""The environment's proxy settings are read once per session, for its server (requests would
read the whole environment again for every request): the same proxies, NO_PROXY honoured."""

from __future__ import annotations

import pytest

from toolkit.session.guarded_http import GuardedHTTPClient


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
