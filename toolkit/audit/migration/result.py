"""What the Sources retirement audit is made of: its tables and their columns.

>>> list(migration.tables())[:3]
['summary', 'checks', 'exceptions']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.money import to_major

__all__ = [
    "CUSTOMER_COLUMNS",
    "EXCEPTION_COLUMNS",
    "MigrationTables",
    "account_rollup",
    "currency_rollup",
    "migration_tables",
]

_MONEY = (
    "legacy_unapplied",
    "cash_available",
    "moved_to_cash",
    "swept_to_balance",
    "receiver_money_after_cash",
    "tie_out_gap",
    "refunded_after_charge",
)
CUSTOMER_COLUMNS: tuple[str, ...] = (
    "customer",
    "owner_email",
    "currency",
    "state",
    "checks",
    "legacy_unapplied",
    "legacy_unapplied_major",
    "cash_available",
    "cash_available_major",
    "moved_to_cash",
    "moved_to_cash_major",
    "moved_from_sources",
    "swept_to_balance",
    "swept_to_balance_major",
    "swept_sources",
    "receivers",
    "active_receivers",
    "receiver_ids",
    "legacy_funds_sources",
    "retiring_in_use",
    "retiring_in_use_sources",
    "has_cash_balance",
    "cash_read",
    "reconciliation_mode",
    "first_cash_funded_at",
    "oldest_unapplied_at",
    "unapplied_days",
    "last_receiver_money_at",
    "receiver_money_after_cash",
    "receiver_money_after_cash_major",
    "months_paying_both",
    "successor_account_last4",
    "successor_matches_receiver",
    "without_successor",
    "wired_bills",
    "tie_out_gap",
    "tie_out_gap_major",
    "refunded_after_charge",
    "refunded_after_charge_major",
)
EXCEPTION_COLUMNS: tuple[str, ...] = (
    "customer",
    "currency",
    "severity",
    "check",
    "title",
    "detail",
    "owner_email",
    "legacy_unapplied_major",
    "cash_available_major",
)
_STATE_ORDER = {"blocked": 0, "needs action": 1, "ready": 2}


def _customers(table: pd.DataFrame) -> pd.DataFrame:
    if not len(table):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CUSTOMER_COLUMNS})
    t = table.copy()
    for name in (*_MONEY, "unapplied_days", "receivers", "active_receivers", "retiring_in_use"):
        t[name] = pd.to_numeric(t[name], errors="coerce").astype("Int64")
    for name in _MONEY:
        t[f"{name}_major"] = to_major(t[name], t["currency"].replace("", None))
    for name in ("first_cash_funded_at", "oldest_unapplied_at", "last_receiver_money_at"):
        t[name] = pd.to_datetime(t[name], utc=True)
    t["successor_matches_receiver"] = t["successor_matches_receiver"].astype("boolean")
    t["months_paying_both"] = t["months_paying_both"].map(", ".join)
    t = t.assign(_order=t["state"].map(_STATE_ORDER))
    t = t.sort_values(["_order", "customer", "currency"], kind="stable").drop(columns="_order")
    return t[list(CUSTOMER_COLUMNS)].reset_index(drop=True)


def currency_rollup(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers, states and money per currency of a customers table (never added across
    currencies): on legacy receivers, in cash balances, and swept from receivers to the account
    balance (each amount in one place only)."""
    money = ("legacy_unapplied", "cash_available", "swept_to_balance")
    columns = ["currency", "customers", "ready", "needs_action", "blocked"]
    for name in money:
        columns += [name, f"{name}_major"]
    rows = []
    for cur, g in customers[customers["currency"] != ""].groupby("currency", sort=True):
        rows.append(
            {
                "currency": cur,
                "customers": g["customer"].nunique(),
                "ready": int((g["state"] == "ready").sum()),
                "needs_action": int((g["state"] == "needs action").sum()),
                "blocked": int((g["state"] == "blocked").sum()),
                **{
                    name: int(g[name].fillna(0).sum()) if name in g.columns else 0 for name in money
                },
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in columns if not c.endswith("_major")])
    for name in money:
        out[name] = out[name].astype("Int64")
        out[f"{name}_major"] = to_major(out[name], out["currency"])
    return out[columns]


def account_rollup(customers: pd.DataFrame, account_of: dict[str, str]) -> pd.DataFrame:
    """:func:`currency_rollup` per connected account (``account_of``: customer -> account).

    >>> account_rollup(pd.DataFrame(columns=["customer"]), {}).empty
    True
    """
    if not len(customers):
        return pd.DataFrame()
    accounts = customers["customer"].map(account_of)
    parts = [
        currency_rollup(group).assign(account=account)
        for account, group in customers.groupby(accounts, sort=True)
    ]
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    return out[["account", *(c for c in out.columns if c != "account")]]


