"""Shared look of the widgets: banners, error boxes, HTML tables, JSON panes; secrets masked.

Everything here returns HTML text for an ``ipywidgets.HTML`` (assigning ``.value`` is safe from a
worker thread). Example::

    box.value = error_html(exc)                 # a red box with one readable line, no traceback
    grid.value = table_html(outcome.df, max_rows=200)
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from toolkit.display import banner_html, error_text, json_html, safe_text, table_html

__all__ = [
    "banner_html",
    "button",
    "checkbox",
    "error_html",
    "error_text",
    "file_link",
    "itable_options",
    "json_html",
    "safe_text",
    "table_html",
]


def error_html(exc: BaseException | str) -> str:
    """An error box for an exception or a message."""
    text = exc if isinstance(exc, str) else error_text(exc)
    return banner_html(text, "error", title="Error:")


def file_link(path: Path) -> str:
    """A link that opens a written file from the notebook (relative to the kernel's folder, as
    JupyterLab resolves it), with the path shown."""
    shown = html.escape(str(path))
    try:
        relative = Path(path).resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return f"<code>{shown}</code>"
    href = html.escape(relative.as_posix(), quote=True)
    return f"<a href='{href}' target='_blank' download><code>{shown}</code></a>"


#: Grids scroll sideways inside their box instead of running past it.
_GRID_CSS = ".dt-container .dt-layout-table { overflow-x: auto; }"


def itable_options(page_length: int = 10, **more: Any) -> dict[str, Any]:
    """The options every grid (an ``itables`` ``ITable``) is built and updated with, ``more``
    on top: every row sent (``maxBytes`` 0: no silent downsampling), compact, no index; the
    column's name sorts it when clicked (not only its small arrow); column widths left to the
    browser, so a grid filled while its tab is hidden is not squeezed to a fraction of the
    width; as wide as its box, scrolling sideways when its columns need more.

    >>> itable_options(15)["pageLength"], itable_options()["autoWidth"]
    (15, False)
    """
    return {
        "maxBytes": 0,
        "pageLength": page_length,
        "classes": "display compact",
        "showIndex": False,
        "text_in_header_can_be_selected": False,
        "autoWidth": False,
        "style": "width:100%;margin:0;caption-side:bottom",
        "css": _GRID_CSS,
        **more,
    }


def button(**kwargs: Any) -> widgets.Button:
    """An ``ipywidgets.Button`` as wide as its label: ``button(description="Apply", icon="play")``."""
    kwargs.setdefault(
        "layout", widgets.Layout(width="fit-content", min_width="90px", flex="0 0 auto")
    )
    return widgets.Button(**kwargs)


def checkbox(description: str, value: bool = False) -> widgets.Checkbox:
    """A checkbox with its whole label, not indented: ``checkbox("Dry run", value=True)``."""
    return widgets.Checkbox(
        value=value, description=description, indent=False, layout=widgets.Layout(width="auto")
    )
