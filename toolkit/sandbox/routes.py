"""The ``/v1`` endpoints: parameter specs and handlers over one DataSet.

Each handler takes the data set, the validated params and the path ids, and returns the JSON
bytes of a 200 response (or raises ApiError). Example::

    route = match_route("GET", "/v1/sources/src_123")
    body = route.handler(ds, validate(params, route.spec, NESTED), *route.args)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from toolkit.sandbox.accounts import SPEC_LIST_ACCOUNTS, list_accounts
from toolkit.sandbox.attachments import attach as attach_source
from toolkit.sandbox.attachments import delete_customer as delete_customer_record
from toolkit.sandbox.attachments import detach as detach_source
from toolkit.sandbox.billing_routes import (
    SPEC_INVOICES,
    SPEC_RETRIEVE_BILLING,
    SPEC_SUBSCRIPTIONS,
    list_invoices,
    list_subscriptions,
    retrieve_invoice,
    retrieve_subscription,
)
from toolkit.sandbox.cash_routes import (
    SPEC_CASH_BALANCE,
    SPEC_CASH_TXNS,
    SPEC_FUNDING,
    create_funding_instructions,
    list_cash_transactions,
    retrieve_cash_balance,
    with_cash_balance,
)
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.event_routes import SPEC_LIST_EVENTS, list_events, retrieve_event
from toolkit.sandbox.forms import ANY, EXPAND, INT, LIST_OF, METADATA, STR
from toolkit.sandbox.ledger_routes import (
    SPEC_BALANCE_TRANSACTIONS,
    SPEC_CHARGES,
    SPEC_PAYOUTS,
    SPEC_RETRIEVE_LEDGER,
    list_balance_transactions,
    list_charges,
    list_payouts,
    retrieve_balance_transaction,
    retrieve_charge,
    retrieve_payout,
    retrieve_refund,
)
from toolkit.sandbox.metadata import apply_metadata
from toolkit.sandbox.objects import SOURCE_TYPES
from toolkit.sandbox.pagination import list_index, paginate
from toolkit.sandbox.params import LIST, LIST_CREATED, created_of
from toolkit.sandbox.params import cursors_of as _cursors
from toolkit.sandbox.params import expand_of as _expand
from toolkit.sandbox.params import limit_of as _limit
from toolkit.sandbox.payment_method_routes import (
    SPEC_CUSTOMER_PAYMENT_METHODS,
    SPEC_PAYMENT_METHODS,
    SPEC_RETRIEVE_PAYMENT_METHOD,
    list_customer_payment_methods,
    list_payment_methods,
    retrieve_customer_payment_method,
    retrieve_payment_method,
    with_default_payment_method,
)
from toolkit.sandbox.retired import RETIRED_TYPES, retired_error
from toolkit.sandbox.source_objects import flow_of, make_source
from toolkit.sandbox.source_updates import make_order, merge_owner
from toolkit.sandbox.store import DataSet, dumps

ADDRESS = {k: STR for k in ("city", "country", "line1", "line2", "postal_code", "state")}
OWNER = {"address": ADDRESS, "email": STR, "name": STR, "phone": STR}
SHIPPING = {
    "address": ADDRESS,
    "carrier": STR,
    "name": STR,
    "phone": STR,
    "tracking_number": STR,
}
ORDER = {"items": LIST_OF + "order_item", "shipping": SHIPPING}
MANDATE = {
    "acceptance": {
        "date": INT,
        "ip": STR,
        "offline": {"contact_email": STR},
        "online": {"date": INT, "ip": STR, "user_agent": STR},
        "status": STR,
        "type": STR,
        "user_agent": STR,
    },
    "amount": ANY,  # an integer, or "" for a mandate of any amount (checked in update_checks)
    "currency": STR,
    "interval": STR,
    "notification_method": STR,
}
NESTED = {
    "order_item": {
        "amount": INT,
        "currency": STR,
        "description": STR,
        "parent": STR,
        "quantity": INT,
        "type": STR,
    }
}

SPEC_LIST_CUSTOMERS = {**LIST_CREATED, "email": STR, "test_clock": STR}
SPEC_LIST_CLOCKS = dict(LIST)
SPEC_RETRIEVE = {"expand": EXPAND}
SPEC_RETRIEVE_SOURCE = {"expand": EXPAND, "client_secret": STR}  # the secret is not needed
SPEC_LIST_ITEMS = {**LIST, "object": STR}
SPEC_ATTACH = {"source": STR, "metadata": METADATA, "expand": EXPAND}
SPEC_UPDATE_SOURCE = {
    "amount": INT,
    "expand": EXPAND,
    "mandate": MANDATE,
    "metadata": METADATA,
    "owner": OWNER,
    "source_order": ORDER,
}
SPEC_CREATE_SOURCE = {
    "amount": INT,
    "currency": STR,
    "customer": STR,
    "expand": EXPAND,
    "flow": STR,
    "mandate": ANY,
    "metadata": METADATA,
    "original_source": STR,
    "owner": OWNER,
    "receiver": {"refund_attributes_method": STR},
    "redirect": {"return_url": STR},
    "source_order": ORDER,
    "statement_descriptor": STR,
    "token": STR,
    "type": STR,
    "usage": STR,
    **{kind: ANY for kind in SOURCE_TYPES},
}
SPEC_LIST_TXNS = dict(LIST)
SPEC_DETACH = {"expand": EXPAND}


def list_customers(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/customers."""
    expand = _expand(
        params,
        ("data.sources", "data.cash_balance", "data.invoice_settings.default_payment_method"),
    )
    limit = _limit(params)
    after, before = _cursors(params)
    created = created_of(params)
    clock = params.get("test_clock")
    if clock is not None and clock not in ds.test_clocks:
        raise ApiError.missing_param("test_clock", clock, "test_clock")
    ids, more = ds.page_customers(limit, after, before, created, params.get("email"), clock)
    expanded = "data.sources" in expand
    frags = [ds.customer_json(c, expand_sources=expanded) for c in ids]
    if "data.cash_balance" in expand:
        frags = [with_cash_balance(ds, c, f) for c, f in zip(ids, frags, strict=True)]
    if "data.invoice_settings.default_payment_method" in expand:
        frags = [with_default_payment_method(ds, f) for f in frags]
    return ds.list_json(frags, more, "/v1/customers")


