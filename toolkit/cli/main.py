"""The command line: ``python -m toolkit COMMAND`` (or ``stripe-sources COMMAND``).

Examples::

    python -m toolkit sandbox --port 12111 --seed 7          # a sandbox in the foreground
    python -m toolkit export --out exports/sources.parquet   # every source of the account
    python -m toolkit audit --out exports/audit.xlsx         # the receiver balance audit
    python -m toolkit migration --out exports/migration.xlsx # the Sources retirement audit
    python -m toolkit plan metadata --table changes.csv      # a plan file, for sign-off
    python -m toolkit approve plans/plan_x.json              # a second person approves it
    python -m toolkit apply plans/plan_x.json --dry-run      # then without --dry-run
    python -m toolkit undo journals/plan_x.jsonl             # restore what a run changed
    python -m toolkit report --out exports/month-end.html    # both audits as one HTML file
    python -m toolkit lab                                    # JupyterLab on the runbooks
    python -m toolkit completion bash                        # a shell completion script

Each command is a thin layer over one call into the library (``add_arguments(parser)`` and
``run(args) -> int`` in a module of this wing); ``--json`` prints a command's summary as one JSON
object. With no ``STRIPE_API_KEY`` set, commands run against the embedded sandbox.

Exit codes: 0 done; 2 a usage error or bad input (the message says what to fix); 3 the
retirement audit found work left (``migration``); 4 some ids or customers asked for are unknown
to Stripe (the others were handled); 5 partly done: some rows failed, drifted, stayed uncertain
or were canceled (``apply``, ``undo``: run it again to resume); 6 Stripe refused or could not be
reached after retries; 7 an output file could not be written (a full disk, no permission, a folder
where the file should go: the message says which; nothing half-written is left); 8 the read
allowance of 30 days would be passed (nothing more was sent: the message names the cheaper ways
and how to raise it); 9 a live write of a plan no one but its maker approved (the message
names the fix: ``approve``, or the recorded waiver ``--no-approval``); 130 interrupted.
Every toolkit error is one ``error: ...`` line on stderr, without a traceback; with ``--json``
it is one JSON object on stderr instead: ``{"error": {"type": "ApprovalRequired", "message":
"...", "exit_code": 9}}`` (usage errors too, ``"type": "UsageError"``).

``TOOLKIT_LOG=info`` (or debug, warning) logs the ``toolkit`` logger to stderr: at INFO each
session's requests summarised, retries, 429s and journal events (never a key nor customer data);
at DEBUG every request and journal row too (paths with ids).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import re
import sys
from collections.abc import Collection, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import NoReturn

from toolkit.cli.output import (
    APPROVAL,
    NOT_FOUND,
    OUTPUT,
    READ_ALLOWANCE,
    STRIPE_ERROR,
    USAGE,
)
from toolkit.errors import (
    ApprovalRequired,
    NotFoundError,
    OutputError,
    ReadAllowanceError,
    StripeRequestError,
    ToolkitError,
)
from toolkit.redact import mask_secrets

__all__ = ["error_json", "exit_code_of", "main"]

# subcommand -> (module, its add-arguments function, its run function, help)
COMMANDS: dict[str, tuple[str, str, str, str]] = {
    "sandbox": ("toolkit.sandbox.cli", "add_arguments", "run", "run the Stripe-compatible sandbox on loopback"),
    "export": ("toolkit.cli.export", "add_arguments", "run", "export sources to Parquet or CSV"),
    "refresh": ("toolkit.cli.refresh", "add_arguments", "run", "bring a snapshot up to date from Stripe's events"),
    "audit": ("toolkit.cli.audit", "add_arguments", "run", "write the receiver balance audit (Excel, CSV)"),
    "migration": ("toolkit.cli.migration", "add_arguments", "run", "write the Sources retirement audit (Excel, CSV)"),
    "plan": ("toolkit.cli.plan", "add_arguments", "run", "make a plan file from a CSV or an id list, for sign-off"),
    "approve": ("toolkit.cli.approve", "add_arguments", "run", "approve a plan file as its second person (checker)"),
    "apply": ("toolkit.cli.apply", "add_apply_arguments", "run_apply", "apply a plan file (journaled, resumable)"),
    "undo": ("toolkit.cli.apply", "add_undo_arguments", "run_undo", "undo a run from its journal"),
    "report": ("toolkit.cli.report", "add_arguments", "run", "write both audits as one self-contained HTML file"),
    "lab": ("toolkit.cli.lab", "add_arguments", "run", "start JupyterLab on the runbooks"),
    "completion": ("toolkit.cli.completion", "add_arguments", "run", "print a bash or zsh completion script"),
}  # fmt: skip


def _version() -> str:
    """The installed version (pyproject reads it from ``toolkit.__version__``: one source)."""
    try:
        return version("stripe-sources-toolkit")
    except PackageNotFoundError:
        return "unknown (not installed)"


def program_name(argv0: str | None = None) -> str:
    """How the user ran us, for the help: ``python -m toolkit`` or the installed script's name.

    >>> program_name("/x/toolkit/__main__.py"), program_name("/venv/bin/stripe-sources")
    ('python -m toolkit', 'stripe-sources')
    """
    name = Path(argv0 if argv0 is not None else sys.argv[0]).name
    return "python -m toolkit" if name in ("__main__.py", "", "-c") else name


def command_of(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` asks for (its first word that is not an option), or None.

    >>> command_of(["--version"]), command_of(["audit", "--out", "a.xlsx"]), command_of(["x"])
    (None, 'audit', None)
    """
    word = next((w for w in argv if not w.startswith("-")), None)
    return word if word in COMMANDS else None


