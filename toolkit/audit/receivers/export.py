"""Write an :class:`~toolkit.audit.Audit` to an Excel workbook or a folder of CSV files.

Example::

    from toolkit.audit.receivers.export import write_excel, write_csv
    write_excel(audit, "exports/audit.xlsx")   # Cover + one sheet per table, money as money
    write_csv(audit, "exports/audit-csv")      # summary.csv, checks.csv, exceptions.csv, ...

Files hold customer data (emails): they are written readable by the user only (0600).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from toolkit.audit.cells import csv_frame, money_format
from toolkit.audit.cover import Cover, change_facts, checks_table, write_cover
from toolkit.audit.receivers.result import AuditTables
from toolkit.audit.workbook import WorkbookWriter, workbook_path
from toolkit.private_files import private_folder
from toolkit.private_files import write_csv as private_csv

__all__ = [
    "SHEET_NAMES",
    "money_format",
    "summary_cells",
    "summary_sheet",
    "write_csv",
    "write_excel",
]

#: Sheet name of each table, in workbook order (after "Cover").
SHEET_NAMES: dict[str, str] = {
    "summary": "Summary",
    "checks": "Checks",
    "exceptions": "Exceptions",
    "sources": "Sources",
    "by_currency": "By currency",
    "by_customer": "By customer",
    "by_status": "By status",
    "aging": "Aging",
    "by_account": "By account",
    "unmatched_transactions": "Unmatched transactions",
}
TITLE = "Receiver balance audit"
#: Summary items that are money: "Unapplied (USD)" and the like.
_MONEY_ITEM = re.compile(r"^(?P<what>[A-Z][a-z]+) \((?P<currency>[A-Z]{3})\)$")


def summary_cells(summary: pd.DataFrame, by_currency: pd.DataFrame) -> pd.DataFrame:
    """The Summary as cells a spreadsheet reads: money items ("Unapplied (USD)") as amounts in
    the currency's major unit (``Decimal``), the audit date as a date, the rest as it is."""
    totals = by_currency.set_index("currency") if len(by_currency) else None
    values: list[Any] = []
    for item, value in zip(summary["item"], summary["value"], strict=True):
        match = _MONEY_ITEM.match(str(item))
        if match is not None and totals is not None:
            currency = match["currency"].lower()
            column = f"{match['what'].lower()}_major"
            if currency in totals.index and column in totals.columns:
                amount = totals.loc[currency, column]
                if isinstance(amount, Decimal | int | float):
                    value = amount
        elif str(item).startswith("As of") and isinstance(value, str):
            when = pd.to_datetime(value, utc=True, errors="coerce")
            value = value if pd.isna(when) else when
        values.append(value)
    return summary.assign(value=pd.Series(values, index=summary.index, dtype="object"))


def summary_sheet(
    book: WorkbookWriter, summary: pd.DataFrame, by_currency: pd.DataFrame
) -> Worksheet:
    """The Summary sheet: item / value, money items as numbers in their currency's format, the
    audit date as a date."""
    cells = summary_cells(summary, by_currency)
    ws = book.table_sheet("Summary", cells)
    for i, (item, value) in enumerate(zip(cells["item"], cells["value"], strict=True), 1):
        match = _MONEY_ITEM.match(str(item))
        if match is not None and isinstance(value, Decimal | int | float):
            book.write(ws, i, 1, value, book.fmt(num_format=money_format(match["currency"])))
    return ws


def _cover(audit: AuditTables, chart: bytes | None) -> Cover:
    when = audit.as_of.tz_convert("UTC").tz_localize(None).to_pydatetime() if audit.as_of else None
    t = audit.sources
    facts: list[tuple[str, Any]] = [
        ("As of (UTC)", when if when is not None else "unknown"),
        ("As-of basis", audit.summary.set_index("item").loc["As-of basis", "value"]),
        ("Account", audit.account or "unknown"),
        ("Mode", audit.mode or "unknown"),
        ("Receiver sources audited", len(t)),
        ("Receivers with findings", int((t["flag_count"] > 0).sum()) if len(t) else 0),
        ("Findings", len(audit.exceptions)),
        ("Source transactions", "given" if audit.transactions_given else "not given"),
        ("Pending limit (days)", audit.pending_days),
        ("Checks run", f"{len(audit.checks_run)} of {len(audit.checks)} (listed below)"),
    ]
    totals = audit.by_currency[
        ["currency", "receivers", "flagged", *(f"{m}_major" for m in _MONEY)]
    ]
    # X_major is written as money under the heading X, in the row's currency
    shown: pd.DataFrame | list[str] = (
        totals.assign(currency=totals["currency"].str.upper())
        if len(totals)
        else ["No receiver sources: nothing to total."]
    )
    checks = checks_table(
        audit.checks[["title", "ran", "flagged", "explanation"]],
        not_ran="no (needs transactions)",
        flagged="receivers flagged",
    )
    notes = [
        "Unapplied = received - charged - returned. Aging counts sources holding unapplied funds, "
        "by days since the source was created.",
        *audit.notes,
    ]
    return Cover(
        TITLE,
        facts,
        [("Totals by currency (never added across currencies)", shown), ("Checks", checks)],
        notes,
        chart,
    )


_MONEY = ("received", "charged", "returned", "unapplied")


def write_excel(
    audit: AuditTables,
    path: str | Path,
    *,
    chart: bytes | None = None,
    journal: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the audit workbook to ``path`` (0600) and return it: ``write_excel(audit, "a.xlsx")``.

    ``chart``: a PNG to embed on the cover (``Audit.to_excel`` passes its aging chart);
    ``journal``: a change run's journal, whose maker, checker and digest the cover shows.
    """
    target = workbook_path(path)
    cover = _cover(audit, chart)
    cover.facts += change_facts(journal)
    with WorkbookWriter(target, TITLE) as book:
        write_cover(book, cover)
        for name, df in audit.tables().items():
            if name == "summary":
                summary_sheet(book, df, audit.by_currency)
            else:
                book.table_sheet(SHEET_NAMES[name], df)
    return target


def write_csv(
    audit: AuditTables, folder: str | Path, *, names: Iterable[str] | None = None
) -> dict[str, Path]:
    """Write one CSV per table into ``folder`` (files 0600); returns table name -> path.

    Example: ``write_csv(audit, "exports/audit")["sources"]`` is ``exports/audit/sources.csv``.
    """
    target = private_folder(folder)
    tables = audit.tables()
    wanted = list(names) if names is not None else list(tables)
    written: dict[str, Path] = {}
    for name in wanted:
        path = target / f"{name}.csv"
        table = tables[name]
        if name == "summary":
            table = summary_cells(table, audit.by_currency)
        written[name] = private_csv(csv_frame(table), path, lineterminator="\n")
    return written
