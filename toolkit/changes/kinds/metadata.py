"""The metadata kind: set, unset or clear metadata keys, and undo it exactly.

Stripe allows at most 50 metadata keys per object, keys of at most 40 characters without ``[`` or
``]``, and values of at most 500 characters; a key is unset by sending ``""`` for it and
``metadata=""`` clears all. Values are text: numbers and booleans are converted explicitly (and
the conversion is shown in the plan), anything else is refused. Each rule has one home here: the
plan builders check it when they make a row, and apply checks it again against the state read just
before the write (a plan made earlier, or edited in a file, never slips past it).

**Tables** (:meth:`MetadataChange.table_columns`): one column per key, or ``metadata.<key>``
columns as the sources frame has them. An **empty cell means "leave this key unchanged"**; the
text ``<unset>`` (any case) removes the key; everything else is the new value, exactly as written,
except that a leading ``'`` before ``= + - @`` (how the toolkit's CSV exports keep spreadsheets
from running a cell as a formula) is removed again.

>>> metadata_problems({"a" * 41: "x"})
["key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is 41 characters long (Stripe allows 40)"]
>>> MetadataChange().inverse({"params": {"metadata": {"a": "2"}}}, {"a": "1"}, {"a": "2"})["params"]
{'metadata': {'a': '1'}}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from toolkit.changes.kinds.base import FieldsChange, SourceState, TableRequest
from toolkit.changes.rows import PlanRow, quote
from toolkit.changes.text import blank, sendable_text, short, unicode_problem
from toolkit.errors import InvalidInputError
from toolkit.private_files import csv_unescape

__all__ = [
    "MAX_KEYS",
    "MAX_KEY_LENGTH",
    "MAX_VALUE_LENGTH",
    "UNSET",
    "MetadataChange",
    "MetadataRequest",
    "key_problem",
    "merge_metadata",
    "metadata_params_problems",
    "metadata_problems",
    "metadata_request",
]

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500
#: The cell text that removes a key in a metadata table (any letter case).
UNSET = "<unset>"


# -- Stripe's rules -------------------------------------------------------------------------------
def key_problem(key: object) -> str | None:
    """Why ``key`` cannot be a Stripe metadata key, or None when it can.

    Example: ``key_problem("a[b]")`` -> ``"key 'a[b]' contains [ or ] (Stripe refuses them)"``.
    """
    if not isinstance(key, str):
        return f"key {key!r} is a {type(key).__name__}, not text"
    if key == "":
        return "empty key (Stripe needs a name)"
    bad_text = unicode_problem(key, f"key {key!r}")
    if bad_text:
        return bad_text
    if len(key) > MAX_KEY_LENGTH:
        return f"key {short(key)!r} is {len(key)} characters long (Stripe allows {MAX_KEY_LENGTH})"
    if "[" in key or "]" in key:
        return f"key {short(key)!r} contains [ or ] (Stripe refuses them)"
    return None


def metadata_problems(metadata: Mapping[str, str]) -> list[str]:
    """Every way ``metadata`` (the state after a change) breaks Stripe's limits; [] when fine.

    Example: ``metadata_problems({str(i): "x" for i in range(51)})`` ->
    ``["51 keys after the change (Stripe allows 50)"]``.
    """
    problems: list[str] = []
    if len(metadata) > MAX_KEYS:
        problems.append(f"{len(metadata)} keys after the change (Stripe allows {MAX_KEYS})")
    for key, value in metadata.items():
        problem = key_problem(key)
        if problem:
            problems.append(problem)
        if not isinstance(value, str):
            problems.append(f"value of {key!r} is a {type(value).__name__}, not text")
        elif unicode_problem(value, f"value of {key!r}"):
            problems.append(unicode_problem(value, f"value of {key!r}") or "")
        elif len(value) > MAX_VALUE_LENGTH:
            problems.append(
                f"value of {short(str(key))!r} is {len(value)} characters long "
                f"(Stripe allows {MAX_VALUE_LENGTH})"
            )
    return problems


def metadata_params_problems(metadata: Any) -> list[str]:
    """Every way the ``metadata`` a row sends (keys to set, ``""`` to unset, or ``""`` to clear)
    is not what a plan sends; [] when fine.

    >>> metadata_params_problems({"a[1]": "", "b": 5})
    ["key 'a[1]' contains [ or ] (Stripe refuses them)", "value of 'b' is a int, not text"]
    """
    if metadata == "":
        return []
    if not isinstance(metadata, Mapping):
        return ["metadata is neither key -> value nor '' (clear all)"]
    problems = [key_problem(k) or "" for k, v in metadata.items() if v == "" and key_problem(k)]
    return problems + metadata_problems({k: v for k, v in metadata.items() if v != ""})


def merge_metadata(before: Mapping[str, str], params: Any) -> dict[str, str]:
    """The metadata Stripe keeps after ``params`` (``{"k": "v", "gone": ""}`` or ``""``).

    >>> merge_metadata({"a": "1"}, {"a": "", "b": "2"})
    {'b': '2'}
    """
    if params == "":
        return {}
    after = dict(before)
    for key, value in params.items():
        if value == "":
            after.pop(key, None)
        else:
            after[key] = value
    return after


# -- what a builder is asked ----------------------------------------------------------------------
class MetadataRequest(NamedTuple):
    """What a metadata row is asked: keys to set (text), keys to unset, whether to clear all
    first, and notes for its change column."""

    sets: dict[str, str]
    unsets: list[str]
    clear: bool
    notes: list[str]


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


def metadata_request(
    set: Mapping[str, Any] | None, unset: Iterable[str] | str | None, clear: bool
) -> tuple[MetadataRequest, list[str]]:
    """The request of :func:`~toolkit.plan_metadata`'s arguments, and the plan's notes (what
    was converted); raises :class:`~toolkit.errors.InvalidInputError` for what cannot be sent.

    >>> metadata_request({"tier": "gold", "n": 5}, ["legacy"], False)
    (MetadataRequest(sets={'tier': 'gold', 'n': '5'}, unsets=['legacy'], clear=False, notes=[]), ['n: converted int 5 to text'])
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
    return MetadataRequest(sets, unsets, clear, []), notes


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


