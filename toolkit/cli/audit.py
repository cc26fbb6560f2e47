"""``python -m toolkit audit``: the receiver balance audit, headless.

Examples::

    python -m toolkit audit --out exports/audit.xlsx                  # sandbox unless a key is set
    python -m toolkit audit --snapshot snapshots/2026-11-01.parquet --out exports/audit.xlsx
    python -m toolkit audit --out exports/audit.xlsx --csv exports/audit --png exports/audit.png
    python -m toolkit audit --out exports/audit.xlsx --ids detached.txt   # plus sources known by id only
    python -m toolkit audit --out exports/audit.xlsx --force          # replace last run's workbook

An existing file is never replaced without ``--force``: a filed workbook stays as it was filed.

Against an account (or the sandbox) it fetches every source and the transactions of the receivers;
from a snapshot it audits the saved sources as of the snapshot's time (no transaction checks).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from toolkit.audit.receivers.export import SHEET_NAMES
from toolkit.audit.workbook import workbook_path
from toolkit.cli.output import add_json, report, show_progress
from toolkit.errors import InvalidInputError
from toolkit.fetch.id_files import read_ids
from toolkit.private_files import new_outputs

__all__ = ["add_arguments", "check_outputs", "run"]

DEFAULT_OUT = "exports/audit.xlsx"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the audit options to ``parser``: ``add_arguments(sub.add_parser("audit"))``."""
    parser.add_argument(
        "--out", default=None, help=f"Excel workbook to write (default {DEFAULT_OUT} unless --csv)"
    )
    parser.add_argument(
        "--snapshot", default=None, help="audit a saved snapshot instead of fetching"
    )
    parser.add_argument(
        "--csv", default=None, metavar="FOLDER", help="also write one CSV per table"
    )
    parser.add_argument("--png", default=None, metavar="PATH", help="also save the charts as PNG")
    parser.add_argument(
        "--as-of",
        default=None,
        help="audit date, e.g. 2026-11-01T00:00:00Z (default: snapshot time)",
    )
    parser.add_argument(
        "--pending-days",
        type=int,
        default=30,
        help="days a pending source may hold funds before it is flagged (default 30)",
    )
    parser.add_argument(
        "--no-transactions",
        action="store_true",
        help="do not fetch source transactions (skips the reconciliation checks)",
    )
    parser.add_argument(
        "--skip-unfunded",
        action="store_true",
        help="do not fetch the transactions of receivers that never received money (amount "
        "received 0): a read each saved; a pending, failed or fully reversed transfer on them "
        "is then not seen",
    )
    parser.add_argument(
        "--account", default=None, help="connected account id (acct_...) to audit, if any"
    )
    parser.add_argument(
        "--ids",
        default=None,
        metavar="FILE",
        help="also audit these source ids (one per line, or a CSV with an 'id' column): "
        "sources detached from their customer can only be reached by id",
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


def check_outputs(
    out: str | None, csv: str | None, png: str | None, tables: Iterable[str], force: bool
) -> None:
    """Refuse, before any work, to replace a file the outputs would write (unless ``force``)."""
    paths = [workbook_path(out)] if out else []
    paths += [Path(csv) / f"{name}.csv" for name in tables] if csv else []
    paths += [Path(png)] if png else []
    new_outputs(paths, force=force)


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    extra_ids = read_ids(args.ids) if args.ids else []
    if args.snapshot and extra_ids:
        raise InvalidInputError(
            "--ids adds sources fetched by id, which a saved snapshot cannot do: use one or the "
            "other (or save a snapshot that already holds those sources)."
        )
    if args.snapshot:
        from toolkit.fetch import load_snapshot
        from toolkit.fetch.duck import is_dataset

        path = Path(args.snapshot)
        if not path.exists():
            raise InvalidInputError(f"No snapshot at {path}: pass the path of a saved snapshot.")
        if is_dataset(path):
            return path, None  # a dataset folder of export: DuckDB reads its receivers
        try:
            return load_snapshot(path), None
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"{path} is not a snapshot the toolkit wrote ({str(exc).split(': ')[-1]}): "
                "write one with `python -m toolkit export --out snapshots/sources.parquet`, or "
                "pass the folder of `export --out FOLDER/`."
            ) from None

    from toolkit.fetch import LoadInfo, load_source_transactions, load_sources
    from toolkit.session import connect

    with connect(stripe_account=args.account, quiet=True) as session:
        print(f"Fetching sources from {session.account_label} ...", file=sys.stderr, flush=True)
        sources = load_sources(session, progress=show_progress())
        if extra_ids:
            import pandas as pd

            known = set(sources["id"])
            wanted = [i for i in extra_ids if i not in known]
            if wanted:
                by_id = load_sources(session, ids=wanted, progress=show_progress())
                attrs = dict(sources.attrs)
                sources = pd.concat([sources, by_id], ignore_index=True)
                sources.attrs = attrs
                missing = (LoadInfo.from_attrs(by_id) or LoadInfo()).missing_ids
                if missing:
                    print(
                        f"  note: {len(missing)} id(s) not found: {', '.join(missing[:5])}",
                        file=sys.stderr,
                    )
        transactions = None
        if not args.no_transactions:
            receivers = sources[sources["flow"] == "receiver"]
            transactions = load_source_transactions(
                session,
                receivers,
                skip_unfunded=bool(getattr(args, "skip_unfunded", False)),
                progress=show_progress(),
            )
    return sources, transactions


