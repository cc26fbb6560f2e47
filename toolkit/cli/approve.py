"""``python -m toolkit approve PLAN``: record your approval of a plan file, as its checker.

Examples::

    python -m toolkit plan metadata --table changes.csv --maker "Ada L."   # the maker
    python -m toolkit approve plans/plan_x.json --name "Bea C."            # someone else
    python -m toolkit apply plans/plan_x.json --live                       # then it may run

The approval is of the file's exact digest, by the OS user you are logged in as (``--name``
adds your name), and goes to the approvals file beside the plan
(``plans/plan_x.approvals.jsonl``). A live apply refuses a plan without an approval by someone
other than its maker (exit 9); the apply records the approvals it relied on in its journal.
The maker cannot approve their own plan (exit 2), nor can a file changed since it was saved be
approved.
"""

from __future__ import annotations

import argparse

from toolkit.changes import approve
from toolkit.changes.plans.approval import approvals_path
from toolkit.cli.output import add_json, report

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the approve options to ``parser``."""
    parser.add_argument("plan", help="the plan file to approve (plans/plan_x.json)")
    parser.add_argument("--name", default=None, help="your name, recorded beside your OS user")
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Approve the plan file; 0 when recorded."""
    record = approve(args.plan, checker=args.name)
    checker, maker = record["checker"], record["maker"]
    lines = [
        f"Approved {record['plan_id']} (digest {record['digest'][:12]}…) as "
        f"{checker['name'] or checker['user']} (user {checker['user']}); "
        f"maker {maker.get('name') or maker.get('user')} (user {maker.get('user')}).",
        f"Recorded in {approvals_path(args.plan)}.",
    ]
    summary = {**record, "approvals": str(approvals_path(args.plan))}
    report(summary, lines, as_json=args.json)
    return 0
