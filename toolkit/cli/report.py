"""``python -m toolkit report``: the receiver and retirement audits as one HTML file.

Examples::

    python -m toolkit report --out exports/month-end.html         # sandbox unless a key is set
    python -m toolkit report --out exports/month-end.html --force # replace an earlier one
    python -m toolkit report --out runs/2026-11/report.html --only receivers

One self-contained file (summary, checks, findings and charts of each audit, the charts inside
it): it opens in any browser without a network and prints cleanly, for people without Python or
Excel. It reads what the ``audit`` and ``migration`` commands read (read only). An existing
file is never replaced without ``--force``.

Exit code 0 when written and every customer is ready for the retirement, 3 when it was written
and some customers need action or are blocked (as ``migration``), 2 for a usage error, 6 for a
Stripe error, 7 when the file could not be written.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from toolkit.cli.output import DONE, WORK_LEFT, add_json, report, show_progress
from toolkit.private_files import new_outputs

__all__ = ["add_arguments", "run"]

DEFAULT_OUT = "exports/report.html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the report options to ``parser``."""
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"HTML file to write ({DEFAULT_OUT})")
    parser.add_argument(
        "--only",
        choices=["receivers", "migration"],
        default=None,
        help="one audit only (default: both)",
    )
    parser.add_argument("--as-of", default=None, help="audit date (default: the load's time)")
    parser.add_argument("--account", default=None, help="connected account id (acct_...)")
    parser.add_argument(
        "--journal",
        default=None,
        metavar="FILE",
        help="a change run's journal: the cover shows its maker, checker (or waiver) and digest",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the file --out names, if it exists"
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Run the audits and write the report; 0 written (3 retirement work left)."""
    from toolkit.audit import audit_receivers
    from toolkit.audit.cover import change_facts
    from toolkit.audit.migration.load import run_migration_audit
    from toolkit.audit.report import write_report
    from toolkit.fetch import load_source_transactions, load_sources
    from toolkit.session import connect

    out = args.out if args.out.lower().endswith((".html", ".htm")) else args.out + ".html"
    new_outputs([out], force=args.force)
    if args.journal:
        change_facts(args.journal)  # an unreadable or edited journal fails before any read
    tty = show_progress()
    receivers = migration = None
    with connect(stripe_account=args.account, quiet=True) as session:
        print(f"Reading {session.account_label} ...", file=sys.stderr, flush=True)
        if args.only in (None, "receivers"):
            sources = load_sources(session, progress=tty)
            found = sources[sources["flow"] == "receiver"]
            transactions = load_source_transactions(session, found, progress=tty)
            receivers = audit_receivers(sources, transactions, as_of=args.as_of)
        if args.only in (None, "migration"):
            migration = run_migration_audit(session, as_of=args.as_of, progress=tty)
    path = write_report(
        out, receivers=receivers, migration=migration, force=args.force, journal=args.journal
    )
    lines = [f"Wrote {path}"]
    summary: dict[str, Any] = {"written": str(path)}
    if receivers is not None:
        flagged = int((receivers.sources["flag_count"] > 0).sum()) if len(receivers.sources) else 0
        lines.append(f"  receivers: {len(receivers.sources)} audited, {flagged} with findings")
        summary["receivers"] = {"audited": len(receivers.sources), "flagged": flagged,
                                "findings": len(receivers.exceptions)}  # fmt: skip
    ready = True
    if migration is not None:
        counts = {s: migration.count(s) for s in ("ready", "needs action", "blocked")}
        ready = counts["ready"] == len(set(migration.customers["customer"]))
        lines.append(
            f"  retirement: {counts['ready']} ready, {counts['needs action']} need action, "
            f"{counts['blocked']} blocked"
        )
        summary["migration"] = {**{k.replace(" ", "_"): v for k, v in counts.items()},
                                "findings": len(migration.exceptions)}  # fmt: skip
    report(summary, lines, as_json=args.json)
    return DONE if ready else WORK_LEFT
