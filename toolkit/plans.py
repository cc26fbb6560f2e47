"""Plans: pure functions that turn a selection and an intent into a readable table of changes.

Nothing here talks to Stripe. A :class:`Plan` is a DataFrame with one row per source (what will be
sent, the state before and after, whether the row is ready, a no-op or invalid and why) plus a few
attributes. Read it, export it for sign-off, then hand it to :func:`toolkit.apply.apply`.

Example::

    plan = plan_metadata(df, set={"segment": "gold"}, unset=["legacy_id"])
    plan                      # in a notebook: counts, what changes, the first rows
    plan.to_csv("plan.csv")   # for sign-off

**Metadata tables** (:func:`plan_metadata_from_table`): an ``id`` column (or ``source``) and one
column per metadata key (or ``metadata.<key>`` columns, as the sources frame has them).
An **empty cell means "leave this key unchanged"**; the text ``<unset>`` (any case) removes the key.
Cells holding only spaces count as empty. Everything else is the new value, exactly as written,
except that a leading ``'`` before ``= + - @`` (how the toolkit's CSV exports keep spreadsheets
from running a cell as a formula) is removed again.

**Sources** may be the DataFrame from ``load_sources`` (columns ``id, customer, status, metadata,
owner_*``), a list of source dicts (as Stripe returns them), or a list of ids. With ids alone the
current state is unknown: the plan cannot show a diff or spot no-ops, and apply checks each row
against the live state just before writing.
"""

from __future__ import annotations

import datetime as _dt
import html
import io
import json
import math
import os
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.metadata_rules import (
    MAX_KEYS,
    MAX_VALUE_LENGTH,
    key_problem,
    metadata_problems,
    to_metadata_value,
    unicode_problem,
)
from toolkit.private_files import csv_unescape, write_csv

__all__ = [
    "ATTACHABLE_STATUSES",
    "OWNER_FIELDS",
    "PLAN_COLUMNS",
    "UNSET",
    "Plan",
    "plan_attach",
    "plan_detach",
    "plan_metadata",
    "plan_metadata_from_table",
    "plan_owner",
    "read_table",
]

#: The cell text that removes a key in :func:`plan_metadata_from_table` (any letter case).
UNSET = "<unset>"
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
#: Owner fields a plan can change, as flat names (``address.city``) used in before/after.
OWNER_FIELDS = [
    "email",
    "name",
    "phone",
    "address.line1",
    "address.line2",
    "address.city",
    "address.state",
    "address.postal_code",
    "address.country",
]
#: Statuses a source must have for Stripe to attach it to a customer.
ATTACHABLE_STATUSES = ("chargeable", "pending")
ACTIONS = {
    "metadata": "update_metadata",
    "owner": "update_owner",
    "attach": "attach",
    "detach": "detach",
}
IRREVERSIBLE_NOTE = (
    "Detaching cannot be undone: Stripe marks a detached source consumed, and it can never be "
    "charged or attached again."
)
SOURCE_ID = re.compile(r"^src_[A-Za-z0-9_]+$")
CUSTOMER_ID = re.compile(r"^cus_[A-Za-z0-9_]+$")
#: The shape Stripe expects of an email: a name, one @, a domain with a dot, no spaces.
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_MISSING = object()


# ---------------------------------------------------------------------------------------------
# the Plan object
# ---------------------------------------------------------------------------------------------
def new_plan_id() -> str:
    """A fresh plan id: time-stamped and random, e.g. ``plan_20261123T0125_3fa9c1d2``."""
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M")
    return f"plan_{stamp}_{secrets.token_hex(4)}"


