"""What a plan builder knows of each source it is given: a frame from ``load_sources``, source
dicts, or bare ids (then nothing is known, and apply checks each row against the live state).

The id and customer of each source are read here; what the plan's kind reads of it (its
``before``) the kind says (:meth:`~toolkit.changes.kinds.base.ChangeKind.row_states`).

>>> from toolkit.changes.kinds import kind_of
>>> [s.before for s in source_states(["src_1abc", {"id": "src_2abc", "status": "chargeable"}],
...                                  kind_of("attach"))]
[None, {'customer': None, 'status': 'chargeable'}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from toolkit.changes.kinds.base import ChangeKind, SourceState, customer_of
from toolkit.changes.rows import MISSING, PlanRow, duplicates, refusal
from toolkit.changes.text import blank, text_or_none
from toolkit.errors import InvalidInputError

__all__ = ["rows_per_source", "source_states", "whole_id"]

#: A row says something of its source when it has one of these (else it is a bare id).
_KNOWN = ("status", "metadata", "customer")


def _plain_mapping(row: Any) -> Mapping[str, Any]:
    if hasattr(row, "to_dict") and not isinstance(row, dict | pd.Series):
        return row.to_dict()
    return row


def whole_id(value: Any) -> Any:
    """An id as text a plan can hold: one with broken Unicode (a lone surrogate, e.g. from a
    file read with the wrong encoding) is kept backslash-escaped, so its row is refused as a
    malformed id, and the other rows are planned."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")
    return value


def _states(rows: list[Mapping[str, Any]], kind: ChangeKind, frame: Any) -> list[SourceState]:
    befores = kind.row_states(rows, frame)
    states = []
    for row, before in zip(rows, befores, strict=True):
        source_id = row.get("id", row.get("source", MISSING))
        states.append(
            SourceState(
                id=None if source_id is MISSING else whole_id(source_id),
                customer=whole_id(text_or_none(customer_of(row))),
                before=before if any(name in row for name in _KNOWN) else None,
            )
        )
    return states


def source_states(sources: Any, kind: ChangeKind) -> list[SourceState]:
    """Normalise any accepted ``sources`` argument to a list of :class:`SourceState`, each with
    what ``kind`` reads of it.

    ``source_states(["src_1", "src_2"], kind)``, ``source_states(df, kind)``,
    ``source_states([src.to_dict()], kind)``.
    """
    if sources is None:
        raise InvalidInputError("No sources given: pass the frame from load_sources, or ids.")
    if isinstance(sources, str):
        sources = [sources]
    if isinstance(sources, pd.DataFrame):
        if "id" not in sources.columns and "source" not in sources.columns:
            raise InvalidInputError(
                "The sources frame has no 'id' column: pass the frame from load_sources "
                f"(it has columns {list(sources.columns)[:8]})."
            )
        return _states(sources.to_dict("records"), kind, sources)
    if isinstance(sources, pd.Series | pd.Index):
        sources = list(sources)
    if isinstance(sources, Mapping):
        raise InvalidInputError(
            "sources must be a DataFrame, a list of ids or a list of source dicts, not one dict."
        )
    states: list[SourceState] = []
    for item in sources:
        if isinstance(item, str) or blank(item):
            states.append(SourceState(id=whole_id(item)))
        elif isinstance(item, Mapping) or hasattr(item, "to_dict"):
            states.extend(_states([_plain_mapping(item)], kind, None))
        else:
            states.append(SourceState(id=item))
    return states


def rows_per_source(
    sources: Any, kind: ChangeKind, row_for: Callable[[int, SourceState], PlanRow]
) -> list[PlanRow]:
    """One plan row per source: refused for a malformed or repeated id, else ``row_for``.

    ``row_for(number, state)`` gets the 1-based row number.
    """
    states = source_states(sources, kind)
    repeats = duplicates([s.id for s in states])
    rows = []
    for index, state in enumerate(states):
        number = index + 1
        problem = refusal(state.id, index, repeats)
        if problem:
            rows.append(kind.refused(number, state, problem))
        else:
            rows.append(row_for(number, state))
    return rows
