"""What apply() and undo() did, one row per plan row: :class:`Outcome`.

A row's ``result`` is one of :data:`RESULTS`. ``uncertain`` means the request may or may not have
landed and a re-read could not tell: an Outcome with uncertain rows is never ``ok`` and its
headline never says "0 failed" (re-running apply, or undo, reads those rows again).

>>> import pandas as pd
>>> plan = toolkit.plan_metadata(["src_1abc"], set={"a": "1"})
>>> rows = [outcome_row(plan.rows()[0], "uncertain", "connection lost")]
>>> Outcome(df=pd.DataFrame(rows, columns=OUTCOME_COLUMNS), plan=plan, journal=None).headline()  # doctest: +ELLIPSIS
'Applied ...: 0 ok, 1 uncertain'
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.changes.plans.plan import Plan
from toolkit.changes.rows import PlanRow
from toolkit.display import MUTED, status_table_html

__all__ = ["OUTCOME_COLUMNS", "RESULTS", "Outcome", "outcome_row"]

#: Columns of ``Outcome.df``, in order.
OUTCOME_COLUMNS = ["row", "source", "action", "result", "message", "request_id", "before", "after"]
#: Every value ``Outcome.df["result"]`` can take.
RESULTS = ("ok", "skipped", "failed", "uncertain", "drifted", "would_apply", "canceled")
#: Results that are not a success: the Outcome is not ``ok`` while any row has one.
_PROBLEMS = ("failed", "uncertain", "drifted", "canceled")
_COLOURS = {
    "ok": "#070",
    "failed": "#b00",
    "uncertain": "#b00",
    "drifted": "#b60",
    "canceled": "#b60",
}
_ROW_COLOURS = {
    "failed": "#fde8ea",
    "uncertain": "#fde8ea",
    "drifted": "#fff4d6",
    "canceled": "#fff4d6",
    "ok": "#e6f4ea",
    "would_apply": "#e8f0fb",
}
_ORDER = {"failed": 0, "uncertain": 1, "drifted": 2, "canceled": 3}


def outcome_row(
    row: PlanRow,
    result: str,
    message: str = "",
    request_id: str | None = None,
    before: Any = None,
    after: Any = None,
) -> dict[str, Any]:
    """One row of ``Outcome.df`` for a plan row."""
    return {
        "row": row["row"],
        "source": row["source"],
        "action": row["action"],
        "result": result,
        "message": message,
        "request_id": request_id,
        "before": before,
        "after": after,
    }


@dataclass
class Outcome:
    """What apply() did, one row per plan row: ``outcome.df``, ``outcome.totals``.

    ``outcome.df`` columns: row, source, action, result (ok, skipped, failed, uncertain,
    drifted, would_apply, canceled), message (why; Stripe's message on failure), request_id,
    before, after (the state read before writing and returned after). ``reads``: the GETs the
    run sent (its re-reads), which Stripe counts against the account's read allocation.
    """

    df: pd.DataFrame
    plan: Plan
    journal: Path | None
    dry_run: bool = False
    interrupted: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    reads: int = 0

    @property
    def totals(self) -> dict[str, int]:
        """Rows by result plus ``total``: ``{"ok": 9, "skipped": 1, "failed": 0, ...}``."""
        found = Counter(self.df["result"]) if len(self.df) else Counter()
        out = {name: int(found.get(name, 0)) for name in RESULTS}
        out["total"] = len(self.df)
        return out

    @property
    def failed(self) -> pd.DataFrame:
        """Rows to retry: failed or canceled. Re-running ``apply(plan, session)`` retries them."""
        return self.df[self.df["result"].isin(["failed", "canceled"])]

    @property
    def uncertain(self) -> pd.DataFrame:
        """Rows that may or may not have landed: re-running apply (or undo) reads them again."""
        return self.df[self.df["result"] == "uncertain"]

    @property
    def drifted(self) -> pd.DataFrame:
        """Rows refused because the source changed since the plan was made: re-plan them."""
        return self.df[self.df["result"] == "drifted"]

    @property
    def ok(self) -> bool:
        """True when nothing failed, stayed uncertain, drifted or was canceled."""
        t = self.totals
        return all(t[name] == 0 for name in _PROBLEMS)

    def _shown(self) -> list[str]:
        """The results a headline names: ok always, failed unless rows are uncertain, the rest
        when there are any."""
        t = self.totals
        return [
            name
            for name in RESULTS
            if t[name] or name == "ok" or (name == "failed" and not t["uncertain"])
        ]

    def _verb(self) -> str:
        if self.dry_run:
            return "Dry run (nothing changed) of"
        if self.interrupted:
            what = "undo of" if self.plan.undoes else "run of"
            return f"Stopped part-way: {what}"
        return "Undo of" if self.plan.undoes else "Applied"

    def _title(self) -> str:
        if self.plan.undoes and not self.dry_run:
            return f"{self.plan.undoes.get('plan_id')} ({self.plan.action})"
        return f"{self.plan.id} ({self.plan.action})"

    def headline(self) -> str:
        """One line: ``Applied plan_… (update_metadata): 10 ok, 2 skipped, 0 failed``."""
        t = self.totals
        parts = [f"{t[name]} {name}" for name in self._shown()]
        text = f"{self._verb()} {self._title()}: " + ", ".join(parts)
        if self.interrupted and self.dry_run:
            text += " (stopped part-way)"
        return text

    def __repr__(self) -> str:
        lines = [self.headline()]
        if self.journal:
            lines.append(f"journal: {self.journal}")
        lines.extend(f"note: {note}" for note in self.notes)
        shown = self.df[self.df["result"] != "ok"][["row", "source", "result", "message"]]
        if len(shown):
            lines.append(shown.head(10).to_string(index=False, max_colwidth=80))
        return "\n".join(lines)

    def to_html(self, *, max_rows: int = 300) -> str:
        """Totals, then every row (failed and uncertain first), and where the journal is: the
        notebook view and the widgets show this."""
        esc = html.escape
        t = self.totals
        cells = "".join(
            f"<td style='padding:0 0.8em'><b style='color:{_COLOURS.get(name, 'inherit')}'>"
            f"{t[name]:,}</b> {esc(name)}</td>"
            for name in self._shown()
        )
        parts = [
            "<div class='toolkit-outcome'>",
            f"<div><b>{esc(self._verb())}</b> <code>{esc(self._title())}</code>"
            f"{' (stopped part-way)' if self.interrupted and self.dry_run else ''}</div>",
            f"<table><tr>{cells}</tr></table>",
        ]
        if self.journal:
            parts.append(
                f"<div>Journal: <code>{esc(str(self.journal))}</code> (readable by you only)</div>"
            )
        if t["uncertain"]:
            parts.append(
                f"<div><b>{t['uncertain']} uncertain:</b> these requests may or may not have "
                "landed and a re-read could not tell. Run apply (or undo) again to read them "
                "again.</div>"
            )
        if self.plan.irreversible and not self.dry_run:
            parts.append(
                f"<div><b>Cannot be undone.</b> {esc(self.plan.change.irreversible_note)}</div>"
            )
        for note in self.notes:
            parts.append(f"<div style='color:{MUTED}'>note: {esc(note)}</div>")
        parts.append(
            status_table_html(
                self.df,
                "result",
                order=_ORDER,
                colours=_ROW_COLOURS,
                columns=["row", "source", "action", "result", "message", "request_id"],
                max_rows=max_rows,
            )
        )
        parts.append("</div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()
