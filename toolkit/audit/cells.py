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

from toolkit.money import currency_exponent, finance_frame
from toolkit.private_files import CSV_DATE_FORMAT

__all__ = ["CSV_DATE_FORMAT", "cell_value", "csv_frame", "finance_frame", "money_format"]


def money_format(currency: str) -> str:
    """Excel number format for a major-unit amount: ``money_format("usd") == '#,##0.00 "USD"'``.

    Zero-decimal currencies get no decimals (``#,##0 "JPY"``), three-decimal ones three.
    """
    code = (currency or "").upper()
    exponent = currency_exponent(currency) if currency else 2
    digits = "#,##0" + ("." + "0" * exponent if exponent else "")
    return f'{digits} "{code}"' if code else digits


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
    """``df`` as a CSV for spreadsheets: money as in :func:`finance_frame`, JSON for nested
    values (:func:`~toolkit.private_files.write_csv` then writes dates Excel reads,
    ``2026-10-27 00:00:00`` in UTC, and escapes formulas)."""
    out, _money = finance_frame(df)
    out = out.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(_csv_text)
    return out


def _csv_text(value: Any) -> Any:
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, sort_keys=True, default=str)
    return value
