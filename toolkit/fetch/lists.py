"""Walking one Stripe list: page after page with ``starting_after``, while ``has_more``.

The one place the toolkit follows Stripe's cursor (``has_more`` / ``starting_after``): any typed
list call of the session (``session.list_events``, ``session.list_payment_methods``...) is walked
with :func:`iter_pages` (a page's objects at a time) or :func:`iter_list` (one object at a time).

>>> [e["type"] for e in iter_list(session.list_events, params={"limit": 2})][:1] != ["x"]
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["PAGE_LIMIT", "iter_list", "iter_pages"]

#: Stripe's largest page.
PAGE_LIMIT = 100


def iter_pages(
    read: Callable[..., dict[str, Any]],
    *args: Any,
    params: dict[str, Any] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The objects of each page of one list, in Stripe's order: ``read(*args, params,
    cancel=cancel)`` is one typed list call of the session; ``params`` its filters (``limit``
    100 unless given). Stops after the last page (``has_more`` false, or an empty page)."""
    query: dict[str, Any] = {"limit": PAGE_LIMIT, **(params or {})}
    while True:
        page = read(*args, query, cancel=cancel)
        data = page.get("data") or []
        yield data
        if not page.get("has_more") or not data:
            return
        query = {**query, "starting_after": data[-1]["id"]}


def iter_list(
    read: Callable[..., dict[str, Any]],
    *args: Any,
    params: dict[str, Any] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """Every object of one list, page after page (see :func:`iter_pages`)."""
    for data in iter_pages(read, *args, params=params, cancel=cancel):
        yield from data
