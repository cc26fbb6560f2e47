"""Where the money went: charges, refunds and balance transactions of one data set, booked as
they happen (served by toolkit.sandbox.ledger_objects; paid out by toolkit.sandbox.payouts;
tied out per receiver by toolkit.sandbox.tie_out).

A charge's money is a ``charge`` balance transaction (``fee``, ``net``, ``available_on``). What
Stripe does not document, and the sandbox's plausible choices:

- Fees: an ACH Credit Transfer charge costs a flat 1.00 (USD), any other 0.8%, capped at 5.00 in
  the charge's currency (a customer balance, that is Bank Transfers, payment too);
  ``fee_details`` has one ``stripe_fee``. Funds are available two days after the charge (00:00
  UTC).
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

``planted`` names the receivers that must not tie out cleanly: ``charge_missing`` (a gap),
``charge_refunded`` (money charged, then returned to the sender by a refund), ``swept`` (added
as sweeps run).

>>> ledger = Ledger(livemode=False, rng=random.Random(1), sources={}, customers={}, cash=None)
>>> bt = ledger.adjust(2500, "usd", created=1793491200, description="x", category="other_adjustment")
>>> bt["type"], bt["net"], bt["fee"]
('adjustment', 2500, 0)
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from toolkit.sandbox.objects import rand_id
from toolkit.sandbox.tie_out import expected_tie_out

__all__ = ["LEDGER_PLANTED", "Ledger", "fee_of"]

#: The planted ledger cases (receiver source ids in ``Ledger.planted``).
LEDGER_PLANTED = ("charge_missing", "charge_refunded", "swept")
_DAY = 86_400
#: Where a refund of a receiver's charge goes (the sender's bank), by currency.
_BANK_REFUND = {"usd": "us_bank_transfer", "eur": "eu_bank_transfer"}


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

    def changed(self, kind: str) -> None:
        """Forget the order of ``charges``, ``balance`` or ``payouts`` after one was added."""
        self._orders.pop(kind, None)

    def order(self, kind: str) -> list[str]:
        """The ids of ``charges``, ``balance`` or ``payouts``, newest first."""
        found = self._orders.get(kind)
        if found is None:
            objs = getattr(self, kind)
            found = sorted(objs, key=lambda i: (objs[i]["created"], i), reverse=True)
            self._orders[kind] = found
        return found

    def book(
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
        when it is served: toolkit.sandbox.ledger_objects)."""
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
        self.changed("balance")
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
        return self.book(
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
        bt = self.book(
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
        self.changed("charges")
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
        bt = self.book(
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

    def expected_tie_out(self) -> dict[str, dict[str, Any]]:
        """Where each receiver's money went (toolkit.sandbox.tie_out)."""
        return expected_tie_out(self)
