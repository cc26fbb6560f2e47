"""Helpers for driving widgets without a browser: the visible text of a widget tree, secret checks."""

from __future__ import annotations

import ipywidgets as widgets

from toolkit.session import Session


def widget_text(root: widgets.Widget) -> str:
    """Every text a person could see in a widget tree (HTML, labels, inputs, button names)."""
    parts: list[str] = []

    def walk(w: widgets.Widget) -> None:
        for name in ("value", "description", "placeholder", "tooltip"):
            value = getattr(w, name, None)
            if isinstance(value, str):
                parts.append(value)
        titles = getattr(w, "titles", None)
        if isinstance(titles, tuple):
            parts.extend(t for t in titles if isinstance(t, str))
        if isinstance(w, widgets.Box):
            for child in w.children:
                walk(child)

    walk(root)
    return "\n".join(parts)


def assert_no_secrets(root: widgets.Widget, session: Session) -> None:
    """Neither the session's API key nor any client secret appears anywhere in the widget tree."""
    text = widget_text(root)
    assert session._api_key not in text
    assert "client_secret" not in text


#: Keys for sessions the widget tests open themselves (the sandbox accepts any well-formed key).
TEST_KEY = "sk_test_" + "W1dget" * 4
LIVE_KEY = "sk_live_" + "W1dget" * 4
