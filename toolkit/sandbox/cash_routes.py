"""The cash balance endpoints: a customer's cash balance, its transactions, funding instructions.

``GET /v1/customers/{id}/cash_balance``, ``GET /v1/customers/{id}/cash_balance_transactions``
(``limit``, cursors, newest first) and ``POST /v1/customers/{id}/funding_instructions``
(``bank_transfer[type]=us_bank_transfer``, ``currency=usd``, ``funding_type=bank_transfer``;
Stripe creates the instructions when missing, so this is a write). Example::

    body = retrieve_cash_balance(ds, {}, "cus_123")
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.forms import EXPAND, STR
from toolkit.sandbox.pagination import list_index, paginate
from toolkit.sandbox.params import LIST, cursors_of, expand_of, limit_of
from toolkit.sandbox.store import DataSet, dumps

__all__ = [
    "CASH_EXPAND",
    "SPEC_CASH_BALANCE",
    "SPEC_CASH_TXNS",
    "SPEC_FUNDING",
    "create_funding_instructions",
    "list_cash_transactions",
    "retrieve_cash_balance",
    "with_cash_balance",
]

#: ``expand[]`` names that embed a customer's cash balance (Stripe includes it only when asked).
CASH_EXPAND = ("cash_balance", "data.cash_balance")

SPEC_CASH_BALANCE = {"expand": EXPAND}
SPEC_CASH_TXNS = dict(LIST)
SPEC_FUNDING = {
    "bank_transfer": {"type": STR, "eu_bank_transfer": {"country": STR}},
    "currency": STR,
    "funding_type": STR,
    "expand": EXPAND,
}


def with_cash_balance(ds: DataSet, cid: str, body: bytes) -> bytes:
    """A customer's JSON ``body`` with its ``cash_balance`` object embedded, as
    ``expand[]=cash_balance`` (or ``data.cash_balance`` on a list) answers."""
    return body[:-1] + b',"cash_balance":' + dumps(ds.cash.balance(cid)) + b"}"


def retrieve_cash_balance(ds: DataSet, params: dict[str, Any], cid: str) -> bytes:
    """GET /v1/customers/{id}/cash_balance."""
    expand_of(params, ())
    ds.get_customer(cid)
    return dumps(ds.cash.balance(cid))


def list_cash_transactions(ds: DataSet, params: dict[str, Any], cid: str) -> bytes:
    """GET /v1/customers/{id}/cash_balance_transactions."""
    expand_of(params, ())
    ds.get_customer(cid)
    after, before = cursors_of(params)
    txns = ds.cash.txns.get(cid, [])
    ids = [t["id"] for t in txns]
    page, more = paginate(
        ids,
        0,
        len(ids),
        list_index(ids),
        limit_of(params),
        after,
        before,
        "customer_cash_balance_transaction",
        None,
    )
    by_id = {t["id"]: t for t in txns}
    frags = [dumps(by_id[i]) for i in page]
    return ds.list_json(frags, more, f"/v1/customers/{cid}/cash_balance_transactions")


def create_funding_instructions(ds: DataSet, params: dict[str, Any], cid: str) -> bytes:
    """POST /v1/customers/{id}/funding_instructions (USD bank transfers)."""
    expand_of(params, ())
    cus = ds.get_customer(cid)
    for name in ("bank_transfer", "currency", "funding_type"):
        if name not in params:
            raise ApiError.invalid(f"Missing required param: {name}.", name, "parameter_missing")
    if params["funding_type"] != "bank_transfer":
        raise ApiError.invalid(f"Invalid funding_type: {params['funding_type']}", "funding_type")
    kind = (params["bank_transfer"] or {}).get("type")
    if kind != "us_bank_transfer":
        raise ApiError.invalid(
            "The sandbox gives funding instructions for bank_transfer[type]=us_bank_transfer only.",
            "bank_transfer[type]",
        )
    body = ds.cash.funding_instructions(cid, str(params["currency"]).lower(), cus.get("name") or "")
    return dumps(body)
