"""The list and expand parameters every endpoint reads the same way, with Stripe's errors.

>>> limit_of({"limit": 100}), cursors_of({"starting_after": "cus_1"})
(100, ('cus_1', None))
>>> created_of({"created": "5"}), created_of({})
({'gte': 5, 'lte': 5}, {})
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.forms import ANY, EXPAND, INT, STR, as_int, validate

__all__ = ["CREATED", "LIST", "LIST_CREATED", "created_of", "cursors_of", "expand_of", "limit_of"]

#: ``created[gt|gte|lt|lte]``.
CREATED = {"gt": INT, "gte": INT, "lt": INT, "lte": INT}
#: The parameters of every list endpoint.
LIST = {"limit": INT, "starting_after": STR, "ending_before": STR, "expand": EXPAND}
#: A list endpoint that filters on ``created`` too.
LIST_CREATED = {**LIST, "created": ANY}


def created_of(params: dict[str, Any]) -> dict[str, int]:
    """The ``created`` filter as a ``gt/gte/lt/lte`` dict (a bare timestamp is that second)."""
    created = params.get("created", {})
    if isinstance(created, str):  # created=<unix time>: exactly that second
        exact = as_int(created, "created") if created else None
        return {} if exact is None else {"gte": exact, "lte": exact}
    if isinstance(created, dict):
        return validate(created, CREATED, None, "created")
    raise ApiError.invalid("Invalid hash: created", "created")


def expand_of(params: dict[str, Any], allowed: tuple[str, ...]) -> set[str]:
    """The ``expand[]`` asked for; a 400 for one the endpoint cannot expand."""
    asked = set(params.get("expand", ()))
    for item in asked:
        if item not in allowed:
            raise ApiError.invalid(f"This property cannot be expanded ({item}).", "expand")
    return asked


def limit_of(params: dict[str, Any]) -> int:
    """``limit`` (default 10), 1 to 100 as in Stripe."""
    limit = params.get("limit", 10)
    if not 1 <= limit <= 100:
        raise ApiError.invalid(
            f"Invalid limit: must be between 1 and 100 (got {limit}).",
            "limit",
        )
    return int(limit)


def cursors_of(params: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(starting_after, ending_before)``; Stripe refuses both at once."""
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise ApiError.invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        )
    return after or None, before or None
