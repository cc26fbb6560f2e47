"""Stripe Sources toolkit: every source into pandas, safe bulk changes, receiver-balance audits.

>>> sources = toolkit.load_sources(session, progress=False)       # every source of the account
>>> plan = toolkit.plan_metadata(sources.head(2), set={"team": "ar"})
>>> toolkit.apply(plan, session, progress=False).totals["ok"]      # journaled, resumable, undoable
2
>>> audit = toolkit.audit_receivers(sources)

The wings (``toolkit.session``, ``toolkit.fetch``, ``toolkit.changes``, ``toolkit.audit``,
``toolkit.cli``, ``toolkit.widgets``, ``toolkit.sandbox``) are described in the README's Layout;
each name is loaded on first use (``import toolkit`` costs little more than pandas: the CLI and
every papermill kernel pay it first), the widgets and the sandbox too.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # for type checkers and editors: at run time each name loads on first use
    from toolkit.audit import (
        Audit,
        MigrationAudit,
        audit_migration,
        audit_receivers,
        moved_receivers,
        receivers_to_read,
        retirement_reads,
        with_moved_receivers,
        write_report,
    )
    from toolkit.changes import (
        Outcome,
        Plan,
        apply,
        approve,
        check_confirmation,
        load_plan,
        plan_amount,
        plan_amount_from_table,
        plan_attach,
        plan_detach,
        plan_mandate,
        plan_mandate_from_table,
        plan_metadata,
        plan_metadata_from_table,
        plan_owner,
        plan_source_order,
        plan_source_order_from_table,
        plan_update,
        read_plan,
        save_for_approval,
        save_plan,
        undo,
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
    from toolkit.session.client import Session
    from toolkit.session.connect import connect
    from toolkit.session.read_usage import read_usage
    from toolkit.session.settings import parse_flag

#: Where each public name lives: loaded on first use (PEP 562), so ``import toolkit`` stays light.
_LAZY = {
    "Audit": "toolkit.audit",
    "MigrationAudit": "toolkit.audit",
    "audit_migration": "toolkit.audit",
    "audit_receivers": "toolkit.audit",
    "moved_receivers": "toolkit.audit",
    "receivers_to_read": "toolkit.audit",
    "retirement_reads": "toolkit.audit",
    "with_moved_receivers": "toolkit.audit",
    "write_report": "toolkit.audit",
    "Outcome": "toolkit.changes",
    "Plan": "toolkit.changes",
    "apply": "toolkit.changes",
    "approve": "toolkit.changes",
    "check_confirmation": "toolkit.changes",
    "load_plan": "toolkit.changes",
    "plan_amount": "toolkit.changes",
    "plan_amount_from_table": "toolkit.changes",
    "plan_attach": "toolkit.changes",
    "plan_detach": "toolkit.changes",
    "plan_mandate": "toolkit.changes",
    "plan_mandate_from_table": "toolkit.changes",
    "plan_metadata": "toolkit.changes",
    "plan_metadata_from_table": "toolkit.changes",
    "plan_owner": "toolkit.changes",
    "plan_source_order": "toolkit.changes",
    "plan_source_order_from_table": "toolkit.changes",
    "plan_update": "toolkit.changes",
    "read_plan": "toolkit.changes",
    "save_for_approval": "toolkit.changes",
    "save_plan": "toolkit.changes",
    "undo": "toolkit.changes",
    "LoadInfo": "toolkit.fetch",
    "diff_snapshots": "toolkit.fetch",
    "export_sources": "toolkit.fetch",
    "filter_sources": "toolkit.fetch",
    "iter_sources": "toolkit.fetch",
    "load_cash_balance_transactions": "toolkit.fetch",
    "load_cash_balances": "toolkit.fetch",
    "load_invoices": "toolkit.fetch",
    "load_ledger": "toolkit.fetch",
    "load_payment_methods": "toolkit.fetch",
    "load_snapshot": "toolkit.fetch",
    "load_source_transactions": "toolkit.fetch",
    "load_sources": "toolkit.fetch",
    "load_subscriptions": "toolkit.fetch",
    "read_dataset": "toolkit.fetch",
    "read_ids": "toolkit.fetch",
    "refresh": "toolkit.fetch",
    "reread": "toolkit.fetch",
    "save_ids": "toolkit.fetch",
    "save_snapshot": "toolkit.fetch",
    "totals_by_currency": "toolkit.fetch",
    "write_sources_csv": "toolkit.fetch",
    "format_money": "toolkit.money",
    "minor_to_major": "toolkit.money",
    "fresh_path": "toolkit.private_files",
    "Session": "toolkit.session",
    "connect": "toolkit.session",
    "read_usage": "toolkit.session",
    "parse_flag": "toolkit.session.settings",
}
#: The wings, reachable as attributes (``toolkit.fetch``) once asked for.
_WINGS = (
    "audit",
    "changes",
    "cli",
    "fetch",
    "money",
    "private_files",
    "sandbox",
    "session",
    "widgets",
)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # the next access is a plain attribute
        return value
    if name in _WINGS:
        return importlib.import_module(f"toolkit.{name}")
    raise AttributeError(f"module 'toolkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


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
    "plan_amount",
    "plan_amount_from_table",
    "plan_attach",
    "plan_detach",
    "plan_mandate",
    "plan_mandate_from_table",
    "plan_metadata",
    "plan_metadata_from_table",
    "plan_owner",
    "plan_source_order",
    "plan_source_order_from_table",
    "plan_update",
    "read_dataset",
    "read_ids",
    "read_plan",
    "read_usage",
    "receivers_to_read",
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
    "with_moved_receivers",
    "write_report",
    "write_sources_csv",
]
