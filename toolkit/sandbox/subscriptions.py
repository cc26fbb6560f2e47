"""Subscriptions, their items and the prices (and legacy plans) they bill, shaped as stripe-python
16's ``Subscription``, ``SubscriptionItem``, ``Price`` and ``Plan``.

A subscription pays through ``default_payment_method`` or, the legacy way, ``default_source`` (a
``src_...`` Stripe is retiring), and offers the ``payment_settings.payment_method_types`` its
invoices take (``ach_credit_transfer`` until the customer migrates to Bank Transfers, then
``customer_balance``: toolkit.sandbox.billing).

>>> rng = random.Random(1)
>>> price = make_price(rng, "Pro", 4900, "usd", created=1700000000, livemode=False)
>>> sub = make_subscription(rng, customer="cus_1", price=price, start=1700000000,
...     period_start=1790000000, collection_method="send_invoice", livemode=False)
>>> sub["items"]["data"][0]["price"]["unit_amount"], sub["days_until_due"]
(4900, 30)
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from toolkit.sandbox.objects import rand_id

__all__ = ["add_months", "make_price", "make_subscription"]


def add_months(ts: int, months: int) -> int:
    """``ts`` moved by whole months (the day clamped to the month's length), as Stripe bills.

    >>> datetime.fromtimestamp(add_months(1793491200, 2), UTC).date().isoformat()
    '2027-01-01'
    """
    d = datetime.fromtimestamp(ts, UTC)
    month0 = d.month - 1 + months
    year, month = d.year + month0 // 12, month0 % 12 + 1
    day = d.day
    while True:
        try:
            return int(d.replace(year=year, month=month, day=day).timestamp())
        except ValueError:
            day -= 1


def make_price(
    rng: random.Random,
    name: str,
    amount: int,
    currency: str,
    *,
    created: int,
    livemode: bool,
    recurring: bool = True,
) -> dict[str, Any]:
    """A ``price`` (monthly when ``recurring``) of a product named ``name``."""
    return {
        "id": rand_id(rng, "price_"),
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": livemode,
        "lookup_key": None,
        "metadata": {},
        "nickname": name,
        "product": rand_id(rng, "prod_", 14),
        "recurring": {
            "interval": "month",
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
        if recurring
        else None,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
    }


def _plan(price: dict[str, Any]) -> dict[str, Any]:
    """The legacy ``plan`` view of a recurring price (same id, as Stripe shows it)."""
    return {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": "month",
        "interval_count": 1,
        "livemode": price["livemode"],
        "metadata": {},
        "meter": None,
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def make_subscription(
    rng: random.Random,
    *,
    customer: str,
    price: dict[str, Any],
    start: int,
    period_start: int,
    collection_method: str,
    livemode: bool,
    status: str = "active",
    ended_at: int | None = None,
    default_source: str | None = None,
    default_payment_method: str | None = None,
    payment_method_types: list[str] | None = None,
) -> dict[str, Any]:
    """A monthly subscription to ``price`` started at ``start``, in the period beginning at
    ``period_start`` (canceled ones end at ``ended_at``)."""
    sid = rand_id(rng, "sub_")
    item: dict[str, Any] = {
        "id": rand_id(rng, "si_", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": start,
        "current_period_end": add_months(period_start, 1),
        "current_period_start": period_start,
        "discounts": [],
        "metadata": {},
        "plan": _plan(price),
        "price": price,
        "quantity": 1,
        "subscription": sid,
        "tax_rates": [],
    }
    return {
        "id": sid,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": start,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic", "updated_at": None},
        "billing_schedules": [],
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": ended_at,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if ended_at else None,
        },
        "collection_method": collection_method,
        "created": start,
        "currency": price["currency"],
        "customer": customer,
        "customer_account": None,
        "days_until_due": 30 if collection_method == "send_invoice" else None,
        "default_payment_method": default_payment_method,
        "default_source": default_source,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "ended_at": ended_at,
        "invoice_settings": {
            "account_tax_ids": None,
            "custom_fields": None,
            "description": None,
            "footer": None,
            "issuer": {"type": "self"},
        },
        "items": {
            "object": "list",
            "data": [item],
            "has_more": False,
            "total_count": 1,
            "url": f"/v1/subscription_items?subscription={sid}",
        },
        "latest_invoice": None,
        "livemode": livemode,
        "managed_payments": None,
        "metadata": {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": payment_method_types,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": start,
        "status": status,
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }
