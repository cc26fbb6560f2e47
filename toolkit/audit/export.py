"""Write an :class:`~toolkit.audit.Audit` to an Excel workbook or a folder of CSV files.

Example::

    from toolkit.audit.export import write_excel, write_csv
    write_excel(audit, "exports/audit.xlsx")   # Cover + one sheet per table, money as money
    write_csv(audit, "exports/audit-csv")      # summary.csv, checks.csv, exceptions.csv, ...

Files hold customer data (emails): they are written readable by the user only (0600).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from toolkit.audit.result import AuditTables
from toolkit.money import currency_exponent
from toolkit.private_files import private_folder, write_private
from toolkit.private_files import write_csv as private_csv

__all__ = [
    "SHEET_NAMES",
    "csv_frame",
    "money_format",
    "table_sheet",
    "write_checks",
    "write_csv",
    "write_excel",
    "write_facts",
    "write_notes",
    "write_table",
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
    "unmatched_transactions": "Unmatched transactions",
}
DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
MINOR_FORMAT = "#,##0"
_MINOR_MONEY = {
    "received",
    "charged",
    "returned",
    "unapplied",
    "transactions_total",
    "reversals_total",
    "amount",
    "legacy_unapplied",
    "cash_available",
}
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")


def money_format(currency: str) -> str:
    """Excel number format for a major-unit amount: ``money_format("usd") == '#,##0.00 "USD"'``.

    Zero-decimal currencies get no decimals (``#,##0 "JPY"``), three-decimal ones three.
    """
    code = (currency or "").upper()
    exponent = currency_exponent(currency) if currency else 2
    digits = "#,##0" + ("." + "0" * exponent if exponent else "")
    return f'{digits} "{code}"' if code else digits


def _cell_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        if value.tzinfo is not None:
            value = value.tz_convert("UTC").tz_localize(None)
        return value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, Decimal | bool | int | float | str):
        return value
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def _autosize(ws: Worksheet, widths: dict[int, int]) -> None:
    for col, width in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = max(8, min(width + 2, 60))


def write_table(ws: Worksheet, df: pd.DataFrame, start_row: int = 1) -> int:
    """Write ``df`` with a header at ``start_row`` (``*_major`` columns as money in the row's
    currency, dates as dates, text never a formula); returns the next free row."""
    columns = list(df.columns)
    widths: dict[int, int] = {}
    for j, name in enumerate(columns, start=1):
        cell = ws.cell(row=start_row, column=j, value=str(name))
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        widths[j] = len(str(name))
    currency = df["currency"].tolist() if "currency" in df.columns else None
    for i, record in enumerate(df.itertuples(index=False, name=None)):
        r = start_row + 1 + i
        for j, (name, raw) in enumerate(zip(columns, record, strict=True), start=1):
            value = _cell_value(raw)
            cell = ws.cell(row=r, column=j, value=value)
            if value is None:
                continue
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # customer text, never a formula
            if isinstance(value, datetime):
                cell.number_format = DATE_FORMAT
                widths[j] = max(widths[j], 19)
                continue
            if str(name).endswith("_major") and currency is not None:
                cell.number_format = money_format(str(currency[i] or ""))
                widths[j] = max(widths[j], len(f"{value:,}") + 5)
                continue
            if name in _MINOR_MONEY and isinstance(value, int):
                cell.number_format = MINOR_FORMAT
            widths[j] = max(widths[j], min(len(str(value)), 60))
    _autosize(ws, widths)
    return start_row + 1 + len(df)


def table_sheet(wb: Workbook, title: str, df: pd.DataFrame) -> None:
    """A sheet holding one table: frozen header, filters, long text wrapped."""
    ws = wb.create_sheet(title)
    end = write_table(ws, df)
    ws.freeze_panes = "A2"
    if len(df.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(df.columns))}{max(end - 1, 1)}"
    if title in ("Checks", "Exceptions"):
        wrap_col = "explanation" if title == "Checks" else "detail"
        if wrap_col in df.columns:
            letter = get_column_letter(list(df.columns).index(wrap_col) + 1)
            ws.column_dimensions[letter].width = 70
            for cell in ws[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def write_facts(ws: Worksheet, row: int, facts: list[tuple[str, Any]]) -> int:
    """Label/value lines from ``row`` (labels bold, dates as dates); returns the next free row."""
    for label, value in facts:
        ws.cell(row=row, column=1, value=label).font = _BOLD
        cell = ws.cell(row=row, column=2, value=value)
        if isinstance(value, datetime):
            cell.number_format = DATE_FORMAT
        cell.alignment = Alignment(horizontal="left")
        row += 1
    return row


def write_checks(
    ws: Worksheet, row: int, checks: pd.DataFrame, *, not_ran: str, flagged: str
) -> int:
    """A "Checks" heading at ``row`` and the checks table (``ran`` as yes / ``not_ran``, the
    ``explanation``, last, wrapped as "what it means"); returns the next free row."""
    ws.cell(row=row, column=1, value="Checks").font = Font(bold=True, size=12)
    table = checks.copy()
    table["ran"] = table["ran"].map({True: "yes", False: not_ran})
    table = table.rename(columns={"flagged": flagged, "explanation": "what it means"})
    start = row + 1
    end = write_table(ws, table, start_row=start)
    for r in range(start + 1, end):
        ws.cell(row=r, column=len(table.columns)).alignment = Alignment(
            wrap_text=True, vertical="top"
        )
    return end


def write_notes(ws: Worksheet, row: int, notes: Iterable[str]) -> int:
    """One note a line after ``row``; returns the last row written."""
    for note in notes:
        row += 1
        ws.cell(row=row, column=1, value=note)
    return row


def _cover(wb: Workbook, audit: AuditTables) -> None:
    ws = wb.active
    assert ws is not None
    ws.title = "Cover"
    ws["A1"] = "Receiver balance audit"
    ws["A1"].font = Font(bold=True, size=14)
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
        ("Checks run", ", ".join(audit.checks_run)),
    ]
    row = write_facts(ws, 3, facts)

    row += 1
    ws.cell(
        row=row, column=1, value="Totals by currency (never added across currencies)"
    ).font = Font(bold=True, size=12)
    totals = audit.by_currency[
        ["currency", "receivers", "flagged", *(f"{m}_major" for m in _MONEY)]
    ].rename(columns={f"{m}_major": m for m in _MONEY})
    totals = totals.assign(currency=totals["currency"].str.upper())
    first = row + 1
    row = write_table(ws, totals, start_row=first)
    for r, cur in enumerate(audit.by_currency["currency"], start=first + 1):
        for c in range(4, 8):
            ws.cell(row=r, column=c).number_format = money_format(str(cur))
    if not len(totals):
        ws.cell(row=row, column=1, value="No receiver sources: nothing to total.")
        row += 1

    row = write_checks(
        ws,
        row + 1,
        audit.checks[["title", "ran", "flagged", "explanation"]],
        not_ran="no (needs transactions)",
        flagged="receivers flagged",
    )
    row += 1
    ws.cell(row=row, column=1, value="Notes").font = Font(bold=True, size=12)
    notes = [
        "All times are UTC. Money is shown in each currency's major unit with its code; the other "
        "sheets also give the minor unit (cents) as Stripe stores it.",
        "Unapplied = received - charged - returned. Aging counts sources holding unapplied funds, "
        "by days since the source was created.",
        *audit.notes,
    ]
    write_notes(ws, row, notes)
    ws.column_dimensions["A"].width = 42
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["D"].width = 70


_MONEY = ("received", "charged", "returned", "unapplied")


def write_excel(audit: AuditTables, path: str | Path) -> Path:
    """Write the audit workbook to ``path`` (0600) and return it: ``write_excel(audit, "a.xlsx")``."""
    target = Path(path)
    if target.suffix.lower() != ".xlsx":
        target = target.with_suffix(".xlsx") if not target.suffix else target
    wb = Workbook()
    _cover(wb, audit)
    for name, df in audit.tables().items():
        table_sheet(wb, SHEET_NAMES[name], df)
    wb.properties.creator = "stripe-sources-toolkit"
    wb.properties.title = "Receiver balance audit"
    if audit.as_of is not None:
        wb.properties.created = audit.as_of.tz_convert("UTC").tz_localize(None).to_pydatetime()
    return write_private(target, wb.save, binary=True)


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as CSV wants it: ISO dates, JSON for nested values."""
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].map(lambda v: "" if pd.isna(v) else v.isoformat())
        elif out[col].dtype == object:
            out[col] = out[col].map(_csv_text)
    return out


def _csv_text(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return value


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
        written[name] = private_csv(csv_frame(tables[name]), path, lineterminator="\n")
    return written
