"""How a source update lands on the stored source: owner fields, a source order.

On Stripe, apart from ``metadata`` (merged key by key), a hash sent in an update replaces the
stored one: send only ``owner[address][city]`` and the rest of the address becomes null
(stripe-python issue 255, stripe-go issue 179). Stripe's docs are silent for a Source's owner;
the sandbox takes the reading that cannot lose data: a client that is right against a sandbox
that replaces is right against a Stripe that merges too, never the other way round. So:

- ``owner``: email, name and phone are set one by one; an ``owner[address]`` sent replaces the
  whole address, and every address field not sent becomes null;
- ``source_order``: the order sent replaces the stored one, its ``shipping[address]`` whole
  (:func:`make_order`);
- ``mandate`` is accepted and not stored, so there is nothing to replace.

>>> merge_owner({"email": "a@b.co"}, {"name": "Ann"})["email"]
'a@b.co'
>>> old = {"address": {"line1": "1 Main St", "city": "Lyon", "postal_code": "69001"}}
>>> merge_owner(old, {"address": {"city": "Paris"}})["address"]
{'city': 'Paris', 'country': None, 'line1': None, 'line2': None, 'postal_code': None, 'state': None}
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.objects import null_address

__all__ = ["make_order", "merge_owner"]


def merge_owner(owner: dict[str, Any] | None, update: dict[str, Any]) -> dict[str, Any]:
    """The owner after an update: email, name and phone set one by one, an address sent replaces
    the stored one whole (fields not sent become null). No value clears a field: Stripe refuses
    ``""`` for every owner parameter (toolkit.sandbox.forms)."""
    merged = dict(owner or {})
    for field in ("address", "email", "name", "phone"):
        merged.setdefault(field, None)
    for field in ("verified_address", "verified_email", "verified_name", "verified_phone"):
        merged.setdefault(field, None)
    for key, value in update.items():
        if key == "address":  # a sub-hash replaces the stored one
            merged["address"] = {**null_address(), **value}
        else:
            merged[key] = value
    return merged


def make_order(src: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
    """A ``source_order`` hash from the update params."""
    currency = src["currency"] or "usd"
    items = []
    for item in order.get("items", []):
        items.append(
            {
                "amount": item.get("amount"),
                "currency": item.get("currency", currency),
                "description": item.get("description"),
                "parent": item.get("parent"),
                "quantity": item.get("quantity", 1),
                "type": item.get("type", "sku"),
            }
        )
    result: dict[str, Any] = {
        "amount": sum((i["amount"] or 0) * (i["quantity"] or 1) for i in items),
        "currency": currency,
        "email": (src.get("owner") or {}).get("email"),
        "items": items,
    }
    if "shipping" in order:
        ship = order["shipping"]
        result["shipping"] = {
            "address": {**null_address(), **ship.get("address", {})},
            "carrier": ship.get("carrier"),
            "name": ship.get("name"),
            "phone": ship.get("phone"),
            "tracking_number": ship.get("tracking_number"),
        }
    if result["email"] is None:
        del result["email"]
    return result
