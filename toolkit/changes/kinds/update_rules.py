"""Stripe's rules for the update parameters ``amount``, ``mandate`` and ``source_order``: one home.

The plan builders check a row with these rules when they make it, and apply checks them again
against the state read just before the write; the sandbox has its own copy, as it stands in for
Stripe. From Stripe's spec (``POST /v1/sources/{id}``) and reference:

- ``amount``: a whole number of minor units, at least 1. Receivers take none (their amount is
  set by the money that lands). *Choice where Stripe is silent*: a consumed, canceled or failed
  source can no longer be charged, so its amount is not changed.
- ``mandate``: ``acceptance[status]`` is required and one of accepted, pending, refused,
  revoked; ``acceptance[type]`` online or offline; an offline acceptance needs
  ``acceptance[offline][contact_email]`` (at most 800 characters), an online one
  ``acceptance[online]`` with ``date``, ``ip`` and ``user_agent``; ``acceptance[date]`` is a
  Unix time and required when the status is accepted or refused; ``amount`` a whole number, or
  ``""`` for a mandate of any amount; ``currency`` must be the source's; ``interval`` one of
  one_time, scheduled, variable; ``notification_method`` one of deprecated_none, email, manual,
  none, stripe_email. *Choice*: only debit sources (sepa_debit, ach_debit, acss_debit,
  au_becs_debit, bacs_debit) take a mandate, and not once consumed, canceled or failed.
- ``source_order``: ``items[]`` with ``amount`` and ``quantity`` whole numbers, ``type`` one of
  discount, shipping, sku, tax, ``description`` at most 1000 characters; ``shipping`` needs an
  ``address`` with ``line1``. *Choice*: only Klarna sources (transactional credit, the type
  Stripe's reference names) carry an order, and not once consumed, canceled or failed.

Values are given as flat dotted fields (``acceptance.status``, ``shipping.address.city``) and
sent as nested hashes (:func:`nest`); every problem names the parameter as Stripe does
(``mandate[acceptance][status]``).

>>> mandate_problems({"acceptance": {"status": "accepted", "type": "offline"}}, "eur")
['mandate[acceptance][date] is required when the status is accepted', 'mandate[acceptance][offline][contact_email] is required for an offline acceptance']
>>> amount_problem(0)
'amount must be at least 1 (minor units), not 0'
>>> order_problems({"shipping": {"address": {"city": "Lyon"}}})
['source_order[shipping][address][line1] is required']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "ACCEPTANCE_STATUSES",
    "ACCEPTANCE_TYPES",
    "ENDED",
    "INTERVALS",
    "ITEM_TYPES",
    "MANDATE_FIELDS",
    "MANDATE_TYPES",
    "MAX_CONTACT_EMAIL",
    "MAX_DESCRIPTION",
    "MAX_TEXT",
    "NOTIFICATION_METHODS",
    "ORDER_FIELDS",
    "ORDER_TYPES",
    "amount_problem",
    "bracket",
    "deep_merge",
    "flatten",
    "mandate_problems",
    "nest",
    "order_problems",
    "parse_field",
    "status_problem",
]

#: Source statuses after which nothing about the source's charge changes (a choice: see above).
ENDED = ("consumed", "canceled", "failed")
ACCEPTANCE_STATUSES = ("accepted", "pending", "refused", "revoked")
ACCEPTANCE_TYPES = ("offline", "online")
INTERVALS = ("one_time", "scheduled", "variable")
NOTIFICATION_METHODS = ("deprecated_none", "email", "manual", "none", "stripe_email")
ITEM_TYPES = ("discount", "shipping", "sku", "tax")
#: Source types that take a mandate (a choice: the debit types).
MANDATE_TYPES = ("sepa_debit", "ach_debit", "acss_debit", "au_becs_debit", "bacs_debit")
#: Source types that carry an order (a choice: transactional credit).
ORDER_TYPES = ("klarna",)
MAX_CONTACT_EMAIL = 800
MAX_DESCRIPTION = 1000
MAX_TEXT = 5000
_INTEGER = {"amount", "date", "acceptance.date", "acceptance.online.date", "quantity"}
#: The mandate's fields, flat: name -> "int", "text" or the tuple of allowed values.
MANDATE_FIELDS: dict[str, Any] = {
    "acceptance.status": ACCEPTANCE_STATUSES,
    "acceptance.date": "int",
    "acceptance.ip": "text",
    "acceptance.user_agent": "text",
    "acceptance.type": ACCEPTANCE_TYPES,
    "acceptance.offline.contact_email": "text",
    "acceptance.online.date": "int",
    "acceptance.online.ip": "text",
    "acceptance.online.user_agent": "text",
    "amount": "int",
    "currency": "text",
    "interval": INTERVALS,
    "notification_method": NOTIFICATION_METHODS,
}
#: The order's fields a table or a builder sets one by one, flat (``items`` is given whole).
ORDER_FIELDS: dict[str, Any] = {
    **{
        f"shipping.address.{k}": "text"
        for k in ("line1", "line2", "city", "state", "postal_code", "country")
    },
    "shipping.carrier": "text",
    "shipping.name": "text",
    "shipping.phone": "text",
    "shipping.tracking_number": "text",
}
_ITEM_FIELDS: dict[str, Any] = {
    "amount": "int",
    "currency": "text",
    "description": "text",
    "parent": "text",
    "quantity": "int",
    "type": ITEM_TYPES,
}


def bracket(prefix: str, dotted: str) -> str:
    """A dotted field as Stripe names the parameter.

    >>> bracket("mandate", "acceptance.offline.contact_email")
    'mandate[acceptance][offline][contact_email]'
    """
    return prefix + "".join(f"[{part}]" for part in dotted.split("."))


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat dotted fields as nested hashes.

    >>> nest({"acceptance.status": "accepted", "interval": "one_time"})
    {'acceptance': {'status': 'accepted'}, 'interval': 'one_time'}
    """
    out: dict[str, Any] = {}
    for name, value in flat.items():
        *path, last = name.split(".")
        place = out
        for part in path:
            place = place.setdefault(part, {})
        place[last] = value
    return out


