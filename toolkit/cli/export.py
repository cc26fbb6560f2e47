"""``python -m toolkit export``: every source (or a selection) to a Parquet snapshot or a CSV file.

Examples::

    python -m toolkit export                                   # exports/sources.parquet
    python -m toolkit export --out exports/sources.csv --customers cus_1,cus_2
    python -m toolkit export --out exports/some.parquet --ids-file ids.txt
    python -m toolkit export --out snapshots/q1.parquet --created-from 2026-01-01 --created-to 2026-04-01
    python -m toolkit export --out exports/sources/              # a Parquet dataset, streamed
    python -m toolkit export --out exports/platform/ --accounts all

A folder (``--out`` ending in ``/`` or without a suffix) gets a Parquet dataset partitioned by
account and month, written in batches and resumed where it stopped when run again
(:func:`toolkit.export_sources`); DuckDB reads it directly.

One rule for every output: nothing is replaced without ``--force``. An existing file is refused
(``--force`` replaces it); a folder must be new, empty, or a dataset of the same export (which
is resumed); ``--force`` starts a dataset of something else afresh. A system folder (``/``, the
home folder, ``/usr``) or a folder holding other files is always refused.

The key comes from ``STRIPE_API_KEY`` (or ``.env``); without one it runs against the built-in
sandbox. Files are written readable by the user only: they hold customer data.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path
from typing import Any

from toolkit.cli.output import NOT_FOUND, PARTIAL, show_progress
from toolkit.errors import AccountWarning, InvalidInputError, NotFoundWarning
from toolkit.fetch.id_files import read_ids
from toolkit.private_files import new_outputs

__all__ = ["DEFAULT_OUT", "NOT_FOUND", "add_arguments", "run"]

#: Where the export goes unless ``--out`` says otherwise (git-ignored, created 0700).
DEFAULT_OUT = "exports/sources.parquet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the export options to ``parser``: ``add_arguments(subparsers.add_parser("export"))``."""
    parser.add_argument(
        "--out",
        default=DEFAULT_OUT,
        help="file to write: *.parquet (a snapshot, reloadable exactly) or *.csv, or a folder "
        "(ending in /) for a streamed Parquet dataset, resumable "
        f"(default {DEFAULT_OUT}, in the git-ignored exports/ folder)",
    )
    parser.add_argument(
        "--accounts",
        default=None,
        metavar="all|IDS",
        help="every connected account ('all') or these (comma-separated acct_... ids), side by "
        "side, with an account column",
    )
    parser.add_argument(
        "--customers",
        action="append",
        default=None,
        metavar="IDS",
        help="only these customers' sources (comma-separated cus_... ids; may repeat)",
    )
    parser.add_argument(
        "--ids-file",
        default=None,
        metavar="PATH",
        help="only these sources: a text file with one src_... id per line (detached ones too)",
    )
    parser.add_argument(
        "--created-from",
        default=None,
        metavar="WHEN",
        help="only customers created at or after this date/time (UTC), e.g. 2026-01-01",
    )
    parser.add_argument(
        "--created-to",
        default=None,
        metavar="WHEN",
        help="only customers created before this date/time (UTC, exclusive)",
    )
    parser.add_argument(
        "--account", default=None, help="a connected account id (acct_...) to export from"
    )
    parser.add_argument(
        "--no-metadata-columns",
        action="store_true",
        help="keep metadata as one dict column, without a column per key",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing --out file, or start afresh a dataset folder that holds "
        "another export (never a folder holding other files)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _customers(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not ids:
        raise InvalidInputError("--customers needs customer ids like cus_123 (comma-separated).")
    return ids


def _dataset(args: argparse.Namespace, out: Path, accounts: str | None) -> int:
    """The streamed dataset export of a folder target."""
    from toolkit.fetch.dataset import export_sources
    from toolkit.session import connect

    chosen = [
        o for o in ("customers", "ids_file", "created_from", "created_to") if getattr(args, o)
    ]
    if chosen:
        raise InvalidInputError(
            f"A dataset export covers the whole account; --{chosen[0].replace('_', '-')} works "
            "with a .parquet or .csv file: pass --out exports/some.parquet."
        )
    progress = show_progress(args.quiet)
    with (
        connect(stripe_account=args.account, quiet=args.quiet) as session,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", AccountWarning)  # said below, once, with the exit code
        print(f"Exporting sources from {session.account_label} ...", file=sys.stderr, flush=True)
        info = export_sources(
            session, out, accounts=accounts, replace=args.force, progress=progress
        )
    skipped = f" ({info.windows_skipped} windows were done already)" if info.windows_skipped else ""
    if info.windows_repaired:
        skipped += f" ({info.windows_repaired} windows with missing parts written again)"
    print(f"Wrote {info.sources:,} sources in {info.files:,} files to {out}{skipped}")
    print(f"Read: {session.reads_line(info.reads)}")
    for item in info.refused_accounts:
        print(f"warning: account {item['account']} left out: {item['error']}", file=sys.stderr)
    return PARTIAL if info.refused_accounts else 0


def _new_file(out: Path, force: bool) -> None:
    """An output file is never replaced without ``--force`` (:func:`new_outputs`)."""
    if out.is_dir():
        raise InvalidInputError(
            f"{out} is a folder: name a file (*.parquet, *.csv), or end --out with / for a dataset."
        )
    new_outputs([out], force=force)


def _ids_file(path: str | None) -> list[str] | None:
    return read_ids(path) if path is not None else None


def run(args: argparse.Namespace) -> int:
    """Load the sources the arguments select and write them; returns the exit code: 0, or
    ``NOT_FOUND`` (4) when some ids or customers asked for are unknown (the others are written),
    ``PARTIAL`` (5) when a connected account refused access (the others are written).

    Example: ``run(build_parser().parse_args(["export", "--out", "s.parquet"]))``.
    """
    from toolkit.fetch import LoadInfo, load_sources, save_snapshot, write_sources_csv
    from toolkit.session import connect

    out = Path(args.out)
    suffix = out.suffix.lower()
    accounts = args.accounts  # "all" or "acct_1,acct_2" (checked by load_sources)
    if str(args.out).endswith(("/", os.sep)) or not suffix:
        return _dataset(args, out, accounts)
    if suffix not in (".parquet", ".csv"):
        raise InvalidInputError(
            f"--out must end in .parquet or .csv, or be a folder ending in /, not {out.name!r}."
        )
    _new_file(out, args.force)
    customers = _customers(args.customers)
    ids = _ids_file(args.ids_file)
    created: Any = None
    if args.created_from or args.created_to:
        created = (args.created_from, args.created_to)
    progress = show_progress(args.quiet)
    with (
        connect(stripe_account=args.account, quiet=args.quiet) as session,
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", NotFoundWarning)  # said below, once, with the exit code
        warnings.simplefilter("ignore", AccountWarning)
        print(f"Exporting sources from {session.account_label} ...", file=sys.stderr, flush=True)
        df = load_sources(
            session,
            customers=customers,
            ids=ids,
            created=created,
            progress=progress,
            metadata_columns=not args.no_metadata_columns,
            accounts=accounts,
        )
    if suffix == ".parquet":
        save_snapshot(df, out)
    else:
        write_sources_csv(df, out)
    info = LoadInfo.from_attrs(df) or LoadInfo()
    print(f"Wrote {len(df):,} sources from {info.account} to {out}")
    print(f"Read: {session.reads_line(info.reads or 0)}")
    for missing, what in (
        (info.missing_ids, "source ids"),
        (info.missing_customers, "customer ids"),
    ):
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            print(f"warning: {len(missing)} {what} not found: {shown}", file=sys.stderr)
    for item in info.refused_accounts or []:
        print(f"warning: account {item['account']} left out: {item['error']}", file=sys.stderr)
    if info.missing_ids or info.missing_customers:
        return NOT_FOUND
    return PARTIAL if info.refused_accounts else 0
