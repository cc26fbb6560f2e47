"""A slow server (issue 27): the load's first full page goes out with a short probe beside it,
and the windows its continuations need are carved at once. Counted from the sandbox's log, not
timed."""

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
        pages = [  # in the order of arrival (the log is in the order of the answers)
            int(e.params.get("limit", 10))
            for e in sorted(box.requests, key=lambda e: e.time)
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


@pytest.mark.parametrize(("latency", "first"), [(0.0, [100]), (0.1, [FIRST_PAGE, 100])])
def test_a_probe_goes_beside_the_first_page_only_when_the_server_is_slow(
    latency: float, first: list[int]
) -> None:
    pages, loaded, expected = _load(latency)
    assert sorted(pages[: len(first)]) == first  # sent together: either may arrive first
    assert all(limit == 100 for limit in pages[len(first) :])
    assert loaded == expected


def test_a_slow_server_gets_the_windows_it_needs_in_one_go() -> None:
    """Issue 27's latency (80 ms + 2 ms per KiB: ~0.6 s a page of 100 customers): the first
    full page goes out with the probe, and after the probe the windows the continuations need
    go out together, while that full page is still on its way."""
    limits = Limits.profile("live", base_latency=0.08, latency_per_kb=0.002)
    with Sandbox(seed=5, customers=1000, limits=limits) as box:
        session = toolkit.connect(KEY, api_base=box.url, limits={"global": 100}, quiet=True)
        box.clear_log()
        toolkit.load_sources(session, progress=False)
        session.close()
        pages = sorted(  # the log is in the order of the answers
            e.time
            for e in box.requests
            if e.path == "/v1/customers" and "test_clock" not in e.params
        )
    assert pages[1] - pages[0] < 0.05  # the probe and the first full page, together
    after_probe = [t for t in pages[2:] if t - pages[2] < 0.05]
    assert len(after_probe) == 3  # was 1: one new window a round trip
    assert pages[2] - pages[0] < 0.4  # before the first full page (~0.6 s) answered