def flatten(nested: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested hashes as flat dotted fields (lists are kept whole).

    >>> flatten({"shipping": {"address": {"line1": "1 Rue"}, "name": "Ann"}})
    {'shipping.address.line1': '1 Rue', 'shipping.name': 'Ann'}
    """
    out: dict[str, Any] = {}
    for key, value in nested.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def deep_merge(base: Any, change: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``change`` laid over it, hash by hash (a list or a value replaces).

    >>> deep_merge({"shipping": {"name": "Ann", "carrier": "UPS"}}, {"shipping": {"carrier": "DHL"}})
    {'shipping': {'name': 'Ann', 'carrier': 'DHL'}}
    """
    out = dict(base) if isinstance(base, Mapping) else {}
    for key, value in change.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_field(name: str, value: Any) -> Any:
    """A cell or argument as the value of the field ``name`` (its last part decides): whole
    numbers for amounts, quantities and dates (a date may be given as ``2026-12-01`` or an ISO
    time, read as UTC), text for the rest. Raises ValueError saying why it cannot be.

    >>> parse_field("acceptance.date", "2026-12-01")
    1796083200
    >>> parse_field("amount", "1250")
    1250
    """
    last = name.rsplit(".", 1)[-1]
    if name in _INTEGER or last in _INTEGER:
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        text = str(value).strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        if last == "date":
            try:
                when = datetime.fromisoformat(text)
            except ValueError:
                pass
            else:
                when = when if when.tzinfo else when.replace(tzinfo=UTC)
                return int(when.timestamp())
            raise ValueError(f"{name} {text!r} is not a Unix time or a date like 2026-12-01")
        raise ValueError(f"{name} {text!r} is not a whole number")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"{name} must be text, not {type(value).__name__}")
    return str(value).strip()


def status_problem(
    what: str, state: Mapping[str, Any] | None, types: tuple[str, ...]
) -> str | None:
    """Why a source in ``state`` (its ``status`` and ``type``, None when unknown) does not take
    ``what``: its type is not one of ``types`` (all when empty) or its status has ended.

    >>> status_problem("a mandate", {"status": "consumed", "type": "sepa_debit"}, MANDATE_TYPES)
    'a consumed source does not take a mandate'
    """
    if not state:
        return None
    kind, status = state.get("type"), state.get("status")
    if types and kind is not None and kind not in types:
        return f"a {kind} source does not take {what} (only {', '.join(types)} do)"
    if status in ENDED:
        return f"a {status} source does not take {what}"
    return None


