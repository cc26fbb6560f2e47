"""The list and expand parameters every endpoint reads the same way, with Stripe's errors.

>>> limit_of({"limit": 100}), cursors_of({"starting_after": "cus_1"})
(100, ('cus_1', None))
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.errors import ApiError

__all__ = ["cursors_of", "expand_of", "limit_of"]


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
    return limit


def cursors_of(params: dict[str, Any]) -> tuple[str | None, str | None]:
    """``(starting_after, ending_before)``; Stripe refuses both at once."""
    after, before = params.get("starting_after"), params.get("ending_before")
    if after is not None and before is not None:
        raise ApiError.invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            "ending_before",
        )
    return after or None, before or None
