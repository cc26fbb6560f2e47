"""The Sources retirement audit: per customer and currency, the money left on legacy receivers
beside the money in the customer's cash balance, whether each customer is ready for Sources to be
switched off, and where the money went.

- :mod:`~toolkit.audit.migration.build`: :func:`audit_migration`, from frames to a
  :class:`MigrationAudit`, with :mod:`~toolkit.audit.migration.checks` (on the shared core,
  :mod:`toolkit.audit.checks`) and :mod:`~toolkit.audit.migration.moves` (what Stripe's
  migration moved and swept);
- :mod:`~toolkit.audit.migration.result` (tables) and :mod:`~toolkit.audit.migration.audit`
  (the MigrationAudit), written by :mod:`~toolkit.audit.migration.export` (Excel, CSV, charts);
- :mod:`~toolkit.audit.migration.load`: :func:`run_migration_audit`, the one call that loads
  what the audit needs (through the fetch wing) and audits it.
"""

from toolkit.audit.migration.audit import MigrationAudit
from toolkit.audit.migration.build import audit_migration
from toolkit.audit.migration.load import READS_NOTE, receivers_to_read, run_migration_audit

__all__ = [
    "READS_NOTE",
    "MigrationAudit",
    "audit_migration",
    "receivers_to_read",
    "run_migration_audit",
]
