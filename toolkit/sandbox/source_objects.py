"""Builders for the payment objects the sandbox serves, shaped like Stripe's (keys sorted as
Stripe sorts them: ``id``, ``object``, then alphabetical): sources, cards, bank accounts,
source transactions.

>>> src = make_source(random.Random(7), "ach_credit_transfer", created=1793400000, livemode=False)
>>> src["receiver"]["amount_received"], src["flow"]
(0, 'receiver')
"""

from __future__ import annotations

import random
from typing import Any

from toolkit.sandbox.objects import (
    BRANDS,
    DIGIT_TABLE,
    HEX_TABLE,
    RECEIVER_TYPES,
    REDIRECT_TYPES,
    REUSABLE_TYPES,
    empty_owner,
    rand_id,
    rand_str,
)

__all__ = [
    "flow_of",
    "make_bank_account",
    "make_card",
    "make_source",
    "make_transaction",
]


def _type_details(rng: random.Random, kind: str, livemode: bool, currency: str | None) -> Any:
    fp = rand_str(rng, 16)
    if kind == "ach_credit_transfer":
        account = ("test_" if not livemode else "") + rand_str(rng, 12, HEX_TABLE)
        return {
            "account_number": account,
            "bank_name": "WELLS FARGO BANK" if livemode else "TEST BANK",
            "fingerprint": fp,
            "refund_account_holder_name": None,
            "refund_account_holder_type": None,
            "refund_routing_number": None,
            "routing_number": "110000000",
            "swift_code": "TSTEZ122",
        }
    if kind in ("card", "three_d_secure"):
        brand, last4 = rng.choice(BRANDS)
        details: dict[str, Any] = {
            "address_line1_check": None,
            "address_zip_check": rng.choice(("pass", "pass", "unchecked", None)),
            "brand": brand,
            "country": rng.choice(("US", "US", "DE", "GB", "JP")),
            "cvc_check": rng.choice(("pass", "pass", "unchecked")),
            "dynamic_last4": None,
            "exp_month": rng.randint(1, 12),
            "exp_year": rng.randint(2025, 2031),
            "fingerprint": fp,
            "funding": rng.choice(("credit", "credit", "debit", "prepaid")),
            "last4": last4,
            "name": None,
            "three_d_secure": rng.choice(("optional", "not_supported", "required")),
            "tokenization_method": None,
        }
        if kind == "three_d_secure":
            details["authenticated"] = False
            details["card"] = rand_id(rng, "src_")
            details["customer"] = None
        return details
    if kind == "sepa_debit":
        return {
            "bank_code": rng.choice(("37040044", "10010010", "50010517")),
            "branch_code": None,
            "country": rng.choice(("DE", "FR", "NL", "AT")),
            "fingerprint": fp,
            "last4": f"{rng.randint(0, 9999):04d}",
            "mandate_reference": rand_str(rng, 16).upper(),
            "mandate_url": None,  # filled in by make_source (it needs the id)
        }
    if kind == "ach_debit":
        return {
            "bank_name": "STRIPE TEST BANK" if not livemode else "JPMORGAN CHASE",
            "country": "US",
            "fingerprint": fp,
            "last4": f"{rng.randint(0, 9999):04d}",
            "routing_number": "110000000",
            "type": rng.choice(("individual", "company")),
        }
    if kind == "alipay":
        return {"data_string": None, "native_url": None, "statement_descriptor": None}
    if kind == "wechat":
        return {
            "prepay_id": "wx" + rand_str(rng, 20, DIGIT_TABLE),
            "qr_code_url": "weixin://wxpay/bizpayurl?pr=" + rand_str(rng, 7),
        }
    if kind == "multibanco":
        return {
            "entity": "12345",
            "reference": f"{rng.randint(0, 999999999):09d}",
            "refund_account_holder_address_city": None,
            "refund_account_holder_address_country": None,
            "refund_account_holder_address_line1": None,
            "refund_account_holder_address_line2": None,
            "refund_account_holder_address_postal_code": None,
            "refund_account_holder_address_state": None,
            "refund_account_holder_name": None,
            "refund_iban": None,
        }
    if kind in ("bancontact", "sofort"):
        return {
            "bank_code": None,
            "bank_name": None,
            "bic": None,
            "iban_last4": None,
            "preferred_language": None,
            "statement_descriptor": None,
            **({"country": "DE"} if kind == "sofort" else {}),
        }
    if kind == "ideal":
        return {"bank": "ing", "bic": None, "iban_last4": None, "statement_descriptor": None}
    if kind == "giropay":
        return {"bank_code": None, "bank_name": None, "bic": None, "statement_descriptor": None}
    if kind == "eps":
        return {"reference": None, "statement_descriptor": None}
    if kind == "p24":
        return {"reference": "P24-" + rand_str(rng, 9, DIGIT_TABLE)}
    if kind == "klarna":
        return {"client_token": None, "purchase_country": "US"}
    return {}


def flow_of(kind: str) -> str:
    """The authentication flow Stripe uses for a source type."""
    if kind in RECEIVER_TYPES:
        return "receiver"
    if kind in REDIRECT_TYPES:
        return "redirect"
    if kind == "ach_debit":
        return "code_verification"
    return "none"


