"""A Stripe-compatible server on loopback with seeded demo data, fault injection and a request log.

Endpoints (Stripe's shapes, errors and status codes; form-encoded bracket params as the SDK sends):
``GET /v1/customers`` (limit, cursors, created[...], email, expand[]=data.sources),
``GET /v1/customers/{id}`` (expand[]=sources), ``GET|POST /v1/customers/{id}/sources``,
``GET|DELETE /v1/customers/{id}/sources/{id}``, ``POST /v1/sources``,
``GET|POST /v1/sources/{id}``, ``GET /v1/sources/{id}/source_transactions``; cash balances,
events and accounts; payment methods, invoices, subscriptions, charges, refunds, balance
transactions and payouts (toolkit.sandbox.routes lists them all).
Control routes live under ``/_sandbox/`` (deposit, reverse, requests, faults, reset, planted,
health; see toolkit.sandbox.admin). The planted anomalies are described in toolkit.sandbox.seed.

Example::

    from toolkit.sandbox import Sandbox

    with Sandbox(seed=7) as box:
        print(box.url, box.planted["funds_on_canceled"])
        box.deposit(box.planted["stale_pending"][0], 5_000)
"""

from toolkit.sandbox.log import RequestLogEntry
from toolkit.sandbox.sandbox import Sandbox
from toolkit.sandbox.store import SANDBOX_NOW

__all__ = ["SANDBOX_NOW", "RequestLogEntry", "Sandbox"]
