"""The session's reads of where the money and the obligations live now that Sources retires:
a customer's payment methods, invoices and subscriptions, charges, balance transactions and
payouts (mixed into :class:`~toolkit.session.Session`; each one page, walked with
:func:`toolkit.fetch.lists.iter_pages`).

>>> customer = sources["customer"].dropna().iloc[0]
>>> session.list_customer_payment_methods(customer, {"limit": 1})["object"]
'list'
"""

from __future__ import annotations

import threading
from typing import Any

import toolkit.session.endpoints as ep
from toolkit.session.calls import SessionCalls
from toolkit.session.transport import seg

__all__ = ["MoneyCalls"]


class MoneyCalls(SessionCalls):
    """``list_customer_payment_methods``, ``list_invoices``, ``list_subscriptions``,
    ``list_charges``, ``list_balance_transactions``, ``list_payouts``: one page each, paced on
    their own endpoints like every call, and counted as reads."""

    @ep.names(ep.LIST_CUSTOMER_PAYMENT_METHODS)
    def list_customer_payment_methods(
        self, customer: str, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}/payment_methods``: one page of a customer's payment
        methods (Stripe lists their saved cards and card sources here too, as ``card``).
        Stripe lists payment methods only per customer: ``GET /v1/payment_methods`` without
        ``customer`` is for Treasury flows."""
        path = f"/v1/customers/{seg(customer)}/payment_methods"
        what = f"Listing the payment methods of {customer}"
        return self._read(ep.LIST_CUSTOMER_PAYMENT_METHODS, path, params, cancel, what)

    @ep.names(ep.LIST_INVOICES)
    def list_invoices(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/invoices``: one page, every customer's (``status``, ``customer``,
        ``created``, ``expand``)."""
        return self._read(ep.LIST_INVOICES, "/v1/invoices", params, cancel, "Listing invoices")

    @ep.names(ep.LIST_SUBSCRIPTIONS)
    def list_subscriptions(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/subscriptions``: one page (Stripe leaves out canceled ones unless
        ``status`` names them)."""
        path = "/v1/subscriptions"
        return self._read(ep.LIST_SUBSCRIPTIONS, path, params, cancel, "Listing subscriptions")

    @ep.names(ep.LIST_CHARGES)
    def list_charges(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/charges``: one page, newest first (``created``, ``customer``,
        ``expand[]=data.balance_transaction``, ``data.refunds``)."""
        return self._read(ep.LIST_CHARGES, "/v1/charges", params, cancel, "Listing charges")

    @ep.names(ep.LIST_BALANCE_TRANSACTIONS)
    def list_balance_transactions(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/balance_transactions``: one page (``payout``, ``type``, ``created``)."""
        path = "/v1/balance_transactions"
        what = "Listing balance transactions"
        return self._read(ep.LIST_BALANCE_TRANSACTIONS, path, params, cancel, what)

    @ep.names(ep.LIST_PAYOUTS)
    def list_payouts(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/payouts``: one page, newest first (``created``, ``status``)."""
        return self._read(ep.LIST_PAYOUTS, "/v1/payouts", params, cancel, "Listing payouts")
