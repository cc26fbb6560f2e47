"""The receiver audit's result, with what finance does with it: Excel, CSV, charts.

>>> audit
<Audit as of ...: ... receivers, ... flagged, ... findings>
>>> bool(audit.flagged["source"].str.startswith("src_").all())
True
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.audit.receivers.result import AuditTables

if TYPE_CHECKING:  # matplotlib and xlsxwriter load when a chart or a workbook is made
    from matplotlib.figure import Figure

__all__ = ["Audit"]


class Audit(AuditTables):
    """The result of :func:`~toolkit.audit_receivers`: tables, findings and the context they
    were made in (see :class:`~toolkit.audit.receivers.result.AuditTables`), and how to file them.

    >>> audit.by_currency[["currency", "unapplied_major"]].shape[1]
    2
    """

    def to_excel(self, path: str | Path, *, journal: str | Path | None = None) -> Path:
        """Write an Excel workbook finance can file; returns the path: ``audit.to_excel("a.xlsx")``.

        A cover sheet (totals per currency, as-of, account, mode, checks run, the charts of
        :meth:`plot`, a sign-off block) and one styled table per sheet, set up to print; money is
        in major units with the currency's format (minor units only in ``_minor`` columns). The
        file is made 0600. With a change run's ``journal`` the cover also shows its maker,
        checker (or the waiver) and the digest approved.
        """
        from toolkit.audit.receivers.export import write_excel
        from toolkit.audit.receivers.plot import plot_audit

        return write_excel(self, path, chart=plot_audit(self).png(), journal=journal)

    def to_csv(self, folder: str | Path) -> dict[str, Path]:
        """Write one CSV per table into ``folder``; returns name -> path: ``audit.to_csv("out")``."""
        from toolkit.audit.receivers.export import write_csv

        return write_csv(self, folder)

    def plot(self, path: str | Path | None = None) -> Figure:
        """Charts of unapplied funds by age per currency and findings per check: ``audit.plot()``.

        Returns a matplotlib Figure (no pyplot state, renders in a notebook); with ``path`` it is
        also saved as PNG.
        """
        from toolkit.audit.receivers.plot import plot_audit

        return plot_audit(self, path)

    def __repr__(self) -> str:
        when = self.as_of.isoformat() if self.as_of is not None else "unknown"
        return (
            f"<Audit as of {when}: {len(self.sources)} receivers, "
            f"{int((self.sources['flag_count'] > 0).sum()) if len(self.sources) else 0} flagged, "
            f"{len(self.exceptions)} findings>"
        )

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(repr(self))}</b></p>"]
        parts.append(self.summary.to_html(index=False))
        checks = self.checks[["title", "ran", "flagged"]]
        parts.append(checks.to_html(index=False))
        return "\n".join(parts)
