"""Inside a real Jupyter kernel: load_sources runs under the kernel's event loop, and a kernel
interrupt stops it promptly, leaving no worker thread behind."""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.slow

SETUP = """
import os, threading, time
for name in ("STRIPE_API_KEY", "STRIPE_API_BASE"):
    os.environ.pop(name, None)
from toolkit.sandbox import Sandbox
from toolkit.session import connect
from toolkit.fetch import load_sources
box = Sandbox(seed=3, customers=1500, latency=0.02).start()
session = connect("sk_test_" + "K3rnel" * 4, api_base=box.url, rate_limit=25, quiet=True)
"""
CHECK = """
import asyncio
workers = [t.name for t in threading.enumerate() if t.name.startswith("toolkit-fetch")]
print("WORKERS", workers, "LOOP", asyncio.get_event_loop().is_running())
"""


@pytest.fixture
def kernel() -> Iterator[Any]:
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _reply(kc: Any, msg_id: str, timeout: float) -> dict[str, Any]:
    """The shell reply to ``msg_id`` (skipping replies to earlier requests)."""
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg


def _run(kc: Any, code: str, timeout: float = 60) -> tuple[str, str]:
    """Execute ``code``; return (status, stdout)."""
    msg_id = kc.execute(code)
    out: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    return _reply(kc, msg_id, timeout)["content"]["status"], "".join(out)


def test_interrupt_stops_the_load_and_leaves_no_thread(kernel: Any) -> None:
    km, kc = kernel
    status, _ = _run(kc, SETUP)
    assert status == "ok"
    msg_id = kc.execute("df = load_sources(session, progress=False)")  # about 4 s at 25/s
    time.sleep(1.0)
    started = time.monotonic()
    km.interrupt_kernel()
    reply = _reply(kc, msg_id, 30)
    assert reply["content"]["status"] == "error"
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert time.monotonic() - started < 2.0
    # the interrupted cell's last messages may still be in flight: wait until the kernel is idle
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status, out = _run(kc, CHECK)
        if status == "ok":
            break
        time.sleep(0.2)
    assert status == "ok" and "WORKERS []" in out, (status, out)
    again = "print(len(load_sources(session, customers=list(box.store().order[:20]))))\n"
    status, out = _run(kc, again + CHECK)
    assert status == "ok" and "WORKERS []" in out and "LOOP True" in out
