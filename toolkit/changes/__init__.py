"""The changes wing: plans a person reads, applied by one function, journaled, resumable, undoable.

- plans: :mod:`~toolkit.changes.plan` (the Plan), built by :mod:`~toolkit.changes.plan_metadata`,
  :mod:`~toolkit.changes.plan_owner` and :mod:`~toolkit.changes.plan_customers` from
  :mod:`~toolkit.changes.sources` (what is known of each source), :mod:`~toolkit.changes.rows`
  (the row shape and id checks), :mod:`~toolkit.changes.rules` (Stripe's rules),
  :mod:`~toolkit.changes.attachment` (which sources may be attached or detached) and
  :mod:`~toolkit.changes.table` (an analyst's table);
- kinds: :mod:`~toolkit.changes.kinds` (metadata, owner, attach, detach: one strategy class each,
  :mod:`~toolkit.changes.kind_fields` and :mod:`~toolkit.changes.kind_customer`);
- running: :mod:`~toolkit.changes.apply` (one function), :mod:`~toolkit.changes.execute` (the
  pool), :mod:`~toolkit.changes.runner` (one row), :mod:`~toolkit.changes.listing` (how rows are
  re-read), :mod:`~toolkit.changes.outcome` (what happened);
- evidence: :mod:`~toolkit.changes.journal` (every record type and the writer),
  :mod:`~toolkit.changes.journal_file` (which files are journals, the chain of records, the lock),
  :mod:`~toolkit.changes.journal_state` (reading and checking), :mod:`~toolkit.changes.resume`;
- undo: :mod:`~toolkit.changes.undo`, :mod:`~toolkit.changes.undo_book`.
"""

from toolkit.changes.apply import apply
from toolkit.changes.guards import check_confirmation, confirmation_matches
from toolkit.changes.outcome import Outcome
from toolkit.changes.plan import Plan
from toolkit.changes.plan_customers import plan_attach, plan_detach
from toolkit.changes.plan_file import read_plan, save_plan
from toolkit.changes.plan_metadata import plan_metadata, plan_metadata_from_table
from toolkit.changes.plan_owner import plan_owner
from toolkit.changes.resume import load_plan
from toolkit.changes.table import read_table
from toolkit.changes.undo import undo

__all__ = [
    "Outcome",
    "Plan",
    "apply",
    "check_confirmation",
    "confirmation_matches",
    "load_plan",
    "plan_attach",
    "plan_detach",
    "plan_metadata",
    "plan_metadata_from_table",
    "plan_owner",
    "read_plan",
    "read_table",
    "save_plan",
    "undo",
]
