"""Where the money went: charges, refunds, balance transactions and payouts of one data set, and
the independent tie-out of every receiver the tests compare the toolkit with.

Shapes are stripe-python 16's ``Charge``, ``Refund``, ``BalanceTransaction`` and ``Payout``. A
charge made from a source carries the source object in ``source`` and its id in
``payment_method`` (as Stripe shows a source charge), ``payment_intent: null``; the money it
brought is a ``charge`` balance transaction (``fee``, ``net``, ``available_on``) that a payout
later takes (``GET /v1/balance_transactions?payout=po_...``). What Stripe does not document, and
the sandbox's plausible choices:

- Fees: an ACH Credit Transfer charge costs a flat 1.00 (USD), any other 0.8%, capped at 5.00 in
  the charge's currency (a customer balance, that is Bank Transfers, payment too);
  ``fee_details`` has one ``stripe_fee``. Funds are available two days after the charge (00:00
  UTC).
- Payouts are automatic and weekly, on Mondays (00:00 UTC), per currency: each takes every
  balance transaction available by then and not yet paid out (refunds and adjustments too), when
  their sum is positive; it arrives two days later (``in_transit`` until then). The payout's own
  ``payout`` balance transaction is listed under ``?payout=`` with the ones it paid out. Seeded
  history only: the sandbox's clock pays out nothing more.
- The monthly sweep of source money (toolkit.sandbox.ach_migration) credits the account balance
  with one balance transaction per source: ``type: adjustment``,
  ``reporting_category: other_adjustment``, ``source: null`` (Stripe's ``source`` cannot name a
  Source), ``description`` naming the source (``"... swept from src_..."``); it is available on
  the day of the sweep.
- Cash balance moves with an account-balance side (toolkit.sandbox.cash): a
  ``transferred_to_balance`` is an ``adjustment`` balance transaction
  (``reporting_category: unreconciled_customer_funds``) crediting the account balance, an
  ``adjusted_for_overdraft`` an ``adjustment`` (``other_adjustment``) debiting it, each with the
  cash balance transaction as its ``source``; an ``applied_to_payment`` is a ``customer_balance``
  charge of its ``payment_intent``; a ``refunded_from_payment`` is a refund (to the cash balance)
  of the customer's latest such charge. ``funded``, ``funding_reversed`` and returns do not touch
  the account balance (the cash balance holds the customer's money); ``unapplied_from_payment``
  has no ledger object here.
- ``refunds`` are not included in a charge unless expanded (``expand[]=refunds``), as since API
  version 2022-11-15.

:meth:`Ledger.expected_tie_out` computes, from the store alone, where each receiver's money went:
``received`` (what it shows received plus what sweeps took) = ``charged`` (by charges) +
``moved_to_cash`` (by a migration) + ``returned`` + ``swept`` + ``unapplied`` + ``gap`` (what the
receiver counts as charged that no charge or migration explains). ``planted`` names the
receivers that must not tie out cleanly: ``charge_missing`` (a gap), ``charge_refunded`` (money
charged, then returned to the sender by a refund), ``swept`` (added as sweeps run).

>>> ledger = Ledger(livemode=False, rng=random.Random(1), sources={}, customers={}, cash=None)
>>> bt = ledger.adjust(2500, "usd", created=1793491200, description="x", category="other_adjustment")
>>> bt["type"], bt["net"], bt["fee"]
('adjustment', 2500, 0)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from toolkit.sandbox.objects import rand_id, rand_str
from toolkit.sandbox.payment_methods import billing_details

__all__ = ["BALANCE_TYPES", "LEDGER_PLANTED", "Ledger", "fee_of"]

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

#: The planted ledger cases (receiver source ids in ``Ledger.planted``).
LEDGER_PLANTED = ("charge_missing", "charge_refunded", "swept")
_DAY = 86_400
_WEEK = 7 * _DAY
#: Where a refund of a receiver's charge goes (the sender's bank), by currency.
_BANK_REFUND = {"usd": "us_bank_transfer", "eur": "eu_bank_transfer"}
_DESCRIPTOR = "SANDBOX DEMO"
#: What a charge's ``payment_method_details`` keeps of the receiver it was made from.
_METHOD_FIELDS = {
    "ach_credit_transfer": ("account_number", "bank_name", "routing_number", "swift_code"),
    "multibanco": ("entity", "reference"),
}


def fee_of(kind: str, amount: int) -> int:
    """Stripe's fee on a charge of ``amount`` paid the ``kind`` way (the sandbox's schedule,
    see the module docstring).

    >>> fee_of("ach_credit_transfer", 250_000), fee_of("customer_balance", 10_000)
    (100, 80)
    """
    if kind == "ach_credit_transfer":
        return min(100, amount)
    return min(500, (amount * 8 + 999) // 1000)


def _midnight(ts: int) -> int:
    """00:00 UTC of the day of ``ts`` (Unix time has no leap seconds)."""
    return ts - ts % _DAY


class Ledger:
    """Charges, refunds, balance transactions and payouts. Read-only for callers:
    ``charges``, ``refunds``, ``balance``, ``payouts`` (id -> record or object),
    ``by_source`` (source id -> charge ids, oldest first), ``paid_in`` (balance transaction id
    -> payout id), ``planted`` (name -> receiver source ids). The sweeps, each with its balance
    transaction, are the cash book's ``sweeps``."""

    def __init__(
        self,
        *,
        livemode: bool,
        rng: random.Random,
        sources: dict[str, dict[str, Any]],
        customers: dict[str, dict[str, Any]],
        cash: Any,
    ) -> None:
        self.livemode = livemode
        self.rng = rng
        self.sources = sources
        self.customers = customers
        self.cash = cash
        self.charges: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.balance: dict[str, dict[str, Any]] = {}
        self.payouts: dict[str, dict[str, Any]] = {}
        self.by_source: dict[str, list[str]] = {}
        self.paid_in: dict[str, str] = {}
        self.planted: dict[str, list[str]] = {}
        #: The customer's ``customer_balance`` payment method (created when missing), for the
        #: charges a cash balance pays; set by the data set.
        self.balance_method: Callable[[str, int], str] = lambda cid, when: ""
        self._orders: dict[str, list[str]] = {}

    # -- building ---------------------------------------------------------------------------

    def order(self, kind: str) -> list[str]:
        """The ids of ``charges``, ``balance`` or ``payouts``, newest first."""
        found = self._orders.get(kind)
        if found is None:
            objs = getattr(self, kind)
            found = sorted(objs, key=lambda i: (objs[i]["created"], i), reverse=True)
            self._orders[kind] = found
        return found

    def _transaction(
        self,
        amount: int,
        currency: str,
        *,
        created: int,
        kind: str,
        category: str,
        source: str | None,
        description: str | None,
        fee: int = 0,
        available_on: int | None = None,
        txn_id: str | None = None,
    ) -> dict[str, Any]:
        """A balance transaction, recorded (the fields the ledger reads; the rest are added
        when it is served: :meth:`balance_object`)."""
        bt: dict[str, Any] = {
            "id": txn_id or rand_id(self.rng, "txn_"),
            "amount": amount,
            "available_on": created if available_on is None else available_on,
            "created": created,
            "currency": currency,
            "description": description,
            "fee": fee,
            "net": amount - fee,
            "reporting_category": category,
            "source": source,
            "type": kind,
        }
        self.balance[bt["id"]] = bt
        self._orders.pop("balance", None)
        return bt

    def adjust(
        self,
        amount: int,
        currency: str,
        *,
        created: int,
        description: str,
        category: str,
        source: str | None = None,
        txn_id: str | None = None,
    ) -> dict[str, Any]:
        """An ``adjustment`` of the account balance by ``amount`` (negative: a debit)."""
        return self._transaction(
            amount,
            currency,
            created=created,
            kind="adjustment",
            category=category,
            source=source,
            description=description,
            txn_id=txn_id,
        )

    def charge(
        self,
        amount: int,
        currency: str,
        *,
        created: int,
        customer: str | None,
        source: str | None = None,
        payment_intent: str | None = None,
        payment_method: str | None = None,
        rng: random.Random | None = None,
    ) -> dict[str, Any]:
        """A succeeded charge of ``amount`` (from the receiver ``source``, or a customer
        balance payment of ``payment_intent``) and its ``charge`` balance transaction."""
        rng = rng or self.rng
        kind = self.sources[source]["type"] if source else "customer_balance"
        cid = rand_id(rng, "ch_")
        fee = fee_of(kind, amount)
        bt = self._transaction(
            amount,
            currency,
            created=created,
            kind="charge",
            category="charge",
            source=cid,
            description=None,
            fee=fee,
            available_on=_midnight(created) + 2 * _DAY,
            txn_id=rand_id(rng, "txn_"),
        )
        record = {
            "id": cid,
            "amount": amount,
            "amount_refunded": 0,
            "balance_transaction": bt["id"],
            "created": created,
            "currency": currency,
            "customer": customer,
            "kind": kind,
            "payment_intent": payment_intent,
            "payment_method": source or payment_method,
            "refunds": [],
            "source": source,
        }
        self.charges[cid] = record
        if source:
            self.by_source.setdefault(source, []).append(cid)
        self._orders.pop("charges", None)
        return record

    def refund(
        self,
        charge: dict[str, Any] | None,
        amount: int,
        currency: str,
        *,
        created: int,
        customer: str | None,
        to_cash: bool = False,
        refund_id: str | None = None,
        rng: random.Random | None = None,
    ) -> dict[str, Any]:
        """A succeeded refund of ``amount`` of ``charge`` (back to the sender, or into the cash
        balance) and its ``refund`` balance transaction."""
        rng = rng or self.rng
        rid = refund_id or rand_id(rng, "re_")
        bt = self._transaction(
            -amount,
            currency,
            created=created,
            kind="refund",
            category="refund",
            source=rid,
            description="REFUND FOR CHARGE",
            txn_id=rand_id(rng, "txn_"),
        )
        if charge is not None:
            charge["amount_refunded"] += amount
            charge["refunds"].append(rid)
        kind = (
            "customer_cash_balance" if to_cash else _BANK_REFUND.get(currency, "us_bank_transfer")
        )
        self.refunds[rid] = {
            "id": rid,
            "object": "refund",
            "amount": amount,
            "balance_transaction": bt["id"],
            "charge": charge["id"] if charge else None,
            "created": created,
            "currency": currency,
            "customer": customer,
            "customer_account": None,
            "destination_details": {
                "type": kind,
                kind: {} if to_cash else {"reference": None, "reference_status": None},
            },
            "metadata": {},
            "payment_intent": charge["payment_intent"] if charge else None,
            "payment_method": charge["payment_method"] if charge else None,
            "reason": "requested_by_customer",
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        return self.refunds[rid]

    def sweep(self, source: dict[str, Any], amount: int, when: int, txn: str) -> dict[str, Any]:
        """The monthly sweep took ``amount`` from ``source`` at ``when`` (its negative source
        transaction ``txn``): the account balance is credited (see the module docstring).
        Returns the sweep's record (the caller keeps it in the cash book's ``sweeps``)."""
        currency = source.get("currency") or "usd"
        bt = self.adjust(
            amount,
            currency,
            created=when,
            category="other_adjustment",
            description=(
                f"ACH Credit Transfer funds unreconciled for 45 days, swept from {source['id']}"
            ),
        )
        record = {
            "source": source["id"],
            "customer": source.get("customer"),
            "amount": amount,
            "currency": currency,
            "swept_at": when,
            "transaction": txn,
            "balance_transaction": bt["id"],
        }
        swept = self.planted.setdefault("swept", [])
        if source["id"] not in swept:
            swept.append(source["id"])
        return record

    def cash_moved(self, txn: dict[str, Any]) -> None:
        """The account-balance side of a cash balance transaction (see the module docstring)."""
        kind, cid, currency = txn["type"], txn["customer"], txn["currency"]
        amount = abs(int(txn["net_amount"]))
        if kind == "transferred_to_balance":
            self.adjust(
                amount,
                currency,
                created=txn["created"],
                category="unreconciled_customer_funds",
                description=f"Cash balance of {cid} transferred to the account balance",
                source=txn["id"],
                txn_id=txn[kind]["balance_transaction"],
            )
        elif kind == "adjusted_for_overdraft":
            self.adjust(
                -amount,
                currency,
                created=txn["created"],
                category="other_adjustment",
                description=f"Overdraft of the cash balance of {cid} covered",
                source=txn["id"],
                txn_id=txn[kind]["balance_transaction"],
            )
        elif kind == "applied_to_payment":
            self.charge(
                amount,
                currency,
                created=txn["created"],
                customer=cid,
                payment_intent=txn[kind]["payment_intent"],
                payment_method=self.balance_method(cid, txn["created"]),
            )
        elif kind == "refunded_from_payment":
            paid = [
                c
                for c in self.charges.values()
                if c["customer"] == cid
                and c["kind"] == "customer_balance"
                and c["currency"] == currency
                and c["amount"] - c["amount_refunded"] >= amount
            ]
            latest = max(paid, key=lambda c: (c["created"], c["id"])) if paid else None
            self.refund(
                latest,
                amount,
                currency,
                created=txn["created"],
                customer=cid,
                to_cash=True,
                refund_id=txn[kind]["refund"],
            )

    def pay_out(self, until: int, *, rng: random.Random | None = None) -> list[dict[str, Any]]:
        """The weekly automatic payouts (Mondays 00:00 UTC) up to ``until`` of everything
        available and not yet paid out (see the module docstring); returns the new payouts."""
        rng = rng or self.rng
        unpaid = sorted(
            (bt for bt in self.balance.values() if bt["id"] not in self.paid_in),
            key=lambda bt: (bt["available_on"], bt["id"]),
        )
        if not unpaid:
            return []
        first = _midnight(unpaid[0]["available_on"])
        monday = first + ((7 - datetime.fromtimestamp(first, UTC).weekday()) % 7) * _DAY
        destination = rand_id(rng, "ba_")
        made: list[dict[str, Any]] = []
        pending: dict[str, list[dict[str, Any]]] = {}
        i = 0
        while monday <= until:
            while i < len(unpaid) and unpaid[i]["available_on"] <= monday:
                pending.setdefault(unpaid[i]["currency"], []).append(unpaid[i])
                i += 1
            for currency in sorted(pending):
                btxs = pending[currency]
                total = sum(bt["net"] for bt in btxs)
                if btxs and total > 0:
                    made.append(self._payout(rng, total, currency, monday, btxs, destination))
                    pending[currency] = []
            monday += _WEEK
        return made

    def _payout(
        self,
        rng: random.Random,
        total: int,
        currency: str,
        when: int,
        paid: list[dict[str, Any]],
        destination: str,
    ) -> dict[str, Any]:
        pid = rand_id(rng, "po_")
        own = self._transaction(
            -total,
            currency,
            created=when,
            kind="payout",
            category="payout",
            source=pid,
            description="STRIPE PAYOUT",
            txn_id=rand_id(rng, "txn_"),
        )
        payout = {
            "id": pid,
            "object": "payout",
            "amount": total,
            "application_fee": None,
            "application_fee_amount": None,
            "arrival_date": when + 2 * _DAY,
            "automatic": True,
            "balance_transaction": own["id"],
            "created": when,
            "currency": currency,
            "description": "STRIPE PAYOUT",
            "destination": destination,
            "failure_balance_transaction": None,
            "failure_code": None,
            "failure_message": None,
            "livemode": self.livemode,
            "metadata": {},
            "method": "standard",
            "original_payout": None,
            "payout_method": None,
            "reconciliation_status": "completed",
            "reversed_by": None,
            "source_type": "card",
            "statement_descriptor": None,
            "status": "paid",  # recomputed against the clock when served
            "trace_id": {"status": "supported", "value": rand_str(rng, 15).upper()},
            "type": "bank_account",
        }
        self.payouts[pid] = payout
        for bt in [*paid, own]:
            self.paid_in[bt["id"]] = pid
        self._orders.pop("payouts", None)
        return payout

    # -- serving ----------------------------------------------------------------------------

    def charge_object(self, record: dict[str, Any], *, refunds: bool = False) -> dict[str, Any]:
        """A charge as ``GET /v1/charges/{id}`` answers it (the source as it is now)."""
        src = self.sources.get(record["source"]) if record["source"] else None
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
            cus = self.customers.get(record["customer"] or "") or {}
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
            "livemode": self.livemode,
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
                "data": [self.refunds[r] for r in reversed(record["refunds"])],
                "has_more": False,
                "url": f"/v1/charges/{cid}/refunds",
            }
        return obj

    def balance_object(self, bt: dict[str, Any], now: float) -> dict[str, Any]:
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

    def payout_object(self, payout: dict[str, Any], now: float) -> dict[str, Any]:
        """A payout, ``in_transit`` until it arrives at ``now``."""
        return {**payout, "status": "paid" if payout["arrival_date"] <= now else "in_transit"}

    def source_of(self, bt: dict[str, Any]) -> dict[str, Any] | None:
        """The object a balance transaction's ``source`` names (``expand[]=source``)."""
        sid = bt["source"]
        if sid is None:
            return None
        if sid in self.charges:
            return self.charge_object(self.charges[sid])
        if sid in self.refunds:
            return self.refunds[sid]
        if sid in self.payouts:
            return self.payout_object(self.payouts[sid], float("inf"))
        for txns in self.cash.txns.values():
            for txn in txns:
                if txn["id"] == sid:
                    return dict(txn)
        return None

    # -- the tie-out ------------------------------------------------------------------------

    def expected_tie_out(self) -> dict[str, dict[str, Any]]:
        """Where each receiver's money went, computed from the store alone (source id -> row:
        ``customer``, ``currency``, ``received``, ``charged``, ``refunded``, ``fees``,
        ``paid_out``, ``in_balance`` (charged net of fees and refunds, not yet paid out),
        ``moved_to_cash``, ``returned``, ``swept``, ``unapplied``, ``gap``; see the module
        docstring). Every receiver that received money, was charged or was swept has a row."""
        moved: dict[str, int] = {}
        for txns in self.cash.txns.values():
            for txn in txns:
                ref = (txn.get("funded") or {}).get("bank_transfer", {}).get("reference")
                if txn["type"] == "funded" and ref in self.sources:
                    moved[ref] = moved.get(ref, 0) + txn["net_amount"]
        swept: dict[str, int] = {}
        for record in self.cash.sweeps:
            swept[record["source"]] = swept.get(record["source"], 0) + record["amount"]
        rows = {}
        for sid, src in self.sources.items():
            rcv = src.get("receiver")
            if rcv is None:
                continue
            charges = [self.charges[c] for c in self.by_source.get(sid, ())]
            received = rcv["amount_received"] + swept.get(sid, 0)
            if not (received or charges):
                continue
            charged = sum(c["amount"] for c in charges)
            refunded = sum(c["amount_refunded"] for c in charges)
            txn_ids = [c["balance_transaction"] for c in charges]
            txn_ids += [
                self.refunds[r]["balance_transaction"] for c in charges for r in c["refunds"]
            ]
            nets = [(self.balance[t]["net"], t in self.paid_in) for t in txn_ids]
            left = rcv["amount_received"] - rcv["amount_charged"] - rcv["amount_returned"]
            rows[sid] = {
                "source": sid,
                "customer": src.get("customer"),
                "currency": src.get("currency") or "usd",
                "received": received,
                "charged": charged,
                "refunded": refunded,
                "fees": sum(self.balance[c["balance_transaction"]]["fee"] for c in charges),
                "paid_out": sum(net for net, paid in nets if paid),
                "in_balance": sum(net for net, paid in nets if not paid),
                "moved_to_cash": moved.get(sid, 0),
                "returned": rcv["amount_returned"],
                "swept": swept.get(sid, 0),
                "unapplied": left,
                "gap": rcv["amount_charged"] - charged - moved.get(sid, 0),
            }
        return rows
