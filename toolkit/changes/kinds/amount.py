"""The amount kind: change the amount of a source (``POST /v1/sources/{id} amount=...``), and undo
it exactly.

An amount is a whole number of the currency's minor units (``1250`` is EUR 12.50); a plan may
be asked in major units (``amount_major="12.50"``), converted per source with its currency, and
the plan says so. The rules (:func:`~toolkit.changes.kinds.update_rules.amount_problem`): at
least 1, never on a receiver, not once the source is consumed, canceled or failed. Done and
drift compare the amount; undo sends the amount from before (a source that had none cannot be
given "none" back: Stripe takes no empty amount, so that row of the undo is refused, saying so).

>>> AmountChange().is_done({"params": {"amount": 1250}}, {"amount": 1250, "status": "pending"})
True
>>> amount_request(amount_major="12.50")
AmountRequest(minor=None, major='12.50')
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from toolkit.changes.kinds.base import (
    SourceState,
    SourceUpdate,
    TableRequest,
)
from toolkit.changes.kinds.update_rules import amount_problem, parse_field
from toolkit.changes.rows import PlanRow
from toolkit.changes.text import blank, text_or_none
from toolkit.errors import InvalidInputError
from toolkit.money import format_money, major_to_minor

__all__ = ["AMOUNT_COLUMNS", "AmountChange", "AmountRequest", "amount_request", "amount_text"]

#: The columns an amount table may have (besides its id column).
AMOUNT_COLUMNS = ("amount", "amount_major")


class AmountRequest(NamedTuple):
    """What an amount row is asked: minor units, or major units (text) to convert per source."""

    minor: int | None
    major: str | None


def amount_request(amount: Any = None, amount_major: Any = None) -> AmountRequest:
    """The request of :func:`~toolkit.plan_amount`: exactly one of ``amount`` (minor units) and
    ``amount_major`` (major units, e.g. ``"12.50"``); raises
    :class:`~toolkit.errors.InvalidInputError` for anything else.

    >>> amount_request(1250)
    AmountRequest(minor=1250, major=None)
    """
    given = [v for v in (amount, amount_major) if not blank(v)]
    if len(given) != 1:
        raise InvalidInputError(
            "Give exactly one of amount= (minor units, e.g. 1250) and amount_major= (e.g. '12.50')."
        )
    if not blank(amount):
        try:
            minor = parse_field("amount", amount)
        except ValueError as exc:
            raise InvalidInputError(f"Cannot plan this amount: {exc}.") from None
        problem = amount_problem(minor)
        if problem:
            raise InvalidInputError(f"Cannot plan this amount: {problem}.")
        return AmountRequest(minor, None)
    if isinstance(amount_major, bool) or not isinstance(amount_major, str | int | float | Decimal):
        raise InvalidInputError(
            f"amount_major must be a number like '12.50', not {amount_major!r}."
        )
    text = str(amount_major).strip()
    try:
        Decimal(text)
    except InvalidOperation:
        raise InvalidInputError(f"amount_major {text!r} is not a number like '12.50'.") from None
    return AmountRequest(None, text)


def amount_text(amount: Any, currency: Any) -> str:
    """An amount as a plan shows it: minor units, and money when the currency is known.

    >>> amount_text(1250, "eur")
    '1250 (12.50 EUR)'
    """
    if amount is None:
        return "∅"
    if isinstance(currency, str) and currency:
        try:
            return f"{amount} ({format_money(amount, currency)})"
        except InvalidInputError:
            pass
    return str(amount)


def _int_or_none(value: Any) -> int | None:
    if blank(value):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AmountChange(SourceUpdate):
    """Change the amount of sources; undone by sending the amount from before."""

    name = "amount"
    action = "update_amount"
    plan_input = "table"
    plan_input_help = "a CSV with an id column and an amount (minor units) or amount_major column"

    # -- the state ---------------------------------------------------------------------------
    def state_of(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """The amount and what its rules read: currency, status, flow."""
        return {
            "amount": _int_or_none(obj.get("amount")),
            "currency": text_or_none(obj.get("currency")),
            "status": text_or_none(obj.get("status")),
            "flow": text_or_none(obj.get("flow")),
        }

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        """The same from a frame row; None when it has no amount column."""
        if "amount" not in row or "currency" not in row:
            return None
        return self.state_of(row)

    # -- the plan ----------------------------------------------------------------------------
    def plan_row(self, number: int, source: SourceState, request: AmountRequest) -> PlanRow:
        """Ready, no change, or refused by :func:`amount_problem` against the source."""
        before = source.before
        minor = request.minor
        if minor is None:
            currency = (before or {}).get("currency")
            if not currency:
                return self.refused(
                    number,
                    source,
                    "amount_major needs the source's currency: pass the sources frame, or give "
                    "the amount in minor units",
                )
            try:
                minor = major_to_minor(str(request.major), currency)
            except InvalidInputError as exc:
                return self.refused(number, source, str(exc))
        problem = amount_problem(minor, before)
        if problem:
            return self.refused(number, source, problem)
        params = {"amount": minor}
        if before is None:
            change = f"set amount={minor} (current amount unknown)"
            return self.row(number, source, params, None, None, "ready", "", change)
        after = {**before, "amount": minor}
        if before.get("amount") == minor:
            return self.row(number, source, {}, before, after, "noop", "no change", "")
        currency = before.get("currency")
        change = (
            f"set amount: {amount_text(before.get('amount'), currency)} → "
            f"{amount_text(minor, currency)}"
        )
        if request.minor is None:
            change += f" (from amount_major {request.major})"
        return self.row(number, source, params, before, after, "ready", "", change)

    def table_columns(self, columns: list[Any]) -> tuple[dict[Any, str], list[str]]:
        """``amount`` (minor units) or ``amount_major``; any other column is refused."""
        fields = {c: str(c).strip() for c in columns}
        unknown = [c for c, f in fields.items() if f not in AMOUNT_COLUMNS]
        if unknown or not fields:
            raise InvalidInputError(
                f"An amount table has an id column and one of {', '.join(AMOUNT_COLUMNS)}; "
                f"unknown columns: {', '.join(map(str, unknown)) or 'none'}."
            )
        return fields, ["empty cell = leave the amount unchanged"]

    def table_request(self, cells: dict[Any, Any], fields: dict[Any, str]) -> TableRequest:
        given = {fields[c]: v for c, v in cells.items()}
        if not given:
            return TableRequest(None, [], [])
        try:
            request = amount_request(given.get("amount"), given.get("amount_major"))
        except InvalidInputError as exc:
            return TableRequest(None, [], [str(exc)])
        return TableRequest(request, [], [])

    # -- the rules at the write --------------------------------------------------------------
    def is_done(self, row: PlanRow, current: Any) -> bool:
        return bool(current.get("amount") == row["params"].get("amount"))

    def drift(self, row: PlanRow, current: Any) -> str | None:
        before = row["before"]
        if before is None or current.get("amount") == before.get("amount"):
            return None
        return f"amount is {current.get('amount')}, plan expected {before.get('amount')}"

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """:func:`amount_problem` against the state read just before the write."""
        return amount_problem(row["params"].get("amount"), current)

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if not isinstance(params, Mapping) or set(params) != {"amount"}:
            return "an amount row sends only amount"
        return amount_problem(params["amount"])

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [("set", "amount")]

    # -- the write and its undo --------------------------------------------------------------
    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        return {**(before or {}), "amount": params.get("amount")}

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        """Send the amount from before; a source that had none cannot get "none" back."""
        was, now = before.get("amount"), after.get("amount")
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
                    "cannot be undone exactly: the source had no amount before and Stripe takes "
                    "no empty amount; set one by hand if needed"
                ),
                "change": "",
            }
        currency = before.get("currency")
        return {
            **row,
            "params": {"amount": was},
            "before": after,
            "after": {**after, "amount": was},
            "status": "ready",
            "reason": "",
            "change": f"restore amount={amount_text(was, currency)}",
        }
