"""The audit wing: receiver balances as finance files them.

- :mod:`~toolkit.audit.receivers`: :func:`audit_receivers`, from a sources frame (and the
  receivers' transactions) to an :class:`Audit`; its inputs are read by
  :mod:`~toolkit.audit.inputs`, its findings come from :mod:`~toolkit.audit.checks`, its figures
  from :mod:`~toolkit.audit.rollups`;
- :mod:`~toolkit.audit.result` (the tables and their columns) and :mod:`~toolkit.audit.audit`
  (the Audit, with what finance does with it), written by :mod:`~toolkit.audit.export` (Excel,
  CSV) and :mod:`~toolkit.audit.plot` (charts).

- :mod:`~toolkit.audit.migration`: :func:`audit_migration`, the Sources retirement audit (legacy
  receivers beside cash balances), with :mod:`~toolkit.audit.migration_checks`,
  :mod:`~toolkit.audit.migration_result` (tables), :mod:`~toolkit.audit.migration_audit` (the
  MigrationAudit) and :mod:`~toolkit.audit.migration_export` (Excel, CSV, charts).

The audits read frames the fetch wing loaded; :mod:`~toolkit.audit.migration_run` is the one
call that loads them (through the fetch wing) and audits, for the CLI, the widgets and scripts.
"""

from toolkit.audit.audit import Audit
from toolkit.audit.migration import audit_migration
from toolkit.audit.migration_audit import MigrationAudit
from toolkit.audit.receivers import audit_receivers

__all__ = ["Audit", "MigrationAudit", "audit_migration", "audit_receivers"]
