"""Customer cash balances: where ACH Credit Transfer money lands once an account has moved to
Bank Transfers (docs.stripe.com/payments/customer-balance), one CashBalances per data set.

Per customer: the available amount per currency, the reconciliation mode, the cash balance
transactions (newest first, Stripe's nine types with ``net_amount`` and ``ending_balance``, each
with the hash named after its type where stripe-python declares one), and the bank-transfer
financial address. Migrating a customer keeps the account and routing number of their ACH Credit
Transfer receiver, as Stripe does ("Stripe keeps the same bank account information for
customers"); what else a migration does to the sources is toolkit.sandbox.ach_migration.

Where Stripe's docs are silent, the plausible choices made here:

- a customer who never had a cash balance answers ``available: {}``;
- migrating a customer opens a USD cash balance (0 when no money moved from their receivers);
- funding instructions for a customer who was not migrated create a new virtual account number
  (Stripe creates them when missing), different from any receiver's;
- a cash balance goes below 0 only through a reversed funding (``funding_reversed``, the sender's
  bank took the money back after part of it was applied); Stripe then brings it back to 0 from the
  account balance at once (``adjusted_for_overdraft``, its ``linked_transaction`` the reversal);
  any other move larger than what is available is refused.

>>> book = CashBalances(livemode=False, rng=random.Random(1))
>>> _ = book.fund("cus_1", 5000, "usd", created=1793000000, sender="Ada")
>>> _ = book.apply("cus_1", 2000, "usd", created=1793000100)
>>> book.available["cus_1"], [t["ending_balance"] for t in book.txns["cus_1"]]
({'usd': 3000}, [3000, 5000])
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.objects import HEX_TABLE, rand_id, rand_str

__all__ = ["NET_SIGN", "CashBalances"]

#: Each cash balance transaction type and the sign of its ``net_amount``.
NET_SIGN: dict[str, int] = {
    "funded": 1,
    "applied_to_payment": -1,
    "unapplied_from_payment": 1,
    "refunded_from_payment": 1,  # a refund moved funds back into the cash balance
    "return_initiated": -1,
    "return_canceled": 1,
    "transferred_to_balance": -1,
    "funding_reversed": -1,
    "adjusted_for_overdraft": 1,
}
_TYPE_FIELD = {  # the hash a transaction of the type carries, and its prefixed id
    "applied_to_payment": ("payment_intent", "pi_"),
    "unapplied_from_payment": ("payment_intent", "pi_"),
    "refunded_from_payment": ("refund", "re_"),
    "transferred_to_balance": ("balance_transaction", "txn_"),
    "adjusted_for_overdraft": ("balance_transaction", "txn_"),
}
#: The only type that may take a cash balance below 0 (an overdraft, adjusted at once).
_OVERDRAWS = "funding_reversed"
_BANK = {
    "usd": ("us_bank_transfer", "US"),
    "eur": ("eu_bank_transfer", "DE"),
    "gbp": ("gb_bank_transfer", "GB"),
    "jpy": ("jp_bank_transfer", "JP"),
    "mxn": ("mx_bank_transfer", "MX"),
}
_ROUTING = "110000000"


class CashBalances:
    """The cash balances of one data set. Attributes are read-only for callers:
    ``available`` (customer -> currency -> minor units), ``mode`` (customer -> reconciliation
    mode, absent: the account default ``automatic``), ``txns`` (customer -> transactions, newest
    first), ``addresses`` (customer -> USD account number and routing number), ``migrated``,
    ``planted`` (state name -> customer ids). The ids a transaction links to
    (``transferred_to_balance.balance_transaction``, ``applied_to_payment.payment_intent``, ...)
    are the ledger's: a balance transaction is retrievable, a payment intent names the charge it
    paid (``GET /v1/charges?payment_intent=``)."""

    def __init__(self, *, livemode: bool, rng: random.Random) -> None:
        self.livemode = livemode
        self.rng = rng
        self.available: dict[str, dict[str, int]] = {}
        self.mode: dict[str, str] = {}
        self.txns: dict[str, list[dict[str, Any]]] = {}
        self.addresses: dict[str, dict[str, str]] = {}
        self.migrated: set[str] = set()
        self.planted: dict[str, list[str]] = {}
        self.fed_by: dict[str, str] = {}
        self.swept_through = 0
        self.sweeps: list[dict[str, Any]] = []
        #: Told of every transaction recorded (the data set's ledger books the account-balance
        #: side of the ones that have one: toolkit.sandbox.ledger).
        self.on_record: Callable[[dict[str, Any]], None] | None = None

    # -- objects ----------------------------------------------------------------------------

    def balance(self, cid: str) -> dict[str, Any]:
        """The ``cash_balance`` object of a customer."""
        mode = self.mode.get(cid)
        return {
            "available": dict(self.available.get(cid, {})),
            "customer": cid,
            "customer_account": None,
            "livemode": self.livemode,
            "object": "cash_balance",
            "settings": {
                "reconciliation_mode": mode or "automatic",
                "using_merchant_default": mode is None,
            },
        }

    def funding_instructions(self, cid: str, currency: str, name: str) -> dict[str, Any]:
        """``POST /v1/customers/{id}/funding_instructions`` for USD: the customer's address,
        created when missing (a new virtual account number)."""
        if currency != "usd":
            raise ApiError.invalid(
                "The sandbox gives funding instructions for USD bank transfers only "
                "(bank_transfer[type]=us_bank_transfer, currency=usd).",
                "currency",
            )
        address = self.address(cid)
        blank = dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))
        aba = {
            "account_holder_address": {**blank, "country": "US"},
            "account_holder_name": name or cid,
            "account_number": address["account_number"],
            "account_type": "checking",
            "bank_address": {**blank, "country": "US"},
            "bank_name": "TEST BANK" if not self.livemode else "WELLS FARGO BANK",
            "routing_number": address["routing_number"],
        }
        return {
            "bank_transfer": {
                "country": "US",
                "financial_addresses": [
                    {"aba": aba, "supported_networks": ["ach", "domestic_wire_us"], "type": "aba"}
                ],
                "type": "us_bank_transfer",
            },
            "currency": "usd",
            "funding_type": "bank_transfer",
            "livemode": self.livemode,
            "object": "funding_instructions",
        }

    def address(self, cid: str) -> dict[str, str]:
        """The customer's USD bank-transfer address, a new virtual account number when they have
        none (as Stripe creates funding instructions when missing)."""
        address = self.addresses.get(cid)
        if address is None:
            number = ("test_" if not self.livemode else "") + rand_str(self.rng, 12, HEX_TABLE)
            address = self.addresses[cid] = {"account_number": number, "routing_number": _ROUTING}
        return address

    # -- money ------------------------------------------------------------------------------

    def record(
        self, cid: str, kind: str, amount: int, currency: str, *, created: int, **extra: Any
    ) -> dict[str, Any]:
        """One cash balance transaction of ``kind`` for ``amount`` (> 0, minor units); the
        balance moves by ``NET_SIGN[kind] * amount`` (below 0 only by a ``funding_reversed``: see
        :meth:`reverse_funding`; an ``adjusted_for_overdraft`` needs ``linked=`` the id of the
        transaction that overdrew). Transactions are recorded in the order the money moves: one
        dated at or before the customer's latest is dated a second after it. Returns the
        transaction."""
        if kind not in NET_SIGN:
            raise ValueError(f"unknown cash balance transaction type {kind!r}")
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError(f"amount must be a positive integer in minor units, not {amount!r}")
        if kind == "adjusted_for_overdraft" and not extra.get("linked"):
            raise ValueError("an overdraft adjustment names the transaction that overdrew (linked)")
        currency = currency.lower()
        txns = self.txns.setdefault(cid, [])
        if txns and created <= txns[0]["created"]:
            created = txns[0]["created"] + 1  # the balance runs in the order money moves
        balances = self.available.setdefault(cid, {})
        ending = balances.get(currency, 0) + NET_SIGN[kind] * amount
        if ending < 0 and kind != _OVERDRAWS:
            raise ApiError.invalid(
                f"The customer's {currency.upper()} cash balance ({balances.get(currency, 0)}) "
                f"is smaller than {amount}.",
                "amount",
                "balance_insufficient",
            )
        balances[currency] = ending
        txn: dict[str, Any] = {
            "created": created,
            "currency": currency,
            "customer": cid,
            "customer_account": None,
            "ending_balance": ending,
            "id": rand_id(self.rng, "ccsbtxn_"),
            "livemode": self.livemode,
            "net_amount": NET_SIGN[kind] * amount,
            "object": "customer_cash_balance_transaction",
            "type": kind,
        }
        if kind == "funded":
            txn["funded"] = {"bank_transfer": self._bank_transfer(currency, **extra)}
        elif kind in _TYPE_FIELD:
            name, prefix = _TYPE_FIELD[kind]
            txn[kind] = {name: rand_id(self.rng, prefix)}
            if kind == "adjusted_for_overdraft":
                txn[kind]["linked_transaction"] = extra["linked"]
        txns.insert(0, txn)  # newest first
        if self.on_record is not None:
            self.on_record(txn)
        return txn

    def fund(
        self,
        cid: str,
        amount: int,
        currency: str,
        *,
        created: int,
        sender: str = "",
        reference: str | None = None,
    ) -> dict[str, Any]:
        """A bank transfer lands in the customer's cash balance (``funded``); ``reference`` is
        the transfer's reference (a random one when not given)."""
        return self.record(
            cid, "funded", amount, currency, created=created, sender=sender, reference=reference
        )

    def reverse_funding(
        self, cid: str, amount: int, currency: str, *, created: int
    ) -> list[dict[str, Any]]:
        """The sender's bank takes back ``amount`` of a bank transfer (``funding_reversed``).
        When that leaves the cash balance below 0, Stripe covers the overdraft from the account
        balance at once (``adjusted_for_overdraft`` back to 0, linked to the reversal). Returns
        the transactions, oldest first.

        >>> book = CashBalances(livemode=False, rng=random.Random(2))
        >>> _ = book.fund("cus_1", 500, "usd", created=1793000000)
        >>> [t["type"] for t in book.reverse_funding("cus_1", 800, "usd", created=1793000100)]
        ['funding_reversed', 'adjusted_for_overdraft']
        >>> book.available["cus_1"], book.txns["cus_1"][1]["ending_balance"]
        ({'usd': 0}, -300)
        """
        reversed_ = self.record(cid, "funding_reversed", amount, currency, created=created)
        out = [reversed_]
        if reversed_["ending_balance"] < 0:
            out.append(
                self.record(
                    cid,
                    "adjusted_for_overdraft",
                    -reversed_["ending_balance"],
                    currency,
                    created=created,
                    linked=reversed_["id"],
                )
            )
        return out

    def apply(self, cid: str, amount: int, currency: str, *, created: int) -> dict[str, Any]:
        """Cash balance applied to a payment (``applied_to_payment``)."""
        return self.record(cid, "applied_to_payment", amount, currency, created=created)

    def _bank_transfer(
        self, currency: str, sender: str = "", reference: str | None = None
    ) -> dict[str, Any]:
        kind, _ = _BANK.get(currency, ("us_bank_transfer", "US"))
        name = sender or None
        details: dict[str, Any] = {
            "us_bank_transfer": {"network": "ach", "sender_name": name},
            "eu_bank_transfer": {"bic": "TESTDEAAXXX", "iban_last4": "0001", "sender_name": name},
            "gb_bank_transfer": {
                "account_number_last4": "0001",
                "sender_name": name,
                "sort_code": "000000",
            },
            "jp_bank_transfer": {
                "sender_bank": "TEST",
                "sender_branch": "001",
                "sender_name": name,
            },
            "mx_bank_transfer": {"sender_name": name},
        }[kind]
        if reference is None:
            reference = "REF-" + rand_str(self.rng, 8, HEX_TABLE).upper()
        return {"reference": reference, "type": kind, kind: details}

    def migrate(self, cid: str, receiver: dict[str, Any] | None) -> None:
        """The customer moves to Bank Transfers: a USD cash balance (0 if new) and, when they
        have an ACH Credit Transfer receiver, its account and routing number as their address
        (the money on their receivers: toolkit.sandbox.ach_migration)."""
        self.migrated.add(cid)
        self.available.setdefault(cid, {}).setdefault("usd", 0)
        details = (receiver or {}).get("ach_credit_transfer") or {}
        if details.get("account_number") and cid not in self.addresses:
            self.addresses[cid] = {
                "account_number": details["account_number"],
                "routing_number": details.get("routing_number") or _ROUTING,
            }
