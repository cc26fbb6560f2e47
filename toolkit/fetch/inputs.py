"""The arguments of a load, checked: id lists, ``created`` ranges.

>>> id_list(["cus_1", " cus_2 ", "cus_1", None], "customers", "cus_")
['cus_1', 'cus_2']
>>> created_range(("2026-01-01", None))
(1767225600, None)
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError

__all__ = ["Created", "created_range", "id_list", "in_order", "to_epoch"]

#: ``created=(start, end)``: dates, datetimes, ISO text or Unix times; None for an open end.
Created = tuple[Any, Any] | None


def to_epoch(value: Any, name: str) -> int | None:
    """A date, datetime, ISO text or Unix time as Unix seconds (None stays None)."""
    if value is None or (not isinstance(value, str | bytes) and pd.isna(value)):
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"created {name} must be a date, a datetime or a Unix time.")
    if isinstance(value, int | float):
        return int(value)
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"created {name} {value!r} is not a date: use '2026-01-31', a datetime or a Unix time."
        ) from None
    if isinstance(value, date) and not isinstance(value, datetime):
        stamp = pd.Timestamp(value.isoformat())
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(UTC)
    return math.ceil(stamp.timestamp())


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
