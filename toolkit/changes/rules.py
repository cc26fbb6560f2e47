"""The rules of what a change may send, checked before any request: metadata and owner fields
(which sources may be attached or detached: :mod:`~toolkit.changes.attachment`).

Each rule has one home here: the plan builders call it when they make a row, and apply calls it
again against the state read just before the write (a plan made earlier, or edited in a file, never
slips past it).

Stripe allows at most 50 metadata keys per object, keys of at most 40 characters without ``[`` or
``]``, and values of at most 500 characters; a key is unset by sending ``""`` for it and
``metadata=""`` clears all. Values are text: numbers and booleans are converted explicitly (and
the conversion is shown in the plan), anything else is refused. Owner fields are flat names here
(``address.city``) and nested hashes on the wire.

Example::

    >>> to_metadata_value(5)
    ('5', 'converted int 5 to text')
    >>> metadata_problems({"a" * 41: "x"})
    ["key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is 41 characters long (Stripe allows 40)"]
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import numbers
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = [
    "ADDRESS_FIELDS",
    "EMAIL",
    "MAX_KEYS",
    "MAX_KEY_LENGTH",
    "MAX_OWNER_LENGTH",
    "MAX_VALUE_LENGTH",
    "OWNER_FIELDS",
    "address_text",
    "blank",
    "flatten_owner_params",
    "key_problem",
    "merge_metadata",
    "metadata_params_problems",
    "metadata_problems",
    "owner_from_stripe",
    "owner_params",
    "owner_params_problems",
    "owner_value_problem",
    "sendable_text",
    "text_or_none",
    "to_metadata_value",
    "unicode_problem",
    "whole_address",
]

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500
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


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unicode_problem(text: str, what: str) -> str | None:
    """Why ``text`` cannot be sent (it is not valid Unicode, e.g. a lone surrogate), or None.

    >>> unicode_problem("caf\\udce9", "value of 'k'")
    "value of 'k' holds text that is not valid Unicode (a lone surrogate at position 3): re-type it or read the file as UTF-8"
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return (
            f"{what} holds text that is not valid Unicode (a lone surrogate at position "
            f"{exc.start}): re-type it or read the file as UTF-8"
        )
    return None


def key_problem(key: object) -> str | None:
    """Why ``key`` cannot be a Stripe metadata key, or None when it can.

    Example: ``key_problem("a[b]")`` -> ``"key 'a[b]' contains [ or ] (Stripe refuses them)"``.
    """
    if not isinstance(key, str):
        return f"key {key!r} is a {type(key).__name__}, not text"
    if key == "":
        return "empty key (Stripe needs a name)"
    bad_text = unicode_problem(key, f"key {key!r}")
    if bad_text:
        return bad_text
    if len(key) > MAX_KEY_LENGTH:
        return f"key {_short(key)!r} is {len(key)} characters long (Stripe allows {MAX_KEY_LENGTH})"
    if "[" in key or "]" in key:
        return f"key {_short(key)!r} contains [ or ] (Stripe refuses them)"
    return None


def to_metadata_value(value: Any) -> tuple[str, str | None]:
    """Convert ``value`` to metadata text: ``(text, note)``; note says what was converted.

    Text stays as is. Booleans become ``"true"``/``"false"``, integers their digits, finite
    floats their shortest form (``5.0`` -> ``"5"``, ``1.5`` -> ``"1.5"``), Decimals ``str()``.
    Anything else (None, NaN, dates, lists, dicts...) raises :class:`TypeError` saying why.

    Example: ``to_metadata_value(True)`` -> ``("true", "converted bool True to text")``.
    """
    if isinstance(value, str):
        return value, None
    # numpy scalars: unwrap to the Python value first
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        try:
            value = item()
        except (TypeError, ValueError):
            pass
        if isinstance(value, str):
            return value, None
    kind = type(value).__name__
    if isinstance(value, bool):
        return ("true" if value else "false"), f"converted bool {value} to text"
    if isinstance(value, numbers.Integral):
        return str(int(value)), f"converted {kind} {value} to text"
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise TypeError(f"{value} is not a finite number")
        return str(value), f"converted Decimal {value} to text"
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise TypeError(f"{value!r} is not a finite number (empty cell or NaN?)")
        text = str(int(number)) if number.is_integer() and abs(number) < 1e16 else repr(number)
        return text, f"converted {kind} {value!r} to text {text!r}"
    if value is None:
        raise TypeError("None is not text (to remove a key, unset it)")
    if isinstance(value, _dt.date | _dt.time):
        raise TypeError(
            f"{kind} {value!r} is not text: convert it yourself, e.g. value.isoformat()"
        )
    raise TypeError(f"{kind} value {_short(repr(value))} is not text, a number or a boolean")


