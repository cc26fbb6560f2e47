"""PaymentMethods: what replaces a customer's sources (``GET /v1/customers/{id}/payment_methods``,
``GET /v1/payment_methods``), shaped as stripe-python 16's ``PaymentMethod``.

Each data set has one :class:`PaymentMethodBook`: the payment methods (``pm_...``) of its
customers, of the types ``card``, ``us_bank_account``, ``sepa_debit``, ``multibanco``,
``customer_balance`` and ``link``. Where Stripe's docs leave room, the sandbox's plausible choices:

- Stripe lists a customer's saved cards through the PaymentMethods API too ("to display the
  customer's previously saved Cards, Sources, and PaymentMethods, list the payment methods"): a
  legacy card (``card_...``) and a card source (``src_...`` of type ``card``) in the customer's
  list of payment sources appear in their payment methods as type ``card``, with their own id
  (:func:`card_view`); no other kind of source does.
- A customer migrated to Bank Transfers (toolkit.sandbox.ach_migration) gets a
  ``customer_balance`` payment method, attached to them, as the successor of their ACH Credit
  Transfer sources; Stripe's page says the sources are "replaced" by the cash balance without
  naming the object.
- ``GET /v1/payment_methods`` without ``customer`` lists the payment methods attached to no
  customer (Stripe: "for Treasury flows"): none in the seeded data.

``SUCCESSOR_OF`` names, for each source type that Stripe retires, the payment method types that
replace it; ``planted`` (filled by toolkit.sandbox.seed_ledger) names customers by what their
sources still need.

>>> book = PaymentMethodBook(livemode=False, rng=random.Random(1))
>>> pm = book.add("customer_balance", customer="cus_1", created=1793000000)
>>> pm["type"], pm["customer_balance"], book.by_customer["cus_1"] == [pm["id"]]
('customer_balance', {}, True)
"""

from __future__ import annotations

import random
from typing import Any

from toolkit.sandbox.objects import BRANDS, DIGIT_TABLE, null_address, rand_id, rand_str

__all__ = [
    "PAYMENT_METHOD_TYPES",
    "STRIPE_TYPES",
    "SUCCESSOR_OF",
    "PaymentMethodBook",
    "billing_details",
    "card_view",
]

#: The payment method types the sandbox builds.
PAYMENT_METHOD_TYPES = (
    "card",
    "customer_balance",
    "link",
    "multibanco",
    "sepa_debit",
    "us_bank_account",
)
#: Every payment method type Stripe knows (stripe-python 16's ``PaymentMethod.type``): a list
#: filter on another is Stripe's 400.
STRIPE_TYPES = frozenset(
    [
        "acss_debit",
        "affirm",
        "afterpay_clearpay",
        "alipay",
        "alma",
        "amazon_pay",
        "au_becs_debit",
        "bacs_debit",
        "bancontact",
        "billie",
        "bizum",
        "blik",
        "boleto",
        "card",
        "card_present",
        "cashapp",
        "crypto",
        "custom",
        "customer_balance",
        "eps",
        "fpx",
        "giropay",
        "grabpay",
        "ideal",
        "interac_present",
        "kakao_pay",
        "klarna",
        "konbini",
        "kr_card",
        "link",
        "mb_way",
        "mobilepay",
        "multibanco",
        "naver_pay",
        "nz_bank_account",
        "oxxo",
        "p24",
        "pay_by_bank",
        "payco",
        "paynow",
        "paypal",
        "paypay",
        "payto",
        "pix",
        "promptpay",
        "revolut_pay",
        "samsung_pay",
        "satispay",
        "scalapay",
        "sepa_debit",
        "sequra",
        "sofort",
        "sunbit",
        "swish",
        "twint",
        "upi",
        "us_bank_account",
        "wechat_pay",
        "zip",
    ]
)
#: Source type -> the payment method types that replace it (Stripe's migration guides: ACH
#: Credit Transfer -> Bank Transfers, ACH Debit -> ACH Direct Debit on PaymentMethods, SEPA Debit
#: and Multibanco sources -> their PaymentMethods).
SUCCESSOR_OF: dict[str, tuple[str, ...]] = {
    "ach_credit_transfer": ("customer_balance",),
    "ach_debit": ("us_bank_account",),
    "multibanco": ("multibanco",),
    "sepa_debit": ("sepa_debit",),
}
_BRAND = {"Visa": "visa", "MasterCard": "mastercard", "American Express": "amex"}


