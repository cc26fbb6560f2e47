"""The sandbox's admin side of cash balances: a bank transfer lands, a customer migrates.

:class:`CashDesk` is mixed into :class:`~toolkit.sandbox.Sandbox` (and served at
``POST /_sandbox/bank_transfer`` and ``POST /_sandbox/migrate``). Example::

    box.bank_transfer("cus_123", 25_000)          # USD 250.00 into the cash balance
    box.migrate_customer("cus_456")               # moves to Bank Transfers, keeps the number
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.store import DataSet

__all__ = ["CashDesk"]


class CashDesk:
    """Admin operations on the cash balances of a sandbox's data sets."""

    lock: threading.RLock

    def dataset(self, account: str | None, livemode: bool) -> DataSet:
        raise NotImplementedError

    def _customer(self, customer: str, account: str | None, livemode: bool) -> DataSet:
        ds = self.dataset(account, livemode)
        if customer not in ds.customers:
            raise KeyError(customer)
        return ds

    def bank_transfer(
        self,
        customer: str,
        amount: int,
        currency: str = "usd",
        *,
        account: str | None = None,
        livemode: bool = False,
    ) -> dict[str, Any]:
        """A bank transfer lands in the customer's cash balance: a ``funded`` cash balance
        transaction (returned). KeyError for an unknown customer, ValueError for a bad amount.

        Example: ``box.bank_transfer("cus_...", 12_500, "usd")``
        """
        with self.lock:
            ds = self._customer(customer, account, livemode)
            name = str(ds.customers[customer].get("name") or "")
            try:
                txn = ds.cash.fund(customer, amount, currency, created=ds.tick(), sender=name)
            except ApiError as exc:
                raise ValueError(exc.message) from exc
            ds.events.emit("customer_cash_balance_transaction.created", txn)
            ds.events.emit("cash_balance.funds_available", ds.cash.balance(customer))
            return copy.deepcopy(txn)

    def migrate_customer(
        self, customer: str, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]:
        """The customer moves to Bank Transfers (as Stripe's migration does): a USD cash balance,
        and the account and routing number of their ACH Credit Transfer receiver kept as their
        bank-transfer address. Returns the cash balance object.

        Example: ``box.migrate_customer("cus_...")["available"]`` is ``{"usd": 0}`` at first.
        """
        with self.lock:
            ds = self._customer(customer, account, livemode)
            receiver = next(
                (
                    ds.sources[p]
                    for p in ds.items.get(customer, ())
                    if p in ds.sources and ds.sources[p]["type"] == "ach_credit_transfer"
                ),
                None,
            )
            ds.cash.migrate(customer, receiver)
            return ds.cash.balance(customer)
