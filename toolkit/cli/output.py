"""How every command reports: a few readable lines, or with ``--json`` one JSON object on stdout
(for scripts and CI), and the exit codes of :mod:`toolkit.cli.main`.

>>> summary = {"plan": "plan_x", "counts": {"ready": 2}}
>>> report(summary, ["Plan plan_x: 2 ready."], as_json=True)
{"counts": {"ready": 2}, "plan": "plan_x"}
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from typing import Any

__all__ = [
    "APPROVAL",
    "DONE",
    "NOT_FOUND",
    "OUTPUT",
    "PARTIAL",
    "READ_ALLOWANCE",
    "STRIPE_ERROR",
    "USAGE",
    "WORK_LEFT",
    "add_json",
    "report",
    "show_progress",
]

DONE = 0
USAGE = 2
WORK_LEFT = 3
NOT_FOUND = 4
PARTIAL = 5
STRIPE_ERROR = 6
OUTPUT = 7
READ_ALLOWANCE = 8
APPROVAL = 9


def show_progress(quiet: bool = False) -> bool:
    """Progress bars only on a terminal (never in a log or a pipe), and not when ``quiet``.

    >>> show_progress(quiet=True)
    False
    """
    return not quiet and bool(getattr(sys.stderr, "isatty", lambda: False)())


def add_json(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` to a command."""
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object (the summary) instead of text"
    )


def report(summary: dict[str, Any], lines: Iterable[str], *, as_json: bool) -> None:
    """Print ``summary`` as JSON (``as_json``) or ``lines`` as text, on stdout."""
    if as_json:
        print(json.dumps(summary, sort_keys=True, default=str))
    else:
        for line in lines:
            print(line)
    sys.stdout.flush()
