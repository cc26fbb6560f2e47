"""The explorer's detail pane: one source as a person reads it (dates, amounts in its currency,
owner, receiver figures, metadata), links to it in Stripe's Dashboard, the JSON behind a toggle.

>>> import pandas as pd
>>> row = pd.Series({"id": "src_1", "customer": "cus_1", "type": "card", "status": "chargeable",
...                  "currency": "usd", "amount": 1999, "livemode": False, "metadata": {}, "raw": {}})
>>> dashboard_url("src_1", mode="test")
'https://dashboard.stripe.com/test/sources/src_1'
>>> "19.99 USD" in detail_html(row, mode="test")
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from toolkit.money import format_money
from toolkit.widgets.style import json_html

__all__ = ["dashboard_url", "detail_html"]

_KINDS = {"src_": "sources", "cus_": "customers"}
_RECEIVER = (
    ("received", "receiver_amount_received"),
    ("charged", "receiver_amount_charged"),
    ("returned", "receiver_amount_returned"),
)


def dashboard_url(object_id: str, *, mode: str | None, account: str | None = None) -> str | None:
    """The object's page in Stripe's Dashboard (``/test/`` in test mode, the connected account
    first when there is one); None in the sandbox, which has no Dashboard.

    Stripe documents Dashboard pages per object type, not a URL scheme: these are the paths the
    Dashboard itself uses for customers and sources.
    """
    kind = next((k for p, k in _KINDS.items() if object_id.startswith(p)), None)
    if kind is None or mode not in ("live", "test"):
        return None
    parts = ["https://dashboard.stripe.com"]
    if account and account.startswith("acct_"):
        parts.append(account)
    if mode == "test":
        parts.append("test")
    return "/".join([*parts, kind, object_id])


def _missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and value != value)
    )


def _text(value: Any) -> str:
    return "" if _missing(value) else html.escape(str(value))


def _link(object_id: Any, mode: str | None, account: str | None) -> str:
    if _missing(object_id):
        return ""
    url = dashboard_url(str(object_id), mode=mode, account=account)
    shown = f"<code>{html.escape(str(object_id))}</code>"
    if url is None:
        return shown
    return (
        f"{shown} <a href='{html.escape(url, quote=True)}' target='_blank'>open in Dashboard ↗</a>"
    )


def detail_html(row: pd.Series, *, mode: str | None, account: str | None = None) -> str:
    """One source (a row of the sources frame) as readable HTML, its JSON behind a toggle."""
    get = row.get
    currency = get("currency")
    cur = str(currency) if not _missing(currency) else ""
    created = get("created")
    when = "" if _missing(created) else pd.Timestamp(created).strftime("%Y-%m-%d %H:%M:%S UTC")
    owner = " · ".join(
        _text(get(f)) for f in ("owner_name", "owner_email", "owner_phone") if not _missing(get(f))
    )
    lines: list[tuple[str, str]] = [
        ("Source", _link(get("id"), mode, account)),
        ("Customer", _link(get("customer"), mode, account) or "<i>not attached</i>"),
        ("Type · status", f"{_text(get('type'))} · <b>{_text(get('status'))}</b>"),
        ("Created", when),
        ("Amount", format_money(get("amount"), cur) if cur and not _missing(get("amount")) else ""),
        ("Owner", owner),
    ]
    if not _missing(get("receiver_amount_received")) and cur:
        figures = {label: get(column) for label, column in _RECEIVER}
        parts = [f"{k} {format_money(v, cur)}" for k, v in figures.items() if not _missing(v)]
        if all(not _missing(v) for v in figures.values()):
            left = int(figures["received"]) - int(figures["charged"]) - int(figures["returned"])
            parts.append(f"<b>unapplied {format_money(left, cur)}</b>")
        lines.append(("Receiver", " · ".join(parts)))
    meta = get("metadata")
    if isinstance(meta, Mapping) and meta:
        lines.append(
            (
                "Metadata",
                "<br>".join(
                    f"<code>{_text(k)}</code> = {_text(v)}" for k, v in sorted(meta.items())
                ),
            )
        )
    cells = "".join(
        f"<tr><th style='text-align:left;padding:2px 10px 2px 0;vertical-align:top'>{label}</th>"
        f"<td style='padding:2px 0;word-break:break-all'>{value}</td></tr>"
        for label, value in lines
        if value
    )
    raw = get("raw")
    toggle = (
        f"<details><summary>JSON as Stripe returned it</summary>{json_html(raw)}</details>"
        if isinstance(raw, Mapping)
        else ""
    )
    return f"<table style='font-size:13px'>{cells}</table>{toggle}"
