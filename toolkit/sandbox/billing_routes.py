"""The billing endpoints: ``GET /v1/invoices`` (``customer``, ``status``, ``subscription``,
``collection_method``, ``created``, ``due_date``), ``GET /v1/invoices/{id}``,
``GET /v1/subscriptions`` (``customer``, ``status``, ``price``, ``plan``, ``collection_method``,
``created``, ``current_period_start``/``_end``, ``test_clock``) and
``GET /v1/subscriptions/{id}``; newest first, Stripe's cursors, and ``expand[]`` of
``customer``, ``default_payment_method``, ``default_source`` (and a subscription's
``latest_invoice``).

As Stripe documents: a subscription list without ``status`` leaves canceled subscriptions out,
``status=all`` lists every one, ``status=ended`` the canceled and expired ones. An id passed as a
filter that names nothing (customer, subscription, price, plan, test clock) is Stripe's 400
``resource_missing``. Example::

    body = list_invoices(ds, {"status": "open", "limit": 100})
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.billing import LIVE_SUBSCRIPTION
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.expansion import expand_customer, expand_payment_method, expand_payment_source
from toolkit.sandbox.forms import ANY, BOOL, EXPAND, STR
from toolkit.sandbox.invoices import INVOICE_STATUSES
from toolkit.sandbox.listing import one_of, page
from toolkit.sandbox.pagination import in_created
from toolkit.sandbox.params import LIST_CREATED, created_of, expand_of
from toolkit.sandbox.store import DataSet, dumps

__all__ = [
    "SPEC_INVOICES",
    "SPEC_RETRIEVE_BILLING",
    "SPEC_SUBSCRIPTIONS",
    "list_invoices",
    "list_subscriptions",
    "retrieve_invoice",
    "retrieve_subscription",
]

_COLLECTION = ("charge_automatically", "send_invoice")
SPEC_INVOICES = {
    **LIST_CREATED,
    "collection_method": STR,
    "customer": STR,
    "customer_account": STR,
    "due_date": ANY,
    "status": STR,
    "subscription": STR,
}
SPEC_SUBSCRIPTIONS = {
    **LIST_CREATED,
    "automatic_tax": {"enabled": BOOL},
    "collection_method": STR,
    "current_period_end": ANY,
    "current_period_start": ANY,
    "customer": STR,
    "customer_account": STR,
    "plan": STR,
    "price": STR,
    "status": STR,
    "test_clock": STR,
}
SPEC_RETRIEVE_BILLING = {"expand": EXPAND}
_SUB_STATUSES = (*LIVE_SUBSCRIPTION, "all", "canceled", "ended", "incomplete_expired")
_EXPANDABLE = ("customer", "default_payment_method", "default_source")


def _expanded(ds: DataSet, obj: dict[str, Any], expand: set[str], prefix: str) -> dict[str, Any]:
    """``obj`` with the fields ``expand`` names (``prefix`` ``"data."`` on a list) embedded."""
    names = {e[len(prefix) :] for e in expand if e.startswith(prefix)}
    if not names:
        return obj
    out = dict(obj)
    if "customer" in names:
        out["customer"] = expand_customer(ds, obj["customer"])
    if "default_payment_method" in names:
        out["default_payment_method"] = expand_payment_method(ds, obj["default_payment_method"])
    if "default_source" in names:
        out["default_source"] = expand_payment_source(ds, obj["default_source"])
    if "latest_invoice" in names and obj.get("latest_invoice"):
        out["latest_invoice"] = ds.billing.invoices.get(
            obj["latest_invoice"], obj["latest_invoice"]
        )
    return out


def _known_customer(ds: DataSet, params: dict[str, Any]) -> str | None:
    cid = params.get("customer")
    if cid is not None and cid not in ds.customers:
        raise ApiError.missing_param("customer", cid, "customer")
    return cid


def list_invoices(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/invoices."""
    expand = expand_of(params, tuple(f"data.{e}" for e in _EXPANDABLE))
    billing = ds.billing
    cid = _known_customer(ds, params)
    status = one_of(params, "status", INVOICE_STATUSES)
    method = one_of(params, "collection_method", _COLLECTION)
    sub = params.get("subscription")
    if sub is not None and sub not in billing.subscriptions:
        raise ApiError.missing_param("subscription", sub, "subscription")
    due = created_of({"created": params["due_date"]}) if "due_date" in params else {}
    invoices = billing.invoices

    def match(iid: str) -> bool:
        inv = invoices[iid]
        return (
            (cid is None or inv["customer"] == cid)
            and (status is None or inv["status"] == status)
            and (method is None or inv["collection_method"] == method)
            and (sub is None or billing.subscription_of(inv) == sub)
            and (not due or (inv["due_date"] is not None and in_created(inv["due_date"], due)))
            and params.get("customer_account") is None
        )

    ids, more = page(invoices, billing.order("invoices"), params, "invoice", match)
    data = [_expanded(ds, invoices[i], expand, "data.") for i in ids]
    return dumps({"object": "list", "data": data, "has_more": more, "url": "/v1/invoices"})


