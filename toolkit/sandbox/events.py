"""The events of one data set, as ``GET /v1/events`` lists them: Stripe's shape, filters,
cursors and 30 days of retention.

Every write the sandbox serves (and every admin deposit or bank transfer) records an event, the
way Stripe does for the same change:

- attach: ``customer.source.created``; detach: ``customer.source.deleted`` (the consumed
  source); an update of an attached source: ``customer.source.updated`` with
  ``previous_attributes`` (Stripe has no event for an update of an unattached source);
- money on a receiver: ``source.transaction.created`` (the transaction), and
  ``source.chargeable`` when a pending receiver gets its first funds;
- deleting a customer: ``customer.deleted`` (Stripe's docs are silent on whether each attached
  source gets its own event too; the sandbox sends only this one, the harder case for a reader);
- a bank transfer into a cash balance: ``customer_cash_balance_transaction.created`` and
  ``cash_balance.funds_available``.

``type`` takes one type or a ``prefix.*`` wildcard, ``types`` up to 20 exact types (not both),
``created`` a timestamp or a ``gt/gte/lt/lte`` hash; the list is newest first. Events older than
30 days (by the sandbox's clock) are gone, as in Stripe.

Ties: ``created`` counts whole seconds, and many events share one. Stripe's docs say only that the
list is in reverse chronological order; the sandbox lists events of the same second in the reverse
of the order they happened, whatever the filter, on every page (the plausible reading, and
deterministic: a cursor always continues where the page left off).

``silent`` names types the log does not record: the profile ``Sandbox(source_update_events=False)``
silences ``customer.source.updated``, which Stripe's docs do not promise for a source update, so
that a reader is tested without it.

>>> log = EventLog(now=lambda: 1_800_000_000.0, seed="doc")
>>> event = log.emit("customer.source.created", {"id": "src_1", "object": "source"})
>>> [e["type"] for e in log.matching({"type": "customer.source.*"})]
['customer.source.created']
>>> log.silent = frozenset({"customer.source.updated"})
>>> log.emit("customer.source.updated", {"id": "src_1", "object": "source"}) is None
True
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.objects import rand_id
from toolkit.sandbox.pagination import in_created

__all__ = ["EVENT_TYPES", "RETENTION", "EventLog"]

RETENTION = 30 * 86400  # Stripe lists events of the last 30 days
MAX_TYPES = 20
#: The types the sandbox emits.
EVENT_TYPES = (
    "cash_balance.funds_available",
    "customer.deleted",
    "customer.source.created",
    "customer.source.deleted",
    "customer.source.updated",
    "customer_cash_balance_transaction.created",
    "source.chargeable",
    "source.transaction.created",
)


class EventLog:
    """The events of one data set, oldest first; ``now`` is the sandbox's clock."""

    def __init__(
        self,
        *,
        now: Callable[[], float],
        seed: str,
        account: str | None = None,
        livemode: bool = False,
        api_version: str = "2024-06-20",
    ) -> None:
        self.now = now
        self.account = account
        self.livemode = livemode
        self.api_version = api_version
        self.rng = random.Random(seed + ":events")
        self.events: list[dict[str, Any]] = []
        #: The request being served (set by the dispatcher), named in each event it causes.
        self.request: dict[str, Any] | None = None
        #: Types not recorded (the sandbox's profile without ``customer.source.updated``).
        self.silent: frozenset[str] = frozenset()

    def emit(
        self,
        kind: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Record an event of ``kind`` about (a copy of) ``obj``; returns it (None: a ``silent``
        type, not recorded)."""
        if kind in self.silent:
            return None
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = copy.deepcopy(previous)
        event: dict[str, Any] = {
            "id": rand_id(self.rng, "evt_"),
            "object": "event",
            "api_version": self.api_version,
            "created": int(self.now()),
            "data": data,
            "livemode": self.livemode,
            "pending_webhooks": 0,
            "request": dict(self.request)
            if self.request
            else {"id": None, "idempotency_key": None},
            "type": kind,
        }
        if self.account:
            event["account"] = self.account
        self.events.append(event)
        return event

    def expire(self) -> None:
        """Forget the events older than 30 days."""
        cutoff = self.now() - RETENTION
        drop = 0
        while drop < len(self.events) and self.events[drop]["created"] < cutoff:
            drop += 1
        if drop:
            del self.events[:drop]

    def get(self, event_id: str) -> dict[str, Any]:
        """One event by id (Stripe's 404 once it is gone)."""
        self.expire()
        for event in self.events:
            if event["id"] == event_id:
                return event
        raise ApiError.missing("event", event_id)

    def matching(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The retained events that pass ``type`` / ``types`` / ``created``, newest first."""
        self.expire()
        accept = _type_filter(params)
        created = params.get("created") or {}
        return [
            e
            for e in reversed(self.events)
            if accept(e["type"]) and in_created(e["created"], created)
        ]


def _type_filter(params: dict[str, Any]) -> Callable[[str], bool]:
    one, many = params.get("type"), params.get("types")
    if one is not None and many is not None:
        raise ApiError.invalid(
            "You may only specify one of these parameters: type, types.", "types"
        )
    if many is not None:
        if not isinstance(many, list) or not many:
            raise ApiError.invalid("Invalid array", "types")
        if len(many) > MAX_TYPES:
            raise ApiError.invalid(
                f"You can only filter on up to {MAX_TYPES} types at a time.", "types"
            )
        if any("*" in t for t in many):
            raise ApiError.invalid("Wildcards are not allowed in `types`; use `type`.", "types")
        wanted = set(many)
        return lambda kind: kind in wanted
    if one is None:
        return lambda kind: True
    if one.endswith(".*"):
        prefix = one[:-1]
        return lambda kind: kind.startswith(prefix)
    return lambda kind: kind == one
