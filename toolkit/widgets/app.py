"""``app(session)``: the explorer, metadata editor, change editor, detach panel, audit and
retirement audit in one set of tabs.

Example (in a notebook)::

    import toolkit, toolkit.widgets
    ui = toolkit.widgets.app(toolkit.connect())
    ui                        # Explore | Edit metadata | Edit fields | Detach | Audit | Retirement
    ui.explorer.selected      # the selection the editor and the detach panel work on

The explorer's selection feeds the editor and the detach panel; after a real apply, detach or
undo the panel reads the written sources back into the explorer (every tab then plans from what
Stripe holds now) and the Audit and Retirement tabs say their figures predate the change.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from toolkit.audit import Audit, audit_receivers
from toolkit.changes import Outcome
from toolkit.fetch import load_source_transactions
from toolkit.session import Session
from toolkit.widgets.audit_view import AuditView
from toolkit.widgets.change_editor import ChangeEditor
from toolkit.widgets.detach_panel import DetachPanel
from toolkit.widgets.explorer import SourceExplorer
from toolkit.widgets.metadata_editor import MetadataEditor
from toolkit.widgets.retirement_tab import RetirementTab
from toolkit.widgets.style import banner_html, button, checkbox, error_html
from toolkit.widgets.worker import Progress, Worker

__all__ = ["AuditTab", "ToolkitApp", "app"]

TAB_TITLES = ("Explore", "Edit metadata", "Edit fields", "Detach", "Audit", "Retirement")


class AuditTab(widgets.VBox):
    """Runs the audit on the explorer's sources (transactions loaded in a worker), then shows it."""

    def __init__(self, session: Session, explorer: SourceExplorer, *, folder: str | Path) -> None:
        super().__init__()
        self.session = session
        self.explorer = explorer
        self.run_button = button(description="Run audit", icon="calculator", button_style="info")
        self.with_transactions = checkbox("Reconcile with source transactions", value=True)
        self.cancel_button = button(description="Cancel", icon="stop", disabled=True)
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, layout=widgets.Layout(width="200px")
        )
        self.status = widgets.Label()
        self.error = widgets.HTML()
        self.view = AuditView(folder=folder)
        self.worker = Worker(self.progress, self.status)
        self.run_button.on_click(lambda _: self.run())
        self.cancel_button.on_click(lambda _: self.worker.cancel())
        self.children = [
            widgets.HTML("Audits the receiver balances of the sources loaded in the explorer."),
            widgets.HBox(
                [
                    self.run_button,
                    self.with_transactions,
                    self.cancel_button,
                    self.progress,
                    self.status,
                ]
            ),
            self.error,
            self.view,
        ]

    def __repr__(self) -> str:
        return f"AuditTab({self.session.account_label})"

    def run(self) -> bool:
        """Start the audit in the worker thread; False if one is running."""
        frame = self.explorer.frame
        session, with_txns = self.session, bool(self.with_transactions.value)

        def job(report: Progress, cancel: threading.Event) -> Audit:
            txns = None
            if with_txns:
                txns = load_source_transactions(session, frame, progress=report, cancel=cancel)
            return audit_receivers(frame, txns)

        def done(audit: Audit) -> None:
            self.view.show(audit)
            self.status.value = f"Audited {len(audit.sources):,} receivers"
            self._idle()

        def failed(exc: BaseException) -> None:
            self.error.value = error_html(exc)
            self._idle()

        if self.worker.running:
            return False
        self.error.value = ""
        self.run_button.disabled, self.cancel_button.disabled = True, False
        return self.worker.start(job, on_done=done, on_error=failed, label="Auditing")

    def _idle(self) -> None:
        self.run_button.disabled, self.cancel_button.disabled = False, True

    def mark_stale(self) -> None:
        """Say that the audit shown predates a write (run it again for current figures)."""
        if self.view.audit is not None:
            self.error.value = banner_html(
                "Sources were changed after this audit ran: run it again for current figures.",
                "info",
            )

    def wait(self, timeout: float | None = 60) -> bool:
        """Block until the audit run ends (tests, scripts); True when it has."""
        return self.worker.wait(timeout)


class ToolkitApp(widgets.VBox):
    """The tabs, plus ``explorer``, ``editor``, ``changes``, ``detach``, ``audit`` and
    ``retirement`` for scripts and tests."""

    def __init__(
        self,
        session: Session,
        *,
        journal_folder: str | Path | None = None,
        export_folder: str | Path = "exports",
        load: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.explorer = SourceExplorer(session, load=load)
        self.editor = MetadataEditor(session, self.explorer, journal_folder=journal_folder)
        self.changes = ChangeEditor(session, self.explorer, journal_folder=journal_folder)
        self.detach = DetachPanel(session, self.explorer, journal_folder=journal_folder)
        self.audit = AuditTab(session, self.explorer, folder=export_folder)
        self.retirement = RetirementTab(session, folder=export_folder)
        for panel in (self.editor, self.changes, self.detach):
            panel.on_applied.append(self._written)
        self.tabs = widgets.Tab(
            children=[
                self.explorer,
                self.editor,
                self.changes,
                self.detach,
                self.audit,
                self.retirement,
            ],
            titles=TAB_TITLES,
        )
        mode = session.mode.upper() if session.mode == "live" else session.mode
        header = (
            f"<b>Stripe Sources</b> · account <b>{html.escape(session.account_label)}</b> · "
            f"mode {html.escape(mode)}"
        )
        self.children = [widgets.HTML(header), self.tabs]

    def _written(self, _outcome: Outcome) -> None:
        """After a write the explorer shows the new state; an audit shown before is stale (the
        receiver audit's and the retirement audit's alike)."""
        self.audit.mark_stale()
        self.retirement.mark_stale()

    def __repr__(self) -> str:
        return f"ToolkitApp({self.session.account_label})"

    def wait(self, timeout: float | None = 60) -> bool:
        """Wait for every panel's running work (tests, scripts); True when all are idle."""
        panels = (
            self.explorer,
            self.editor,
            self.changes,
            self.detach,
            self.audit,
            self.retirement,
        )
        return all([panel.wait(timeout) for panel in panels])


def app(
    session: Session,
    *,
    journal_folder: str | Path | None = None,
    export_folder: str | Path = "exports",
    load: dict[str, Any] | None = None,
) -> ToolkitApp:
    """Build the tabbed app on a session: ``toolkit.widgets.app(toolkit.connect())``.

    ``load``: keyword arguments for :func:`toolkit.load_sources` (e.g. ``{"customers": [...]}``).
    """
    return ToolkitApp(
        session, journal_folder=journal_folder, export_folder=export_folder, load=load
    )
