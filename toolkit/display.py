"""How the toolkit's objects look in a notebook and in its widgets: scrollable HTML tables,
coloured banners, JSON panes; every text masked (keys, client secrets) before it is shown.

The one home of the look: plans, outcomes, audits and widgets all build on these.

>>> import pandas as pd
>>> "&lt;b&gt;" in table_html(pd.DataFrame({"x": ["<b>"]}))
True
>>> banner_html("Account sk_live_abcdefghijkl1234 refused", "danger").endswith(
...     "Account sk_live_…1234 refused</div>")
True
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

from toolkit.redact import drop_client_secret, mask_secrets, redact_source

__all__ = ["banner_html", "json_html", "safe_text", "status_table_html", "table_html"]

_COLORS = {
    "info": ("#0b5394", "#e8f0fb"),
    "ok": ("#1e6b30", "#e6f4ea"),
    "warn": ("#7a4f00", "#fff4d6"),
    "danger": ("#ffffff", "#b00020"),
    "error": ("#8a1020", "#fde8ea"),
}


def safe_text(text: object) -> str:
    """``str(text)`` with API keys masked and client secrets removed."""
    return mask_secrets(str(text))


def banner_html(text: str, kind: str = "info", *, title: str | None = None) -> str:
    """A coloured box: ``kind`` is info, ok, warn, danger or error."""
    fg, bg = _COLORS.get(kind, _COLORS["info"])
    head = f"<b>{html.escape(title)}</b> " if title else ""
    return (
        f"<div style='color:{fg};background:{bg};padding:6px 10px;border-radius:4px;"
        f"margin:4px 0;line-height:1.4'>{head}{html.escape(safe_text(text))}</div>"
    )


def _hidden(value: Any) -> Any:
    """A source (or a row of the sources frame) as shown: without its ``client_secret``, nor that
    of any source object inside it; metadata is shown as it is."""
    if isinstance(value, Mapping) and ("id" in value or value.get("object") == "source"):
        value = redact_source(value)
    return drop_client_secret(value)


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, Mapping | list):
        return json.dumps(_hidden(value), ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def table_html(
    df: pd.DataFrame,
    *,
    max_rows: int = 200,
    columns: list[str] | None = None,
    highlight: Mapping[str, str] | None = None,
    status_column: str | None = None,
    max_height: str = "320px",
) -> str:
    """A scrollable HTML table of the first ``max_rows`` rows, with a note on what is hidden.

    ``highlight`` maps values of ``status_column`` to background colours (e.g. invalid rows red).
    """
    shown = df if columns is None else df[[c for c in columns if c in df.columns]]
    head = "".join(
        f"<th style='text-align:left;padding:2px 6px;position:sticky;top:0;background:#f3f3f3'>"
        f"{html.escape(str(c))}</th>"
        for c in shown.columns
    )
    body = []
    for position, (_, row) in enumerate(shown.head(max_rows).iterrows()):
        colour = ""
        if highlight and status_column is not None and status_column in df.columns:
            colour = highlight.get(str(df[status_column].iloc[position]), "")
        style = f" style='background:{colour}'" if colour else ""
        cells = "".join(
            f"<td style='padding:2px 6px;vertical-align:top'>{html.escape(safe_text(_cell(v)))}</td>"
            for v in row
        )
        body.append(f"<tr{style}>{cells}</tr>")
    more = ""
    if len(shown) > max_rows:
        more = f"<div style='color:#555'>… {len(shown) - max_rows} more rows not shown</div>"
    return (
        f"<div style='max-height:{max_height};overflow:auto;border:1px solid #ddd'>"
        "<table style='border-collapse:collapse;font-size:12px;width:100%'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def status_table_html(
    df: pd.DataFrame,
    status_column: str,
    *,
    order: Mapping[str, int],
    colours: Mapping[str, str],
    columns: list[str],
    max_rows: int = 300,
) -> str:
    """:func:`table_html` of ``df`` with the rows that need a look first (``order`` ranks the
    values of ``status_column``, unranked last) and highlighted (``colours``)."""
    rank = df[status_column].astype(str).map(lambda v: order.get(v, 9))
    rows = df.assign(_rank=rank).sort_values("_rank", kind="stable")
    return table_html(
        rows,
        columns=columns,
        max_rows=max_rows,
        highlight=colours,
        status_column=status_column,
    )


def json_html(value: Any, *, max_height: str = "360px") -> str:
    """A pretty-printed JSON pane; a source's ``client_secret`` is dropped first."""
    text = json.dumps(_hidden(value), indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return (
        f"<pre style='max-height:{max_height};overflow:auto;font-size:12px;margin:0;"
        f"background:#fafafa;border:1px solid #ddd;padding:6px'>{html.escape(safe_text(text))}</pre>"
    )
