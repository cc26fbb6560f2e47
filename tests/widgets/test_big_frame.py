"""The explorer on a frame far bigger than a browser should hold: the grid gets a bounded number
of rows, says "showing N of M", and the selection still maps to the whole filtered frame."""

from __future__ import annotations

import pandas as pd

from toolkit.fetch import load_sources
from toolkit.widgets import SourceExplorer


def _big(session, copies: int) -> pd.DataFrame:
    base = load_sources(session, progress=False)
    parts = []
    for n in range(copies):
        part = base.copy()
        part["id"] = (part["id"].astype(str) + f"x{n}").astype("string")
        parts.append(part)
    big = pd.concat(parts, ignore_index=True)
    big.attrs = base.attrs
    return big


def test_the_grid_holds_a_bounded_number_of_rows(session) -> None:
    big = _big(session, 12)
    explorer = SourceExplorer(big, max_rows=500)
    assert explorer.grid.df is not None
    assert len(explorer.grid.df) == 500 < len(big)
    assert "Showing <b>500</b> of " + f"{len(big):,} matching" in explorer.summary.value
    # select all: every filtered row, though the grid holds 500
    explorer.select_all()
    assert len(explorer.selected) == len(big) == len(explorer.selected_ids)
    assert explorer.grid.selected_rows == list(range(500))
    # unselect one row in the grid: the rest of the selection (shown or not) stays
    explorer.grid.selected_rows = list(range(1, 500))
    assert len(explorer.selected) == len(big) - 1
    assert str(explorer.shown["id"].iloc[0]) not in set(explorer.selected_ids)
    # filter: the grid follows; the hidden rows stay selected, and the count says so
    explorer.status_filter.value = ("chargeable",)
    kept = big[big["status"] == "chargeable"]
    assert len(explorer.view) == len(kept) and len(explorer.grid.df) == min(500, len(kept))
    assert len(explorer.selected) == len(big) - 1
    selected = set(explorer.selected_ids)
    assert explorer.hidden_selected == len(selected - set(kept["id"].astype(str))) > 0
    assert "of them hidden by the filters" in explorer.summary.value
    # select by ids beyond the grid's rows
    far = kept["id"].astype(str).tolist()[-3:]
    explorer.select(far)
    assert explorer.selected_ids == far and explorer.grid.selected_rows == []
    assert "far" not in explorer.detail.value and far[0] in explorer.detail.value


def test_a_small_frame_is_shown_whole(session) -> None:
    explorer = SourceExplorer(load_sources(session, progress=False))
    assert explorer.grid.df is not None
    assert len(explorer.grid.df) == len(explorer.frame)
    assert "matching" not in explorer.summary.value