_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")  # :func:`~toolkit.export_sources`
_LITERAL = re.compile(r"``([^`]+)``")  # ``--force``
_STRONG = re.compile(r"\*\*([^*]+)\*\*")  # **A working copy.**


def plain_help(doc: str, prog: str = "python -m toolkit") -> str:
    """A module's docstring as ``--help`` shows it: plain text, no reST markup, the program
    named as the user ran it.

    >>> print(plain_help("``python -m toolkit export``: see :func:`~toolkit.export_sources`."))
    python -m toolkit export: see toolkit.export_sources.
    >>> plain_help("**Examples**::", "stripe-sources")
    'Examples:'
    """
    text = _STRONG.sub(r"\1", _LITERAL.sub(r"\1", _ROLE.sub(r"\1", doc)))
    text = re.sub(r"::$", ":", text, flags=re.MULTILINE)
    return text.replace("python -m toolkit", prog).strip()


def build_parser(
    prog: str | None = None, *, commands: Collection[str] | None = None
) -> argparse.ArgumentParser:
    """The argument parser with every subcommand, and the options of ``commands`` (all of them
    when None); ``parser.commands`` maps each declared command to its own parser, whose usage an
    error in its options prints.

    Every command is listed either way, but a command's module (and what it imports) loads only
    when its options are declared: ``python -m toolkit --help`` loads none of them, ``python -m
    toolkit sandbox`` only the sandbox's.
    """
    prog = prog or program_name()
    parser = _Parser(
        prog=prog,
        description=__doc__.split("\n")[0],
        epilog="Exit codes: 0 done, 2 usage or input, 3 work left, 4 not found, 5 partly done, "
        "6 Stripe error, 7 output not written, 8 read allowance reached, 9 approval required, "
        "130 interrupted. With --json an error is one JSON object on stderr.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    parsers: dict[str, argparse.ArgumentParser] = {}
    for name, (module_name, add_name, run_name, help_text) in COMMANDS.items():
        if commands is not None and name not in commands:
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        command = sub.add_parser(
            name,
            help=help_text,
            description=plain_help(module.__doc__ or help_text, prog),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        getattr(module, add_name)(command)
        command.set_defaults(run=getattr(module, run_name))
        parsers[name] = command
    parser.set_defaults(commands=parsers)
    return parser


#: Each error's exit code, the first class that matches (the order matters: subclasses first).
EXIT_CODES: tuple[tuple[type[BaseException], int], ...] = (
    (NotFoundError, NOT_FOUND),
    (StripeRequestError, STRIPE_ERROR),
    (OutputError, OUTPUT),
    (ReadAllowanceError, READ_ALLOWANCE),
    (ApprovalRequired, APPROVAL),
    (ToolkitError, USAGE),
    (KeyboardInterrupt, 130),
)


def exit_code_of(exc: BaseException) -> int:
    """The exit code of an error (1 for one that is not the toolkit's).

    >>> exit_code_of(ApprovalRequired("x")), exit_code_of(ValueError("x"))
    (9, 1)
    """
    return next((code for kind, code in EXIT_CODES if isinstance(exc, kind)), 1)


def error_json(kind: str, message: str, code: int) -> str:
    """An error as ``--json`` writes it on stderr: one JSON object on one line.

    >>> error_json("UsageError", "bad", 2)
    '{"error": {"exit_code": 2, "message": "bad", "type": "UsageError"}}'
    """
    body = {"type": kind, "message": mask_secrets(message), "exit_code": code}
    return json.dumps({"error": body}, sort_keys=True)


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors are JSON on stderr when the command line asks for --json."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if _Parser.json_errors:
            print(error_json("UsageError", f"{self.prog}: {message}", USAGE), file=sys.stderr)
            sys.exit(USAGE)
        super().error(message)


def _log_to_stderr() -> None:
    """``TOOLKIT_LOG=info`` (debug, warning, error): the toolkit logger on stderr."""
    level = os.environ.get("TOOLKIT_LOG", "").strip().upper()
    if not level:
        return
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        print(f"warning: TOOLKIT_LOG={level.lower()} is not debug, info, warning or error; "
              "logging stays off.", file=sys.stderr)  # fmt: skip
        return
    logger = logging.getLogger("toolkit")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``argv`` parsed; an option the command does not know is an error of that command (its
    usage, not the list of commands). Only the command asked for is loaded."""
    words = list(sys.argv[1:] if argv is None else argv)
    command = command_of(words)
    parser = build_parser(commands=[command] if command else [])
    args, extra = parser.parse_known_args(words)
    if extra:
        command = args.commands.get(getattr(args, "command", None), parser)
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand: ``main(["export", "--out", "s.parquet"])``.

    Only the subcommand asked for is loaded (with no command, none is).
    """
    words = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in words
    _Parser.json_errors = as_json
    try:
        args = parse(words)
    finally:
        _Parser.json_errors = False
    _log_to_stderr()
    try:
        return int(args.run(args) or 0)
    except (ToolkitError, KeyboardInterrupt) as exc:
        code = exit_code_of(exc)
        if as_json:
            kind = "Interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__
            print(error_json(kind, str(exc) or "interrupted", code), file=sys.stderr)
        elif isinstance(exc, KeyboardInterrupt):
            print("interrupted", file=sys.stderr)
        else:
            print(f"error: {exc}", file=sys.stderr)
        return code
    except Exception as exc:
        if not as_json:
            raise
        print(error_json(type(exc).__name__, str(exc), 1), file=sys.stderr)
        return 1
