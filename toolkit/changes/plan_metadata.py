"""Plans that set, unset or clear metadata: the same change on every source
(:func:`plan_metadata`), or one row per source from an analyst's table
(:func:`plan_metadata_from_table`).

**Metadata tables**: an ``id`` column (or ``source``) and one column per metadata key (or
``metadata.<key>`` columns, as the sources frame has them). An **empty cell means "leave this
key unchanged"**; the text ``<unset>`` (any case) removes the key. Cells holding only spaces count
as empty. Everything else is the new value, exactly as written, except that a leading ``'``
before ``= + - @`` (how the toolkit's CSV exports keep spreadsheets from running a cell as a
formula) is removed again.

**Sources** may be the DataFrame from ``load_sources`` (columns ``id, customer, status, metadata,
owner_*``), a list of source dicts (as Stripe returns them), or a list of ids. With ids alone the
current state is unknown: the plan cannot show a diff or spot no-ops, and apply checks each row
against the live state just before writing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from toolkit.changes.kinds import KINDS
from toolkit.changes.plan import Plan, make_plan
from toolkit.changes.rows import SOURCE_ID, PlanRow, id_problem, quote
from toolkit.changes.rules import (
    MAX_KEYS,
    MAX_VALUE_LENGTH,
    blank,
    key_problem,
    metadata_problems,
    sendable_text,
)
from toolkit.changes.sources import (
    SourceState,
    rows_per_source,
    source_states,
    state_invalid,
    state_row,
)
from toolkit.changes.table import id_column, read_table
from toolkit.errors import InvalidInputError
from toolkit.private_files import csv_unescape

__all__ = ["UNSET", "plan_metadata", "plan_metadata_from_table"]

#: The cell text that removes a key in :func:`plan_metadata_from_table` (any letter case).
UNSET = "<unset>"


def _metadata_row(
    number: int,
    state: SourceState,
    sets: dict[str, str],
    unsets: list[str],
    clear: bool,
    notes: list[str],
) -> PlanRow:
    action = KINDS["metadata"].action
    before = state.metadata if state.known else None
    if before is None:
        if clear and sets:
            return state_invalid(
                number,
                state,
                action,
                "clear together with set needs the current metadata: "
                "pass the frame from load_sources instead of ids",
            )
        if clear:
            params: Any = ""
            change = "clear all metadata (current keys unknown)"
        else:
            params = {**{k: "" for k in unsets}, **sets}
            told = [f"set {k}={quote(v)}" for k, v in sets.items()]
            told += [f"unset {k}" for k in unsets]
            change = "; ".join(told + notes) + " (current values unknown)"
        problems = metadata_problems(sets) if sets else []
        if problems:
            return state_invalid(number, state, action, "; ".join(problems))
        return state_row(
            number, state, action, {"metadata": params}, None, None, "ready", "", change
        )

    if clear:
        target = dict(sets)
    else:
        target = dict(before)
        for key in unsets:
            target.pop(key, None)
        target.update(sets)
    problems = metadata_problems(target)
    diff: dict[str, str] = {}
    parts: list[str] = []
    for key in sorted(set(before) | set(target)):
        old, new = before.get(key), target.get(key)
        if old == new:
            continue
        diff[key] = "" if new is None else new
        if new is None:
            parts.append(f"unset {key} (was {quote(old)})")
        elif old is None:
            parts.append(f"add {key}={quote(new)}")
        else:
            parts.append(f"change {key}: {quote(old)} → {quote(new)}")
    if notes:
        parts.extend(notes)
    change = "; ".join(parts)
    if problems:
        return state_row(
            number, state, action, {}, before, target, "invalid", "; ".join(problems), change
        )
    if not diff:
        return state_row(
            number, state, action, {}, before, target, "noop", "no change", "no change"
        )
    params = "" if clear and not target else diff
    return state_row(
        number, state, action, {"metadata": params}, before, target, "ready", "", change
    )


def _normalise_set(values: Mapping[Any, Any] | None) -> tuple[dict[str, str], list[str], list[str]]:
    """(sets, unsets, notes) from a user's ``set=`` mapping; raise for what cannot be sent."""
    sets: dict[str, str] = {}
    unsets: list[str] = []
    notes: list[str] = []
    problems: list[str] = []
    if values is not None and not isinstance(values, Mapping):
        shown = repr(values) if len(repr(values)) < 60 else type(values).__name__
        raise InvalidInputError(
            f"set= takes a dict of key -> value, like set={{'team': 'ar'}}, not {shown}."
        )
    for key, value in (values or {}).items():
        problem = key_problem(key)
        if problem:
            problems.append(problem)
            continue
        if value is None or value == "":
            unsets.append(key)
            notes.append(f"{key}: empty value means unset")
            continue
        if blank(value):
            problems.append(
                f"value of {key!r} is missing (NaN: an empty cell?): to remove the key pass "
                f"None or unset=[{key!r}]"
            )
            continue
        try:
            text, note = sendable_text(value, f"value of {key!r}")
        except ValueError as exc:
            problems.append(str(exc))
            continue
        if note:
            notes.append(f"{key}: {note}")
        sets[key] = text
    if len(sets) > MAX_KEYS:
        problems.append(f"{len(sets)} keys to set (Stripe allows {MAX_KEYS})")
    for key, text in sets.items():
        if len(text) > MAX_VALUE_LENGTH:
            problems.append(
                f"value of {key!r} is {len(text)} characters long (Stripe allows {MAX_VALUE_LENGTH})"
            )
    if problems:
        raise InvalidInputError("Cannot plan this metadata change: " + "; ".join(problems))
    return sets, unsets, notes


