"""What a kind of change is: everything plans, apply and undo need to know of it, in one class.

A kind is a :class:`ChangeKind` subclass in a module of its own (``kinds/metadata.py``...),
registered with one line in :mod:`toolkit.changes.kinds`. It declares:

- **its state**: what it reads of a source, as Stripe sends it (:meth:`~ChangeKind.state_of`)
  and as the sources given to a plan builder show it, a row of the load_sources frame or a source
  dict (:meth:`~ChangeKind.state_of_row`, :meth:`~ChangeKind.row_states`);
- **its plan rows** (:meth:`~ChangeKind.plan_row`): ready, no-op or refused by the rules its
  plan builder checks; and for a table, which columns it reads and what a row of cells asks
  (:meth:`~ChangeKind.table_columns`, :meth:`~ChangeKind.table_request`);
- **its rules at the write**: done, drift, Stripe's rules against the state read just before
  the write (:meth:`~ChangeKind.precheck`), the params a row of it sends;
- **its write** (:meth:`~ChangeKind.write`) and **its undo** (:meth:`~ChangeKind.inverse`, or
  :attr:`~ChangeKind.undo_refusal`);
- **its command line**: what ``python -m toolkit plan <name>`` reads
  (:attr:`~ChangeKind.plan_input`), or nothing.

Plan builders, the runner, apply and undo loop over rows without ever asking which kind they hold.

>>> customer_of({"customer": {"id": "cus_1", "object": "customer"}})
'cus_1'
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import pandas as pd

from toolkit.changes.rows import PlanRow, invalid_row, make_row
from toolkit.errors import InvalidInputError
from toolkit.session.protocol import SessionLike

__all__ = [
    "ChangeKind",
    "FieldsChange",
    "Reread",
    "SourceState",
    "SourceUpdate",
    "TableRequest",
    "Written",
    "built_request",
    "customer_of",
    "dotted_columns",
    "show",
]

#: A callable that reads a source's current state again (for a kind's write to check itself).
Reread = Callable[[str], Any]


class Written(NamedTuple):
    """What a write returned: the state after, Stripe's request id, a message, and whether Stripe
    replayed a saved answer for the idempotency key."""

    after: Any
    request_id: str | None
    message: str
    replayed: bool = False


class TableRequest(NamedTuple):
    """What one row of an analyst's table asks of a kind: ``request`` for
    :meth:`ChangeKind.plan_row` (None when its cells ask nothing, or are refused), notes on what
    was converted, and why its cells are refused ([] when they are not)."""

    request: Any
    notes: list[str]
    problems: list[str]


@dataclass
class SourceState:
    """What a plan builder knows of one source it was given: its id, its customer, and what the
    plan's kind reads of it (``before``; None when the sources given do not say, e.g. bare ids:
    then apply checks the row against the live state)."""

    id: Any
    customer: str | None = None
    before: Any = None


def show(value: Any) -> str:
    """A field's value in a drift message."""
    return "unset" if value is None else repr(value)


def customer_of(obj: Mapping[str, Any]) -> Any:
    """The customer id of a source (Stripe sends it as an id, or as the customer when expanded)."""
    customer = obj.get("customer")
    if isinstance(customer, Mapping):
        customer = customer.get("id")
    return customer


