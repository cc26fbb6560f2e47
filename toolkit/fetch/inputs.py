"""The arguments of a load, checked: id lists, ``created`` ranges, yes/no flags, and the one
rule for every time a user gives (:func:`to_time`).

>>> id_list(["cus_1", " cus_2 ", "cus_1", None], "customers", "cus_")
['cus_1', 'cus_2']
>>> created_range(("2026-01-01", None))
(1767225600, None)
"""

from __future__ import annotations

import math
import numbers
import re
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from toolkit.errors import InvalidInputError

__all__ = [
    "TIME_FORMATS",
    "Created",
    "check_flag",
    "created_range",
    "id_list",
    "in_order",
    "is_date_only",
    "to_epoch",
    "to_time",
]

#: ``created=(start, end)``: dates, datetimes, ISO text or Unix times; None for an open end.
Created = tuple[Any, Any] | None

#: What :func:`to_time` reads, as its errors say it.
TIME_FORMATS = (
    "an ISO date such as '2026-01-31' (YYYY-MM-DD), an ISO date and time such as "
    "'2026-01-31T14:00:00Z' (UTC unless it says otherwise), a date or datetime, or a Unix time "
    "in seconds"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?", re.I
)
_UNIX = re.compile(r"\d{1,12}")


def _missing(value: Any) -> bool:
    """NaN, NaT or NA (a missing cell), which is not None."""
    if isinstance(value, str | bytes) or value is None:
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _unreadable(value: Any, what: str) -> InvalidInputError:
    return InvalidInputError(
        f"{what} {value!r} is not a date or time the toolkit reads: use {TIME_FORMATS}. Dates such as "
        "01/02/2026 are refused: they read as January or February depending on the country."
    )


def to_time(value: Any, what: str, *, none: str = "None for an open end") -> pd.Timestamp | None:
    """The one rule for a time a user gives (``created`` bounds, the explorer's date fields,
    ``as_of``, the CLI's ``--created-from``), as a UTC Timestamp; None stays None.

    Read: an ISO date (``2026-01-31``: midnight UTC), an ISO date and time (``2026-01-31T14:00``,
    ``...Z``, ``...+02:00``; without an offset it is UTC), a ``date``, ``datetime`` or Timestamp,
    a Unix time in seconds (a number, or its digits as text). Refused, with the formats: any
    other text (``01/02/2026`` is 1 February in Europe and 2 January in the US), True/False, and a
    missing value (NaN, NaT), which is not None (``none`` says what to pass instead).

    >>> to_time("2026-01-31", "as_of"), to_time(1767225600, "start")
    (Timestamp('2026-01-31 00:00:00+0000', tz='UTC'), Timestamp('2026-01-01 00:00:00+0000', tz='UTC'))
    >>> to_time("01/02/2026", "created start")
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: created start '01/02/2026' is not a date or time the toolkit reads: use an ISO date such as '2026-01-31' (YYYY-MM-DD), an ISO date and time such as '2026-01-31T14:00:00Z' (UTC unless it says otherwise), a date or datetime, or a Unix time in seconds. Dates such as 01/02/2026 are refused: they read as January or February depending on the country.
    """
    if value is None:
        return None
    if _missing(value):
        raise InvalidInputError(f"{what} is a missing value ({value!r}): pass a time, or {none}.")
    if isinstance(value, bool | np.bool_):
        raise _unreadable(value, what)
    if isinstance(value, numbers.Real):
        if not math.isfinite(float(value)):
            raise _unreadable(value, what)
        return pd.Timestamp(float(value), unit="s", tz="UTC")
    if isinstance(value, str):
        text = value.strip()
        if _UNIX.fullmatch(text):
            return pd.Timestamp(int(text), unit="s", tz="UTC")
        if not (_ISO_DATE.fullmatch(text) or _ISO_TIME.fullmatch(text)):
            raise _unreadable(value, what)
        value = text.upper()
    elif isinstance(value, date) and not isinstance(value, datetime):
        value = value.isoformat()
    elif not isinstance(value, datetime | np.datetime64):
        raise _unreadable(value, what)
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError, OverflowError):
        raise _unreadable(value, what) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def is_date_only(value: Any) -> bool:
    """True for a plain date (``date(2026, 1, 31)`` or the text ``2026-01-31``): a day, no time.

    >>> is_date_only("2026-01-31"), is_date_only("2026-01-31T00:00")
    (True, False)
    """
    if isinstance(value, str):
        return bool(_ISO_DATE.fullmatch(value.strip()))
    return isinstance(value, date) and not isinstance(value, datetime)


