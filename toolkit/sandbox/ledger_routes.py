"""The ledger endpoints: charges, balance transactions, payouts and refunds.

``GET /v1/charges`` (``customer``, ``payment_intent``, ``transfer_group``, ``created``;
``expand[]=data.balance_transaction``, ``data.customer``, ``data.refunds``) and
``GET /v1/charges/{id}``; ``GET /v1/balance_transactions`` (``source``, ``payout``, ``type``,
``currency``, ``created``; ``expand[]=data.source``) and ``GET /v1/balance_transactions/{id}``;
``GET /v1/payouts`` (``status``, ``destination``, ``created``, ``arrival_date``;
``expand[]=data.balance_transaction``) and ``GET /v1/payouts/{id}``; ``GET /v1/refunds/{id}``.
All newest first with Stripe's cursors. A ``customer`` or ``payout`` filter naming nothing is
Stripe's 400 ``resource_missing``; a ``source`` naming nothing lists nothing (Stripe does not say:
the plausible choice). Example::

    body = list_balance_transactions(ds, {"payout": "po_123", "limit": 100})
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.expansion import expand_customer
from toolkit.sandbox.forms import ANY, EXPAND, STR
from toolkit.sandbox.ledger_objects import (
    BALANCE_TYPES,
    balance_object,
    charge_object,
    payout_object,
    source_of,
)
from toolkit.sandbox.listing import one_of, page
from toolkit.sandbox.pagination import in_created
from toolkit.sandbox.params import LIST_CREATED, created_of, expand_of
from toolkit.sandbox.store import DataSet, dumps

__all__ = [
    "SPEC_BALANCE_TRANSACTIONS",
    "SPEC_CHARGES",
    "SPEC_PAYOUTS",
    "SPEC_RETRIEVE_LEDGER",
    "list_balance_transactions",
    "list_charges",
    "list_payouts",
    "retrieve_balance_transaction",
    "retrieve_charge",
    "retrieve_payout",
    "retrieve_refund",
]

SPEC_CHARGES = {**LIST_CREATED, "customer": STR, "payment_intent": STR, "transfer_group": STR}
SPEC_BALANCE_TRANSACTIONS = {
    **LIST_CREATED,
    "currency": STR,
    "payout": STR,
    "source": STR,
    "type": STR,
}
SPEC_PAYOUTS = {**LIST_CREATED, "arrival_date": ANY, "destination": STR, "status": STR}
SPEC_RETRIEVE_LEDGER = {"expand": EXPAND}
_PAYOUT_STATUSES = ("canceled", "failed", "in_transit", "paid", "pending")


def _now(ds: DataSet) -> float:
    return float(ds.events.now())


def _charge(ds: DataSet, record: dict[str, Any], names: set[str]) -> dict[str, Any]:
    ledger = ds.ledger
    obj = charge_object(ledger, record, refunds="refunds" in names)
    if "balance_transaction" in names:
        bt = ledger.balance[record["balance_transaction"]]
        obj["balance_transaction"] = balance_object(bt, _now(ds))
    if "customer" in names:
        obj["customer"] = expand_customer(ds, record["customer"])
    return obj


def _names(expand: set[str], prefix: str) -> set[str]:
    return {e[len(prefix) :] for e in expand if e.startswith(prefix)}


def list_charges(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/charges."""
    expand = expand_of(params, ("data.balance_transaction", "data.customer", "data.refunds"))
    ledger = ds.ledger
    cid = params.get("customer")
    if cid is not None and cid not in ds.customers:
        raise ApiError.missing_param("customer", cid, "customer")
    intent, group = params.get("payment_intent"), params.get("transfer_group")
    charges = ledger.charges

    def match(chid: str) -> bool:
        c = charges[chid]
        return (
            (cid is None or c["customer"] == cid)
            and (intent is None or c["payment_intent"] == intent)
            and group is None  # no charge of the sandbox has a transfer group
        )

    ids, more = page(charges, ledger.order("charges"), params, "charge", match)
    names = _names(expand, "data.")
    data = [_charge(ds, charges[c], names) for c in ids]
    return dumps({"object": "list", "data": data, "has_more": more, "url": "/v1/charges"})


