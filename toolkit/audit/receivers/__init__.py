"""The receiver audit: what each receiver source holds, what looks wrong, and roll-ups.

- :mod:`~toolkit.audit.receivers.build`: :func:`audit_receivers`, from a sources frame (and the
  receivers' transactions) to an :class:`Audit`; its findings come from
  :mod:`~toolkit.audit.receivers.checks` (on the shared core, :mod:`toolkit.audit.checks`), its
  figures from :mod:`~toolkit.audit.receivers.rollups`;
- :mod:`~toolkit.audit.receivers.result` (the tables and their columns) and
  :mod:`~toolkit.audit.receivers.audit` (the Audit, with what finance does with it), written by
  :mod:`~toolkit.audit.receivers.export` (Excel, CSV) and :mod:`~toolkit.audit.receivers.plot`
  (charts).
"""

from toolkit.audit.receivers.audit import Audit
from toolkit.audit.receivers.build import NO_TRANSACTIONS, audit_receivers

__all__ = ["NO_TRANSACTIONS", "Audit", "audit_receivers"]
