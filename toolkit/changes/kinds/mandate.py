"""The mandate kind: record a mandate (its acceptance, notification method, interval...) on debit
sources. **Cannot be undone**: a mandate acceptance cannot be taken back.

The mandate is sent whole, as the analyst gave it (``mandate[acceptance][status]=accepted``,
``mandate[acceptance][date]``, ``mandate[acceptance][type]=offline``,
``mandate[acceptance][offline][contact_email]``...): Stripe replaces a hash sent in an update,
and Stripe's Source object has no ``mandate`` field to read one back, so there is nothing to
merge with. The rules are Stripe's (:func:`~toolkit.changes.kinds.update_rules.mandate_problems`:
a required status and date, an offline acceptance's contact email of at most 800 characters, an
online acceptance's date, ip and user agent, the source's own currency, the enums), checked by
plan_mandate and again by apply against the state read just before the write, with the choice
of which sources take one (debit sources, not once consumed, canceled or failed).

**What proves a row done.** Stripe does not show the mandate on a source it returns, so the only
evidence is Stripe's answer: a 200 for this source and this exact mandate (or the answer Stripe
saved for the row's idempotency key, replayed, which it only keeps for the same request). A read
of the source can never show it: a row whose answer was lost is reported ``failed`` (or
``uncertain``) by apply, and applying again sends it again, which records the same acceptance a
second time and harms nothing. The journal is the record of which mandates were sent.

>>> kind = MandateChange()
>>> kind.irreversible, kind.undo_refusal is not None
(True, True)
>>> mandate_request({"acceptance.status": "accepted", "acceptance.date": "2026-12-01",
...                  "acceptance.type": "offline",
...                  "acceptance.offline.contact_email": "ops@example.com"})["acceptance"]["date"]
1796083200
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from toolkit.changes.kinds.base import (
    ChangeKind,
    Reread,
    SourceState,
    TableRequest,
    Written,
    built_request,
    dotted_columns,
)
from toolkit.changes.kinds.update_rules import (
    MANDATE_FIELDS,
    MANDATE_TYPES,
    flatten,
    mandate_problems,
    nest,
    parse_field,
    status_problem,
)
from toolkit.changes.rows import PlanRow
from toolkit.changes.text import text_or_none
from toolkit.errors import InvalidInputError
from toolkit.session.protocol import SessionLike

__all__ = ["IRREVERSIBLE_NOTE", "UNDO_REFUSAL", "MandateChange", "mandate_request", "mandate_text"]

IRREVERSIBLE_NOTE = (
    "Recording a mandate cannot be undone: a mandate acceptance cannot be taken back (Stripe has "
    "no call to un-accept one; a later refusal or revocation is a new mandate to plan)."
)
UNDO_REFUSAL = (
    "Mandate changes cannot be undone: a mandate acceptance cannot be taken back (plan a "
    "revoked or refused mandate as a new change if that is what happened)"
)
_DONE = (
    "done: Stripe accepted the mandate (it answered 200 for this source and this mandate; "
    "Stripe shows no mandate on a source, so its answer is the proof)"
)
_REPLAYED = (
    "done: Stripe replayed its saved answer to this row's earlier request, which carried this "
    "same mandate: that request was accepted"
)


def mandate_request(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The mandate to send, from flat dotted fields (``acceptance.status``) or a nested hash (or
    both): dates as Unix times (``2026-12-01`` is read as UTC), amounts as whole numbers; raises
    :class:`~toolkit.errors.InvalidInputError` naming every problem (unknown fields included, with
    the fields it knows).

    >>> mandate_request({"notification_method": "manual", "acceptance": {"status": "pending"}})
    {'notification_method': 'manual', 'acceptance': {'status': 'pending'}}
    """
    if not isinstance(fields, Mapping):
        raise InvalidInputError("mandate must be a dict like {'acceptance.status': 'accepted'}.")
    flat = flatten(fields)
    unknown = sorted(name for name in flat if name not in MANDATE_FIELDS)
    if unknown:
        raise InvalidInputError(
            f"Unknown mandate field(s) {unknown}: use {', '.join(MANDATE_FIELDS)}."
        )
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, value in flat.items():
        if name == "amount" and value == "":
            values[name] = ""  # a mandate of any amount
            continue
        try:
            values[name] = parse_field(name, value)
        except ValueError as exc:
            problems.append(str(exc))
    mandate = nest(values)
    problems += mandate_problems(mandate)
    if problems:
        raise InvalidInputError("Cannot plan this mandate: " + "; ".join(problems))
    if not mandate:
        raise InvalidInputError("Nothing to send: give e.g. {'acceptance.status': 'accepted'}.")
    return mandate


