"""The audit wing: receiver balances, and the Sources retirement, as finance files them.

- :mod:`~toolkit.audit.receivers`: :func:`audit_receivers` and its :class:`Audit`;
- :mod:`~toolkit.audit.migration`: :func:`audit_migration`, :func:`run_migration_audit` and
  their :class:`MigrationAudit`;
- shared by both: :mod:`~toolkit.audit.checks` (the check core), :mod:`~toolkit.audit.inputs`
  (frames read and checked), :mod:`~toolkit.audit.cells` and :mod:`~toolkit.audit.workbook`
  (cells and the workbook writer), :mod:`~toolkit.audit.cover` (the cover sheet),
  :mod:`~toolkit.audit.plot` (the charts' figure), :mod:`~toolkit.audit.report` (both audits
  as one self-contained HTML file: :func:`write_report`).

The audits read frames the fetch wing loaded; :func:`run_migration_audit` is the one call that
loads them (through the fetch wing) and audits, for the CLI, the widgets and scripts.
"""

from toolkit.audit.migration import MigrationAudit, audit_migration, run_migration_audit
from toolkit.audit.migration.load import (
    moved_receivers,
    receivers_to_read,
    retirement_reads,
    with_moved_receivers,
)
from toolkit.audit.receivers import Audit, audit_receivers
from toolkit.audit.report import write_report

__all__ = [
    "Audit",
    "MigrationAudit",
    "audit_migration",
    "audit_receivers",
    "moved_receivers",
    "receivers_to_read",
    "retirement_reads",
    "run_migration_audit",
    "with_moved_receivers",
    "write_report",
]
