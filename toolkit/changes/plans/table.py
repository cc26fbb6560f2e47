r"""An analyst's table as text cells: a DataFrame, a CSV or Excel file, CSV bytes, a file object.

A CSV may be separated by commas, semicolons (Excel's default where the decimal mark is a comma),
tabs or bars: the header line tells which. The ids are in a column named ``id``, ``source`` or
``source_id`` (any case; :func:`id_column`).

>>> read_table(b"id,team\nsrc_1abc,ar\n").to_dict("records")
[{'id': 'src_1abc', 'team': 'ar'}]
>>> read_table(b"Source ID;team\nsrc_1abc;ar\n").to_dict("records")
[{'Source ID': 'src_1abc', 'team': 'ar'}]
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.private_files import readable_file

__all__ = ["ID_COLUMNS", "id_column", "read_table"]

#: The names an id column may have (compared in lower case, spaces as ``_``).
ID_COLUMNS = ("id", "source", "source_id")
#: The separators a CSV may use; the header line tells which.
_DELIMITERS = ",;\t|"


def id_column(frame: pd.DataFrame, name: str | None = None) -> str:
    """The column of ``frame`` that holds the source ids: ``id``, ``source`` or ``source_id``
    (any case, ``Source ID`` too); else an :class:`~toolkit.errors.InvalidInputError` that names
    the file (``name``, else the one :func:`read_table` read) and the columns found.

    >>> id_column(pd.DataFrame(columns=["Source ID", "team"]))
    'Source ID'
    >>> id_column(pd.DataFrame(columns=["src", "team"]), "changes.csv")
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: changes.csv has no 'id' column: its columns are 'src', 'team'. Put the source ids (src_...) in a column named id (or source_id).
    """
    for wanted in ID_COLUMNS:
        for column in frame.columns:
            if str(column).strip().lower().replace(" ", "_") == wanted:
                return str(column)
    name = name or frame.attrs.get("table_name") or "The table"
    found = ", ".join(repr(str(c)) for c in list(frame.columns)[:12])
    more = f" and {len(frame.columns) - 12} more" if len(frame.columns) > 12 else ""
    raise InvalidInputError(
        f"{name} has no 'id' column: its columns are {found}{more}. Put the source ids "
        "(src_...) in a column named id (or source_id)."
    )


def _delimiter(text: str) -> str:
    """The separator of a CSV, from its header line (a comma when it cannot tell)."""
    header = text.lstrip("\ufeff").split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(header, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        counts = {d: header.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def read_table(table: Any, name: str = "table") -> pd.DataFrame:
    """An analyst's table as text cells: a DataFrame, a CSV/Excel path, CSV bytes or a file object.

    ``read_table("segments.csv")`` or ``read_table(uploaded_bytes, name="segments.csv")``
    """
    if isinstance(table, pd.DataFrame):
        return table.reset_index(drop=True)
    if isinstance(table, str | os.PathLike):
        path = Path(table)
        if not path.exists():
            raise InvalidInputError(f"No such table file: {path}")
        readable_file(path, "table file", "pass a CSV (UTF-8) or Excel file with an id column.")
        name = str(path)
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            try:
                frame = pd.read_excel(path, dtype=str, keep_default_na=False)
                frame.attrs["table_name"] = name
                return frame
            except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError...
                raise InvalidInputError(
                    f"Could not read {path} as an Excel workbook ({type(exc).__name__}: {exc}). "
                    "Save it from Excel as .xlsx, or as CSV (UTF-8)."
                ) from exc
        content: Any = path.read_bytes()
    elif isinstance(table, bytes | bytearray | memoryview):
        content = bytes(table)
    elif hasattr(table, "read"):
        content = table.read()
    else:
        raise InvalidInputError(
            "table must be a DataFrame, a CSV/Excel path, CSV bytes or a file object, "
            f"not {type(table).__name__}."
        )
    try:
        text = content.decode("utf-8-sig") if isinstance(content, bytes) else str(content)
        frame = pd.read_csv(
            io.StringIO(text.lstrip("\ufeff")),
            sep=_delimiter(text),
            dtype=str,
            keep_default_na=False,
        )
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(
            f"Could not read {name} as CSV ({exc}). Save it as CSV (UTF-8) with an id column."
        ) from exc
    frame.attrs["table_name"] = name
    return frame
