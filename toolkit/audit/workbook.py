"""The audit workbooks' building blocks, on xlsxwriter: styled tables, money in each row's
currency, a cover with facts, an embedded chart and a sign-off block, print set-up on every sheet.

Example::

    with WorkbookWriter("exports/audit.xlsx", "Receiver balance audit") as book:
        cover = book.sheet("Cover")
        row = book.title(cover, "Receiver balance audit")
        row = book.facts(cover, row, [("Account", "acct_1"), ("Findings", 3)])
        book.sign_off(cover, row + 1)
        book.table_sheet("Sources", sources)

Money: a column ``X_major`` (major units, a ``Decimal``) is written under the heading ``X`` with
the row's currency format (``#,##0.00 "USD"``); the minor-unit column ``X`` beside it becomes
``X_minor`` (``#,##0``), so a heading without ``_minor`` always holds major units. Text is never a
formula, and a link only in a ``dashboard`` column (a Stripe Dashboard address the toolkit made). The workbook is built in memory and written with
:func:`~toolkit.private_files.write_private` (atomic, readable by the user only; a full disk or an
unwritable path is an :class:`~toolkit.errors.OutputError`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from toolkit.audit.cells import cell_value, finance_frame, money_format
from toolkit.audit.links import DASHBOARD
from toolkit.private_files import output_path, write_private

__all__ = [
    "DATE_FORMAT",
    "LINK_COLUMN",
    "MINOR_FORMAT",
    "MONEY_NOTE",
    "WorkbookWriter",
    "workbook_path",
]

DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
MINOR_FORMAT = "#,##0"
#: The note on every cover: how times and money are written.
MONEY_NOTE = (
    "All times are UTC. Money is in each currency's major unit with its code; columns named _minor "
    "give the minor unit (cents) as Stripe stores it."
)
#: Columns whose text is long: wrapped at this width (characters).
WRAPPED = {"explanation": 70, "detail": 70, "what it means": 70, "notes": 70}
_MAX_WIDTH = 60
#: The column whose values are links to the Stripe Dashboard (written as links, nothing else is).
LINK_COLUMN = "dashboard"
_TABLE_STYLE = "Table Style Light 9"


def workbook_path(path: str | Path) -> Path:
    """Where a workbook named ``path`` goes: ``.xlsx`` added when the name has no suffix.

    >>> workbook_path("exports/audit").name, workbook_path("exports/a.xlsx").name
    ('audit.xlsx', 'a.xlsx')
    """
    target = Path(path)
    return target if target.suffix else target.with_suffix(".xlsx")


class WorkbookWriter:
    """One workbook being written: ``with WorkbookWriter(path, title) as book: ...`` (0600, atomic)."""

    def __init__(self, path: str | Path, title: str) -> None:
        self.target = output_path(path)  # a path that cannot be written fails now, not at the end
        self.title_text = title
        self._buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(
            self._buffer,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
                "nan_inf_to_errors": True,
            },
        )
        self.wb.set_properties({"title": title, "author": "stripe-sources-toolkit"})
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}

    def __enter__(self) -> WorkbookWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is not None:
            return
        self.wb.close()
        write_private(
            self.target, lambda handle: handle.write(self._buffer.getbuffer()), binary=True
        )

    # -- formats ------------------------------------------------------------------------------
    def fmt(self, **props: Any) -> Format:
        """A cached cell format: ``book.fmt(bold=True)``, ``book.fmt(num_format="#,##0")``."""
        key = tuple(sorted(props.items()))
        if key not in self._formats:
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def sheet(self, name: str, *, landscape: bool = True) -> Worksheet:
        """A new sheet with print set-up: landscape, one page wide, title and page in the footer."""
        ws = self.wb.add_worksheet(name)
        if landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        ws.set_footer(f"&L{_escape_header(self.title_text)} · &A&RPage &P of &N")
        return ws

    # -- cells --------------------------------------------------------------------------------
    def write(
        self, ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None = None
    ) -> None:
        """One cell: dates as dates, Decimals as numbers, text as text (never a formula)."""
        value = cell_value(value)
        if value is None:
            ws.write_blank(row, col, None, fmt)
        elif isinstance(value, datetime):
            ws.write_datetime(row, col, value, fmt or self.fmt(num_format=DATE_FORMAT))
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, int | float | Decimal):
            ws.write_number(row, col, float(value), fmt)
        else:
            ws.write_string(row, col, str(value), fmt)

    def title(self, ws: Worksheet, text: str) -> int:
        """The sheet's title in row 0; returns the next row to write (a blank line after)."""
        ws.write_string(0, 0, text, self.fmt(bold=True, font_size=14))
        return 2

    def heading(self, ws: Worksheet, row: int, text: str) -> int:
        """A section heading at ``row``; returns the next row."""
        ws.write_string(row, 0, text, self.fmt(bold=True, font_size=12))
        return row + 1

    def facts(self, ws: Worksheet, row: int, facts: Sequence[tuple[str, Any]]) -> int:
        """Label / value lines from ``row`` (labels bold, values left-aligned); the next row."""
        for label, value in facts:
            ws.write_string(row, 0, label, self.fmt(bold=True))
            if isinstance(cell_value(value), datetime):
                fmt = self.fmt(num_format=DATE_FORMAT, align="left")
            else:
                fmt = self.fmt(align="left")
            self.write(ws, row, 1, value, fmt)
            row += 1
        return row

    def notes(self, ws: Worksheet, row: int, notes: Iterable[str]) -> int:
        """One note a line from ``row``; returns the next row."""
        for note in notes:
            ws.write_string(row, 0, note)
            row += 1
        return row

    def sign_off(self, ws: Worksheet, row: int) -> int:
        """The sign-off block: prepared by, reviewed by, date, each with a line to sign on."""
        row = self.heading(ws, row, "Sign-off")
        line = self.fmt(bottom=1)
        for label in ("Prepared by", "Reviewed by", "Date"):
            ws.set_row(row, 24)
            ws.write_string(row, 0, label, self.fmt(bold=True, valign="bottom"))
            ws.write_blank(row, 1, None, line)
            ws.write_blank(row, 2, None, line)
            row += 1
        return row

    def finish_cover(
        self, ws: Worksheet, row: int, notes: Sequence[str], chart: bytes | None
    ) -> None:
        """The end of a cover from ``row``: the notes (after the one every workbook carries), the
        sign-off block, the label column widths, and ``chart`` (a PNG) below."""
        row = self.heading(ws, row + 1, "Notes")
        row = self.notes(ws, row, [MONEY_NOTE, *notes])
        row = self.sign_off(ws, row + 1)
        ws.set_column(0, 0, 42)
        ws.set_column(1, 1, 24)
        if chart is not None:
            self.picture(ws, row + 1, 0, chart)

    def picture(self, ws: Worksheet, row: int, col: int, png: bytes, scale: float = 0.75) -> None:
        """Embed a PNG (e.g. the audit's matplotlib chart) at ``row``, ``col``."""
        ws.insert_image(
            row,
            col,
            "chart.png",
            {"image_data": io.BytesIO(png), "x_scale": scale, "y_scale": scale},
        )

    # -- tables -------------------------------------------------------------------------------
    def table(self, ws: Worksheet, row: int, df: pd.DataFrame, *, col: int = 0) -> int:
        """``df`` as a styled Excel table at ``row`` with filter buttons on its header (money per
        row currency, minor units named ``_minor``, dates as dates); returns the row after it."""
        frame, money = finance_frame(df)
        columns = [str(c) for c in frame.columns]
        header = self.fmt(bold=True, bg_color="#DDE4EE", border=1)
        currencies = frame["currency"].tolist() if "currency" in frame.columns else None
        widths = [len(c) for c in columns]
        for i, record in enumerate(frame.itertuples(index=False, name=None)):
            r = row + 1 + i
            currency = str(currencies[i] or "") if currencies is not None else ""
            for j, (name, raw) in enumerate(zip(columns, record, strict=True)):
                value = cell_value(raw)
                fmt = None
                if name in money and value is not None:
                    fmt = self.fmt(num_format=money_format(currency))
                    widths[j] = max(widths[j], len(f"{float(value):,.2f}") + 5)
                elif name.endswith("_minor") and isinstance(value, int | float):
                    fmt = self.fmt(num_format=MINOR_FORMAT)
                    widths[j] = max(widths[j], len(f"{value:,.0f}") + 1)
                elif isinstance(value, datetime):
                    widths[j] = max(widths[j], 19)
                elif name in WRAPPED:
                    fmt = self.fmt(text_wrap=True, valign="top")
                elif name == LINK_COLUMN and isinstance(value, str) and value.startswith(DASHBOARD):
                    ws.write_url(r, col + j, value, string=value)  # a link the toolkit made
                    widths[j] = max(widths[j], len(value))
                    continue
                elif value is not None:
                    widths[j] = max(widths[j], len(str(value)))
                self.write(ws, r, col + j, value, fmt)
        if len(frame) and columns:
            ws.add_table(
                row,
                col,
                row + len(frame),
                col + len(columns) - 1,
                {
                    "columns": [{"header": c} for c in _unique(columns)],
                    "style": _TABLE_STYLE,
                    "autofilter": True,
                },
            )
        else:  # no rows: the header alone, still with its filter buttons
            for j, name in enumerate(columns):
                ws.write_string(row, col + j, name, header)
            if columns:
                ws.autofilter(row, col, row, col + len(columns) - 1)
        for j, name in enumerate(columns):
            width = WRAPPED.get(name, min(widths[j] + 2, _MAX_WIDTH))
            ws.set_column(col + j, col + j, max(width, 8))
        return row + 1 + len(frame)

    def table_sheet(self, name: str, df: pd.DataFrame) -> Worksheet:
        """A sheet holding one table: header frozen and repeated on every printed page."""
        ws = self.sheet(name)
        self.table(ws, 0, df)
        ws.freeze_panes(1, 0)
        ws.repeat_rows(0)
        return ws


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _escape_header(text: str) -> str:
    return text.replace("&", "&&")
