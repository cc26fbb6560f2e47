"""The explorer's selection: kept as source ids over the whole frame, so a grid that holds only
the first rows of a big frame still selects (and hands on) the rows it does not show, and a
filter hides rows without unselecting them.

The grid shows at most ``max_rows`` rows of what the filters keep (``shown``); clicks in the grid
change the selection of those rows only, ``select_all()`` adds every row the filters keep, and
``selected`` / ``selected_ids`` always read the whole frame: rows the filters hide stay selected
until ``clear_selection()`` (the explorer says "N selected, M of them hidden by the filters").
Example::

    explorer.select_all()          # all 120,000 filtered rows, though the grid holds 5,000
    len(explorer.selected)         # 120000
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit.fetch import LoadInfo
from toolkit.widgets.detail import detail_html
from toolkit.widgets.grid import summary_html

if TYPE_CHECKING:
    import ipywidgets as widgets
    from itables.widget import ITable

    from toolkit.session import Session

__all__ = ["MAX_ROWS", "ExplorerSelection"]

#: The most rows the grid is given (the browser never receives a whole big frame).
MAX_ROWS = 5_000


class ExplorerSelection:
    """Selection over the filtered frame (a mixin of :class:`~toolkit.widgets.SourceExplorer`)."""

    frame: pd.DataFrame
    view: pd.DataFrame
    shown: pd.DataFrame
    grid: ITable
    detail: widgets.HTML
    summary: widgets.HTML
    session: Session | None
    selected_ids: list[str]
    chosen: set[str]
    syncing: bool

    @property
    def selected(self) -> pd.DataFrame:
        """The selected rows of the frame (every column): those the filters show in grid order,
        then those they hide."""
        chosen = self.chosen
        shown = self.view[self.view["id"].isin(chosen)]
        hidden = self.frame[self.frame["id"].isin(chosen) & ~self.frame["id"].isin(self.view["id"])]
        out = pd.concat([shown, hidden], ignore_index=True) if len(hidden) else shown
        out = out.reset_index(drop=True)
        out.attrs = dict(self.frame.attrs)
        return out

    @property
    def hidden_selected(self) -> int:
        """How many selected sources the filters hide (they stay selected)."""
        return len(self.chosen) - int(self.view["id"].isin(self.chosen).sum())

    def select(self, ids: list[str]) -> None:
        """Select the rows with these source ids (shown by the filters or not)."""
        wanted = {str(i) for i in ids}
        self.set_chosen(set(self.frame["id"][self.frame["id"].isin(wanted)].astype(str)))

    def select_all(self) -> None:
        """Add every row the filters keep to the selection (also those beyond the grid's first
        rows); rows they hide keep their state."""
        self.set_chosen(self.chosen | set(self.view["id"].astype(str)))

    def clear_selection(self) -> None:
        """Select nothing (rows the filters hide included)."""
        self.set_chosen(set())

    def set_chosen(self, ids: set[str], newest: int | None = None) -> None:
        """Make ``ids`` the selection and show it in the grid and the panes."""
        self.chosen = ids
        positions = [i for i, v in enumerate(self.shown["id"].tolist()) if v in ids]
        self.syncing = True
        try:
            self.grid.selected_rows = positions
        finally:
            self.syncing = False
        self.publish(newest)

    def _on_rows(self, change: Any) -> None:
        if self.syncing:
            return
        rows = [i for i in self.grid.selected_rows if 0 <= i < len(self.shown)]
        shown = set(self.shown["id"].astype(str))
        clicked = {str(self.shown["id"].iloc[i]) for i in rows}
        self.chosen = (self.chosen - shown) | clicked  # rows not shown keep their state
        newest = None
        if change is not None:
            added = [i for i in change["new"] if i not in set(change["old"] or [])]
            newest = added[-1] if added and 0 <= added[-1] < len(self.shown) else None
        self.publish(newest)

    def publish(self, newest: int | None) -> None:
        """The detail pane (the row just added, else the first selected), counts, the trait."""
        picked = self.selected
        if newest is not None:
            row = self.shown.iloc[newest]
        elif len(picked):
            row = picked.iloc[0]
        else:
            row = None
        if row is None:
            self.detail.value = "<i>Select a row to see it.</i>"
        else:
            self.detail.value = detail_html(
                row,
                mode=(LoadInfo.from_attrs(self.frame) or LoadInfo()).mode,
                account=self.session.stripe_account if self.session is not None else None,
            )
        self.summary.value = summary_html(
            self.view,
            len(self.frame),
            len(picked),
            shown=len(self.shown),
            hidden=self.hidden_selected,
        )
        self.selected_ids = picked["id"].astype(str).tolist()
