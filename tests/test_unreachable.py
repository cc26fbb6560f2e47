"""Issue 28: a live key with no network is told so in about a second, naming the fix, not with
stripe-python's own message after 15 s; under ``--json`` the error is one JSON object on stderr.
A closed loopback port stands in for the network (never the real one)."""

from __future__ import annotations

import json
import socket
import time

import pytest

import toolkit
from toolkit.cli import main

LIVE = "sk_live_" + "N0Network" * 3


@pytest.fixture
def closed_port() -> str:
    """The address of a loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_no_connection_is_said_quickly_and_plainly(closed_port):
    session = toolkit.connect(LIVE, api_base=closed_port, quiet=True)
    started = time.monotonic()
    with pytest.raises(toolkit.StripeRequestError) as info:
        toolkit.load_sources(session, progress=False)
    took = time.monotonic() - started
    message = str(info.value)
    assert took < 3, f"took {took:.1f} s"
    assert f"could not connect to {closed_port}" in message and "refused" in message
    assert "STRIPE_API_BASE" in message and "Nothing was sent" in message
    assert "support@stripe.com" not in message  # not the SDK's message
    assert info.value.uncertain is False  # the request never left
    one = toolkit.connect(LIVE, api_base=closed_port, quiet=True)
    with pytest.raises(toolkit.StripeRequestError, match="could not connect"):
        one.raw("get", "/v1/sources/src_1")
    assert one.retries == 2  # one request: retried twice, briefly


def test_a_write_that_cannot_connect_was_not_sent(closed_port):
    session = toolkit.connect(LIVE, api_base=closed_port, quiet=True, allow_live=True)
    with pytest.raises(toolkit.StripeRequestError) as info:
        session.raw("post", "/v1/sources/src_1", {"metadata": {"a": "1"}})
    assert info.value.uncertain is False and "Nothing was sent" in str(info.value)


def test_the_cli_says_it_as_json(closed_port, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", LIVE)
    monkeypatch.setenv("STRIPE_API_BASE", closed_port)
    started = time.monotonic()
    assert main(["audit", "--json"]) == 6
    assert time.monotonic() - started < 3
    out, err = capsys.readouterr()
    assert out == ""
    error = json.loads(err.strip().splitlines()[-1])["error"]
    assert error["type"] == "StripeRequestError" and error["exit_code"] == 6
    assert "could not connect" in error["message"] and LIVE not in err
    assert not (tmp_path / "exports" / "audit.xlsx").exists()
