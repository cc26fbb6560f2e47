"""The detach kind: detach a source from its customer. Stripe consumes it, for good.

A detach consumes a source, so the toolkit never detaches one that is already consumed, not
attached, or a receiver still holding money its customer sent (neither charged nor returned): that
money would be stranded. plan_detach refuses such rows (:func:`detach_refusal`), and apply checks
the same rule again against the state read just before each DELETE, so money that arrives after
the plan is never detached with it.

>>> detach_refusal("cus_1", "chargeable", (50000, "usd"))
'still holds 500.00 USD the customer sent (neither charged nor returned): refund it first, detaching would strand it'
>>> DetachChange().drift({"customer": "cus_1"}, {"customer": "cus_2", "status": "chargeable"})
'now attached to cus_2, plan expected cus_1'
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pandas as pd

from toolkit.changes.kinds.base import ChangeKind, Reread, SourceState, Written, customer_of
from toolkit.changes.rows import CUSTOMER_ID, PlanRow, id_problem
from toolkit.changes.text import blank, text_or_none
from toolkit.errors import Cancelled, NotFoundError, StripeRequestError
from toolkit.money import format_money, unapplied
from toolkit.session.protocol import SessionLike

__all__ = [
    "IRREVERSIBLE_NOTE",
    "DetachChange",
    "detach_refusal",
    "held_money",
    "money_refusal",
    "receiver_unapplied",
]

IRREVERSIBLE_NOTE = (
    "Detaching cannot be undone: Stripe marks a detached source consumed, and it can never be "
    "charged or attached again."
)
#: The receiver columns of the load_sources frame.
_RECEIVER = ("receiver_amount_received", "receiver_amount_charged", "receiver_amount_returned")


# -- the money a receiver holds -------------------------------------------------------------------
def receiver_unapplied(source: Mapping[str, Any]) -> tuple[int, str] | None:
    """The money a receiver (a source as Stripe sends it) holds that the customer sent and that
    was neither charged nor returned: ``(minor units, currency)``, or None when there is none (or
    it is not a receiver). The amount is :func:`toolkit.money.unapplied`, the one rule.

    >>> receiver_unapplied({"currency": "usd", "receiver": {"amount_received": 50000,
    ...                     "amount_charged": 0, "amount_returned": 0}})
    (50000, 'usd')
    """
    receiver = source.get("receiver")
    if not isinstance(receiver, Mapping):
        return None
    left = unapplied(
        [receiver.get("amount_received")],
        [receiver.get("amount_charged")],
        [receiver.get("amount_returned")],
    ).iloc[0]
    return held_money(left, source.get("currency"))


def held_money(amount: Any, currency: Any) -> tuple[int, str] | None:
    """``(amount, currency)`` when ``amount`` (minor units, maybe unknown) is money held, else None.

    >>> held_money(0, "usd"), held_money(pd.NA, "usd"), held_money(12, "usd")
    (None, None, (12, 'usd'))
    """
    if blank(amount) or amount <= 0 or not isinstance(currency, str):
        return None
    return int(amount), currency


def money_refusal(held: Any, verb: str = "still holds") -> str | None:
    """Why a receiver holding ``held`` money (``(amount, currency)`` or None) must not be detached.

    >>> money_refusal((224611, "usd"))
    'still holds 2,246.11 USD the customer sent (neither charged nor returned): refund it first, detaching would strand it'
    """
    if not held:
        return None
    amount, currency = held
    return (
        f"{verb} {format_money(int(amount), str(currency))} the customer sent (neither charged "
        "nor returned): refund it first, detaching would strand it"
    )


def detach_refusal(customer: Any, status: Any, held: Any) -> str | None:
    """Why a source must never be detached, or None: already consumed, not attached to a
    customer, or a receiver holding money the customer sent (``held``, see
    :func:`receiver_unapplied`). plan_detach refuses such rows and apply checks again against the
    state read just before the DELETE.

    >>> detach_refusal("cus_1", "chargeable", None) is None, detach_refusal(None, "chargeable", None)
    (True, 'not attached to a customer')
    """
    if status == "consumed":
        return "already consumed: nothing to detach"
    if not customer:
        return "not attached to a customer"
    return money_refusal(held)


# -- the kind -------------------------------------------------------------------------------------
class DetachChange(ChangeKind):
    """Detach a source from its customer: Stripe consumes it, for good. Its state is the source's
    customer and status, and for a receiver holding money the customer sent, that money
    (``unapplied``: amount in minor units and currency)."""

    name = "detach"
    action = "detach"
    irreversible = True
    irreversible_note = IRREVERSIBLE_NOTE
    already = "already consumed: nothing to detach"
    undo_refusal = (
        "Detach cannot be undone: Stripe consumed the detached sources and they cannot be "
        "attached or charged again. The journal lists which ones were detached."
    )
    plan_input = "ids"
    plan_input_help = "a file of source ids (CSV with an id column, or text)"

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Customer, status and the money held: the rule that a receiver holding money is never
        detached is checked against it just before the DELETE."""
        state = {"customer": customer_of(obj), "status": obj.get("status")}
        held = receiver_unapplied(obj)
        if held is not None:
            state["unapplied"] = list(held)
        return state

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        state = self.state_of(row)
        state["customer"] = text_or_none(state["customer"])
        state["status"] = text_or_none(state["status"])
        return state

    def row_states(self, rows: list[Mapping[str, Any]], frame: pd.DataFrame | None) -> list[Any]:
        """With the receiver columns of a load_sources frame, the money each receiver holds (the
        one rule: :func:`toolkit.money.unapplied`, over the columns at once)."""
        states = super().row_states(rows, frame)
        if frame is None or not {*_RECEIVER, "currency"} <= set(frame.columns):
            return states
        left = unapplied(*(frame[c] for c in _RECEIVER)).tolist()
        for state, amount, currency in zip(states, left, frame["currency"].tolist(), strict=True):
            held = held_money(amount, currency)
            state.pop("unapplied", None)
            if held is not None:
                state["unapplied"] = list(held)
        return states

    def plan_row(self, number: int, source: SourceState, request: Any = None) -> PlanRow:
        """Refused unless attached, not consumed and holding no customer money."""
        if source.before is None:
            unknown = (
                "customer unknown: pass the frame from load_sources (with the customer column), "
                "not bare ids"
            )
            return self.refused(number, source, unknown)
        customer, status = source.before["customer"], source.before["status"]
        before = {"customer": customer, "status": status}
        after = {"customer": None, "status": "consumed"}
        reason = detach_refusal(customer, status, source.before.get("unapplied")) or id_problem(
            customer, CUSTOMER_ID, "customer", "cus_1AbC..."
        )
        if reason:
            return self.row(number, source, {}, before, before, "invalid", reason, "")
        change = f"detach from {customer} → consumed (cannot be undone)"
        params = {"customer": customer}
        return self.row(number, source, params, before, after, "ready", "", change)

    def is_done(self, row: PlanRow, current: Any) -> bool:
        return bool(current.get("status") == "consumed")

    def drift(self, row: PlanRow, current: Any) -> str | None:
        if current.get("customer") != row["customer"]:
            now = current.get("customer") or "no customer"
            return f"now attached to {now}, plan expected {row['customer']}"
        return money_refusal(current.get("unapplied"), "the receiver now holds")

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """The rules plan_detach checks (:func:`detach_refusal`: a receiver holding money is
        never detached), against the state read just before the DELETE."""
        return id_problem(row["customer"], CUSTOMER_ID, "customer", "cus_1AbC...") or (
            detach_refusal(current.get("customer"), current.get("status"), current.get("unapplied"))
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
        session: SessionLike,
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
