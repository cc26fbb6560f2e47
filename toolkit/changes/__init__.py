"""The changes wing: plans a person reads, applied by one function, journaled, resumable, undoable.

- ``kinds/``: one module per kind of change (:mod:`~toolkit.changes.kinds.metadata`,
  :mod:`~toolkit.changes.kinds.owner`, :mod:`~toolkit.changes.kinds.attach`,
  :mod:`~toolkit.changes.kinds.detach`): what it reads of a source, the rows and rules of its plans,
  its write and its undo (:mod:`~toolkit.changes.kinds.base`), registered in
  :mod:`toolkit.changes.kinds`;
- ``plans/``: the :mod:`~toolkit.changes.plans.plan` (a Plan), its
  :mod:`~toolkit.changes.plans.builders`, what they know of the sources given
  (:mod:`~toolkit.changes.plans.sources`), an analyst's :mod:`~toolkit.changes.plans.table`, and a
  plan as a :mod:`~toolkit.changes.plans.record` (a file for sign-off, a journal's first line);
- ``run/``: :mod:`~toolkit.changes.run.applying` (``apply``, one function), the
  :mod:`~toolkit.changes.run.pool` of rows side by side, the :mod:`~toolkit.changes.run.runner`
  (one row), the account :mod:`~toolkit.changes.run.listing` (how rows are re-read), the
  :mod:`~toolkit.changes.run.outcome`, and :mod:`~toolkit.changes.run.undoing` (``undo``);
- ``journal/``: the evidence: its :mod:`~toolkit.changes.journal.records`, the
  :mod:`~toolkit.changes.journal.file` (which files are journals, the chain), the
  :mod:`~toolkit.changes.journal.lock` (one process at a time), the
  :mod:`~toolkit.changes.journal.writer`, :mod:`~toolkit.changes.journal.reading` (and resuming),
  and what an undo writes in the journal it undoes (:mod:`~toolkit.changes.journal.undone`);
- shared by all: :mod:`~toolkit.changes.rows` (the plan row), :mod:`~toolkit.changes.text` (text
  Stripe takes), :mod:`~toolkit.changes.guards` (refusals before anything is read).
"""

from toolkit.changes.guards import check_confirmation, confirmation_matches
from toolkit.changes.journal.reading import load_plan
from toolkit.changes.plans.approval import approve, save_for_approval
from toolkit.changes.plans.builders import (
    plan_amount,
    plan_amount_from_table,
    plan_attach,
    plan_detach,
    plan_mandate,
    plan_mandate_from_table,
    plan_metadata,
    plan_metadata_from_table,
    plan_owner,
    plan_source_order,
    plan_source_order_from_table,
    plan_update,
)
from toolkit.changes.plans.plan import Plan
from toolkit.changes.plans.record import read_plan, save_plan
from toolkit.changes.plans.table import read_table
from toolkit.changes.run.applying import apply
from toolkit.changes.run.outcome import Outcome
from toolkit.changes.run.undoing import undo

__all__ = [
    "Outcome",
    "Plan",
    "apply",
    "approve",
    "check_confirmation",
    "confirmation_matches",
    "load_plan",
    "plan_amount",
    "plan_amount_from_table",
    "plan_attach",
    "plan_detach",
    "plan_mandate",
    "plan_mandate_from_table",
    "plan_metadata",
    "plan_metadata_from_table",
    "plan_owner",
    "plan_source_order",
    "plan_source_order_from_table",
    "plan_update",
    "read_plan",
    "read_table",
    "save_for_approval",
    "save_plan",
    "undo",
]
