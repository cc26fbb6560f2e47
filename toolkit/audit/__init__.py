"""The audit wing: receiver balances as finance files them.

- :mod:`~toolkit.audit.receivers`: :func:`audit_receivers`, from a sources frame (and the
  receivers' transactions) to an :class:`Audit`; its inputs are read by
  :mod:`~toolkit.audit.inputs`, its findings come from :mod:`~toolkit.audit.checks`, its figures
  from :mod:`~toolkit.audit.rollups`;
- :mod:`~toolkit.audit.result` (the tables and their columns) and :mod:`~toolkit.audit.audit`
  (the Audit, with what finance does with it), written by :mod:`~toolkit.audit.export` (Excel,
  CSV) and :mod:`~toolkit.audit.plot` (charts).

It never reads Stripe itself: it audits frames the fetch wing loaded.
"""

from toolkit.audit.audit import Audit
from toolkit.audit.receivers import audit_receivers

__all__ = ["Audit", "audit_receivers"]