@dataclass
class Plan:
    """A reviewed-before-applied list of changes: ``plan.df`` has one row per source.

    ``plan.df`` columns: row (1-based position in the input), source, customer, action, params
    (exactly what will be sent), before, after (the state the row expects and produces; None when
    unknown), status (``ready``/``noop``/``invalid``), reason (why not ready), change (readable).

    Example::

        plan = plan_metadata(df, set={"tier": "gold"})
        plan.counts   # {"ready": 10, "noop": 2, "invalid": 0, "total": 12}
        plan.ready    # the rows apply() will send
    """

    id: str
    kind: str
    df: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    )
    #: ``attrs["toolkit"]`` of the load_sources frame the plan was made from (account, size of
    #: the load), or None: apply() reads it to choose how to re-read the sources and to refuse
    #: a plan made on another account or mode.
    loaded: dict[str, Any] | None = None
    #: For an undo plan: ``{"plan_id", "journal", "unresolved"}`` of the plan it undoes (the
    #: original journal's file name, and the rows whose write was in flight when it stopped).
    undoes: dict[str, Any] | None = None

    def rows(self) -> list[dict[str, Any]]:
        """The rows as plain JSON values (what a journal records and a digest covers)."""
        return plain_rows(self.df)

    @property
    def irreversible(self) -> bool:
        """True for detach plans: a detached source is consumed for good."""
        return self.kind == "detach"

    @property
    def action(self) -> str:
        """The action every row of this plan performs (``update_metadata``, ``detach``...)."""
        return ACTIONS[self.kind]

    @property
    def counts(self) -> dict[str, int]:
        """Rows by status plus the total: ``{"ready": 3, "noop": 1, "invalid": 0, "total": 4}``."""
        found = Counter(self.df["status"]) if len(self.df) else Counter()
        out = {name: int(found.get(name, 0)) for name in ("ready", "noop", "invalid")}
        out["total"] = len(self.df)
        return out

    @property
    def valid(self) -> bool:
        """True when at least one row is ready to apply."""
        return self.counts["ready"] > 0

    @property
    def ready(self) -> pd.DataFrame:
        """The rows apply() will send."""
        return self.df[self.df["status"] == "ready"]

    @property
    def invalid(self) -> pd.DataFrame:
        """The refused rows, with the reason for each."""
        return self.df[self.df["status"] == "invalid"]

    def subset(self, sources: Iterable[str] | pd.Series | pd.DataFrame) -> Plan:
        """A plan of its own (a new id ``<id>-part-...``, so a journal of its own) with the rows of
        some sources: ``plan.subset(["src_1", "src_2"])`` or ``plan.subset(selected_frame)``."""
        if isinstance(sources, pd.DataFrame):
            sources = sources["id"] if "id" in sources.columns else sources["source"]
        wanted = {str(s) for s in sources}
        df = self.df[self.df["source"].isin(wanted)].reset_index(drop=True)
        return Plan(
            id=f"{self.id}-part-{secrets.token_hex(2)}",
            kind=self.kind,
            df=df,
            notes=[*self.notes, f"part of plan {self.id}"],
            created=self.created,
            loaded=self.loaded,
        )

    def summary(self) -> pd.DataFrame:
        """What the ready rows change, counted: columns ``change``, ``field``, ``rows``.

        For metadata plans ``change`` is add / change / remove per key (``clear all`` for clears).
        """
        counter: Counter[tuple[str, str]] = Counter()
        for _, row in self.ready.iterrows():
            for op, name in _operations(self.kind, row):
                counter[(op, name)] += 1
        items = sorted(counter.items(), key=lambda kv: (kv[0][1], kv[0][0]))
        return pd.DataFrame(
            [{"change": op, "field": name, "rows": n} for (op, name), n in items],
            columns=["change", "field", "rows"],
        )

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the plan for sign-off (file readable by you only); returns the path.

        ``plan.to_csv("journals/plan-for-review.csv")``. before/after/params are JSON text.
        """
        out = self.df.copy()
        for name in ("params", "before", "after"):
            out[name] = out[name].map(_json_cell)
        out.insert(0, "kind", self.kind)
        out.insert(0, "plan_id", self.id)
        return write_csv(out, path)

    def headline(self) -> str:
        """One line: ``Plan plan_… (metadata): 12 rows — 10 ready, 2 no change, 0 invalid``."""
        c = self.counts
        return (
            f"Plan {self.id} ({self.kind}): {c['total']} rows — {c['ready']} ready, "
            f"{c['noop']} no change, {c['invalid']} invalid"
        )

    def __repr__(self) -> str:
        lines = [self.headline()]
        if self.irreversible:
            lines.append("WARNING: " + IRREVERSIBLE_NOTE)
        lines.extend(f"note: {note}" for note in self.notes)
        shown = self.df[["row", "source", "status", "change", "reason"]].head(10)
        if len(shown):
            lines.append(shown.to_string(index=False, max_colwidth=70))
        if len(self.df) > 10:
            lines.append(f"… {len(self.df) - 10} more rows in plan.df")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        c = self.counts
        parts = [
            "<div class='toolkit-plan'>",
            f"<h4 style='margin:0.2em 0'>Plan <code>{esc(self.id)}</code> · {esc(self.action)}</h4>",
            "<p style='margin:0.2em 0'>"
            f"<b>{c['total']}</b> rows: <b>{c['ready']}</b> ready, {c['noop']} no change "
            f"(skipped), <b style='color:{'#b00' if c['invalid'] else 'inherit'}'>"
            f"{c['invalid']}</b> invalid</p>",
        ]
        if self.irreversible:
            parts.append(
                "<p style='color:#fff;background:#b00;padding:0.4em;margin:0.3em 0'>"
                f"<b>Cannot be undone.</b> {esc(IRREVERSIBLE_NOTE)}</p>"
            )
        if self.notes:
            parts.append(
                "<ul>" + "".join(f"<li>{esc(note)}</li>" for note in self.notes[:10]) + "</ul>"
            )
        summary = self.summary()
        if len(summary):
            parts.append("<p style='margin:0.2em 0'>What changes:</p>")
            parts.append(summary.head(20).to_html(index=False, escape=True))
        if c["invalid"]:
            bad = self.invalid[["row", "source", "reason"]].head(10)
            parts.append("<p style='margin:0.2em 0'>Invalid rows (not applied):</p>")
            parts.append(bad.to_html(index=False, escape=True))
        shown = self.df[["row", "source", "customer", "status", "change"]].head(20)
        if len(shown):
            parts.append("<p style='margin:0.2em 0'>First rows:</p>")
            parts.append(shown.to_html(index=False, escape=True, na_rep=""))
        if len(self.df) > 20:
            parts.append(f"<p>… {len(self.df) - 20} more rows in <code>plan.df</code></p>")
        parts.append("</div>")
        return "".join(parts)


def _plain(value: Any) -> Any:
    """``value`` as plain JSON data: numpy scalars unwrapped, NaN and pandas' NA as None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        value = item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def plain_rows(df: pd.DataFrame) -> list[dict[str, Any]]:
    """A plan frame's rows (PLAN_COLUMNS) as plain JSON data, the same before and after a trip
    through a journal."""
    return [_plain(row) for row in df[PLAN_COLUMNS].to_dict("records")]


