"""The command line: ``python -m toolkit sandbox|export|audit|migration|lab``.

Examples::

    python -m toolkit sandbox --port 12111 --seed 7        # a sandbox in the foreground
    python -m toolkit export --out exports/sources.parquet # every source of the account
    python -m toolkit audit --out exports/audit.xlsx       # the receiver balance audit
    python -m toolkit migration --out exports/migration.xlsx # the Sources retirement audit
    python -m toolkit lab                                   # JupyterLab on the runbooks

Each command is a module of this wing with ``add_arguments(parser)`` and ``run(args) -> int``: a
thin layer over one call into the library.

With no ``STRIPE_API_KEY`` set, export and audit run against the embedded sandbox.

Exit codes: 0 done; 2 a usage error or an error of the toolkit or of Stripe (the message says
what to fix); 3 the retirement audit found work left (``migration``); 4 some ids or customers asked
for are unknown to Stripe (``export``: the others were written); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from toolkit.errors import ToolkitError

__all__ = ["main"]

# subcommand -> (module with add_arguments(parser) and run(args) -> int, help)
COMMANDS: dict[str, tuple[str, str]] = {
    "sandbox": ("toolkit.sandbox.cli", "run the Stripe-compatible sandbox on loopback"),
    "export": ("toolkit.cli.export", "export sources to Parquet or CSV"),
    "audit": ("toolkit.cli.audit", "write the receiver balance audit (Excel, CSV)"),
    "migration": ("toolkit.cli.migration", "write the Sources retirement audit (Excel, CSV)"),
    "lab": ("toolkit.cli.lab", "start JupyterLab on the runbooks"),
}


def _version() -> str:
    """The installed version (pyproject reads it from ``toolkit.__version__``: one source)."""
    try:
        return version("stripe-sources-toolkit")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="python -m toolkit", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
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
