"""DetachPanel: detach selected sources from their customers, after a typed confirmation.

Example (in a notebook)::

    panel = DetachPanel(session, explorer)   # follows the explorer's selection
    panel.preview()                          # what will be detached, what is refused and why
    panel.confirm.value = "3"                # type the number of sources to detach
    panel.detach(); panel.wait()             # what the Detach button does

Detaching cannot be undone: Stripe marks the source consumed for good. The panel says so, asks for
the number of sources typed out, runs in a worker thread with progress and Cancel, and shows the
results and the journal.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from toolkit.changes import Outcome, Plan, confirmation_matches, plan_detach
from toolkit.changes.kinds.detach import IRREVERSIBLE_NOTE
from toolkit.errors import InvalidInputError
from toolkit.widgets.change_panel import ChangePanel
from toolkit.widgets.style import banner_html, button, error_html

__all__ = ["DetachPanel"]


class DetachPanel(ChangePanel):
    """Preview, confirm by typing the count, and detach; never undoable, and it says so."""

    def _build(self) -> None:
        self.warning = widgets.HTML(banner_html(IRREVERSIBLE_NOTE, "danger", title="Irreversible."))
        self.check_button = button(
            description="Dry run", icon="search", disabled=True,
            tooltip="check each source against Stripe now; changes nothing",
        )  # fmt: skip
        self.confirm = widgets.Text(
            placeholder="number of sources",
            description="Type the number of sources to detach:",
            style={"description_width": "initial"},
            continuous_update=True,
            layout=widgets.Layout(width="420px"),
        )
        self.confirm_hint = widgets.HTML()
        self.detach_button = button(
            description="Detach", icon="unlink", button_style="danger", disabled=True
        )
        self.check_button.on_click(lambda _: self.detach(dry_run=True))
        self.detach_button.on_click(lambda _: self.detach())
        self.confirm.observe(self._update_buttons, names="value")

        self.children = [
            self.banner,
            self.warning,
            self.selection_label,
            self.preview_button,
            self.error,
            self.plan_view,
            widgets.HBox([self.check_button, self.live_confirm]),
            widgets.HBox([self.confirm, self.detach_button, self.confirm_hint]),
            self.run_row([self.cancel_button, self.progress, self.status]),
            self.result_view,
        ]

    @property
    def ready_count(self) -> int:
        """How many sources the previewed plan would detach (0 without a plan)."""
        return self.plan.counts["ready"] if self.plan is not None else 0

    def preview(self) -> Plan | None:
        """Plan the detach of the selection and show what will be detached and what is refused."""
        self.plan = None
        self.error.value = ""
        self.plan_view.value = ""
        self.confirm.value = ""
        try:
            sources = self.sources
            if not len(sources):
                raise InvalidInputError("No sources selected: select rows in the explorer first.")
            plan = plan_detach(sources)
        except Exception as exc:
            self.error.value = error_html(exc)
            self._update_buttons()
            return None
        self.plan = plan
        self.plan_view.value = self._plan_html(plan)
        self._update_buttons()
        return plan

    @staticmethod
    def _plan_html(plan: Plan) -> str:
        ready, refused = plan.ready, plan.invalid
        parts = [
            f"<div><b>Will detach {len(ready):,}</b> sources; "
            f"<b style='color:{'var(--jp-error-color1, #b00020)' if len(refused) else 'inherit'}'>"
            f"{len(refused):,} refused</b> (not touched).</div>"
        ]
        if not len(ready):
            parts.append(banner_html("Nothing to detach in this selection.", "warn"))
        parts.append(plan.to_html(max_rows=200, warning=False))  # the panel's banner says it
        return "".join(parts)

    def confirmed(self) -> bool:
        """True when the typed number equals the number of sources to detach."""
        return self.plan is not None and confirmation_matches(self.plan, self.confirm.value)

    def invalidate(self, *_: Any) -> None:
        """Drop the plan and the typed confirmation (the selection changed)."""
        if self.plan is not None:
            self.confirm.value = ""
        super().invalidate()

    def _update_buttons(self, *_: Any) -> None:
        super()._update_buttons()
        running = self.worker.running
        n = self.ready_count
        self.detach_button.description = f"Detach {n:,} sources" if n else "Detach"
        self.detach_button.disabled = running or not self.confirmed() or not self.live_ok()
        self.check_button.disabled = running or n == 0
        self.confirm.disabled = running or n == 0
        typed = self.confirm.value.strip()
        self.confirm_hint.value = (
            f"<span style='color:var(--jp-error-color1, #b00020)'>type {n:,} (the number of sources to detach), "
            f"not {html.escape(typed)}</span>"
            if typed and n and not self.confirmed()
            else ""
        )

    def detach(self, *, dry_run: bool = False) -> bool:
        """Detach the previewed plan's ready rows (``dry_run``: only check them against Stripe)."""
        plan = self.writable_plan(dry_run=dry_run, what="detach", typed=self.confirm.value)
        if plan is None:
            return False
        return self.run_apply("Checking" if dry_run else "Detaching", plan, dry_run=dry_run)

    def after_write(self, outcome: Outcome, *, undoing: bool) -> None:
        """After a real detach the plan is spent: a new detach needs a new preview."""
        self.plan = None
        self.confirm.value = ""
        self.plan_view.value += banner_html(
            f"Detached {outcome.totals['ok']:,} of {len(outcome.df):,} rows; "
            f"journal {outcome.journal}.",
            "info",
        )
