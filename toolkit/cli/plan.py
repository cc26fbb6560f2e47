"""``python -m toolkit plan``: make a plan from a file, for sign-off, without writing to Stripe.

Examples::

    python -m toolkit plan metadata --table changes.csv     # id column + one column per key
    python -m toolkit plan update --table changes.csv       # any mix: amount, owner.email,
                                                            # metadata.team, mandate.*, source_order.*
    python -m toolkit plan mandate --table mandates.csv     # offline acceptances (cannot be undone)
    python -m toolkit plan detach --ids selection.csv       # ids from the explorer's Save selection

Each writes ``plans/<plan id>.json`` (what ``apply`` runs; a copy edited after sign-off is refused)
and ``plans/<plan id>.csv`` (what a person signs off), and prints the counts. Receivers still
holding money are refused in a detach plan, with the amount (refund them first). A detach or a
mandate plan cannot be undone: apply asks for ``--confirm N``. Nothing is written to Stripe: the
sources are only read.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from toolkit.changes import save_plan
from toolkit.changes.kinds import KINDS
from toolkit.changes.kinds.base import ChangeKind
from toolkit.changes.plans.builders import plan_from_input
from toolkit.changes.plans.table import id_column, read_table
from toolkit.cli.output import add_json, report
from toolkit.errors import InvalidInputError, NotFoundWarning
from toolkit.fetch import LoadInfo, load_sources, read_ids
from toolkit.session import connect

__all__ = ["add_arguments", "planned", "run"]


def planned() -> dict[str, ChangeKind]:
    """The kinds a plan can be made of from a file: those of the registry of kinds
    (:data:`toolkit.changes.kinds.KINDS`) with a ``plan_input`` (``"table"`` or ``"ids"``)."""
    return {name: kind for name, kind in KINDS.items() if kind.plan_input}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the plan options to ``parser``: one kind of each registered kind with a
    ``plan_input``, and one option per input (``--table``, ``--ids``)."""
    kinds = planned()
    parser.add_argument("kind", choices=list(kinds), help="what the plan changes")
    inputs: dict[str, list[str]] = {}
    for kind in kinds.values():
        inputs.setdefault(str(kind.plan_input), []).append(f"{kind.name}: {kind.plan_input_help}")
    for option, helps in inputs.items():
        parser.add_argument(f"--{option}", help="; ".join(helps))
    parser.add_argument("--folder", default="plans", help="where the plan files go (plans/)")
    parser.add_argument("--account", default=None, help="connected account id (acct_...)")
    parser.add_argument(
        "--maker", default=None, help="your name, recorded in the plan beside your OS user"
    )
    add_json(parser)


def run(args: argparse.Namespace) -> int:
    """Read the sources named by the input file, make the plan, save it; 0 (4: ids unknown)."""
    kind = planned()[args.kind]
    option = str(kind.plan_input)
    source = getattr(args, option, None)
    if not source:
        raise InvalidInputError(f"plan {kind.name} needs --{option} FILE: {kind.plan_input_help}.")
    if option == "table":
        table = read_table(source)
        ids = [str(i).strip() for i in table[id_column(table)].dropna() if str(i).strip()]
    else:
        ids = read_ids(source)
    with connect(stripe_account=args.account, quiet=True) as session, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotFoundWarning)  # said below, with the exit code
        print(f"Reading {len(ids):,} sources from {session.account_label} ...", file=sys.stderr)
        sources = load_sources(session, ids=ids, progress=False)
    plan = plan_from_input(kind.name, source, sources)
    notes = (
        [f"{len(plan.invalid):,} refused: see the reason column of the CSV"]
        if len(plan.invalid)
        else []
    )
    path = save_plan(plan, Path(args.folder) / f"{plan.id}.json", maker=args.maker)
    missing = (LoadInfo.from_attrs(sources) or LoadInfo()).missing_ids
    counts = plan.counts
    lines = [
        f"Plan {plan.id} ({plan.action}): {counts['ready']:,} ready, {counts['noop']:,} no change, "
        f"{counts['invalid']:,} refused.",
        *notes,
        f"For sign-off: {path.with_suffix('.csv')}",
        f"To approve:   python -m toolkit approve {path}   (someone other than you; a live "
        "apply needs it)",
        f"To apply it:  python -m toolkit apply {path}"
        + (f" --confirm {counts['ready']}" if plan.irreversible else ""),
    ]
    if missing:
        lines.append(f"warning: {len(missing)} source ids not found: {', '.join(missing[:10])}")
    summary = {
        "plan": plan.id,
        "action": plan.action,
        "counts": counts,
        "file": str(path),
        "csv": str(path.with_suffix(".csv")),
        "missing_ids": missing,
        "notes": notes,
        "maker": plan.maker,
        "digest": plan.digest,
    }
    report(summary, lines, as_json=args.json)
    return 4 if missing else 0
