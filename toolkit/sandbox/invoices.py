"""Invoices and their line items, shaped as stripe-python 16's ``Invoice`` and
``InvoiceLineItem`` (API versions since 2025-03-31: the subscription is named in
``parent.subscription_details``, a line's price in ``pricing.price_details``).

An invoice's money is ``amount_due`` (here its ``total``), ``amount_paid`` and
``amount_remaining``; what it takes is ``payment_settings.payment_method_types`` (``null``: the
account's invoice settings) with ``default_source`` / ``default_payment_method``; a
``send_invoice`` invoice has a ``due_date``. Its status runs draft -> open -> paid (or void,
uncollectible), with ``status_transitions`` dated.

>>> rng = random.Random(1)
>>> cus = {"id": "cus_1", "email": None, "name": "Ada", "address": None}
>>> inv = make_invoice(rng, customer=cus, number="ABC-0001", created=1790000000,
...     line=("Consulting", 25000, "usd", "price_1", "prod_1"), status="open",
...     collection_method="send_invoice", livemode=False)
>>> inv["amount_due"], inv["amount_remaining"], inv["due_date"] - inv["created"]
(25000, 25000, 2592000)
"""

from __future__ import annotations

import random
from typing import Any

from toolkit.sandbox.objects import rand_id

__all__ = ["ACCOUNT_NAME", "INVOICE_STATUSES", "make_invoice"]

ACCOUNT_NAME = "Sandbox Demo, Inc."
INVOICE_STATUSES = ("draft", "open", "paid", "uncollectible", "void")
_DAY = 86_400


def make_invoice(
    rng: random.Random,
    *,
    customer: dict[str, Any],
    number: str | None,
    created: int,
    line: tuple[str, int, str, str, str],
    status: str,
    collection_method: str,
    livemode: bool,
    subscription: dict[str, Any] | None = None,
    period: tuple[int, int] | None = None,
    payment_method_types: list[str] | None = None,
    default_source: str | None = None,
    default_payment_method: str | None = None,
) -> dict[str, Any]:
    """An invoice of one line ``(description, amount, currency, price id, product id)`` for
    ``customer``; a subscription's invoice bills ``period`` (start, end)."""
    if status not in INVOICE_STATUSES:
        raise ValueError(f"invoice status must be one of {INVOICE_STATUSES}, not {status!r}")
    description, amount, currency, price, product = line
    iid = rand_id(rng, "in_")
    start, end = period or (created, created)
    finalized = None if status == "draft" else created + 3600
    paid = status == "paid"
    sub_id = subscription["id"] if subscription else None
    item_id = subscription["items"]["data"][0]["id"] if subscription else None
    line_item: dict[str, Any] = {
        "id": "il_" + iid[3:],
        "object": "line_item",
        "amount": amount,
        "currency": currency,
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": iid,
        "livemode": livemode,
        "metadata": {},
        "parent": {
            "invoice_item_details": None
            if subscription
            else {
                "invoice_item": "ii_" + iid[3:],
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": None,
            },
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub_id,
                "subscription_item": item_id,
            }
            if subscription
            else None,
            "type": "subscription_item_details" if subscription else "invoice_item_details",
        },
        "period": {"end": end, "start": start},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": price, "product": product},
            "type": "price_details",
            "unit_amount_decimal": str(amount),
        },
        "quantity": 1,
        "quantity_decimal": "1",
        "subscription": sub_id,
        "subtotal": amount,
        "taxes": [],
    }
    secret = iid[3:][::-1]
    mode = "live" if livemode else "test"
    return {
        "id": iid,
        "object": "invoice",
        "account_country": "US",
        "account_name": ACCOUNT_NAME,
        "account_tax_ids": None,
        "amount_due": amount,
        "amount_overpaid": 0,
        "amount_paid": amount if paid else 0,
        "amount_remaining": 0 if paid or status in ("void",) else amount,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 1 if paid or collection_method == "charge_automatically" else 0,
        "attempted": paid or (status != "draft" and collection_method == "charge_automatically"),
        "auto_advance": status in ("draft", "open"),
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": created + 3600 if status == "draft" else None,
        "billing_reason": (
            "subscription_cycle" if start > subscription["start_date"] else "subscription_create"
        )
        if subscription
        else "manual",
        "collection_method": collection_method,
        "created": created,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": None,
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": default_payment_method,
        "default_source": default_source,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": created + 30 * _DAY if collection_method == "send_invoice" else None,
        "effective_at": finalized,
        "ending_balance": None if status == "draft" else 0,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None
        if status == "draft"
        else f"https://invoice.stripe.com/i/{mode}_{secret}",
        "invoice_pdf": None
        if status == "draft"
        else f"https://pay.stripe.com/invoice/{mode}_{secret}/pdf",
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "lines": {
            "object": "list",
            "data": [line_item],
            "has_more": False,
            "url": f"/v1/invoices/{iid}/lines",
        },
        "livemode": livemode,
        "metadata": {},
        "next_payment_attempt": created + 3 * _DAY
        if status == "open" and collection_method == "charge_automatically"
        else None,
        "number": number if status != "draft" else None,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {
                "metadata": {},
                "subscription": sub_id,
                "subscription_proration_date": None,
            },
            "type": "subscription_details",
        }
        if subscription
        else None,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": payment_method_types,
        },
        "period_end": end,
        "period_start": start,
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": status,
        "status_transitions": {
            "finalized_at": finalized,
            "marked_uncollectible_at": created + 45 * _DAY if status == "uncollectible" else None,
            "paid_at": created + 3 * _DAY if paid else None,
            "voided_at": created + 2 * _DAY if status == "void" else None,
        },
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "test_clock": None,
        "total": amount,
        "total_discount_amounts": [],
        "total_excluding_tax": amount,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": finalized,
    }
