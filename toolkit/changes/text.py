"""Text as Stripe takes it: a cell or argument as text (numbers and booleans converted, and the
conversion noted), missing values, and text that is not valid Unicode.

Every kind's values are strings on the wire (metadata values, owner fields), so every plan builder
converts through :func:`sendable_text`, and apply refuses what :func:`unicode_problem` names.

>>> to_text(5)
('5', 'converted int 5 to text')
>>> blank(float("nan")), text_or_none(None)
(True, None)
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import numbers
from typing import Any

import pandas as pd

__all__ = ["blank", "sendable_text", "short", "text_or_none", "to_text", "unicode_problem"]


def short(text: str, limit: int = 60) -> str:
    """``text`` cut at ``limit`` characters (with an ellipsis), for a message."""
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


def to_text(value: Any) -> tuple[str, str | None]:
    """Convert ``value`` to the text Stripe takes: ``(text, note)``; note says what was converted.

    Text stays as is. Booleans become ``"true"``/``"false"``, integers their digits, finite
    floats their shortest form (``5.0`` -> ``"5"``, ``1.5`` -> ``"1.5"``), Decimals ``str()``.
    Anything else (None, NaN, dates, lists, dicts...) raises :class:`TypeError` saying why.

    Example: ``to_text(True)`` -> ``("true", "converted bool True to text")``.
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
    raise TypeError(f"{kind} value {short(repr(value))} is not text, a number or a boolean")


def sendable_text(value: Any, what: str) -> tuple[str, str | None]:
    """``value`` as text Stripe takes: ``(text, note)``, the note saying what was converted.

    Raises :class:`ValueError` naming ``what`` for a value that is not text, a number or a
    boolean, or text that is not valid Unicode.

    >>> sendable_text(5, "value of 'n'")
    ('5', 'converted int 5 to text')
    """
    try:
        text, note = to_text(value)
    except TypeError as exc:
        raise ValueError(f"{what}: {exc}") from None
    bad_text = unicode_problem(text, what)
    if bad_text:
        raise ValueError(bad_text)
    return text, note


def blank(value: Any) -> bool:
    """Is ``value`` missing (None, pandas' NA or NaT, NaN)?"""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def text_or_none(value: Any) -> str | None:
    """``value`` as text, or None when it is missing."""
    return None if blank(value) else str(value)
