"""Writes on a customer's list of payment sources: attach, detach, and deleting the customer,
each with Stripe's refusals and the event Stripe records (``customer.source.created``,
``customer.source.deleted``, ``customer.deleted``). The caller holds the sandbox lock.

Example::

    src = attach(ds, "cus_123", "src_456", None)      # the source, now the customer's
    body = detach(ds, "cus_123", "src_456")           # JSON of the consumed source
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.metadata import apply_metadata
from toolkit.sandbox.store import ATTACHABLE, DataSet, dumps

__all__ = ["attach", "delete_customer", "detach"]


def attach(ds: DataSet, cid: str, sid: str, metadata: Any) -> dict[str, Any]:
    """POST /v1/customers/{cid}/sources source=sid: refuse what Stripe refuses."""
    ds.get_customer(cid)
    src = ds.sources.get(sid)
    if src is None:
        if sid in ds.cards:
            raise ApiError(
                400,
                f"The payment source {sid} is already attached to a customer.",
                param="source",
            )
        raise ApiError.missing_param("source", sid, "source")
    if src.get("customer") == cid and sid in ds.items.get(cid, ()):
        if metadata is not None:
            before = dict(src["metadata"])
            src["metadata"] = apply_metadata(src["metadata"], metadata)
            ds.touch_source(src)
            if src["metadata"] != before:
                ds.events.emit("customer.source.updated", src, {"metadata": before})
        return src
    if src["status"] == "consumed":
        raise ApiError(
            400,
            f"The source {sid} has already been consumed and cannot be attached to a "
            "customer. Create a new source instead.",
            param="source",
        )
    if src["status"] not in ATTACHABLE:
        raise ApiError(
            400,
            f"The source {sid} is {src['status']}; only chargeable or pending sources "
            "can be attached to a customer.",
            param="source",
        )
    if src.get("customer") and src["customer"] != cid:
        raise ApiError(
            400,
            f"The source {sid} is already attached to another customer.",
            param="source",
        )
    new_meta = src["metadata"] if metadata is None else apply_metadata(src["metadata"], metadata)
    src["metadata"] = new_meta
    src["customer"] = cid
    ds.items.setdefault(cid, []).insert(0, sid)
    cus = ds.customers[cid]
    if cus["default_source"] is None:
        cus["default_source"] = sid
    ds.touch_customer(cid)
    ds.touch_source(src)
    ds.events.emit("customer.source.created", src)
    return src


def detach(ds: DataSet, cid: str, pid: str) -> bytes:
    """DELETE /v1/customers/{cid}/sources/{pid}: a source becomes consumed, a card is deleted."""
    ds.get_customer(cid)
    items = ds.items.get(cid, [])
    if pid not in items:
        raise ApiError.missing("source", pid, "id")
    items.remove(pid)
    cus = ds.customers[cid]
    if cus["default_source"] == pid:
        cus["default_source"] = items[0] if items else None
    ds.touch_customer(cid)
    if pid in ds.cards:
        card = ds.cards.pop(pid)
        ds.forget_json(pid)
        gone = {"id": pid, "object": card["object"], "deleted": True}
        ds.events.emit("customer.source.deleted", {**card, "deleted": True})
        return dumps(gone)
    src = ds.sources[pid]
    src["status"] = "consumed"
    ds.touch_source(src)
    ds.events.emit("customer.source.deleted", src)
    return ds.obj_json(src)


def delete_customer(ds: DataSet, cid: str) -> bytes:
    """DELETE /v1/customers/{cid}: the customer is gone; its sources are detached (consumed,
    still retrievable by id) and its cards deleted. Stripe's docs do not say what becomes of a
    deleted customer's sources; this is the plausible reading of "detach".

    A customer with a cash balance in any currency, even of 0, is refused: Stripe's cash balance
    object says "You cannot delete a customer with any cash balances, even if the balance is 0".
    Stripe does not publish the error; the plausible one is a 400 ``invalid_request_error``
    without a code, saying so."""
    cus = ds.get_customer(cid)
    held = ds.cash.available.get(cid)
    if held:
        amounts = ", ".join(f"{cur} {amount}" for cur, amount in sorted(held.items()))
        raise ApiError(
            400,
            f"You cannot delete customer '{cid}': it has a cash balance ({amounts}). A customer "
            "with any cash balance, even if the balance is 0, cannot be deleted.",
        )
    for pid in list(ds.items.get(cid, ())):
        if pid in ds.cards:
            ds.cards.pop(pid)
            ds.forget_json(pid)
        elif pid in ds.sources:
            ds.sources[pid]["status"] = "consumed"
            ds.touch_source(ds.sources[pid])
    ds.items.pop(cid, None)
    ds.remove_customer(cid)
    ds.events.emit("customer.deleted", cus)
    return dumps({"id": cid, "object": "customer", "deleted": True})
