"""Stripe Sources toolkit: every source into pandas, safe bulk changes, receiver-balance audits.

>>> sources = toolkit.load_sources(session, progress=False)       # every source of the account
>>> plan = toolkit.plan_metadata(sources.head(2), set={"team": "ar"})
>>> toolkit.apply(plan, session, progress=False).totals["ok"]      # journaled, resumable, undoable
2
>>> audit = toolkit.audit_receivers(sources)

The wings (``toolkit.session``, ``toolkit.fetch``, ``toolkit.changes``, ``toolkit.audit``,
``toolkit.cli``, ``toolkit.widgets``, ``toolkit.sandbox``) are described in the README's Layout;
widgets and the sandbox load on first use.
"""

import logging

from toolkit.audit import (
    Audit,
    MigrationAudit,
    audit_migration,
    audit_receivers,
    moved_receivers,
    retirement_reads,
    write_report,
)
from toolkit.changes import (
    Outcome,
    Plan,
    apply,
    approve,
    check_confirmation,
    load_plan,
    plan_attach,
    plan_detach,
    plan_metadata,
    plan_metadata_from_table,
    plan_owner,
    read_plan,
    save_for_approval,
    save_plan,
    undo,
)
from toolkit.display import dry_run_notice, notebook_errors, show
from toolkit.errors import (
    AccountWarning,
    ApprovalRequired,
    Cancelled,
    ConfigurationError,
    InvalidInputError,
    InvalidKeyError,
    JournalError,
    LiveModeRefused,
    NotFoundError,
    NotFoundWarning,
    OutputError,
    ReadAllowanceError,
    StripeRequestError,
    ToolkitError,
)
from toolkit.fetch import (
    LoadInfo,
    diff_snapshots,
    export_sources,
    filter_sources,
    iter_sources,
    load_cash_balance_transactions,
    load_cash_balances,
    load_invoices,
    load_ledger,
    load_payment_methods,
    load_snapshot,
    load_source_transactions,
    load_sources,
    load_subscriptions,
    read_dataset,
    read_ids,
    refresh,
    reread,
    save_ids,
    save_snapshot,
    totals_by_currency,
    write_sources_csv,
)
from toolkit.money import format_money, minor_to_major
from toolkit.private_files import fresh_path
from toolkit.session import Session, connect, read_usage
from toolkit.session.settings import parse_flag

__version__ = "0.1.0"

logging.getLogger("toolkit").addHandler(logging.NullHandler())  # silent unless you log it
notebook_errors()  # in a notebook the toolkit's own errors show as their message, no traceback

__all__ = [
    "AccountWarning",
    "ApprovalRequired",
    "Audit",
    "Cancelled",
    "ConfigurationError",
    "InvalidInputError",
    "InvalidKeyError",
    "JournalError",
    "LiveModeRefused",
    "LoadInfo",
    "MigrationAudit",
    "NotFoundError",
    "NotFoundWarning",
    "Outcome",
    "OutputError",
    "Plan",
    "ReadAllowanceError",
    "Session",
    "StripeRequestError",
    "ToolkitError",
    "apply",
    "approve",
    "audit_migration",
    "audit_receivers",
    "check_confirmation",
    "connect",
    "diff_snapshots",
    "dry_run_notice",
    "export_sources",
    "filter_sources",
    "format_money",
    "fresh_path",
    "iter_sources",
    "load_cash_balance_transactions",
    "load_cash_balances",
    "load_invoices",
    "load_ledger",
    "load_payment_methods",
    "load_plan",
    "load_snapshot",
    "load_source_transactions",
    "load_sources",
    "load_subscriptions",
    "minor_to_major",
    "moved_receivers",
    "parse_flag",
    "plan_attach",
    "plan_detach",
    "plan_metadata",
    "plan_metadata_from_table",
    "plan_owner",
    "read_dataset",
    "read_ids",
    "read_plan",
    "read_usage",
    "refresh",
    "reread",
    "retirement_reads",
    "save_for_approval",
    "save_ids",
    "save_plan",
    "save_snapshot",
    "show",
    "totals_by_currency",
    "undo",
    "write_report",
    "write_sources_csv",
]