def sendable_text(value: Any, what: str) -> tuple[str, str | None]:
    """``value`` as text Stripe takes: ``(text, note)``, the note saying what was converted.

    Raises :class:`ValueError` naming ``what`` for a value that is not text, a number or a
    boolean, or text that is not valid Unicode.

    >>> sendable_text(5, "value of 'n'")
    ('5', 'converted int 5 to text')
    """
    try:
        text, note = to_metadata_value(value)
    except TypeError as exc:
        raise ValueError(f"{what}: {exc}") from None
    bad_text = unicode_problem(text, what)
    if bad_text:
        raise ValueError(bad_text)
    return text, note


def metadata_problems(metadata: Mapping[str, str]) -> list[str]:
    """Every way ``metadata`` (the state after a change) breaks Stripe's limits; [] when fine.

    Example: ``metadata_problems({str(i): "x" for i in range(51)})`` ->
    ``["51 keys after the change (Stripe allows 50)"]``.
    """
    problems: list[str] = []
    if len(metadata) > MAX_KEYS:
        problems.append(f"{len(metadata)} keys after the change (Stripe allows {MAX_KEYS})")
    for key, value in metadata.items():
        problem = key_problem(key)
        if problem:
            problems.append(problem)
        if not isinstance(value, str):
            problems.append(f"value of {key!r} is a {type(value).__name__}, not text")
        elif unicode_problem(value, f"value of {key!r}"):
            problems.append(unicode_problem(value, f"value of {key!r}") or "")
        elif len(value) > MAX_VALUE_LENGTH:
            problems.append(
                f"value of {_short(str(key))!r} is {len(value)} characters long "
                f"(Stripe allows {MAX_VALUE_LENGTH})"
            )
    return problems


def metadata_params_problems(metadata: Any) -> list[str]:
    """Every way the ``metadata`` a row sends (keys to set, ``""`` to unset, or ``""`` to clear)
    is not what a plan sends; [] when fine.

    >>> metadata_params_problems({"a[1]": "", "b": 5})
    ["key 'a[1]' contains [ or ] (Stripe refuses them)", "value of 'b' is a int, not text"]
    """
    if metadata == "":
        return []
    if not isinstance(metadata, Mapping):
        return ["metadata is neither key -> value nor '' (clear all)"]
    problems = [key_problem(k) or "" for k, v in metadata.items() if v == "" and key_problem(k)]
    return problems + metadata_problems({k: v for k, v in metadata.items() if v != ""})


def merge_metadata(before: Mapping[str, str], params: Any) -> dict[str, str]:
    """The metadata Stripe keeps after ``params`` (``{"k": "v", "gone": ""}`` or ``""``).

    >>> merge_metadata({"a": "1"}, {"a": "", "b": "2"})
    {'b': '2'}
    """
    if params == "":
        return {}
    after = dict(before)
    for key, value in params.items():
        if value == "":
            after.pop(key, None)
        else:
            after[key] = value
    return after


def blank(value: Any) -> bool:
    """Is ``value`` missing (None, pandas' NA or NaT, NaN)?"""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def text_or_none(value: Any) -> str | None:
    """``value`` as text, or None when it is missing."""
    return None if blank(value) else str(value)


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
