"""The audits' charts, drawn alike: a figure of panels one above the other that renders itself
as PNG (the receiver audit's :func:`~toolkit.audit.receivers.plot.plot_audit`, the retirement
audit's :func:`~toolkit.audit.migration.export.plot_migration`).

Uses matplotlib's object API (no pyplot, no global state, safe under the Agg backend and in
threads). The figure shows itself in a notebook and saves as PNG.

Example::

    fig = audit.plot()                 # last expression of a cell: the chart shows
    fig.savefig("exports/audit.png")   # or audit.plot("exports/audit.png")
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["AuditFigure", "stacked_figure"]


class AuditFigure(Figure):
    """A matplotlib Figure that also renders itself as PNG in Jupyter without pyplot."""

    def png(self) -> bytes:
        """The figure as PNG bytes (what the notebook shows, and the workbooks embed)."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()

    def _repr_png_(self) -> bytes:
        return self.png()


def stacked_figure(
    panels: int, title: str, *, height: float, last: float | None = None
) -> tuple[AuditFigure, Any]:
    """A figure of ``panels`` axes one above the other, ``height`` inches each (the last one
    ``last`` inches when given), titled."""
    heights = [height] * panels
    if last is not None:
        heights[-1] = last
    fig = AuditFigure(figsize=(8, sum(heights)), layout="constrained")
    FigureCanvasAgg(fig)
    fig.suptitle(title)
    axes = fig.subplots(panels, 1, squeeze=False, gridspec_kw={"height_ratios": heights})
    return fig, axes[:, 0]