def make_source(
    rng: random.Random,
    kind: str,
    *,
    created: int,
    livemode: bool,
    source_id: str | None = None,
    customer: str | None = None,
    status: str = "pending",
    currency: str | None = None,
    amount: int | None = None,
    usage: str | None = None,
    owner: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
    statement_descriptor: str | None = None,
    return_url: str = "https://example.com/return",
) -> dict[str, Any]:
    """A source of any type, with its type hash and flow hash; receivers start with zero funds.

    The ``client_secret`` is returned as Stripe returns it; URLs never embed it.
    """
    sid = source_id or rand_id(rng, "src_")
    flow = flow_of(kind)
    details = _type_details(rng, kind, livemode, currency)
    if kind == "sepa_debit":
        details["mandate_url"] = f"https://hooks.stripe.com/adapter/sepa_debit/file/{sid}/mandate"
    src: dict[str, Any] = {
        "id": sid,
        "object": "source",
        kind: details,  # Stripe sorts keys; order is cosmetic, so the type hash comes first
        "allow_redisplay": None,
        "amount": amount,
        "client_secret": rand_id(rng, "src_client_secret_"),
        "created": created,
        "currency": currency,
        **({"customer": customer} if customer else {}),
        "flow": flow,
        "livemode": livemode,
        "metadata": metadata or {},
        "owner": owner if owner is not None else empty_owner(),
        "statement_descriptor": statement_descriptor,
        "status": status,
        "type": kind,
        "usage": usage or ("reusable" if kind in REUSABLE_TYPES else "single_use"),
    }
    if flow == "receiver":
        account = details.get("account_number") or details.get("reference") or ""
        src["receiver"] = {
            "address": f"110000000-{account}" if kind == "ach_credit_transfer" else account,
            "amount_charged": 0,
            "amount_received": 0,
            "amount_returned": 0,
            "refund_attributes_method": "email",
            "refund_attributes_status": "missing",
        }
    elif flow == "redirect":
        redirect_status = {
            "pending": "pending",
            "chargeable": "succeeded",
            "consumed": "succeeded",
            "failed": "failed",
            "canceled": "pending",
        }[status]
        src["redirect"] = {
            "failure_reason": "declined" if redirect_status == "failed" else None,
            "return_url": return_url,
            "status": redirect_status,
            "url": f"https://hooks.stripe.com/redirect/authenticate/{sid}",
        }
    elif flow == "code_verification":
        verified = status in ("chargeable", "consumed")
        src["code_verification"] = {
            "attempts_remaining": 3 if status == "pending" else (2 if verified else 0),
            "status": "succeeded" if verified else ("pending" if status == "pending" else "failed"),
        }
    return src


def make_card(
    rng: random.Random, customer_id: str, *, name: str | None, metadata: dict[str, str]
) -> dict[str, Any]:
    """A legacy ``card`` object in a customer's payment sources."""
    brand, last4 = rng.choice(BRANDS)
    return {
        "id": rand_id(rng, "card_"),
        "object": "card",
        "address_city": None,
        "address_country": None,
        "address_line1": None,
        "address_line1_check": None,
        "address_line2": None,
        "address_state": None,
        "address_zip": None,
        "address_zip_check": None,
        "brand": brand,
        "country": "US",
        "customer": customer_id,
        "cvc_check": "pass",
        "dynamic_last4": None,
        "exp_month": rng.randint(1, 12),
        "exp_year": rng.randint(2025, 2031),
        "fingerprint": rand_str(rng, 16),
        "funding": rng.choice(("credit", "debit")),
        "last4": last4,
        "metadata": metadata,
        "name": name,
        "tokenization_method": None,
    }


def make_bank_account(
    rng: random.Random, customer_id: str, *, name: str | None, metadata: dict[str, str]
) -> dict[str, Any]:
    """A legacy ``bank_account`` object in a customer's payment sources."""
    return {
        "id": rand_id(rng, "ba_"),
        "object": "bank_account",
        "account_holder_name": name,
        "account_holder_type": rng.choice(("individual", "company")),
        "account_type": None,
        "bank_name": "STRIPE TEST BANK",
        "country": "US",
        "currency": "usd",
        "customer": customer_id,
        "fingerprint": rand_str(rng, 16),
        "last4": f"{rng.randint(0, 9999):04d}",
        "metadata": metadata,
        "routing_number": "110000000",
        "status": rng.choice(("new", "verified", "verified")),
    }


def make_transaction(
    rng: random.Random,
    source: dict[str, Any],
    amount: int,
    *,
    created: int,
    status: str = "succeeded",
    currency: str | None = None,
) -> dict[str, Any]:
    """A ``source_transaction`` (money pushed to a receiver; negative for a reversal)."""
    kind = source["type"]
    txn: dict[str, Any] = {
        "id": rand_id(rng, "srctxn_"),
        "object": "source_transaction",
        "amount": amount,
        "created": created,
        "currency": currency or source["currency"] or "usd",
        "livemode": source["livemode"],
        "source": source["id"],
        "status": status,
        "type": kind,
    }
    if kind == "ach_credit_transfer":
        txn["ach_credit_transfer"] = {
            "fingerprint": rand_str(rng, 16),
            "last4": f"{rng.randint(0, 9999):04d}",
            "routing_number": "110000000",
        }
    return txn
