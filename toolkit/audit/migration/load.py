"""The whole Sources retirement audit in one call: load what it needs through the fetch wing,
then audit it (what the CLI, the widget tab and the runbook call).

>>> toolkit.audit.migration.load.run_migration_audit(session, progress=False).as_of is not None
True
"""

from __future__ import annotations

import threading
from datetime import datetime

import pandas as pd

from toolkit.audit.migration.audit import MigrationAudit
from toolkit.audit.migration.build import audit_migration
from toolkit.fetch import (
    load_cash_balance_transactions,
    load_cash_balances,
    load_source_transactions,
    load_sources,
)
from toolkit.progress import ProgressArg
from toolkit.session import Session

__all__ = ["READS_NOTE", "receivers_to_read", "run_migration_audit"]

#: How the note that says what the audit read begins.
READS_NOTE = "Read from Stripe:"


def receivers_to_read(sources: pd.DataFrame, moves: pd.DataFrame) -> pd.DataFrame:
    """The receivers whose source transactions the retirement audit needs: those of customers
    whose cash balance was ever funded (the timing checks can flag no others), and the ACH
    Credit Transfer receivers that are no longer active (consumed, canceled, failed), where a
    sweep to the account balance could leave a customer looking ready. An active receiver with
    no cash balance beside it already blocks its customer: a sweep from it shows only when every
    receiver's transactions are given to :func:`~toolkit.audit_migration` (a read each).

    >>> moves = toolkit.load_cash_balance_transactions(session, cash, progress=False)
    >>> len(receivers_to_read(sources, moves)) <= int((sources["flow"] == "receiver").sum())
    True
    """
    funded = set(moves.loc[moves["type"] == "funded", "customer"])
    receiver = sources["flow"].astype(object) == "receiver"
    idle = (sources["type"].astype(object) == "ach_credit_transfer") & sources["status"].astype(
        object
    ).isin(("consumed", "canceled", "failed"))
    return sources[receiver & (sources["customer"].isin(funded) | idle)]


def run_migration_audit(
    session: Session,
    *,
    as_of: datetime | pd.Timestamp | str | None = None,
    unapplied_days: int = 14,
    funding_instructions: bool = False,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> MigrationAudit:
    """Every source, every customer's cash balance and its transactions, the source
    transactions of the receivers :func:`receivers_to_read` names (not every receiver's), then
    :func:`~toolkit.audit_migration` over them. Read only, unless
    ``funding_instructions=True`` (Stripe creates missing instructions: a write, refused in live
    mode unless the session allows live writes). What it read is its last note: ``"Read from
    Stripe: 31 reads (this account: 4,830 in 30 days)."`` (:data:`READS_NOTE`), and it is
    held to the read allowance before it starts by what it cost the last time."""
    with session.reading("migration audit") as meter:
        sources = load_sources(session, progress=progress, cancel=cancel)
        cash = load_cash_balances(
            session, funding_instructions=funding_instructions, progress=progress, cancel=cancel
        )
        moves = load_cash_balance_transactions(session, cash, progress=progress, cancel=cancel)
        receivers = receivers_to_read(sources, moves)  # a fraction of every receiver
        stxns = load_source_transactions(session, receivers, progress=progress, cancel=cancel)
    audit = audit_migration(
        sources,
        cash,
        moves,
        source_transactions=stxns,
        as_of=as_of,
        unapplied_days=unapplied_days,
    )
    audit.notes.append(f"{READS_NOTE} {meter.describe()}.")
    return audit
