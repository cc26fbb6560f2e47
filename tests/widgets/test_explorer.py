"""SourceExplorer driven through its traits: load, filters, grid, selection, detail, totals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from tests.widgets.widget_support import assert_no_secrets, widget_text
from toolkit.fetch import load_sources
from toolkit.fetch.select import filter_sources
from toolkit.widgets import MetadataEditor, SourceExplorer
from toolkit.widgets.grid import DEFAULT_COLUMNS, GRID_COLUMNS, grid_frame


def test_loads_from_a_session_in_a_worker(read_explorer: SourceExplorer, session) -> None:
    explorer = read_explorer
    expected = load_sources(session, progress=False)
    assert list(explorer.frame["id"]) == list(expected["id"]) and len(expected) > 100
    assert explorer.frame.attrs["toolkit"]["account"] == session.account_label
    assert f"{len(explorer.frame):,}</b> sources" in explorer.header.value
    assert explorer.status.value.startswith("Loaded")
    assert explorer.progress.bar_style == "success"
    assert explorer.grid.df is not None
    assert len(explorer.grid.df) == len(explorer.view) == len(explorer.frame)
    # the grid holds every row: no silent downsampling to 64 KB
    assert not explorer.grid._dt_args.get("downsampling_warning")
    assert set(explorer.status_filter.options) == set(explorer.frame["status"].dropna().astype(str))
    assert explorer.reload_button.disabled is False and explorer.cancel_button.disabled is True
    assert_no_secrets(explorer, session)


def test_grid_frame_formats_money_with_the_currency(read_explorer: SourceExplorer) -> None:
    df = read_explorer.frame
    grid = grid_frame(df)
    assert list(grid.columns) == GRID_COLUMNS and len(grid) == len(df)
    receivers = df.index[df["receiver_amount_received"].fillna(0) > 0]
    row = receivers[0]
    currency = str(df.loc[row, "currency"]).upper()
    assert grid.loc[row, "received"].endswith(currency)
    assert any(ch.isdigit() for ch in grid.loc[row, "unapplied"])
    meta = df.loc[df["metadata"].map(bool)].index[0]
    key = sorted(df.loc[meta, "metadata"])[0]
    assert f"{key}={df.loc[meta, 'metadata'][key]}" in grid.loc[meta, "metadata"]


def test_filters_match_filter_sources(read_explorer: SourceExplorer) -> None:
    explorer = read_explorer
    df = explorer.frame
    try:
        explorer.status_filter.value = ("chargeable", "pending")
        expected = filter_sources(df, statuses=["chargeable", "pending"])
        assert list(explorer.view["id"]) == list(expected["id"])
        assert explorer.grid.df is not None
        assert len(explorer.grid.df) == len(expected)

        explorer.unapplied_filter.value = "yes"
        expected = filter_sources(df, statuses=["chargeable", "pending"], has_unapplied=True)
        assert list(explorer.view["id"]) == list(expected["id"]) and len(expected)

        explorer.clear_filters()
        email = df["owner_email"].dropna().iloc[0]
        explorer.search.value = email.upper()
        assert len(explorer.view) and all(
            (explorer.view["owner_email"].str.lower() == email.lower()).fillna(False)
        )

        explorer.clear_filters()
        meta = df.loc[df["metadata"].map(bool), "metadata"].iloc[0]
        key, value = sorted(meta.items())[0]
        explorer.metadata_filter.value = f"{key}={value}"
        assert len(explorer.view)
        assert all(m.get(key) == value for m in explorer.view["metadata"])

        explorer.clear_filters()
        start = df["created"].min().date() + dt.timedelta(days=10)
        explorer.created_from.value = start.isoformat()
        expected = filter_sources(df, created=(start, None))
        assert list(explorer.view["id"]) == list(expected["id"])
        assert 0 < len(expected) < len(df)
    finally:
        explorer.clear_filters()
    assert len(explorer.view) == len(df)


def test_a_bad_filter_shows_an_error_and_keeps_the_view(read_explorer: SourceExplorer) -> None:
    explorer = read_explorer
    before = len(explorer.view)
    try:
        explorer.metadata_filter.value = "=oops"
        assert "Error" in explorer.error.value and "no key" in explorer.error.value
        assert len(explorer.view) == before
    finally:
        explorer.clear_filters()
    assert explorer.error.value == ""


def test_selection_detail_and_totals(read_explorer: SourceExplorer, sandbox, session) -> None:
    explorer = read_explorer
    try:
        explorer.grid.selected_rows = [0, 3]
        ids = list(explorer.view["id"].iloc[[0, 3]])
        assert explorer.selected_ids == ids
        selected = explorer.selected
        assert list(selected["id"]) == ids
        assert list(selected.columns) == list(explorer.frame.columns)
        assert selected.attrs["toolkit"]["account"] == session.account_label
        # the detail pane shows the newest selected source, never its client secret
        assert ids[1] in explorer.detail.value
        assert sandbox.get_source(ids[1]).get("client_secret")
        assert "client_secret" not in explorer.detail.value
        assert "<b>2</b> selected" in explorer.summary.value
        assert "Totals of what is shown" in explorer.summary.value
        assert_no_secrets(explorer, session)
    finally:
        explorer.clear_selection()
    assert explorer.selected.empty and explorer.selected_ids == []
    assert "Select a row" in explorer.detail.value


def test_selection_survives_filters(read_explorer: SourceExplorer) -> None:
    explorer = read_explorer
    df = explorer.frame
    chargeable = df.loc[df["status"] == "chargeable", "id"].iloc[0]
    pending = df.loc[df["status"] == "pending", "id"].iloc[0]
    try:
        explorer.select([chargeable, pending])
        assert set(explorer.selected_ids) == {chargeable, pending}
        explorer.status_filter.value = ("chargeable",)
        # the filter hides the pending source; it stays selected, after the shown ones
        assert explorer.selected_ids == [chargeable, pending]
        assert explorer.view["id"].iloc[explorer.grid.selected_rows[0]] == chargeable
        assert "<b>2</b> selected, <b>1</b> of them hidden by the filters" in explorer.summary.value
        explorer.select_all()  # adds what the filters keep
        assert len(explorer.selected) == len(explorer.view) + 1
        assert set(explorer.selected["status"].astype(str)) == {"chargeable", "pending"}
    finally:
        explorer.clear_filters()
        explorer.clear_selection()


def test_explorer_on_a_frame_has_no_reload(read_explorer: SourceExplorer) -> None:
    frame = read_explorer.frame.head(12)
    explorer = SourceExplorer(frame)
    assert explorer.session is None and explorer.reload_button.layout.display == "none"
    assert len(explorer.view) == 12
    assert explorer.reload() is False
    assert "no session" in explorer.error.value
    with pytest.raises(toolkit.InvalidInputError, match="needs a Session"):
        SourceExplorer("not a frame")


def test_an_empty_frame_shows_nothing_but_works() -> None:
    from toolkit.fetch.frame import empty_frame

    explorer = SourceExplorer(empty_frame())
    assert len(explorer.view) == 0 and explorer.selected.empty
    assert "Showing <b>0</b>" in explorer.summary.value
    explorer.select_all()
    assert explorer.selected_ids == []


def test_load_errors_show_inside_the_widget(session) -> None:
    explorer = SourceExplorer(session, load={"created": ("not a date", None)})
    assert explorer.wait(30)
    assert "Error" in explorer.error.value
    assert "Traceback" not in widget_text(explorer)
    assert explorer.reload_button.disabled is False
    assert isinstance(explorer.frame, pd.DataFrame) and explorer.frame.empty


def test_unknown_customers_are_reported_in_the_header(session) -> None:
    explorer = SourceExplorer(session, load={"customers": ["cus_doesnotexist000"]})
    assert explorer.wait(30)
    assert explorer.error.value == ""
    assert "1 customers not found" in explorer.header.value


def test_reload_keeps_filters_and_selection(session) -> None:
    explorer = SourceExplorer(session)
    assert explorer.wait(30)
    explorer.status_filter.value = ("chargeable",)
    first = explorer.view["id"].iloc[0]
    explorer.select([first])
    version = explorer.data_version
    assert explorer.reload()
    assert explorer.wait(30)
    assert explorer.data_version == version + 1
    assert explorer.status_filter.value == ("chargeable",)
    assert set(explorer.view["status"].astype(str)) == {"chargeable"}
    assert explorer.selected_ids == [first]


def test_every_row_reaches_the_grid_after_filtering(read_explorer: SourceExplorer) -> None:
    """itables resets options that update() is not given again: maxBytes fell back to 64 KB and
    the grid silently showed 266 of 296 rows. Every refresh must send every row."""
    import json

    def rows_sent() -> int:
        return len(json.loads(read_explorer.grid._dt_args["data_json"]))

    assert rows_sent() == len(read_explorer.view)
    read_explorer.search.value = "cus_"
    read_explorer.clear_filters()
    assert len(read_explorer.view) == len(read_explorer.frame) > 500
    assert rows_sent() == len(read_explorer.view)


def test_grid_money_sorts_by_amount_not_as_text(read_explorer: SourceExplorer) -> None:
    grid = grid_frame(read_explorer.frame)
    for column, minor in (("amount", "amount"), ("received", "receiver_amount_received")):
        cells = grid[column]
        assert isinstance(cells.dtype, pd.CategoricalDtype) and cells.dtype.ordered
        shown = read_explorer.frame[minor].notna() & read_explorer.frame["currency"].notna()
        usd = shown & read_explorer.frame["currency"].eq("usd")
        # ranking by the category (what itables sorts on) orders the amounts numerically
        ranked = read_explorer.frame.loc[usd, minor].iloc[cells[usd].cat.codes.argsort()]
        assert ranked.is_monotonic_increasing and len(ranked) > 5
    # itables sends the rank for sorting and the text for display (every column shown)
    read_explorer.show_columns(GRID_COLUMNS)
    args = read_explorer.grid._dt_args
    read_explorer.show_columns(DEFAULT_COLUMNS)
    renders = [d for d in args.get("columnDefs", []) if "categories" in str(d.get("render"))]
    assert len(renders) >= 3


def test_grid_controls_are_usable(read_explorer: SourceExplorer) -> None:
    read_explorer.show_columns(GRID_COLUMNS)
    args = read_explorer.grid._dt_args
    read_explorer.show_columns(DEFAULT_COLUMNS)
    assert args["pageLength"] in args["lengthMenu"]  # the page-size box shows its value
    assert args["layout"]["topEnd"] is None  # one search box: the explorer's
    cut = [d for d in args["columnDefs"] if "s.slice(0, 39)" in str(d.get("render"))]
    assert cut and set(cut[0]["targets"]) == {
        GRID_COLUMNS.index(c) for c in ("customer", "owner", "metadata")
    }
    assert read_explorer.type_filter.rows >= 6


def test_the_detail_pane_reads_like_a_record(read_explorer: SourceExplorer) -> None:
    frame = read_explorer.frame
    receiver = frame[frame["receiver_amount_received"].fillna(0) > 0].iloc[0]
    read_explorer.select([receiver["id"]])
    try:
        text = read_explorer.detail.value
        assert "UTC" in text and str(receiver["currency"]).upper() in text
        assert "unapplied" in text and "<details>" in text  # the JSON is behind a toggle
        assert '"created": ' not in text.split("<details>")[0]
        # a test-mode session: links to the test Dashboard (the sandbox alone has none)
        assert f"dashboard.stripe.com/test/sources/{receiver['id']}" in text
    finally:
        read_explorer.clear_selection()


def test_dashboard_links_follow_mode_and_account() -> None:
    from toolkit.widgets.detail import dashboard_url

    assert dashboard_url("cus_1", mode="live") == "https://dashboard.stripe.com/customers/cus_1"
    assert (
        dashboard_url("src_1", mode="test", account="acct_9")
        == "https://dashboard.stripe.com/acct_9/test/sources/src_1"
    )
    assert dashboard_url("src_1", mode="sandbox") is None


def test_a_filter_hides_rows_and_never_unselects_them(read_explorer, tmp_path) -> None:
    """Issue 28 item 5: 63 selected, a filter, another: still 63 selected (the count says how
    many are hidden); after Clear filters all 63 are shown selected, and saved."""
    import toolkit

    explorer = read_explorer
    frame = explorer.frame
    picked = list(frame["id"].iloc[::9].head(63).astype(str))
    explorer.folder = tmp_path
    explorer.select(picked)
    try:
        explorer.status_filter.value = ("chargeable",)
        explorer.type_filter.value = ("ach_credit_transfer",)
        shown = int(explorer.view["id"].isin(picked).sum())
        assert 0 < shown < 63
        assert set(explorer.selected_ids) == set(picked)
        assert explorer.hidden_selected == 63 - shown
        assert f"<b>63</b> selected, <b>{63 - shown}</b> of them hidden" in explorer.summary.value
        assert len(explorer.grid.selected_rows) == shown
        assert "no longer selected" not in explorer.error.value
        # the panels that act on the selection say it too
        editor = MetadataEditor(explorer.session, explorer)
        assert f"<b>63</b> sources selected (<b>{63 - shown}</b> of them hidden" in (
            editor.selection_label.value
        )
        explorer.clear_filters()
        assert set(explorer.selected_ids) == set(picked) and explorer.hidden_selected == 0
        assert len(explorer.grid.selected_rows) == 63
        assert "hidden" not in explorer.summary.value
        saved = explorer.save_selection()
        assert saved is not None and sorted(toolkit.read_ids(saved)) == sorted(picked)
    finally:
        explorer.folder = Path("exports")
        explorer.clear_filters()
        explorer.clear_selection()


def test_save_selection_and_export_shown(session, tmp_path) -> None:
    import toolkit

    df = load_sources(session, progress=False)
    explorer = SourceExplorer(df, session=session, folder=tmp_path)
    explorer.select(list(df["id"].head(3)))
    first, second = explorer.save_selection(), explorer.save_selection()
    assert first != second  # never replaces an earlier file
    assert first is not None
    assert toolkit.read_ids(first) == list(df["id"].head(3))
    assert "source_ids_path" in explorer.saved.value
    explorer.status_filter.value = ("chargeable",)
    shown = explorer.export_shown()
    assert shown is not None and len(pd.read_csv(shown)) == len(explorer.view)
