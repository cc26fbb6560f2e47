"""The sandbox's model of Stripe's read request allocation: reads counted per allocation (the
platform's own; its reads for connected accounts) and mode, writes not counted, and past
``read_allocation`` the final 429 the sandbox chose (Stripe's docs name none)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator

import pytest

from tests.sandbox.conftest import KEY, LIVE_KEY, send
from toolkit.sandbox import Sandbox
from toolkit.sandbox.cli import add_arguments


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(seed=3, customers=12, read_allocation=3) as sandbox:
        yield sandbox


def test_past_the_allocation_a_read_gets_a_final_429(box: Sandbox) -> None:
    for _ in range(3):
        assert send(box, "GET", "/v1/customers?limit=1")[0] == 200
    status, headers, body = send(box, "GET", "/v1/customers?limit=1")
    error = json.loads(body)["error"]
    assert status == 429
    assert error["code"] == "rate_limit" and error["type"] == "invalid_request_error"
    assert "read request allocation" in error["message"]
    assert headers["stripe-should-retry"] == "false"
    assert headers["stripe-rate-limited-reason"] == "read-allocation"
    assert box.requests[-1].limited == "read-allocation"
    assert box.reads_used() == 3  # the refused read is not counted


def test_writes_are_not_counted_nor_refused(box: Sandbox) -> None:
    source = next(iter(box.store().sources))
    for n in range(5):
        status, _, _ = send(box, "POST", f"/v1/sources/{source}", f"metadata[n]={n}")
        assert status == 200
    assert box.reads_used() == 0


def test_each_allocation_and_mode_apart(box: Sandbox) -> None:
    account = sorted(box.connected_accounts)[0]
    for _ in range(3):
        assert send(box, "GET", "/v1/customers?limit=1")[0] == 200
    assert send(box, "GET", "/v1/customers?limit=1")[0] == 429
    # the platform's reads on behalf of connected accounts: a separate allocation
    on_behalf = {"Stripe-Account": account}
    assert send(box, "GET", "/v1/customers?limit=1", headers=on_behalf)[0] == 200
    assert box.reads_used(account) == 1
    # live mode has its own
    assert send(box, "GET", "/v1/customers?limit=1", key=LIVE_KEY)[0] == 200
    assert box.reads_used(None, livemode=True) == 1
    box.reset()
    assert send(box, "GET", "/v1/customers?limit=1", key=KEY)[0] == 200


def test_without_an_allocation_reads_are_counted_never_refused() -> None:
    with Sandbox(seed=3, customers=5) as sandbox:
        for _ in range(4):
            assert send(sandbox, "GET", "/v1/customers?limit=1")[0] == 200
        assert sandbox.reads_used() == 4


def test_the_cli_flag() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert parser.parse_args(["--read-allocation", "10000"]).read_allocation == 10_000
    assert parser.parse_args([]).read_allocation is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--read-allocation", "-5"])
    with pytest.raises(ValueError, match="read_allocation"):
        Sandbox(read_allocation=-1)
