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

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from toolkit.errors import StripeRequestError
from toolkit.fetch.lists import iter_pages
from toolkit.session.protocol import SessionLike

__all__ = ["MAX_TYPES", "event_mark", "iter_events"]

MAX_TYPES = 20  # Stripe's ``types`` filter of GET /v1/events takes at most 20 exact types


def event_mark(session: SessionLike) -> int | None:
    """The ``created`` of the account's newest event (None: no events, or not readable)."""
    try:
        page = session.list_events({"limit": 1})
    except StripeRequestError:  # a restricted key without events: the refresh reads 30 days
        return None
    data = page.get("data") or []
    return int(data[0]["created"]) if data else None


def iter_events(
    session: SessionLike,
    types: Sequence[str],
    since: int | None,
    on_page: Callable[[int], None],
) -> Iterator[dict[str, Any]]:
    """Every event of ``types`` (one list: Stripe's ``types`` filter takes up to 20 exact types)
    created at or after ``since``, newest first, as Stripe lists them; ``on_page(events_on_it)``
    after each page. One list rather than one per type: fewer pages, and events of the same
    second keep Stripe's order across types.

    >>> list(iter_events(session, ["customer.deleted"], 2_000_000_000, print))
    0
    []
    """
    if not 1 <= len(types) <= MAX_TYPES:
        raise ValueError(f"Stripe filters on 1 to {MAX_TYPES} event types, not {len(types)}")
    params: dict[str, Any] = {"types": list(types)}
    if since is not None:
        params["created"] = {"gte": since}
    for data in iter_pages(session.list_events, params=params):
        on_page(len(data))
        yield from data
