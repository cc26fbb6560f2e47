"""A plan: a reviewed-before-applied table of changes, one row per source.

Nothing here talks to Stripe. A :class:`Plan` is a DataFrame with one row per source (what will be
sent, the state before and after, whether the row is ready, a no-op or invalid and why) plus a few
attributes. Read it, export it for sign-off, then hand it to :func:`toolkit.apply`. The builders
are in :mod:`~toolkit.changes.plans.builders`; a plan as a record (in a file for sign-off, or as
a journal's first line) is :mod:`~toolkit.changes.plans.record`.

>>> plan = toolkit.plan_metadata(["src_1abc", "src_2abc"], set={"segment": "gold"})
>>> plan.counts
{'ready': 2, 'noop': 0, 'invalid': 0, 'total': 2}
>>> plan.summary().to_dict("records")
[{'change': 'set', 'field': 'segment', 'rows': 2}]
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.changes.kinds import kind_of
from toolkit.changes.kinds.base import ChangeKind
from toolkit.changes.rows import PLAN_COLUMNS, PlanRow, plain_rows
from toolkit.display import MUTED, status_table_html, table_html
from toolkit.fetch.loaded import LoadInfo
from toolkit.private_files import write_csv

__all__ = ["Plan", "make_plan", "new_plan_id", "plan_frame"]

_STATUS_COLOURS = {"invalid": "#fde8ea", "noop": "#f3f3f3"}
_STATUS_ORDER = {"invalid": 0, "ready": 1, "noop": 2}


def new_plan_id() -> str:
    """A fresh plan id: time-stamped and random, e.g. ``plan_20261123T0125_3fa9c1d2``."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M")
    return f"plan_{stamp}_{secrets.token_hex(4)}"