def to_epoch(value: Any, name: str) -> int | None:
    """A ``created`` bound (see :func:`to_time`) as Unix seconds (None stays None)."""
    number = isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)
    if number and math.isfinite(float(value)):
        return int(value)
    stamp = to_time(value, f"created {name}")
    return None if stamp is None else math.ceil(stamp.timestamp())


def check_flag(value: Any, name: str, *, optional: bool = False) -> bool | None:
    """A yes/no argument: True or False (None too when ``optional``); anything else, the text
    ``"no"`` included, is refused rather than read as true.

    >>> check_flag(False, "metadata_columns")
    False
    >>> check_flag("no", "has_unapplied", optional=True)
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: has_unapplied must be True, False or None, got 'no'.
    """
    if optional and value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    allowed = "True, False or None" if optional else "True or False"
    raise InvalidInputError(f"{name} must be {allowed}, got {value!r}.")


def created_range(created: Created) -> tuple[int | None, int | None]:
    """``created=(start, end)``: customers created at or after start and before end."""
    if created is None:
        return None, None
    if not isinstance(created, tuple | list) or len(created) != 2:
        raise InvalidInputError(
            "created must be a pair (start, end), e.g. ('2026-01-01', '2026-02-01'); "
            "use None for an open end."
        )
    lo, hi = to_epoch(created[0], "start"), to_epoch(created[1], "end")
    if lo is not None and hi is not None and hi <= lo:
        raise InvalidInputError(f"created end ({created[1]}) must come after start ({created[0]}).")
    return lo, hi


def id_list(values: Any, what: str, prefix: str) -> list[str] | None:
    """Ids from a list, a Series, a frame's ``id`` column or one id: stripped, unique, in order;
    an id without ``prefix`` (``cust_abc`` for ``cus_``) is refused before anything is sent.

    >>> id_list(["cust_abc"], "customers", "cus_")
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: customers: 'cust_abc' is not an id of that kind (they start with 'cus_'). Check for a typo, or pass the right kind of id.
    """
    if values is None:
        return None
    if isinstance(values, str):
        values = [values]
    elif isinstance(values, pd.DataFrame):
        if "id" not in values.columns:
            raise InvalidInputError(f"{what}: pass a list of ids or a frame with an 'id' column.")
        values = values["id"].tolist()
    elif isinstance(values, pd.Series | pd.Index):
        values = values.tolist()
    try:
        items = list(values)
    except TypeError:
        raise InvalidInputError(f"{what} must be a list of ids like '{prefix}...'.") from None
    out: list[str] = []
    seen: set[str] = set()
    for item in items:
        if item is None or (not isinstance(item, str) and pd.isna(item)):
            continue
        if not isinstance(item, str):
            raise InvalidInputError(
                f"{what} must be ids (strings) like '{prefix}...', got {item!r}."
            )
        text = item.strip()
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(
                f"{what}: {text!r} is not a whole id: it holds broken Unicode (a lone surrogate): "
                "copy the id again from Stripe's Dashboard or from the file it came from."
            ) from None
        if text and not text.startswith(prefix):
            raise InvalidInputError(
                f"{what}: {text!r} is not an id of that kind (they start with {prefix!r}). "
                "Check for a typo, or pass the right kind of id."
            )
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return out


def in_order(found: list[str], asked: list[str] | None) -> list[str]:
    """``found`` in the order the ids were asked for (completion order is arbitrary).

    >>> in_order(["b", "a", "b"], ["a", "b"])
    ['a', 'b']
    """
    position = {v: i for i, v in enumerate(asked or [])}
    return sorted(dict.fromkeys(found), key=lambda v: (position.get(v, len(position)), v))
