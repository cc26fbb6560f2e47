"""The explorer grid's view of a sources frame: key columns as text, money formatted with its
currency and sorted by amount.

Money columns are ordered categoricals whose categories are the formatted amounts in ascending
order: itables sends a category's rank for sorting and its text for display and search, so
``98.90 USD`` sorts below ``977.97 USD`` and ``99,334.38 USD`` (as text it would not).

>>> import toolkit
>>> grid_frame(toolkit.load_sources(session, progress=False).head(2)).columns.tolist() == GRID_COLUMNS
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from itables import JavascriptFunction

from toolkit.display import table_html
from toolkit.fetch.select import totals_by_currency, unapplied_amount
from toolkit.money import format_money, minor_to_major

__all__ = [
    "DEFAULT_COLUMNS",
    "GRID_COLUMNS",
    "LONG_TEXT_COLUMNS",
    "column_defs",
    "grid_frame",
    "money_column",
    "sortable_money",
    "summary_html",
]

#: Columns of the grid, in order (money columns are formatted text, ranked by amount).
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


#: Display only: long text cut to 40 characters with the whole value on hover (sorting and
#: searching see it all), so one long metadata value cannot make the grid thousands of px wide.
_CUT = """function (data, type, row, meta) {
  if (type !== 'display' || data === null || data === undefined) { return data; }
  var s = String(data);
  var esc = function (t) { return t.replace(/&/g, '&amp;').replace(/</g, '&lt;')
    .replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;'); };
  var shown = s.length > 40 ? s.slice(0, 39) + '\u2026' : s;
  return '<span title="' + esc(s) + '">' + esc(shown) + '</span>';
}"""
_LONG_TEXT = ("customer", "owner", "metadata")
_MONEY = ("amount", "received", "unapplied")
#: The columns shown until the user picks others: what fits a notebook's width (about 1,000 px).
DEFAULT_COLUMNS = ["id", "customer", "type", "status", "amount", "unapplied", "created"]


def column_defs(columns: list[str]) -> list[dict[str, Any]]:
    """DataTables' column settings for a grid of ``columns`` (in that order): long text cut
    (whole on hover), money compared as numbers."""
    defs: list[dict[str, Any]] = []
    cut = [columns.index(c) for c in _LONG_TEXT if c in columns]
    if cut:
        defs.append({"targets": cut, "render": JavascriptFunction(_CUT)})
    money = [columns.index(c) for c in _MONEY if c in columns]
    if money:
        # itables sends each categorical cell's rank for sorting; "num" makes DataTables
        # compare those ranks as numbers (it would detect the column as text from the display)
        defs.append({"targets": money, "type": "num"})
    return defs


#: The settings of the grid with every column.
LONG_TEXT_COLUMNS = column_defs(GRID_COLUMNS)


def money_column(amounts: pd.Series, currencies: pd.Series) -> list[str]:
    """Amounts as money text with their currency (blank where the currency is unknown)."""
    return [
        format_money(a, c) if isinstance(c, str) and c else ""
        for a, c in zip(amounts.tolist(), currencies.tolist(), strict=True)
    ]


def sortable_money(amounts: pd.Series, currencies: pd.Series) -> pd.Categorical:
    """Money text with its currency, as an ordered categorical ranked by the amount.

    Categories sort by the amount in major units (then currency); blank (no currency) first.

    >>> cells = sortable_money(pd.Series([99334.38e2, 98.90e2, 977.97e2]), pd.Series(["usd"] * 3))
    >>> [str(c) for c in cells.sort_values()]
    ['98.90 USD', '977.97 USD', '99,334.38 USD']
    """
    texts = money_column(amounts, currencies)
    keys: dict[str, tuple[float, str]] = {"": (float("-inf"), "")}
    for text, amount, currency in zip(texts, amounts.tolist(), currencies.tolist(), strict=True):
        if text and text not in keys:
            major = minor_to_major(amount, str(currency))
            keys[text] = (float(major) if major is not None else float("-inf"), str(currency))
    order = sorted(keys, key=keys.__getitem__)
    return pd.Categorical(texts, categories=order, ordered=True)


def summary_html(
    view: pd.DataFrame, total: int, selected: int, shown: int | None = None, hidden: int = 0
) -> str:
    """The explorer's line above the grid: what is shown and selected (and how many of the
    selected the filters hide), and the totals of what the filters keep per currency (never
    added across currencies). ``shown``: the rows the grid holds when it holds fewer than the
    filters keep."""
    if shown is not None and shown < len(view):
        text = (
            f"Showing <b>{shown:,}</b> of {len(view):,} matching ({total:,} sources; the grid "
            f"holds the first {shown:,}: filter to narrow) · <b>{selected:,}</b> selected"
        )
    else:
        text = f"Showing <b>{len(view):,}</b> of {total:,} sources · <b>{selected:,}</b> selected"
    if hidden:
        text += (
            f", <b>{hidden:,}</b> of them hidden by the filters (still selected: "
            "<i>Clear selection</i> unselects them)"
        )
    totals = totals_by_currency(view)
    if totals.empty:
        return text
    display = pd.DataFrame(
        {
            "currency": totals["currency"].replace("", "(none)"),
            "sources": totals["sources"],
            "receivers": totals["receivers"],
            "amount": money_column(totals["amount"], totals["currency"]),
            "received": money_column(totals["received"], totals["currency"]),
            "unapplied": money_column(totals["unapplied"], totals["currency"]),
        }
    )
    what = "matching" if shown is not None and shown < len(view) else "shown"
    return text + f"<br>Totals of what is {what}:" + table_html(display, max_height="none")


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
            "amount": sortable_money(df["amount"], currencies),
            "received": sortable_money(df["receiver_amount_received"], currencies),
            "unapplied": sortable_money(unapplied_amount(df), currencies),
            "owner": owner.fillna("").tolist(),
            "created": created.fillna("").tolist(),
            "metadata": [_metadata_text(m) for m in df["metadata"].tolist()],
        },
        columns=GRID_COLUMNS,
    )
    return out.reset_index(drop=True)
