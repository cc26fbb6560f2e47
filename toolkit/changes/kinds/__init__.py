"""The kinds of change, one module each (metadata, owner, amount, mandate, source_order, update
(any mix of those five in one row), attach, detach), and their registry.

A :class:`~toolkit.changes.kinds.base.ChangeKind` is everything plans, the runner, apply and undo
need to know about one kind: the part of a source it is about (from Stripe and from the sources
frame), the plan rows its builder makes and the rules it checks, whether a source already shows a
row's change, drift, Stripe's rules against the live state, the write, its inverse, and what
``python -m toolkit plan`` reads for it. They loop over rows without ever asking which kind they
hold. **Adding a kind** is one module with one ChangeKind subclass, and one line in
:data:`KINDS` below.

>>> kind = kind_of("metadata")
>>> kind.action, kind.irreversible, kind.undo_refusal is None
('update_metadata', False, True)
>>> kind.is_done({"params": {"metadata": {"a": "1"}}}, {"a": "1", "b": "2"})
True
>>> kind_of("detach").is_done({"params": {"customer": "cus_1"}}, {"status": "consumed"})
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.changes.kinds.amount import AmountChange
from toolkit.changes.kinds.attach import AttachChange
from toolkit.changes.kinds.base import ChangeKind, Written
from toolkit.changes.kinds.detach import DetachChange
from toolkit.changes.kinds.mandate import MandateChange
from toolkit.changes.kinds.metadata import MetadataChange
from toolkit.changes.kinds.owner import OwnerChange
from toolkit.changes.kinds.source_order import SourceOrderChange
from toolkit.changes.kinds.update import UpdateChange
from toolkit.changes.rows import SOURCE_ID
from toolkit.errors import InvalidInputError

__all__ = ["KINDS", "ChangeKind", "Written", "kind_of", "rows_problems", "rows_refusal"]


#: Every kind of change by name, in the order the command line lists them: its registration.
KINDS: dict[str, ChangeKind] = {
    kind.name: kind
    for kind in (
        MetadataChange(),
        OwnerChange(),
        AmountChange(),
        MandateChange(),
        SourceOrderChange(),
        UpdateChange(),
        AttachChange(),
        DetachChange(),
    )
}


def kind_of(name: Any) -> ChangeKind:
    """The strategy of a plan kind (``"metadata"``, ``"owner"``, ``"attach"``, ``"detach"``)."""
    kind = KINDS.get(name) if isinstance(name, str) else None
    if kind is None:
        raise InvalidInputError(f"Unknown plan kind {name!r}: one of {', '.join(KINDS)}.")
    return kind


def rows_problems(kind: Any, rows: Any) -> list[str]:
    """Every way ``rows`` (plain plan rows, e.g. from a journal) do not fit a plan of ``kind``:
    an unknown kind, an action of another kind, params another kind would send. [] when fine.

    >>> rows_problems("detach", [{"row": 1, "source": "src_1", "action": "update_metadata",
    ...                            "status": "ready", "params": {"metadata": {"a": "1"}}}])
    ['row 1: action update_metadata does not fit a detach plan', 'row 1: a detach row names only its own customer']
    """
    change = KINDS.get(kind) if isinstance(kind, str) else None
    if change is None:
        return [f"unknown plan kind {kind!r} (one of {', '.join(KINDS)})"]
    if not isinstance(rows, list):
        return ["rows is not a list"]
    problems: list[str] = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            problems.append(f"row {index + 1} is not a record")
            continue
        number = row.get("row")
        if isinstance(number, bool) or not isinstance(number, int):
            problems.append(f"row {index + 1}: row number {number!r} is not a whole number")
            continue
        if row.get("action") != change.action:
            problems.append(f"row {number}: action {row.get('action')} does not fit a {kind} plan")
        if row.get("status") not in ("ready", "noop", "invalid"):
            problems.append(f"row {number}: status {row.get('status')!r} is not a plan status")
        elif row.get("status") == "ready":
            if not isinstance(row.get("source"), str) or not SOURCE_ID.match(row["source"]):
                problems.append(f"row {number}: {row.get('source')!r} is not a source id")
            problem = change.params_problem(row)
            if problem:
                problems.append(f"row {number}: {problem}")
    return problems


def rows_refusal(kind: Any, rows: Any) -> str | None:
    """:func:`rows_problems` as one line (the first three, and how many more), or None.

    >>> rows_refusal("attach", [{"row": 1, "source": "src_1", "action": "attach",
    ...                          "status": "READY", "params": {}}])
    "row 1: status 'READY' is not a plan status"
    """
    problems = rows_problems(kind, rows)
    if not problems:
        return None
    more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
    return "; ".join(problems[:3]) + more
