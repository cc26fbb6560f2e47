"""Issue 28, the views: grids sort by a click on a column's name and are not squeezed when filled
in a hidden tab, the explorer has a column chooser and shows every currency's totals, the
Retirement tab shows no broken image, sorts its findings by money and says when a write made it
stale; messages hold no raw tags; the look follows JupyterLab's theme (dark too)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

import toolkit
from toolkit.display import json_html, table_html
from toolkit.widgets import AuditView, MetadataEditor, SourceExplorer
from toolkit.widgets.grid import DEFAULT_COLUMNS, GRID_COLUMNS, grid_frame
from toolkit.widgets.retirement_tab import findings_frame


def _fits(grid) -> None:
    """What every grid is built with (toolkit.widgets.style.itable_options)."""
    args = grid._dt_args
    # itables lets the header's text be selected, and then only the small arrow sorts
    assert "text_in_header_can_be_selected" not in args
    assert args["autoWidth"] is False  # widths computed in a hidden tab squeeze the grid
    assert "overflow-x: auto" in args["table_style"]
    assert grid.style.replace(" ", "").startswith("width:100%")


def test_every_grid_sorts_on_its_names_and_fills_its_width(read_explorer, tmp_path) -> None:
    view = AuditView(folder=tmp_path)
    for grid in (read_explorer.grid, view.exceptions):
        _fits(grid)


def test_the_column_chooser(read_explorer: SourceExplorer) -> None:
    explorer = read_explorer
    assert explorer.grid_columns == DEFAULT_COLUMNS
    assert explorer.grid.df is not None
    assert list(explorer.grid.df.columns) == DEFAULT_COLUMNS
    first = str(explorer.shown["id"].iloc[2])
    explorer.select([first])
    try:
        explorer.column_choice["owner"].value = True
        explorer.column_choice["customer"].value = False
        columns = [c for c in GRID_COLUMNS if c in {*DEFAULT_COLUMNS, "owner"} - {"customer"}]
        assert list(explorer.grid.df.columns) == columns == explorer.grid_columns
        assert explorer.grid.selected_rows == [2]  # the selection stays
        # long text is cut where its column is now, money is compared as numbers
        defs = explorer.grid._dt_args["columnDefs"]
        cut = [d for d in defs if "s.slice(0, 39)" in str(d.get("render"))]
        assert cut[0]["targets"] == [columns.index("owner")]
        money = [d for d in defs if d.get("type") == "num"]
        assert money[0]["targets"] == [columns.index("amount"), columns.index("unapplied")]
        explorer.column_choice["id"].value = False  # the id is always shown
        assert explorer.grid_columns[0] == "id"
        explorer.show_columns(GRID_COLUMNS)
        assert list(explorer.grid.df.columns) == GRID_COLUMNS
        assert (grid_frame(explorer.shown) == explorer.grid.df).all().all()
    finally:
        explorer.show_columns(DEFAULT_COLUMNS)
        explorer.clear_selection()


def test_the_totals_show_every_currency(read_explorer: SourceExplorer) -> None:
    summary = read_explorer.summary.value
    currencies = sorted(read_explorer.frame["currency"].dropna().astype(str).unique())
    assert len(currencies) > 5
    assert "max-height:150px" not in summary  # no box that hides the last currencies
    for currency in currencies:
        assert f">{currency}<" in summary


def test_messages_have_no_raw_tags(read_explorer: SourceExplorer, tmp_path: Path) -> None:
    read_explorer.folder = tmp_path
    read_explorer.select(list(read_explorer.frame["id"].head(2)))
    try:
        assert read_explorer.save_selection() is not None
        saved = read_explorer.saved.value
        assert read_explorer.export_shown() is not None
        exported = read_explorer.saved.value
    finally:
        read_explorer.folder = Path("exports")
        read_explorer.clear_selection()
    for text in (saved, exported):
        assert "&lt;" not in text and "&gt;" not in text, text
    assert "<code>source_ids_path = &quot;" in saved


def test_created_filters_say_the_format(read_explorer: SourceExplorer) -> None:
    for box in (read_explorer.created_from, read_explorer.created_to):
        assert "YYYY-MM-DD" in box.placeholder and "ISO" in box.tooltip
    read_explorer.created_from.value = "31/10/2026"
    try:
        assert (
            "2026-10-31" in read_explorer.error.value or "YYYY-MM-DD" in read_explorer.error.value
        )
    finally:
        read_explorer.clear_filters()


def test_the_editor_shows_its_unset_box_and_whole_progress_text(read_explorer) -> None:
    editor = MetadataEditor(read_explorer.session, read_explorer)
    assert editor.unset_keys.placeholder and editor.unset_keys.layout.width == "560px"
    row = next(c for c in editor.children if editor.status in getattr(c, "children", ()))
    assert row.layout.flex_flow == "row wrap" and editor.status.layout.flex == "0 0 auto"


def test_retirement_tab_chart_grid_money_and_staleness(fresh_session, tmp_path: Path) -> None:
    ui = toolkit.widgets.app(fresh_session, journal_folder=tmp_path, export_folder=tmp_path)
    tab = ui.retirement
    assert tab.chart.layout.display == "none"  # no broken image before the first run
    _fits(tab.findings)
    assert tab.run() and tab.wait(120) and tab.error.value == ""
    assert tab.chart.layout.display is None and tab.chart.value[:4] == b"\x89PNG"
    _fits(tab.findings)
    # the money on legacy receivers sorts by amount (itables sorts on the category's rank)
    assert tab.migration is not None
    found = tab.migration.exceptions
    shown = findings_frame(tab.migration)
    legacy = shown["on legacy receivers"]
    assert isinstance(legacy.dtype, pd.CategoricalDtype) and legacy.cat.ordered
    usd = found["currency"].eq("usd") & found["legacy_unapplied_major"].notna()
    ranked = found.loc[usd, "legacy_unapplied_major"].iloc[legacy[usd].cat.codes.argsort()]
    assert ranked.astype(float).is_monotonic_increasing and len(ranked) > 3
    assert (legacy[usd].astype(str).str.endswith(" USD")).all()
    # a detach in the app makes the retirement audit stale, as it does the receiver audit
    assert tab.stale.value == "" and ui.explorer.wait(60)
    frame = ui.explorer.frame
    card = frame.loc[(frame["status"] == "chargeable") & (frame["type"] == "card"), "id"]
    ui.explorer.select(list(card.head(1)))
    ui.detach.preview()
    ui.detach.confirm.value = "1"
    assert ui.detach.detach() and ui.detach.wait(30)
    assert ui.detach.outcome is not None
    assert ui.detach.outcome.totals["ok"] == 1
    assert "run it again" in tab.stale.value
    assert tab.run() and tab.wait(120) and tab.stale.value == ""  # a new run is current


def test_tables_follow_the_theme() -> None:
    """Dark mode: JupyterLab's theme variables, never a fixed light grey on its own."""
    frame = pd.DataFrame({"id": ["src_1"], "status": ["invalid"], "note": ["x"]})
    for text in (
        table_html(frame, highlight={"invalid": "#fde8ea"}, status_column="status", max_rows=0),
        table_html(frame, highlight={"invalid": "#fde8ea"}, status_column="status"),
        json_html({"id": "src_1"}),
    ):
        bare = re.sub(r"var\(--jp-[a-z0-9-]+, #[0-9a-f]+\)", "", text)
        # a fixed colour is left only as a highlighted row's pastel, with dark text on it
        for colour in re.findall(r"#[0-9a-fA-F]{3,6}\b", bare):
            assert colour in ("#fde8ea", "#1a1a1a"), (colour, text)
        assert "var(--jp-" in text


def test_tables_shown_for_reading_are_never_cut_mid_row() -> None:
    """Runbook 02 shows 20 findings with long sentences: the whole table, not a 480 px box."""
    findings = pd.DataFrame({"source": ["src_1"] * 20, "detail": ["a long sentence " * 8] * 20})
    text = toolkit.show(findings, max_rows=20)._repr_html_()
    assert "max-height:none" in text and "max-height:480px" not in text