class ChangeKind:
    """One kind of change: what plans, the runner, apply and undo need of it."""

    name: ClassVar[str]
    #: What every row of this kind does, as plans and journals name it.
    action: ClassVar[str]
    #: True when a written row can never be undone (Stripe consumes a detached source).
    irreversible: ClassVar[bool] = False
    #: What a plan of an irreversible kind warns, in its repr, its HTML and its Outcome.
    irreversible_note: ClassVar[str] = ""
    #: Why undo refuses this kind, or None when it can be undone.
    undo_refusal: ClassVar[str | None] = None
    #: Can rows be re-read with their customer's source list (and the account listing)?
    reads_by_customer: ClassVar[bool] = True
    #: What a row says when the source already shows its change.
    already: ClassVar[str] = "already as planned: nothing sent"
    #: What ``python -m toolkit plan <name>`` reads: ``"table"`` (an id column and one column
    #: per field, see :meth:`table_columns`) or ``"ids"`` (a file of source ids; the plan is
    #: :meth:`plan_row` with no request for each); None when there is no such command.
    plan_input: ClassVar[str | None] = None
    #: That input, as the command's help says it.
    plan_input_help: ClassVar[str] = ""

    def plan_irreversible(self, rows: pd.DataFrame) -> bool:
        """Can a plan of these rows not be undone? :attr:`irreversible` unless a kind's rows
        decide it (an update plan is irreversible when one of its rows records a mandate)."""
        return self.irreversible

    # -- the state ---------------------------------------------------------------------------
    def state_of(self, obj: Mapping[str, Any]) -> Any:
        """The part of a source (as Stripe sends it) this kind is about, in the plan's shape."""
        raise NotImplementedError

    def state_of_row(self, row: Mapping[str, Any]) -> Any:
        """The same from a row of the load_sources frame or a source dict; None when the row
        does not say. The Stripe shape by default."""
        return self.state_of(row)

    def row_states(self, rows: list[Mapping[str, Any]], frame: pd.DataFrame | None) -> list[Any]:
        """:meth:`state_of_row` of each row; ``frame`` is the frame the rows come from, if
        they do (for a kind that reads some columns all at once)."""
        return [self.state_of_row(row) for row in rows]

    # -- the plan ----------------------------------------------------------------------------
    def plan_row(self, number: int, source: SourceState, request: Any) -> PlanRow:
        """The plan row of one source for ``request`` (what the builder was asked, in this
        kind's shape): ready, noop or invalid by the rules the builder checks."""
        raise NotImplementedError

    def table_columns(self, columns: list[Any]) -> tuple[dict[Any, str], list[str]]:
        """The columns of an analyst's table (its id column left out) this kind reads, as
        column -> field, and notes on how it reads them. Raises
        :class:`~toolkit.errors.InvalidInputError` when it reads none."""
        raise InvalidInputError(f"A {self.name} plan is not made from a table.")

    def table_request(self, cells: dict[Any, Any], fields: dict[Any, str]) -> TableRequest:
        """What one table row asks: ``cells`` are its non-empty cells by column, ``fields``
        what :meth:`table_columns` said."""
        raise InvalidInputError(f"A {self.name} plan is not made from a table.")

    def row(
        self,
        number: int,
        source: SourceState,
        params: dict[str, Any],
        before: Any,
        after: Any,
        status: str,
        reason: str = "",
        change: str = "",
        customer: str | None = None,
    ) -> PlanRow:
        """A plan row of this kind for one source (its id and customer from ``source``, unless
        ``customer``)."""
        return make_row(
            number,
            source.id,
            customer if customer is not None else source.customer,
            self.action,
            params,
            before,
            after,
            status,
            reason,
            change,
        )

    def refused(self, number: int, source: SourceState, reason: str) -> PlanRow:
        """A refused row of this kind for one source: nothing is sent, ``reason`` says why."""
        return invalid_row(number, source.id, source.customer, self.action, reason)

    # -- the rules at the write --------------------------------------------------------------
    def is_done(self, row: PlanRow, current: Any) -> bool:
        """Does the source already show what ``row`` would write?"""
        raise NotImplementedError

    def drift(self, row: PlanRow, current: Any) -> str | None:
        """Why the source no longer matches the plan's before, or None."""
        raise NotImplementedError

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """What Stripe would refuse about ``row`` given the live state, or None."""
        return None

    def to_send(self, row: PlanRow, current: Any) -> PlanRow:
        """The row as it is sent, given ``current`` (the state read just before the write): its
        ``params`` are the request, its ``before`` that state. The plan's row by default."""
        return row

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        """Why a ready row's params are not what a row of this kind sends, or None."""
        raise NotImplementedError

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        """(operation, field) pairs a ready row performs, for a plan's summary."""
        return [(self.action, "customer")]

    # -- the write and its undo --------------------------------------------------------------
    def write(
        self,
        session: SessionLike,
        row: PlanRow,
        key: str,
        cancel: threading.Event,
        reread: Reread,
    ) -> Written:
        """Send the row's request (``key`` is its idempotency key)."""
        raise NotImplementedError

    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        """The state a row's write produces from ``before`` (for undoable kinds)."""
        raise NotImplementedError

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        """A row that turns ``after`` back into ``before``, or None when nothing changed."""
        raise InvalidInputError(self.undo_refusal or f"{self.name} changes cannot be undone.")


