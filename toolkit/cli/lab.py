"""``python -m toolkit lab``: JupyterLab on the runbooks, on 127.0.0.1 with a fresh token.

The process becomes JupyterLab (exec), so stopping it (Ctrl-C, SIGTERM) stops the server; the
token travels in the environment (``JUPYTER_TOKEN``), never on the command line where ``ps``
would show it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the lab options to ``parser``."""
    parser.add_argument("--port", type=int, default=8888, help="port on 127.0.0.1 (default 8888)")
    parser.add_argument(
        "--notebooks", default=None, help="folder to open (default: the repository's notebooks/)"
    )


def run(args: argparse.Namespace) -> int:
    """Start JupyterLab on 127.0.0.1 with a fresh token and print the URL to open.

    The process becomes JupyterLab (exec), so stopping it (Ctrl-C, SIGTERM) stops the server;
    the token travels in the environment (``JUPYTER_TOKEN``), never on the command line where
    ``ps`` would show it.
    """
    folder = (
        Path(args.notebooks)
        if args.notebooks
        else Path(__file__).resolve().parents[2] / "notebooks"
    )
    if not folder.is_dir():
        print(f"error: no notebooks folder at {folder}; pass --notebooks PATH", file=sys.stderr)
        return 2
    token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={args.port}",
        f"--ServerApp.root_dir={folder}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    mode = (
        "your Stripe account (STRIPE_API_KEY is set)"
        if os.environ.get("STRIPE_API_KEY")
        else "the built-in sandbox (no STRIPE_API_KEY set)"
    )
    print(f"Starting JupyterLab on {folder} against {mode}.", flush=True)
    print(f"Open: http://127.0.0.1:{args.port}/lab?token={token}", flush=True)
    sys.stderr.flush()
    os.execve(sys.executable, command, {**os.environ, "JUPYTER_TOKEN": token})
    return 0  # not reached: the process is JupyterLab now
