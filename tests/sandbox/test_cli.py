"""``python -m toolkit sandbox`` / ``toolkit.sandbox.cli``: serve in the foreground until Ctrl-C."""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from toolkit.sandbox.cli import add_arguments


def test_arguments() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    argv = "--port 0 --seed 3 --customers 9 --latency 0.1 --jitter 0.05 --rate-limit 25"
    argv += " --error-rate 0.1 --drop-rate 0.05 --fault-method POST --fault-path ^/v1/sources"
    args = parser.parse_args(argv.split(" "))
    assert (args.port, args.seed, args.customers, args.rate_limit) == (0, 3, 9, 25.0)
    assert (args.fault_method, args.fault_path) == ("POST", "^/v1/sources")


@pytest.mark.slow
def test_serves_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit.sandbox.cli", "--port", "0", "--customers", "12"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a suite started in the background (``cmd &``) has SIGINT ignored: restore Ctrl-C's
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("Stripe sandbox on http://127.0.0.1:"), line
        # the count a load reads is told apart from the sources reachable by id only
        counts = re.search(
            r"([\d,]+) sources: ([\d,]+) attached .* ([\d,]+) detached or never", line
        )
        assert counts, line
        total, attached, by_id = (int(n.replace(",", "")) for n in counts.groups())
        assert total == attached + by_id and attached > 0
        url = line.split()[3]
        req = urllib.request.Request(
            f"{url}/v1/customers?limit=3", headers={"Authorization": "Bearer sk_test_cli"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert len(json.load(resp)["data"]) == 3
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)  # a loaded CI box is slow to wind down
        assert proc.returncode == 0
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
