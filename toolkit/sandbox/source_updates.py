"""How a source update merges into the stored source: owner fields, a source order.

>>> merge_owner({"email": "a@b.co"}, {"name": "Ann"})["email"]
'a@b.co'

"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.objects import null_address

__all__ = ["make_order", "merge_owner"]


def merge_owner(owner: dict[str, Any] | None, update: dict[str, Any]) -> dict[str, Any]:
    """Owner fields merge, address fields too. Nothing clears a field: Stripe refuses ``""``
    for every owner parameter (toolkit.sandbox.forms)."""
    merged = dict(owner or {})
    for field in ("address", "email", "name", "phone"):
        merged.setdefault(field, None)
    for field in ("verified_address", "verified_email", "verified_name", "verified_phone"):
        merged.setdefault(field, None)
    for key, value in update.items():
        if key == "address":
            merged["address"] = {**(merged["address"] or null_address()), **value}
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