def retrieve_charge(ds: DataSet, params: dict[str, Any], chid: str) -> bytes:
    """GET /v1/charges/{id}."""
    expand = expand_of(params, ("balance_transaction", "customer", "refunds"))
    record = ds.ledger.charges.get(chid)
    if record is None:
        raise ApiError.missing("charge", chid)
    return dumps(_charge(ds, record, expand))


def _balance(ds: DataSet, bt: dict[str, Any], with_source: bool) -> dict[str, Any]:
    ledger = ds.ledger
    obj = balance_object(bt, _now(ds))
    if with_source and bt["source"] is not None:
        obj["source"] = source_of(ledger, bt) or bt["source"]
    return obj


def list_balance_transactions(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/balance_transactions."""
    expand = expand_of(params, ("data.source",))
    ledger = ds.ledger
    kind = one_of(params, "type", BALANCE_TYPES)
    payout, source = params.get("payout"), params.get("source")
    if payout is not None and payout not in ledger.payouts:
        raise ApiError.missing_param("payout", payout, "payout")
    currency = (params.get("currency") or "").lower() or None
    balance, paid_in = ledger.balance, ledger.paid_in

    def match(tid: str) -> bool:
        bt = balance[tid]
        return (
            (kind is None or bt["type"] == kind)
            and (source is None or bt["source"] == source)
            and (payout is None or paid_in.get(tid) == payout)
            and (currency is None or bt["currency"] == currency)
        )

    ids, more = page(balance, ledger.order("balance"), params, "balance_transaction", match)
    data = [_balance(ds, balance[t], "data.source" in expand) for t in ids]
    url = "/v1/balance_transactions"
    return dumps({"object": "list", "data": data, "has_more": more, "url": url})


def retrieve_balance_transaction(ds: DataSet, params: dict[str, Any], tid: str) -> bytes:
    """GET /v1/balance_transactions/{id}."""
    expand = expand_of(params, ("source",))
    bt = ds.ledger.balance.get(tid)
    if bt is None:
        raise ApiError.missing("balance transaction", tid)
    return dumps(_balance(ds, bt, "source" in expand))


def _payout(ds: DataSet, payout: dict[str, Any], with_txn: bool) -> dict[str, Any]:
    ledger = ds.ledger
    obj = payout_object(payout, _now(ds))
    if with_txn:
        bt = ledger.balance[payout["balance_transaction"]]
        obj["balance_transaction"] = balance_object(bt, _now(ds))
    return obj


def list_payouts(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/payouts."""
    expand = expand_of(params, ("data.balance_transaction",))
    ledger = ds.ledger
    status = one_of(params, "status", _PAYOUT_STATUSES)
    destination = params.get("destination")
    arrival = created_of({"created": params["arrival_date"]}) if "arrival_date" in params else {}
    payouts, now = ledger.payouts, _now(ds)

    def match(pid: str) -> bool:
        po = payouts[pid]
        shown = "paid" if po["arrival_date"] <= now else "in_transit"
        return (
            (status is None or shown == status)
            and (destination is None or po["destination"] == destination)
            and (not arrival or in_created(po["arrival_date"], arrival))
        )

    ids, more = page(payouts, ledger.order("payouts"), params, "payout", match)
    data = [_payout(ds, payouts[p], "data.balance_transaction" in expand) for p in ids]
    return dumps({"object": "list", "data": data, "has_more": more, "url": "/v1/payouts"})


def retrieve_payout(ds: DataSet, params: dict[str, Any], pid: str) -> bytes:
    """GET /v1/payouts/{id}."""
    expand = expand_of(params, ("balance_transaction",))
    payout = ds.ledger.payouts.get(pid)
    if payout is None:
        raise ApiError.missing("payout", pid)
    return dumps(_payout(ds, payout, "balance_transaction" in expand))


def retrieve_refund(ds: DataSet, params: dict[str, Any], rid: str) -> bytes:
    """GET /v1/refunds/{id}."""
    expand = expand_of(params, ("balance_transaction", "charge"))
    ledger = ds.ledger
    refund = ledger.refunds.get(rid)
    if refund is None:
        raise ApiError.missing("refund", rid)
    obj = dict(refund)
    if "balance_transaction" in expand:
        bt = ledger.balance[refund["balance_transaction"]]
        obj["balance_transaction"] = balance_object(bt, _now(ds))
    if "charge" in expand and refund["charge"]:
        obj["charge"] = charge_object(ledger, ledger.charges[refund["charge"]])
    return dumps(obj)
