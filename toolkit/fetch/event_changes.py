"""What Stripe's events since a snapshot say about its sources, and which sources a new load
would reach.

An event only says that something happened to a source, never what a new load would show: that
is read back (``GET /v1/sources/{id}``) and judged from the state itself, in
:func:`reaches`. The events add the two facts a source does not carry: its customer was deleted
(``customer.deleted``), and it was detached (``customer.source.deleted``; a detached source is
``consumed`` like one consumed by a charge while still attached, so its status cannot tell).
Neither depends on the order of the events, so events of the same second need no tie rule.

>>> events = [
...     {"type": "source.transaction.created", "created": 3, "data": {"object": {"source": "src_1"}}},
...     {"type": "customer.source.deleted", "created": 2,
...      "data": {"object": {"id": "src_1", "object": "source", "customer": "cus_1"}}},
...     {"type": "customer.source.created", "created": 1,
...      "data": {"object": {"id": "src_2", "object": "source", "customer": "cus_1"}}},
... ]
>>> changes = changed_objects(events)
>>> changes.named, sorted(changes.detached), changes.attached, changes.newest
({'src_2': 'customer.source.created', 'src_1': 'source.transaction.created'}, ['src_1'], {'src_2': 'cus_1'}, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.fetch.customer_sources import is_source

__all__ = ["REFRESH_EVENT_TYPES", "Changes", "changed_objects", "reaches"]

#: The event types a refresh reads, in one list (Stripe's ``types`` takes up to 20): every event
#: that names a source whose row may have changed, a deleted customer, and the cash balance
#: events a retirement audit follows. ``customer.source.expiring`` is left out: a card about to
#: expire changes no field of its row.
REFRESH_EVENT_TYPES: tuple[str, ...] = (
    "customer.source.created",
    "customer.source.deleted",
    "customer.source.updated",
    "source.canceled",
    "source.chargeable",
    "source.failed",
    "source.mandate_notification",
    "source.refund_attributes_required",
    "source.transaction.created",
    "source.transaction.updated",
    "customer.deleted",
    "customer_cash_balance_transaction.created",
    "cash_balance.funds_available",
)
_CASH = ("customer_cash_balance_transaction.", "cash_balance.")


@dataclass
class Changes:
    """What the events name: ``named`` sources to read back (id -> its newest event's type),
    sources ``attached`` since (id -> customer), ``detached`` since, ``gone_customers``,
    ``cash_customers`` (their cash balance moved), and ``newest``: the ``created`` of the newest
    event, where the next refresh reads on from."""

    named: dict[str, str] = field(default_factory=dict)
    attached: dict[str, str] = field(default_factory=dict)
    detached: set[str] = field(default_factory=set)
    gone_customers: set[str] = field(default_factory=set)
    cash_customers: set[str] = field(default_factory=set)
    newest: int | None = None


def _source_of(obj: Mapping[str, Any]) -> str | None:
    """The source an event's object is or belongs to (a source, its transaction, its mandate
    notification); None for cards and bank accounts."""
    if is_source(obj):
        return str(obj["id"]) if obj.get("id") else None
    source = obj.get("source")
    if isinstance(source, Mapping):
        source = source.get("id")
    return str(source) if isinstance(source, str) and source.startswith("src_") else None


def changed_objects(events: Iterable[Mapping[str, Any]]) -> Changes:
    """What a list of events (newest first, as Stripe lists them) names."""
    listed = list(events)
    changes = Changes()
    for event in reversed(listed):  # oldest first: ``named`` ends with each source's newest type
        kind = str(event.get("type", ""))
        created = event.get("created")
        if isinstance(created, int) and (changes.newest is None or created > changes.newest):
            changes.newest = created
        obj = (event.get("data") or {}).get("object") or {}
        if kind == "customer.deleted":
            changes.gone_customers.add(str(obj.get("id")))
            continue
        if kind.startswith(_CASH):
            if obj.get("customer"):
                changes.cash_customers.add(str(obj["customer"]))
            continue
        sid = _source_of(obj)
        if sid is None:
            continue
        changes.named.pop(sid, None)
        changes.named[sid] = kind
        if kind == "customer.source.created" and obj.get("customer"):
            changes.attached[sid] = str(obj["customer"])
        elif kind == "customer.source.deleted":
            changes.detached.add(sid)
    return changes


def reaches(
    src: Mapping[str, Any],
    changes: Changes,
    *,
    in_snapshot: bool,
    customers: set[str] | None,
) -> bool:
    """Would a load through customers reach ``src`` (a source as read back now)? Only when it
    hangs off a customer that still exists (and is one of ``customers``, for a load of some
    customers), and is still in that customer's list: not detached since the snapshot (a
    detach is final: a consumed source cannot be attached again), and either not ``consumed``
    (a detached source always is), or in the snapshot, or attached since.

    >>> src = {"id": "src_1", "customer": "cus_1", "status": "consumed"}
    >>> reaches(src, Changes(), in_snapshot=True, customers=None)
    True
    >>> reaches(src, Changes(detached={"src_1"}), in_snapshot=True, customers=None)
    False
    >>> reaches(src, Changes(), in_snapshot=False, customers=None)
    False
    >>> reaches(src, Changes(gone_customers={"cus_1"}), in_snapshot=True, customers=None)
    False
    """
    customer = src.get("customer")
    if not isinstance(customer, str) or not customer or customer in changes.gone_customers:
        return False
    if customers is not None and customer not in customers:
        return False
    sid = str(src.get("id"))
    if sid in changes.detached:
        return False
    return src.get("status") != "consumed" or in_snapshot or sid in changes.attached
