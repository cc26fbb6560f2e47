"""AuditView: the receiver balance audit at a glance, with Excel and CSV export buttons.

Example (in a notebook)::

    audit = toolkit.audit_receivers(df, txns)
    view = AuditView(audit)            # summary, checks, exceptions, chart, export buttons
    view.export_excel(); view.wait()   # what the "Export Excel" button does
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from itables.widget import ITable

from toolkit.audit import Audit
from toolkit.audit.receivers.plot import plot_audit
from toolkit.display import readable_money
from toolkit.private_files import fresh_path
from toolkit.widgets.style import (
    banner_html,
    button,
    checkbox,
    error_html,
    file_link,
    itable_options,
    table_html,
)
from toolkit.widgets.worker import Progress, Worker

__all__ = ["EXCEPTION_COLUMNS", "AuditView", "findings_frame"]

#: The findings columns a reviewer needs (the rest with "All columns").
EXCEPTION_COLUMNS = ["source", "owner_email", "title", "detail", "unapplied"]
_ALL_CHECKS = "All checks"


def _chart_png(audit: Audit) -> bytes:
    """The audit's charts as PNG bytes (an Image widget needs no Output context)."""
    return plot_audit(audit).png()


def findings_frame(
    audit: Audit, *, check: str | None = None, every_column: bool = False
) -> pd.DataFrame:
    """The findings as the view shows them: one row per finding, money as text in its currency,
    blanks for missing values; only ``check``'s rows when given; the reviewer's columns unless
    ``every_column``."""
    rows = audit.exceptions
    if check:
        rows = rows[rows["check"] == check]
    shown = readable_money(rows)
    for name in shown.columns:  # times as text: shorter, and itables warns on tz-aware
        if isinstance(shown[name].dtype, pd.DatetimeTZDtype):
            shown[name] = shown[name].dt.strftime("%Y-%m-%d %H:%M")
    if not every_column:
        shown = shown[[c for c in EXCEPTION_COLUMNS if c in shown.columns]]
    shown = shown.astype(object).where(shown.notna(), "")
    return shown.reset_index(drop=True)


