"""What an audit is made of: its tables, its findings, the context; and the columns they have.

>>> audit.as_of_basis, audit.sources.columns[0]
('snapshot', 'source')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from toolkit.audit.inputs import TRANSACTION_COLUMNS

__all__ = [
    "AGING_BUCKETS",
    "EXCEPTION_COLUMNS",
    "MONEY_AND_MAJOR",
    "MONEY_COLUMNS",
    "SOURCE_COLUMNS",
    "TRANSACTION_COLUMNS",
    "TXN_COUNT_COLUMNS",
    "UNMATCHED_COLUMNS",
    "AuditTables",
]

#: Aging buckets of unapplied funds, by the source's age in days at the audit date.
AGING_BUCKETS: tuple[str, ...] = ("0-30 days", "31-60 days", "61-90 days", "over 90 days")
#: The money columns (minor units) that every table carries next to a ``<name>_major`` column
#: (every money column has one: the exports write ``X_major`` as ``X`` and ``X`` as ``X_minor``).
MONEY_COLUMNS: tuple[str, ...] = ("received", "charged", "returned", "unapplied")
MONEY_AND_MAJOR = (*MONEY_COLUMNS, *(f"{name}_major" for name in MONEY_COLUMNS))
_STATUS_ORDER = ("pending", "chargeable", "consumed", "canceled", "failed")
_NO_CUSTOMER = "(no customer)"
_DAY = pd.Timedelta(days=1)
#: Per-receiver transaction counts and totals (Int64; 0 when a receiver has no transactions).
TXN_COUNT_COLUMNS = (
    "transactions",
    "transactions_total",
    "reversals",
    "reversals_total",
    "other_currency_transactions",
)

SOURCE_COLUMNS: tuple[str, ...] = (
    "source",
    "customer",
    "owner_email",
    "type",
    "status",
    "currency",
    "created",
    "age_days",
    *MONEY_AND_MAJOR,
    "refund_attributes_method",
    "refund_attributes_status",
    "transactions",
    "transactions_total",
    "transactions_total_major",
    "reversals",
    "reversals_total",
    "reversals_total_major",
    "other_currency_transactions",
    "other_currencies",
    "last_transaction_at",
    "days_since_last_transaction",
    "aging_bucket",
    "flags",
    "flag_count",
)
EXCEPTION_COLUMNS: tuple[str, ...] = (
    "source",
    "check",
    "title",
    "detail",
    "customer",
    "owner_email",
    "status",
    "currency",
    "created",
    *MONEY_AND_MAJOR,
)
#: The transactions of sources not in the frame, as the audit lists them (money in both units).
UNMATCHED_COLUMNS: tuple[str, ...] = (*TRANSACTION_COLUMNS, "amount_major")


@dataclass
class AuditTables:
    """The tables of an audit, its findings and the context they were made in (what the
    exports and charts read; :class:`~toolkit.Audit` adds the methods that write them).

    ``summary`` (item/value), ``sources`` (one row per receiver), ``exceptions`` (one row per
    finding: source + check), ``by_currency``, ``by_customer``, ``by_status``, ``aging``, ``checks``
    (name, title, explanation, ran, flagged), ``unmatched_transactions`` (transactions whose source is
    not in the frame), ``as_of`` (UTC timestamp or None), ``as_of_basis`` ("given", "snapshot",
    "latest activity", "none"), ``account``, ``mode``, ``pending_days``, ``notes``;
    ``by_account`` (account and currency) when the sources span connected accounts.

    >>> audit.by_currency.columns[:3].tolist()
    ['currency', 'receivers', 'flagged']
    """

    summary: pd.DataFrame
    sources: pd.DataFrame
    exceptions: pd.DataFrame
    by_currency: pd.DataFrame
    by_customer: pd.DataFrame
    by_status: pd.DataFrame
    aging: pd.DataFrame
    checks: pd.DataFrame
    unmatched_transactions: pd.DataFrame
    as_of: pd.Timestamp | None
    as_of_basis: str
    account: str | None
    mode: str | None
    pending_days: int
    transactions_given: bool
    notes: list[str] = field(default_factory=list)
    by_account: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def checks_run(self) -> list[str]:
        """Names of the checks that ran (transaction checks only run with transactions)."""
        return [str(n) for n in self.checks.loc[self.checks["ran"], "name"]]

    @property
    def flagged(self) -> pd.DataFrame:
        """The receiver rows with at least one finding: ``audit.flagged["source"]``."""
        return self.sources[self.sources["flag_count"] > 0].reset_index(drop=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by its export name, in export order: ``list(audit.tables())``."""
        tables = {
            "summary": self.summary,
            "checks": self.checks,
            "exceptions": self.exceptions,
            "sources": self.sources,
            "by_currency": self.by_currency,
            "by_customer": self.by_customer,
            "by_status": self.by_status,
            "aging": self.aging,
        }
        if len(self.by_account):
            tables["by_account"] = self.by_account
        if len(self.unmatched_transactions):
            tables["unmatched_transactions"] = self.unmatched_transactions
        return tables
