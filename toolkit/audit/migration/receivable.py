"""Accounts receivable beside the money waiting: per customer and currency, the open invoices
due and the money the customer already sent that is not applied (on legacy receivers, in the
cash balance), with the action that matches them.

>>> customers = pd.DataFrame({"customer": ["cus_1"], "currency": ["usd"],
...     "legacy_unapplied": [0], "cash_available": [5000], "legacy_funds_sources": [""]})
>>> invoices = pd.DataFrame({"id": ["in_1"], "customer": ["cus_1"], "status": ["open"],
...     "currency": ["usd"], "amount_remaining": [3000]})
>>> receivable(customers, invoices, "test")["action"].iloc[0]
'Apply 30.00 USD of the cash balance to in_1. 20.00 USD waits with nothing due: refund it, or keep it for the next invoice.'
"""

from __future__ import annotations

import pandas as pd

from toolkit.audit.checks import amount_text
from toolkit.audit.links import dashboard_url
from toolkit.money import to_major

__all__ = ["RECEIVABLE_COLUMNS", "RECEIVABLE_MONEY", "receivable"]

RECEIVABLE_MONEY = ("due", "on_receivers", "in_cash_balance", "waiting")
RECEIVABLE_COLUMNS = (
    "customer",
    "currency",
    "open_invoices",
    "invoices",
    *(c for m in RECEIVABLE_MONEY for c in (m, f"{m}_major")),
    "action",
    "dashboard",
)


def receivable(customers: pd.DataFrame, invoices: pd.DataFrame, mode: str | None) -> pd.DataFrame:
    """One row per customer and currency with an open invoice or money waiting (the
    retirement audit's ``customers`` table beside ``invoices`` from
    :func:`toolkit.load_invoices`)."""
    open_ = invoices[invoices["status"].astype(object) == "open"]
    due: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for inv in open_.itertuples(index=False):
        key = (str(inv.customer), str(inv.currency))
        amount, ids = due.get(key, (0, []))
        left = 0 if pd.isna(inv.amount_remaining) else int(inv.amount_remaining)
        due[key] = (amount + left, [*ids, str(inv.id)])
    waiting: dict[tuple[str, str], tuple[int, int, str]] = {}
    for row in customers.itertuples(index=False):
        if not row.currency:
            continue
        legacy = 0 if pd.isna(row.legacy_unapplied) else int(row.legacy_unapplied)
        cash = 0 if pd.isna(row.cash_available) else int(row.cash_available)
        waiting[(str(row.customer), str(row.currency))] = (
            legacy,
            max(cash, 0),
            str(row.legacy_funds_sources or ""),
        )
    rows = []
    for key in sorted(set(due) | {k for k, v in waiting.items() if v[0] + v[1] > 0}):
        cid, currency = key
        owed, ids = due.get(key, (0, []))
        legacy, cash, on = waiting.get(key, (0, 0, ""))
        if not owed and not legacy + cash:
            continue
        rows.append(
            {
                "customer": cid,
                "currency": currency,
                "open_invoices": len(ids),
                "invoices": ", ".join(ids),
                "due": owed,
                "on_receivers": legacy,
                "in_cash_balance": cash,
                "waiting": legacy + cash,
                "action": _action(owed, legacy, cash, ids, on, currency),
                "dashboard": dashboard_url(cid, mode),
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in RECEIVABLE_COLUMNS if not c.endswith("_major")])
    out["open_invoices"] = out["open_invoices"].astype("int64")
    for name in RECEIVABLE_MONEY:
        out[name] = pd.to_numeric(out[name]).astype("Int64")
        out[f"{name}_major"] = to_major(out[name], out["currency"])
    out = out.astype(
        {c: object for c in ("customer", "currency", "invoices", "action", "dashboard")}
    )
    return out[list(RECEIVABLE_COLUMNS)].reset_index(drop=True)


def _action(owed: int, legacy: int, cash: int, ids: list[str], on: str, currency: str) -> str:
    def money(amount: object) -> str:
        return amount_text(amount, currency)

    bills = ", ".join(ids)
    steps: list[str] = []
    left = owed
    if left and cash:
        applied = min(left, cash)
        steps.append(f"Apply {money(applied)} of the cash balance to {bills}.")
        left -= applied
    if left and legacy:
        charged = min(left, legacy)
        steps.append(
            f"Charge {money(charged)} from the receiver ({on}) for {bills} before the monthly "
            "sweep takes it."
        )
        left -= charged
    if left:
        steps.append(f"Collect {money(left)}: nothing waiting pays it.")
    extra = legacy + cash - (owed - left)
    if extra > 0:
        steps.append(
            f"{money(extra)} waits with nothing due: refund it, or keep it for the next invoice."
        )
    return " ".join(steps)