class SourceUpdate(ChangeKind):
    """A kind whose write is one ``POST /v1/sources/{id}`` of the row's params; the state in
    Stripe's answer is the proof (amount, source_order, metadata, owner)."""

    def write(
        self,
        session: SessionLike,
        row: PlanRow,
        key: str,
        cancel: threading.Event,
        reread: Reread,
    ) -> Written:
        answer = session.update_source(
            str(row["source"]), dict(row["params"]), idempotency_key=key, cancel=cancel
        )
        return Written(self.state_of(answer.body), answer.request_id, "", answer.replayed)


class FieldsChange(SourceUpdate):
    """A kind that writes some fields of a source (``POST /v1/sources/{id}``) and can be undone
    exactly: metadata, owner. A row writes the fields :meth:`touched` names."""

    def touched(self, params: Mapping[str, Any]) -> dict[str, str | None] | None:
        """Field -> value the row writes (None = removed); None for "all of them" (a clear)."""
        raise NotImplementedError

    def is_done(self, row: PlanRow, current: Any) -> bool:
        changes = self.touched(row["params"])
        if changes is None:
            return bool(current == {})
        return all(current.get(k) == v for k, v in changes.items())

    def drift(self, row: PlanRow, current: Any) -> str | None:
        before = row["before"]
        if before is None:
            return None
        changes = self.touched(row["params"])
        names = sorted(set(before) | set(current)) if changes is None else list(changes)
        diffs = [
            f"{name} is {show(current.get(name))}, plan expected {show(before.get(name))}"
            for name in names
            if current.get(name) != before.get(name)
        ]
        return "; ".join(diffs) or None

    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        return {**(before or {}), **(self.touched(params) or {})}


def dotted_columns(columns: list[Any], part: str, known: Collection[str]) -> dict[Any, str]:
    """Column -> field for a table of one part: ``<part>.<field>`` columns (or the bare field
    names); any other column is refused, and the error lists the fields it knows.

    >>> dotted_columns(["id", "mandate.interval"][1:], "mandate", ["interval"])
    {'mandate.interval': 'interval'}
    """
    fields: dict[Any, str] = {}
    unknown: list[str] = []
    for column in columns:
        name = str(column).strip()
        name = name[len(part) + 1 :] if name.startswith(part + ".") else name
        if name in known:
            fields[column] = name
        else:
            unknown.append(str(column))
    if unknown or not fields:
        listed = ", ".join(f"{part}.{n}" for n in known)
        raise InvalidInputError(
            f"Unknown {part} column(s) {unknown or 'none given'}: the columns are {listed}."
        )
    return fields


def built_request(
    build: Callable[[dict[str, Any]], Any], cells: dict[Any, Any], fields: dict[Any, str]
) -> TableRequest:
    """The request ``build`` makes of a row's filled cells (by field); its refusal is the row's
    problem, an empty row asks for nothing."""
    if not cells:
        return TableRequest(None, [], [])
    try:
        return TableRequest(build({fields[c]: v for c, v in cells.items()}), [], [])
    except InvalidInputError as exc:
        return TableRequest(None, [], [str(exc)])
