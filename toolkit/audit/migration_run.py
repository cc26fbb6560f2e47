"""Where :func:`run_migration_audit` lived before the retirement audit became
:mod:`toolkit.audit.migration`: its names, re-exported so that scripts keep working."""

from toolkit.audit.migration.load import READS_NOTE, receivers_to_read, run_migration_audit

__all__ = ["READS_NOTE", "receivers_to_read", "run_migration_audit"]
