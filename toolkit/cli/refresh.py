"""``python -m toolkit refresh``: bring a snapshot up to date from Stripe's events (read only).

Examples::

    python -m toolkit refresh snapshots/sources.parquet                 # -> sources-refreshed.parquet
    python -m toolkit refresh snapshots/sources.parquet --out snapshots/today.parquet --json
    python -m toolkit refresh snapshots/sources.parquet --recheck customers

Only the sources the events name are read again (:func:`toolkit.refresh`); a snapshot older than
Stripe's 30 days of events is refused (export it again). What events cannot show (edits without
a ``customer.source.updated`` event) is said after the summary; ``--recheck customers`` (or
``sources`` for a load of ids) reads every row again and names what the events missed. The new
snapshot never replaces a file: ``--out`` must not exist, and the default is a fresh name beside
the old one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toolkit.cli.output import DONE, add_json, report, show_progress
from toolkit.errors import InvalidInputError

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the refresh options to ``parser``."""
    parser.add_argument("snapshot", help="a snapshot file from export or save_snapshot (*.parquet)")
    parser.add_argument(
        "--out", default=None, help="the new snapshot (default: <name>-refreshed.parquet beside it)"
    )
    parser.add_argument("--account", default=None, help="connected account id (acct_...)")
    parser.add_argument(
        "--recheck",
        choices=("customers", "sources"),
        default=None,
        help="also read every row again: the customer pages (a load through customers) or every "
        "id (a load of ids), to see edits Stripe sent no event for",
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Refresh the snapshot of parsed ``args`` and write the new one; 0 when done."""
    from toolkit.fetch import refresh
    from toolkit.private_files import fresh_path
    from toolkit.session import connect

    old = Path(args.snapshot)
    if args.out is not None and Path(args.out).exists():
        raise InvalidInputError(f"{args.out} exists: name a new file, an old snapshot is kept.")
    out = Path(args.out) if args.out else fresh_path(old.with_name(f"{old.stem}-refreshed.parquet"))
    tty = show_progress()
    with connect(stripe_account=args.account, quiet=True) as session:
        print(f"Reading the events of {session.account_label} ...", file=sys.stderr, flush=True)
        fresh = refresh(old, session, out=out, progress=tty, recheck=args.recheck)
    done = fresh.attrs["refresh"]
    summary = {"snapshot": str(out), "sources": len(fresh), **done}
    counts = (
        f"{len(done['added'])} added, {len(done['removed'])} removed, "
        f"{len(done['changed'])} changed"
    )
    if done["recheck"]:
        read = (
            f"every row read again ({done['recheck_requests']:,} reads): {counts}, "
            f"{len(done['unseen'])} of them named by no event."
        )
    else:
        read = f"{done['refetched']:,} sources read again: {counts}."
    lines = [
        f"{done['events']:,} events in {done['event_pages']} pages; {read}",
        f"Wrote {len(fresh):,} sources to {out}",
        f"Read: {session.reads_line(done['reads'])}",
    ]
    if done["blind_to"]:
        lines.append(done["note"])
    if done["cash_customers"]:
        lines.append(
            f"{len(done['cash_customers'])} customers' cash balances moved: run the retirement "
            "audit again for them."
        )
    report(summary, lines, as_json=args.json)
    return DONE
