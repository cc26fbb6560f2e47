r"""An analyst's table as text cells: a DataFrame, a CSV or Excel file, CSV bytes, a file object.

>>> read_table(b"id,team\nsrc_1abc,ar\n").to_dict("records")
[{'id': 'src_1abc', 'team': 'ar'}]
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.private_files import readable_file

__all__ = ["read_table"]


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
                return pd.read_excel(path, dtype=str, keep_default_na=False)
            except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError...
                raise InvalidInputError(
                    f"Could not read {path} as an Excel workbook ({type(exc).__name__}: {exc}). "
                    "Save it from Excel as .xlsx, or as CSV (UTF-8)."
                ) from exc
        source: Any = path
    elif isinstance(table, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(table))
    elif hasattr(table, "read"):
        source = table
    else:
        raise InvalidInputError(
            "table must be a DataFrame, a CSV/Excel path, CSV bytes or a file object, "
            f"not {type(table).__name__}."
        )
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(
            f"Could not read {name} as CSV ({exc}). Save it as CSV (UTF-8) with an id column."
        ) from exc
