"""Write a :class:`~toolkit.audit.migration.result.MigrationAudit`: an Excel workbook with a
cover sheet, a folder of CSV files, and its charts.

Example::

    write_migration_excel(migration, "exports/retirement.xlsx")
    write_migration_csv(migration, "exports/retirement-csv")
    plot_migration(migration, "exports/retirement.png")

Files hold customer data: they are written readable by the user only (0600).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from toolkit.audit.cells import csv_frame
from toolkit.audit.cover import Cover, change_facts, checks_table, write_cover
from toolkit.audit.migration.result import MigrationTables
from toolkit.audit.plot import AuditFigure, stacked_figure
from toolkit.audit.workbook import WorkbookWriter
from toolkit.money import currency_exponent, to_major
from toolkit.private_files import private_folder, write_private
from toolkit.private_files import write_csv as private_csv

__all__ = ["MIGRATION_SHEETS", "plot_migration", "write_migration_csv", "write_migration_excel"]

MIGRATION_SHEETS = {
    "summary": "Summary",
    "checks": "Checks",
    "exceptions": "Exceptions",
    "customers": "Customers",
    "by_currency": "By currency",
    "by_account": "By account",
    "successors": "Successors",
    "wired": "Wired to Sources",
    "tie_out": "Tie-out",
    "receivable": "Receivable",
}
TITLE = "Sources retirement audit"
_STATES = ("ready", "needs action", "blocked")
_STATE_COLORS = {"ready": "#55A868", "needs action": "#DD8452", "blocked": "#C44E52"}


def _cover(audit: MigrationTables, chart: bytes | None) -> Cover:
    when = audit.as_of.tz_convert("UTC").tz_localize(None).to_pydatetime() if audit.as_of else None
    given = ", ".join(audit.inputs) or "none (sources and cash balances only)"
    facts: list[tuple[str, Any]] = [
        ("As of (UTC)", when if when is not None else "unknown"),
        ("As-of basis", audit.as_of_basis),
        ("Account", audit.account or "unknown"),
        ("Mode", audit.mode or "unknown"),
        (
            "Customers audited",
            audit.count("ready") + audit.count("needs action") + audit.count("blocked"),
        ),
        ("Ready", audit.count("ready")),
        ("Need action", audit.count("needs action")),
        ("Blocked (money can be lost)", audit.count("blocked")),
        ("Findings", len(audit.exceptions)),
        ("Optional inputs given", given),
        ("Cash unapplied limit (days)", audit.unapplied_days),
    ]
    totals = audit.by_currency[
        [
            "currency",
            "customers",
            "legacy_unapplied_major",
            "cash_available_major",
            "swept_to_balance_major",
        ]
    ].rename(
        columns={
            "legacy_unapplied_major": "on legacy receivers_major",
            "cash_available_major": "in cash balances_major",
            "swept_to_balance_major": "swept to the account balance_major",
        }
    )  # X_major: money under the heading X, in the row's currency
    sections: list[tuple[str, pd.DataFrame | list[str]]] = [
        (
            "Funds by currency (never added across currencies)",
            totals.assign(currency=totals["currency"].str.upper()),
        ),
    ]
    checks = checks_table(
        audit.checks[["title", "severity", "ran", "flagged", "explanation"]],
        not_ran="no (input not given)",
        flagged="rows flagged",
    )
    sections += _where_now(audit, facts)
    sections.append(("Checks", checks))
    notes = [
        "Legacy receiver funds = received - charged - returned on receiver sources. Cash balance "
        "funds = the customer's cash balance available in that currency.",
        "A customer's state is the worst of its currencies: blocked, needs action, ready.",
        "Exceptions: legacy_unapplied and cash_available are the customer's totals in that "
        "currency, repeated on each of its findings: do not add them up (By currency has the "
        "totals).",
        *audit.notes,
    ]
    return Cover(TITLE, facts, sections, notes, chart)


def _where_now(
    audit: MigrationTables, facts: list[tuple[str, Any]]
) -> list[tuple[str, pd.DataFrame | list[str]]]:
    """The cover's figures of where the money and the obligations live now (the facts are
    added to ``facts``), for the inputs given."""
    sections: list[tuple[str, pd.DataFrame | list[str]]] = []
    if len(audit.successors.columns):
        without = audit.successors[~audit.successors["has_successor"]]
        facts.append(("Customers without a successor", int(without["customer"].nunique())))
    if len(audit.wired.columns):
        facts.append(("Bills wired to Sources", len(audit.wired)))
    if len(audit.tie_out.columns):
        t = audit.tie_out
        facts.append(("Receivers tied out", len(t)))
        facts.append(("Receivers with a gap", int((t["gap"] != 0).sum())))
        money = ("received", "charged", "returned", "swept", "moved_to_cash", "unapplied", "gap")
        rows = []
        for cur, g in t.groupby("currency", sort=True):
            rows.append({"currency": cur, **{m: int(g[m].sum()) for m in money}})
        per = pd.DataFrame(rows, columns=["currency", *money])
        for m in money:
            per[f"{m}_major"] = to_major(per[m].astype("Int64"), per["currency"])
        shown = per[["currency", *(f"{m}_major" for m in money)]]
        sections.append(
            (
                "Tie-out by currency: received = charged + returned + swept + moved to cash + "
                "unapplied + gap",
                shown.assign(currency=shown["currency"].str.upper()),
            )
        )
    if len(audit.receivable.columns):
        r = audit.receivable
        rows = [
            {"currency": cur, "customers": g["customer"].nunique(), "due": int(g["due"].sum()),
             "waiting": int(g["waiting"].sum())}
            for cur, g in r.groupby("currency", sort=True)
        ]  # fmt: skip
        per = pd.DataFrame(rows, columns=["currency", "customers", "due", "waiting"])
        for m in ("due", "waiting"):
            per[f"{m}_major"] = to_major(per[m].astype("Int64"), per["currency"])
        shown = per[["currency", "customers", "due_major", "waiting_major"]].rename(
            columns={
                "due_major": "open invoices due_major",
                "waiting_major": "waiting unapplied_major",
            }
        )
        sections.append(
            ("Receivable by currency", shown.assign(currency=shown["currency"].str.upper()))
        )
    return sections


def write_migration_excel(
    audit: MigrationTables,
    path: str | Path,
    *,
    chart: bytes | None = None,
    journal: str | os.PathLike[str] | None = None,
) -> Path:
    """The workbook at ``path`` (0600): Cover (with ``chart``, a PNG, embedded; with a change
    run's ``journal``, its maker, checker and digest), then one sheet per table."""
    target = Path(path)
    if not target.suffix:
        target = target.with_suffix(".xlsx")
    cover = _cover(audit, chart)
    cover.facts += change_facts(journal)
    with WorkbookWriter(target, TITLE) as book:
        write_cover(book, cover)
        for name, df in audit.tables().items():
            book.table_sheet(MIGRATION_SHEETS[name], df)
    return target


def write_migration_csv(audit: MigrationTables, folder: str | Path) -> dict[str, Path]:
    """One CSV per table in ``folder`` (0600); returns name -> path."""
    target = private_folder(folder)
    return {
        name: private_csv(csv_frame(df), target / f"{name}.csv", lineterminator="\n")
        for name, df in audit.tables().items()
    }


def plot_migration(audit: MigrationTables, path: str | Path | None = None) -> AuditFigure:
    """One panel per currency (legacy receiver funds beside cash balance funds, major units)
    and one of customers per state."""
    money = audit.by_currency[
        (audit.by_currency["legacy_unapplied"] > 0) | (audit.by_currency["cash_available"] > 0)
    ]
    currencies = list(money["currency"])
    when = audit.as_of.strftime("%Y-%m-%d") if audit.as_of is not None else "unknown"
    fig, axes = stacked_figure(max(len(currencies), 1) + 1, f"{TITLE} as of {when}", height=2.4)
    if not currencies:
        axes[0].text(0.5, 0.5, "No money on legacy receivers or in cash balances", ha="center")
        axes[0].set_axis_off()
    for ax, (_, row) in zip(axes, money.iterrows(), strict=False):
        code = str(row["currency"]).upper()
        exponent = currency_exponent(str(row["currency"]))
        values = [float(row["legacy_unapplied_major"]), float(row["cash_available_major"])]
        bars = ax.barh(
            ["on legacy receivers", "in cash balances"], values, color=["#DD8452", "#4C72B0"]
        )
        ax.bar_label(bars, labels=[f"{v:,.{exponent}f} {code}" for v in values], fontsize=8)
        ax.set_title(f"{code}: where the money is")
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
        ax.margins(x=0.25)
    ax = axes[-1]
    counts = [audit.count(s) for s in _STATES]
    bars = ax.bar(list(_STATES), counts, color=[_STATE_COLORS[s] for s in _STATES])
    ax.bar_label(bars, fontsize=8)
    ax.set_title("Customers by readiness")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.margins(y=0.2)
    if path is not None:
        write_private(path, lambda handle: fig.savefig(handle, format="png", dpi=100), binary=True)
    return fig
