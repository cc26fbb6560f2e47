"""``expand[]`` of the objects the lists past Sources name: a customer, a payment source, a
payment method. Each returns the object Stripe would embed, or the id when the sandbox holds no
such object (a deleted customer answers Stripe's deleted stub).

>>> from toolkit.sandbox.store import DataSet
>>> ds = DataSet(livemode=False, account=None, rng_seed="1:runtime")
>>> expand_customer(ds, None), expand_customer(ds, "cus_gone")
(None, 'cus_gone')
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.payment_methods import card_view
from toolkit.sandbox.store import DataSet

__all__ = ["expand_customer", "expand_payment_method", "expand_payment_source"]


def expand_customer(ds: DataSet, cid: str | None) -> Any:
    """The customer ``cid`` (its deleted stub once deleted), or the id if unknown."""
    if cid is None:
        return None
    if cid in ds.deleted_customers:
        return {"id": cid, "object": "customer", "deleted": True}
    return ds.customers.get(cid, cid)


def expand_payment_source(ds: DataSet, pid: str | None) -> Any:
    """The source, card or bank account ``pid``, or the id if unknown."""
    if pid is None:
        return None
    return ds.sources.get(pid) or ds.cards.get(pid) or pid


def expand_payment_method(ds: DataSet, pid: str | None) -> Any:
    """The payment method ``pid`` (a legacy card or card source as the PaymentMethods API shows
    it), or the id if unknown."""
    if pid is None:
        return None
    found = ds.payment_methods.objects.get(pid)
    if found is not None:
        return found
    item = ds.sources.get(pid) or ds.cards.get(pid)
    if item is None or not item.get("customer"):
        return pid
    owner = str(item["customer"])
    created = ds.created_at.get(pid) or item.get("created") or 0
    view = card_view(item, owner, int(created), ds.livemode)
    return view if view is not None else pid
