"""MetadataEditor: set or unset metadata keys (or load a CSV), preview the plan, apply, undo.

Example (in a notebook)::

    editor = MetadataEditor(session, explorer)   # follows the explorer's selection
    editor = MetadataEditor(session, df)         # or a fixed frame of sources
    editor.add_key("segment", "gold"); editor.preview(); editor.dry_run.value = False
    editor.apply(); editor.wait()                # what the buttons do

Apply stays disabled until a valid plan was previewed for the current inputs; dry run is on by
default; in live mode an extra confirmation is needed. The work runs in a worker thread with
progress and Cancel; every error shows inside the widget.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as widgets
import pandas as pd

from toolkit.changes import (
    Outcome,
    Plan,
    apply,
    plan_metadata,
    plan_metadata_from_table,
    read_table,
    undo,
)
from toolkit.changes.kinds.metadata import UNSET
from toolkit.errors import InvalidInputError
from toolkit.widgets.change_panel import ChangePanel
from toolkit.widgets.selection import selection_pool
from toolkit.widgets.style import banner_html, button, checkbox, error_html
from toolkit.widgets.worker import Progress

__all__ = ["CSV_MODE", "SET_MODE", "MetadataEditor"]

SET_MODE = "Set / unset keys"
CSV_MODE = "From a CSV file"
CSV_HELP = (
    "CSV: an <code>id</code> column of source ids and one column per metadata key. "
    f"An empty cell leaves the key unchanged; <code>{html.escape(UNSET)}</code> removes it."
)


class MetadataEditor(ChangePanel):
    """Plan and apply metadata changes on a selection of sources, safely.

    ``selection``: the explorer (its selection is followed) or a DataFrame of sources.
    ``journal_folder``: where apply writes journals (default: ``./journals``).
    ``on_applied``: callbacks run after a real apply or undo (e.g. reload the explorer).
    """

    def _build(self) -> None:
        self.last_applied: Outcome | None = None
        self._table: pd.DataFrame | None = None

        self.mode = widgets.ToggleButtons(options=[SET_MODE, CSV_MODE], value=SET_MODE)
        self.key_rows = widgets.VBox()
        self.add_key_button = button(description="Add key", icon="plus")
        self.unset_keys = widgets.TagsInput(
            value=[],
            allow_duplicates=False,
            placeholder="a key to remove, then Enter",
            layout=widgets.Layout(width="560px", min_height="32px"),
        )
        self.upload = widgets.FileUpload(accept=".csv,text/csv", multiple=False)
        self.upload_label = widgets.HTML(CSV_HELP)
        self.dry_run = checkbox("Dry run (check against Stripe, change nothing)", value=True)
        self.apply_button = button(
            description="Dry run", icon="play", button_style="warning", disabled=True
        )
        self.retry_button = button(description="Retry failed", icon="redo", disabled=True)
        self.undo_button = button(description="Undo last apply", icon="undo", disabled=True)
        self.undo_question = widgets.HTML()
        self.undo_yes = button(description="Restore", icon="undo", button_style="danger")
        self.undo_no = button(description="Keep the change", icon="times")
        self.undo_box = widgets.HBox([self.undo_question, self.undo_yes, self.undo_no])
        self.undo_box.layout.display = "none"

        self.set_box = widgets.VBox(
            [
                widgets.HTML("<b>Set</b> (key = value)"),
                self.key_rows,
                self.add_key_button,
                widgets.HTML("<b>Unset</b> (keys to remove: type a key, press Enter)"),
                self.unset_keys,
            ]
        )
        self.csv_box = widgets.VBox([self.upload, self.upload_label])
        self.csv_box.layout.display = "none"

        self.add_key_button.on_click(lambda _: self.add_key())
        self.apply_button.on_click(lambda _: self.apply())
        self.retry_button.on_click(lambda _: self.retry_failed())
        self.undo_button.on_click(lambda _: self.ask_undo())
        self.undo_yes.on_click(lambda _: self.undo())
        self.undo_no.on_click(lambda _: self._hide_undo())
        self.mode.observe(self._on_mode, names="value")
        self.unset_keys.observe(self.invalidate, names="value")
        self.upload.observe(self._on_upload, names="value")
        self.dry_run.observe(self._update_buttons, names="value")

        self.children = [
            self.banner,
            self.selection_label,
            self.mode,
            self.set_box,
            self.csv_box,
            self.preview_button,
            self.error,
            self.plan_view,
            widgets.HBox([self.dry_run, self.live_confirm]),
            self.run_row([self.apply_button, self.cancel_button, self.progress, self.status]),
            self.result_view,
            widgets.HBox([self.retry_button, self.undo_button]),
            self.undo_box,
        ]
        self.add_key()

    # -- inputs -------------------------------------------------------------------------------
    def add_key(self, key: str = "", value: str = "") -> None:
        """Add a key = value row to the Set list (fills the first row if it is empty)."""
        key_box = widgets.Text(value=key, placeholder="key", layout=widgets.Layout(width="200px"))
        value_box = widgets.Text(
            value=value, placeholder="value", layout=widgets.Layout(width="320px")
        )
        remove = button(icon="trash", tooltip="remove this key", layout={"width": "40px"})
        row = widgets.HBox([key_box, widgets.Label("="), value_box, remove])
        key_box.observe(self.invalidate, names="value")
        value_box.observe(self.invalidate, names="value")

        def drop(_: Any) -> None:
            self.key_rows.children = tuple(r for r in self.key_rows.children if r is not row)
            self.invalidate()

        remove.on_click(drop)
        rows = list(self.key_rows.children)
        if key and len(rows) == 1 and self._row_values(rows[0]) == ("", ""):
            rows = []
        self.key_rows.children = (*rows, row)
        self.invalidate()

    @staticmethod
    def _row_values(row: widgets.HBox) -> tuple[str, str]:
        key_box, _, value_box, _ = row.children
        return key_box.value.strip(), value_box.value

    def pairs(self) -> dict[str, str]:
        """The Set rows as a dict; ValueError for a repeated key or a key without a value."""
        out: dict[str, str] = {}
        for row in self.key_rows.children:
            key, value = self._row_values(row)
            if not key and not value:
                continue
            if not key:
                raise InvalidInputError(
                    f"The value {value!r} has no key: fill in the key or remove it."
                )
            if key in out:
                raise InvalidInputError(f"The key {key!r} is listed twice under Set: keep one.")
            if value == "":
                raise InvalidInputError(
                    f"The key {key!r} has no value. To remove a key, list it under Unset."
                )
            out[key] = value
        return out

    def show_selection(self) -> None:
        """Say how many sources are selected (a CSV can name its own sources)."""
        super().show_selection()
        if not len(self.sources):
            self.selection_label.value = (
                "<i>No sources selected: select rows in the explorer "
                "(a CSV file names its own sources).</i>"
            )

    def _on_mode(self, change: Any) -> None:
        csv = change["new"] == CSV_MODE
        self.set_box.layout.display = "none" if csv else None
        self.csv_box.layout.display = None if csv else "none"
        self.invalidate()

    def _on_upload(self, change: Any) -> None:
        if change["new"]:
            item = change["new"][0]
            self.load_csv(bytes(item["content"]), item.get("name", "upload.csv"))

    def load_csv(self, content: bytes, name: str = "upload.csv") -> bool:
        """Read an uploaded CSV (cells as text, exactly as written); True when it was readable."""
        self.invalidate()
        try:
            table = read_table(content, name=name)
        except InvalidInputError as exc:
            self._table = None
            self.error.value = error_html(str(exc))
            return False
        self._table = table
        self.mode.value = CSV_MODE
        columns = ", ".join(map(str, table.columns[:12]))
        self.upload_label.value = (
            f"Loaded <b>{name}</b>: {len(table):,} rows; columns {columns}<br>{CSV_HELP}"
        )
        return True

    # -- plan ---------------------------------------------------------------------------------
    def preview(self) -> Plan | None:
        """Build the plan from the inputs and show it; Apply unlocks if a row is ready."""
        self.plan = None
        self.error.value = ""
        self.plan_view.value = ""
        try:
            if self.mode.value == CSV_MODE:
                if self._table is None:
                    raise InvalidInputError("Load a CSV file first.")
                plan = plan_metadata_from_table(self._table, sources=self._table_sources())
            else:
                sources = self.sources
                if not len(sources):
                    raise InvalidInputError(
                        "No sources selected: select rows in the explorer first."
                    )
                pairs = self.pairs()
                unset = [k.strip() for k in self.unset_keys.value if k.strip()]
                if not pairs and not unset:
                    raise InvalidInputError(
                        "Nothing to change: add a key to set or a key to unset."
                    )
                plan = plan_metadata(sources, set=pairs or None, unset=unset or None)
        except Exception as exc:
            self.error.value = error_html(exc)
            self._update_buttons()
            return None
        self.plan = plan
        self.plan_view.value = plan.to_html()
        if not plan.valid:
            self.error.value = banner_html(
                "No row is ready to apply: the table says why for each row.", "warn"
            )
        self._update_buttons()
        return plan

    def _table_sources(self) -> pd.DataFrame | None:
        """What a CSV's ids are checked against: every loaded source, else the selection."""
        pool = selection_pool(self.selection)
        if pool is not None and len(pool):
            return pool
        sources = self.sources
        return sources if len(sources) else None

    # -- apply --------------------------------------------------------------------------------
    def _update_buttons(self, *_: Any) -> None:
        super()._update_buttons()
        running = self.worker.running
        dry = bool(self.dry_run.value)
        ready = self.plan is not None and self.plan.valid
        self.apply_button.disabled = running or not ready or not self.live_ok(dry)
        self.apply_button.description = "Dry run" if dry else "Apply"
        self.apply_button.button_style = "info" if dry else "danger"
        last = self.outcome
        retryable = last is not None and not last.dry_run and len(last.failed) > 0
        self.retry_button.disabled = running or not retryable or not self.live_ok()
        self.retry_button.description = _retry_label(last)
        self.undo_button.disabled = running or self.last_applied is None or not self.live_ok()

    def apply(self) -> bool:
        """Apply (or dry-run) the previewed plan in the worker; False if it cannot start."""
        dry = bool(self.dry_run.value)
        plan = self.writable_plan(dry_run=dry, what="apply")
        if plan is None:
            return False
        return self.run_apply("Dry run" if dry else "Applying", plan, dry_run=dry)

    def retry_failed(self) -> bool:
        """Apply the last plan again from its journal: rows already done are skipped."""
        last = self.outcome
        if last is None or last.dry_run or last.journal is None or not len(last.failed):
            return False
        plan, journal, session = last.plan, last.journal, self.session

        def job(report: Progress, cancel: threading.Event) -> Outcome:
            return apply(plan, session, resume=journal, progress=report, cancel=cancel)

        return self.run_job("Retrying failed rows", job, dry_run=False)

    def ask_undo(self) -> bool:
        """What the Undo button does: say what the undo restores and ask before writing."""
        last = self.last_applied
        if last is None or last.journal is None:
            return False
        n = int(last.totals["ok"])
        self.undo_question.value = (
            f"Restore the metadata of <b>{n:,}</b> sources to what they held before "
            f"<code>{last.plan.id}</code>? Sources changed since are refused, not overwritten."
        )
        self.undo_yes.description = f"Restore {n:,} sources"
        self.undo_box.layout.display = None
        return True

    def _hide_undo(self) -> None:
        self.undo_box.layout.display = "none"
        self.undo_question.value = ""

    def undo(self) -> bool:
        """Undo the last real apply now (the confirmed step of :meth:`ask_undo`): each source gets
        back its metadata from before."""
        last = self.last_applied
        self._hide_undo()
        if last is None or last.journal is None:
            return False
        journal, session = last.journal, self.session

        def job(report: Progress, cancel: threading.Event) -> Outcome:
            return undo(journal, session, progress=report, cancel=cancel)

        return self.run_job("Undoing", job, dry_run=False, undoing=True)

    def after_write(self, outcome: Outcome, *, undoing: bool) -> None:
        """After a real apply, the plan is spent (a new change needs a new preview)."""
        self.last_applied = None if undoing else outcome
        if not undoing and self.plan is outcome.plan:
            self.plan = None
        if undoing:
            self.plan = None
            undone = (outcome.plan.undoes or {}).get("plan_id", "the last apply")
            self.plan_view.value = banner_html(
                f"Undone: {outcome.totals['ok']:,} sources hold their metadata from before "
                f"{undone} again"
                + (
                    f"; {len(outcome.df) - outcome.totals['ok']:,} not restored (see below)."
                    if outcome.totals["ok"] < len(outcome.df)
                    else "."
                ),
                "info",
            )


def _retry_label(last: Outcome | None) -> str:
    """The retry button says what it retries: failed rows, or rows a Cancel left unsent."""
    if last is None or last.dry_run or not len(last.failed):
        return "Retry failed"
    failed = int(last.totals["failed"])
    canceled = int(last.totals["canceled"])
    if not failed:
        return f"Resume {canceled:,} canceled"
    return f"Retry {failed:,} failed" + (f" + {canceled:,} canceled" if canceled else "")