def plan_metadata(
    sources: Any,
    set: Mapping[str, Any] | None = None,
    unset: Iterable[str] | str | None = None,
    *,
    clear: bool = False,
) -> Plan:
    """Plan the same metadata change on every source: set keys, unset keys, or clear all.

    ``plan_metadata(df, set={"tier": "gold", "score": 5}, unset=["legacy"])``
    ``plan_metadata(df, clear=True)``  (remove every key; with ``set=`` only those keys remain)

    Numbers and booleans in ``set`` become text (``5`` -> ``"5"``, ``True`` -> ``"true"``) and
    the plan notes it; a value of None or ``""`` unsets the key (NaN is refused: it is usually an
    empty cell by mistake). Keys Stripe would refuse, values that are not text/number/boolean or
    not valid Unicode, and a key both set and unset raise
    :class:`~toolkit.errors.InvalidInputError`. Per source: more than 50 keys after the change,
    a malformed id or a repeated id make that row invalid; the other rows stay ready.

    >>> plan = toolkit.plan_metadata(["src_1abc"], set={"tier": "gold", "score": 5}, unset=["legacy"])
    >>> plan.df.loc[0, "params"]
    {'metadata': {'legacy': '', 'tier': 'gold', 'score': '5'}}
    >>> plan.notes
    ['score: converted int 5 to text']
    """
    sets, unsets_from_set, notes = _normalise_set(set)
    if isinstance(unset, str):
        unset = [unset]
    if unset is not None and (isinstance(unset, Mapping) or not isinstance(unset, Iterable)):
        raise InvalidInputError(
            f"unset= takes key names, like unset=['legacy_id'], not {type(unset).__name__}."
        )
    unsets = list(unsets_from_set)
    bad = []
    for key in unset or []:
        problem = key_problem(key)
        if problem:
            bad.append(problem)
        elif key not in unsets:
            unsets.append(key)
    both = sorted(k for k in unsets if k in sets)
    if both:
        bad.append(f"{both} are both set and unset: pick one")
    if bad:
        raise InvalidInputError("Cannot plan this metadata change: " + "; ".join(bad))
    if not sets and not unsets and not clear:
        raise InvalidInputError(
            "Nothing to change: pass set={'key': 'value'}, unset=['key'] or clear=True."
        )
    rows = rows_per_source(
        sources,
        KINDS["metadata"].action,
        lambda number, state: _metadata_row(number, state, sets, unsets, clear, []),
    )
    return make_plan("metadata", rows, notes, sources)


