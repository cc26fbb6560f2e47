"""``python -m toolkit``: every subcommand has help, and ``lab`` serves JupyterLab on loopback with a token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from toolkit.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("command", ["sandbox", "export", "audit", "lab"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: python -m toolkit " + command in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_lab_refuses_a_missing_folder(tmp_path, capsys):
    assert main(["lab", "--notebooks", str(tmp_path / "nope")]) == 2
    assert "--notebooks" in capsys.readouterr().err


@pytest.mark.slow
def test_lab_serves_the_runbooks_on_loopback_with_a_token(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "JUPYTER_TOKEN": "t0ken" * 4,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    env.pop("STRIPE_API_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "lab", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = proc.stdout.readline() + proc.stdout.readline()
        assert "built-in sandbox" in first
        assert f"http://127.0.0.1:{port}/lab?token={'t0ken' * 4}" in first
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/api/contents?token={'t0ken' * 4}"
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
                    listing = response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert status == 200, "JupyterLab did not answer within 60 s"
        assert ".ipynb" in listing  # it opened on notebooks/
        # without the token it refuses
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5)
        assert info.value.code == 403
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