def _params_problem(kind: str, row: Mapping[str, Any]) -> str | None:
    """Why a ready row's params do not fit its plan's kind, or None."""
    params = row.get("params")
    if not isinstance(params, Mapping):
        return "params is not a hash"
    fits = {
        "metadata": lambda: (
            set(params) == {"metadata"}
            and (params["metadata"] == "" or isinstance(params["metadata"], Mapping))
        ),
        "owner": lambda: set(params) == {"owner"} and isinstance(params["owner"], Mapping),
        "attach": lambda: params == {"source": row.get("source")},
        "detach": lambda: set(params) == {"customer"} and params["customer"] == row.get("customer"),
    }
    if fits[kind]():
        return None
    return {
        "metadata": "a metadata row sends only metadata",
        "owner": "an owner row sends only owner",
        "attach": "an attach row sends only its own source",
        "detach": "a detach row names only its own customer",
    }[kind]


def rows_problems(kind: Any, rows: Any) -> list[str]:
    """Every way ``rows`` (plain plan rows, e.g. from a journal) do not fit a plan of ``kind``:
    an unknown kind, an action of another kind, params another kind would send. [] when fine.

    >>> rows_problems("detach", [{"row": 1, "source": "src_1", "action": "update_metadata",
    ...                            "status": "ready", "params": {"metadata": {"a": "1"}}}])
    ['row 1: action update_metadata does not fit a detach plan', 'row 1: a detach row names only its own customer']
    """
    if kind not in ACTIONS:
        return [f"unknown plan kind {kind!r} (one of {', '.join(ACTIONS)})"]
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
        if row.get("action") != ACTIONS[kind]:
            problems.append(f"row {number}: action {row.get('action')} does not fit a {kind} plan")
        if row.get("status") not in ("ready", "noop", "invalid"):
            problems.append(f"row {number}: status {row.get('status')!r} is not a plan status")
        elif row.get("status") == "ready":
            if not isinstance(row.get("source"), str) or not SOURCE_ID.match(row["source"]):
                problems.append(f"row {number}: {row.get('source')!r} is not a source id")
            problem = _params_problem(kind, row)
            if problem:
                problems.append(f"row {number}: {problem}")
    return problems


def _json_cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _operations(kind: str, row: Mapping[str, Any]) -> list[tuple[str, str]]:
    params = row["params"]
    before = row["before"]
    if kind == "metadata":
        meta = params.get("metadata")
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
    if kind == "owner":
        return [
            ("clear" if value == "" else "set", f"owner.{name}")
            for name, value in _flatten_owner_params(params.get("owner", {})).items()
        ]
    return [(row["action"], "customer")]


def _make_plan(
    kind: str, rows: list[dict[str, Any]], notes: list[str] | None = None, sources: Any = None
) -> Plan:
    df = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    df["row"] = df["row"].astype("int64")
    for name in ("source", "customer", "action", "status", "reason", "change"):
        df[name] = df[name].astype(object)
    loaded = sources.attrs.get("toolkit") if isinstance(sources, pd.DataFrame) else None
    return Plan(
        id=new_plan_id(),
        kind=kind,
        df=df.reset_index(drop=True),
        notes=notes or [],
        loaded=dict(loaded) if isinstance(loaded, dict) else None,
    )


