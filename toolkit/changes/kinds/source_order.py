"""The source_order kind: set the items and shipping of an order-bearing source (Klarna), and undo
it by sending the previous order back.

Stripe replaces a ``source_order`` sent in an update whole (its items list, and its
``shipping[address]``), so a row always sends the whole order: the order read from the source
with the row's change applied (a carrier fix keeps the items, the name and the rest of the
address). Fields are flat and dotted (``shipping.carrier``, ``shipping.address.city``);
``items`` is given whole, as a list of items (``amount``, ``currency``, ``description``,
``parent``, ``quantity``, ``type``). An order is compared in the shape it is sent in
(:func:`order_shape`: empty fields left out, an item's currency, quantity and type as Stripe
fills them in), so done, drift and undo look at the whole order.

Undo sends the whole previous order back; a source that had no order cannot be left without
one (Stripe takes no empty ``source_order``), so that undo row is refused, saying so.

>>> order_shape({"amount": 500, "email": "a@b.co", "items": [{"amount": 500, "currency": "usd",
...              "description": None, "parent": None, "quantity": 1, "type": "sku"}]}, "usd")
{'items': [{'amount': 500, 'currency': 'usd', 'quantity': 1, 'type': 'sku'}]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from toolkit.changes.kinds.base import (
    SourceState,
    SourceUpdate,
    TableRequest,
    built_request,
    dotted_columns,
)
from toolkit.changes.kinds.update_rules import (
    ORDER_FIELDS,
    ORDER_TYPES,
    deep_merge,
    flatten,
    nest,
    order_problems,
    parse_field,
    status_problem,
)
from toolkit.changes.rows import PlanRow, quote
from toolkit.changes.text import text_or_none
from toolkit.errors import InvalidInputError

__all__ = [
    "ORDER_COLUMNS",
    "SourceOrderChange",
    "order_diff",
    "order_request",
    "order_shape",
    "order_text",
]

#: The fields an order table may have: the flat shipping fields, and ``items`` (JSON).
ORDER_COLUMNS = [*ORDER_FIELDS, "items"]
_ITEM_KEYS = ("amount", "currency", "description", "parent", "quantity", "type")


def _clean(value: Any) -> Any:
    """A hash without its empty fields (recursively); None when nothing is left."""
    if isinstance(value, Mapping):
        out = {k: c for k, v in value.items() if (c := _clean(v)) is not None}
        return out or None
    return None if value in (None, "") else value


def order_shape(order: Any, currency: Any = None) -> dict[str, Any] | None:
    """An order (as Stripe shows it, or as a row sends it) in the shape it is sent: ``items``
    (each with its currency, quantity 1 and type sku filled in as Stripe does) and ``shipping``
    without empty fields; None for no order."""
    if not isinstance(order, Mapping):
        return None
    items = []
    for item in order.get("items") or []:
        if not isinstance(item, Mapping):
            continue
        shaped = {k: item.get(k) for k in _ITEM_KEYS if item.get(k) not in (None, "")}
        if currency and "currency" not in shaped:
            shaped["currency"] = currency
        shaped.setdefault("quantity", 1)
        shaped.setdefault("type", "sku")
        items.append(shaped)
    out: dict[str, Any] = {"items": items}
    shipping = _clean(order.get("shipping"))
    if shipping:
        out["shipping"] = shipping
    return out


def order_request(fields: Mapping[str, Any]) -> dict[str, Any]:
    """What a row is asked, as a partial order: flat shipping fields (or a nested hash) and
    ``items`` (a list, or its JSON text). Raises :class:`~toolkit.errors.InvalidInputError`
    for unknown fields (listing the known ones) and values that cannot be sent.

    >>> order_request({"shipping.carrier": "DHL", "shipping.tracking_number": 123})
    {'shipping': {'carrier': 'DHL', 'tracking_number': '123'}}
    """
    if not isinstance(fields, Mapping):
        raise InvalidInputError("source_order must be a dict like {'shipping.carrier': 'DHL'}.")
    fields = dict(fields)
    items = fields.pop("items", None)
    flat = flatten(fields)
    unknown = sorted(name for name in flat if name not in ORDER_FIELDS)
    if unknown:
        raise InvalidInputError(
            f"Unknown source_order field(s) {unknown}: use {', '.join(ORDER_COLUMNS)}."
        )
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name, value in flat.items():
        try:
            values[name] = parse_field(name, value)
        except ValueError as exc:
            problems.append(str(exc))
    order = nest(values)
    if items is not None:
        if isinstance(items, str):
            try:
                items = json.loads(items)
            except ValueError:
                problems.append('items must be a JSON list like [{"amount": 500, "quantity": 1}]')
        order["items"] = items
    problems += [p for p in order_problems(order) if "[line1] is required" not in p]
    if problems:
        raise InvalidInputError("Cannot plan this source_order: " + "; ".join(problems))
    if not order:
        raise InvalidInputError("Nothing to change: give e.g. {'shipping.carrier': 'DHL'}.")
    return order


def order_text(order: Any) -> str:
    """An order as a plan shows it, one value.

    >>> order_text({"items": [{"amount": 500, "quantity": 2}], "shipping": {"carrier": "DHL"}})
    'items: 2×500; shipping.carrier=DHL'
    """
    if not order:
        return "∅"
    parts = []
    items = order.get("items")
    if items:
        shown = ", ".join(f"{i.get('quantity', 1)}×{i.get('amount')}" for i in items)
        parts.append(f"items: {shown}")
    parts += [f"{k}={v}" for k, v in flatten(order.get("shipping") or {}, "shipping.").items()]
    return "; ".join(parts) or "∅"


def order_diff(before: Any, after: Any) -> str:
    """What a change does to an order, field by field (the order is still sent whole).

    >>> order_diff({"items": [], "shipping": {"name": "Ann"}},
    ...            {"items": [], "shipping": {"name": "Ann", "carrier": "DHL"}})
    "set source_order.shipping.carrier: ∅ → 'DHL' (the order is sent whole)"
    """
    was = flatten(before or {})
    now = flatten(after or {})
    parts = [
        f"set source_order.{name}: {quote(_shown(was.get(name)))} → {quote(_shown(now.get(name)))}"
        for name in [*now, *(n for n in was if n not in now)]
        if was.get(name) != now.get(name)
    ]
    return "; ".join(parts) + " (the order is sent whole)"


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return order_text({"items": value})
    return str(value)


class SourceOrderChange(SourceUpdate):
    """Set the items and shipping of sources that carry an order (sent whole)."""

    name = "source_order"
    action = "update_source_order"
    plan_input = "table"
    plan_input_help = (
        "a CSV with an id column and source_order.<field> columns (source_order.shipping.carrier, "
        "source_order.shipping.address.line1, ..., source_order.items as JSON)"
    )

    # -- the state ---------------------------------------------------------------------------
    def state_of(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The order (in the shape it is sent) and what its rules read: type, status, currency."""
        currency = text_or_none(obj.get("currency"))
        return {
            "type": text_or_none(obj.get("type")),
            "status": text_or_none(obj.get("status")),
            "currency": currency,
            "order": order_shape(obj.get("source_order"), currency),
        }

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        """Known only from a source dict showing its order (the sources frame has no order
        column): else None, and apply merges the change into the order it reads. A frame row
        whose type or status takes no order says so, so that the plan refuses it at once."""
        if "source_order" in row:
            return self.state_of(row)
        state = self.state_of(row)
        if status_problem("a source order", state, ORDER_TYPES):
            return state
        return None

    # -- the plan ----------------------------------------------------------------------------
    def _target(self, before: Any, request: Mapping[str, Any]) -> dict[str, Any]:
        base = (before or {}).get("order") or {}
        currency = (before or {}).get("currency")
        target = deep_merge(base, request)
        return order_shape(target, currency) or {"items": []}

    def plan_row(self, number: int, source: SourceState, request: dict[str, Any]) -> PlanRow:
        """The whole order to send: the source's order with ``request`` laid over it."""
        before = source.before
        problem = status_problem("a source order", before, ORDER_TYPES)
        if problem:
            return self.refused(number, source, problem)
        if before is None:
            problems = [p for p in order_problems(request) if "[line1] is required" not in p]
            if problems:
                return self.refused(number, source, "; ".join(problems))
            change = (
                f"set source_order: {order_text(request)} (current order unknown: merged at apply)"
            )
            return self.row(
                number, source, {"source_order": request}, None, None, "ready", "", change
            )
        target = self._target(before, request)
        problems = order_problems(target)
        if problems:
            return self.refused(number, source, "; ".join(problems))
        after = {**before, "order": target}
        if before.get("order") == target:
            return self.row(number, source, {}, before, after, "noop", "no change", "")
        change = order_diff(before.get("order"), target)
        return self.row(
            number, source, {"source_order": target}, before, after, "ready", "", change
        )

    def table_columns(self, columns: list[Any]) -> tuple[dict[Any, str], list[str]]:
        """``source_order.<field>`` columns (or the bare field names); any other column is
        refused, and the error lists the fields it knows."""
        fields = dotted_columns(columns, "source_order", ORDER_COLUMNS)
        return fields, ["empty cell = leave the field unchanged; the order is sent whole"]

    def table_request(self, cells: dict[Any, Any], fields: dict[Any, str]) -> TableRequest:
        return built_request(order_request, cells, fields)

    # -- the rules at the write --------------------------------------------------------------
    def _sent(self, row: PlanRow) -> Any:
        return row["params"].get("source_order")

    def is_done(self, row: PlanRow, current: Any) -> bool:
        """The whole order is the one sent (for a row planned from bare ids: every field it
        asks for shows)."""
        order = current.get("order")
        if row["before"] is None:
            return order is not None and self._target(current, self._sent(row)) == order
        return bool(order == order_shape(self._sent(row), current.get("currency")))

    def drift(self, row: PlanRow, current: Any) -> str | None:
        before = row["before"]
        if before is None or current.get("order") == before.get("order"):
            return None
        return (
            f"source_order is {order_text(current.get('order'))}, plan expected "
            f"{order_text(before.get('order'))}"
        )

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """The source still takes an order, and the whole order sent keeps Stripe's rules."""
        problem = status_problem("a source order", current, ORDER_TYPES)
        if problem:
            return problem
        return (
            "; ".join(order_problems(self.to_send(row, current)["params"]["source_order"])) or None
        )

    def to_send(self, row: PlanRow, current: Any) -> PlanRow:
        """A row planned from bare ids sends the order read just now with its change applied."""
        if row["before"] is not None or not isinstance(current, Mapping):
            return row
        target = self._target(current, self._sent(row))
        return {**row, "params": {"source_order": target}, "before": dict(current)}

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if not isinstance(params, Mapping) or set(params) != {"source_order"}:
            return "a source_order row sends only source_order"
        problems = [p for p in order_problems(params["source_order"]) if "[line1]" not in p]
        return "; ".join(problems) or None

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [("set", "source_order")]

    # -- the write and its undo --------------------------------------------------------------
    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        currency = (before or {}).get("currency")
        return {**(before or {}), "order": order_shape(params.get("source_order"), currency)}

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        """Send the whole order from before; a source that had none cannot lose its order."""
        was, now = before.get("order"), after.get("order")
        if was == now:
            return None
        if was is None:
            return {
                **row,
                "params": {},
                "before": after,
                "after": None,
                "status": "invalid",
                "reason": (
                    "cannot be undone exactly: the source had no order before and Stripe takes "
                    "no empty source_order; change it by hand if needed"
                ),
                "change": "",
            }
        return {
            **row,
            "params": {"source_order": was},
            "before": after,
            "after": {**after, "order": was},
            "status": "ready",
            "reason": "",
            "change": f"restore source_order: {order_text(was)}",
        }
