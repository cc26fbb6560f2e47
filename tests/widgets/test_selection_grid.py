"""The grid's selection is read on the rows it was made on (issue 27 item 4): the browser's
messages are simulated with ``set_state``, as ipywidgets applies them in the kernel."""

from __future__ import annotations

from typing import Any

import pandas as pd

from toolkit.fetch.frame import empty_frame
from toolkit.widgets import SourceExplorer
from toolkit.widgets.selection_grid import KEPT_REVISIONS, SelectionGrid


def _grid(ids: list[str]) -> SelectionGrid:
    return SelectionGrid(pd.DataFrame({"id": ids}), ids=ids, selected_rows=[])


def _sent(grid: SelectionGrid) -> list[set[str]]:
    """Record the keys of each message the grid sends."""
    sent: list[set[str]] = []
    original = grid.send_state

    def send_state(key: Any = None) -> None:
        sent.append({key} if isinstance(key, str) else set(key or ()))
        original(key)

    grid.send_state = send_state
    return sent


def _rows(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": ids})


def test_a_click_made_on_older_rows_is_read_on_them() -> None:
    grid = _grid(["src_a", "src_b", "src_c"])
    grid.redraw(_rows(["src_c", "src_b", "src_a"]), ids=["src_c", "src_b", "src_a"],
                selected_rows=[])  # fmt: skip
    grid.set_state({"seen_revision": 1, "selected_rows": [0]})  # clicked before it came
    assert grid.stale
    assert grid.take_selection([0]) == ({"src_a"}, set())  # not src_c, now at position 0


def test_each_selection_is_read_as_what_it_changed_on_its_revision() -> None:
    grid = _grid(["src_a", "src_b", "src_c"])
    grid.set_state({"seen_revision": 1, "selected_rows": [0]})
    assert grid.take_selection([0]) == ({"src_a"}, set())
    grid.select_rows([0, 2])  # the kernel selects src_c too: revision 2
    # the browser's next click was made on revision 1, before src_c came: it adds src_b only
    grid.set_state({"seen_revision": 1, "selected_rows": [0, 1]})
    assert grid.take_selection([0, 1]) == ({"src_b"}, set())
    # and one made on revision 2 unselects src_a
    grid.set_state({"seen_revision": 2, "selected_rows": [2]})
    assert grid.take_selection([2]) == (set(), {"src_a"})


def test_a_selection_on_a_revision_too_old_is_not_read() -> None:
    grid = _grid(["src_a", "src_b"])
    for _ in range(KEPT_REVISIONS + 1):
        grid.select_rows([])
    grid.set_state({"seen_revision": 1, "selected_rows": [1]})
    assert grid.take_selection([1]) is None


def test_every_revision_carries_the_selection_and_appended_rows_none() -> None:
    grid = _grid(["src_a", "src_b"])
    sent = _sent(grid)
    grid.set_state({"seen_revision": 1, "selected_rows": [1]})
    grid.take_selection([1])
    grid.select_rows([1])  # the kernel's value already: sent all the same, with the revision
    assert sent[-1] >= {"selected_rows", "revision"} and grid.revision == 2
    grid.set_state({"seen_revision": 2, "selected_rows": [1]})
    grid.take_selection([1])
    # rows arriving after those shown: the browser keeps its selection (and clicks on their way)
    grid.redraw(_rows(["src_a", "src_b", "src_c"]), ids=["src_a", "src_b", "src_c"],
                selected_rows=[1])  # fmt: skip
    assert "_dt_args" in sent[-1] and "selected_rows" not in sent[-1] and grid.revision == 2
    assert grid.take_selection([1, 2]) == ({"src_c"}, set())


def test_the_browser_s_selection_is_not_echoed_back() -> None:
    """ipywidgets 8 echoes a browser's change to it; an echo of a selection made on older rows,
    arriving after a newer revision, selected the same positions of other rows (seen in a
    browser: the next click then read three wrong rows)."""
    grid = _grid(["src_a"])
    assert grid.trait_metadata("selected_rows", "echo_update") is False
    assert grid.trait_metadata("seen_revision", "echo_update") is False


def test_the_explorer_keeps_a_click_made_before_the_rows_moved() -> None:
    frame = empty_frame().reindex(range(3))
    frame["id"] = ["src_old", "src_mid", "src_new"]
    frame["created"] = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"], utc=True)
    explorer = SourceExplorer(frame)
    seen = explorer.grid.revision
    explorer.set_frame(frame.iloc[::-1].reset_index(drop=True))  # newest first, as a load ends
    assert explorer.grid.revision > seen
    explorer.grid.set_state({"seen_revision": seen, "selected_rows": [0]})  # src_old's place
    assert explorer.selected_ids == ["src_old"]
    # and the browser is told where src_old is now, in a new revision
    assert explorer.grid.selected_rows == [2] and explorer.grid.revision == seen + 2
