"""The payment method endpoints: ``GET /v1/customers/{id}/payment_methods`` (and ``/{pm}``),
``GET /v1/payment_methods`` (``customer``, ``type``) and ``GET /v1/payment_methods/{id}``.

A customer's list holds their payment methods and, as Stripe shows them, their legacy cards and
card sources (toolkit.sandbox.payment_methods), newest first; ``type`` filters on a type Stripe
knows (another is a 400), ``allow_redisplay`` on that field; ``expand[]=data.customer``.
Example::

    body = list_customer_payment_methods(ds, {"type": "card"}, "cus_123")
"""

from __future__ import annotations

import json
from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.expansion import expand_customer, expand_payment_method
from toolkit.sandbox.forms import EXPAND, STR
from toolkit.sandbox.listing import one_of, page
from toolkit.sandbox.params import LIST, expand_of
from toolkit.sandbox.payment_methods import STRIPE_TYPES
from toolkit.sandbox.store import DataSet, dumps

__all__ = [
    "SPEC_CUSTOMER_PAYMENT_METHODS",
    "SPEC_PAYMENT_METHODS",
    "SPEC_RETRIEVE_PAYMENT_METHOD",
    "list_customer_payment_methods",
    "list_payment_methods",
    "retrieve_customer_payment_method",
    "retrieve_payment_method",
    "with_default_payment_method",
]

_FILTERS = {"allow_redisplay": STR, "type": STR}
SPEC_PAYMENT_METHODS = {**LIST, **_FILTERS, "customer": STR, "customer_account": STR}
SPEC_CUSTOMER_PAYMENT_METHODS = {**LIST, **_FILTERS}
SPEC_RETRIEVE_PAYMENT_METHOD = {"expand": EXPAND}
_REDISPLAY = ("always", "limited", "unspecified")


def _of_customer(ds: DataSet, cid: str) -> dict[str, dict[str, Any]]:
    """The customer's payment methods with their legacy cards and card sources, by id."""
    found = {p: ds.payment_methods.objects[p] for p in ds.payment_methods.by_customer.get(cid, ())}
    for pid in ds.items.get(cid, ()):
        view = expand_payment_method(ds, pid)
        if isinstance(view, dict):
            found[pid] = view
    return found


def _listing(
    ds: DataSet, objs: dict[str, dict[str, Any]], params: dict[str, Any], url: str
) -> bytes:
    expand = expand_of(params, ("data.customer",))
    kind = one_of(params, "type", STRIPE_TYPES)
    redisplay = one_of(params, "allow_redisplay", _REDISPLAY)

    def match(pid: str) -> bool:
        pm = objs[pid]
        return (kind is None or pm["type"] == kind) and (
            redisplay is None or pm["allow_redisplay"] == redisplay
        )

    order = sorted(objs, key=lambda p: (objs[p]["created"], p), reverse=True)
    ids, more = page(objs, order, params, "payment_method", match)
    data = [_shown(ds, objs[p], "data.customer" in expand) for p in ids]
    return dumps({"object": "list", "data": data, "has_more": more, "url": url})


def _shown(ds: DataSet, pm: dict[str, Any], with_customer: bool) -> dict[str, Any]:
    if with_customer:
        return {**pm, "customer": expand_customer(ds, pm["customer"])}
    return pm


def list_customer_payment_methods(ds: DataSet, params: dict[str, Any], cid: str) -> bytes:
    """GET /v1/customers/{id}/payment_methods."""
    ds.get_customer(cid)
    return _listing(ds, _of_customer(ds, cid), params, f"/v1/customers/{cid}/payment_methods")


def list_payment_methods(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/payment_methods: a customer's (``customer=``), or those attached to no customer
    (Stripe's Treasury list: none here)."""
    cid = params.get("customer")
    if cid is not None:
        if cid not in ds.customers:
            raise ApiError.missing_param("customer", cid, "customer")
        objs = _of_customer(ds, cid)
    else:
        objs = {p: pm for p, pm in ds.payment_methods.objects.items() if pm["customer"] is None}
    if params.get("customer_account") is not None:
        objs = {}  # the sandbox has no Accounts v2 customer accounts
    return _listing(ds, objs, params, "/v1/payment_methods")


def retrieve_payment_method(ds: DataSet, params: dict[str, Any], pid: str) -> bytes:
    """GET /v1/payment_methods/{id} (a legacy card or card source attached to a customer too)."""
    expand = expand_of(params, ("customer",))
    found = expand_payment_method(ds, pid)
    if not isinstance(found, dict):
        raise ApiError.missing("PaymentMethod", pid)
    return dumps(_shown(ds, found, "customer" in expand))


def retrieve_customer_payment_method(
    ds: DataSet, params: dict[str, Any], cid: str, pid: str
) -> bytes:
    """GET /v1/customers/{id}/payment_methods/{id}: one of the customer's payment methods."""
    expand = expand_of(params, ("customer",))
    ds.get_customer(cid)
    found = _of_customer(ds, cid).get(pid)
    if found is None:
        raise ApiError.missing("PaymentMethod", pid)
    return dumps(_shown(ds, found, "customer" in expand))


def with_default_payment_method(ds: DataSet, body: bytes) -> bytes:
    """A customer's JSON ``body`` with ``invoice_settings.default_payment_method`` expanded, as
    ``expand[]=invoice_settings.default_payment_method`` (``data.`` on a list) answers."""
    obj = json.loads(body)
    settings = obj.get("invoice_settings")
    if settings and settings.get("default_payment_method"):
        settings["default_payment_method"] = expand_payment_method(
            ds, settings["default_payment_method"]
        )
    return dumps(obj)
