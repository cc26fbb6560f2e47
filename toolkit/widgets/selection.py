"""What a panel works on: an explorer's live selection, or a fixed frame of sources.

Example::

    sources = selection_frame(explorer)          # explorer.selected right now
    pool = selection_pool(explorer)              # every loaded source (for CSV plans)
    watch_selection(explorer, panel.invalidate)  # called when the selection or the data change
    replace_pool(explorer, reread(explorer.frame, session, ids=written))  # after a write
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

import pandas as pd

from toolkit.fetch.frame import empty_frame

if TYPE_CHECKING:
    from toolkit.widgets.explorer import SourceExplorer

__all__ = [
    "SelectionSource",
    "replace_pool",
    "selection_frame",
    "selection_pool",
    "watch_selection",
]

SelectionSource: TypeAlias = "SourceExplorer | pd.DataFrame | None"


def _is_explorer(selection: Any) -> TypeGuard[SourceExplorer]:
    return hasattr(selection, "selected") and hasattr(selection, "selected_ids")


def selection_frame(selection: SelectionSource) -> pd.DataFrame:
    """The selected sources: ``explorer.selected``, the frame itself, or an empty frame."""
    if selection is None:
        return empty_frame()
    if isinstance(selection, pd.DataFrame):
        return selection
    if _is_explorer(selection):
        return selection.selected
    raise TypeError(
        "selection must be a SourceExplorer, the DataFrame from load_sources, or None; "
        f"got {type(selection).__name__}."
    )


def selection_pool(selection: SelectionSource) -> pd.DataFrame | None:
    """Every source the selection was drawn from (the explorer's frame), else None."""
    return selection.frame if _is_explorer(selection) else None


def replace_pool(selection: SelectionSource, frame: pd.DataFrame) -> None:
    """Show ``frame`` in place of an explorer's loaded sources (no-op for frames and None)."""
    if _is_explorer(selection):
        selection.set_frame(frame)


def watch_selection(selection: SelectionSource, callback: Callable[[], None]) -> None:
    """Call ``callback()`` whenever an explorer's selection or data change (no-op for frames)."""
    if _is_explorer(selection):
        selection.observe(lambda _change: callback(), names=["selected_ids", "data_version"])