def retrieve_invoice(ds: DataSet, params: dict[str, Any], iid: str) -> bytes:
    """GET /v1/invoices/{id}."""
    expand = expand_of(params, _EXPANDABLE)
    inv = ds.billing.invoices.get(iid)
    if inv is None:
        raise ApiError.missing("invoice", iid)
    return dumps(_expanded(ds, inv, expand, ""))


def _sub_status(status: str | None, actual: str) -> bool:
    if status is None:
        return actual != "canceled"
    if status == "all":
        return True
    if status == "ended":
        return actual in ("canceled", "incomplete_expired")
    return actual == status


def list_subscriptions(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/subscriptions."""
    names = (*_EXPANDABLE, "latest_invoice")
    expand = expand_of(params, tuple(f"data.{e}" for e in names))
    billing = ds.billing
    cid = _known_customer(ds, params)
    status = one_of(params, "status", _SUB_STATUSES)
    method = one_of(params, "collection_method", _COLLECTION)
    price = params.get("price") or params.get("plan")
    for name in ("price", "plan"):
        if params.get(name) is not None and params[name] not in billing.prices:
            raise ApiError.missing_param(name, params[name], name)
    clock = params.get("test_clock")
    if clock is not None and clock not in ds.test_clocks:
        raise ApiError.missing_param("test_clock", clock, "test_clock")
    tax = (params.get("automatic_tax") or {}).get("enabled")
    ends = (
        created_of({"created": params["current_period_end"]})
        if "current_period_end" in params
        else {}
    )
    starts = (
        created_of({"created": params["current_period_start"]})
        if "current_period_start" in params
        else {}
    )
    subs = billing.subscriptions

    def match(sid: str) -> bool:
        sub = subs[sid]
        item = sub["items"]["data"][0]
        return (
            (cid is None or sub["customer"] == cid)
            and _sub_status(status, sub["status"])
            and (method is None or sub["collection_method"] == method)
            and (price is None or item["price"]["id"] == price)
            and (clock is None or sub["test_clock"] == clock)
            and (tax is None or sub["automatic_tax"]["enabled"] == tax)
            and (not ends or in_created(item["current_period_end"], ends))
            and (not starts or in_created(item["current_period_start"], starts))
            and params.get("customer_account") is None
        )

    ids, more = page(subs, billing.order("subscriptions"), params, "subscription", match)
    data = [_expanded(ds, subs[s], expand, "data.") for s in ids]
    return dumps({"object": "list", "data": data, "has_more": more, "url": "/v1/subscriptions"})


def retrieve_subscription(ds: DataSet, params: dict[str, Any], sid: str) -> bytes:
    """GET /v1/subscriptions/{id}."""
    expand = expand_of(params, (*_EXPANDABLE, "latest_invoice"))
    sub = ds.billing.subscriptions.get(sid)
    if sub is None:
        raise ApiError.missing("subscription", sid)
    return dumps(_expanded(ds, sub, expand, ""))
