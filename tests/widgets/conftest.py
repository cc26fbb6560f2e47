"""Explorers loaded from the sandboxes, for the widget tests."""

from __future__ import annotations

import pytest

from toolkit.widgets import SourceExplorer


@pytest.fixture(scope="module")
def read_explorer(session) -> SourceExplorer:
    """An explorer loaded from the shared seeded sandbox (read-only: never apply with it)."""
    explorer = SourceExplorer(session)
    assert explorer.wait(60), "loading did not finish"
    assert explorer.error.value == ""
    return explorer


@pytest.fixture
def fresh_explorer(fresh_session) -> SourceExplorer:
    """An explorer loaded from ``fresh_sandbox`` (writable)."""
    explorer = SourceExplorer(fresh_session)
    assert explorer.wait(60), "loading did not finish"
    assert explorer.error.value == ""
    return explorer
