"""The parts the metadata editor and the detach panel share: selection, plan, worker, results.

A panel follows a selection (an explorer or a frame), shows a live-mode banner, runs apply/undo in a
worker thread with progress and Cancel, shows the outcome and the journal's location, and tells
``on_applied`` callbacks after a real write. Subclasses build the plan (``preview``) and add their
controls in ``_build``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd

from toolkit.changes import Outcome, Plan, apply, check_confirmation, save_for_approval
from toolkit.errors import ApprovalRequired, InvalidInputError
from toolkit.fetch import reread
from toolkit.session import Session
from toolkit.widgets.selection import (
    SelectionSource,
    replace_pool,
    selection_frame,
    selection_pool,
    watch_selection,
)
from toolkit.widgets.style import banner_html, button, checkbox, error_html
from toolkit.widgets.views import live_banner_html
from toolkit.widgets.worker import Progress, Worker

__all__ = ["ChangePanel"]

Job = Callable[[Progress, threading.Event], Outcome]

#: Results of rows that sent nothing: there is nothing to read back for them.
UNWRITTEN = ("skipped", "would_apply", "canceled")


class ChangePanel(widgets.VBox):
    """Base of :class:`MetadataEditor` and :class:`DetachPanel` (not used on its own)."""

    def __init__(
        self,
        session: Session,
        selection: SelectionSource = None,
        *,
        journal_folder: str | Path | None = None,
    ) -> None:
        super().__init__()
        selection_frame(selection)  # fail early on a wrong type
        self.session = session
        self.selection: SelectionSource = selection
        self.journal_folder = Path(journal_folder) if journal_folder is not None else None
        self.plan: Plan | None = None
        self.outcome: Outcome | None = None
        self.on_applied: list[Callable[[Outcome], None]] = []

        self.banner = widgets.HTML(live_banner_html(session))
        self.selection_label = widgets.HTML()
        self.error = widgets.HTML()
        self.plan_view = widgets.HTML()
        self.result_view = widgets.HTML()
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, layout=widgets.Layout(width="260px")
        )
        # the progress text takes the room it needs (a Label is cut to its box otherwise)
        self.status = widgets.Label(
            layout=widgets.Layout(width="auto", flex="0 0 auto", max_width="100%")
        )
        self.preview_button = button(description="Preview", icon="eye", button_style="info")
        self.preview_button.on_click(lambda _: self.preview())
        self.cancel_button = button(description="Cancel", icon="stop", disabled=True)
        self.cancel_button.on_click(lambda _: self.cancel())
        self.live_confirm = checkbox("I understand this changes LIVE data")
        self.live_confirm.layout.display = None if session.mode == "live" else "none"
        self.live_confirm.observe(self._update_buttons, names="value")
        self.worker = Worker(self.progress, self.status)
        self._build()
        watch_selection(self.selection, self._selection_changed)
        self.show_selection()

    def _build(self) -> None:
        """Hook for subclasses: add the controls and set ``children`` (called by ``__init__``)."""

    @staticmethod
    def run_row(children: list[widgets.Widget]) -> widgets.HBox:
        """The buttons, progress bar and progress text of a run, in a row that wraps: a long
        progress text goes to the next line whole instead of being cut at the panel's edge."""
        return widgets.HBox(
            children, layout=widgets.Layout(flex_flow="row wrap", align_items="center")
        )

    # -- selection ----------------------------------------------------------------------------
    def __repr__(self) -> str:
        plan = f", plan {self.plan.id}" if self.plan is not None else ""
        return f"{type(self).__name__}({self.session.account_label}{plan})"

    @property
    def sources(self) -> pd.DataFrame:
        """The sources the plan covers: the explorer's selection now, or the frame given."""
        return selection_frame(self.selection)

    def set_selection(self, selection: SelectionSource) -> None:
        """Work on another selection (an explorer or a frame); the previewed plan is dropped."""
        selection_frame(selection)
        if selection is not self.selection:
            self.selection = selection
            watch_selection(selection, self._selection_changed)
        self._selection_changed()

    def _selection_changed(self) -> None:
        try:
            self.invalidate()
            self.show_selection()
        except Exception as exc:  # never break the explorer that notifies us
            self.error.value = error_html(exc)

    def show_selection(self) -> None:
        """Say how many sources are selected."""
        n = len(self.sources)
        hidden = getattr(self.selection, "hidden_selected", 0)
        self.selection_label.value = (
            f"<b>{n:,}</b> sources selected"
            + (f" (<b>{hidden:,}</b> of them hidden by the explorer's filters)" if hidden else "")
            if n
            else "<i>No sources selected: select rows in the explorer.</i>"
        )

    # -- plan ---------------------------------------------------------------------------------
    def preview(self) -> Plan | None:
        """Build the plan from the inputs and show it (each subclass plans its own change)."""
        raise NotImplementedError

    def invalidate(self, *_: Any) -> None:
        """Drop the previewed plan (the inputs changed): Apply locks until the next preview."""
        if self.plan is not None:
            self.plan = None
            self.plan_view.value = banner_html("The inputs changed: preview again.", "info")
        self.error.value = ""
        self._update_buttons()

    def live_ok(self, dry_run: bool = False) -> bool:
        """True unless this is a live session whose write was not confirmed."""
        return self.session.mode != "live" or dry_run or bool(self.live_confirm.value)

    def writable_plan(self, *, dry_run: bool, what: str, typed: object = None) -> Plan | None:
        """The previewed plan, when it may be sent: it has ready rows, and a real write of an
        irreversible plan is confirmed with ``typed`` (its number of sources) and a live one
        with the live box; else None, the reason shown (``what``: "apply", "detach")."""
        plan = self.plan
        if plan is None or not plan.valid:
            self.error.value = error_html(
                f"Preview first: nothing is ready to {what}. Preview a plan with at least one ready row."
            )
            return None
        if not dry_run:
            try:
                check_confirmation(plan, typed)
            except InvalidInputError as exc:
                self.error.value = error_html(exc)
                return None
        if not self.live_ok(dry_run):
            self.error.value = error_html("Live mode: tick the confirmation box first.")
            return None
        return plan

    def _update_buttons(self, *_: Any) -> None:
        self.cancel_button.disabled = not self.worker.running
        self.preview_button.disabled = self.worker.running

    # -- work ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while an apply, retry or undo runs."""
        return self.worker.running

    def run_job(self, label: str, job: Job, *, dry_run: bool, undoing: bool = False) -> bool:
        """Start ``job`` in the worker; on success show the outcome and notify ``on_applied``."""

        def done(outcome: Outcome) -> None:
            self.outcome = outcome
            self.status.value = outcome.headline()
            self.result_view.value = outcome.to_html()
            if not dry_run:
                self.after_write(outcome, undoing=undoing)
                self.reread_written(outcome)
                for callback in list(self.on_applied):
                    try:
                        callback(outcome)
                    except Exception as exc:
                        self.error.value = error_html(exc)
            self._update_buttons()

        def failed(exc: BaseException) -> None:
            self.error.value = error_html(exc)
            self._update_buttons()

        self.error.value = ""
        self.result_view.value = ""
        started = self.worker.start(job, on_done=done, on_error=failed, label=label)
        if not started:
            self.error.value = error_html("Still working: wait for it to finish, or Cancel.")
        self._update_buttons()
        return started

    def run_apply(self, label: str, plan: Plan, *, dry_run: bool) -> bool:
        """Start ``apply(plan)`` (or its dry run) in the worker, journaling into ``journal_folder``."""
        session, folder = self.session, self.journal_folder

        def job(report: Progress, cancel: threading.Event) -> Outcome:
            try:
                return apply(
                    plan, session, dry_run=dry_run, journal=folder, progress=report, cancel=cancel
                )
            except ApprovalRequired as exc:
                if plan.path is not None:
                    raise  # a saved plan: its message says what is missing
                # a plan made here: save it for a second person to approve, and say so
                raise ApprovalRequired(save_for_approval(plan)) from exc

        return self.run_job(label, job, dry_run=dry_run)

    def after_write(self, outcome: Outcome, *, undoing: bool) -> None:
        """Hook for subclasses: called in the worker after a real apply or undo."""

    def reread_written(self, outcome: Outcome) -> None:
        """Read the sources the outcome wrote (or may have) again and show them in the explorer.

        Every view on the explorer (its grid, this panel, the other panels) then plans from what
        Stripe holds now, not from the rows loaded before the write.
        """
        pool = selection_pool(self.selection)
        touched = outcome.df[~outcome.df["result"].isin(UNWRITTEN)]["source"]
        if pool is None or not len(touched):
            return
        self.status.value = f"{outcome.headline()} · reading {len(touched):,} sources back"
        try:
            fresh = reread(pool, self.session, ids=touched.astype(str).unique().tolist())
        except Exception as exc:
            self.error.value = error_html(f"Could not read the sources back: {exc}")
            return
        replace_pool(self.selection, fresh)
        self.status.value = outcome.headline()

    def cancel(self) -> None:
        """Stop the running work: rows not started are not sent; the journal stays consistent."""
        self.worker.cancel()

    def wait(self, timeout: float | None = 60) -> bool:
        """Block until the running work ends (tests, scripts); True when it has."""
        return self.worker.wait(timeout)
