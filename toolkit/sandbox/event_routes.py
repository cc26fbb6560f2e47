"""``GET /v1/events`` and ``GET /v1/events/{id}`` over a data set's :class:`EventLog`.

The sandbox sends no webhooks (``pending_webhooks`` is 0), so every event counts as delivered:
``delivery_success=false`` lists none. Stripe's docs do not say how events without endpoints
answer that filter; this is the plausible reading.

Example::

    body = list_events(ds, {"type": "customer.source.*", "limit": 100})
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.forms import BOOL, EXPAND, STR
from toolkit.sandbox.pagination import list_index, paginate
from toolkit.sandbox.params import LIST_CREATED, created_of, cursors_of, expand_of, limit_of
from toolkit.sandbox.store import DataSet, dumps

__all__ = ["SPEC_LIST_EVENTS", "list_events", "retrieve_event"]

SPEC_LIST_EVENTS = {
    **LIST_CREATED,
    "type": STR,
    "types": EXPAND,  # a list of strings
    "delivery_success": BOOL,
}


def list_events(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/events: the last 30 days, newest first, filtered by type(s) and created."""
    expand_of(params, ())
    after, before = cursors_of(params)
    params = {**params, "created": created_of(params)}
    # the sandbox sends no webhooks: every event counts as delivered (none has failed)
    events = [] if params.get("delivery_success") is False else ds.events.matching(params)
    ids = [e["id"] for e in events]
    by_id = {e["id"]: e for e in events}
    page, more = paginate(
        ids, 0, len(ids), list_index(ids), limit_of(params), after, before, "event", None
    )
    return ds.list_json([dumps(by_id[i]) for i in page], more, "/v1/events")


def retrieve_event(ds: DataSet, params: dict[str, Any], eid: str) -> bytes:
    """GET /v1/events/{id} (404 once it is older than 30 days)."""
    expand_of(params, ())
    return dumps(ds.events.get(eid))
