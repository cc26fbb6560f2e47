"""An audit's figures per receiver and its roll-ups: age, aging buckets, major units, totals
per currency, customer and status (never added across currencies), and the summary.

>>> aging_bucket(pd.Series([10, 45, 200]), pd.Series([100, 100, 0])).tolist()
['0-30 days', '31-60 days', None]
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from toolkit.audit.receivers.result import AGING_BUCKETS, MONEY_COLUMNS, AuditTables
from toolkit.money import format_money, minor_to_major

__all__ = ["aging", "aging_bucket", "days_between", "major", "rollup", "summary"]

_STATUS_ORDER = ("pending", "chargeable", "consumed", "canceled", "failed")
_NO_CUSTOMER = "(no customer)"
_DAY = pd.Timedelta(days=1)


def days_between(times: pd.Series, when: pd.Timestamp | None) -> pd.Series:
    if when is None or not len(times):
        return pd.Series(pd.NA, index=times.index, dtype="Int64")
    delta = (when - times) / _DAY
    return delta.apply(lambda d: pd.NA if pd.isna(d) else int(d // 1)).astype("Int64")


def aging_bucket(age: pd.Series, unapplied: pd.Series) -> pd.Series:
    def bucket(days: Any, amount: Any) -> str | None:
        if pd.isna(amount) or amount <= 0 or pd.isna(days):
            return None
        if days <= 30:
            return AGING_BUCKETS[0]
        if days <= 60:
            return AGING_BUCKETS[1]
        if days <= 90:
            return AGING_BUCKETS[2]
        return AGING_BUCKETS[3]

    values = [bucket(d, a) for d, a in zip(age, unapplied, strict=True)]
    return pd.Series(values, index=age.index, dtype="object")


def major(amounts: pd.Series, currencies: pd.Series) -> pd.Series:
    values = [
        None if pd.isna(a) or not c else minor_to_major(int(a), str(c))
        for a, c in zip(amounts, currencies, strict=True)
    ]
    return pd.Series(values, index=amounts.index, dtype="object")


# --- checks ------------------------------------------------------------------------------------


def rollup(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    columns = [
        *keys,
        "receivers",
        "flagged",
        *MONEY_COLUMNS,
        *(f"{m}_major" for m in MONEY_COLUMNS),
    ]
    if not len(table):
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        for c in ("receivers", "flagged"):
            out[c] = out[c].astype("int64")
        for m in MONEY_COLUMNS:
            out[m] = out[m].astype("Int64")
        return out
    work = table[[*keys, *MONEY_COLUMNS, "flag_count"]].copy()
    if "customer" in keys:
        work["customer"] = work["customer"].where(work["customer"].notna(), _NO_CUSTOMER)
    if "status" in keys:
        work["status"] = work["status"].where(work["status"].notna(), "(unknown)")
    work["flagged"] = (work["flag_count"] > 0).astype("int64")
    grouped = work.groupby(keys, sort=True, dropna=False)
    out = grouped[list(MONEY_COLUMNS)].sum(min_count=0).astype("Int64")
    out.insert(0, "flagged", grouped["flagged"].sum().astype("int64"))
    out.insert(0, "receivers", grouped.size().astype("int64"))
    out = out.reset_index()
    if keys == ["status", "currency"]:
        order = {s: i for i, s in enumerate(_STATUS_ORDER)}
        out["_o"] = out["status"].map(lambda s: order.get(s, len(order)))
        out = out.sort_values(["currency", "_o", "status"], kind="mergesort").drop(columns="_o")
    elif keys == ["customer", "currency"]:
        out = out.sort_values(
            ["currency", "unapplied", "customer"], ascending=[True, False, True], kind="mergesort"
        )
    for m in MONEY_COLUMNS:
        out[f"{m}_major"] = major(out[m], out["currency"])
    return out[columns].reset_index(drop=True)


def aging(table: pd.DataFrame) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for currency in sorted(set(table["currency"])):
        sub = table[table["currency"] == currency]
        for bucket in AGING_BUCKETS:
            held = sub[sub["aging_bucket"] == bucket]
            amount = int(held["unapplied"].sum()) if len(held) else 0
            rows.append(
                {
                    "currency": currency,
                    "bucket": bucket,
                    "receivers": len(held),
                    "unapplied": amount,
                    "unapplied_major": minor_to_major(amount, currency) if currency else None,
                }
            )
    out = pd.DataFrame(
        rows, columns=["currency", "bucket", "receivers", "unapplied", "unapplied_major"]
    )
    out["receivers"] = out["receivers"].astype("int64")
    out["unapplied"] = out["unapplied"].astype("Int64")
    return out


def summary(audit: AuditTables, *, n_sources: int) -> pd.DataFrame:
    """The audit's summary table (item, value): context, counts, totals per currency, notes."""
    t = audit.sources
    items: list[tuple[str, Any]] = [
        ("As of (UTC)", audit.as_of.isoformat() if audit.as_of is not None else "unknown"),
        ("As-of basis", BASIS_TEXT[audit.as_of_basis]),
        ("Account", audit.account or "unknown"),
        ("Mode", audit.mode or "unknown"),
        ("Sources in the table", n_sources),
        ("Receiver sources audited", len(t)),
        ("Receivers with findings", int((t["flag_count"] > 0).sum()) if len(t) else 0),
        ("Findings", len(audit.exceptions)),
        ("Currencies", ", ".join(c.upper() or "(none)" for c in audit.by_currency["currency"])),
        ("Source transactions", "given" if audit.transactions_given else "not given"),
        ("Transactions of sources not in the table", len(audit.unmatched_transactions)),
        ("Pending limit (days)", audit.pending_days),
        ("Checks run", len(audit.checks_run)),
    ]
    for _, row in audit.by_currency.iterrows():
        label = str(row["currency"]).upper() or "(none)"
        for m in MONEY_COLUMNS:
            amount = int(row[m])
            shown = format_money(amount, row["currency"]) if row["currency"] else str(amount)
            items.append((f"{m.capitalize()} ({label})", shown))
    items.extend(("Note", note) for note in audit.notes)
    frame = pd.DataFrame(items, columns=["item", "value"])
    frame["value"] = frame["value"].astype("object")
    return frame


BASIS_TEXT = {
    "given": "given by the caller",
    "snapshot": "the time the sources were fetched (snapshot)",
    "latest activity": "no snapshot time recorded: the latest creation or transaction time",
    "none": "unknown: no snapshot time and no dates in the data",
}