def amount_problem(amount: Any, state: Mapping[str, Any] | None = None) -> str | None:
    """Why ``amount`` cannot be sent for a source in ``state`` (or None): a whole number of at
    least 1, never on a receiver, not once the source has ended.

    >>> amount_problem(500, {"flow": "receiver", "status": "chargeable"})
    'a receiver takes no amount: the money that lands sets it'
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        return f"amount must be a whole number of minor units, not {amount!r}"
    if amount < 1:
        return f"amount must be at least 1 (minor units), not {amount}"
    if state and state.get("flow") == "receiver":
        return "a receiver takes no amount: the money that lands sets it"
    return status_problem("an amount change", state, ())


def _value_problems(prefix: str, flat: Mapping[str, Any], fields: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for name, value in flat.items():
        param = bracket(prefix, name)
        rule = fields.get(name)
        if rule is None:
            problems.append(f"unknown parameter {param}")
        elif rule == "int":
            any_amount = name == "amount" and value == "" and prefix == "mandate"
            if (isinstance(value, bool) or not isinstance(value, int)) and not any_amount:
                problems.append(f"{param} must be a whole number, not {value!r}")
        elif not isinstance(value, str):
            problems.append(f"{param} must be text, not {type(value).__name__}")
        elif value == "":
            problems.append(f"{param} cannot be empty (Stripe refuses an empty string)")
        elif isinstance(rule, tuple) and value not in rule:
            problems.append(f"{param} {value!r} must be one of {', '.join(rule)}")
        elif len(value) > MAX_TEXT:
            problems.append(f"{param} is {len(value)} characters long (Stripe allows {MAX_TEXT})")
    return problems


def mandate_problems(mandate: Any, currency: Any = None) -> list[str]:
    """Every way ``mandate`` (nested, as sent) breaks Stripe's rules, for a source whose
    currency is ``currency`` (None when unknown); [] when fine.

    >>> mandate_problems({"acceptance": {"status": "ok"}, "currency": "usd"}, "eur")
    ["mandate[acceptance][status] 'ok' must be one of accepted, pending, refused, revoked", "mandate[currency] 'usd' must be the source's currency (eur)"]
    """
    if not isinstance(mandate, Mapping):
        return ["mandate must be a hash of fields"]
    flat = flatten(mandate)
    problems = _value_problems("mandate", flat, MANDATE_FIELDS)
    acceptance = mandate.get("acceptance")
    if acceptance is not None:
        if not isinstance(acceptance, Mapping):
            return [*problems, "mandate[acceptance] must be a hash"]
        status = acceptance.get("status")
        if status is None:
            problems.append("mandate[acceptance][status] is required")
        if status in ("accepted", "refused") and acceptance.get("date") is None:
            problems.append(f"mandate[acceptance][date] is required when the status is {status}")
        kind = acceptance.get("type")
        offline, online = acceptance.get("offline"), acceptance.get("online")
        if kind == "offline":
            email = (offline or {}).get("contact_email") if isinstance(offline, Mapping) else None
            if not email:
                problems.append(
                    "mandate[acceptance][offline][contact_email] is required for an offline "
                    "acceptance"
                )
            elif isinstance(email, str) and len(email) > MAX_CONTACT_EMAIL:
                problems.append(
                    f"mandate[acceptance][offline][contact_email] is {len(email)} characters "
                    f"long (Stripe allows {MAX_CONTACT_EMAIL})"
                )
        if kind == "online" or online is not None:
            given = online if isinstance(online, Mapping) else {}
            for part in ("date", "ip", "user_agent"):
                if given.get(part) in (None, ""):
                    problems.append(f"mandate[acceptance][online][{part}] is required")
        if offline is not None and kind != "offline":
            problems.append(
                "mandate[acceptance][offline] is only for mandate[acceptance][type]=offline"
            )
        if online is not None and kind not in (None, "online"):
            problems.append(
                "mandate[acceptance][online] is only for mandate[acceptance][type]=online"
            )
    given_currency = mandate.get("currency")
    if (
        isinstance(given_currency, str)
        and isinstance(currency, str)
        and given_currency.lower() != currency.lower()
    ):
        problems.append(
            f"mandate[currency] {given_currency!r} must be the source's currency ({currency})"
        )
    return problems


def order_problems(order: Any) -> list[str]:
    """Every way ``order`` (a ``source_order`` hash, as sent) breaks Stripe's rules; [] when fine.

    >>> order_problems({"items": [{"type": "gift", "quantity": "2"}]})
    ["source_order[items][0][type] 'gift' must be one of discount, shipping, sku, tax", "source_order[items][0][quantity] must be a whole number, not '2'"]
    """
    if not isinstance(order, Mapping):
        return ["source_order must be a hash of fields"]
    problems: list[str] = []
    unknown = sorted(set(order) - {"items", "shipping"})
    problems += [f"unknown parameter source_order[{name}]" for name in unknown]
    items = order.get("items")
    if items is not None:
        if not isinstance(items, list):
            problems.append("source_order[items] must be a list of items")
        else:
            for index, item in enumerate(items):
                where = f"source_order[items][{index}]"
                if not isinstance(item, Mapping):
                    problems.append(f"{where} must be a hash")
                    continue
                for problem in _value_problems(where, flatten(item), _ITEM_FIELDS):
                    problems.append(problem)
                description = item.get("description")
                if isinstance(description, str) and len(description) > MAX_DESCRIPTION:
                    problems.append(
                        f"{where}[description] is {len(description)} characters long "
                        f"(Stripe allows {MAX_DESCRIPTION})"
                    )
    shipping = order.get("shipping")
    if shipping is not None:
        if not isinstance(shipping, Mapping):
            return [*problems, "source_order[shipping] must be a hash"]
        flat = {f"shipping.{k}": v for k, v in flatten(shipping).items()}
        problems += _value_problems("source_order", flat, ORDER_FIELDS)
        address = shipping.get("address")
        if not isinstance(address, Mapping) or not address.get("line1"):
            problems.append("source_order[shipping][address][line1] is required")
    return problems
