"""How audit tables become cells a spreadsheet reads right: money in major units under plain
headings (minor units only in ``_minor`` columns), Excel number formats per currency, dates
Excel parses, nested values as JSON.

>>> frame, money = finance_frame(pd.DataFrame({"currency": ["usd"], "unapplied": [120000],
...                                            "unapplied_major": [Decimal("1200.00")]}))
>>> list(frame.columns), money
(['currency', 'unapplied', 'unapplied_minor'], {'unapplied'})
>>> money_format("jpy")
'#,##0 "JPY"'
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from toolkit.money import currency_exponent

__all__ = ["CSV_DATE_FORMAT", "cell_value", "csv_frame", "finance_frame", "money_format"]

#: Dates in CSV files: UTC, the form Excel and LibreOffice read as a date (ISO's "T" and offset
#: they leave as text).
CSV_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
_MAJOR = "_major"


def money_format(currency: str) -> str:
    """Excel number format for a major-unit amount: ``money_format("usd") == '#,##0.00 "USD"'``.

    Zero-decimal currencies get no decimals (``#,##0 "JPY"``), three-decimal ones three.
    """
    code = (currency or "").upper()
    exponent = currency_exponent(currency) if currency else 2
    digits = "#,##0" + ("." + "0" * exponent if exponent else "")
    return f'{digits} "{code}"' if code else digits


def finance_frame(df: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """``df`` with money in major units under the plain heading, and which columns are money.

    ``X_major`` becomes ``X`` (major units, in place of the minor-unit column) and the
    minor-unit ``X`` becomes ``X_minor`` (where ``X_major`` stood).
    """
    majors = [str(c) for c in df.columns if str(c).endswith(_MAJOR) and len(str(c)) > len(_MAJOR)]
    if not majors:
        return df, set()
    names: dict[str, str] = {}
    for major in majors:
        base = major[: -len(_MAJOR)]
        names[major] = base
        if base in df.columns:
            names[base] = f"{base}_minor"
    order = list(df.columns)
    for major in majors:  # the major column takes the plain column's place, and back
        base = major[: -len(_MAJOR)]
        if base in df.columns:
            i, j = order.index(base), order.index(major)
            order[i], order[j] = order[j], order[i]
    out = df[order].rename(columns=names)
    return out, {names[m] for m in majors}


def cell_value(value: Any) -> Any:
    """A value as a spreadsheet cell holds it: None for missing, naive UTC datetimes, JSON text
    for nested values, plain Python numbers."""
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


def csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` as a CSV for spreadsheets: money as in :func:`finance_frame`, UTC dates Excel
    reads (``2026-10-27 00:00:00``), JSON for nested values."""
    out, _money = finance_frame(df)
    out = out.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            values = out[col]
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_convert("UTC")
            out[col] = values.map(lambda v: "" if pd.isna(v) else v.strftime(CSV_DATE_FORMAT))
        elif out[col].dtype == object:
            out[col] = out[col].map(_csv_text)
    return out


def _csv_text(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return value