# ---------------------------------------------------------------------------------------------
# reading sources
# ---------------------------------------------------------------------------------------------
@dataclass
class SourceState:
    """What a plan knows about one source; ``known`` is False when only the id was given."""

    id: Any
    customer: str | None = None
    status: str | None = None
    metadata: dict[str, str] | None = None
    owner: dict[str, str | None] | None = None
    known: bool = False


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _text_or_none(value: Any) -> str | None:
    return None if _blank(value) else str(value)


def owner_from_stripe(owner: Mapping[str, Any] | None) -> dict[str, str | None]:
    """Flatten a Stripe ``owner`` hash to the plan's fields: ``{"email": ..., "address.city": ...}``."""
    owner = owner or {}
    address = owner.get("address") or {}
    flat: dict[str, str | None] = {}
    for name in OWNER_FIELDS:
        if name.startswith("address."):
            flat[name] = _text_or_none(address.get(name.split(".", 1)[1]))
        else:
            flat[name] = _text_or_none(owner.get(name))
    return flat


def _owner_from_row(row: Mapping[str, Any]) -> dict[str, str | None] | None:
    columns = {name: "owner_" + name.replace(".", "_") for name in OWNER_FIELDS}
    if not any(col in row for col in columns.values()):
        if isinstance(row.get("owner"), Mapping):
            return owner_from_stripe(row["owner"])
        return None
    return {name: _text_or_none(row.get(col)) for name, col in columns.items()}


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
        if _blank(meta):
            return {}
        return None
    prefixed = [k for k in row if isinstance(k, str) and k.startswith("metadata.")]
    if prefixed:
        return {
            k.split(".", 1)[1]: str(row[k]) for k in prefixed if not _blank(row[k]) and row[k] != ""
        }
    return None


def _state_from_mapping(row: Mapping[str, Any]) -> SourceState:
    if hasattr(row, "to_dict") and not isinstance(row, dict | pd.Series):
        row = row.to_dict()
    source_id = row.get("id", row.get("source", _MISSING))
    customer = row.get("customer")
    if isinstance(customer, Mapping):
        customer = customer.get("id")
    state = SourceState(
        id=None if source_id is _MISSING else source_id,
        customer=_text_or_none(customer),
        status=_text_or_none(row.get("status")),
        metadata=_metadata_from_row(row),
        owner=_owner_from_row(row),
    )
    state.known = "status" in row or "metadata" in row or "customer" in row
    return state


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
        return [_state_from_mapping(rec) for rec in sources.to_dict("records")]
    if isinstance(sources, pd.Series | pd.Index):
        sources = list(sources)
    if isinstance(sources, Mapping):
        raise InvalidInputError(
            "sources must be a DataFrame, a list of ids or a list of source dicts, not one dict."
        )
    states: list[SourceState] = []
    for item in sources:
        if isinstance(item, str) or _blank(item):
            states.append(SourceState(id=item))
        elif isinstance(item, Mapping) or hasattr(item, "to_dict"):
            states.append(_state_from_mapping(item))
        else:
            states.append(SourceState(id=item))
    return states


def _id_problem(value: Any, pattern: re.Pattern[str], what: str, example: str) -> str | None:
    if _blank(value) or (isinstance(value, str) and not value.strip()):
        return f"missing {what} id"
    if not isinstance(value, str):
        return f"{what} id {value!r} is a {type(value).__name__}, not text"
    if not pattern.match(value):
        return f"{value!r} is not a {what} id (they look like {example})"
    return None


def _duplicates(ids: list[Any]) -> dict[int, int]:
    """Index -> index of the first occurrence, for every repeat of an id."""
    first: dict[Any, int] = {}
    repeats: dict[int, int] = {}
    for index, value in enumerate(ids):
        if _blank(value):
            continue
        if value in first:
            repeats[index] = first[value]
        else:
            first[value] = index
    return repeats


def _refusal(
    source_id: Any, index: int, repeats: dict[int, int], customer: Any = _MISSING
) -> str | None:
    """Why row ``index`` is refused before its state is read, or None.

    A malformed source id, then (when ``customer`` is given) a malformed customer id, then a
    repeat of an earlier row's source id (``repeats`` from :func:`_duplicates`).
    """
    problem = _id_problem(source_id, SOURCE_ID, "source", "src_1AbC...")
    if problem is None and customer is not _MISSING:
        problem = _id_problem(customer, CUSTOMER_ID, "customer", "cus_1AbC...")
    if problem is None and index in repeats:
        problem = f"duplicate id: {source_id} is already row {repeats[index] + 1}"
    return problem