def billing_details(
    name: str | None = None,
    email: str | None = None,
    address: dict[str, Any] | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    """The ``billing_details`` hash (an address with every field, null when unknown)."""
    return {
        "address": dict(address) if address else null_address(),
        "email": email,
        "name": name,
        "phone": phone,
        "tax_id": None,
    }


def _details(rng: random.Random, kind: str, livemode: bool) -> dict[str, Any]:
    """The hash named after the payment method's type."""
    if kind == "card":
        brand, last4 = rng.choice(BRANDS)
        code = _BRAND[brand]
        return _card(code, last4, rng.randint(1, 12), rng.randint(2027, 2032), rand_str(rng, 16))
    if kind == "us_bank_account":
        return {
            "account_holder_type": rng.choice(("company", "individual")),
            "account_type": rng.choice(("checking", "checking", "savings")),
            "bank_name": "STRIPE TEST BANK" if not livemode else "JPMORGAN CHASE",
            "financial_connections_account": None,
            "fingerprint": rand_str(rng, 16),
            "last4": rand_str(rng, 4, DIGIT_TABLE),
            "networks": {"preferred": "ach", "supported": ["ach"]},
            "routing_number": "110000000",
            "status_details": None,
        }
    if kind == "sepa_debit":
        return {
            "bank_code": rng.choice(("37040044", "10010010", "50010517")),
            "branch_code": "",
            "country": rng.choice(("DE", "FR", "NL", "AT")),
            "fingerprint": rand_str(rng, 16),
            "generated_from": {"charge": None, "setup_attempt": None},
            "last4": rand_str(rng, 4, DIGIT_TABLE),
        }
    if kind == "link":
        return {"email": None, "persistent_token": None}
    return {}  # customer_balance, multibanco: Stripe's hash is empty


def _card(
    brand: str, last4: str, month: int, year: int, fingerprint: str, **seen: Any
) -> dict[str, Any]:
    return {
        "brand": brand,
        "checks": {
            "address_line1_check": seen.get("line1_check"),
            "address_postal_code_check": seen.get("zip_check"),
            "cvc_check": seen.get("cvc_check", "pass"),
        },
        "country": seen.get("country", "US"),
        "description": None,
        "display_brand": brand,
        "exp_month": month,
        "exp_year": year,
        "fingerprint": fingerprint,
        "funding": seen.get("funding", "credit"),
        "generated_from": None,
        "iin": None,
        "issuer": None,
        "last4": last4,
        "networks": {"available": [brand], "preferred": None},
        "regulated_status": None,
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


def make_payment_method(
    rng: random.Random,
    kind: str,
    *,
    customer: str | None,
    created: int,
    livemode: bool,
    details: dict[str, Any] | None = None,
    pm_id: str | None = None,
) -> dict[str, Any]:
    """A ``payment_method`` of ``kind`` (``PAYMENT_METHOD_TYPES``)."""
    if kind not in PAYMENT_METHOD_TYPES:
        raise ValueError(f"the sandbox builds no {kind!r} payment method")
    return {
        "id": pm_id or rand_id(rng, "pm_"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": details or billing_details(),
        "created": created,
        "customer": customer,
        "customer_account": None,
        "livemode": livemode,
        "metadata": {},
        "type": kind,
        kind: _details(rng, kind, livemode),
    }


def card_view(
    item: dict[str, Any], customer: str, created: int, livemode: bool
) -> dict[str, Any] | None:
    """A legacy card (``card_...``) or a card source as the PaymentMethods API shows it (type
    ``card``, the same id), or None for any other payment source."""
    if item["object"] == "card":
        brand = _BRAND.get(item["brand"], str(item["brand"]).lower())
        card = _card(
            brand,
            item["last4"],
            item["exp_month"],
            item["exp_year"],
            item["fingerprint"],
            cvc_check=item.get("cvc_check"),
            zip_check=item.get("address_zip_check"),
            line1_check=item.get("address_line1_check"),
            country=item.get("country") or "US",
            funding=item.get("funding") or "unknown",
        )
        details = billing_details(name=item.get("name"))
        metadata = item.get("metadata") or {}
    elif item["object"] == "source" and item["type"] == "card":
        src = item["card"]
        brand = _BRAND.get(src["brand"], str(src["brand"]).lower())
        card = _card(
            brand,
            src["last4"],
            src["exp_month"],
            src["exp_year"],
            src["fingerprint"],
            cvc_check=src.get("cvc_check"),
            zip_check=src.get("address_zip_check"),
            line1_check=src.get("address_line1_check"),
            country=src.get("country") or "US",
            funding=src.get("funding") or "unknown",
        )
        owner = item.get("owner") or {}
        details = billing_details(
            owner.get("name"), owner.get("email"), owner.get("address"), owner.get("phone")
        )
        metadata = item.get("metadata") or {}
    else:
        return None
    return {
        "id": item["id"],
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": details,
        "card": card,
        "created": created,
        "customer": customer,
        "customer_account": None,
        "livemode": livemode,
        "metadata": dict(metadata),
        "type": "card",
    }


class PaymentMethodBook:
    """The payment methods of one data set. Read-only for callers: ``objects`` (id -> payment
    method), ``by_customer`` (customer -> ids, oldest first), ``planted`` (name -> customer ids,
    see toolkit.sandbox.seed_ledger)."""

    def __init__(self, *, livemode: bool, rng: random.Random) -> None:
        self.livemode = livemode
        self.rng = rng
        self.objects: dict[str, dict[str, Any]] = {}
        self.by_customer: dict[str, list[str]] = {}
        self.planted: dict[str, list[str]] = {}

    def add(
        self,
        kind: str,
        *,
        customer: str | None,
        created: int,
        details: dict[str, Any] | None = None,
        rng: random.Random | None = None,
    ) -> dict[str, Any]:
        """A new payment method of ``kind``, attached to ``customer`` (or to no one)."""
        pm = make_payment_method(
            rng or self.rng,
            kind,
            customer=customer,
            created=created,
            livemode=self.livemode,
            details=details,
        )
        self.objects[pm["id"]] = pm
        if customer is not None:
            self.by_customer.setdefault(customer, []).append(pm["id"])
        return pm

    def of_type(self, customer: str, kind: str) -> list[dict[str, Any]]:
        """The customer's payment methods of ``kind`` (legacy cards not included)."""
        found = (self.objects[p] for p in self.by_customer.get(customer, ()))
        return [pm for pm in found if pm["type"] == kind]
