"""Attach and detach: which customer a source belongs to (detaching consumes it, for good).

>>> DetachChange().drift({"customer": "cus_1"}, {"customer": "cus_2", "status": "chargeable"})
'now attached to cus_2, plan expected cus_1'
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from toolkit.changes.attachment import (
    ATTACHABLE_STATUSES,
    detach_refusal,
    money_refusal,
    receiver_unapplied,
)
from toolkit.changes.kind_base import ChangeKind, Reread, Written
from toolkit.changes.rows import CUSTOMER_ID, PlanRow, id_problem
from toolkit.errors import Cancelled, NotFoundError, StripeRequestError
from toolkit.session import Session

__all__ = ["AttachChange", "DetachChange"]


def _customer_problem(row: PlanRow) -> str | None:
    """Why a row's customer is not a customer id, or None (the check the plan builders make)."""
    return id_problem(row["customer"], CUSTOMER_ID, "customer", "cus_1AbC...")


class _CustomerChange(ChangeKind):
    """Attach and detach: which customer a source belongs to, and its status."""

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        customer = obj.get("customer")
        if isinstance(customer, Mapping):
            customer = customer.get("id")
        return {"customer": customer, "status": obj.get("status")}


class AttachChange(_CustomerChange):
    """Attach a chargeable or pending source to a customer."""

    name = "attach"
    action = "attach"
    reads_by_customer = False  # the row's customer is where it goes, not where it is
    undo_refusal = (
        "Attach is not undone automatically: detaching would consume the sources for good. "
        "If you mean it, build plan_detach(...) for them and review it."
    )

    def is_done(self, row: PlanRow, current: Any) -> bool:
        return current.get("customer") == row["customer"]

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
        bad_customer = _customer_problem(row)
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
        session: Session,
        row: PlanRow,
        key: str,
        cancel: threading.Event,
        reread: Reread,
    ) -> Written:
        answer = session.attach_source(
            str(row["customer"]), str(row["source"]), idempotency_key=key, cancel=cancel
        )
        return Written(self.state_of(answer.body), answer.request_id, "", answer.replayed)


class DetachChange(_CustomerChange):
    """Detach a source from its customer: Stripe consumes it, for good."""

    name = "detach"
    action = "detach"
    irreversible = True
    already = "already consumed: nothing to detach"
    undo_refusal = (
        "Detach cannot be undone: Stripe consumed the detached sources and they cannot be "
        "attached or charged again. The journal lists which ones were detached."
    )

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Customer and status, and for a receiver holding money the customer sent, that money
        (``unapplied``: amount in minor units and currency): the rule that a receiver holding
        money is never detached is checked against it just before the DELETE."""
        state = super().state_of(obj)
        held = receiver_unapplied(obj)
        if held is not None:
            state["unapplied"] = list(held)
        return state

    def is_done(self, row: PlanRow, current: Any) -> bool:
        return current.get("status") == "consumed"

    def drift(self, row: PlanRow, current: Any) -> str | None:
        if current.get("customer") != row["customer"]:
            now = current.get("customer") or "no customer"
            return f"now attached to {now}, plan expected {row['customer']}"
        return money_refusal(current.get("unapplied"), "the receiver now holds")

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """The rules plan_detach checks (:func:`~toolkit.changes.rules.detach_refusal`: a
        receiver holding money is never detached), against the state read just before the
        DELETE."""
        return _customer_problem(row) or detach_refusal(
            current.get("customer"), current.get("status"), current.get("unapplied")
        )

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if (
            isinstance(params, Mapping)
            and set(params) == {"customer"}
            and params["customer"] == row.get("customer")
        ):
            return None
        return "a detach row names only its own customer"

    def write(
        self,
        session: Session,
        row: PlanRow,
        key: str,
        cancel: threading.Event,
        reread: Reread,
    ) -> Written:
        """DELETE takes no idempotency key: retry only after re-reading the source."""
        source, customer = str(row["source"]), str(row["customer"])
        last: StripeRequestError | None = None
        for attempt in range(4):
            try:
                answer = session.detach_source(customer, source, cancel=cancel)
                state = self.state_of(answer.body)
                state["customer"] = None
                return Written(state, answer.request_id, "")
            except StripeRequestError as exc:
                if not (exc.uncertain or isinstance(exc, NotFoundError)):
                    raise
                last = exc
            current = reread(source)  # did the lost or refused request land?
            if current.get("status") == "consumed":
                message = f"confirmed detached by re-read after {last.detail}"
                return Written({"customer": None, "status": "consumed"}, None, message)
            if isinstance(last, NotFoundError) or current.get("customer") != customer:
                raise last
            if cancel.wait(min(2.0, 0.2 * 2**attempt)):
                raise Cancelled()
        assert last is not None
        raise last
