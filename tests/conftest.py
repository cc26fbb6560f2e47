"""Shared fixtures: a seeded sandbox for reading, fresh small sandboxes for writing.

Every test talks HTTP to a sandbox on loopback through the real stripe SDK.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

# A stray key in the environment must never reach a test: every test runs on the sandbox.
for _name in ("STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_ACCOUNT"):
    os.environ.pop(_name, None)

TEST_KEY = "sk_test_" + "T3st" * 6

# The read ledger of every session the suite (and each process it starts) opens: never the
# user's own (~/.local/share/stripe-sources-toolkit/reads.jsonl).
os.environ["TOOLKIT_READS_LEDGER"] = str(
    Path(tempfile.mkdtemp(prefix="toolkit-reads-")) / "reads.jsonl"
)

# Every process the suite starts inherits this mark, so the suite can tell its own servers apart.
# Under pytest-xdist the workers keep the mark of the run that started them.
if "PYTEST_XDIST_WORKER" not in os.environ or "TOOLKIT_TEST_RUN" not in os.environ:
    os.environ["TOOLKIT_TEST_RUN"] = uuid.uuid4().hex
RUN_MARK = f"TOOLKIT_TEST_RUN={os.environ['TOOLKIT_TEST_RUN']}"
#: Where pytest-xdist's workers take turns (see ``_turn``), one folder per run.
_TURN_FOLDER = Path(tempfile.gettempdir()) / f"toolkit-tests-{os.environ['TOOLKIT_TEST_RUN']}"


def _servers_left() -> list[str]:
    """Command lines of JupyterLab/Jupyter servers started by this run that are still alive."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if RUN_MARK.encode() in environ and ("jupyterlab" in cmdline or "jupyter-lab" in cmdline):
            found.append(f"pid {proc.name}: {cmdline[:200]}")
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No JupyterLab started by the suite may outlive it (checked once, by pytest-xdist's
    controller after every worker is done: a worker's failing status would not count)."""
    if hasattr(session.config, "workerinput"):
        return
    shutil.rmtree(_TURN_FOLDER, ignore_errors=True)
    deadline = time.monotonic() + 10
    left = _servers_left()
    while left and time.monotonic() < deadline:
        time.sleep(0.5)
        left = _servers_left()
    if left:
        print("\nJupyterLab servers outlived the test suite:\n  " + "\n  ".join(left))
        session.exitstatus = 1


@contextmanager
def _turn(alone: bool) -> Iterator[None]:
    """Under pytest-xdist: a test marked ``alone`` runs while no other worker runs a test (its
    assertions bound wall time); the others share the room. The gate is a turnstile, so a test
    waiting to be alone is not starved by the other workers' next tests."""
    folder = _TURN_FOLDER
    folder.mkdir(exist_ok=True)
    with open(folder / "gate", "a") as gate, open(folder / "room", "a") as room:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(room, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(room, fcntl.LOCK_UN)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Outside pytest-timeout's clock: waiting for the room is not the test's time."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        yield
        return
    with _turn(item.get_closest_marker("alone") is not None):
        yield


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
