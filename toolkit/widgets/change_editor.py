"""ChangeEditor: pick fields (amount, owner, metadata, mandate, source order), see the diff, apply.

Example (in a notebook)::

    editor = ChangeEditor(session, explorer)      # follows the explorer's selection
    editor.add_field("amount_major", "12.50")     # what the Add field button does
    editor.add_field("owner.email", "billing@example.com")
    editor.preview()                              # toolkit.plan_update: every field each row changes
    editor.apply(); editor.wait()                 # journaled; Undo restores what can be restored

Every selected source gets the same values: the editor is :func:`toolkit.plan_update` over a table
with one row per selected source. A plan that records a mandate cannot be undone: the editor says
so and asks for the number of sources typed out, as the detach panel does.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets
import pandas as pd

from toolkit.changes import Outcome, Plan, confirmation_matches, undo
from toolkit.changes.kinds import KINDS
from toolkit.changes.kinds.update import known_columns
from toolkit.changes.plans.builders import plan_update
from toolkit.errors import InvalidInputError
from toolkit.widgets.change_panel import ChangePanel
from toolkit.widgets.style import banner_html, button, error_html
from toolkit.widgets.worker import Progress

__all__ = ["ChangeEditor"]


class ChangeEditor(ChangePanel):
    """Set fields of the selected sources from a list of known fields, preview, apply, undo."""

    def _build(self) -> None:
        choices = [c for c in known_columns() if c != "metadata.<key>"]
        self.field = widgets.Combobox(
            options=choices,
            placeholder="field, e.g. owner.email or metadata.team",
            description="Field:",
            ensure_option=False,
            layout=widgets.Layout(width="360px"),
        )
        self.value = widgets.Text(description="Value:", layout=widgets.Layout(width="320px"))
        self.add_button = button(description="Add field", icon="plus")
        self.add_button.on_click(lambda _: self.add_field(self.field.value, self.value.value))
        self.fields_view = widgets.HTML()
        self.clear_button = button(description="Clear fields", icon="trash")
        self.clear_button.on_click(lambda _: self.clear_fields())
        self.fields: dict[str, str] = {}
        self.check_button = button(description="Dry run", icon="search", disabled=True)
        self.check_button.on_click(lambda _: self.apply(dry_run=True))
        self.apply_button = button(
            description="Apply", icon="check", button_style="primary", disabled=True
        )
        self.apply_button.on_click(lambda _: self.apply())
        self.confirm = widgets.Text(
            placeholder="number of sources",
            description="Cannot be undone: type the number of sources:",
            style={"description_width": "initial"},
            layout=widgets.Layout(width="460px", display="none"),
        )
        self.confirm.observe(self._update_buttons, names="value")
        self.undo_button = button(description="Undo last apply", icon="undo", disabled=True)
        self.undo_button.on_click(lambda _: self.undo())
        self.last_applied: Outcome | None = None
        self.children = [
            self.banner,
            self.selection_label,
            widgets.HBox([self.field, self.value, self.add_button, self.clear_button]),
            self.fields_view,
            self.preview_button,
            self.error,
            self.plan_view,
            widgets.HBox([self.check_button, self.live_confirm]),
            widgets.HBox([self.confirm, self.apply_button, self.undo_button]),
            self.run_row([self.cancel_button, self.progress, self.status]),
            self.result_view,
        ]
        self._show_fields()

    # -- the fields ----------------------------------------------------------------------------
    def add_field(self, field: str, value: str) -> bool:
        """Add (or replace) one field and its value; False (and the error shown) when the field
        is not one plan_update knows."""
        name = str(field).strip()
        try:
            KINDS["update"].table_columns([name])  # an unknown field: the known ones listed
        except InvalidInputError as exc:
            self.error.value = error_html(exc)
            return False
        self.fields[name] = str(value)
        self.error.value = ""
        self.field.value = self.value.value = ""
        self._show_fields()
        self.invalidate()
        return True

    def clear_fields(self) -> None:
        """Forget every field (the plan too)."""
        self.fields.clear()
        self._show_fields()
        self.invalidate()

    def _show_fields(self) -> None:
        if not self.fields:
            self.fields_view.value = "<i>No field yet: pick one, type its value, Add field.</i>"
            return
        rows = "".join(
            f"<li><code>{html.escape(k)}</code> = {html.escape(repr(v))}</li>"
            for k, v in self.fields.items()
        )
        self.fields_view.value = f"<ul>{rows}</ul>"

    def table(self) -> pd.DataFrame:
        """The table plan_update gets: one row per selected source, one column per field."""
        ids = self.sources["id"].tolist() if len(self.sources) else []
        return pd.DataFrame({"id": ids, **{k: [v] * len(ids) for k, v in self.fields.items()}})

    # -- the plan and the write ----------------------------------------------------------------
    def preview(self) -> Plan | None:
        """Plan the fields on the selection and show every field each row changes."""
        self.plan = None
        self.error.value = self.plan_view.value = ""
        self.confirm.value = ""
        try:
            if not len(self.sources):
                raise InvalidInputError("No sources selected: select rows in the explorer first.")
            if not self.fields:
                raise InvalidInputError("No field to change: add one first.")
            plan = plan_update(self.table(), sources=self.sources)
        except Exception as exc:
            self.error.value = error_html(exc)
            self._update_buttons()
            return None
        self.plan = plan
        self.plan_view.value = plan.to_html(max_rows=200)
        self._update_buttons()
        return plan

    def _update_buttons(self, *_: Any) -> None:
        super()._update_buttons()
        running = self.worker.running
        plan = self.plan
        ready = plan.counts["ready"] if plan is not None else 0
        irreversible = plan is not None and plan.irreversible
        self.confirm.layout.display = None if irreversible else "none"
        confirmed = not irreversible or (
            plan is not None and confirmation_matches(plan, self.confirm.value)
        )
        self.check_button.disabled = running or ready == 0
        self.apply_button.description = f"Apply to {ready:,} sources" if ready else "Apply"
        self.apply_button.disabled = running or not ready or not confirmed or not self.live_ok()
        self.undo_button.disabled = running or self.last_applied is None or not self.live_ok()

    def apply(self, *, dry_run: bool = False) -> bool:
        """Apply the previewed plan (``dry_run``: only check it against Stripe)."""
        plan = self.writable_plan(dry_run=dry_run, what="apply", typed=self.confirm.value)
        if plan is None:
            return False
        return self.run_apply("Checking" if dry_run else "Applying", plan, dry_run=dry_run)

    def undo(self) -> bool:
        """Undo the last real apply: every field that can be restored is (a mandate stays)."""
        outcome = self.last_applied
        if outcome is None or outcome.journal is None:
            self.error.value = error_html("Nothing to undo: apply a plan first.")
            return False
        session, journal = self.session, outcome.journal

        def job(report: Progress, cancel: threading.Event) -> Outcome:
            return undo(journal, session, progress=report, cancel=cancel)

        return self.run_job("Undoing", job, dry_run=False, undoing=True)

    def after_write(self, outcome: Outcome, *, undoing: bool) -> None:
        """After a real apply the plan is spent (a new change needs a new preview)."""
        self.last_applied = None if undoing else outcome
        self.plan = None
        self.confirm.value = ""
        what = "Undid" if undoing else "Applied"
        self.plan_view.value = banner_html(
            f"{what} {outcome.totals['ok']:,} of {len(outcome.df):,} rows; journal {outcome.journal}.",
            "info",
        )
