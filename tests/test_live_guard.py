"""The live guard has no side door, and no key or URL credential is ever shown.

Every non-GET request of a live session without ``allow_live=True`` is refused before it leaves
the machine, whichever door it takes (apply, ``Session.raw``, ``Session.call``, the SDK client).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import toolkit
from toolkit.errors import ConfigurationError, LiveModeRefused
from toolkit.session import connect

LIVE = "sk_live_" + "L1ve" * 6
TEST = "sk_test_" + "T3st" * 6


@pytest.mark.parametrize("value", ["False", "no", "yes", "True", 1, 0, None, "", [True]])
def test_allow_live_must_be_a_boolean(value):
    with pytest.raises(ConfigurationError, match="allow_live"):
        connect(LIVE, allow_live=value, quiet=True)


def test_allow_live_cannot_be_set_to_a_string_later():
    session = connect(LIVE, quiet=True)
    with pytest.raises(ConfigurationError, match="allow_live"):
        session.allow_live = "yes"  # type: ignore[assignment]
    assert session.allow_live is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("False", False), ("FALSE", False)],
)
def test_runbook_flags_parse_strictly(value, expected):
    assert toolkit.parse_flag(value, "allow_live") is expected


@pytest.mark.parametrize("value", ["no", "0", "", "yes please", 1, None, 0.0])
def test_runbook_flags_refuse_anything_else(value):
    with pytest.raises(ConfigurationError, match="allow_live") as info:
        toolkit.parse_flag(value, "allow_live")
    assert "-p allow_live True" in str(info.value)


@pytest.fixture
def live(fresh_sandbox):
    return connect(LIVE, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True)


def live_source(box):
    store = box.store(livemode=True)
    return next(sid for sid, src in store.sources.items() if src.get("customer"))


def test_every_door_refuses_live_writes(fresh_sandbox, live):
    box = fresh_sandbox
    sid = live_source(box)
    customer = box.store(livemode=True).sources[sid]["customer"]
    box.clear_log()
    doors = [
        lambda: live.raw("post", f"/v1/sources/{sid}", {"metadata": {"x": "1"}}),
        lambda: live.raw("delete", f"/v1/customers/{customer}/sources/{sid}"),
        lambda: live.call(live.client.v1.sources.update, sid, {"metadata": {"x": "1"}}),
        lambda: live.call(live.client.v1.sources.detach, customer, sid),
        lambda: live.client.v1.sources.update(sid, {"metadata": {"x": "1"}}),
        lambda: live.client.v1.customers.payment_sources.delete(customer, sid),
    ]
    for door in doors:
        with pytest.raises(LiveModeRefused, match="allow_live=True"):
            door()
    assert not [e for e in box.requests if e.method != "GET"]  # nothing left the machine
    # reads still work
    assert live.raw("get", f"/v1/sources/{sid}")["id"] == sid
    allowed = connect(LIVE, api_base=box.url, rate_limit=1000, quiet=True, allow_live=True)
    allowed.raw("post", f"/v1/sources/{sid}", {"metadata": {"x": "1"}})
    assert box.get_source(sid, livemode=True)["metadata"]["x"] == "1"


def test_a_key_pasted_in_the_wrong_setting_is_never_shown(monkeypatch, in_tmp_cwd):
    monkeypatch.setenv("STRIPE_API_KEY", TEST)
    monkeypatch.setenv("STRIPE_ACCOUNT", LIVE)
    with pytest.raises(ConfigurationError) as info:
        connect(quiet=True)
    assert LIVE not in str(info.value) and "stripe_account" in str(info.value)
    monkeypatch.delenv("STRIPE_ACCOUNT")
    monkeypatch.setenv("STRIPE_API_BASE", LIVE)
    with pytest.raises(ConfigurationError) as info:
        connect(quiet=True)
    assert LIVE not in str(info.value)


@pytest.mark.slow
def test_the_traceback_does_not_show_the_key(in_tmp_cwd):
    env = {**os.environ, "STRIPE_API_KEY": TEST, "STRIPE_ACCOUNT": LIVE}
    done = subprocess.run(
        [sys.executable, "-c", "import toolkit; toolkit.connect()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "ConfigurationError" in done.stderr
    assert LIVE not in done.stderr and LIVE[8:] not in done.stderr


def test_url_credentials_are_masked(capsys, fresh_sandbox):
    port = fresh_sandbox.url.rsplit(":", 1)[1]
    base = f"http://admin:{LIVE}@127.0.0.1:{port}"
    session = connect(api_base=base)  # no key: the server at api_base as a sandbox
    shown = repr(session) + capsys.readouterr().out
    assert LIVE not in shown and "admin" not in shown
    assert f"127.0.0.1:{port}" in shown


def test_toolkit_errors_mask_anything_shaped_like_a_key():
    error = toolkit.InvalidInputError(f"bad value {LIVE} and https://u:p4ss@example.com/x")
    text = str(error) + repr(error)
    assert LIVE not in text and "p4ss" not in text
    assert "sk_live_…L1ve" in text
