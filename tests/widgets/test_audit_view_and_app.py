"""AuditView (summary, exceptions, chart, exports) and the tabbed app tying the widgets together."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from tests.widgets.widget_support import TEST_KEY, assert_no_secrets, widget_text
from toolkit.audit import Audit, audit_receivers
from toolkit.fetch import load_source_transactions, load_sources
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect
from toolkit.widgets import AuditView, ToolkitApp, app


@pytest.fixture(scope="module")
def small_session() -> Iterator[Session]:
    """A small seeded sandbox of this module's own, read only."""
    with Sandbox(seed=11, customers=60) as box:
        yield connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)


@pytest.fixture(scope="module")
def audit(small_session: Session) -> Audit:
    frame = load_sources(small_session, progress=False)
    return audit_receivers(frame, load_source_transactions(small_session, frame, progress=False))


def test_audit_view_shows_summary_exceptions_and_chart(audit, small_session) -> None:
    view = AuditView(audit)
    assert "Receiver balance audit" in view.header.value
    assert f"{len(audit.exceptions):,} findings" in view.header.value
    assert len(audit.exceptions) > 0
    assert view.exceptions.df is not None
    assert len(view.exceptions.df) == len(audit.exceptions)
    assert list(view.exceptions.df.columns[:2]) == ["source", "owner_email"]
    assert not view.exceptions._dt_args.get("downsampling_warning")
    assert "<table" in view.summary.value and "<table" in view.checks.value
    assert bytes(view.chart.value[:8]) == b"\x89PNG\r\n\x1a\n"
    assert not view.excel_button.disabled and not view.csv_button.disabled
    assert_no_secrets(view, small_session)


@pytest.mark.slow
def test_audit_view_exports_excel_and_csv(audit, tmp_path: Path) -> None:
    view = AuditView(audit, folder=tmp_path / "exports")
    view.excel_button.click()
    assert view.wait(60)
    assert view.error.value == "", view.error.value
    (xlsx,) = view.written
    assert xlsx.suffix == ".xlsx" and xlsx.exists() and xlsx.stat().st_mode & 0o077 == 0
    assert str(xlsx) in view.exported.value
    assert view.export_csv()
    assert view.wait(60)
    assert len(view.written) >= 3 and all(p.suffix == ".csv" and p.exists() for p in view.written)
    assert not view.excel_button.disabled


@pytest.mark.slow
def test_audit_view_errors_stay_inside(audit, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    view = AuditView(audit, folder=blocker)
    view.export_excel()
    assert view.wait(30)
    assert "Error" in view.error.value and "Traceback" not in widget_text(view)
    empty = AuditView()
    assert "No audit yet" in empty.header.value and empty.excel_button.disabled
    assert empty.export_csv() is False and "No audit" in empty.error.value
    empty.show(audit)
    assert empty.exceptions.df is not None
    assert len(empty.exceptions.df) == len(audit.exceptions)


@pytest.mark.slow
def test_app_ties_the_tabs_together(fresh_session, fresh_sandbox, tmp_path: Path) -> None:
    ui = app(fresh_session, journal_folder=tmp_path / "journals", export_folder=tmp_path / "out")
    assert isinstance(ui, ToolkitApp)
    assert ui.wait(60)
    assert ui.tabs.titles == (
        "Explore",
        "Edit metadata",
        "Edit fields",
        "Detach",
        "Audit",
        "Retirement",
    )
    assert fresh_session.account_label in ui.children[0].value

    frame = ui.explorer.frame
    ids = list(frame.loc[frame["status"] == "chargeable", "id"].head(2))
    ui.explorer.select(ids)
    assert list(ui.editor.sources["id"]) == ids
    assert list(ui.detach.sources["id"]) == ids

    ui.editor.add_key("from_app", "1")
    ui.editor.preview()
    ui.editor.dry_run.value = False
    ui.editor.apply()
    assert ui.editor.wait(30)
    assert ui.editor.outcome is not None and ui.editor.outcome.totals["ok"] == 2
    # after a real write the explorer reloads and shows the new state
    assert ui.explorer.wait(30)
    reloaded = ui.explorer.frame.set_index("id")
    assert all(reloaded.loc[i, "metadata"].get("from_app") == "1" for i in ids)

    assert ui.audit.run()
    assert ui.audit.wait(60)
    assert ui.audit.error.value == ""
    assert (
        ui.audit.view.audit is not None and "Receiver balance audit" in ui.audit.view.header.value
    )
    assert_no_secrets(ui, fresh_session)
    assert isinstance(ui.explorer.selected, pd.DataFrame)
    assert repr(ui) == f"ToolkitApp({fresh_session.account_label})"
    assert repr(ui.editor) == f"MetadataEditor({fresh_session.account_label})"
    assert repr(ui.audit.view).startswith("AuditView(") and "findings" in repr(ui.audit.view)


@pytest.mark.slow
def test_the_retirement_tab_runs_the_audit_and_exports_without_overwriting(
    fresh_session, tmp_path: Path
) -> None:
    ui = app(fresh_session, journal_folder=tmp_path / "journals", export_folder=tmp_path / "out")
    tab = ui.retirement
    assert tab.export_excel() is None and "Run the audit first" in tab.error.value
    assert tab.run()
    assert tab.wait(120) and tab.error.value == ""
    migration = tab.migration
    assert migration is not None
    assert f"{migration.count('blocked')} blocked" in tab.status.value
    assert tab.findings.df is not None
    assert len(tab.findings.df) == len(migration.exceptions)
    assert list(tab.findings.df.columns) == [
        "customer",
        "currency",
        "severity",
        "on legacy receivers",
        "in cash balances",
        "finding",
    ]
    assert tab.findings.df["finding"].str.contains(r"\. ").all()
    assert "<table" in tab.summary.value and "on legacy receivers" in tab.funds.value
    assert " USD</td>" in tab.funds.value  # money formatted in its currency
    assert tab.chart.value[:4] == b"\x89PNG"
    first, second = tab.export_excel(), tab.export_excel()
    assert first is not None and second is not None and first != second and first.exists()
    assert_no_secrets(ui, fresh_session)


@pytest.mark.slow
def test_findings_show_what_a_reviewer_needs(tmp_path):
    import toolkit
    from toolkit.widgets import AuditView
    from toolkit.widgets.audit_view import EXCEPTION_COLUMNS

    session = toolkit.connect(quiet=True)
    audit = toolkit.audit_receivers(toolkit.load_sources(session, progress=False))
    view = AuditView(folder=tmp_path)
    assert view.chart.layout.display == "none"  # no broken image before the first audit
    view.show(audit)
    shown = view.exceptions.df
    assert shown is not None
    assert list(shown.columns) == EXCEPTION_COLUMNS  # a few columns, the sentence readable
    assert not shown.isin(["None", None]).any().any()  # missing values are blank, not "None"
    assert shown["unapplied"].str.endswith((" USD", " EUR")).all()  # money in its currency
    assert view.chart.layout.display is None and view.chart.layout.width == "800px"
    # a filter per check, with counts; the rest of the columns on demand
    check = audit.exceptions["check"].iloc[0]
    view.check_filter.value = check
    assert view.exceptions.df is not None
    assert len(view.exceptions.df) == int((audit.exceptions["check"] == check).sum())
    view.all_columns.value = True
    assert {"status", "created", "received"} <= set(view.exceptions.df.columns)
    assert view.export_excel() and view.wait(30)
    assert view.status.value == "Done: wrote 1 file"
    session.close()
