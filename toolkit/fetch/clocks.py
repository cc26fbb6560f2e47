"""Customers on a test clock: Stripe leaves them out of ``GET /v1/customers`` unless
``test_clock`` names their clock, so a test-mode account-wide load also lists the account's test
clocks and pages each clock's customers. Live mode has no test clocks.

>>> clock_page_params("clock_1", None, None, None)
{'limit': 100, 'expand': ['data.sources'], 'test_clock': 'clock_1'}
>>> clocks_apply("test", "account"), clocks_apply("live", "account"), clocks_apply("test", "ids")
(True, False, False)
"""

from __future__ import annotations

from typing import Any

from toolkit.fetch.windows import PAGE_SIZE

__all__ = ["clock_page_params", "clocks_apply", "clocks_params"]


def clocks_apply(mode: str | None, scope: str) -> bool:
    """Does a load of ``scope`` in ``mode`` need the test clocks' customers?"""
    return mode != "live" and scope in ("account", "created")


def clocks_params(after: str | None) -> dict[str, Any]:
    """``GET /v1/test_helpers/test_clocks`` params of one page."""
    params: dict[str, Any] = {"limit": PAGE_SIZE}
    if after is not None:
        params["starting_after"] = after
    return params


def clock_page_params(
    clock: str, lo: int | None, hi: int | None, after: str | None
) -> dict[str, Any]:
    """``GET /v1/customers`` params of one page of a clock's customers (created in [lo, hi))."""
    params: dict[str, Any] = {"limit": PAGE_SIZE, "expand": ["data.sources"], "test_clock": clock}
    created = {}
    if lo is not None:
        created["gte"] = lo
    if hi is not None:
        created["lt"] = hi
    if created:
        params["created"] = created
    if after is not None:
        params["starting_after"] = after
    return params
