"""The update kind: any mix of metadata, owner, amount, mandate and source_order changes in one
plan, one row per source, one ``POST /v1/sources/{id}`` per row (issue 25's "one table for any
change").

A row is made of parts, one per kind it touches, and each part is that kind's own row: its rules,
its state, its done and drift checks, what it sends (an owner address or an order whole), its
undo. This kind only joins them: the row's params are the parts' params side by side (they never
share a key), its before and after are ``{part: state}``, its change lists every field it
changes. A row with a mandate part cannot be undone as a whole: undo restores the other parts and
says the mandate stays (:meth:`UpdateChange.inverse`); a plan holding one is irreversible, asks
for the confirmation detach asks for, and says why.

**Tables** (:meth:`UpdateChange.table_columns`): an id column and dotted columns ``amount``,
``amount_major``, ``owner.email``, ``owner.address.city``, ``metadata.<key>``,
``mandate.<field>``, ``source_order.<field>``. An unknown column is refused with the list of
known ones; an empty cell leaves its field alone; ``<unset>`` is taken only where Stripe takes an
unset: a metadata key, and ``mandate.amount`` (a mandate of any amount).

>>> fields, _ = UpdateChange().table_columns(["amount", "owner.email", "metadata.team"])
>>> sorted(fields.values())
['amount|amount', 'metadata|team', 'owner|email']
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import pandas as pd

from toolkit.changes.kinds.amount import AmountChange
from toolkit.changes.kinds.base import ChangeKind, Reread, SourceState, TableRequest, Written
from toolkit.changes.kinds.mandate import IRREVERSIBLE_NOTE, MandateChange
from toolkit.changes.kinds.metadata import UNSET, MetadataChange
from toolkit.changes.kinds.owner import CANNOT_CLEAR, OWNER_FIELDS, OwnerChange, owner_request
from toolkit.changes.kinds.source_order import ORDER_COLUMNS, SourceOrderChange
from toolkit.changes.kinds.update_rules import MANDATE_FIELDS
from toolkit.changes.rows import PlanRow
from toolkit.errors import InvalidInputError
from toolkit.session import Session

__all__ = ["PARTS", "UpdateChange", "known_columns"]

#: The parts a row may have, in the order a row shows them; each part's params key is its name.
PARTS: dict[str, ChangeKind] = {
    kind.name: kind
    for kind in (
        MetadataChange(),
        OwnerChange(),
        AmountChange(),
        MandateChange(),
        SourceOrderChange(),
    )
}


def known_columns() -> list[str]:
    """The columns an update table may have, as an error lists them."""
    return [
        "amount",
        "amount_major",
        *(f"owner.{name}" for name in OWNER_FIELDS),
        "metadata.<key>",
        *(f"mandate.{name}" for name in MANDATE_FIELDS),
        *(f"source_order.{name}" for name in ORDER_COLUMNS),
    ]


def _part_of(column: str) -> str | None:
    if column in ("amount", "amount_major"):
        return "amount"
    head = column.split(".", 1)[0]
    return head if head in PARTS and "." in column else None


class UpdateChange(ChangeKind):
    """Any mix of metadata, owner, amount, mandate and source_order changes, one POST a row."""

    name = "update"
    action = "update_source"
    irreversible_note = IRREVERSIBLE_NOTE
    plan_input = "table"
    plan_input_help = (
        "a CSV with an id column and dotted columns: amount, amount_major, owner.email, "
        "owner.address.city, metadata.<key>, mandate.acceptance.status, "
        "source_order.shipping.carrier, ..."
    )

    # -- the parts of a row --------------------------------------------------------------------
    def parts_of(self, row: Mapping[str, Any]) -> list[tuple[ChangeKind, PlanRow]]:
        """Each part a row holds, as that kind's own row (its params and before)."""
        params = row.get("params") or {}
        before = row.get("before")
        after = row.get("after")
        out = []
        for name, kind in PARTS.items():
            if name in params:
                part: PlanRow = {
                    **row,  # type: ignore[typeddict-item]
                    "action": kind.action,
                    "params": {name: params[name]},
                    "before": before.get(name) if isinstance(before, Mapping) else None,
                    "after": after.get(name) if isinstance(after, Mapping) else None,
                }
                out.append((kind, part))
        return out

    def plan_irreversible(self, rows: pd.DataFrame) -> bool:
        """A plan is irreversible when one of its ready rows records a mandate."""
        ready = rows[rows["status"] == "ready"] if "status" in rows else rows
        return any(isinstance(p, Mapping) and "mandate" in p for p in ready.get("params", []))

    # -- the state ---------------------------------------------------------------------------
    def state_of(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return {name: kind.state_of(obj) for name, kind in PARTS.items()}

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        states = {name: kind.state_of_row(row) for name, kind in PARTS.items()}
        return states if any(v is not None for v in states.values()) else None

    # -- the plan ----------------------------------------------------------------------------
    def plan_row(self, number: int, source: SourceState, request: dict[str, Any]) -> PlanRow:
        """Each part's own row, joined: refused if any part is, a no-op if every part is."""
        before_all = source.before if isinstance(source.before, Mapping) else {}
        params: dict[str, Any] = {}
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        changes: list[str] = []
        reasons: list[str] = []
        for name, kind in PARTS.items():
            if name not in request:
                continue
            state = SourceState(source.id, source.customer, before_all.get(name))
            part = kind.plan_row(number, state, request[name])
            if part["status"] == "invalid":
                reasons.append(f"{name}: {part['reason']}")
            elif part["status"] == "ready":
                params.update(part["params"])
                before[name] = part["before"]
                after[name] = part["after"]
                changes.append(part["change"])
        if reasons:
            return self.refused(number, source, "; ".join(reasons))
        known = source.before is not None
        if not params:
            return self.row(number, source, {}, source.before, source.before, "noop", "no change")
        return self.row(
            number,
            source,
            params,
            before if known else None,
            after if known else None,
            "ready",
            "",
            "; ".join(changes),
        )

    def table_columns(self, columns: list[Any]) -> tuple[dict[Any, str], list[str]]:
        """Every column names its part and field (``owner.address.city``); an unknown one is
        refused with the list of known columns."""
        fields: dict[Any, str] = {}
        unknown: list[str] = []
        by_part: dict[str, list[Any]] = {}
        for column in columns:
            name = str(column).strip()
            part = _part_of(name)
            owner_field = name.split(".", 1)[1] if part == "owner" else None
            if part is None or (part == "owner" and owner_field not in OWNER_FIELDS):
                unknown.append(str(column))
                continue
            by_part.setdefault(part, []).append(column)
        if unknown or not by_part:
            raise InvalidInputError(
                f"Unknown column(s) {unknown or 'none given'} in the update table: the columns "
                f"are {', '.join(known_columns())}."
            )
        notes = [f"empty cell = leave unchanged; {UNSET} only for metadata keys and mandate.amount"]
        for part, cols in by_part.items():
            if part == "owner":
                part_fields = {c: str(c).strip().split(".", 1)[1] for c in cols}
            else:
                try:
                    part_fields, _ = PARTS[part].table_columns(cols)
                except InvalidInputError as exc:  # e.g. an unknown mandate field
                    raise InvalidInputError(
                        f"{exc} The columns of an update table are {', '.join(known_columns())}."
                    ) from None
            fields.update({c: f"{part}|{f}" for c, f in part_fields.items()})
        return fields, notes

    def table_request(self, cells: dict[Any, Any], fields: dict[Any, str]) -> TableRequest:
        """Each part's request from its cells (``<unset>`` only where Stripe takes an unset)."""
        grouped: dict[str, dict[Any, Any]] = {}
        problems: list[str] = []
        for column, value in cells.items():
            part, field = fields[column].split("|", 1)
            unset = isinstance(value, str) and value.strip().lower() == UNSET
            if unset and part == "mandate" and field == "amount":
                value = ""
            elif unset and part == "owner":
                problems.append(f"column {column!r}: {CANNOT_CLEAR}")
                continue
            elif unset and part != "metadata":
                problems.append(f"column {column!r}: Stripe takes no unset for {part} fields")
                continue
            grouped.setdefault(part, {})[column] = value
        request: dict[str, Any] = {}
        notes: list[str] = []
        for part, part_cells in grouped.items():
            part_fields = {c: fields[c].split("|", 1)[1] for c in part_cells}
            if part == "owner":
                try:
                    asked = owner_request({part_fields[c]: v for c, v in part_cells.items()})
                except InvalidInputError as exc:
                    problems.append(str(exc))
                    continue
                request[part], more = asked, asked.notes
            else:
                answer = PARTS[part].table_request(part_cells, part_fields)
                problems += answer.problems
                more = answer.notes
                if answer.request is not None:
                    request[part] = answer.request
            notes += more
        if problems or not request:
            return TableRequest(None, notes, problems)
        return TableRequest(request, notes, [])

    # -- the rules at the write --------------------------------------------------------------
    def _current(self, current: Any, name: str) -> Any:
        return current.get(name) if isinstance(current, Mapping) else None

    def is_done(self, row: PlanRow, current: Any) -> bool:
        parts = self.parts_of(row)
        return bool(parts) and all(
            kind.is_done(part, self._current(current, kind.name)) for kind, part in parts
        )

    def drift(self, row: PlanRow, current: Any) -> str | None:
        found = [
            f"{kind.name}: {text}"
            for kind, part in self.parts_of(row)
            if (text := kind.drift(part, self._current(current, kind.name)))
        ]
        return "; ".join(found) or None

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        found = [
            f"{kind.name}: {text}"
            for kind, part in self.parts_of(row)
            if (text := kind.precheck(part, self._current(current, kind.name)))
        ]
        return "; ".join(found) or None

    def to_send(self, row: PlanRow, current: Any) -> PlanRow:
        """Each part as its kind sends it (an owner address or an order whole)."""
        params: dict[str, Any] = {}
        before: dict[str, Any] = {}
        for kind, part in self.parts_of(row):
            sent = kind.to_send(part, self._current(current, kind.name))
            params.update(sent["params"])
            before[kind.name] = sent["before"]
        if row["before"] is None and all(v is None for v in before.values()):
            return {**row, "params": params}
        return {**row, "params": params, "before": before}

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if not isinstance(params, Mapping) or not params or not set(params) <= set(PARTS):
            return f"an update row sends only {', '.join(PARTS)}"
        found = [
            f"{kind.name}: {text}"
            for kind, part in self.parts_of(row)
            if (text := kind.params_problem(part))
        ]
        return "; ".join(found) or None

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [op for kind, part in self.parts_of(row) for op in kind.operations(part)]

    # -- the write and its undo --------------------------------------------------------------
    def write(
        self,
        session: Session,
        row: PlanRow,
        key: str,
        cancel: threading.Event,
        reread: Reread,
    ) -> Written:
        """One POST with every part. A mandate part shows on no source: Stripe's 200 is its
        proof, so a replayed answer is checked by reading the other parts again."""
        params = dict(row["params"])
        answer = session.update_source(
            str(row["source"]), params, idempotency_key=key, cancel=cancel
        )
        if "mandate" not in params:
            return Written(self.state_of(answer.body), answer.request_id, "", answer.replayed)
        after = reread(str(row["source"])) if answer.replayed else self.state_of(answer.body)
        after = {**after, "mandate": {**after["mandate"], "mandate": params["mandate"]}}
        return Written(after, answer.request_id, "", False)

    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        out = dict(before or {})
        for kind, part in self.parts_of({"params": params, "before": before}):
            out[kind.name] = kind.expected_after(part["before"], part["params"])
        return out

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        """The inverse of each part that can be undone; a mandate stays (and the row says so)."""
        params: dict[str, Any] = {}
        back: dict[str, Any] = {}
        told: list[str] = []
        kept: list[str] = []
        for kind, part in self.parts_of(row):
            if kind.undo_refusal is not None:
                kept.append(f"{kind.name} stays (it cannot be undone)")
                continue
            inverse = kind.inverse(part, before.get(kind.name), after.get(kind.name))
            if inverse is None:
                continue
            if inverse["status"] != "ready":
                kept.append(f"{kind.name}: {inverse['reason']}")
                continue
            params.update(inverse["params"])
            back[kind.name] = inverse["after"]
            told.append(inverse["change"])
        if not params:
            if not kept:
                return None
            return {
                **row,
                "params": {},
                "before": after,
                "after": None,
                "status": "invalid",
                "reason": "; ".join(kept),
                "change": "",
            }
        return {
            **row,
            "params": params,
            "before": {k: after.get(k) for k in back},
            "after": {**{k: after.get(k) for k in back}, **back},
            "status": "ready",
            "reason": "",
            "change": "; ".join(told + [f"not undone: {k}" for k in kept]),
        }
