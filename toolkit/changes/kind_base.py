"""The base of every kind of change: what the runner, apply and undo need of one kind.

A kind is a small strategy class (:mod:`toolkit.changes.kind_fields` for metadata and owner,
:mod:`toolkit.changes.kind_customer` for attach and detach); :mod:`toolkit.changes.kinds` holds
one of each by name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

from toolkit.changes.rows import PlanRow
from toolkit.errors import InvalidInputError
from toolkit.session import Session

__all__ = ["ChangeKind", "Reread", "Written", "show"]

#: A callable that reads a source's current state again (for a kind's write to check itself).
Reread = Callable[[str], Any]


class Written(NamedTuple):
    """What a write returned: the state after, Stripe's request id, a message, and whether Stripe
    replayed a saved answer for the idempotency key."""

    after: Any
    request_id: str | None
    message: str
    replayed: bool = False


def show(value: Any) -> str:
    """A field's value in a drift message."""
    return "unset" if value is None else repr(value)


class ChangeKind:
    """One kind of change: what the runner, apply and undo need of it."""

    name: ClassVar[str]
    #: What every row of this kind does, as plans and journals name it.
    action: ClassVar[str]
    #: True when a written row can never be undone (Stripe consumes a detached source).
    irreversible: ClassVar[bool] = False
    #: Why undo refuses this kind, or None when it can be undone.
    undo_refusal: ClassVar[str | None] = None
    #: Can rows be re-read with their customer's source list (and the account listing)?
    reads_by_customer: ClassVar[bool] = True
    #: What a row says when the source already shows its change.
    already: ClassVar[str] = "already as planned: nothing sent"

    def state_of(self, obj: Mapping[str, Any]) -> Any:
        """The part of a source (as Stripe sends it) this kind is about, in the plan's shape."""
        raise NotImplementedError

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

    def write(
        self,
        session: Session,
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
