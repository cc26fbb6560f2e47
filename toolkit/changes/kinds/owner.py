"""The owner kind: change owner email, name, phone or address fields, and undo it exactly.

Owner fields are flat names here (``address.city``) and nested hashes on the wire. Stripe types
them as plain strings and objects, so an owner field cannot be cleared (``""`` is refused with
``parameter_invalid_empty``). Stripe replaces the owner's address whole on an update (a field not
sent becomes null), so a row that changes any address field sends the whole address: the state
read just before the write with the row's change applied (:meth:`OwnerChange.to_send`). Done,
drift and undo look at the whole address too. Each rule has one home here: plan_owner checks it
when it makes a row, and apply again just before the write.

>>> owner_from_stripe({"email": "a@b.co", "address": {"city": "Lyon"}})["address.city"]
'Lyon'
>>> owner_request({"email": "billing@example.com", "address_country": "us"}).flat
{'email': 'billing@example.com', 'address.country': 'US'}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from toolkit.changes.kinds.base import FieldsChange, SourceState
from toolkit.changes.rows import PlanRow, quote
from toolkit.changes.text import blank, sendable_text, text_or_none, unicode_problem
from toolkit.errors import InvalidInputError

__all__ = [
    "ADDRESS_FIELDS",
    "CANNOT_CLEAR",
    "EMAIL",
    "MAX_OWNER_LENGTH",
    "OWNER_FIELDS",
    "OwnerChange",
    "OwnerRequest",
    "address_text",
    "flatten_owner_params",
    "owner_from_stripe",
    "owner_params",
    "owner_params_problems",
    "owner_request",
    "owner_value_problem",
    "whole_address",
]

#: The longest owner value a plan sends (Stripe's limit for these strings).
MAX_OWNER_LENGTH = 5000
#: The shape Stripe expects of an email: a name, one @, a domain with a dot, no spaces.
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
#: Owner fields a plan can change, as flat names (``address.city``) used in before/after.
OWNER_FIELDS = [
    "email",
    "name",
    "phone",
    "address.line1",
    "address.line2",
    "address.city",
    "address.state",
    "address.postal_code",
    "address.country",
]
#: The owner's address fields, as flat names: Stripe replaces the address whole on an update.
ADDRESS_FIELDS = [name for name in OWNER_FIELDS if name.startswith("address.")]
#: Why a plan never clears an owner field.
CANNOT_CLEAR = (
    "Stripe cannot clear owner fields (it refuses an empty owner value with "
    "parameter_invalid_empty): set another value instead"
)
_OWNER_ALIASES = {
    **{name: name for name in OWNER_FIELDS},
    **{name.replace(".", "_"): name for name in OWNER_FIELDS},
    **{"owner_" + name.replace(".", "_"): name for name in OWNER_FIELDS},
}


# -- the owner's shapes ---------------------------------------------------------------------------
def owner_from_stripe(owner: Mapping[str, Any] | None) -> dict[str, str | None]:
    """Flatten a Stripe ``owner`` hash to the plan's fields: ``{"email": ..., "address.city": ...}``.

    >>> owner_from_stripe({"email": "a@b.co", "address": {"city": "Lyon"}})["address.city"]
    'Lyon'
    """
    owner = owner or {}
    address = owner.get("address") or {}
    flat: dict[str, str | None] = {}
    for name in OWNER_FIELDS:
        if name.startswith("address."):
            flat[name] = text_or_none(address.get(name.split(".", 1)[1]))
        else:
            flat[name] = text_or_none(owner.get(name))
    return flat


def flatten_owner_params(owner: Mapping[str, Any]) -> dict[str, Any]:
    """Stripe's nested ``owner`` params as flat fields: ``{"address": {"city": "X"}}`` ->
    ``{"address.city": "X"}``."""
    flat = {k: v for k, v in owner.items() if k != "address"}
    for k, v in (owner.get("address") or {}).items():
        flat[f"address.{k}"] = v
    return flat


def whole_address(flat: Mapping[str, Any]) -> dict[str, Any]:
    """The ``owner[address]`` to send so that the address becomes exactly that of ``flat`` (flat
    owner fields): every field with a value. Stripe replaces the address hash whole, so a field
    left out becomes null, and a null one is left out (Stripe refuses ``""``).

    >>> whole_address({"address.line1": "1 Rue", "address.line2": None, "address.city": "Lyon"})
    {'line1': '1 Rue', 'city': 'Lyon'}
    """
    return {
        name.split(".", 1)[1]: flat[name]
        for name in ADDRESS_FIELDS
        if flat.get(name) not in (None, "")
    }


def address_text(flat: Mapping[str, Any]) -> str | None:
    """An owner's address as one value (a plan shows it so), None when it has none.

    >>> address_text({"address.line1": "1 Rue", "address.city": "Lyon", "address.country": "FR"})
    '1 Rue, Lyon, FR'
    """
    return ", ".join(str(flat[name]) for name in ADDRESS_FIELDS if flat.get(name)) or None


def owner_params(changes: Mapping[str, str]) -> dict[str, Any]:
    """Stripe's nested ``owner`` params from flat fields; an empty string clears the field.

    >>> owner_params({"address.city": "X", "email": "a@b.co"})
    {'address': {'city': 'X'}, 'email': 'a@b.co'}
    """
    nested: dict[str, Any] = {}
    for name, value in changes.items():
        if name.startswith("address."):
            nested.setdefault("address", {})[name.split(".", 1)[1]] = value
        else:
            nested[name] = value
    return nested


def owner_value_problem(name: str, text: str, shown: str | None = None) -> str | None:
    """Why ``text`` cannot be sent as the owner field ``name`` (``email``, ``address.country``...),
    or None. ``shown`` is the name the message uses (default ``name``).

    >>> owner_value_problem("address.country", "France", "address_country")
    "address_country 'France' must be a two-letter code like 'US'"
    """
    label = shown or name
    bad_text = unicode_problem(text, label)
    if bad_text:
        return bad_text
    if len(text) > MAX_OWNER_LENGTH:
        return f"{label} is {len(text)} characters long (Stripe allows {MAX_OWNER_LENGTH})"
    if name == "email" and not EMAIL.fullmatch(text):
        return f"email {text!r} does not look like an email address (name@example.com)"
    if name == "address.country" and not re.fullmatch(r"[A-Za-z]{2}", text):
        return f"{label} {text!r} must be a two-letter code like 'US'"
    return None


def owner_params_problems(owner: Any) -> list[str]:
    """Every way the ``owner`` hash a row sends is not what a plan sends (unknown fields, values
    that are not text, empty values Stripe cannot take, values :func:`owner_value_problem`
    refuses); [] when fine.

    >>> owner_params_problems({"email": "x", "planet": "Mars"})
    ["email 'x' does not look like an email address (name@example.com)", 'unknown owner field owner.planet']
    """
    if not isinstance(owner, Mapping) or not isinstance(owner.get("address", {}), Mapping):
        return ["owner (and its address) must be a hash of fields"]
    problems: list[str] = []
    empty: list[str] = []
    for name, value in flatten_owner_params(owner).items():
        if name not in OWNER_FIELDS:
            problems.append(f"unknown owner field owner.{name}")
        elif value in ("", None):
            empty.append(name)
        elif not isinstance(value, str):
            problems.append(f"owner.{name} is a {type(value).__name__}, not text")
        else:
            problems.append(owner_value_problem(name, value) or "")
    if empty:
        problems.append(
            f"Stripe cannot clear owner fields (owner.{', owner.'.join(sorted(empty))})"
        )
    return [p for p in problems if p]


# -- what a builder is asked ----------------------------------------------------------------------
class OwnerRequest(NamedTuple):
    """What an owner row is asked: flat field -> text (None asks to clear it, which Stripe
    refuses), and notes on what was converted."""

    flat: dict[str, Any]
    notes: list[str]


def owner_request(fields: dict[str, Any]) -> OwnerRequest:
    """The request of :func:`~toolkit.plan_owner`'s fields (``email``, ``address_city`` or
    ``address={...}``...); raises :class:`~toolkit.errors.InvalidInputError` for unknown fields
    and values that cannot be sent."""
    fields = dict(fields)
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
    return OwnerRequest(flat, notes)


# -- the kind -------------------------------------------------------------------------------------
class OwnerChange(FieldsChange):
    """Change owner email, name, phone or address fields (the address is sent whole)."""

    name = "owner"
    action = "update_owner"

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, str | None]:
        return owner_from_stripe(obj.get("owner"))

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, str | None] | None:
        """The ``owner_*`` columns of a frame row (or a source dict's ``owner`` hash)."""
        columns = {name: "owner_" + name.replace(".", "_") for name in OWNER_FIELDS}
        if not any(col in row for col in columns.values()):
            if isinstance(row.get("owner"), Mapping):
                return owner_from_stripe(row["owner"])
            return None
        return {name: text_or_none(row.get(col)) for name, col in columns.items()}

    def plan_row(self, number: int, source: SourceState, request: OwnerRequest) -> PlanRow:
        """The fields ``request`` asks for (None asks to clear a field, which Stripe refuses: the
        row is invalid unless the field is already empty); an address change shows and sends the
        whole address."""
        flat, notes = request
        before = source.before
        clears = sorted(k for k, v in flat.items() if v is None)
        if before is None:
            if clears:
                reason = f"{CANNOT_CLEAR} ({', '.join('owner.' + k for k in clears)})"
                return self.row(number, source, {}, None, None, "invalid", reason, "")
            change = "; ".join(f"set owner.{k}={quote(v)}" for k, v in flat.items())
            return self.row(
                number,
                source,
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
            return self.row(number, source, {}, before, after, "noop", "no change", "")
        cleared = sorted(k for k, v in diff.items() if v is None)
        if cleared:
            shown = ", ".join(f"owner.{k} is {quote(before.get(k))}" for k in cleared)
            reason = f"{CANNOT_CLEAR} ({shown})"
            return self.row(number, source, {}, before, None, "invalid", reason, "")
        fields = {k: v for k, v in diff.items() if k not in ADDRESS_FIELDS}
        parts = [f"set owner.{k}: {quote(before.get(k))} → {quote(v)}" for k, v in fields.items()]
        owner = owner_params(fields)
        if len(fields) < len(diff):  # Stripe replaces the address whole: send all of it
            owner["address"] = whole_address(after)
            was, now = address_text(before), address_text(after)
            parts.append(f"set owner.address: {quote(was, 80)} → {quote(now, 80)}")
        change = "; ".join(parts + notes)
        return self.row(number, source, {"owner": owner}, before, after, "ready", "", change)

    def touched(self, params: Mapping[str, Any]) -> dict[str, str | None]:
        """The fields sending ``params`` leaves: with an address, all of its fields (those not
        sent become null)."""
        owner = params.get("owner", {})
        flat = flatten_owner_params(owner)
        out = {k: (v if v != "" else None) for k, v in flat.items() if k not in ADDRESS_FIELDS}
        if "address" in owner:
            out.update({name: flat.get(name) or None for name in ADDRESS_FIELDS})
        return out

    def changes(self, row: PlanRow) -> dict[str, str | None]:
        """The fields a row changes: those it asks for when planned from bare ids (its before
        unknown), else those whose value its params change."""
        if row["before"] is None:
            flat = flatten_owner_params(row["params"].get("owner", {}))
            return {k: (v if v != "" else None) for k, v in flat.items()}
        return {k: v for k, v in self.touched(row["params"]).items() if row["before"].get(k) != v}

    def is_done(self, row: PlanRow, current: Any) -> bool:
        if row["before"] is None:  # only the fields asked for are known
            return all(current.get(k) == v for k, v in self.changes(row).items())
        return super().is_done(row, current)

    def to_send(self, row: PlanRow, current: Any) -> PlanRow:
        """A row that changes the address sends it whole: ``current`` with the change applied."""
        owner = row["params"].get("owner") or {}
        if "address" not in owner or not isinstance(current, Mapping):
            return row
        target = {**current, **self.changes(row)}
        rest = {k: v for k, v in owner.items() if k != "address"}
        params = {"owner": {**rest, "address": whole_address(target)}}
        return {**row, "params": params, "before": dict(current)}

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if not (
            isinstance(params, Mapping)
            and set(params) == {"owner"}
            and isinstance(params["owner"], Mapping)
        ):
            return "an owner row sends only owner"
        empty = [k for k, v in flatten_owner_params(params["owner"]).items() if v in ("", None)]
        if empty:
            return f"Stripe cannot clear owner fields (owner.{', owner.'.join(sorted(empty))})"
        return None

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """The rules plan_owner checks: known fields, text Stripe takes, an email's shape, a
        two-letter country."""
        return "; ".join(owner_params_problems(row["params"]["owner"])) or None

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        owner = row["params"].get("owner", {})
        ops = [("set", f"owner.{name}") for name in owner if name != "address"]
        return ops + ([("set", "owner.address")] if "address" in owner else [])

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        names = [n for n in self.touched(row["params"]) if before.get(n) != after.get(n)]
        if not names:
            return None
        address = any(n in ADDRESS_FIELDS for n in names)
        empty = [
            f"owner.{n}" for n in names if n not in ADDRESS_FIELDS and before.get(n) in (None, "")
        ]
        if address and not whole_address(before):
            empty.append("owner.address")
        if empty:  # the change filled an empty field: Stripe cannot empty it again
            return {
                **row,
                "params": {},
                "before": after,
                "after": None,
                "status": "invalid",
                "reason": (
                    f"cannot be undone exactly: {', '.join(empty)} was empty before and Stripe "
                    "cannot clear owner fields (parameter_invalid_empty); set a value by hand if "
                    "needed"
                ),
                "change": "",
            }
        flat = {n: before[n] for n in names if n not in ADDRESS_FIELDS}
        told = [f"restore owner.{n}={before.get(n)!r}" for n in flat]
        params = owner_params(flat)
        if address:  # the whole address as it was: fields empty before are left out (null)
            params["address"] = whole_address(before)
            flat.update({n: before.get(n) for n in ADDRESS_FIELDS})
            told.append(f"restore owner.address={address_text(before)!r}")
        return {
            **row,
            "params": {"owner": params},
            "before": after,
            "after": {**after, **flat},
            "status": "ready",
            "reason": "",
            "change": "; ".join(told),
        }
