"""The explorer grid's view of a sources frame: key columns as text, money formatted with its
currency.

>>> import toolkit
>>> grid_frame(toolkit.load_sources(session, progress=False).head(2)).columns.tolist() == GRID_COLUMNS
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from toolkit.fetch.select import unapplied_amount
from toolkit.money import format_money

__all__ = ["GRID_COLUMNS", "grid_frame", "money_column"]

#: Columns of the grid, in order (money columns are formatted text).
GRID_COLUMNS = [
    "id",
    "customer",
    "type",
    "status",
    "amount",
    "received",
    "unapplied",
    "owner",
    "created",
    "metadata",
]


def money_column(amounts: pd.Series, currencies: pd.Series) -> list[str]:
    """Amounts as money text with their currency (blank where the currency is unknown)."""
    return [
        format_money(a, c) if isinstance(c, str) and c else ""
        for a, c in zip(amounts.tolist(), currencies.tolist(), strict=True)
    ]


def _metadata_text(meta: Any) -> str:
    if not isinstance(meta, Mapping) or not meta:
        return ""
    return ", ".join(f"{k}={v}" for k, v in sorted(meta.items()))


def grid_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The grid's view of a sources frame: key columns as text, money formatted with currency.

    ``grid_frame(df).columns.tolist() == GRID_COLUMNS``; one row per row of ``df``, same order.
    """
    currencies = df["currency"].astype("object").where(df["currency"].notna(), None)
    owner = df["owner_email"].astype("string").fillna(df["owner_name"].astype("string"))
    created = pd.to_datetime(df["created"], utc=True).dt.strftime("%Y-%m-%d %H:%M")
    out = pd.DataFrame(
        {
            "id": df["id"].astype("string").fillna("").tolist(),
            "customer": df["customer"].astype("string").fillna("").tolist(),
            "type": df["type"].astype("string").fillna("").tolist(),
            "status": df["status"].astype("string").fillna("").tolist(),
            "amount": money_column(df["amount"], currencies),
            "received": money_column(df["receiver_amount_received"], currencies),
            "unapplied": money_column(unapplied_amount(df), currencies),
            "owner": owner.fillna("").tolist(),
            "created": created.fillna("").tolist(),
            "metadata": [_metadata_text(m) for m in df["metadata"].tolist()],
        },
        columns=GRID_COLUMNS,
    )
    return out.reset_index(drop=True)
