"""The sandbox's admin side of cash balances: a bank transfer lands, a customer migrates.

:class:`CashAdmin` is mixed into :class:`~toolkit.sandbox.Sandbox` (and served at
``POST /_sandbox/bank_transfer`` and ``POST /_sandbox/migrate``). A migration does what Stripe's
automatic migration does (toolkit.sandbox.ach_migration); afterwards money sent to a migrated
receiver's account number lands in the cash balance. Example::

    box.bank_transfer("cus_123", 25_000)          # USD 250.00 into the cash balance
    box.migrate_customer("cus_456")               # moves to Bank Transfers, keeps the number
    box.deposit("src_of_cus_456", 5_000)          # now a bank transfer into cus_456's balance
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from toolkit.errors import NotFoundError
from toolkit.sandbox.ach_migration import migrate_sources
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.source_admin import SourceAdmin
from toolkit.sandbox.store import DataSet

__all__ = ["CashAdmin"]


class CashAdmin(SourceAdmin):
    """Admin operations on the cash balances of a sandbox's data sets (and money sent to the
    receivers they replaced)."""

    lock: threading.RLock

    def _customer(self, customer: str, account: str | None, livemode: bool) -> DataSet:
        ds = self.dataset(account, livemode)
        if customer not in ds.customers:
            where = f"account {account}, " if account else ""
            raise NotFoundError(
                f"No such customer: {customer!r} in this sandbox ({where}"
                f"{'live' if livemode else 'test'} mode). Pass the id of one of its customers, "
                "e.g. from toolkit.load_sources(session)['customer'].",
                status=404,
                code="resource_missing",
            )
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
        transaction (returned). :class:`~toolkit.errors.NotFoundError` naming an unknown customer,
        ValueError for a bad amount.

        Example: ``box.bank_transfer("cus_...", 12_500, "usd")``
        """
        with self.lock:
            ds = self._customer(customer, account, livemode)
            name = str(ds.customers[customer].get("name") or "")
            try:
                txn = ds.cash.fund(customer, amount, currency, created=ds.tick(), sender=name)
            except ApiError as exc:
                raise ValueError(exc.message) from exc
            self._landed(ds, customer, [txn])
            return copy.deepcopy(txn)

    @staticmethod
    def _landed(ds: DataSet, customer: str, txns: list[dict[str, Any]]) -> None:
        """The events Stripe records when money lands in a cash balance."""
        for txn in txns:
            ds.events.emit("customer_cash_balance_transaction.created", txn)
        if txns:
            ds.events.emit("cash_balance.funds_available", ds.cash.balance(customer))

    def migrate_customer(
        self, customer: str, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]:
        """The customer moves to Bank Transfers as Stripe's automatic migration moves them
        (toolkit.sandbox.ach_migration): their ACH Credit Transfer sources leave their list of
        payment sources (consumed, retrievable by id), the money left on them moves into a USD
        cash balance (``funded``, its reference the source id), and the newest receiver's
        account and routing number become the bank-transfer address. No source event. Returns
        the cash balance object.

        Example: ``box.migrate_customer("cus_...")["available"]`` is ``{"usd": 0}`` when the
        receivers held nothing.
        """
        with self.lock:
            ds = self._customer(customer, account, livemode)
            self._landed(ds, customer, migrate_sources(ds, customer, when=ds.tick()))
            return ds.cash.balance(customer)

    def deposit(
        self, source_id: str, amount: int, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]:
        """Money sent to a receiver's bank details: on a migrated ACH Credit Transfer source it
        lands in its customer's cash balance (a ``funded`` cash balance transaction is returned,
        no source event); otherwise :meth:`SourceAdmin.deposit`.

        Example: ``box.deposit("src_...", 12_500)``
        """
        customer = self.dataset(account, livemode).cash.fed_by.get(source_id)
        if customer is None:
            return super().deposit(source_id, amount, account=account, livemode=livemode)
        return self.bank_transfer(customer, amount, "usd", account=account, livemode=livemode)

    def reverse(
        self, source_id: str, amount: int, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]:
        """The sender's bank takes money back: on a migrated ACH Credit Transfer source from its
        customer's cash balance (``funding_reversed``, then ``adjusted_for_overdraft`` when the
        balance went below 0; the reversal is returned); otherwise :meth:`SourceAdmin.reverse`.

        Example: ``box.reverse("src_...", 2_500)``
        """
        ds = self.dataset(account, livemode)
        customer = ds.cash.fed_by.get(source_id)
        if customer is None:
            return super().reverse(source_id, amount, account=account, livemode=livemode)
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise ValueError(f"give the reversed amount as a positive number, not {amount!r}")
        with self.lock:
            txns = ds.cash.reverse_funding(customer, amount, "usd", created=ds.tick())
            for txn in txns:
                ds.events.emit("customer_cash_balance_transaction.created", txn)
            return copy.deepcopy(txns[0])