def run(args: argparse.Namespace) -> int:
    """Run the audit described by parsed ``args``; returns the exit code (0 when written)."""
    from toolkit.audit import audit_receivers
    from toolkit.audit.receivers.build import NO_TRANSACTIONS
    from toolkit.money import format_money

    if args.pending_days < 0:
        raise InvalidInputError("--pending-days must be 0 or more.")
    out = args.out if args.out or args.csv else DEFAULT_OUT
    check_outputs(out, args.csv, args.png, SHEET_NAMES, args.force)
    if args.journal:
        from toolkit.audit.cover import change_facts

        change_facts(args.journal)  # an unreadable or edited journal fails before any read
    sources, transactions = _load(args)
    audit = audit_receivers(sources, transactions, as_of=args.as_of, pending_days=args.pending_days)
    when = audit.as_of.isoformat() if audit.as_of is not None else "unknown"
    flagged = int((audit.sources["flag_count"] > 0).sum()) if len(audit.sources) else 0
    lines = [
        f"Audited {len(audit.sources)} receiver sources as of {when}: "
        f"{flagged} with findings, {len(audit.exceptions)} findings in all."
    ]
    totals: dict[str, dict[str, str]] = {}
    for _, row in audit.by_currency.iterrows():
        cur = str(row["currency"])
        totals[cur] = {
            m: str(row[f"{m}_major"]) for m in ("received", "charged", "returned", "unapplied")
        }
        lines.append(
            f"  {cur.upper()}: unapplied {format_money(int(row['unapplied']), cur)} "
            f"across {row['receivers']} receivers"
        )
    notes = list(audit.notes)
    if NO_TRANSACTIONS in notes:  # say it as a command line user does it
        why, fix = (
            ("--no-transactions", "run it without --no-transactions")
            if args.no_transactions
            else ("a snapshot holds no transactions", "audit without --snapshot")
        )
        notes[notes.index(NO_TRANSACTIONS)] = (
            f"the checks that compare a receiver with its transactions did not run ({why}): "
            f"{fix} to run them."
        )
    if not args.snapshot and not args.ids:
        notes.append(
            "sources detached from their customer are reachable by id only; add them with --ids FILE."
        )
    lines += [f"  note: {note}" for note in notes]
    written = []
    if out:
        written.append(str(audit.to_excel(out, journal=args.journal)))
    if args.csv:
        written += [str(p) for p in audit.to_csv(args.csv).values()]
    if args.png:
        audit.plot(args.png)
        written.append(str(args.png))
    lines += [f"Wrote {path}" for path in written]
    summary = {
        "as_of": when,
        "receivers": len(audit.sources),
        "flagged": flagged,
        "findings": len(audit.exceptions),
        "by_currency": totals,
        "notes": notes,
        "written": written,
    }
    report(summary, lines, as_json=args.json)
    return 0
