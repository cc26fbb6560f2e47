"""The command line: ``python -m toolkit sandbox|export|audit|lab``.

Examples::

    python -m toolkit sandbox --port 12111 --seed 7        # a sandbox in the foreground
    python -m toolkit export --out exports/sources.parquet # every source of the account
    python -m toolkit audit --out exports/audit.xlsx       # the receiver balance audit
    python -m toolkit lab                                   # JupyterLab on the runbooks

With no ``STRIPE_API_KEY`` set, export and audit run against the embedded sandbox.
"""

from __future__ import annotations

import argparse
import importlib
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

from toolkit.errors import ToolkitError

__all__ = ["main"]

# subcommand -> (module with add_arguments(parser) and run(args) -> int, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": ("toolkit.sandbox.cli", "run the Stripe-compatible sandbox on loopback"),
    "export": ("toolkit.export", "export sources to Parquet or CSV"),
    "audit": ("toolkit.audit_cli", "write the receiver balance audit (Excel, CSV)"),
}


def _add_lab_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8888, help="port on 127.0.0.1 (default 8888)")
    parser.add_argument(
        "--notebooks", default=None, help="folder to open (default: the repository's notebooks/)"
    )


def _run_lab(args: argparse.Namespace) -> int:
    """Start JupyterLab on 127.0.0.1 with a fresh token and print the URL to open.

    The process becomes JupyterLab (exec), so stopping it (Ctrl-C, SIGTERM) stops the server;
    the token travels in the environment (``JUPYTER_TOKEN``), never on the command line where
    ``ps`` would show it.
    """
    folder = (
        Path(args.notebooks)
        if args.notebooks
        else Path(__file__).resolve().parent.parent / "notebooks"
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    lab = sub.add_parser(
        "lab", help="start JupyterLab on the runbooks", description=_run_lab.__doc__
    )
    _add_lab_arguments(lab)
    lab.set_defaults(run=_run_lab)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand: ``main(["export", "--out", "s.parquet"])``."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except ToolkitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
