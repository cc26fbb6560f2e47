"""Stripe's events as the fetch wing reads them: where a load stands in the event stream, and the
events of some types since then.

A load records the ``created`` and id of the newest event of the types a refresh follows when it
starts (:func:`event_position`, one request), in Stripe's own clock, so that a later refresh asks
for the events since then without trusting this machine's clock, and stops at that event. An account with no events yet (or a key that may not read them)
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

__all__ = ["MAX_TYPES", "event_mark", "event_position", "iter_events"]

MAX_TYPES = 20  # Stripe's ``types`` filter of GET /v1/events takes at most 20 exact types


def event_mark(session: SessionLike) -> int | None:
    """The ``created`` of the account's newest event (None: no events, or not readable)."""
    return event_position(session)[0]


def event_position(
    session: SessionLike, types: Sequence[str] | None = None
) -> tuple[int | None, str | None]:
    """The ``created`` and id of the account's newest event (of ``types``, when given), in one
    read; ``(None, None)``: no such event, or events not readable. A load records both: a
    refresh asks for the events since that second and stops at that event, since the load
    already saw it and everything older (events of the same second listed after it included).

    >>> created, seen = event_position(session)
    >>> created is None or (isinstance(created, int) and seen.startswith("evt_"))
    True
    """
    params: dict[str, Any] = {"limit": 1}
    if types:
        params["types"] = list(types)
    try:
        page = session.list_events(params)
    except StripeRequestError:  # a restricted key without events: the refresh reads 30 days
        return None, None
    data = page.get("data") or []
    if not data:
        return None, None
    created, seen = data[0].get("created"), data[0].get("id")
    return (int(created) if isinstance(created, int) else None), (
        seen if isinstance(seen, str) else None
    )


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