def list_test_clocks(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/test_helpers/test_clocks (test mode only, as in Stripe)."""
    if ds.livemode:
        raise ApiError.invalid("Test clocks are only available in test mode.", None)
    after, before = _cursors(params)
    ids = sorted(ds.test_clocks, key=lambda c: (ds.test_clocks[c]["created"], c), reverse=True)
    page, more = paginate(
        ids, 0, len(ids), list_index(ids), _limit(params), after, before, "test_clock", None
    )
    frags = [dumps(ds.test_clocks[c]) for c in page]
    return ds.list_json(frags, more, "/v1/test_helpers/test_clocks")


def retrieve_customer(ds: DataSet, params: dict[str, Any], cid: str) -> bytes:
    """GET /v1/customers/{id}. A deleted customer answers 200 ``{"id", "object": "customer",
    "deleted": true}`` (Stripe: "deleted customers can still be retrieved through the API");
    every other route of a deleted customer answers 404 ``No such customer`` (Stripe's docs say
    only that no further operation can be performed: the plausible answer)."""
    expand = _expand(params, ("sources", "cash_balance", "invoice_settings.default_payment_method"))
    if cid in ds.deleted_customers:
        return dumps({"id": cid, "object": "customer", "deleted": True})
    ds.get_customer(cid)
    body = ds.customer_json(cid, expand_sources="sources" in expand)
    if "cash_balance" in expand:
        body = with_cash_balance(ds, cid, body)
    if "invoice_settings.default_payment_method" in expand:
        body = with_default_payment_method(ds, body)
    return body


def list_items(ds: DataSet, params: dict[str, Any], cid: str) -> bytes:
    """GET /v1/customers/{id}/sources."""
    _expand(params, ())
    ds.get_customer(cid)
    kind = params.get("object")
    if kind is not None and kind not in ("source", "card", "bank_account", "alipay_account"):
        raise ApiError.invalid(f"Invalid object: {kind}", "object")
    after, before = _cursors(params)
    ids, more = ds.page_items(cid, kind, _limit(params), after, before)
    frags = [ds.obj_json(ds.payment_source(p)) for p in ids]
    return ds.list_json(frags, more, f"/v1/customers/{cid}/sources")


def retrieve_item(ds: DataSet, params: dict[str, Any], cid: str, pid: str) -> bytes:
    """GET /v1/customers/{id}/sources/{id}."""
    _expand(params, ())
    ds.get_customer(cid)
    if pid not in ds.items.get(cid, ()):
        raise ApiError.missing("source", pid)
    return ds.obj_json(ds.payment_source(pid))


def attach(ds: DataSet, params: dict[str, Any], cid: str) -> bytes:
    """POST /v1/customers/{id}/sources source=src_..."""
    _expand(params, ())
    sid = params.get("source")
    if not sid:
        raise ApiError.invalid("Missing required param: source.", "source", "parameter_missing")
    if "metadata" in params and params["metadata"] != "":
        apply_metadata({}, params["metadata"])  # validate before any write
    kind = (ds.sources.get(sid) or {}).get("type")
    if ds.sources_retired and kind in RETIRED_TYPES:
        raise retired_error(str(kind), "source")
    return ds.obj_json(attach_source(ds, cid, sid, params.get("metadata")))


def detach(ds: DataSet, params: dict[str, Any], cid: str, pid: str) -> bytes:
    """DELETE /v1/customers/{id}/sources/{id}."""
    _expand(params, ())
    return detach_source(ds, cid, pid)


def delete_customer(ds: DataSet, params: dict[str, Any], cid: str) -> bytes:
    """DELETE /v1/customers/{id}."""
    return delete_customer_record(ds, cid)


def retrieve_source(ds: DataSet, params: dict[str, Any], sid: str) -> bytes:
    """GET /v1/sources/{id}."""
    _expand(params, ())
    return ds.obj_json(ds.get_source(sid))


def update_source(ds: DataSet, params: dict[str, Any], sid: str) -> bytes:
    """POST /v1/sources/{id}."""
    _expand(params, ())
    src = ds.get_source(sid)
    ds.update_source(src, params)
    return ds.obj_json(src)


def list_transactions(ds: DataSet, params: dict[str, Any], sid: str) -> bytes:
    """GET /v1/sources/{id}/source_transactions."""
    _expand(params, ())
    ds.get_source(sid)
    after, before = _cursors(params)
    txns, more = ds.page_transactions(sid, _limit(params), after, before)
    frags = [ds.obj_json(t) for t in txns]
    return ds.list_json(frags, more, f"/v1/sources/{sid}/source_transactions")


def create_source(ds: DataSet, params: dict[str, Any]) -> bytes:
    """POST /v1/sources: a new, unattached source (receivers start pending with no funds)."""
    _expand(params, ())
    for unsupported in ("token", "original_source", "customer"):
        if unsupported in params:
            raise ApiError.invalid(
                f"The sandbox does not create sources from `{unsupported}`: pass `type` instead.",
                unsupported,
            )
    kind = params.get("type")
    if not kind:
        raise ApiError.invalid("Missing required param: type.", "type", "parameter_missing")
    if kind not in SOURCE_TYPES:
        raise ApiError.invalid(f"Invalid source type: {kind}", "type")
    if ds.sources_retired and kind in RETIRED_TYPES:
        raise retired_error(kind)
    flow = flow_of(kind)
    if "flow" in params and params["flow"] != flow:
        raise ApiError.invalid(f"Invalid flow for a {kind} source: {params['flow']}", "flow")
    currency = params.get("currency")
    if currency is not None:
        currency = currency.lower()
    elif kind == "ach_credit_transfer":
        currency = "usd"
    elif kind in ("sepa_debit", "multibanco"):
        currency = "eur"
    usage = params.get("usage")
    if usage is not None and usage not in ("reusable", "single_use"):
        raise ApiError.invalid(f"Invalid usage: {usage}", "usage")
    single_use = usage == "single_use" or (usage is None and flow == "redirect")
    if single_use and currency is None:
        raise ApiError.invalid("Missing required param: currency.", "currency", "parameter_missing")
    amount = params.get("amount")
    if amount is not None:
        if flow == "receiver":
            raise ApiError.invalid("Receiver sources do not take an amount.", "amount")
        if amount < 1:
            raise ApiError.invalid("This value must be greater than or equal to 1.", "amount")
    return_url = (params.get("redirect") or {}).get("return_url")
    if flow == "redirect" and not return_url:
        raise ApiError.invalid(
            "Missing required param: redirect[return_url].",
            "redirect[return_url]",
            "parameter_missing",
        )
    metadata = apply_metadata({}, params.get("metadata", {}))
    status = "chargeable" if flow == "none" else "pending"
    src = make_source(
        ds.rng,
        kind,
        created=ds.tick(),
        livemode=ds.livemode,
        status=status,
        currency=currency,
        amount=amount,
        usage=usage,
        metadata=metadata,
        statement_descriptor=params.get("statement_descriptor"),
        return_url=return_url or "https://example.com/return",
    )
    if "owner" in params and params["owner"] != "":
        src["owner"] = merge_owner(src["owner"], params["owner"])
    if flow == "receiver" and "receiver" in params:
        method = params["receiver"].get("refund_attributes_method")
        if method is not None:
            src["receiver"]["refund_attributes_method"] = method
    if "source_order" in params:
        src["source_order"] = make_order(src, params["source_order"])
    ds.sources[src["id"]] = src
    return ds.obj_json(src)


@dataclass(frozen=True)
class Route:
    """One endpoint: its name (method and path template, as Stripe's limits count it), its
    parameter spec, its handler, and the ids taken from the path."""

    endpoint: str
    spec: dict[str, Any]
    handler: Callable[..., bytes]
    args: tuple[str, ...]
    write: bool


_ID = r"([^/]+)"
#: (method, path template, parameter spec, handler): every endpoint the sandbox serves.
ROUTES: list[tuple[str, str, dict[str, Any], Callable[..., bytes]]] = [
    ("GET", "/v1/customers", SPEC_LIST_CUSTOMERS, list_customers),
    ("GET", "/v1/customers/{id}", SPEC_RETRIEVE, retrieve_customer),
    ("DELETE", "/v1/customers/{id}", {}, delete_customer),
    ("GET", "/v1/customers/{id}/sources", SPEC_LIST_ITEMS, list_items),
    ("POST", "/v1/customers/{id}/sources", SPEC_ATTACH, attach),
    ("GET", "/v1/customers/{id}/sources/{id}", SPEC_RETRIEVE, retrieve_item),
    ("DELETE", "/v1/customers/{id}/sources/{id}", SPEC_DETACH, detach),
    ("POST", "/v1/sources", SPEC_CREATE_SOURCE, create_source),
    ("GET", "/v1/sources/{id}", SPEC_RETRIEVE_SOURCE, retrieve_source),
    ("POST", "/v1/sources/{id}", SPEC_UPDATE_SOURCE, update_source),
    ("GET", "/v1/sources/{id}/source_transactions", SPEC_LIST_TXNS, list_transactions),
    ("GET", "/v1/test_helpers/test_clocks", SPEC_LIST_CLOCKS, list_test_clocks),
    ("GET", "/v1/events", SPEC_LIST_EVENTS, list_events),
    ("GET", "/v1/accounts", SPEC_LIST_ACCOUNTS, list_accounts),
    ("GET", "/v1/events/{id}", SPEC_RETRIEVE, retrieve_event),
    ("GET", "/v1/customers/{id}/cash_balance", SPEC_CASH_BALANCE, retrieve_cash_balance),
    ("GET", "/v1/customers/{id}/cash_balance_transactions", SPEC_CASH_TXNS, list_cash_transactions),
    ("POST", "/v1/customers/{id}/funding_instructions", SPEC_FUNDING, create_funding_instructions),
    ("GET", "/v1/customers/{id}/payment_methods", SPEC_CUSTOMER_PAYMENT_METHODS,
     list_customer_payment_methods),
    ("GET", "/v1/customers/{id}/payment_methods/{id}", SPEC_RETRIEVE_PAYMENT_METHOD,
     retrieve_customer_payment_method),
    ("GET", "/v1/payment_methods", SPEC_PAYMENT_METHODS, list_payment_methods),
    ("GET", "/v1/payment_methods/{id}", SPEC_RETRIEVE_PAYMENT_METHOD, retrieve_payment_method),
    ("GET", "/v1/invoices", SPEC_INVOICES, list_invoices),
    ("GET", "/v1/invoices/{id}", SPEC_RETRIEVE_BILLING, retrieve_invoice),
    ("GET", "/v1/subscriptions", SPEC_SUBSCRIPTIONS, list_subscriptions),
    ("GET", "/v1/subscriptions/{id}", SPEC_RETRIEVE_BILLING, retrieve_subscription),
    ("GET", "/v1/charges", SPEC_CHARGES, list_charges),
    ("GET", "/v1/charges/{id}", SPEC_RETRIEVE_LEDGER, retrieve_charge),
    ("GET", "/v1/balance_transactions", SPEC_BALANCE_TRANSACTIONS, list_balance_transactions),
    ("GET", "/v1/balance_transactions/{id}", SPEC_RETRIEVE_LEDGER, retrieve_balance_transaction),
    ("GET", "/v1/payouts", SPEC_PAYOUTS, list_payouts),
    ("GET", "/v1/payouts/{id}", SPEC_RETRIEVE_LEDGER, retrieve_payout),
    ("GET", "/v1/refunds/{id}", SPEC_RETRIEVE_LEDGER, retrieve_refund),
]  # fmt: skip
_PATTERNS = [
    (method, re.compile(template.replace("{id}", _ID)), template, spec, handler)
    for method, template, spec, handler in ROUTES
]


def match_route(method: str, path: str) -> Route | None:
    """The route serving ``method path``, with the path ids decoded, or None."""
    for route_method, pattern, template, spec, handler in _PATTERNS:
        if route_method != method:
            continue
        m = pattern.fullmatch(path)
        if m:
            args = tuple(unquote_plus(a) for a in m.groups())
            return Route(f"{method} {template}", spec, handler, args, method != "GET")
    return None