def _rows_per_source(
    sources: Any, action: str, row_for: Callable[[int, SourceState], dict[str, Any]]
) -> list[dict[str, Any]]:
    """One plan row per source: refused for a malformed or repeated id, else ``row_for``.

    ``_rows_per_source(df, ACTIONS["detach"], _detach_row)``; ``row_for(number, state)`` gets the
    1-based row number.
    """
    states = source_states(sources)
    repeats = _duplicates([s.id for s in states])
    rows = []
    for index, state in enumerate(states):
        number = index + 1
        problem = _refusal(state.id, index, repeats)
        if problem:
            rows.append(_invalid(number, state, action, problem))
        else:
            rows.append(row_for(number, state))
    return rows


def _row(
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
) -> dict[str, Any]:
    return {
        "row": number,
        "source": state.id if isinstance(state.id, str) else _text_or_none(state.id),
        "customer": customer if customer is not None else state.customer,
        "action": action,
        "params": params,
        "before": before,
        "after": after,
        "status": status,
        "reason": reason,
        "change": change,
    }


def _invalid(number: int, state: SourceState, action: str, reason: str) -> dict[str, Any]:
    return _row(number, state, action, {}, None, None, "invalid", reason, "")


def _quote(value: str | None, limit: int = 40) -> str:
    if value is None:
        return "∅"
    text = value if len(value) <= limit else value[: limit - 1] + "…"
    return repr(text)


