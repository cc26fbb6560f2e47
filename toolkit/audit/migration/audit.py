"""The Sources retirement audit's result, with what finance does with it: Excel, CSV, charts.

>>> migration
<MigrationAudit as of ...: ... customers, ... ready, ... need action, ... blocked>
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.audit.migration.result import MigrationTables

if TYPE_CHECKING:  # matplotlib and xlsxwriter load when a chart or a workbook is made
    from matplotlib.figure import Figure

__all__ = ["MigrationAudit"]


class MigrationAudit(MigrationTables):
    """The result of :func:`~toolkit.audit_migration`: its tables (see
    :class:`~toolkit.audit.migration.result.MigrationTables`) and how to file them.

    >>> migration.count("ready") >= 0
    True
    """

    def to_excel(self, path: str | Path, *, journal: str | Path | None = None) -> Path:
        """Write a workbook finance can file (cover sheet, one sheet per table, money as money,
        0600); returns the path: ``migration.to_excel("retirement.xlsx")``. With a change run's
        ``journal`` (the tags it wrote, say) the cover shows its maker, checker and digest."""
        from toolkit.audit.migration.export import plot_migration, write_migration_excel

        chart = plot_migration(self).png()
        return write_migration_excel(self, path, chart=chart, journal=journal)

    def to_csv(self, folder: str | Path) -> dict[str, Path]:
        """One CSV per table into ``folder``; returns name -> path."""
        from toolkit.audit.migration.export import write_migration_csv

        return write_migration_csv(self, folder)

    def plot(self, path: str | Path | None = None) -> Figure:
        """Legacy receiver funds beside cash balance funds per currency, and customers per
        state; saved as PNG with ``path``."""
        from toolkit.audit.migration.export import plot_migration

        return plot_migration(self, path)

    def __repr__(self) -> str:
        when = self.as_of.strftime("%Y-%m-%d") if self.as_of is not None else "unknown"
        return (
            f"<MigrationAudit as of {when}: {self.count('ready') + self.count('needs action') + self.count('blocked')} "
            f"customers, {self.count('ready')} ready, {self.count('needs action')} need action, "
            f"{self.count('blocked')} blocked>"
        )

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(repr(self))}</b></p>", self.summary.to_html(index=False)]
        parts.append(self.checks[["title", "severity", "ran", "flagged"]].to_html(index=False))
        return "\n".join(parts)