def mandate_text(mandate: Mapping[str, Any]) -> str:
    """A mandate as a plan's change column shows it: its flat fields.

    >>> mandate_text({"acceptance": {"status": "accepted", "type": "online"}})
    'acceptance.status=accepted, acceptance.type=online'
    """
    return ", ".join(f"{k}={v}" for k, v in flatten(mandate).items())


class MandateChange(ChangeKind):
    """Record a mandate on debit sources (sent whole; cannot be undone)."""

    name = "mandate"
    action = "update_mandate"
    irreversible = True
    irreversible_note = IRREVERSIBLE_NOTE
    undo_refusal = UNDO_REFUSAL
    plan_input = "table"
    plan_input_help = (
        "a CSV with an id column and mandate.<field> columns (mandate.acceptance.status, "
        "mandate.acceptance.date, ...)"
    )

    # -- the state ---------------------------------------------------------------------------
    def state_of(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """What the mandate's rules read (type, status, currency) and the mandate Stripe shows,
        which on a Source is none (the field is not in Stripe's schema)."""
        mandate = obj.get("mandate")
        return {
            "type": text_or_none(obj.get("type")),
            "status": text_or_none(obj.get("status")),
            "currency": text_or_none(obj.get("currency")),
            "mandate": dict(mandate) if isinstance(mandate, Mapping) else None,
        }

    def state_of_row(self, row: Mapping[str, Any]) -> dict[str, Any] | None:
        if not all(c in row for c in ("type", "status", "currency")):
            return None
        return self.state_of(row)

    # -- the plan ----------------------------------------------------------------------------
    def plan_row(self, number: int, source: SourceState, request: dict[str, Any]) -> PlanRow:
        """Ready unless the source does not take a mandate or its currency differs."""
        before = source.before
        problem = status_problem("a mandate", before, MANDATE_TYPES)
        problems = [problem] if problem else []
        problems += mandate_problems(request, (before or {}).get("currency"))
        if problems:
            return self.refused(number, source, "; ".join(problems))
        params = {"mandate": request}
        change = f"record mandate: {mandate_text(request)} (cannot be undone)"
        after = None if before is None else {**before, "mandate": request}
        if before is not None and before.get("mandate") == request:
            return self.row(number, source, {}, before, after, "noop", "no change", "")
        return self.row(number, source, params, before, after, "ready", "", change)

    def table_columns(self, columns: list[Any]) -> tuple[dict[Any, str], list[str]]:
        """``mandate.<field>`` columns (or the bare field names); any other column is refused,
        and the error lists the fields it knows."""
        fields = dotted_columns(columns, "mandate", MANDATE_FIELDS)
        return fields, ["empty cell = field not sent (the mandate is sent whole as given)"]

    def table_request(self, cells: dict[Any, Any], fields: dict[Any, str]) -> TableRequest:
        return built_request(mandate_request, cells, fields)

    # -- the rules at the write --------------------------------------------------------------
    def is_done(self, row: PlanRow, current: Any) -> bool:
        return bool(current.get("mandate") == row["params"].get("mandate"))

    def drift(self, row: PlanRow, current: Any) -> str | None:
        before = row["before"]
        if before is None:
            return None
        diffs = [
            f"{name} is {current.get(name)!r}, plan expected {before.get(name)!r}"
            for name in ("status", "currency")
            if current.get(name) != before.get(name)
        ]
        return "; ".join(diffs) or None

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """The source still takes a mandate, and the mandate keeps Stripe's rules for it."""
        problem = status_problem("a mandate", current, MANDATE_TYPES)
        problems = [problem] if problem else []
        problems += mandate_problems(row["params"].get("mandate"), current.get("currency"))
        return "; ".join(problems) or None

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if not isinstance(params, Mapping) or set(params) != {"mandate"}:
            return "a mandate row sends only mandate"
        return "; ".join(mandate_problems(params["mandate"])) or None

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [("record", "mandate")]

    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        return {**(before or {}), "mandate": params.get("mandate")}

    # -- the write ---------------------------------------------------------------------------
    def write(
        self,
        session: SessionLike,
        row: PlanRow,
        key: str,
        cancel: threading.Event,
        reread: Reread,
    ) -> Written:
        """Send the mandate; Stripe's 200 for this source is the proof (see the module)."""
        mandate = row["params"]["mandate"]
        answer = session.update_source(
            str(row["source"]), {"mandate": mandate}, idempotency_key=key, cancel=cancel
        )
        after = {**self.state_of(answer.body), "mandate": mandate}
        return Written(after, answer.request_id, _REPLAYED if answer.replayed else _DONE, False)
