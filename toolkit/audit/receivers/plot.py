"""Charts of an :class:`~toolkit.audit.Audit`: unapplied funds by age per currency, findings per
check (drawn on :mod:`toolkit.audit.plot`'s figure).

Example::

    fig = audit.plot()                 # last expression of a cell: the chart shows
    fig.savefig("exports/audit.png")   # or audit.plot("exports/audit.png")
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from matplotlib.ticker import FuncFormatter

from toolkit.audit.plot import AuditFigure, stacked_figure
from toolkit.audit.receivers.result import AGING_BUCKETS, AuditTables
from toolkit.money import currency_exponent
from toolkit.private_files import write_private

__all__ = ["plot_audit"]


def plot_audit(audit: AuditTables, path: str | Path | None = None) -> AuditFigure:
    """Draw the audit charts; save as PNG (0600) when ``path`` is given: ``plot_audit(audit)``.

    One panel per currency (unapplied funds by aging bucket, in the currency's major unit, never
    summed across currencies) and one panel with the number of receivers each check flagged.
    """

    currencies = sorted(set(audit.aging["currency"])) if len(audit.aging) else []
    when = audit.as_of.strftime("%Y-%m-%d %H:%M UTC") if audit.as_of is not None else "unknown"
    checks_shown = int(audit.checks["ran"].sum())
    fig, axes = stacked_figure(
        max(len(currencies), 1) + 1,
        f"Receiver balance audit as of {when}",
        height=2.6,
        last=0.8 + 0.42 * max(checks_shown, 1),
    )

    if not currencies:
        ax = axes[0]
        ax.text(0.5, 0.5, "No unapplied funds to show", ha="center", va="center")
        ax.set_axis_off()
    for ax, currency in zip(axes, currencies, strict=False):
        rows = audit.aging[audit.aging["currency"] == currency].set_index("bucket")
        values = [float(rows.loc[b, "unapplied_major"]) for b in AGING_BUCKETS]
        counts = [int(rows.loc[b, "receivers"]) for b in AGING_BUCKETS]
        bars = ax.bar(list(AGING_BUCKETS), values, color="#4C72B0")
        exponent = currency_exponent(currency) if currency else 2
        code = (currency or "").upper()
        ax.set_title(f"Unapplied funds by age of source ({code or 'no currency'})")
        ax.set_ylabel(code)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))  # ticks: whole units
        labels = [
            f"{v:,.{exponent}f}\n({n} source{'s' if n != 1 else ''})"
            for v, n in zip(values, counts, strict=True)
        ]
        ax.bar_label(bars, labels=labels, fontsize=8)
        ax.margins(y=0.3)

    ax = axes[-1]
    ran = audit.checks[audit.checks["ran"]]
    # what a reader understands, not the internal name; wrapped so the money panels keep room
    names = [textwrap.fill(str(t), 34) for t in ran["title"]][::-1]
    counts = [int(v) for v in ran["flagged"]][::-1]
    bars = ax.barh(names, counts, color=["#C44E52" if c else "#8C8C8C" for c in counts])
    ax.tick_params(axis="y", labelsize=8)
    ax.bar_label(bars, fontsize=8)
    ax.set_title("Receivers flagged per check")
    ax.set_xlabel("receivers")
    ax.margins(x=0.15)
    ax.xaxis.get_major_locator().set_params(integer=True)

    if path is not None:
        write_private(path, lambda handle: fig.savefig(handle, format="png", dpi=100), binary=True)
    return fig
