"""``python -m toolkit migration``: the Sources retirement audit, headless (read only).

Examples::

    python -m toolkit migration --out exports/migration.xlsx         # sandbox unless a key is set
    python -m toolkit migration --csv exports/migration --png exports/migration.png
    python -m toolkit migration --unapplied-days 30 --as-of 2026-11-01T00:00:00Z
    python -m toolkit migration --out exports/migration.xlsx --force  # replace an earlier one
    python -m toolkit migration --successors --bills --tie-out   # where the money lives now

``--successors``, ``--bills`` and ``--tie-out`` read more (payment methods per customer still
paying with a source, open invoices and subscriptions, the ledger behind the receivers): they
spend the account's read allocation, so they run only when asked, and the least reads each
takes is printed before it starts.

Exit code 0 when every customer is ready, 3 when some need action or are blocked (the workbook is
written either way), 2 for a usage error, 6 for a Stripe error. An existing file is never
replaced without ``--force``.
"""

from __future__ import annotations

import argparse
import sys

from toolkit.audit.migration.export import MIGRATION_SHEETS
from toolkit.cli.audit import check_outputs
from toolkit.cli.output import DONE, WORK_LEFT, add_json, report, show_progress
from toolkit.errors import InvalidInputError

__all__ = ["add_arguments", "run"]

DEFAULT_OUT = "exports/migration.xlsx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the migration options to ``parser``."""
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"workbook to write ({DEFAULT_OUT})")
    parser.add_argument("--csv", default=None, metavar="FOLDER", help="also one CSV per table")
    parser.add_argument("--png", default=None, metavar="PATH", help="also the charts as PNG")
    parser.add_argument("--as-of", default=None, help="audit date (default: the load's time)")
    parser.add_argument(
        "--unapplied-days",
        type=int,
        default=14,
        help="days cash may sit unapplied in a cash balance before it is flagged (default 14)",
    )
    parser.add_argument("--account", default=None, help="connected account id (acct_...)")
    parser.add_argument(
        "--successors",
        action="store_true",
        help="also read the payment methods that replace each source (a read per customer)",
    )
    parser.add_argument(
        "--bills",
        action="store_true",
        help="also read open invoices and subscriptions: what is wired to Sources, receivables",
    )
    parser.add_argument(
        "--tie-out",
        action="store_true",
        help="also read the charges, refunds, sweeps and payouts behind every receiver",
    )
    parser.add_argument(
        "--journal",
        default=None,
        metavar="FILE",
        help="a change run's journal: the cover shows its maker, checker (or waiver) and digest",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the files --out, --csv and --png name (an existing file is never "
        "replaced without it)",
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Run the audit of parsed ``args``; 0 when all ready, 3 when some are not."""
    from toolkit.audit.migration.load import run_migration_audit
    from toolkit.money import format_money
    from toolkit.session import connect

    if args.unapplied_days < 0:
        raise InvalidInputError("--unapplied-days must be 0 or more.")
    check_outputs(args.out, args.csv, args.png, MIGRATION_SHEETS, args.force)
    if args.journal:
        from toolkit.audit.cover import change_facts

        change_facts(args.journal)  # an unreadable or edited journal fails before any read
    tty = show_progress()
    with connect(stripe_account=args.account, quiet=True) as session:
        print(f"Reading {session.account_label} ...", file=sys.stderr, flush=True)
        asked = {
            "payment_methods": args.successors,
            "bills": args.bills,
            "ledger": args.tie_out,
        }
        audit = run_migration_audit(
            session,
            as_of=args.as_of,
            unapplied_days=args.unapplied_days,
            progress=tty,
            announce=lambda least: print(
                "Also reading, at least: "
                + ", ".join(f"{k.replace('_', ' ')} {n:,} reads" for k, n in least.items()),
                file=sys.stderr,
                flush=True,
            ),
            **asked,
        )
    lines = [
        f"{audit.count('ready')} ready, {audit.count('needs action')} need action, "
        f"{audit.count('blocked')} blocked; {len(audit.exceptions)} findings."
    ]
    funds: dict[str, dict[str, str]] = {}
    for _, row in audit.by_currency.iterrows():
        cur = str(row["currency"])
        funds[cur] = {
            "legacy_receivers": str(row["legacy_unapplied_major"]),
            "cash_balances": str(row["cash_available_major"]),
        }
        lines.append(
            f"  {cur.upper()}: {format_money(int(row['legacy_unapplied']), cur)} on legacy "
            f"receivers, {format_money(int(row['cash_available']), cur)} in cash balances"
        )
    if len(audit.successors.columns):
        without = audit.successors.loc[~audit.successors["has_successor"], "customer"].nunique()
        lines.append(f"  successors: {without} customer(s) without one")
    if len(audit.wired.columns):
        lines.append(f"  wired to Sources: {len(audit.wired)} bill(s)")
    if len(audit.tie_out.columns):
        gaps = int((audit.tie_out["gap"] != 0).sum())
        lines.append(f"  tie-out: {len(audit.tie_out)} receiver(s), {gaps} with a gap")
    lines += [f"  note: {note}" for note in audit.notes]
    written = [str(audit.to_excel(args.out, journal=args.journal))]
    if args.csv:
        written += [str(p) for p in audit.to_csv(args.csv).values()]
    if args.png:
        audit.plot(args.png)
        written.append(str(args.png))
    lines += [f"Wrote {path}" for path in written]
    ready = audit.count("ready") == len(set(audit.customers["customer"]))
    summary = {
        "ready": audit.count("ready"),
        "needs_action": audit.count("needs action"),
        "blocked": audit.count("blocked"),
        "findings": len(audit.exceptions),
        "by_currency": funds,
        "notes": list(audit.notes),
        "written": written,
    }
    report(summary, lines, as_json=args.json)
    return DONE if ready else WORK_LEFT
