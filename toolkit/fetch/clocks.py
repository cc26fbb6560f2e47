"""Customers on a test clock: Stripe leaves them out of ``GET /v1/customers`` unless
``test_clock`` names their clock, so a test-mode account-wide load also lists the account's test
clocks and pages each clock's customers. Live mode has no test clocks.

>>> clock_page_params("clock_1", None, None, None)
{'limit': 100, 'expand': ['data.sources'], 'test_clock': 'clock_1'}
>>> clocks_apply("test", "account"), clocks_apply("live", "account"), clocks_apply("test", "ids")
(True, False, False)

Listing the test clocks is extra: when it fails (a restricted key without the test clocks
permission, a Stripe-compatible server without them) a load carries on without the clocks'
customers and says so in its LoadInfo's ``test_clocks_note`` (:func:`clocks_left_out`), whatever
it loads (sources or cash balances).
"""

from __future__ import annotations

from typing import Any

from toolkit.errors import NotFoundError, StripeRequestError
from toolkit.fetch.customer_sources import customer_page_params
from toolkit.fetch.lists import params_after
from toolkit.fetch.windows import PAGE_SIZE

__all__ = ["clock_page_params", "clocks_apply", "clocks_left_out", "clocks_params"]


def clocks_apply(mode: str | None, scope: str) -> bool:
    """Does a load of ``scope`` in ``mode`` need the test clocks' customers?"""
    return mode != "live" and scope in ("account", "created")


def clocks_params(after: str | None) -> dict[str, Any]:
    """``GET /v1/test_helpers/test_clocks`` params of one page."""
    return params_after({"limit": PAGE_SIZE}, after)


def clock_page_params(
    clock: str, lo: int | None, hi: int | None, after: str | None
) -> dict[str, Any]:
    """``GET /v1/customers`` params of one page of a clock's customers (created in [lo, hi))."""
    params = customer_page_params(test_clock=clock)
    created = {}
    if lo is not None:
        created["gte"] = lo
    if hi is not None:
        created["lt"] = hi
    if created:
        params["created"] = created
    return params_after(params, after)


def clocks_left_out(exc: BaseException) -> str | None:
    """The note a load records when listing the test clocks failed with ``exc`` and it carries
    on without their customers; None when it must not carry on (not a failed request, or a
    vanished cursor, which restarts the listing).

    >>> clocks_left_out(StripeRequestError("Listing test clocks failed", detail="HTTP 403: no"))
    'customers on test clocks are not included: listing test clocks failed (HTTP 403: no)'
    """
    if not isinstance(exc, StripeRequestError):
        return None
    if isinstance(exc, NotFoundError) and exc.cursor_vanished:  # the list restarts
        return None
    return (
        "customers on test clocks are not included: listing test clocks failed "
        f"({exc.detail or exc})"
    )
