"""The ledger's objects as Stripe serves them (stripe-python 16's ``Charge``,
``BalanceTransaction``, ``Payout``), built from the ledger's records when asked for.

A charge made from a source carries the source object as it is now in ``source`` and its id in
``payment_method`` (as Stripe shows a source charge), ``payment_intent: null``, and in
``payment_method_details`` the receiver's bank details; a cash balance payment is a
``customer_balance`` charge of its ``payment_intent``. ``refunds`` are not included unless
expanded (``expand[]=refunds``), as since API version 2022-11-15. A balance transaction is
``pending`` until ``available_on``, a payout ``in_transit`` until ``arrival_date``.

>>> balance_object({"id": "txn_1", "amount": 500, "available_on": 10, "created": 1,
...     "currency": "usd", "description": None, "fee": 0, "net": 500,
...     "reporting_category": "other_adjustment", "source": None, "type": "adjustment"}, 5)["status"]
'pending'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from toolkit.sandbox.payment_methods import billing_details

if TYPE_CHECKING:
    from toolkit.sandbox.ledger import Ledger

__all__ = ["BALANCE_TYPES", "balance_object", "charge_object", "payout_object", "source_of"]

#: Every balance transaction type Stripe knows (stripe-python 16's ``BalanceTransaction.type``):
#: a ``type=`` filter on another is refused.
BALANCE_TYPES = frozenset(
    [
        "adjustment",
        "advance",
        "advance_funding",
        "anticipation_repayment",
        "application_fee",
        "application_fee_refund",
        "charge",
        "climate_order_purchase",
        "climate_order_refund",
        "connect_collection_transfer",
        "contribution",
        "fee_credit_funding",
        "inbound_transfer",
        "inbound_transfer_reversal",
        "issuing_authorization_hold",
        "issuing_authorization_release",
        "issuing_dispute",
        "issuing_dispute_provisional_credit",
        "issuing_dispute_provisional_credit_reversal",
        "issuing_transaction",
        "obligation_outbound",
        "obligation_reversal_inbound",
        "payment",
        "payment_failure_refund",
        "payment_network_reserve_hold",
        "payment_network_reserve_release",
        "payment_refund",
        "payment_reversal",
        "payment_unreconciled",
        "payout",
        "payout_cancel",
        "payout_failure",
        "payout_minimum_balance_hold",
        "payout_minimum_balance_release",
        "refund",
        "refund_failure",
        "reserve_hold",
        "reserve_release",
        "reserve_transaction",
        "reserved_funds",
        "stripe_balance_payment_debit",
        "stripe_balance_payment_debit_reversal",
        "stripe_fee",
        "stripe_fx_fee",
        "tax_fee",
        "tax_fund",
        "topup",
        "topup_reversal",
        "transfer",
        "transfer_cancel",
        "transfer_failure",
        "transfer_refund",
    ]
)

_DESCRIPTOR = "SANDBOX DEMO"
#: What a charge's ``payment_method_details`` keeps of the receiver it was made from.
_METHOD_FIELDS = {
    "ach_credit_transfer": ("account_number", "bank_name", "routing_number", "swift_code"),
    "multibanco": ("entity", "reference"),
}


def charge_object(
    ledger: Ledger, record: dict[str, Any], *, refunds: bool = False
) -> dict[str, Any]:
    """A charge as ``GET /v1/charges/{id}`` answers it (the source as it is now)."""
    src = ledger.sources.get(record["source"]) if record["source"] else None
    kind = record["kind"]
    if src is not None:
        owner = src.get("owner") or {}
        details = billing_details(
            owner.get("name"), owner.get("email"), owner.get("address"), owner.get("phone")
        )
        typed = src.get(kind) or {}
        names = _METHOD_FIELDS.get(kind, ())
        method = {name: typed.get(name) for name in names}
    else:
        cus = ledger.customers.get(record["customer"] or "") or {}
        details = billing_details(cus.get("name"), cus.get("email"), cus.get("address"))
        method = {}
    cid = record["id"]
    obj: dict[str, Any] = {
        "id": cid,
        "object": "charge",
        "amount": record["amount"],
        "amount_captured": record["amount"],
        "amount_refunded": record["amount_refunded"],
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": record["balance_transaction"],
        "billing_details": details,
        "calculated_statement_descriptor": _DESCRIPTOR,
        "captured": True,
        "created": record["created"],
        "currency": record["currency"],
        "customer": record["customer"],
        "description": None,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": ledger.livemode,
        "metadata": {},
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "not_assessed",
            "seller_message": "Payment complete.",
            "type": "authorized",
        },
        "paid": True,
        "payment_intent": record["payment_intent"],
        "payment_method": record["payment_method"],
        "payment_method_details": {kind: method, "type": kind},
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{cid[3:][::-1]}",
        "refunded": record["amount_refunded"] == record["amount"],
        "review": None,
        "shipping": None,
        "source": src,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }
    if refunds:
        obj["refunds"] = {
            "object": "list",
            "data": [ledger.refunds[r] for r in reversed(record["refunds"])],
            "has_more": False,
            "url": f"/v1/charges/{cid}/refunds",
        }
    return obj


def balance_object(bt: dict[str, Any], now: float) -> dict[str, Any]:
    """A balance transaction as Stripe serves it, ``pending`` until it is available at
    ``now``."""
    fee, currency = bt["fee"], bt["currency"]
    details = {
        "amount": fee,
        "application": None,
        "currency": currency,
        "description": "Stripe processing fees",
        "type": "stripe_fee",
    }
    return {
        "id": bt["id"],
        "object": "balance_transaction",
        "amount": bt["amount"],
        "available_on": bt["available_on"],
        "balance_type": "payments",
        "created": bt["created"],
        "currency": currency,
        "description": bt["description"],
        "exchange_rate": None,
        "fee": fee,
        "fee_details": [details] if fee else [],
        "net": bt["net"],
        "reporting_category": bt["reporting_category"],
        "source": bt["source"],
        "status": "available" if bt["available_on"] <= now else "pending",
        "type": bt["type"],
    }


def payout_object(payout: dict[str, Any], now: float) -> dict[str, Any]:
    """A payout, ``in_transit`` until it arrives at ``now``."""
    return {**payout, "status": "paid" if payout["arrival_date"] <= now else "in_transit"}


def source_of(ledger: Ledger, bt: dict[str, Any]) -> dict[str, Any] | None:
    """The object a balance transaction's ``source`` names (``expand[]=source``)."""
    sid = bt["source"]
    if sid is None:
        return None
    if sid in ledger.charges:
        return charge_object(ledger, ledger.charges[sid])
    if sid in ledger.refunds:
        return ledger.refunds[sid]
    if sid in ledger.payouts:
        return payout_object(ledger.payouts[sid], float("inf"))
    for txns in ledger.cash.txns.values():
        for txn in txns:
            if txn["id"] == sid:
                return dict(txn)
    return None
