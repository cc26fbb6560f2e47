"""What the explorer writes to files: the selection (for another runbook) and the rows shown.

Example::

    explorer.save_selection()   # exports/selection.csv (then -2, -3, ...): ids for runbooks 03, 04
    explorer.export_shown()     # exports/sources-shown.csv: the filtered rows, for spreadsheets
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.errors import ToolkitError
from toolkit.fetch import save_ids, write_sources_csv
from toolkit.private_files import fresh_path
from toolkit.widgets.style import banner_html, error_html, file_link

if TYPE_CHECKING:
    import ipywidgets as widgets
    import pandas as pd

__all__ = ["ExplorerFiles"]


class ExplorerFiles:
    """The explorer's file actions (a mixin of :class:`~toolkit.widgets.SourceExplorer`)."""

    folder: Path
    view: pd.DataFrame
    error: widgets.HTML
    saved: widgets.HTML

    @property
    def selected(self) -> pd.DataFrame:  # pragma: no cover - the explorer defines it
        raise NotImplementedError

    def save_selection(self) -> Path | None:
        """Save the selected ids (:func:`toolkit.save_ids`) under ``folder``; a new file each time.

        Runbooks 03 and 04 open it with their ``source_ids_path`` parameter.
        """
        try:
            path = save_ids(self.selected, fresh_path(self.folder / "selection.csv"))
        except ToolkitError as exc:
            self.error.value = error_html(exc)
            return None
        self.error.value = ""
        use = html.escape(f'source_ids_path = "{path}"')
        self.saved.value = banner_html(
            f"Saved {len(self.selected):,} selected source ids to {path}.", "ok"
        ) + (f"<div>{file_link(path)} · to open it in runbook 03 or 04: <code>{use}</code></div>")
        return path

    def export_shown(self) -> Path | None:
        """Write the rows the filters show as a CSV for spreadsheets under ``folder``."""
        if not len(self.view):
            self.error.value = error_html("Nothing is shown: clear the filters first.")
            return None
        path = write_sources_csv(self.view, fresh_path(self.folder / "sources-shown.csv"))
        self.error.value = ""
        self.saved.value = (
            banner_html(f"Exported the {len(self.view):,} rows shown to {path}.", "ok")
            + f"<div>{file_link(path)}</div>"
        )
        return path