# -- the kind -------------------------------------------------------------------------------------
class MetadataChange(FieldsChange):
    """Set, unset or clear metadata keys."""

    name = "metadata"
    action = "update_metadata"
    plan_input = "table"
    plan_input_help = "a CSV/Excel with an id column and key columns"

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, str] | None:
        """The ``metadata`` of a frame row (a dict, or JSON text), or its ``metadata.<key>``
        columns."""
        return _metadata_from_row(row)

    def plan_row(self, number: int, source: SourceState, request: MetadataRequest) -> PlanRow:
        """Set, unset or clear: with the current metadata known, the diff (keys changed, added,
        removed) and Stripe's limits on what it leaves; without it, what is sent."""
        sets, unsets, clear, notes = request
        before = source.before
        if before is None:
            if clear and sets:
                return self.refused(
                    number,
                    source,
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
                return self.refused(number, source, "; ".join(problems))
            return self.row(number, source, {"metadata": params}, None, None, "ready", "", change)

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
            reason = "; ".join(problems)
            return self.row(number, source, {}, before, target, "invalid", reason, change)
        if not diff:
            return self.row(number, source, {}, before, target, "noop", "no change", "no change")
        params = "" if clear and not target else diff
        return self.row(number, source, {"metadata": params}, before, target, "ready", "", change)

    def table_columns(self, columns: list[Any]) -> tuple[dict[Any, str], list[str]]:
        """One key per column; if any column is named ``metadata.<key>`` only those are read (so
        an edited export of the sources frame works) and the rest are ignored."""
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
        return keys, notes

    def table_request(self, cells: dict[Any, Any], fields: dict[Any, str]) -> TableRequest:
        """``<unset>`` removes the key, any other cell is its new value (formula escapes of the
        toolkit's CSV exports removed)."""
        sets: dict[str, str] = {}
        unsets: list[str] = []
        notes: list[str] = []
        problems: list[str] = []
        for column, value in cells.items():
            key = fields[column]
            problem = key_problem(key)
            if problem:
                problems.append(f"column {str(column)!r}: {problem}")
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
                notes.append(f"{key}: {note}")
            sets[key] = text
        if problems or (not sets and not unsets):
            return TableRequest(None, notes, problems)
        return TableRequest(MetadataRequest(sets, unsets, False, notes), notes, [])

    def touched(self, params: Mapping[str, Any]) -> dict[str, str | None] | None:
        meta = params.get("metadata")
        if meta == "":
            return None
        return {k: (v if v != "" else None) for k, v in (meta or {}).items()}

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """The keys and values sent, then the metadata they leave (Stripe's limits)."""
        metadata = row["params"]["metadata"]
        problems = metadata_params_problems(metadata)
        problems += metadata_problems(merge_metadata(current, metadata))
        return "; ".join(dict.fromkeys(problems)) or None

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if (
            isinstance(params, Mapping)
            and set(params) == {"metadata"}
            and (params["metadata"] == "" or isinstance(params["metadata"], Mapping))
        ):
            return None
        return "a metadata row sends only metadata"

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        meta, before = row["params"].get("metadata"), row["before"]
        if meta == "":
            return [("clear all", "metadata")]
        ops = []
        for key, value in meta.items():
            if value == "":
                ops.append(("remove", key))
            elif before is None:
                ops.append(("set", key))
            else:
                ops.append(("change" if key in before else "add", key))
        return ops

    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        return merge_metadata(before or {}, params.get("metadata", {}))

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        changes = self.touched(row["params"])
        names = sorted(set(before) | set(after)) if changes is None else list(changes)
        params = {n: before.get(n, "") for n in names if before.get(n) != after.get(n)}
        if not params:
            return None
        change = "; ".join(
            f"restore {n}={before[n]!r}" if n in before else f"unset {n}" for n in params
        )
        return {
            **row,
            "params": {"metadata": params},
            "before": after,
            "after": merge_metadata(after, params),
            "status": "ready",
            "reason": "",
            "change": change,
        }
