"""SourceExplorer: filter, inspect and select sources in a grid; ``.selected`` feeds the next step.

Example (in a notebook)::

    explorer = SourceExplorer(session)     # loads every source in a worker thread, with progress
    explorer                               # filters, grid, detail pane, counts and totals
    explorer.selected                      # the selected rows, all frame columns, as a DataFrame

    SourceExplorer(df)                     # or explore a frame you already have
"""

from __future__ import annotations

import html
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pandas as pd
import traitlets

from toolkit.errors import InvalidInputError, ToolkitError
from toolkit.fetch import LoadInfo, load_sources, save_ids, write_sources_csv
from toolkit.fetch.frame import empty_frame
from toolkit.fetch.select import filter_sources
from toolkit.private_files import fresh_path
from toolkit.session import Session
from toolkit.widgets.detail import detail_html
from toolkit.widgets.grid import (
    DEFAULT_COLUMNS,
    GRID_COLUMNS,
    column_defs,
    grid_frame,
    summary_html,
)
from toolkit.widgets.selection_grid import SelectionGrid
from toolkit.widgets.style import (
    banner_html,
    button,
    checkbox,
    error_html,
    file_link,
    itable_options,
)
from toolkit.widgets.worker import Progress, Worker

__all__ = ["GRID_COLUMNS", "SourceExplorer", "grid_frame"]

_ANY = "(any)"
#: The most rows the grid is given (the browser never receives a whole big frame).
MAX_ROWS = 5_000


def _options(values: pd.Series) -> list[str]:
    return sorted({str(v) for v in values.dropna().tolist()})


