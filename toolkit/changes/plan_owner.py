"""Plans that change owner details (email, name, phone, address) on every source.

>>> plan = toolkit.plan_owner(["src_1abc"], email="billing@example.com", address_country="us")
>>> plan.df.loc[0, "params"]
{'owner': {'email': 'billing@example.com', 'address': {'country': 'US'}}}
>>> toolkit.plan_owner(["src_1abc"], phone=None).df.loc[0, "status"]
'invalid'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.changes.kinds import KINDS
from toolkit.changes.plan import Plan, make_plan
from toolkit.changes.rows import PlanRow, quote
from toolkit.changes.rules import (
    ADDRESS_FIELDS,
    OWNER_FIELDS,
    address_text,
    blank,
    owner_params,
    owner_value_problem,
    sendable_text,
    whole_address,
)
from toolkit.changes.sources import SourceState, rows_per_source, state_row
from toolkit.errors import InvalidInputError

__all__ = ["plan_owner"]


_OWNER_ALIASES = {
    **{name: name for name in OWNER_FIELDS},
    **{name.replace(".", "_"): name for name in OWNER_FIELDS},
    **{"owner_" + name.replace(".", "_"): name for name in OWNER_FIELDS},
}


#: Why a plan never clears an owner field.
CANNOT_CLEAR = (
    "Stripe cannot clear owner fields (it refuses an empty owner value with "
    "parameter_invalid_empty): set another value instead"
)


def _owner_row(number: int, state: SourceState, flat: dict[str, Any], notes: list[str]) -> PlanRow:
    """The plan row of one source for the owner fields ``flat`` (None asks to clear a field,
    which Stripe refuses: the row is invalid unless the field is already empty)."""
    action = KINDS["owner"].action
    before = state.owner if state.known and state.owner is not None else None
    clears = sorted(k for k, v in flat.items() if v is None)
    if before is None:
        if clears:
            reason = f"{CANNOT_CLEAR} ({', '.join('owner.' + k for k in clears)})"
            return state_row(number, state, action, {}, None, None, "invalid", reason, "")
        change = "; ".join(f"set owner.{k}={quote(v)}" for k, v in flat.items())
        return state_row(
            number,
            state,
            action,
            {"owner": owner_params(flat)},
            None,
            None,
            "ready",
            "",
            change + " (current values unknown)",
        )
    after = {**before, **flat}
    diff = {k: v for k, v in flat.items() if before.get(k) != v}
    if not diff:
        return state_row(number, state, action, {}, before, after, "noop", "no change", "")
    cleared = sorted(k for k, v in diff.items() if v is None)
    if cleared:
        shown = ", ".join(f"owner.{k} is {quote(before.get(k))}" for k in cleared)
        reason = f"{CANNOT_CLEAR} ({shown})"
        return state_row(number, state, action, {}, before, None, "invalid", reason, "")
    fields = {k: v for k, v in diff.items() if k not in ADDRESS_FIELDS}
    parts = [f"set owner.{k}: {quote(before.get(k))} → {quote(v)}" for k, v in fields.items()]
    owner = owner_params(fields)
    if len(fields) < len(diff):  # Stripe replaces the address whole: send all of it
        owner["address"] = whole_address(after)
        was, now = address_text(before), address_text(after)
        parts.append(f"set owner.address: {quote(was, 80)} → {quote(now, 80)}")
    change = "; ".join(parts + notes)
    return state_row(number, state, action, {"owner": owner}, before, after, "ready", "", change)


def plan_owner(sources: Any, **fields: Any) -> Plan:
    """Plan the same owner change on every source: email, name, phone and address fields.

    ``plan_owner(df, email="billing@example.com", address_country="US")``
    ``plan_owner(df, address={"city": "Berlin", "line2": None})``

    Field names: ``email, name, phone, address_line1, address_line2, address_city, address_state,
    address_postal_code, address_country`` (or ``address={...}``). Numbers are converted to text
    (noted); other types and unknown fields raise :class:`~toolkit.errors.InvalidInputError`.

    None or ``""`` would clear a field, which Stripe refuses for owner fields: a source where that
    field has a value gets an ``invalid`` row saying so (nothing is sent), one where it is already
    empty a ``noop``.

    Stripe replaces the owner's address whole on an update (a field not sent becomes null), so a
    change to any address field sends the whole address, and the plan shows the address as one
    value, before and after. apply builds it again from the state read just before the write,
    with the change applied (for sources given as bare ids, whose address is unknown when
    planning, too).

    >>> toolkit.plan_owner(["src_1abc"], email="billing@example.com").counts["ready"]
    1
    """
    flat: dict[str, Any] = {}
    address = fields.pop("address", None)
    if address is not None:
        if not isinstance(address, Mapping):
            raise InvalidInputError("address must be a dict like {'city': 'Berlin'}.")
        for key, value in address.items():
            fields[f"address_{key}"] = value
    unknown = [name for name in fields if name not in _OWNER_ALIASES]
    if unknown:
        allowed = ", ".join(n.replace(".", "_") for n in OWNER_FIELDS)
        raise InvalidInputError(f"Unknown owner field(s) {unknown}: use {allowed}.")
    notes: list[str] = []
    problems: list[str] = []
    for name, value in fields.items():
        target = _OWNER_ALIASES[name]
        if blank(value) or value == "":
            flat[target] = None
            continue
        try:
            text, note = sendable_text(value, name)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if note:
            notes.append(f"{name}: {note}")
        text = text.strip()
        problem = owner_value_problem(target, text, name)
        if problem:
            problems.append(problem)
        flat[target] = text.upper() if target == "address.country" else text
    if problems:
        raise InvalidInputError("Cannot plan this owner change: " + "; ".join(problems))
    if not flat:
        raise InvalidInputError("Nothing to change: pass e.g. email='...' or address_city='...'.")

    rows = rows_per_source(
        sources, KINDS["owner"].action, lambda number, state: _owner_row(number, state, flat, notes)
    )
    return make_plan("owner", rows, notes, sources)
