"""An account's sources, walked through its customers: customer pages with each customer's first
sources embedded, then each customer's own source list where the embedded one goes on.

The one walk shared by :func:`~toolkit.load_sources` (its reads run side by side in the
:class:`~toolkit.fetch.pool.RequestPool`) and apply's account listing
(:mod:`toolkit.changes.run.listing`), and the one place that tells a Source from the cards and
bank accounts listed beside it (:func:`is_source`).

Stripe embeds a listed customer's first 10 payment sources (``expand[]=data.sources``), Sources
among cards and bank accounts; a customer with more is continued with
``GET /v1/customers/{id}/sources?object=source`` after the last Source embedded. The paging
itself is :mod:`toolkit.fetch.lists`'.

>>> cus = {"id": "cus_1", "sources": {"data": [{"id": "card_1", "object": "card"},
...        {"id": "src_1", "object": "source"}], "has_more": True}}
>>> found, more = embedded_sources(cus)
>>> [s["id"] for s in found], more
(['src_1'], {'object': 'source', 'limit': 100, 'starting_after': 'src_1'})
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from toolkit.fetch.lists import PAGE_LIMIT, goes_on, iter_pages, next_params, params_after

__all__ = [
    "customer_page_params",
    "embedded_sources",
    "is_source",
    "iter_customer_sources",
    "more_sources",
    "sources_params",
]

Source = dict[str, Any]


def is_source(obj: Mapping[str, Any]) -> bool:
    """Is ``obj`` a Source (not a card or bank account listed beside it)?"""
    return obj.get("object") == "source"


def customer_page_params(**filters: Any) -> dict[str, Any]:
    """``GET /v1/customers`` params of a page of customers with their sources embedded;
    ``filters`` (``created``, ``test_clock``...) are added as given.

    >>> customer_page_params(test_clock="clock_1")
    {'limit': 100, 'expand': ['data.sources'], 'test_clock': 'clock_1'}
    """
    return {"limit": PAGE_LIMIT, "expand": ["data.sources"], **filters}


def sources_params(after: str | None = None) -> dict[str, Any]:
    """``GET /v1/customers/{id}/sources`` params of a customer's Sources, after the source
    ``after`` (from the start when None)."""
    return params_after({"object": "source", "limit": PAGE_LIMIT}, after)


def embedded_sources(customer: dict[str, Any]) -> tuple[list[Source], dict[str, Any] | None]:
    """The Sources embedded in a listed customer, and the params that continue its source list
    (:func:`sources_params`; from the start when nothing was embedded), or None when the
    embedded list was all of it."""
    embedded = customer.get("sources")
    if not isinstance(embedded, dict):
        return [], sources_params()
    found = [obj for obj in embedded.get("data") or () if is_source(obj)]
    if not goes_on(embedded):
        return found, None
    return found, sources_params(found[-1].get("id") if found else None)


def more_sources(
    page: dict[str, Any], params: dict[str, Any] | None
) -> tuple[list[Source], dict[str, Any] | None]:
    """The Sources of one page of a customer's source list (read with ``params``), and the
    params of its next page (None after the last)."""
    found = [obj for obj in page.get("data") or () if is_source(obj)]
    return found, next_params(params, page)


def iter_customer_sources(
    read: Callable[..., dict[str, Any]],
    customer: str,
    params: dict[str, Any] | None = None,
    *,
    cancel: threading.Event | None = None,
) -> Iterator[list[Source]]:
    """The Sources of one customer, a page at a time (``read`` is
    ``session.list_customer_sources`` or a read scheduled like it); ``params`` from
    :func:`embedded_sources` to continue after the embedded ones. A page is read only when the
    next one is asked for, so a caller stops reading by stopping to ask."""
    query = params if params is not None else sources_params()
    for data in iter_pages(read, customer, params=query, cancel=cancel):
        yield [obj for obj in data if is_source(obj)]