class SourceExplorer(widgets.VBox):
    """Filters, a selectable grid, the selected source's JSON, and counts and totals.

    ``SourceExplorer(session)`` loads in a worker thread (``explorer.wait()`` blocks until done);
    ``SourceExplorer(df)`` shows a frame. ``selected_ids`` (a trait) and ``.selected`` (a
    DataFrame) give the selection; ``select(ids)``, ``select_all()``, ``clear_selection()`` set it.
    The grid holds at most ``max_rows`` of the rows the filters keep ("showing N of M"); the
    selection is kept as source ids over the whole frame, so a grid that holds only the first
    rows of a big frame still selects (and hands on) the rows it does not show, and a filter
    hides rows without unselecting them: clicks change the selection of the rows shown only,
    ``select_all()`` adds every row the filters keep, rows the filters hide stay selected until
    ``clear_selection()`` ("N selected, M of them hidden by the filters").
    ``save_selection()`` and ``export_shown()`` write the selected ids (for runbooks 03 and 04)
    and the rows shown (for spreadsheets) under ``folder``, a new file each time.
    """

    selected_ids = traitlets.List(traitlets.Unicode())
    #: Counts the loads: observers (the editor, the detach panel) drop plans made on older data.
    data_version = traitlets.Int(0)

    def __init__(
        self,
        sources: pd.DataFrame | Session,
        *,
        session: Session | None = None,
        page_length: int = 15,
        load: Mapping[str, Any] | None = None,
        folder: str | Path = "exports",
        max_rows: int = MAX_ROWS,
    ) -> None:
        super().__init__()
        if isinstance(sources, Session):
            session, frame = sources, None
        elif isinstance(sources, pd.DataFrame):
            frame = sources
        else:
            raise InvalidInputError(
                "SourceExplorer needs a Session (toolkit.connect()) or the DataFrame from "
                f"toolkit.load_sources(session), not {type(sources).__name__}."
            )
        self.session = session
        self.folder = Path(folder)
        self.load_options = dict(load or {})
        self.frame: pd.DataFrame = empty_frame() if frame is None else frame
        self.view: pd.DataFrame = self.frame
        self.max_rows = max_rows
        self.shown: pd.DataFrame = self.frame.head(max_rows)
        self.chosen: set[str] = set()
        self.syncing = False
        # the frame and the selection change in the kernel's thread (clicks) and in the loading
        # thread (rows arriving): one at a time, so no click is lost to a redraw
        self._lock = threading.RLock()
        self._partial = False  # the frame holds the rows arrived so far of a load going on

        # filters
        box = widgets.Layout(width="250px")
        self.type_filter = widgets.SelectMultiple(description="Type", rows=6, layout=box)
        self.status_filter = widgets.SelectMultiple(description="Status", rows=6, layout=box)
        self.currency_filter = widgets.SelectMultiple(description="Currency", rows=6, layout=box)
        for w in (self.type_filter, self.status_filter, self.currency_filter):
            w.style.description_width = "60px"
        self.search = widgets.Text(
            description="Search",
            placeholder="customer, email, name or src_ id",
            continuous_update=False,
        )
        self.metadata_filter = widgets.Text(
            description="Metadata",
            placeholder="key=value, other_key",
            continuous_update=False,
        )
        # a Dropdown shows None as blank: the choices are words
        self.unapplied_filter = widgets.Dropdown(
            description="Unapplied",
            options=[(_ANY, "any"), ("holds unapplied funds", "yes"), ("no unapplied funds", "no")],
            value="any",
        )
        # ISO dates as typed (a browser's date picker shows its locale's mm/dd/yyyy)
        self.created_from = widgets.Text(
            description="Created ≥", placeholder="YYYY-MM-DD (UTC)", continuous_update=False,
            tooltip="an ISO date (UTC), e.g. 2026-01-31, or a time, 2026-01-31T08:00:00Z",
        )  # fmt: skip
        self.created_to = widgets.Text(
            description="Created <", placeholder="YYYY-MM-DD (UTC)", continuous_update=False,
            tooltip="an ISO date (UTC), e.g. 2026-01-31, or a time, 2026-01-31T08:00:00Z",
        )  # fmt: skip
        self.clear_filters_button = button(description="Clear filters", icon="times")
        self.select_all_button = button(
            description="Select all", icon="check-square",
            tooltip="add every row the filters keep (also those past the grid's first rows)",
        )  # fmt: skip
        self.clear_selection_button = button(
            description="Clear selection", icon="square",
            tooltip="select nothing, also among the rows the filters hide",
        )  # fmt: skip
        self.reload_button = button(description="Reload", icon="refresh")
        self.save_selection_button = button(
            description="Save selection", icon="save",
            tooltip="save the selected source ids to a CSV another runbook can open",
        )  # fmt: skip
        self.export_button = button(
            description="Export shown (CSV)", icon="download",
            tooltip="the rows the filters show, as a CSV for spreadsheets",
        )  # fmt: skip
        self.saved = widgets.HTML()
        self.cancel_button = button(description="Cancel", icon="stop", disabled=True)
        self.reload_button.layout.display = None if session is not None else "none"
        self.cancel_button.layout.display = self.reload_button.layout.display

        # outputs
        self.header = widgets.HTML()
        self.error = widgets.HTML()
        self.progress = widgets.IntProgress(
            value=0, min=0, max=1, layout=widgets.Layout(width="260px")
        )
        self.status = widgets.Label()
        self.summary = widgets.HTML()
        self.detail = widgets.HTML("<i>Select a row to see it.</i>")
        # every update() must repeat these: itables resets options it is not given (maxBytes
        # would fall back to 64 KB and silently drop rows from the grid)
        self.grid_options: dict[str, Any] = itable_options(
            page_length,
            select={"style": "multi+shift"},
            lengthMenu=sorted({10, 15, 25, 50, 100, page_length}),
            # one search box: the explorer's own (the grid's would filter only what it shows)
            layout={"topStart": "pageLength", "topEnd": None},
            classes="display compact nowrap",
        )
        # the column chooser: the grid shows the columns ticked (the id always)
        self.column_choice = {
            name: checkbox(name, value=name in DEFAULT_COLUMNS) for name in GRID_COLUMNS
        }
        self.column_choice["id"].disabled = True
        columns = self.grid_columns
        self.grid = SelectionGrid(
            grid_frame(self.shown)[columns],
            ids=self.shown["id"].astype(str).tolist(),
            selected_rows=[],
            **self.grid_options,
            columnDefs=column_defs(columns),
        )
        self.worker = Worker(self.progress, self.status)

        for w in (
            self.type_filter,
            self.status_filter,
            self.currency_filter,
            self.search,
            self.metadata_filter,
            self.unapplied_filter,
            self.created_from,
            self.created_to,
        ):
            w.observe(self._on_filter, names="value")
        self.grid.observe(self._on_rows, names="selected_rows")
        for box in self.column_choice.values():
            box.observe(lambda _: self._redraw(), names="value")
        self.clear_filters_button.on_click(lambda _: self.clear_filters())
        self.select_all_button.on_click(lambda _: self.select_all())
        self.clear_selection_button.on_click(lambda _: self.clear_selection())
        self.reload_button.on_click(lambda _: self.reload())
        self.save_selection_button.on_click(lambda _: self.save_selection())
        self.export_button.on_click(lambda _: self.export_shown())
        self.cancel_button.on_click(lambda _: self.worker.cancel())

        filters = widgets.HBox(
            [
                self.type_filter,
                self.status_filter,
                self.currency_filter,
                widgets.VBox(
                    [self.search, self.metadata_filter, self.unapplied_filter],
                ),
                widgets.VBox([self.created_from, self.created_to, self.clear_filters_button]),
            ],
            layout=widgets.Layout(flex_flow="row wrap"),
        )
        actions = widgets.HBox(
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
            children=[
                self.select_all_button,
                self.clear_selection_button,
                self.save_selection_button,
                self.export_button,
                self.reload_button,
                self.cancel_button,
                self.progress,
                self.status,
            ],
        )
        chooser = widgets.HBox(
            [widgets.HTML("<b>Columns:</b>"), *self.column_choice.values()],
            layout=widgets.Layout(flex_flow="row wrap", align_items="center"),
        )
        self.children = [
            self.header,
            filters,
            actions,
            self.error,
            self.saved,
            self.summary,
            chooser,
            self.grid,
            widgets.HTML("<b>Selected source</b>"),
            self.detail,
        ]
        self._filling = False
        if frame is None:
            self.reload()
        else:
            self._set_frame(frame)

    # -- data ---------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"SourceExplorer({len(self.frame):,} sources, {len(self.selected_ids):,} selected)"

    def reload(self) -> bool:
        """Load the sources again from the session, in a worker thread; False if already loading."""
        if self.session is None:
            self.error.value = error_html("This explorer was given a frame: there is no session.")
            return False
        session = self.session
        options = self.load_options

        arrived: list[pd.DataFrame] = []

        def show_arrived(rows: pd.DataFrame) -> None:  # the first rows at once, then each second
            arrived[:] = [pd.concat([*arrived, rows], ignore_index=True)]
            self._set_frame(arrived[0], loading=True)

        def job(report: Progress, cancel: threading.Event) -> pd.DataFrame:
            return load_sources(
                session, progress=report, cancel=cancel, on_rows=show_arrived, **options
            )

        if self.worker.running:
            return False
        self.error.value = ""
        # set the buttons first: a job that fails at once resets them from its thread
        self.reload_button.disabled, self.cancel_button.disabled = True, False
        return self.worker.start(
            job, on_done=self._loaded, on_error=self._failed, label="Loading sources"
        )

    def _loaded(self, df: pd.DataFrame) -> None:
        self._set_frame(df)
        self.status.value = f"Loaded {len(df):,} sources"
        self._idle()

    def _failed(self, exc: BaseException) -> None:
        self.error.value = error_html(exc)
        self._idle()

    def _idle(self) -> None:
        self.reload_button.disabled = False
        self.cancel_button.disabled = True

    def wait(self, timeout: float | None = 60) -> bool:
        """Block until loading ends (tests, scripts); True when it has."""
        return self.worker.wait(timeout)

    def set_frame(self, df: pd.DataFrame) -> None:
        """Show another frame (e.g. ``toolkit.reread`` after a write); filters and the
        selection of sources still in it are kept."""
        self._set_frame(df)

    def _set_frame(self, df: pd.DataFrame, loading: bool = False) -> None:
        """Show ``df``; ``loading``: the rows that arrived so far of a load still going on (in
        the order they came; the selection and the filters apply to them as to any frame)."""
        with self._lock:
            self._show_frame(df, loading)

    def _show_frame(self, df: pd.DataFrame, loading: bool) -> None:
        self.frame = df
        self._partial = loading
        info = df.attrs.get("toolkit", {}) if isinstance(df.attrs, dict) else {}
        parts = [f"<b>{len(df):,}</b> sources"]
        if loading:
            parts = [f"loading: <b>{len(df):,}</b> sources so far, in the order they arrive"]
        if info.get("account"):
            parts.append(f"account <b>{info['account']}</b>")
        if info.get("mode"):
            parts.append(f"mode {info['mode']}")
        if info.get("taken_at"):
            parts.append(f"taken at {info['taken_at']}")
            if info.get("mode") == "sandbox":  # the sandbox's data clock stands still: say when
                clock = datetime.now(UTC).strftime("%H:%M:%S")
                parts[-1] += f" (the sandbox's clock), read at {clock} UTC"
        for name, what in (("missing_ids", "ids"), ("missing_customers", "customers")):
            if info.get(name):
                parts.append(f"{len(info[name]):,} {what} not found")
        found = LoadInfo.from_attrs(df)
        unknown = found.not_found() if found is not None else []
        self.header.value = " · ".join(parts) + "".join(banner_html(w, "warn") for w in unknown)
        self._filling = True
        try:  # new choices from the data; choices still offered stay chosen (e.g. after reload)
            for choice, column in (
                (self.type_filter, "type"),
                (self.status_filter, "status"),
                (self.currency_filter, "currency"),
            ):
                chosen = choice.value
                choice.options = _options(df[column])
                choice.value = tuple(v for v in chosen if v in choice.options)
        finally:
            self._filling = False
        self.refresh()
        if not loading:  # plans are made on whole loads: one made on rows still arriving is redone
            self.data_version += 1

    # -- filters ------------------------------------------------------------------------------
    def filters(self) -> dict[str, Any]:
        """The current filter values, as keyword arguments of :func:`toolkit.filter_sources`."""
        start = self.created_from.value.strip() or None
        end = self.created_to.value.strip() or None
        return {
            "types": list(self.type_filter.value),
            "statuses": list(self.status_filter.value),
            "currencies": list(self.currency_filter.value),
            "search": self.search.value,
            "metadata": self.metadata_filter.value,
            "has_unapplied": {"yes": True, "no": False}.get(self.unapplied_filter.value),
            "created": (start, end) if start or end else None,
        }

    def clear_filters(self) -> None:
        """Reset every filter (shows every source)."""
        self._filling = True
        try:
            self.type_filter.value = ()
            self.status_filter.value = ()
            self.currency_filter.value = ()
            self.search.value = ""
            self.metadata_filter.value = ""
            self.unapplied_filter.value = "any"
            self.created_from.value = ""
            self.created_to.value = ""
        finally:
            self._filling = False
        self.refresh()

    def _on_filter(self, _change: Any) -> None:
        if not self._filling:
            self.refresh()

    def refresh(self) -> None:
        """Apply the filters to the frame and redraw; the selection is kept (the rows the filters
        hide stay selected, and the count says how many)."""
        with self._lock:
            self._refresh()

    def _refresh(self) -> None:
        try:
            view = filter_sources(self.frame, **self.filters())
        except Exception as exc:  # a bad filter value: say so, keep the last view
            self.error.value = error_html(exc)
            return
        self.error.value = ""
        self.view = view.reset_index(drop=True)
        self.shown = self.view.head(self.max_rows)  # the browser never gets a whole big frame
        # a filter hides rows, it does not unselect them; a source no longer in the frame goes
        # (once the frame is whole: a row still arriving stays selected meanwhile)
        if not self._partial:
            self.chosen = set(self.frame["id"][self.frame["id"].isin(self.chosen)].astype(str))
        self._redraw()
        self.publish(None)

    @property
    def grid_columns(self) -> list[str]:
        """The columns the grid shows: those ticked under "Columns", in the grid's order."""
        return [name for name, box in self.column_choice.items() if box.value or name == "id"]

    def show_columns(self, columns: list[str]) -> None:
        """Show these grid columns (of :data:`GRID_COLUMNS`; the id always)."""
        unknown = [c for c in columns if c not in self.column_choice]
        if unknown:
            raise ValueError(f"No grid column {unknown[0]!r}: choose among {GRID_COLUMNS}.")
        for name, box in self.column_choice.items():
            box.value = name in columns or name == "id"

    def _redraw(self) -> None:
        """Give the grid the rows shown, in the columns chosen, with the selection."""
        columns = self.grid_columns
        ids = self.shown["id"].astype(str).tolist()
        positions = [i for i, v in enumerate(ids) if v in self.chosen]
        self.syncing = True
        try:
            self.grid.redraw(
                grid_frame(self.shown)[columns],
                ids=ids,
                selected_rows=positions,
                **self.grid_options,
                columnDefs=column_defs(columns),
            )
        finally:
            self.syncing = False

    def show_error(self, message: str) -> None:
        """Show a message in the explorer's error box (empty string clears it)."""
        self.error.value = banner_html(message, "error") if message else ""

    # -- the selection: source ids over the whole frame ----------------------------------------
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
        with self._lock:
            self.set_chosen(set(self.frame["id"][self.frame["id"].isin(wanted)].astype(str)))

    def select_all(self) -> None:
        """Add every row the filters keep to the selection (also those beyond the grid's first
        rows); rows they hide keep their state."""
        with self._lock:
            self.set_chosen(self.chosen | set(self.view["id"].astype(str)))

    def clear_selection(self) -> None:
        """Select nothing (rows the filters hide included)."""
        self.set_chosen(set())

    def set_chosen(self, ids: set[str], newest: int | None = None) -> None:
        """Make ``ids`` the selection and show it in the grid and the panes."""
        with self._lock:
            self._set_chosen(ids, newest)

    def _set_chosen(self, ids: set[str], newest: int | None) -> None:
        self.chosen = ids
        self._send_selection()
        self.publish(newest)

    def _send_selection(self) -> None:
        """Select the chosen rows in the grid (and the browser)."""
        positions = [i for i, v in enumerate(self.shown["id"].tolist()) if v in self.chosen]
        self.syncing = True
        try:
            self.grid.select_rows(positions)
        finally:
            self.syncing = False

    def _on_rows(self, change: Any) -> None:
        with self._lock:
            self._on_rows_locked(change)

    def _on_rows_locked(self, change: Any) -> None:
        if self.syncing:
            return
        # the browser's positions are of the rows it had when it sent them, and the loading
        # thread may have drawn others since (the trait too: the value sent is the change's)
        positions = list(change["new"] if change is not None else self.grid.selected_rows)
        toggled = self.grid.take_selection(positions)
        if toggled is not None:
            added, removed = toggled
            self.chosen = (self.chosen | added) - removed  # rows not clicked keep their state
        newest = None
        if toggled is None or self.grid.stale:  # the browser shows a selection since replaced
            self._send_selection()
        elif added:
            ids = self.shown["id"].astype(str).tolist()
            newest = next(
                (i for i in reversed(positions) if 0 <= i < len(ids) and ids[i] in added), None
            )
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

    # -- files: the selection for another runbook, the rows shown for spreadsheets ------------
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
