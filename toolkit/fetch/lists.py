"""Walking one Stripe list: page after page with ``starting_after``, while ``has_more``.

The one place the toolkit follows Stripe's cursor (``has_more`` / ``starting_after``): any typed
list call of the session (``session.list_events``, ``session.list_payment_methods``...) is walked
with :func:`iter_pages` (a page's objects at a time) or :func:`iter_list` (one object at a time).
A walk whose pages run side by side in the :class:`~toolkit.fetch.pool.RequestPool` takes each
next page's params from :func:`next_params` (and :func:`params_after`, :func:`restart`,
:func:`goes_on`), so a change in Stripe's paging is made here once.

>>> [e["type"] for e in iter_list(session.list_events, params={"limit": 2})][:1] != ["x"]
True
>>> next_params({"limit": 2}, {"data": [{"id": "a"}, {"id": "b"}], "has_more": True})
{'limit': 2, 'starting_after': 'b'}
>>> next_params({"limit": 2}, {"data": [{"id": "a"}], "has_more": False}) is None
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "PAGE_LIMIT",
    "cursor_of",
    "goes_on",
    "is_last",
    "iter_list",
    "iter_pages",
    "next_params",
    "params_after",
    "restart",
]

#: Stripe's largest page.
PAGE_LIMIT = 100
#: The param that carries a list's cursor.
_CURSOR = "starting_after"


def goes_on(page: dict[str, Any]) -> bool:
    """Does Stripe say the list goes on after ``page`` (``has_more``)? Also for a list embedded
    in an object (a customer's ``sources``).

    >>> goes_on({"data": [], "has_more": True}), goes_on({"data": []})
    (True, False)
    """
    return bool(page.get("has_more"))


def is_last(page: dict[str, Any]) -> bool:
    """Is ``page`` the last of its list (Stripe says no more, or it came back empty)?

    >>> is_last({"data": [], "has_more": True})
    True
    """
    return not goes_on(page) or not page.get("data")


def params_after(params: dict[str, Any], cursor: str | None) -> dict[str, Any]:
    """``params`` (a copy) of the page after the object ``cursor``; from the list's start when
    ``cursor`` is None.

    >>> params_after({"limit": 100}, "src_1"), params_after({"limit": 100, "starting_after": "src_1"}, None)
    ({'limit': 100, 'starting_after': 'src_1'}, {'limit': 100})
    """
    if cursor is None:
        return restart(params)
    return {**params, _CURSOR: cursor}


def restart(params: dict[str, Any]) -> dict[str, Any]:
    """``params`` (a copy) without their cursor: the list from its start (after a vanished
    cursor, what was seen is skipped by the caller)."""
    return {k: v for k, v in params.items() if k != _CURSOR}


def cursor_of(params: dict[str, Any] | None) -> str | None:
    """The id a page's ``params`` start after, or None (the list's first page).

    >>> cursor_of({"limit": 1, "starting_after": "cus_1"}), cursor_of(None)
    ('cus_1', None)
    """
    return (params or {}).get(_CURSOR)


def next_params(params: dict[str, Any] | None, page: dict[str, Any]) -> dict[str, Any] | None:
    """The params of the page after ``page`` (read with ``params``); None when it was the last."""
    if is_last(page):
        return None
    return params_after(dict(params or {}), page["data"][-1]["id"])


def iter_pages(
    read: Callable[..., dict[str, Any]],
    *args: Any,
    params: dict[str, Any] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """The objects of each page of one list, in Stripe's order: ``read(*args, params,
    cancel=cancel)`` is one typed list call of the session; ``params`` its filters (``limit``
    100 unless given). Stops after the last page (``has_more`` false, or an empty page)."""
    query: dict[str, Any] | None = {"limit": PAGE_LIMIT, **(params or {})}
    while query is not None:
        page = read(*args, query, cancel=cancel)
        yield page.get("data") or []
        query = next_params(query, page)


def iter_list(
    read: Callable[..., dict[str, Any]],
    *args: Any,
    params: dict[str, Any] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[dict[str, Any]]:
    """Every object of one list, page after page (see :func:`iter_pages`)."""
    for data in iter_pages(read, *args, params=params, cancel=cancel):
        yield from data
