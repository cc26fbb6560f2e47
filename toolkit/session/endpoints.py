"""Stripe's endpoints as its rate limits count them: one named operation (method and path
template) whatever the ids, so that ``GET /v1/sources/src_1`` and ``GET /v1/sources/src_2``
share one limit.

>>> endpoint_of("get", "/v1/customers/cus_9Xa2/sources")
'GET /v1/customers/{id}/sources'
>>> endpoint_of("POST", "/v1/sources/src_1Ab?expand[]=x")
'POST /v1/sources/{id}'
>>> endpoint_of("get", "/v1/test_helpers/test_clocks")
'GET /v1/test_helpers/test_clocks'
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "ATTACH_SOURCE",
    "CREATE_FUNDING_INSTRUCTIONS",
    "DETACH_SOURCE",
    "LIST_ACCOUNTS",
    "LIST_BALANCE_TRANSACTIONS",
    "LIST_CASH_TRANSACTIONS",
    "LIST_CHARGES",
    "LIST_CUSTOMERS",
    "LIST_CUSTOMER_PAYMENT_METHODS",
    "LIST_CUSTOMER_SOURCES",
    "LIST_EVENTS",
    "LIST_INVOICES",
    "LIST_PAYOUTS",
    "LIST_SOURCE_TRANSACTIONS",
    "LIST_SUBSCRIPTIONS",
    "LIST_TEST_CLOCKS",
    "RETRIEVE_CASH_BALANCE",
    "RETRIEVE_CUSTOMER",
    "RETRIEVE_SOURCE",
    "UPDATE_SOURCE",
    "endpoint_of",
    "names",
]

LIST_CUSTOMERS = "GET /v1/customers"
RETRIEVE_CUSTOMER = "GET /v1/customers/{id}"
LIST_CUSTOMER_SOURCES = "GET /v1/customers/{id}/sources"
ATTACH_SOURCE = "POST /v1/customers/{id}/sources"
DETACH_SOURCE = "DELETE /v1/customers/{id}/sources/{id}"
RETRIEVE_SOURCE = "GET /v1/sources/{id}"
UPDATE_SOURCE = "POST /v1/sources/{id}"
LIST_SOURCE_TRANSACTIONS = "GET /v1/sources/{id}/source_transactions"
LIST_TEST_CLOCKS = "GET /v1/test_helpers/test_clocks"
RETRIEVE_CASH_BALANCE = "GET /v1/customers/{id}/cash_balance"
LIST_CASH_TRANSACTIONS = "GET /v1/customers/{id}/cash_balance_transactions"
CREATE_FUNDING_INSTRUCTIONS = "POST /v1/customers/{id}/funding_instructions"
LIST_EVENTS = "GET /v1/events"
LIST_ACCOUNTS = "GET /v1/accounts"
LIST_CUSTOMER_PAYMENT_METHODS = "GET /v1/customers/{id}/payment_methods"
LIST_INVOICES = "GET /v1/invoices"
LIST_SUBSCRIPTIONS = "GET /v1/subscriptions"
LIST_CHARGES = "GET /v1/charges"
LIST_BALANCE_TRANSACTIONS = "GET /v1/balance_transactions"
LIST_PAYOUTS = "GET /v1/payouts"


def _is_id(segment: str) -> bool:
    # Stripe's fixed path words are lower-case letters and underscores; its ids carry digits or
    # capitals (``src_1Ab...``). Where Stripe does not say, this is the plausible rule.
    return any(c.isdigit() or c.isupper() for c in segment) or "%" in segment


def endpoint_of(method: str, path: str) -> str:
    """``"METHOD /v1/template"`` for a request path (ids replaced by ``{id}``)."""
    path = path.partition("?")[0]
    parts = [p for p in path.split("/") if p]
    named = [parts[0]] + ["{id}" if _is_id(p) else p for p in parts[1:]] if parts else []
    return f"{method.upper()} /{'/'.join(named)}"


def names(endpoint: str) -> Callable[[F], F]:
    """Mark a session method with the endpoint it calls (``session.list_customers.endpoint``),
    so a scheduler can pace work by endpoint without knowing paths."""

    def mark(fn: F) -> F:
        fn.endpoint = endpoint  # type: ignore[attr-defined]
        return fn

    return mark
