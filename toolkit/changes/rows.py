"""Plan rows: their typed shape, their plain JSON form, and the checks every builder shares
(malformed and repeated ids).

>>> make_row(1, "src_1abc", "cus_1abc", "detach", {"customer": "cus_1abc"}, None, None, "ready")["status"]
'ready'
>>> id_problem("cust_1", CUSTOMER_ID, "customer", "cus_1AbC...")
"'cust_1' is not a customer id (they look like cus_1AbC...)"
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypedDict

import pandas as pd

from toolkit.changes.text import blank, text_or_none

__all__ = [
    "CUSTOMER_ID",
    "MISSING",
    "PLAN_COLUMNS",
    "SOURCE_ID",
    "PlanRow",
    "duplicates",
    "id_problem",
    "invalid_row",
    "make_row",
    "plain_rows",
    "quote",
    "refusal",
]

#: Columns of ``Plan.df``, in order.
PLAN_COLUMNS = [
    "row",
    "source",
    "customer",
    "action",
    "params",
    "before",
    "after",
    "status",
    "reason",
    "change",
]
SOURCE_ID = re.compile(r"^src_[A-Za-z0-9_]+$")
CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9_]+$")
#: "Not given" (where None is a value).
MISSING: Any = object()


class PlanRow(TypedDict):
    """One row of a plan: what is sent for one source, and why (see ``Plan.df``)."""

    row: int
    source: str | None
    customer: str | None
    action: str
    params: dict[str, Any]
    before: Any
    after: Any
    status: str
    reason: str
    change: str


_SCALARS = (str, int, bool)


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data: numpy scalars unwrapped, NaN and pandas' NA as None."""
    kind = type(value)
    if kind in _SCALARS:  # the common case first: most values are text
        return value
    if kind is dict:
        return {str(k): _plain(v) for k, v in value.items()}
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        value = item()
    if isinstance(value, float) and value != value:
        return None
    return value


def plain_rows(df: pd.DataFrame) -> list[PlanRow]:
    """A plan frame's rows as plain JSON data, the same before and after a trip through a
    journal."""
    return [_plain(row) for row in df[PLAN_COLUMNS].to_dict("records")]


def make_row(
    number: int,
    source: Any,
    customer: str | None,
    action: str,
    params: dict[str, Any],
    before: Any,
    after: Any,
    status: str,
    reason: str = "",
    change: str = "",
) -> PlanRow:
    """A plan row (``status``: ready, noop or invalid)."""
    return {
        "row": number,
        "source": source if isinstance(source, str) else text_or_none(source),
        "customer": customer,
        "action": action,
        "params": params,
        "before": before,
        "after": after,
        "status": status,
        "reason": reason,
        "change": change,
    }


def invalid_row(
    number: int, source: Any, customer: str | None, action: str, reason: str
) -> PlanRow:
    """A refused row: nothing is sent for it, ``reason`` says why."""
    return make_row(number, source, customer, action, {}, None, None, "invalid", reason, "")


def quote(value: str | None, limit: int = 40) -> str:
    """A value as a plan's change column shows it (cut at ``limit`` characters, ∅ for none)."""
    if value is None:
        return "∅"
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text)


def id_problem(value: Any, pattern: re.Pattern[str], what: str, example: str) -> str | None:
    if blank(value) or (isinstance(value, str) and not value.strip()):
        return f"missing {what} id"
    if not isinstance(value, str):
        return f"{what} id {value!r} is a {type(value).__name__}, not text"
    if not pattern.match(value):
        return f"{value!r} is not a {what} id (they look like {example})"
    return None


def duplicates(ids: list[Any]) -> dict[int, int]:
    """Index -> index of the first occurrence, for every repeat of an id."""
    first: dict[Any, int] = {}
    repeats: dict[int, int] = {}
    for index, value in enumerate(ids):
        if blank(value):
            continue
        if value in first:
            repeats[index] = first[value]
        else:
            first[value] = index
    return repeats


def refusal(
    source_id: Any, index: int, repeats: dict[int, int], customer: Any = MISSING
) -> str | None:
    """Why row ``index`` is refused before its state is read, or None.

    A malformed source id, then (when ``customer`` is given) a malformed customer id, then a
    repeat of an earlier row's source id (``repeats`` from :func:`duplicates`).
    """
    problem = id_problem(source_id, SOURCE_ID, "source", "src_1AbC...")
    if problem is None and customer is not MISSING:
        problem = id_problem(customer, CUSTOMER_ID, "customer", "cus_1AbC...")
    if problem is None and index in repeats:
        problem = f"duplicate id: {source_id} is already row {repeats[index] + 1}"
    return problem
