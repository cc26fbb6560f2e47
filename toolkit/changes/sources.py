"""What a plan knows about each source it is given: a frame from ``load_sources``, source dicts,
or bare ids (then nothing is known, and apply checks each row against the live state).

>>> [s.known for s in source_states(["src_1abc", {"id": "src_2abc", "status": "chargeable"}])]
[False, True]
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.changes.attachment import held_money, receiver_unapplied
from toolkit.changes.rows import MISSING, PlanRow, duplicates, invalid_row, make_row, refusal
from toolkit.changes.rules import OWNER_FIELDS, blank, owner_from_stripe, text_or_none
from toolkit.errors import InvalidInputError
from toolkit.money import unapplied

__all__ = ["SourceState", "rows_per_source", "source_states", "state_invalid", "state_row"]


@dataclass
class SourceState:
    """What a plan knows about one source; ``known`` is False when only the id was given."""

    id: Any
    customer: str | None = None
    status: str | None = None
    metadata: dict[str, str] | None = None
    owner: dict[str, str | None] | None = None
    known: bool = False
    #: Receiver money the customer sent that was neither charged nor returned, in minor units,
    #: with its currency; None when there is none (or the frame gives no receiver figures).
    unapplied: tuple[int, str] | None = None


def _owner_from_row(row: Mapping[str, Any]) -> dict[str, str | None] | None:
    columns = {name: "owner_" + name.replace(".", "_") for name in OWNER_FIELDS}
    if not any(col in row for col in columns.values()):
        if isinstance(row.get("owner"), Mapping):
            return owner_from_stripe(row["owner"])
        return None
    return {name: text_or_none(row.get(col)) for name, col in columns.items()}


def _metadata_from_row(row: Mapping[str, Any]) -> dict[str, str] | None:
    if "metadata" in row:
        meta = row["metadata"]
        if isinstance(meta, Mapping):
            return {str(k): str(v) for k, v in meta.items()}
        if isinstance(meta, str) and meta.strip().startswith("{"):
            try:
                return {str(k): str(v) for k, v in json.loads(meta).items()}
            except ValueError:
                return None
        if blank(meta):
            return {}
        return None
    prefixed = [k for k in row if isinstance(k, str) and k.startswith("metadata.")]
    if prefixed:
        return {
            k.split(".", 1)[1]: str(row[k]) for k in prefixed if not blank(row[k]) and row[k] != ""
        }
    return None


def _state_from_mapping(row: Mapping[str, Any]) -> SourceState:
    if hasattr(row, "to_dict") and not isinstance(row, dict | pd.Series):
        row = row.to_dict()
    source_id = row.get("id", row.get("source", MISSING))
    customer = row.get("customer")
    if isinstance(customer, Mapping):
        customer = customer.get("id")
    state = SourceState(
        id=None if source_id is MISSING else source_id,
        customer=text_or_none(customer),
        status=text_or_none(row.get("status")),
        metadata=_metadata_from_row(row),
        owner=_owner_from_row(row),
        unapplied=receiver_unapplied(row),
    )
    state.known = "status" in row or "metadata" in row or "customer" in row
    return state


_RECEIVER = ("receiver_amount_received", "receiver_amount_charged", "receiver_amount_returned")


def _add_unapplied(states: list[SourceState], frame: pd.DataFrame) -> None:
    """Record the money each receiver still holds (the one rule: :func:`toolkit.money.unapplied`)."""
    if not set(_RECEIVER) <= set(frame.columns) or "currency" not in frame.columns:
        return
    left = unapplied(*(frame[c] for c in _RECEIVER)).tolist()
    for state, amount, currency in zip(states, left, frame["currency"].tolist(), strict=True):
        state.unapplied = held_money(amount, currency)


def source_states(sources: Any) -> list[SourceState]:
    """Normalise any accepted ``sources`` argument to a list of :class:`SourceState`.

    ``source_states(["src_1", "src_2"])``, ``source_states(df)``, ``source_states([src.to_dict()])``.
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
        rows = [_state_from_mapping(rec) for rec in sources.to_dict("records")]
        _add_unapplied(rows, sources)
        return rows
    if isinstance(sources, pd.Series | pd.Index):
        sources = list(sources)
    if isinstance(sources, Mapping):
        raise InvalidInputError(
            "sources must be a DataFrame, a list of ids or a list of source dicts, not one dict."
        )
    states: list[SourceState] = []
    for item in sources:
        if isinstance(item, str) or blank(item):
            states.append(SourceState(id=item))
        elif isinstance(item, Mapping) or hasattr(item, "to_dict"):
            states.append(_state_from_mapping(item))
        else:
            states.append(SourceState(id=item))
    return states


def rows_per_source(
    sources: Any, action: str, row_for: Callable[[int, SourceState], PlanRow]
) -> list[PlanRow]:
    """One plan row per source: refused for a malformed or repeated id, else ``row_for``.

    ``row_for(number, state)`` gets the 1-based row number.
    """
    states = source_states(sources)
    repeats = duplicates([s.id for s in states])
    rows = []
    for index, state in enumerate(states):
        number = index + 1
        problem = refusal(state.id, index, repeats)
        if problem:
            rows.append(invalid_row(number, state.id, state.customer, action, problem))
        else:
            rows.append(row_for(number, state))
    return rows


def state_row(
    number: int,
    state: SourceState,
    action: str,
    params: dict[str, Any],
    before: Any,
    after: Any,
    status: str,
    reason: str = "",
    change: str = "",
    customer: str | None = None,
) -> PlanRow:
    """The plan row of one source (its id and customer from ``state``, unless ``customer``)."""
    return make_row(
        number,
        state.id,
        customer if customer is not None else state.customer,
        action,
        params,
        before,
        after,
        status,
        reason,
        change,
    )


def state_invalid(number: int, state: SourceState, action: str, reason: str) -> PlanRow:
    """A refused row for one source."""
    return invalid_row(number, state.id, state.customer, action, reason)
