"""Stripe's metadata rules, checked before any request is sent.

Stripe allows at most 50 keys per object, keys of at most 40 characters without ``[`` or ``]``,
and values of at most 500 characters. Values are text: numbers and booleans are converted
explicitly (and the conversion is shown in the plan), anything else is refused.

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
from collections.abc import Mapping
from typing import Any

__all__ = [
    "MAX_KEYS",
    "MAX_KEY_LENGTH",
    "MAX_VALUE_LENGTH",
    "key_problem",
    "metadata_problems",
    "to_metadata_value",
    "unicode_problem",
]

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500


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