def _cell_is_empty(value: Any) -> bool:
    if blank(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def plan_metadata_from_table(table: Any, sources: Any = None) -> Plan:
    """Plan per-source metadata from an analyst's table (a DataFrame, CSV/Excel path, CSV bytes).

    ``plan_metadata_from_table("segments.csv", sources=df)``

    The table has an ``id`` column (or ``source``/``source_id``) and one column per key; if any
    column is named ``metadata.<key>`` only those columns are read (so an edited export of the
    sources frame works) and the rest are ignored. Per cell: **empty = leave the key unchanged**,
    ``<unset>`` = remove the key, anything else = the new value (CSV cells are read as text exactly
    as written; numbers/booleans in a DataFrame are converted and the plan says so).

    With ``sources`` (the frame from ``load_sources``), ids not in it are refused as unknown and
    the plan shows before/after; without it, apply checks each row against the live state.
    Ids that appear more than once are refused on every row they appear.

    >>> table = pd.DataFrame({"id": ["src_1abc"], "tier": ["gold"], "legacy": ["<unset>"]})
    >>> toolkit.plan_metadata_from_table(table).df.loc[0, "params"]
    {'metadata': {'legacy': '', 'tier': 'gold'}}
    """
    frame = read_table(table)
    ids_at = id_column(frame)
    columns = [c for c in frame.columns if c != ids_at]
    notes: list[str] = []
    prefixed = [c for c in columns if isinstance(c, str) and c.startswith("metadata.")]
    if prefixed:
        ignored = [c for c in columns if c not in prefixed]
        if ignored:
            notes.append(
                f"only metadata.<key> columns are read; ignored {len(ignored)} other columns"
            )
        keys = {c: c.split(".", 1)[1] for c in prefixed}
    else:
        keys = {c: str(c) for c in columns}
    if not keys:
        raise InvalidInputError("The table has an id column but no metadata key columns.")
    notes.append(f"empty cell = leave unchanged; {UNSET} = remove the key")
    column_problems = {c: key_problem(k) for c, k in keys.items()}

    known: dict[str, SourceState] | None = None
    if sources is not None:
        known = {}
        for state in source_states(sources):
            if isinstance(state.id, str):
                known.setdefault(state.id, state)

    ids = [v.strip() if isinstance(v, str) else v for v in frame[ids_at]]
    counts = Counter(v for v in ids if not blank(v))
    positions: dict[Any, list[int]] = {}
    for index, value in enumerate(ids):
        positions.setdefault(value, []).append(index + 1)

    action = KINDS["metadata"].action
    rows = []
    converted = 0
    for index, record in enumerate(frame.to_dict("records")):
        number = index + 1
        source_id = ids[index]
        state = SourceState(id=source_id)
        problem = id_problem(source_id, SOURCE_ID, "source", "src_1AbC...")
        if problem:
            rows.append(state_invalid(number, state, action, problem))
            continue
        if counts[source_id] > 1:
            where = ", ".join(str(p) for p in positions[source_id])
            rows.append(
                state_invalid(
                    number, state, action, f"duplicate id: {source_id} is in rows {where}"
                )
            )
            continue
        if known is not None:
            if source_id not in known:
                rows.append(
                    state_invalid(
                        number,
                        state,
                        action,
                        f"unknown id: {source_id} is not in the sources given",
                    )
                )
                continue
            state = known[source_id]
        sets: dict[str, str] = {}
        unsets: list[str] = []
        cell_notes: list[str] = []
        problems: list[str] = []
        for column, key in keys.items():
            value = record[column]
            if _cell_is_empty(value):
                continue
            if column_problems[column]:
                problems.append(f"column {str(column)!r}: {column_problems[column]}")
                continue
            if isinstance(value, str) and value.strip().lower() == UNSET:
                unsets.append(key)
                continue
            value = csv_unescape(value)  # our CSV exports escape formula-leading text
            try:
                text, note = sendable_text(value, f"column {key!r}")
            except ValueError as exc:
                problems.append(str(exc))
                continue
            if note:
                cell_notes.append(f"{key}: {note}")
            sets[key] = text
        if problems:
            rows.append(state_invalid(number, state, action, "; ".join(problems)))
            continue
        if not sets and not unsets:
            before = state.metadata if state.known else None
            rows.append(
                state_row(
                    number, state, action, {}, before, before, "noop", "empty row", "no change"
                )
            )
            continue
        converted += len(cell_notes)
        rows.append(_metadata_row(number, state, sets, unsets, False, cell_notes))
    if converted:
        notes.append(f"{converted} cells were numbers or booleans, converted to text (see change)")
    return make_plan("metadata", rows, notes, sources)
