"""Stripe's cursor pagination over a newest-first list of ids.

>>> paginate(["c", "b", "a"], 0, 3, list_index(["c", "b", "a"]), 2, None, None, "customer", None)
(['c', 'b'], True)
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence

from toolkit.sandbox.errors import ApiError

__all__ = ["created_bounds", "in_created", "list_index", "paginate"]


def created_bounds(neg_created: Sequence[int], created: dict[str, int]) -> tuple[int, int]:
    """The slice ``[lo, hi)`` of a newest-first list (given as its negated ``created``
    values, ascending) that a ``created[gt|gte|lt|lte]`` filter keeps.

    >>> created_bounds([-30, -20, -10], {"gte": 15})
    (0, 2)
    """
    lo, hi = 0, len(neg_created)
    if "lte" in created:
        lo = max(lo, bisect.bisect_left(neg_created, -created["lte"]))
    if "lt" in created:
        lo = max(lo, bisect.bisect_right(neg_created, -created["lt"]))
    if "gte" in created:
        hi = min(hi, bisect.bisect_right(neg_created, -created["gte"]))
    if "gt" in created:
        hi = min(hi, bisect.bisect_left(neg_created, -created["gt"]))
    return lo, hi


def in_created(value: int, created: dict[str, int]) -> bool:
    """Does ``value`` pass a ``created[gt|gte|lt|lte]`` filter? ``in_created(5, {"lt": 9})``"""
    return (
        ("gt" not in created or value > created["gt"])
        and ("gte" not in created or value >= created["gte"])
        and ("lt" not in created or value < created["lt"])
        and ("lte" not in created or value <= created["lte"])
    )


def list_index(seq: list[str]) -> Callable[[str], int | None]:
    def index_of(oid: str) -> int | None:
        try:
            return seq.index(oid)
        except ValueError:
            return None

    return index_of


def paginate(
    seq: Sequence[str],
    lo: int,
    hi: int,
    index_of: Callable[[str], int | None],
    limit: int,
    starting_after: str | None,
    ending_before: str | None,
    kind: str,
    match: Callable[[str], bool] | None,
) -> tuple[list[str], bool]:
    """Stripe cursor pagination over ``seq[lo:hi]`` (newest first): a page and has_more.

    ``ending_before`` returns the ``limit`` items just before the cursor, still newest first,
    with has_more saying whether newer ones remain. A cursor that is not in the list (deleted,
    or detached from it mid-load) is Stripe's 400 ``resource_missing`` naming the cursor's
    parameter, as for any id passed as a parameter.
    """
    if starting_after is not None:
        i = index_of(starting_after)
        if i is None:
            raise ApiError.missing_param(kind, starting_after, "starting_after")
        lo = max(lo, i + 1)
    elif ending_before is not None:
        i = index_of(ending_before)
        if i is None:
            raise ApiError.missing_param(kind, ending_before, "ending_before")
        hi = min(hi, i)
        if match is None:
            start = max(lo, hi - limit)
            return list(seq[start:hi]), start > lo
        found: list[str] = []
        j = hi - 1
        while j >= lo and len(found) <= limit:
            if match(seq[j]):
                found.append(seq[j])
            j -= 1
        found.reverse()
        return found[-limit:], len(found) > limit
    if match is None:
        end = min(hi, lo + limit)
        return list(seq[lo:end]), end < hi
    found = []
    j = lo
    while j < hi and len(found) <= limit:
        if match(seq[j]):
            found.append(seq[j])
        j += 1
    return found[:limit], len(found) > limit