@dataclass
class Plan:
    """A reviewed-before-applied list of changes: ``plan.df`` has one row per source.

    ``plan.df`` columns: row (1-based position in the input), source, customer, action, params
    (exactly what will be sent), before, after (the state the row expects and produces; None when
    unknown), status (``ready``/``noop``/``invalid``), reason (why not ready), change (readable).

    Example::

        plan = plan_metadata(df, set={"tier": "gold"})
        plan.counts   # {"ready": 10, "noop": 2, "invalid": 0, "total": 12}
        plan.ready    # the rows apply() will send
    """

    id: str
    kind: str
    df: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    )
    #: What the load_sources frame the plan was made from records (account, mode, the load's
    #: size), or None: apply() reads it to refuse a plan made on another account or mode, and
    #: to choose how to re-read the sources.
    loaded: LoadInfo | None = None
    #: For an undo plan: ``{"plan_id", "journal", "unresolved"}`` of the plan it undoes (the
    #: original journal's file name, and the rows whose write was in flight when it stopped).
    undoes: dict[str, Any] | None = None
    #: Who prepared the plan: ``{"user": <OS user>, "name": <name given or None>}``, set by
    #: :func:`~toolkit.save_plan` (None: never saved, or saved by a toolkit before 0.3).
    maker: dict[str, Any] | None = None
    #: The plan file's digest and path once saved or read (:mod:`~toolkit.changes.plans.record`):
    #: an approval (:mod:`~toolkit.changes.plans.approval`) is of that exact digest.
    digest: str | None = None
    path: Path | None = None

    @property
    def change(self) -> ChangeKind:
        """The kind of change every row makes (a :class:`~toolkit.changes.kinds.base.ChangeKind`)."""
        return kind_of(self.kind)

    def rows(self) -> list[PlanRow]:
        """The rows as plain JSON values (what a journal records and a digest covers)."""
        return plain_rows(self.df)

    @property
    def irreversible(self) -> bool:
        """True for plans that cannot be undone: a detach (a detached source is consumed for
        good), a mandate (an acceptance cannot be taken back)."""
        return self.change.plan_irreversible(self.df)

    @property
    def action(self) -> str:
        """The action every row of this plan performs (``update_metadata``, ``detach``...)."""
        return self.change.action

    @property
    def counts(self) -> dict[str, int]:
        """Rows by status plus the total: ``{"ready": 3, "noop": 1, "invalid": 0, "total": 4}``."""
        found = Counter(self.df["status"]) if len(self.df) else Counter()
        out = {name: int(found.get(name, 0)) for name in ("ready", "noop", "invalid")}
        out["total"] = len(self.df)
        return out

    @property
    def valid(self) -> bool:
        """True when at least one row is ready to apply."""
        return self.counts["ready"] > 0

    @property
    def ready(self) -> pd.DataFrame:
        """The rows apply() will send."""
        return self.df[self.df["status"] == "ready"]

    @property
    def invalid(self) -> pd.DataFrame:
        """The refused rows, with the reason for each."""
        return self.df[self.df["status"] == "invalid"]

    def subset(self, sources: Iterable[str] | pd.Series | pd.DataFrame) -> Plan:
        """A plan of its own (a new id ``<id>-part-...``, so a journal of its own) with the rows of
        some sources: ``plan.subset(["src_1", "src_2"])`` or ``plan.subset(selected_frame)``."""
        if isinstance(sources, pd.DataFrame):
            sources = sources["id"] if "id" in sources.columns else sources["source"]
        wanted = {str(s) for s in sources}
        df = self.df[self.df["source"].isin(wanted)].reset_index(drop=True)
        return Plan(
            id=f"{self.id}-part-{secrets.token_hex(2)}",
            kind=self.kind,
            df=df,
            notes=[*self.notes, f"part of plan {self.id}"],
            created=self.created,
            loaded=self.loaded,
        )

    def summary(self) -> pd.DataFrame:
        """What the ready rows change, counted: columns ``change``, ``field``, ``rows``.

        For metadata plans ``change`` is add / change / remove per key (``clear all`` for clears).
        """
        counter: Counter[tuple[str, str]] = Counter()
        change = self.change
        for row in self.ready.to_dict("records"):
            for op, name in change.operations(row):
                counter[(op, name)] += 1
        items = sorted(counter.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        return pd.DataFrame(
            [{"change": op, "field": name, "rows": n} for (op, name), n in items],
            columns=["change", "field", "rows"],
        )

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the plan for sign-off (file readable by you only); returns the path.

        ``plan.to_csv("journals/plan-for-review.csv")``. before/after/params are JSON text.
        """
        out = self.df.copy()
        for name in ("params", "before", "after"):
            out[name] = out[name].map(_json_cell)
        out.insert(0, "kind", self.kind)
        out.insert(0, "plan_id", self.id)
        return write_csv(out, path)

    def headline(self) -> str:
        """One line: ``Plan plan_… (metadata): 12 rows — 10 ready, 2 no change, 0 invalid``."""
        c = self.counts
        return (
            f"Plan {self.id} ({self.kind}): {c['total']} rows — {c['ready']} ready, "
            f"{c['noop']} no change, {c['invalid']} invalid"
        )

    def __repr__(self) -> str:
        lines = [self.headline()]
        if self.irreversible:
            lines.append("WARNING: " + self.change.irreversible_note)
        lines.extend(f"note: {note}" for note in self.notes)
        shown = self.df[["row", "source", "status", "change", "reason"]].head(10)
        if len(shown):
            lines.append(shown.to_string(index=False, max_colwidth=70))
        if len(self.df) > 10:
            lines.append(f"… {len(self.df) - 10} more rows in plan.df")
        return "\n".join(lines)

    def to_html(self, *, max_rows: int = 300, warning: bool = True) -> str:
        """The plan as a reviewer needs it: counts, notes, what changes, then every row (invalid
        first). The notebook view and the widgets show this."""
        esc = html.escape
        c = self.counts
        parts = [
            "<div class='toolkit-plan'>",
            f"<div><b>Plan</b> <code>{esc(self.id)}</code> · {esc(self.action)} · "
            f"<b>{c['total']:,}</b> rows: <b>{c['ready']:,}</b> ready, {c['noop']:,} no change "
            f"(skipped), <b style='color:{'#b00020' if c['invalid'] else 'inherit'}'>"
            f"{c['invalid']:,}</b> invalid (not applied)</div>",
        ]
        if self.irreversible and warning:  # a view that already warns passes warning=False
            parts.append(
                "<p style='color:#fff;background:#b00;padding:0.4em;margin:0.3em 0'>"
                f"<b>Cannot be undone.</b> {esc(self.change.irreversible_note)}</p>"
            )
        for note in self.notes[:10]:
            parts.append(f"<div style='color:{MUTED}'>note: {esc(str(note))}</div>")
        summary = self.summary()
        if len(summary):
            parts.append("<div>What changes:</div>" + table_html(summary, max_height="120px"))
        parts.append(
            status_table_html(
                self.df,
                "status",
                order=_STATUS_ORDER,
                colours=_STATUS_COLOURS,
                columns=["row", "source", "customer", "status", "change", "reason"],
                max_rows=max_rows,
            )
        )
        parts.append("</div>")
        return "".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def _json_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def plan_frame(rows: list[Any]) -> pd.DataFrame:
    """The ``plan.df`` of ``rows`` (dicts or PlanRows), with the plan's dtypes: made, saved to a
    file or a journal and read back, a plan's frame is the same."""
    df = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    df["row"] = df["row"].astype("int64")
    for name in ("source", "customer", "action", "status", "reason", "change"):
        df[name] = df[name].astype(object)
    return df.reset_index(drop=True)


def make_plan(
    kind: str, rows: list[PlanRow], notes: list[str] | None = None, sources: Any = None
) -> Plan:
    """A new plan of ``rows`` (from the frame ``sources``, whose load it remembers)."""
    return Plan(
        id=new_plan_id(),
        kind=kind,
        df=plan_frame(rows),
        notes=notes or [],
        loaded=LoadInfo.from_attrs(sources) if isinstance(sources, pd.DataFrame) else None,
    )
