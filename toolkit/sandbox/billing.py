"""The invoices and subscriptions of one data set (``GET /v1/invoices``, ``GET /v1/subscriptions``):
what is still wired to Sources.

What Stripe's automatic migration to Bank Transfers does to them (docs.stripe.com/payments/
customer-balance/ach-ct-automigration: "existing open invoices and subscriptions with ACH Credit
Transfer as an enabled payment method update to present Bank Transfers instead") is
:meth:`Billing.migrate`: in the migrated customer's open and draft invoices and in their
subscriptions that have not ended, ``ach_credit_transfer`` in
``payment_settings.payment_method_types`` becomes ``customer_balance``. Paid, void and
uncollectible invoices keep what they offered. The page is silent on a ``default_source`` that
names a removed source; the sandbox's plausible choice: it is cleared (the source is no longer one
of the customer's payment sources), and the invoice or subscription then pays the customer's way.

>>> billing = Billing()
>>> billing.invoices["in_1"] = {"id": "in_1", "object": "invoice", "customer": "cus_1",
...     "status": "open", "default_source": "src_1",
...     "payment_settings": {"payment_method_types": ["ach_credit_transfer", "card"]}}
>>> billing.migrate("cus_1", {"src_1"})
>>> billing.invoices["in_1"]["payment_settings"]["payment_method_types"]
['customer_balance', 'card']
>>> billing.invoices["in_1"]["default_source"] is None
True
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from toolkit.sandbox.listing import newest_first

__all__ = ["LIVE_SUBSCRIPTION", "OPEN_INVOICE", "Billing"]

#: Invoices still to be paid (or finalized): the ones a migration updates.
OPEN_INVOICE = ("draft", "open")
#: Subscriptions that have not ended.
LIVE_SUBSCRIPTION = ("active", "incomplete", "past_due", "paused", "trialing", "unpaid")


class Billing:
    """Invoices, subscriptions and prices. Read-only for callers: ``invoices``,
    ``subscriptions``, ``prices`` (id -> object), ``planted`` (name -> ids, see
    toolkit.sandbox.seed_ledger)."""

    def __init__(self) -> None:
        self.invoices: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.prices: dict[str, dict[str, Any]] = {}
        self.planted: dict[str, list[str]] = {}
        self._orders: dict[str, list[str]] = {}
        self._of_customer: dict[str, list[dict[str, Any]]] | None = None

    def order(self, kind: str) -> list[str]:
        """The ids of ``invoices`` or ``subscriptions``, newest first."""
        found = self._orders.get(kind)
        if found is None:
            found = self._orders[kind] = newest_first(getattr(self, kind))
        return found

    def changed(self) -> None:
        """Forget the orders after objects were added."""
        self._orders.clear()
        self._of_customer = None

    def of_customer(self, customer: str) -> list[dict[str, Any]]:
        """The customer's invoices and subscriptions."""
        if self._of_customer is None:
            index: dict[str, list[dict[str, Any]]] = {}
            for obj in [*self.invoices.values(), *self.subscriptions.values()]:
                index.setdefault(obj["customer"], []).append(obj)
            self._of_customer = index
        return self._of_customer.get(customer, [])

    def subscription_of(self, invoice: dict[str, Any]) -> str | None:
        """The subscription an invoice bills (``parent.subscription_details``), or None."""
        parent = invoice.get("parent") or {}
        details = parent.get("subscription_details") or {}
        return details.get("subscription")

    def migrate(self, customer: str, removed: Iterable[str] = ()) -> None:
        """The customer moved to Bank Transfers (see the module docstring); ``removed`` are the
        source ids that left their list."""
        gone = set(removed)
        for obj in self.of_customer(customer):
            live = OPEN_INVOICE if obj["object"] == "invoice" else LIVE_SUBSCRIPTION
            if obj["status"] not in live:
                continue
            settings = obj["payment_settings"]
            types = settings.get("payment_method_types")
            if types and "ach_credit_transfer" in types:
                new = ["customer_balance" if t == "ach_credit_transfer" else t for t in types]
                settings["payment_method_types"] = list(dict.fromkeys(new))
            if obj.get("default_source") in gone:
                obj["default_source"] = None