class AuditView(widgets.VBox):
    """Summary, checks, the exceptions table, the chart, and exports into ``folder``.

    ``AuditView(audit)``, or ``AuditView()`` then ``view.show(audit)`` (only assigns traits, so a
    worker thread may call it).
    """

    def __init__(self, audit: Audit | None = None, *, folder: str | Path = "exports") -> None:
        super().__init__()
        self.audit: Audit | None = None
        self.written: list[Path] = []
        self.header = widgets.HTML("<i>No audit yet.</i>")
        self.summary = widgets.HTML()
        self.checks = widgets.HTML()
        # update() resets the options it is not given: pass them every time
        self.table_options: dict[str, Any] = itable_options(10)
        self.exceptions = ITable(
            pd.DataFrame({c: [] for c in EXCEPTION_COLUMNS}), **self.table_options
        )
        self.check_filter = widgets.Dropdown(
            description="Check", options=[_ALL_CHECKS], value=_ALL_CHECKS,
            layout=widgets.Layout(width="460px"),
        )  # fmt: skip
        self.all_columns = checkbox("All columns")
        self.check_filter.observe(lambda _: self._show_findings(), names="value")
        self.all_columns.observe(lambda _: self._show_findings(), names="value")
        # the PNG at its own size (no stretching); hidden until there is one (no broken image)
        self.chart = widgets.Image(
            format="png", layout=widgets.Layout(width="800px", max_width="100%")
        )
        self.chart.layout.display = "none"
        self.error = widgets.HTML()
        self.folder = widgets.Text(value=str(folder), description="Folder", placeholder="exports")
        self.excel_button = button(description="Export Excel", icon="file-excel-o", disabled=True)
        self.csv_button = button(description="Export CSV", icon="file-text-o", disabled=True)
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, layout=widgets.Layout(width="160px")
        )
        self.status = widgets.Label()
        self.exported = widgets.HTML()
        self.worker = Worker(self.progress, self.status)
        self.excel_button.on_click(lambda _: self.export_excel())
        self.csv_button.on_click(lambda _: self.export_csv())
        self.children = [
            self.header,
            widgets.HTML("<b>Summary</b>"),
            self.summary,
            widgets.HTML("<b>Checks</b>"),
            self.checks,
            widgets.HTML("<b>Findings</b> (one row per finding)"),
            widgets.HBox([self.check_filter, self.all_columns]),
            self.exceptions,
            widgets.HTML("<b>Charts</b>"),
            self.chart,
            widgets.HBox(
                [self.folder, self.excel_button, self.csv_button, self.progress, self.status]
            ),
            self.error,
            self.exported,
        ]
        if audit is not None:
            self.show(audit)

    def __repr__(self) -> str:
        if self.audit is None:
            return "AuditView(no audit)"
        return f"AuditView({len(self.audit.sources):,} receivers, {len(self.audit.exceptions):,} findings)"

    @property
    def stem(self) -> str:
        """File name stem of the exports: ``receiver-audit-<as of date>``."""
        when = self.audit.as_of if self.audit is not None else None
        # named as runbook 02 names it: one scheme in one folder (a second run adds -2, ...)
        return "receiver-audit-" + (when.strftime("%Y-%m-%d") if when is not None else "undated")

    def show(self, audit: Audit) -> None:
        """Show this audit (replaces the one shown)."""
        self.audit = audit
        self.error.value = ""
        self.exported.value = ""
        when = audit.as_of.strftime("%Y-%m-%d %H:%M UTC") if audit.as_of is not None else "unknown"
        head = (
            f"<b>Receiver balance audit</b> · as of {html.escape(when)} "
            f"({html.escape(audit.as_of_basis)}) · account {html.escape(audit.account or '?')} · "
            f"mode {html.escape(audit.mode or '?')} · {len(audit.sources):,} receivers, "
            f"{len(audit.flagged):,} flagged, {len(audit.exceptions):,} findings"
        )
        self.header.value = head + "".join(banner_html(note, "info") for note in audit.notes)
        self.summary.value = table_html(audit.summary, max_height="none")
        wanted = [c for c in ("title", "flagged", "ran", "explanation") if c in audit.checks]
        checks = audit.checks[wanted].copy()
        checks["ran"] = checks["ran"].map({True: "yes", False: "no (needs transactions)"})
        self.checks.value = table_html(checks, max_height="none")
        counts = audit.exceptions["check"].value_counts()
        titles = dict(zip(audit.checks["name"], audit.checks["title"], strict=True))
        options: list[Any] = [(f"{_ALL_CHECKS} ({len(audit.exceptions):,})", _ALL_CHECKS)]
        options += [(f"{titles.get(c, c)} ({n:,})", c) for c, n in counts.items()]
        self.check_filter.options = options
        self.check_filter.value = _ALL_CHECKS
        self._show_findings()
        try:
            self.chart.value = _chart_png(audit)
            self.chart.layout.display = None
        except Exception as exc:  # a chart problem must not hide the tables
            self.error.value = error_html(exc)
        self._idle()

    def _show_findings(self) -> None:
        if self.audit is None:
            return
        check = None if self.check_filter.value == _ALL_CHECKS else str(self.check_filter.value)
        shown = findings_frame(self.audit, check=check, every_column=bool(self.all_columns.value))
        columns = list(shown.columns)
        widths = [  # the sentence gets the room; ids and emails keep to one line
            {"targets": columns.index(name), "width": width}
            for name, width in (("detail", "45%"), ("title", "18%"))
            if name in columns
        ]
        one_line = [columns.index(c) for c in ("source", "unapplied") if c in columns]
        widths.append({"targets": one_line, "className": "dt-nowrap"})
        options = {**self.table_options, "columnDefs": widths}
        self.exceptions.update(shown, selected_rows=[], **options)

    def _export(self, label: str, write: Callable[[Audit, Path], list[Path]]) -> bool:
        audit = self.audit
        if audit is None:
            self.error.value = error_html("No audit to export yet.")
            return False
        folder = Path(self.folder.value.strip() or "exports")

        def job(report: Progress, cancel: threading.Event) -> list[Path]:
            report(0, 1, label)
            paths = write(audit, folder)
            report(1, 1, label)
            return paths

        def done(paths: list[Path]) -> None:
            self.written = paths
            shown = "".join(f"<li>{file_link(p)}</li>" for p in paths[:12])
            more = f"<li>… {len(paths) - 12} more</li>" if len(paths) > 12 else ""
            self.exported.value = (
                "<div>Wrote (readable by you only: they hold customer data):"
                f"<ul>{shown}{more}</ul></div>"
            )
            self._idle()
            self.status.value = f"Done: wrote {len(paths):,} file{'s' if len(paths) != 1 else ''}"

        def failed(exc: BaseException) -> None:
            self.error.value = error_html(exc)
            self._idle()

        if self.worker.running:
            return False
        self.error.value = ""
        self.exported.value = ""
        self.excel_button.disabled = self.csv_button.disabled = True
        return self.worker.start(job, on_done=done, on_error=failed, label=label)

    def _idle(self) -> None:
        self.excel_button.disabled = self.csv_button.disabled = self.audit is None

    def export_excel(self) -> bool:
        """Write ``<folder>/receiver-audit-<as of>.xlsx`` in the worker thread (``-2``, ``-3``, ... when an
        earlier export is there: never replaced)."""
        stem = self.stem
        return self._export(
            "Writing Excel",
            lambda audit, folder: [audit.to_excel(fresh_path(folder / f"{stem}.xlsx"))],
        )

    def export_csv(self) -> bool:
        """Write one CSV per table into ``<folder>/receiver-audit-<as of>-csv/`` in the worker thread."""
        stem = self.stem
        return self._export(
            "Writing CSV",
            lambda audit, folder: list(audit.to_csv(fresh_path(folder / f"{stem}-csv")).values()),
        )

    def wait(self, timeout: float | None = 60) -> bool:
        """Block until an export ends (tests, scripts); True when it has."""
        return self.worker.wait(timeout)
