"""The attach kind: attach a chargeable or pending source to a customer.

Stripe attaches only chargeable or pending sources (:data:`ATTACHABLE_STATUSES`), and a source
belongs to one customer. An attach is not undone automatically: detaching would consume the
source for good.

>>> AttachChange().precheck({"customer": "cus_1"}, {"customer": None, "status": "consumed"})
'status is consumed: Stripe attaches only chargeable or pending sources'
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from toolkit.changes.kinds.base import ChangeKind, Reread, SourceState, Written, customer_of
from toolkit.changes.rows import CUSTOMER_ID, PlanRow, id_problem
from toolkit.changes.text import text_or_none
from toolkit.session.protocol import SessionLike

__all__ = ["ATTACHABLE_STATUSES", "AttachChange"]

#: Statuses a source must have for Stripe to attach it to a customer.
ATTACHABLE_STATUSES = ("chargeable", "pending")


class AttachChange(ChangeKind):
    """Attach a chargeable or pending source to a customer. Its state is the source's customer
    and status; a plan row's request is the customer to attach to."""

    name = "attach"
    action = "attach"
    reads_by_customer = False  # the row's customer is where it goes, not where it is
    undo_refusal = (
        "Attach is not undone automatically: detaching would consume the sources for good. "
        "If you mean it, build plan_detach(...) for them and review it."
    )

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return {"customer": customer_of(obj), "status": obj.get("status")}

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "customer": text_or_none(customer_of(row)),
            "status": text_or_none(row.get("status")),
        }

    def plan_row(self, number: int, source: SourceState, request: str) -> PlanRow:
        """Attach to the customer ``request``: a no-op when already attached to it; refused when
        its status is not attachable or it is attached to another customer."""
        customer, before = request, source.before
        params = {"source": source.id}
        if before is None:
            change = f"attach to {customer} (current state unknown)"
            after = {"customer": customer}
            return self.row(number, source, params, None, after, "ready", "", change, customer)
        status = before["status"]
        before = {"customer": before["customer"], "status": status}
        after = {"customer": customer, "status": status}
        if before["customer"] == customer:
            reason = f"already attached to {customer}"
            return self.row(
                number, source, {}, before, after, "noop", reason, "no change", customer
            )
        if status not in ATTACHABLE_STATUSES:
            reason = f"status is {status}: Stripe attaches only chargeable or pending sources"
            return self.row(number, source, {}, before, after, "invalid", reason, "", customer)
        if before["customer"]:
            reason = (
                f"already attached to {before['customer']}: a source belongs to one customer "
                "(detaching it would consume it)"
            )
            return self.row(number, source, {}, before, after, "invalid", reason, "", customer)
        change = f"attach to {customer}"
        return self.row(number, source, params, before, after, "ready", "", change, customer)

    def is_done(self, row: PlanRow, current: Any) -> bool:
        return bool(current.get("customer") == row["customer"])

    def drift(self, row: PlanRow, current: Any) -> str | None:
        before = row["before"]
        if before is None:
            return None
        if current.get("customer") != before.get("customer"):
            return f"customer is {current.get('customer')}, plan expected {before.get('customer')}"
        if current.get("status") != before.get("status"):
            return f"status is {current.get('status')}, plan expected {before.get('status')}"
        return None

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        bad_customer = id_problem(row["customer"], CUSTOMER_ID, "customer", "cus_1AbC...")
        if bad_customer:
            return bad_customer
        if current.get("status") not in ATTACHABLE_STATUSES:
            return (
                f"status is {current.get('status')}: Stripe attaches only chargeable or "
                "pending sources"
            )
        if current.get("customer"):
            return f"already attached to {current.get('customer')}"
        return None

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        if row.get("params") == {"source": row.get("source")}:
            return None
        return "an attach row sends only its own source"

    def write(
        self,
        session: SessionLike,
        row: PlanRow,
        key: str,
        cancel: threading.Event,
        reread: Reread,
    ) -> Written:
        answer = session.attach_source(
            str(row["customer"]), str(row["source"]), idempotency_key=key, cancel=cancel
        )
        return Written(self.state_of(answer.body), answer.request_id, "", answer.replayed)
