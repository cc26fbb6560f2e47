"""RetirementTab: the Sources retirement audit in a tab (read only), with an Excel export.

Example (in a notebook)::

    tab = RetirementTab(session, folder="exports")
    tab.run(); tab.wait()            # what the "Run retirement audit" button does
    tab.migration.count("blocked")   # the MigrationAudit it shows
"""

from __future__ import annotations

import html
import io
import threading
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
from itables.widget import ITable

from toolkit.audit import MigrationAudit
from toolkit.audit.migration.load import run_migration_audit
from toolkit.money import major_to_minor
from toolkit.private_files import fresh_path
from toolkit.session import Session
from toolkit.widgets.grid import money_column, sortable_money
from toolkit.widgets.style import banner_html, button, error_html, itable_options, table_html
from toolkit.widgets.worker import Progress, Worker

__all__ = ["FINDING_COLUMNS", "RetirementTab", "findings_frame"]

#: The columns of a finding a reviewer reads (the workbook has the rest); the money columns sort
#: by amount.
FINDING_COLUMNS = [
    "customer",
    "currency",
    "severity",
    "on legacy receivers",
    "in cash balances",
    "finding",
]
_MONEY = {
    "on legacy receivers": "legacy_unapplied_major",
    "in cash balances": "cash_available_major",
}


def _grid_options() -> dict[str, Any]:
    columns = FINDING_COLUMNS
    money = [columns.index(c) for c in _MONEY]
    # the sentence gets the room; money compares as numbers (itables sends each cell's rank)
    widths = [{"targets": columns.index("finding"), "width": "45%"}]
    keep = [columns.index("customer"), *money]  # one line each: ids and amounts
    return itable_options(
        10,
        columnDefs=[
            *widths,
            {"targets": money, "type": "num"},
            {"targets": keep, "className": "dt-nowrap"},
        ],
    )


def findings_frame(migration: MigrationAudit) -> pd.DataFrame:
    """The findings as the tab shows them: who, how much money (in the currency, sorting by
    amount), and what to do; blocked first, as the audit orders them."""
    found = migration.exceptions.reset_index(drop=True)
    currencies = found["currency"].astype(object).where(found["currency"].notna(), None)
    out = {
        "customer": found["customer"],
        "currency": found["currency"].str.upper(),
        "severity": found["severity"],
    }
    for name, major in _MONEY.items():
        minor = [
            None if m is None or pd.isna(m) or not c else major_to_minor(m, str(c))
            for m, c in zip(found[major].tolist(), currencies.tolist(), strict=True)
        ]
        out[name] = sortable_money(pd.Series(minor, dtype=object), currencies)
    out["finding"] = found["title"] + ". " + found["detail"]
    return pd.DataFrame(out, columns=FINDING_COLUMNS)


