"""Shared look of the widgets: banners, error boxes, HTML tables, JSON panes; secrets masked.

Everything here returns HTML text for an ``ipywidgets.HTML`` (assigning ``.value`` is safe from a
worker thread). Example::

    box.value = error_html(exc)                 # a red box with one readable line, no traceback
    grid.value = table_html(outcome.df, max_rows=200)
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from toolkit.display import banner_html, json_html, safe_text, table_html
from toolkit.errors import Cancelled, StripeRequestError, ToolkitError

__all__ = [
    "banner_html",
    "button",
    "checkbox",
    "error_html",
    "error_text",
    "json_html",
    "safe_text",
    "table_html",
]


def error_text(exc: BaseException) -> str:
    """One readable line for an error a user can meet (no traceback, secrets masked)."""
    if isinstance(exc, Cancelled):
        return "Canceled."
    if isinstance(exc, StripeRequestError):
        request = f" (request {exc.request_id})" if exc.request_id else ""
        return safe_text(f"Stripe refused the request: {exc.stripe_message or exc}{request}")
    if isinstance(exc, ToolkitError):
        return safe_text(exc)
    return safe_text(f"Unexpected error ({type(exc).__name__}): {exc}")


def error_html(exc: BaseException | str) -> str:
    """An error box for an exception or a message."""
    text = exc if isinstance(exc, str) else error_text(exc)
    return banner_html(text, "error", title="Error:")


def button(**kwargs: Any) -> widgets.Button:
    """An ``ipywidgets.Button`` as wide as its label: ``button(description="Apply", icon="play")``."""
    kwargs.setdefault("layout", widgets.Layout(width="fit-content", min_width="90px"))
    return widgets.Button(**kwargs)


def checkbox(description: str, value: bool = False) -> widgets.Checkbox:
    """A checkbox with its whole label, not indented: ``checkbox("Dry run", value=True)``."""
    return widgets.Checkbox(
        value=value, description=description, indent=False, layout=widgets.Layout(width="auto")
    )
