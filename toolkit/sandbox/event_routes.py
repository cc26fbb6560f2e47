"""``GET /v1/events`` and ``GET /v1/events/{id}`` over a data set's :class:`EventLog`.

Example::

    body = list_events(ds, {"type": "customer.source.*", "limit": 100})
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.forms import ANY, BOOL, EXPAND, INT, STR, as_int, validate
from toolkit.sandbox.pagination import list_index, paginate
from toolkit.sandbox.params import cursors_of, expand_of, limit_of
from toolkit.sandbox.store import DataSet, dumps

__all__ = ["SPEC_LIST_EVENTS", "list_events", "retrieve_event"]

_CREATED = {"gt": INT, "gte": INT, "lt": INT, "lte": INT}
SPEC_LIST_EVENTS = {
    "limit": INT,
    "starting_after": STR,
    "ending_before": STR,
    "expand": EXPAND,
    "created": ANY,
    "type": STR,
    "types": EXPAND,  # a list of strings
    "delivery_success": BOOL,
}


def _created(value: Any) -> dict[str, int]:
    if isinstance(value, str):  # created=<unix time>: exactly that second
        exact = as_int(value, "created")
        return {"gte": exact, "lte": exact}
    if isinstance(value, dict):
        return validate(value, _CREATED, None, "created")
    raise ApiError.invalid("Invalid hash: created", "created")


def list_events(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/events: the last 30 days, newest first, filtered by type(s) and created."""
    expand_of(params, ())
    after, before = cursors_of(params)
    if "created" in params:
        params = {**params, "created": _created(params["created"])}
    events = ds.events.matching(params)
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