class RetirementTab(widgets.VBox):
    """Runs :func:`~toolkit.audit.migration.load.run_migration_audit` in a worker, then shows
    the readiness summary, funds per currency, the findings and the chart; after a write in the
    app (:meth:`mark_stale`) it says its figures predate it."""

    def __init__(self, session: Session, *, folder: str | Path = "exports") -> None:
        super().__init__()
        self.session = session
        self.folder = Path(folder)
        self.migration: MigrationAudit | None = None
        self.written: Path | None = None
        self.run_button = button(
            description="Run retirement audit", icon="calculator", button_style="info"
        )
        self.cancel_button = button(description="Cancel", icon="stop", disabled=True)
        self.excel_button = button(description="Export Excel", icon="file-excel-o", disabled=True)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout={"width": "200px"})
        # each reads more and spends the account's read allocation: off until asked for
        self.asked = {
            "payment_methods": widgets.Checkbox(description="successors", indent=False),
            "bills": widgets.Checkbox(description="invoices and subscriptions", indent=False),
            "ledger": widgets.Checkbox(description="tie-out (ledger)", indent=False),
        }
        # the label takes the room it needs (a Label is cut to its box otherwise); the row wraps
        self.also = widgets.HBox(
            [
                widgets.Label(
                    "Also read (more reads: the least each takes is noted):",
                    layout=widgets.Layout(width="auto", flex="0 0 auto"),
                ),
                *self.asked.values(),
            ],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.status = widgets.Label()
        self.error = widgets.HTML()
        self.stale = widgets.HTML()
        self.header = widgets.HTML(
            "Where each customer's transferred money is now (legacy receivers and cash "
            "balances) and what must be done before Sources is switched off. Read only."
        )
        self.summary = widgets.HTML()
        self.funds = widgets.HTML()
        self.findings = ITable(pd.DataFrame({c: [] for c in FINDING_COLUMNS}), **_grid_options())
        # hidden until there is a chart (an empty Image shows a broken-image icon)
        self.chart = widgets.Image(format="png", layout={"max_width": "720px"})
        self.chart.layout.display = "none"
        self.worker = Worker(self.progress, self.status)
        self.run_button.on_click(lambda _: self.run())
        self.cancel_button.on_click(lambda _: self.worker.cancel())
        self.excel_button.on_click(lambda _: self.export_excel())
        self.children = [
            self.header,
            widgets.HBox([self.run_button, self.cancel_button, self.excel_button, self.progress]),
            self.also,
            self.status,
            self.error,
            self.stale,
            widgets.HBox([self.summary, self.funds]),
            self.findings,
            self.chart,
        ]

    def __repr__(self) -> str:
        return f"RetirementTab({self.session.account_label})"

    def run(self) -> bool:
        """Start the audit in the worker thread; False if one is running."""
        session = self.session
        asked = {name: bool(box.value) for name, box in self.asked.items()}

        def job(report: Progress, cancel: threading.Event) -> MigrationAudit:
            return run_migration_audit(
                session,
                payment_methods=asked["payment_methods"],
                bills=asked["bills"],
                ledger=asked["ledger"],
                progress=report,
                cancel=cancel,
            )

        def failed(exc: BaseException) -> None:
            self.error.value = error_html(exc)
            self._idle()

        if self.worker.running:
            return False
        self.error.value = ""
        self.run_button.disabled, self.cancel_button.disabled = True, False
        return self.worker.start(job, on_done=self.show, on_error=failed, label="Auditing")

    def show(self, migration: MigrationAudit) -> None:
        """Show this audit (only assigns traits: a worker thread may call it)."""
        self.migration = migration
        when = migration.as_of.strftime("%Y-%m-%d") if migration.as_of is not None else "unknown"
        self.status.value = (
            f"As of {when}: {migration.count('ready')} ready, "
            f"{migration.count('needs action')} need action, {migration.count('blocked')} blocked"
        )
        self.header.value = (
            f"<b>Sources retirement audit</b> · as of {html.escape(when)}"
            + "".join(banner_html(note, "info") for note in migration.notes)
        )
        self.summary.value = table_html(migration.summary, max_height="none")
        totals = migration.by_currency
        funds = pd.DataFrame(
            {
                "currency": totals["currency"].str.upper(),
                "customers": totals["customers"],
                "on legacy receivers": money_column(totals["legacy_unapplied"], totals["currency"]),
                "in cash balances": money_column(totals["cash_available"], totals["currency"]),
            }
        )
        self.funds.value = table_html(funds, max_height="none")
        self.findings.update(findings_frame(migration), selected_rows=[], **_grid_options())
        buffer = io.BytesIO()
        migration.plot().savefig(buffer, format="png", dpi=90)
        self.chart.value = buffer.getvalue()
        self.chart.layout.display = None
        self.stale.value = ""
        self._idle()

    def mark_stale(self) -> None:
        """Say that the audit shown predates a write (run it again for current figures)."""
        if self.migration is not None:
            self.stale.value = banner_html(
                "Sources were changed after this audit ran: run it again for current figures.",
                "info",
            )

    def export_excel(self) -> Path | None:
        """Write ``<folder>/retirement-<as of>.xlsx`` (never over an earlier one)."""
        if self.migration is None:
            self.error.value = error_html("Run the audit first: there is nothing to export yet.")
            return None
        when = self.migration.as_of
        # named as runbook 05 names it: one scheme in one folder (a second run adds -2, ...)
        stem = "retirement-" + (when.strftime("%Y-%m-%d") if when is not None else "undated")
        self.written = self.migration.to_excel(fresh_path(self.folder / f"{stem}.xlsx"))
        self.status.value = f"Wrote {self.written}"
        return self.written

    def _idle(self) -> None:
        self.run_button.disabled, self.cancel_button.disabled = False, True
        self.excel_button.disabled = self.migration is None

    def wait(self, timeout: float | None = 120) -> bool:
        """Block until the audit run ends (tests, scripts); True when it has."""
        return self.worker.wait(timeout)
