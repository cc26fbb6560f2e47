"""Stripe's refusals of a source update's ``amount``, ``mandate`` and ``source_order``.

The shapes (unknown names, integers, empty strings) are checked by the parameter spec
(:mod:`toolkit.sandbox.forms`); these are the rules about values and about the source, each a
400 ``invalid_request_error`` naming the parameter as Stripe does (``mandate[acceptance][status]``):

- a required parameter missing: ``code: parameter_missing``, ``Missing required param: ...``;
- a value outside an enum: ``Invalid mandate[interval]: must be one of one_time, scheduled, or
  variable`` with no code (Stripe's shape for ``usage``, stripe-dotnet issue 1092);
- a string too long: ``Invalid ...: must be at most 800 characters``, no code.

Where Stripe's docs are silent the sandbox chooses, and says so:

- ``amount``: receivers take none (their amount is set by the money that lands); a consumed,
  canceled or failed source can no longer be charged, so its amount is refused too;
- ``mandate``: ``acceptance[date]`` is required when the status is accepted or refused (the
  reference calls it the time the customer accepted or refused), ``offline[contact_email]`` is
  at most 800 characters, ``mandate[currency]`` must be the source's; only debit sources
  (sepa_debit, ach_debit, acss_debit, au_becs_debit, bacs_debit) take a mandate, and not once
  consumed, canceled or failed. Stripe's Source object has no ``mandate`` field
  (``shared/stripe``'s schema), so the mandate is accepted and not shown on retrieve;
- ``source_order``: only Klarna sources (transactional credit, which Stripe's reference says
  needs an order before it is charged) carry one, and not once consumed, canceled or failed;
  ``shipping`` needs ``address[line1]``, an item's ``description`` at most 1000 characters.

>>> check_mandate({"type": "sepa_debit", "status": "chargeable", "currency": "eur"},
...               {"acceptance": {"status": "maybe"}})
Traceback (most recent call last):
...
toolkit.sandbox.errors.ApiError: Invalid mandate[acceptance][status]: must be one of accepted, pending, refused, or revoked
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.errors import ApiError

__all__ = ["ENDED", "MANDATE_TYPES", "ORDER_TYPES", "check_amount", "check_mandate", "check_order"]

ENDED = ("consumed", "canceled", "failed")
MANDATE_TYPES = ("sepa_debit", "ach_debit", "acss_debit", "au_becs_debit", "bacs_debit")
ORDER_TYPES = ("klarna",)
_ENUMS = {
    "mandate[acceptance][status]": ("accepted", "pending", "refused", "revoked"),
    "mandate[acceptance][type]": ("offline", "online"),
    "mandate[interval]": ("one_time", "scheduled", "variable"),
    "mandate[notification_method]": (
        "deprecated_none",
        "email",
        "manual",
        "none",
        "stripe_email",
    ),
}


def _missing(param: str) -> ApiError:
    return ApiError.invalid(f"Missing required param: {param}.", param, "parameter_missing")


def _enum(param: str, value: Any) -> None:
    allowed = _ENUMS[param]
    if value is not None and value not in allowed:
        listed = ", ".join(allowed[:-1]) + f", or {allowed[-1]}"
        raise ApiError.invalid(f"Invalid {param}: must be one of {listed}", param)


def _at_most(param: str, value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        raise ApiError.invalid(f"Invalid {param}: must be at most {limit} characters", param)


def _ended(src: dict[str, Any], param: str, what: str) -> None:
    if src.get("status") in ENDED:
        raise ApiError.invalid(
            f"This source is {src['status']}: {what} can no longer be changed.", param
        )


def check_amount(src: dict[str, Any], amount: int) -> None:
    """Refuse an ``amount`` Stripe would not take for ``src``."""
    if src["flow"] == "receiver":
        raise ApiError.invalid(
            "Receiver sources do not take an amount: it is set by the funds that land.",
            "amount",
        )
    if amount < 1:
        raise ApiError.invalid("This value must be greater than or equal to 1.", "amount")
    _ended(src, "amount", "its amount")


def check_mandate(src: dict[str, Any], mandate: dict[str, Any]) -> None:
    """Refuse a ``mandate`` Stripe would not take for ``src`` (see the module for the rules)."""
    if src.get("type") not in MANDATE_TYPES:
        raise ApiError.invalid(
            f"A source of type {src.get('type')} does not take a mandate: only "
            f"{', '.join(MANDATE_TYPES)} sources do.",
            "mandate",
        )
    _ended(src, "mandate", "its mandate")
    acceptance = mandate.get("acceptance")
    if acceptance is not None:
        status = acceptance.get("status")
        if status is None:
            raise _missing("mandate[acceptance][status]")
        _enum("mandate[acceptance][status]", status)
        kind = acceptance.get("type")
        _enum("mandate[acceptance][type]", kind)
        if status in ("accepted", "refused") and acceptance.get("date") is None:
            raise _missing("mandate[acceptance][date]")
        offline, online = acceptance.get("offline"), acceptance.get("online")
        if kind == "offline":
            email = (offline or {}).get("contact_email")
            if email is None:
                raise _missing("mandate[acceptance][offline][contact_email]")
            _at_most("mandate[acceptance][offline][contact_email]", email, 800)
        elif offline is not None:
            raise ApiError.invalid(
                "mandate[acceptance][offline] can only be set when mandate[acceptance][type] "
                "is offline.",
                "mandate[acceptance][offline]",
            )
        if kind == "online" or online is not None:
            if online is None:
                raise _missing("mandate[acceptance][online]")
            for part in ("date", "ip", "user_agent"):
                if online.get(part) is None:
                    raise _missing(f"mandate[acceptance][online][{part}]")
            if kind not in (None, "online"):
                raise ApiError.invalid(
                    "mandate[acceptance][online] can only be set when mandate[acceptance][type] "
                    "is online.",
                    "mandate[acceptance][online]",
                )
    amount = mandate.get("amount")
    if amount is not None and amount != "":
        text = str(amount).strip()
        if not text.lstrip("-").isdigit():
            raise ApiError.invalid(
                f"Invalid integer: {amount}", "mandate[amount]", "parameter_invalid_integer"
            )
    _enum("mandate[interval]", mandate.get("interval"))
    _enum("mandate[notification_method]", mandate.get("notification_method"))
    currency = mandate.get("currency")
    if currency is not None and currency.lower() != (src.get("currency") or "").lower():
        raise ApiError.invalid(
            f"The mandate's currency ({currency.lower()}) must match the source's currency "
            f"({src.get('currency')}).",
            "mandate[currency]",
        )


def check_order(src: dict[str, Any], order: dict[str, Any]) -> None:
    """Refuse a ``source_order`` Stripe would not take for ``src``."""
    if src.get("type") not in ORDER_TYPES:
        raise ApiError.invalid(
            f"A source of type {src.get('type')} does not take a source_order: only "
            f"{', '.join(ORDER_TYPES)} sources do.",
            "source_order",
        )
    _ended(src, "source_order", "its order")
    for index, item in enumerate(order.get("items") or []):
        where = f"source_order[items][{index}]"
        kind = item.get("type")
        allowed = ("discount", "shipping", "sku", "tax")
        if kind is not None and kind not in allowed:
            raise ApiError.invalid(
                f"Invalid {where}[type]: must be one of discount, shipping, sku, or tax",
                f"{where}[type]",
            )
        _at_most(f"{where}[description]", item.get("description"), 1000)
    shipping = order.get("shipping")
    if shipping is not None:
        if "address" not in shipping:
            raise _missing("source_order[shipping][address]")
        if not shipping["address"].get("line1"):
            raise _missing("source_order[shipping][address][line1]")
