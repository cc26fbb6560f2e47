"""First rows at once (issue 27): the explorer shows the rows of the first answer while the load
goes on, the selection made meanwhile is kept, and the final frame is load_sources'."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pandas as pd
import pytest

import toolkit
from toolkit.sandbox import Sandbox
from toolkit.widgets import SourceExplorer

KEY = "sk_test_" + "Str3am" * 4


@pytest.fixture(scope="module")
def slow() -> Iterator[Sandbox]:
    """Eight customer pages, each answer 0.25 s late: a load of several seconds."""
    with Sandbox(seed=21, customers=800) as box:
        box.set_faults(latency=0.25)
        yield box


def test_load_sources_hands_on_rows_as_they_arrive(slow: Sandbox) -> None:
    session = toolkit.connect(KEY, api_base=slow.url, quiet=True)
    seen: list[tuple[float, int]] = []
    start = time.monotonic()
    df = toolkit.load_sources(
        session, progress=False, on_rows=lambda rows: seen.append((time.monotonic(), len(rows)))
    )
    took = time.monotonic() - start
    assert sum(n for _, n in seen) == len(df) and len(seen) >= 2
    first = seen[0][0] - start
    assert first < took / 2, (first, took)  # the first rows long before the end
    again = toolkit.load_sources(session, progress=False)
    pd.testing.assert_frame_equal(df, again)  # handing rows on changes nothing in the frame


def test_the_explorer_shows_the_first_rows_before_the_load_ends(slow: Sandbox) -> None:
    session = toolkit.connect(KEY, api_base=slow.url, quiet=True)
    explorer = SourceExplorer(session)
    deadline = time.monotonic() + 30
    while not len(explorer.shown) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert explorer.worker.running, "the first rows came only when the load had ended"
    assert "loading:" in explorer.header.value and len(explorer.shown) > 0
    early = str(explorer.frame["id"].iloc[0])
    explorer.select([early])  # chosen while the rest is still arriving
    versions = explorer.data_version
    assert explorer.wait(60)
    whole = toolkit.load_sources(session, progress=False)
    assert explorer.frame["id"].tolist() == whole["id"].tolist()
    assert explorer.selected_ids == [early] and "loading:" not in explorer.header.value
    assert explorer.data_version == versions + 1  # one new version: the whole load


def test_a_reload_on_the_sandbox_can_be_told_apart() -> None:
    """The sandbox's data clock stands still (runs are reproducible), so the header also says
    when this computer read it: two reloads show two times (issue 28)."""
    session = toolkit.connect(quiet=True)  # the embedded sandbox, sandbox mode
    try:
        explorer = SourceExplorer(session)
        assert explorer.wait(60)
        first = explorer.header.value
        assert "(the sandbox's clock), read at" in first
        time.sleep(1.1)
        assert explorer.reload() and explorer.wait(60)
        assert explorer.header.value != first
    finally:
        session.close()


def test_a_reload_keeps_a_selection_whose_rows_arrive_late(slow: Sandbox) -> None:
    """While a reload streams in, rows not arrived yet stay selected (the first answer's rows
    once replaced the frame, and the selection of every later row was dropped)."""
    session = toolkit.connect(KEY, api_base=slow.url, quiet=True)
    explorer = SourceExplorer(session)
    assert explorer.wait(60)
    explorer.select_all()
    every = set(explorer.selected_ids)
    assert explorer.reload()
    deadline = time.monotonic() + 30
    while "loading:" not in explorer.header.value and time.monotonic() < deadline:
        time.sleep(0.02)
    assert explorer.worker.running and len(explorer.frame) < len(every)
    assert explorer.chosen == every  # rows still to come are still selected
    assert explorer.wait(60)
    assert set(explorer.selected_ids) == every
