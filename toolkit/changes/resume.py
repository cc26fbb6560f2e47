"""A journal read back as the plan it records, and checked against a plan before a run.

>>> again = toolkit.load_plan(outcome.journal)
>>> again.id == outcome.plan.id, again.counts["ready"]
(True, 2)
"""

from __future__ import annotations

import os
from pathlib import Path

from toolkit.changes.guards import check_same_account
from toolkit.changes.journal_state import JournalState, read_journal
from toolkit.changes.plan import Plan, plan_from_record
from toolkit.errors import InvalidInputError
from toolkit.session import Session

__all__ = ["journal_state_for", "load_plan", "missing_plan"]


def missing_plan(path: Path) -> InvalidInputError:
    """The error for a journal without a plan record: the run stopped while writing it."""
    return InvalidInputError(
        f"{path} holds no plan record: the run stopped while recording the plan, before any "
        "request, so nothing was written to Stripe: apply the plan again (the same call, with "
        "this journal or after deleting it)."
    )


def load_plan(journal: str | os.PathLike[str]) -> Plan:
    """Rebuild the plan a journal records (same id), e.g. to resume it in a new process.

    ``apply(load_plan("journals/plan_x.jsonl"), session, resume="journals/plan_x.jsonl")``

    The journal is checked first (its digest, its chain of records, its rows against its kind):
    an edited or damaged one raises :class:`~toolkit.errors.InvalidInputError` naming the file
    and line. A journal written before the chain is read, but apply will not resume it.

    >>> toolkit.load_plan(outcome.journal).id == outcome.plan.id
    True
    """
    path = Path(journal)
    state = read_journal(path)
    if state.plan is None:
        raise missing_plan(path)
    header = state.plan
    return plan_from_record(header)


def journal_state_for(path: Path, plan: Plan, session: Session) -> JournalState | None:
    """The checked state of an existing journal for ``plan`` (None: it records nothing yet)."""
    state = read_journal(path)
    if state.plan is None:
        return None  # the plan record was never finished: nothing was sent
    state.refuse_unchained("resume")
    if state.plan_id != plan.id:
        raise InvalidInputError(
            f"{path} is the journal of plan {state.plan_id}, not {plan.id}: "
            "pass that plan (load_plan(path) rebuilds it) or another journal."
        )
    if state.plan["rows"] != plan.rows():
        raise InvalidInputError(
            f"{path} records plan {plan.id} with other rows than the plan given (was the plan "
            "changed after its first run?): resume it with load_plan(path), or make a new plan "
            "for a different change."
        )
    header = state.plan
    check_same_account(header.get("account"), header.get("mode"), session, f"the journal {path}")
    return state
