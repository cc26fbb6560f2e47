"""HTML views of plans and outcomes shared by the metadata editor and the detach panel.

Example::

    plan_box.value = plan_html(plan)          # counts, what changes, every row (invalid first)
    result_box.value = outcome_html(outcome)  # totals, failed rows first, the journal's location
    banner.value = live_banner_html(session)  # "" unless the session uses a live key
"""

from __future__ import annotations

import html

import pandas as pd

from toolkit.apply import Outcome
from toolkit.plans import Plan
from toolkit.session import Session
from toolkit.widgets.style import banner_html, table_html

__all__ = ["live_banner_html", "outcome_html", "plan_html"]

PLAN_COLOURS = {"invalid": "#fde8ea", "noop": "#f3f3f3"}
RESULT_COLOURS = {
    "failed": "#fde8ea",
    "drifted": "#fff4d6",
    "canceled": "#fff4d6",
    "ok": "#e6f4ea",
    "would_apply": "#e8f0fb",
}
_PLAN_ORDER = {"invalid": 0, "ready": 1, "noop": 2}
_RESULT_ORDER = {"failed": 0, "drifted": 1, "canceled": 2}


def live_banner_html(session: Session) -> str:
    """A red banner for a live session (and whether writes are allowed); "" otherwise."""
    if session.mode != "live":
        return ""
    if not session.allow_live:
        return banner_html(
            f"Account {session.account_label}: writes are refused. To change live data, "
            "reconnect with toolkit.connect(..., allow_live=True).",
            "danger",
            title="LIVE MODE.",
        )
    return banner_html(
        f"Account {session.account_label}: applying changes real customer data. "
        "Preview, dry-run, then confirm.",
        "danger",
        title="LIVE MODE.",
    )


def _sorted(df: pd.DataFrame, column: str, order: dict[str, int]) -> pd.DataFrame:
    if df.empty or column not in df.columns:
        return df
    keys = df[column].astype(str).map(lambda v: order.get(v, 9))
    return df.assign(_order=keys).sort_values(["_order"], kind="stable").drop(columns="_order")


def plan_html(plan: Plan, *, max_rows: int = 300) -> str:
    """The plan as a reviewer needs it: counts, what changes, then every row, invalid first."""
    c = plan.counts
    parts = [
        f"<div><b>Plan</b> <code>{html.escape(plan.id)}</code> · "
        f"<b>{c['total']:,}</b> rows: <b>{c['ready']:,}</b> ready, {c['noop']:,} no change "
        f"(skipped), <b style='color:{'#b00020' if c['invalid'] else 'inherit'}'>"
        f"{c['invalid']:,}</b> invalid (not applied)</div>"
    ]
    for note in plan.notes[:10]:
        parts.append(f"<div style='color:#555'>note: {html.escape(str(note))}</div>")
    summary = plan.summary()
    if len(summary):
        parts.append("<div>What changes:</div>" + table_html(summary, max_height="120px"))
    rows = _sorted(plan.df, "status", _PLAN_ORDER)
    parts.append(
        table_html(
            rows,
            columns=["row", "source", "customer", "status", "change", "reason"],
            max_rows=max_rows,
            highlight=PLAN_COLOURS,
            status_column="status",
        )
    )
    return "".join(parts)


def outcome_html(outcome: Outcome, *, max_rows: int = 300) -> str:
    """Totals and the per-row results (failed first), and where the journal is."""
    totals = ", ".join(f"{k}: {v:,}" for k, v in outcome.totals.items() if v)
    title = "Dry run (nothing changed)" if outcome.dry_run else "Result"
    parts = [f"<div><b>{title}</b> · {html.escape(totals or 'no rows')}</div>"]
    rows = _sorted(outcome.df, "result", _RESULT_ORDER)
    parts.append(
        table_html(
            rows,
            columns=["row", "source", "action", "result", "message", "request_id"],
            max_rows=max_rows,
            highlight=RESULT_COLOURS,
            status_column="result",
        )
    )
    return "".join(parts)