# ---------------------------------------------------------------------------------------------
# metadata
# ---------------------------------------------------------------------------------------------
def merge_metadata(before: Mapping[str, str], params: Any) -> dict[str, str]:
    """The metadata Stripe keeps after ``params`` (``{"k": "v", "gone": ""}`` or ``""``).

    ``merge_metadata({"a": "1"}, {"a": "", "b": "2"})`` -> ``{"b": "2"}``.
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


def _metadata_row(
    number: int,
    state: SourceState,
    sets: dict[str, str],
    unsets: list[str],
    clear: bool,
    notes: list[str],
) -> dict[str, Any]:
    action = ACTIONS["metadata"]
    before = state.metadata if state.known else None
    if before is None:
        if clear and sets:
            return _invalid(
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
            parts = [f"set {k}={_quote(v)}" for k, v in sets.items()]
            parts += [f"unset {k}" for k in unsets]
            change = "; ".join(parts + notes) + " (current values unknown)"
        problems = metadata_problems(sets) if sets else []
        if problems:
            return _invalid(number, state, action, "; ".join(problems))
        return _row(number, state, action, {"metadata": params}, None, None, "ready", "", change)

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
            parts.append(f"unset {key} (was {_quote(old)})")
        elif old is None:
            parts.append(f"add {key}={_quote(new)}")
        else:
            parts.append(f"change {key}: {_quote(old)} → {_quote(new)}")
    if notes:
        parts.extend(notes)
    change = "; ".join(parts)
    if problems:
        return _row(
            number, state, action, {}, before, target, "invalid", "; ".join(problems), change
        )
    if not diff:
        return _row(number, state, action, {}, before, target, "noop", "no change", "no change")
    params = "" if clear and not target else diff
    return _row(number, state, action, {"metadata": params}, before, target, "ready", "", change)


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
        if _blank(value):
            problems.append(
                f"value of {key!r} is missing (NaN: an empty cell?): to remove the key pass "
                f"None or unset=[{key!r}]"
            )
            continue
        try:
            text, note = to_metadata_value(value)
        except TypeError as exc:
            problems.append(f"value of {key!r}: {exc}")
            continue
        bad_text = unicode_problem(text, f"value of {key!r}")
        if bad_text:
            problems.append(bad_text)
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
    rows = _rows_per_source(
        sources,
        ACTIONS["metadata"],
        lambda number, state: _metadata_row(number, state, sets, unsets, clear, []),
    )
    return _make_plan("metadata", rows, notes, sources)


def read_table(table: Any, name: str = "table") -> pd.DataFrame:
    """An analyst's table as text cells: a DataFrame, a CSV/Excel path, CSV bytes or a file object.

    ``read_table("segments.csv")`` or ``read_table(uploaded_bytes, name="segments.csv")``
    """
    if isinstance(table, pd.DataFrame):
        return table.reset_index(drop=True)
    if isinstance(table, str | os.PathLike):
        path = Path(table)
        if not path.exists():
            raise InvalidInputError(f"No such table file: {path}")
        name = str(path)
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            try:
                return pd.read_excel(path, dtype=str, keep_default_na=False)
            except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError...
                raise InvalidInputError(
                    f"Could not read {path} as an Excel workbook ({type(exc).__name__}: {exc}). "
                    "Save it from Excel as .xlsx, or as CSV (UTF-8)."
                ) from exc
        source: Any = path
    elif isinstance(table, bytes | bytearray | memoryview):
        source = io.BytesIO(bytes(table))
    elif hasattr(table, "read"):
        source = table
    else:
        raise InvalidInputError(
            "table must be a DataFrame, a CSV/Excel path, CSV bytes or a file object, "
            f"not {type(table).__name__}."
        )
    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(
            f"Could not read {name} as CSV ({exc}). Save it as CSV (UTF-8) with an id column."
        ) from exc


def _cell_is_empty(value: Any) -> bool:
    if _blank(value):
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
    """
    frame = read_table(table)
    id_column = next((c for c in ("id", "source", "source_id") if c in frame.columns), None)
    if id_column is None:
        raise InvalidInputError(
            "The table needs an 'id' column with source ids (src_...); "
            f"its columns are {list(frame.columns)[:10]}."
        )
    columns = [c for c in frame.columns if c != id_column]
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

    ids = [v.strip() if isinstance(v, str) else v for v in frame[id_column]]
    counts = Counter(v for v in ids if not _blank(v))
    positions: dict[Any, list[int]] = {}
    for index, value in enumerate(ids):
        positions.setdefault(value, []).append(index + 1)

    action = ACTIONS["metadata"]
    rows = []
    converted = 0
    for index, record in enumerate(frame.to_dict("records")):
        number = index + 1
        source_id = ids[index]
        state = SourceState(id=source_id)
        problem = _id_problem(source_id, SOURCE_ID, "source", "src_1AbC...")
        if problem:
            rows.append(_invalid(number, state, action, problem))
            continue
        if counts[source_id] > 1:
            where = ", ".join(str(p) for p in positions[source_id])
            rows.append(
                _invalid(number, state, action, f"duplicate id: {source_id} is in rows {where}")
            )
            continue
        if known is not None:
            if source_id not in known:
                rows.append(
                    _invalid(
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
                text, note = to_metadata_value(value)
            except TypeError as exc:
                problems.append(f"column {key!r}: {exc}")
                continue
            bad_text = unicode_problem(text, f"column {key!r}")
            if bad_text:
                problems.append(bad_text)
                continue
            if note:
                cell_notes.append(f"{key}: {note}")
            sets[key] = text
        if problems:
            rows.append(_invalid(number, state, action, "; ".join(problems)))
            continue
        if not sets and not unsets:
            before = state.metadata if state.known else None
            rows.append(
                _row(number, state, action, {}, before, before, "noop", "empty row", "no change")
            )
            continue
        converted += len(cell_notes)
        rows.append(_metadata_row(number, state, sets, unsets, False, cell_notes))
    if converted:
        notes.append(f"{converted} cells were numbers or booleans, converted to text (see change)")
    return _make_plan("metadata", rows, notes, sources)


# ---------------------------------------------------------------------------------------------
# owner
# ---------------------------------------------------------------------------------------------
_OWNER_ALIASES = {
    **{name: name for name in OWNER_FIELDS},
    **{name.replace(".", "_"): name for name in OWNER_FIELDS},
    **{"owner_" + name.replace(".", "_"): name for name in OWNER_FIELDS},
}


def _flatten_owner_params(owner: Mapping[str, Any]) -> dict[str, str]:
    flat = {k: v for k, v in owner.items() if k != "address"}
    for k, v in (owner.get("address") or {}).items():
        flat[f"address.{k}"] = v
    return flat


def owner_params(changes: Mapping[str, str]) -> dict[str, Any]:
    """Stripe's nested ``owner`` params from flat fields: ``{"address.city": "X"}`` ->
    ``{"address": {"city": "X"}}``; an empty string clears the field."""
    nested: dict[str, Any] = {}
    for name, value in changes.items():
        if name.startswith("address."):
            nested.setdefault("address", {})[name.split(".", 1)[1]] = value
        else:
            nested[name] = value
    return nested


def _owner_row(
    number: int, state: SourceState, flat: dict[str, Any], notes: list[str]
) -> dict[str, Any]:
    """The plan row of one source for the owner fields ``flat`` (None clears a field)."""
    action = ACTIONS["owner"]
    before = state.owner if state.known and state.owner is not None else None
    if before is None:
        send = {k: ("" if v is None else v) for k, v in flat.items()}
        change = "; ".join(
            f"{'clear' if v is None else 'set'} owner.{k}" + ("" if v is None else f"={_quote(v)}")
            for k, v in flat.items()
        )
        return _row(
            number,
            state,
            action,
            {"owner": owner_params(send)},
            None,
            None,
            "ready",
            "",
            change + " (current values unknown)",
        )
    after = {**before, **flat}
    diff = {k: ("" if v is None else v) for k, v in flat.items() if before.get(k) != v}
    if not diff:
        return _row(number, state, action, {}, before, after, "noop", "no change", "")
    change = "; ".join(
        f"{'clear' if flat[k] is None else 'set'} owner.{k}: "
        f"{_quote(before.get(k))} → {_quote(flat[k])}"
        for k in diff
    )
    if notes:
        change += "; " + "; ".join(notes)
    return _row(
        number, state, action, {"owner": owner_params(diff)}, before, after, "ready", "", change
    )


def plan_owner(sources: Any, **fields: Any) -> Plan:
    """Plan the same owner change on every source: email, name, phone and address fields.

    ``plan_owner(df, email="billing@example.com", address_country="US")``
    ``plan_owner(df, address={"city": "Berlin", "line2": None})``

    Field names: ``email, name, phone, address_line1, address_line2, address_city, address_state,
    address_postal_code, address_country`` (or ``address={...}``). None or ``""`` clears a field.
    Numbers are converted to text (noted); other types and unknown fields raise
    :class:`~toolkit.errors.InvalidInputError`.
    """
    flat: dict[str, Any] = {}
    address = fields.pop("address", None)
    if address is not None:
        if not isinstance(address, Mapping):
            raise InvalidInputError("address must be a dict like {'city': 'Berlin'}.")
        for key, value in address.items():
            fields[f"address_{key}"] = value
    unknown = [name for name in fields if name not in _OWNER_ALIASES]
    if unknown:
        allowed = ", ".join(n.replace(".", "_") for n in OWNER_FIELDS)
        raise InvalidInputError(f"Unknown owner field(s) {unknown}: use {allowed}.")
    notes: list[str] = []
    problems: list[str] = []
    for name, value in fields.items():
        target = _OWNER_ALIASES[name]
        if _blank(value) or value == "":
            flat[target] = None
            continue
        try:
            text, note = to_metadata_value(value)
        except TypeError as exc:
            problems.append(f"{name}: {exc}")
            continue
        if note:
            notes.append(f"{name}: {note}")
        text = text.strip()
        if target == "email" and not EMAIL.fullmatch(text):
            problems.append(
                f"email {text!r} does not look like an email address (name@example.com)"
            )
        bad_text = unicode_problem(text, name)
        if bad_text:
            problems.append(bad_text)
        if target == "address.country" and not re.fullmatch(r"[A-Za-z]{2}", text):
            problems.append(f"address_country {text!r} must be a two-letter code like 'US'")
        if len(text) > 5000:
            problems.append(f"{name} is {len(text)} characters long (Stripe allows 5000)")
        flat[target] = text.upper() if target == "address.country" else text
    if problems:
        raise InvalidInputError("Cannot plan this owner change: " + "; ".join(problems))
    if not flat:
        raise InvalidInputError("Nothing to change: pass e.g. email='...' or address_city='...'.")

    rows = _rows_per_source(
        sources, ACTIONS["owner"], lambda number, state: _owner_row(number, state, flat, notes)
    )
    return _make_plan("owner", rows, notes, sources)


# ---------------------------------------------------------------------------------------------
# attach / detach
# ---------------------------------------------------------------------------------------------
def _pairs(pairs: Any) -> list[tuple[Any, Any]]:
    if pairs is None or isinstance(pairs, str | bytes) or not isinstance(pairs, Iterable):
        raise InvalidInputError(
            "plan_attach needs pairs of (source id, customer id): a list like "
            "[('src_1...', 'cus_9...')], a dict {'src_1...': 'cus_9...'} or a DataFrame with "
            f"'source' and 'customer' columns, not {type(pairs).__name__}."
        )
    if isinstance(pairs, pd.DataFrame):
        src = next((c for c in ("source", "id", "source_id") if c in pairs.columns), None)
        if src is None or "customer" not in pairs.columns:
            raise InvalidInputError(
                "The pairs frame needs a 'source' (or 'id') column and a 'customer' column."
            )
        return list(zip(pairs[src], pairs["customer"], strict=True))
    if isinstance(pairs, Mapping):
        return list(pairs.items())
    out = []
    for item in pairs:
        if isinstance(item, Mapping):
            out.append((item.get("source", item.get("id")), item.get("customer")))
        elif isinstance(item, list | tuple) and len(item) == 2:
            out.append((item[0], item[1]))
        else:
            raise InvalidInputError(
                f"Each pair must be (source_id, customer_id), got {item!r}: "
                "e.g. plan_attach([('src_1...', 'cus_1...')])."
            )
    return out


def plan_attach(pairs: Any, sources: Any = None) -> Plan:
    """Plan attaching sources to customers.

    ``plan_attach([("src_1...", "cus_9...")], sources=df)`` or ``plan_attach({"src_1": "cus_9"})``
    or a DataFrame with ``source`` and ``customer`` columns.

    Refused rows: malformed ids, repeated sources, sources not in ``sources`` (when given), status
    other than chargeable or pending, already attached to another customer. Already attached to
    that customer is a no-op.
    """
    pair_list = _pairs(pairs)
    known: dict[str, SourceState] | None = None
    if sources is not None:
        known = {s.id: s for s in source_states(sources) if isinstance(s.id, str)}
    repeats = _duplicates([p[0] for p in pair_list])
    action = ACTIONS["attach"]
    rows = []
    for index, (source_id, customer) in enumerate(pair_list):
        number = index + 1
        state = SourceState(id=source_id)
        customer_text = customer.strip() if isinstance(customer, str) else customer
        problem = _refusal(source_id, index, repeats, customer_text)
        if problem:
            rows.append(_invalid(number, state, action, problem))
            continue
        params = {"source": source_id}
        after_customer = customer_text
        if known is not None:
            if source_id not in known:
                reason = f"unknown id: {source_id} is not in the sources given"
                rows.append(_invalid(number, state, action, reason))
                continue
            state = known[source_id]
        if not state.known:
            rows.append(
                _row(
                    number,
                    state,
                    action,
                    params,
                    None,
                    {"customer": after_customer},
                    "ready",
                    "",
                    f"attach to {after_customer} (current state unknown)",
                    customer=after_customer,
                )
            )
            continue
        before = {"customer": state.customer, "status": state.status}
        after = {"customer": after_customer, "status": state.status}
        if state.customer == after_customer:
            rows.append(
                _row(
                    number,
                    state,
                    action,
                    {},
                    before,
                    after,
                    "noop",
                    f"already attached to {after_customer}",
                    "no change",
                    customer=after_customer,
                )
            )
        elif state.status not in ATTACHABLE_STATUSES:
            reason = f"status is {state.status}: Stripe attaches only chargeable or pending sources"
            rows.append(_row(number, state, action, {}, before, after, "invalid", reason, ""))
            rows[-1]["customer"] = after_customer
        elif state.customer:
            reason = (
                f"already attached to {state.customer}: a source belongs to one customer "
                "(detaching it would consume it)"
            )
            rows.append(_row(number, state, action, {}, before, after, "invalid", reason, ""))
            rows[-1]["customer"] = after_customer
        else:
            rows.append(
                _row(
                    number,
                    state,
                    action,
                    params,
                    before,
                    after,
                    "ready",
                    "",
                    f"attach to {after_customer}",
                    customer=after_customer,
                )
            )
    return _make_plan("attach", rows)


def _detach_row(number: int, state: SourceState) -> dict[str, Any]:
    """The plan row of one source for a detach (refused unless attached and not consumed)."""
    action = ACTIONS["detach"]
    if not state.known:
        reason = (
            "customer unknown: pass the frame from load_sources (with the customer column), "
            "not bare ids"
        )
        return _invalid(number, state, action, reason)
    before = {"customer": state.customer, "status": state.status}
    after = {"customer": None, "status": "consumed"}
    if state.status == "consumed":
        reason = "already consumed: nothing to detach"
        return _row(number, state, action, {}, before, before, "invalid", reason, "")
    if not state.customer:
        reason = "not attached to a customer"
        return _row(number, state, action, {}, before, before, "invalid", reason, "")
    bad_customer = _id_problem(state.customer, CUSTOMER_ID, "customer", "cus_1AbC...")
    if bad_customer:
        return _row(number, state, action, {}, before, before, "invalid", bad_customer, "")
    change = f"detach from {state.customer} → consumed (cannot be undone)"
    return _row(
        number, state, action, {"customer": state.customer}, before, after, "ready", "", change
    )


def plan_detach(sources: Any) -> Plan:
    """Plan detaching sources from their customers. **Cannot be undone.**

    ``plan = plan_detach(df[df.status == "chargeable"])``; ``plan.irreversible`` is True.

    Needs the customer of each source: pass the frame from ``load_sources`` (or source dicts).
    Rows not attached to a customer, already consumed, repeated or with malformed ids are refused
    with a reason.
    """
    rows = _rows_per_source(sources, ACTIONS["detach"], _detach_row)
    return _make_plan("detach", rows, sources=sources)
