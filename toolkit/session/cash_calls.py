"""The session's calls for customer cash balances (Bank Transfers, where ACH Credit Transfer
money lands after Stripe's migration), mixed into :class:`~toolkit.session.Session`.

>>> customer = sources["customer"].dropna().iloc[0]
>>> sorted(session.retrieve_cash_balance(customer))[:3]
['available', 'customer', 'customer_account']
"""

from __future__ import annotations

import threading
from typing import Any

import toolkit.session.endpoints as ep
from toolkit.session.calls import SessionCalls
from toolkit.session.transport import Answer, seg

__all__ = ["CashCalls"]


class CashCalls(SessionCalls):
    """``retrieve_cash_balance``, ``list_cash_balance_transactions``,
    ``create_funding_instructions``: paced on their own endpoints like every call."""

    @ep.names(ep.RETRIEVE_CASH_BALANCE)
    def retrieve_cash_balance(
        self, customer: str, *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}/cash_balance``: ``available`` per currency and settings."""
        path = f"/v1/customers/{seg(customer)}/cash_balance"
        what = f"Retrieving the cash balance of {customer}"
        return self._read(ep.RETRIEVE_CASH_BALANCE, path, {}, cancel, what)

    @ep.names(ep.LIST_CASH_TRANSACTIONS)
    def list_cash_balance_transactions(
        self, customer: str, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}/cash_balance_transactions``: one page, newest first."""
        path = f"/v1/customers/{seg(customer)}/cash_balance_transactions"
        what = f"Listing the cash balance transactions of {customer}"
        return self._read(ep.LIST_CASH_TRANSACTIONS, path, params, cancel, what)

    @ep.names(ep.CREATE_FUNDING_INSTRUCTIONS)
    def create_funding_instructions(
        self, customer: str, currency: str = "usd", *, cancel: threading.Event | None = None
    ) -> Answer:
        """``POST /v1/customers/{id}/funding_instructions`` for USD bank transfers. Stripe
        creates the instructions when the customer has none, so this is a write: refused in
        live mode unless the session allows live writes. One key per customer and currency, so a
        retry never creates a second account number."""
        path = f"/v1/customers/{seg(customer)}/funding_instructions"
        params = {
            "bank_transfer": {"type": "us_bank_transfer"},
            "currency": currency,
            "funding_type": "bank_transfer",
        }
        key = f"toolkit-funding-{customer}-{currency}"
        what = f"Reading the funding instructions of {customer}"
        return self._write(ep.CREATE_FUNDING_INSTRUCTIONS, "post", path, params, key, cancel, what)
