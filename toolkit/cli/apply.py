"""``python -m toolkit apply`` and ``undo``: run a signed-off plan file, or undo a run's journal.

Examples::

    python -m toolkit apply plans/plan_x.json --dry-run          # check it against Stripe first
    python -m toolkit apply plans/plan_x.json                    # test key or sandbox
    python -m toolkit apply plans/plan_x.json --live             # a live key must opt in
    python -m toolkit apply plans/plan_y.json --confirm 12       # a detach: its number of sources
    python -m toolkit apply plans/plan_x.json --live --no-approval  # a one-person team
    python -m toolkit undo journals/plan_x.jsonl                 # metadata and owner changes

With a live key the plan file must be approved by someone other than its maker first
(``python -m toolkit approve plans/plan_x.json``), or the waiver given (``--no-approval`` or
TOOLKIT_REQUIRE_APPROVAL=false, recorded in the journal); else exit 9, nothing sent.

Journaled into ``journals/`` (``--journal``): running the same command again resumes, never
sending a row twice. Exit 0 when every row is done, 5 when some failed, drifted, stayed
uncertain or were canceled (run it again to resume), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys

from toolkit.changes import Outcome, apply, check_confirmation, read_plan, undo
from toolkit.cli.output import PARTIAL, add_json, report, show_progress
from toolkit.errors import InvalidInputError, LiveModeRefused
from toolkit.session import Session, connect

__all__ = ["add_apply_arguments", "add_undo_arguments", "run_apply", "run_undo"]


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dry-run", action="store_true", help="check against Stripe, write nothing"
    )
    parser.add_argument("--live", action="store_true", help="allow writing with a live key")
    parser.add_argument("--journal", default="journals", help="journal folder (journals/)")
    parser.add_argument("--account", default=None, help="connected account id (acct_...)")
    add_json(parser)


def add_apply_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the apply options to ``parser``."""
    parser.add_argument("plan", help="a plan file from `python -m toolkit plan` (or save_plan)")
    parser.add_argument(
        "--confirm", default=None, help="a detach plan: the number of sources it detaches"
    )
    parser.add_argument(
        "--no-approval",
        action="store_true",
        help="waive the second person's approval a live write needs (recorded in the journal)",
    )
    _common(parser)


def add_undo_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the undo options to ``parser``."""
    parser.add_argument("journal", help="the journal of the run to undo (journals/plan_....jsonl)")
    _common(parser)


def _finish(outcome: Outcome, as_json: bool, session: Session) -> int:
    lines = [outcome.headline(), f"Read: {session.reads_line(outcome.reads)}"]
    if not len(outcome.df):
        lines += outcome.notes  # nothing to do: say why
    if outcome.journal:
        lines.append(f"Journal: {outcome.journal}")
    shown = ["failed", "uncertain", "drifted", "canceled"]
    if outcome.plan.undoes:  # an undo says what it put back, row by row
        shown.append("ok")
    problems = outcome.df[outcome.df["result"].isin(shown)]
    lines += [f"  {r.source}: {r.result}: {r.message}" for r in problems.head(20).itertuples()]
    if not outcome.ok:
        lines.append("Some rows are not done: run the same command again to resume.")
    summary = {
        "plan": outcome.plan.id,
        "dry_run": outcome.dry_run,
        "totals": outcome.totals,
        "journal": str(outcome.journal) if outcome.journal else None,
        "ok": outcome.ok,
        "reads": outcome.reads,
    }
    report(summary, lines, as_json=as_json)
    return 0 if outcome.ok else PARTIAL


def _live_hint(exc: LiveModeRefused) -> InvalidInputError:
    return InvalidInputError(f"{exc} From the command line: add --live to write with a live key.")


def run_apply(args: argparse.Namespace) -> int:
    """Apply (or dry-run) the plan file; 0 all done, 5 some rows not done."""
    plan = read_plan(args.plan)
    if not args.dry_run:
        check_confirmation(plan, args.confirm)
    tty = show_progress()
    with connect(stripe_account=args.account, allow_live=args.live, quiet=True) as session:
        print(f"{'Checking' if args.dry_run else 'Applying'} {plan.id} on {session.account_label}",
              file=sys.stderr)  # fmt: skip
        try:
            outcome = apply(
                plan,
                session,
                dry_run=args.dry_run,
                journal=args.journal,
                progress=tty,
                require_approval=False if args.no_approval else None,
            )
        except LiveModeRefused as exc:
            raise _live_hint(exc) from None
        return _finish(outcome, args.json, session)


def run_undo(args: argparse.Namespace) -> int:
    """Undo (or dry-run the undo of) a journaled run; 0 all restored, 5 some rows not."""
    tty = show_progress()
    with connect(stripe_account=args.account, allow_live=args.live, quiet=True) as session:
        try:
            outcome = undo(args.journal, session, dry_run=args.dry_run, progress=tty)
        except LiveModeRefused as exc:
            raise _live_hint(exc) from None
        return _finish(outcome, args.json, session)
