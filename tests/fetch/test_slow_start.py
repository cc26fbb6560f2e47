"""A slow server (issue 27): the load starts with a short customer page and carves the windows
its continuations need at once. Counted from the sandbox's log, not timed."""

from __future__ import annotations

import pytest

import toolkit
from toolkit.fetch.windows import FIRST_PAGE
from toolkit.sandbox import Sandbox
from toolkit.sandbox.limits import Limits

KEY = "sk_test_" + "Sl0wS" * 5


def _load(latency: float) -> tuple[list[int], int, int]:
    """(limits of the customer pages in order of arrival, sources loaded, sources expected)."""
    limits = Limits.profile("live", base_latency=latency, latency_per_kb=0.0)
    with Sandbox(seed=5, customers=900, limits=limits) as box:
        session = toolkit.connect(KEY, api_base=box.url, limits={"global": 100}, quiet=True)
        box.clear_log()
        df = toolkit.load_sources(session, progress=False)
        session.close()
        pages = [
            int(e.params.get("limit", 10))
            for e in box.requests
            if e.path == "/v1/customers" and "test_clock" not in e.params
        ]
        store = box.store()
        expected = sum(
            1
            for items in store.items.values()
            for pid in items
            if store.payment_source(pid)["object"] == "source"
        )
    return pages, len(df), expected


@pytest.mark.parametrize(("latency", "first"), [(0.0, 100), (0.1, FIRST_PAGE)])
def test_the_first_page_is_short_only_when_the_server_is_slow(latency: float, first: int) -> None:
    pages, loaded, expected = _load(latency)
    assert pages[0] == first
    assert all(limit == 100 for limit in pages[1:])
    assert loaded == expected


def test_a_slow_server_gets_the_windows_it_needs_in_one_go() -> None:
    """Issue 27's latency (80 ms + 2 ms per KiB: ~0.6 s a page of 100 customers): after the
    short first page, the windows the continuations need go out together."""
    limits = Limits.profile("live", base_latency=0.08, latency_per_kb=0.002)
    with Sandbox(seed=5, customers=1000, limits=limits) as box:
        session = toolkit.connect(KEY, api_base=box.url, limits={"global": 100}, quiet=True)
        box.clear_log()
        toolkit.load_sources(session, progress=False)
        session.close()
        pages = [
            e.time
            for e in box.requests
            if e.path == "/v1/customers" and "test_clock" not in e.params
        ]
    after_first = [t for t in pages[1:] if t - pages[1] < 0.05]
    assert len(after_first) == 4  # was 2: the first window's next page and one new window