def migration_tables(
    table: pd.DataFrame, findings: list[dict[str, Any]], checks: list[dict[str, Any]]
) -> dict[str, pd.DataFrame]:
    """The audit's tables from the per customer-and-currency rows, findings and checks."""
    customers = _customers(table)
    exceptions = pd.DataFrame(findings)
    if len(exceptions):
        exceptions["legacy_unapplied"] = exceptions["legacy_unapplied"].astype("Int64")
        exceptions["cash_available"] = pd.to_numeric(exceptions["cash_available"]).astype("Int64")
        cur = exceptions["currency"].replace("", None)
        exceptions["legacy_unapplied_major"] = to_major(exceptions["legacy_unapplied"], cur)
        exceptions["cash_available_major"] = to_major(exceptions["cash_available"], cur)
        exceptions = exceptions.assign(_o=exceptions["severity"].map({"blocked": 0}).fillna(1))
        exceptions = exceptions.sort_values(["_o", "customer", "check"], kind="stable")
        exceptions = exceptions[list(EXCEPTION_COLUMNS)].reset_index(drop=True)
    else:
        exceptions = pd.DataFrame({c: pd.Series(dtype=object) for c in EXCEPTION_COLUMNS})
    per_customer = (
        customers.groupby("customer")["state"].agg(lambda s: min(s, key=lambda v: _STATE_ORDER[v]))
        if len(customers)
        else pd.Series(dtype=object)
    )
    summary = pd.DataFrame(
        [
            ("Customers audited", len(per_customer)),
            ("Ready", int((per_customer == "ready").sum())),
            ("Need action", int((per_customer == "needs action").sum())),
            ("Blocked", int((per_customer == "blocked").sum())),
            ("Findings", len(exceptions)),
        ],
        columns=["item", "value"],
    )
    return {
        "summary": summary,
        "customers": customers,
        "exceptions": exceptions,
        "by_currency": currency_rollup(customers),
        "checks": pd.DataFrame(checks),
    }


@dataclass
class MigrationTables:
    """The tables of a Sources retirement audit (what the exports read;
    :class:`~toolkit.MigrationAudit` adds the methods that write them).

    ``summary`` (item/value, counted by customer: a customer's state is its worst currency's),
    ``customers`` (one row per customer and currency: legacy receiver funds beside cash balance
    funds, what the migration moved from receivers into the cash balance and what Stripe swept
    from them to the account balance, the state and the checks that flagged it), ``exceptions`` (one row per finding),
    ``by_currency`` (never added across currencies), ``checks`` (name, title, severity, ran,
    flagged, explanation), ``by_account`` (account and currency, when the sources span connected
    accounts), ``as_of``, ``account``, ``mode``, ``unapplied_days``, ``inputs`` (the
    optional inputs given), ``notes``; and, when their inputs were given, ``successors`` (one
    row per customer and source type they still pay with: the payment methods that replace it),
    ``wired`` (open invoices and live subscriptions still wired to Sources), ``tie_out`` (one row
    per receiver: where every cent it received went, with the Stripe objects) and ``receivable``
    (open invoices due beside the money waiting, with the action that matches them).

    >>> migration.by_currency.columns[:2].tolist()
    ['currency', 'customers']
    """

    summary: pd.DataFrame
    customers: pd.DataFrame
    exceptions: pd.DataFrame
    by_currency: pd.DataFrame
    checks: pd.DataFrame
    as_of: pd.Timestamp | None
    as_of_basis: str
    account: str | None
    mode: str | None
    unapplied_days: int
    inputs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    by_account: pd.DataFrame = field(default_factory=pd.DataFrame)
    successors: pd.DataFrame = field(default_factory=pd.DataFrame)
    wired: pd.DataFrame = field(default_factory=pd.DataFrame)
    tie_out: pd.DataFrame = field(default_factory=pd.DataFrame)
    receivable: pd.DataFrame = field(default_factory=pd.DataFrame)

    def count(self, state: str) -> int:
        """Customers in a state (their worst currency): ``migration.count("blocked")``."""
        value = self.summary.set_index("item")["value"]
        label = {"ready": "Ready", "needs action": "Need action", "blocked": "Blocked"}[state]
        return int(value[label])

    @property
    def needs_action(self) -> pd.DataFrame:
        """The customer rows that are not ready: ``migration.needs_action["customer"]``."""
        return self.customers[self.customers["state"] != "ready"].reset_index(drop=True)

    def tag_table(self, key: str = "retirement") -> pd.DataFrame:
        """The sources of every customer that is not ready, as a table for
        :func:`~toolkit.plan_metadata_from_table`: ``id`` and ``key`` (``blocked`` or
        ``needs-action``), a source taking its customer's worst state. Only the receivers and the
        retiring sources in use are named (a card is not tagged).

        >>> list(migration.tag_table().columns)
        ['id', 'retirement']
        """
        tags: dict[str, str] = {}
        for row in self.customers[self.customers["state"] != "ready"].itertuples():
            value = "blocked" if row.state == "blocked" else "needs-action"
            text = f"{row.receiver_ids} {row.retiring_in_use_sources}"
            for sid in re.findall(r"src_[A-Za-z0-9]+", text):
                if tags.get(sid) != "blocked":
                    tags[sid] = value
        return pd.DataFrame({"id": list(tags), key: list(tags.values())}, dtype=object)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by its export name, in export order."""
        return {
            "summary": self.summary,
            "checks": self.checks,
            "exceptions": self.exceptions,
            "customers": self.customers,
            "by_currency": self.by_currency,
            **({"by_account": self.by_account} if len(self.by_account) else {}),
            **{
                name: table
                for name, table in (
                    ("successors", self.successors),
                    ("wired", self.wired),
                    ("tie_out", self.tie_out),
                    ("receivable", self.receivable),
                )
                if len(table.columns)  # the input was given (its table may have no rows)
            },
        }
