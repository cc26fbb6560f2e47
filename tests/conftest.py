"""Shared fixtures: a seeded sandbox for reading, fresh small sandboxes for writing.

Every test talks HTTP to a sandbox on loopback through the real stripe SDK.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

# A stray key in the environment must never reach a test: every test runs on the sandbox.
for _name in ("STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_ACCOUNT"):
    os.environ.pop(_name, None)

TEST_KEY = "sk_test_" + "T3st" * 6


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The default seeded sandbox (seed 7), shared by the whole run: read it, never write to it."""
    with Sandbox(seed=7) as box:
        yield box


@pytest.fixture(scope="session")
def session(sandbox: Sandbox) -> Session:
    """A test-mode session on the shared sandbox, rate limit lifted for speed."""
    return connect(TEST_KEY, api_base=sandbox.url, rate_limit=1000, quiet=True)


@pytest.fixture
def fresh_sandbox() -> Iterator[Sandbox]:
    """A small seeded sandbox of its own (60 customers), free to write to."""
    with Sandbox(seed=11, customers=60) as box:
        yield box


@pytest.fixture
def fresh_session(fresh_sandbox: Sandbox) -> Session:
    """A test-mode session on ``fresh_sandbox``."""
    return connect(TEST_KEY, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True)


@pytest.fixture
def in_tmp_cwd(tmp_path, monkeypatch):
    """Run the test in an empty working folder (no .env, journals land in tmp)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path
