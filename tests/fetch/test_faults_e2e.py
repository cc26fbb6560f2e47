"""The same sources, each exactly once, under injected 429s, 500s, dropped connections, latency."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fetch.brute import as_map, lower_bound, stored
from toolkit.fetch import load_sources
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

KEY = "sk_test_" + "Fau1ts" * 4


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    """800 customers: eight customer pages, enough for several windows and continuations."""
    with Sandbox(seed=5, customers=800) as sandbox:
        yield sandbox


@pytest.fixture
def faulty(box: Sandbox) -> Iterator[Sandbox]:
    box.faults_off()
    box.clear_log()
    yield box
    box.faults_off()


def _session(box: Sandbox) -> Session:
    return connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)


def _check(box: Sandbox, session: Session) -> None:
    df = load_sources(session, progress=False)
    assert df["id"].is_unique
    assert as_map(df) == stored(box)


def test_without_faults_requests_stay_near_the_lower_bound(faulty: Sandbox) -> None:
    session = _session(faulty)
    _check(faulty, session)
    made = sum(1 for r in faulty.requests if r.status == 200)
    assert made == session.limiter.acquired
    assert made <= lower_bound(faulty) * 1.05 + 2
    windows = {str(r.params.get("created")) for r in faulty.requests if r.path == "/v1/customers"}
    assert len(windows) > 1  # the customer list was paged in several created windows


def test_rate_limited_429s(faulty: Sandbox) -> None:
    faulty.set_faults(rate_limit=20)
    session = _session(faulty)
    _check(faulty, session)
    assert any(r.status == 429 for r in faulty.requests)


def test_server_errors(faulty: Sandbox) -> None:
    faulty.set_faults(error_rate=0.15)
    session = _session(faulty)
    _check(faulty, session)
    assert any(r.status >= 500 for r in faulty.requests)
    assert session.retries > 0


def test_dropped_connections(faulty: Sandbox) -> None:
    faulty.set_faults(drop_rate=0.1)
    session = _session(faulty)
    _check(faulty, session)
    assert session.retries > 0


def test_latency_and_jitter_reorder_responses(faulty: Sandbox) -> None:
    faulty.set_faults(latency=0.005, jitter=0.03)
    _check(faulty, _session(faulty))


@pytest.mark.slow
def test_everything_at_once(faulty: Sandbox) -> None:
    faulty.set_faults(latency=0.002, jitter=0.01, error_rate=0.05, drop_rate=0.05, rate_limit=150)
    _check(faulty, _session(faulty))
