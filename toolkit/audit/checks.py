"""The one check core under both audits: a named check flags rows of the audit's table and says
why, in a sentence a finance reader understands.

A :class:`Check` reads one table (per receiver in :mod:`toolkit.audit.receivers`, per customer
and currency in :mod:`toolkit.audit.migration`) with a :class:`CheckContext` (the audit's day
threshold and the optional inputs it was given) and runs only when the inputs it ``needs`` were
given. :func:`evaluate` runs a tuple of checks; :func:`amount_text` is the one way a sentence
names money.

>>> check = Check("big", "More than {days}", "Rows over the limit.",
...               flags=lambda t, c: t["n"] > c.days, detail=lambda r, c: f"{r['n']} > {c.days}")
>>> [(c.name, ran, list(hits)) for c, ran, hits in evaluate(
...     pd.DataFrame({"n": [1, 5]}), (check,), CheckContext(days=3))]
[('big', True, [False, True])]
>>> amount_text(float("nan"), "usd"), amount_text(1250, "usd"), amount_text(7, "")
('unknown', '12.50 USD', '7 (minor units, no currency)')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.money import format_money

__all__ = ["Check", "CheckContext", "amount_text", "as_bool", "date_text", "evaluate"]


@dataclass(frozen=True)
class CheckContext:
    """What a check may need besides the table: ``days`` (the audit's threshold: how long a
    receiver may stay pending, or cash may sit unapplied) and ``inputs`` (the optional inputs
    given, such as ``"transactions"`` or ``"cash_transactions"``)."""

    days: int
    inputs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Check:
    """One named check: ``flags(table, ctx)`` is a boolean Series, ``detail(row, ctx)`` a
    sentence; it runs when the inputs it ``needs`` were given; ``severity`` (the retirement
    audit's ``blocked`` / ``needs action``) is None where an audit has no severities."""

    name: str
    title: str
    explanation: str
    flags: Callable[[pd.DataFrame, CheckContext], pd.Series]
    detail: Callable[[Mapping[str, Any], CheckContext], str]
    needs: frozenset[str] = frozenset()
    severity: str | None = None

    def runs(self, ctx: CheckContext) -> bool:
        """Whether the inputs this check needs were given."""
        return self.needs <= ctx.inputs

    def title_for(self, ctx: CheckContext) -> str:
        """The title with the threshold filled in."""
        return self.title.format(days=ctx.days)

    def explanation_for(self, ctx: CheckContext) -> str:
        """The explanation with the threshold filled in."""
        return self.explanation.format(days=ctx.days)


def evaluate(
    table: pd.DataFrame, checks: tuple[Check, ...], ctx: CheckContext
) -> list[tuple[Check, bool, pd.Series]]:
    """Each check with whether it ran and the rows it flags (all False when it did not run or
    the table is empty), in the order given."""
    out = []
    for check in checks:
        ran = check.runs(ctx)
        if ran and len(table):
            hits = as_bool(check.flags(table, ctx))
        else:
            hits = pd.Series(False, index=table.index, dtype=bool)
        out.append((check, ran, hits))
    return out


def as_bool(series: pd.Series) -> pd.Series:
    """A nullable comparison as plain booleans: unknown (NA) never flags."""
    return series.fillna(False).astype(bool)


def amount_text(amount: Any, currency: Any) -> str:
    """Minor units as a sentence names them: ``"12.50 USD"`` (:func:`toolkit.money.format_money`),
    ``"unknown"`` when missing (None, NA, NaN), the bare number when there is no currency."""
    if amount is None or amount is pd.NA or pd.isna(amount):
        return "unknown"
    if not currency or (not isinstance(currency, str) and pd.isna(currency)):
        return f"{int(amount)} (minor units, no currency)"
    return format_money(int(amount), str(currency))


def date_text(value: Any) -> str:
    """A time as a sentence names it (``2026-11-01``), ``"unknown"`` when missing."""
    if value is None or pd.isna(value):
        return "unknown"
    return str(pd.Timestamp(value).strftime("%Y-%m-%d"))
