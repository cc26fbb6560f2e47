"""Which sources may be attached to a customer and which detached from one.

Stripe attaches only chargeable or pending sources. A detach consumes a source for good, so the
toolkit never detaches one that is already consumed, not attached, or a receiver still holding
money its customer sent (neither charged nor returned): that money would be stranded.
plan_detach refuses such rows, and apply checks :func:`detach_refusal` again against the state
read just before each DELETE, so money that arrives after the plan is never detached with it.

>>> detach_refusal("cus_1", "chargeable", (50000, "usd"))
'still holds 500.00 USD the customer sent (neither charged nor returned): refund it first, detaching would strand it'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.changes.rules import blank
from toolkit.money import format_money, unapplied

__all__ = [
    "ATTACHABLE_STATUSES",
    "detach_refusal",
    "held_money",
    "money_refusal",
    "receiver_unapplied",
]

#: Statuses a source must have for Stripe to attach it to a customer.
ATTACHABLE_STATUSES = ("chargeable", "pending")


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
