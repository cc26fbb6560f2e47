"""Stripe Sources toolkit: every source into pandas, safe bulk changes, receiver-balance audits.

Example::

    import toolkit

    session = toolkit.connect()                      # no key set: the built-in sandbox
    sources = toolkit.load_sources(session)          # every source of the account
    plan = toolkit.plan_metadata(sources.head(5), set={"team": "ar"})
    outcome = toolkit.apply(plan, session)           # journaled, resumable, undoable
    audit = toolkit.audit_receivers(sources, toolkit.load_source_transactions(session, sources))

Widgets live in :mod:`toolkit.widgets`, the sandbox in :mod:`toolkit.sandbox`; both load on first use.
"""

from toolkit.apply import apply, load_plan
from toolkit.audit import Audit, audit_receivers
from toolkit.errors import (
    Cancelled,
    ConfigurationError,
    InvalidInputError,
    InvalidKeyError,
    JournalError,
    LiveModeRefused,
    NotFoundError,
    StripeRequestError,
    ToolkitError,
)
from toolkit.fetch import iter_sources, load_source_transactions, load_sources
from toolkit.money import format_money, minor_to_major
from toolkit.outcome import Outcome
from toolkit.plans import (
    Plan,
    plan_attach,
    plan_detach,
    plan_metadata,
    plan_metadata_from_table,
    plan_owner,
)
from toolkit.select import filter_sources
from toolkit.session import Session, connect
from toolkit.settings import parse_flag
from toolkit.snapshot import diff_snapshots, load_snapshot, save_snapshot
from toolkit.undo import undo

__version__ = "0.1.0"

__all__ = [
    "Audit",
    "Cancelled",
    "ConfigurationError",
    "InvalidInputError",
    "InvalidKeyError",
    "JournalError",
    "LiveModeRefused",
    "NotFoundError",
    "Outcome",
    "Plan",
    "Session",
    "StripeRequestError",
    "ToolkitError",
    "apply",
    "audit_receivers",
    "connect",
    "diff_snapshots",
    "filter_sources",
    "format_money",
    "iter_sources",
    "load_plan",
    "load_snapshot",
    "load_source_transactions",
    "load_sources",
    "minor_to_major",
    "parse_flag",
    "plan_attach",
    "plan_detach",
    "plan_metadata",
    "plan_metadata_from_table",
    "plan_owner",
    "save_snapshot",
    "undo",
]
