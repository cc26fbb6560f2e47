"""Where the money and the obligations live now: the successors, the bills still wired to
Sources and the tie-out of the receivers, as tables, and what each says of a customer and
currency (what the retirement audit's checks read).

>>> now = where_now(sources, None, None, None, None, None, "test")
>>> now.by_key, now.successors.empty
({}, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.audit.migration.successors import successor_table
from toolkit.audit.migration.tie_out import tie_out
from toolkit.audit.migration.wiring import wired_bills

__all__ = ["WhereNow", "where_now"]


@dataclass
class WhereNow:
    """The tables (empty, without columns, when their input was not given) and ``by_key``:
    (customer, currency) -> ``without_successor`` and ``wired_bills`` (labels), ``tie_out_gap``,
    ``refunded_after_charge``, ``swept`` (minor units) and ``swept_sources`` (labels)."""

    by_key: dict[tuple[str, str], dict[str, Any]]
    successors: pd.DataFrame
    wired: pd.DataFrame
    tie_out: pd.DataFrame


def where_now(
    sources: pd.DataFrame,
    payment_methods: pd.DataFrame | None,
    invoices: pd.DataFrame | None,
    subscriptions: pd.DataFrame | None,
    ledger: pd.DataFrame | None,
    moves: pd.DataFrame | None,
    mode: str | None,
) -> WhereNow:
    """What the given inputs say (see :class:`WhereNow`)."""
    by_key: dict[tuple[str, str], dict[str, Any]] = {}

    def at(cid: Any, currency: Any) -> dict[str, Any] | None:
        if not isinstance(cid, str) or not cid:
            return None
        key = (cid, str(currency or "").lower())
        return by_key.setdefault(
            key,
            {
                "without_successor": [],
                "wired_bills": [],
                "tie_out_gap": 0,
                "refunded_after_charge": 0,
                "swept": 0,
                "swept_sources": [],
            },
        )

    successors = pd.DataFrame()
    if payment_methods is not None:
        successors = successor_table(sources, payment_methods, mode)
        for row in successors[~successors["has_successor"]].itertuples(index=False):
            for currency in str(row.currency).split(", "):
                found = at(row.customer, currency)
                if found is not None:
                    found["without_successor"].append(f"{row.source_type} ({row.sources})")
    wired = pd.DataFrame()
    if invoices is not None or subscriptions is not None:
        wired = wired_bills(invoices, subscriptions, mode)
        for row in wired.itertuples(index=False):
            found = at(row.customer, row.currency)
            if found is not None:
                found["wired_bills"].append(f"{row.bill} ({row.why})")
    ties = pd.DataFrame()
    if ledger is not None:
        ties = tie_out(sources, ledger, moves, mode)
        for row in ties.itertuples(index=False):
            found = at(row.customer, row.currency)
            if found is None:
                continue
            found["tie_out_gap"] += abs(int(row.gap))
            found["refunded_after_charge"] += int(row.refunded)
            if int(row.swept):
                found["swept"] += int(row.swept)
                found["swept_sources"].append(f"{row.source} ({row.sweeps})")
    return WhereNow(by_key, successors, wired, ties)
