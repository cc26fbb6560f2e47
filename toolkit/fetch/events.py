"""Stripe's events as the fetch wing reads them: where a load stands in the event stream, and the
events of some types since then.

A load records the ``created`` of the newest event when it starts (:func:`event_mark`, one
request), in Stripe's own clock, so that a later refresh asks for the events since then without
trusting this machine's clock. An account with no events yet (or a key that may not read them)
records none; a refresh then reads every event Stripe still keeps (30 days).

>>> event_mark(session) is None or isinstance(event_mark(session), int)
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from toolkit.errors import StripeRequestError
from toolkit.session import Session

__all__ = ["event_mark", "iter_events"]


def event_mark(session: Session) -> int | None:
    """The ``created`` of the account's newest event (None: no events, or not readable)."""
    try:
        page = session.list_events({"limit": 1})
    except StripeRequestError:  # a restricted key without events: the refresh reads 30 days
        return None
    data = page.get("data") or []
    return int(data[0]["created"]) if data else None


def iter_events(
    session: Session,
    queries: tuple[dict[str, Any], ...],
    since: int | None,
    on_page: Callable[[int], None],
) -> Iterator[dict[str, Any]]:
    """Every event of each query (a ``type`` or ``types`` filter) created at or after ``since``,
    newest first per query; ``on_page(events_on_it)`` after each page.

    >>> list(iter_events(session, ({"type": "customer.deleted"},), 2_000_000_000, print))
    0
    []
    """
    for query in queries:
        params: dict[str, Any] = {**query, "limit": 100}
        if since is not None:
            params["created"] = {"gte": since}
        while True:
            page = session.list_events(params)
            data = page.get("data") or []
            on_page(len(data))
            yield from data
            if not page.get("has_more") or not data:
                break
            params = {**params, "starting_after": data[-1]["id"]}
