"""The whole Sources retirement audit in one call: load what it needs through the fetch wing,
then audit it (what the CLI, the widget tab and the runbook call).

>>> toolkit.audit.migration.load.run_migration_audit(session, progress=False).as_of is not None
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd

from toolkit.audit.migration.audit import MigrationAudit
from toolkit.audit.migration.build import audit_migration
from toolkit.fetch import (
    ledger_reads,
    load_cash_balance_transactions,
    load_cash_balances,
    load_invoices,
    load_ledger,
    load_payment_methods,
    load_source_transactions,
    load_sources,
    load_subscriptions,
)
from toolkit.fetch.loaded import ATTRS_KEY, LoadInfo
from toolkit.fetch.payment_methods import customers_paying_by_source
from toolkit.progress import ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = [
    "READS_NOTE",
    "moved_receivers",
    "receivers_to_read",
    "retirement_reads",
    "run_migration_audit",
    "with_moved_receivers",
]

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


def moved_receivers(sources: pd.DataFrame, moves: pd.DataFrame) -> list[str]:
    """The receivers whose money the migration moved into a cash balance (named by the
    ``funded`` cash balance transactions) that are not in ``sources``: Stripe's migration took
    them out of the customer's list, so only a read by id finds them.

    >>> moves = pd.DataFrame({"type": ["funded", "funded"], "reference": ["src_Gone1", None]})
    >>> moved_receivers(sources, moves)
    ['src_Gone1']
    """
    reference = moves["reference"].astype(object) if "reference" in moves.columns else None
    if reference is None:
        return []
    named = moves.loc[
        (moves["type"].astype(object) == "funded") & reference.astype(str).str.startswith("src_"),
        "reference",
    ]
    known = set(sources["id"].astype(str))
    return [str(r) for r in dict.fromkeys(named) if str(r) not in known]


def with_moved_receivers(
    session: SessionLike,
    sources: pd.DataFrame,
    moves: pd.DataFrame,
    *,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> pd.DataFrame:
    """``sources`` with the receivers :func:`moved_receivers` names read by id and appended (a
    read each), keeping ``sources``' load record (its time is the audit's date; the reads of
    both loads are added up). ``sources`` itself when the migration moved none.

    >>> moves = toolkit.load_cash_balance_transactions(session, cash, progress=False)
    >>> every = with_moved_receivers(session, sources, moves, progress=False)
    >>> len(every) >= len(sources), LoadInfo.from_attrs(every).taken_at == LoadInfo.from_attrs(sources).taken_at
    (True, True)
    """
    moved = moved_receivers(sources, moves)
    if not moved:
        return sources
    more = load_sources(session, ids=moved, progress=progress, cancel=cancel)
    info = LoadInfo.from_attrs(sources) or LoadInfo()
    added = LoadInfo.from_attrs(more) or LoadInfo()
    if info.reads is not None or added.reads is not None:
        info.reads = (info.reads or 0) + (added.reads or 0)
    every = pd.concat([sources, more], ignore_index=True)
    every.attrs[ATTRS_KEY] = info.to_attrs()  # a concat keeps no attrs: the account load's
    return every


def retirement_reads(
    sources: pd.DataFrame, *, payment_methods: bool = False, bills: bool = False,
    ledger: bool = False,
) -> dict[str, int]:  # fmt: skip
    """The least reads each part asked for will take, known before it starts (besides what the
    audit always reads): ``payment_methods`` one per customer still paying with a source,
    ``bills`` a page of open invoices and one of subscriptions, ``ledger``
    :func:`~toolkit.fetch.ledger.ledger_reads`.

    >>> sorted(retirement_reads(sources, bills=True, ledger=True))
    ['bills', 'ledger']
    """
    found: dict[str, int] = {}
    if payment_methods:
        found["payment_methods"] = len(customers_paying_by_source(sources))
    if bills:
        found["bills"] = 2
    if ledger:
        found["ledger"] = ledger_reads(sources)
    return found


def run_migration_audit(
    session: SessionLike,
    *,
    as_of: datetime | pd.Timestamp | str | None = None,
    unapplied_days: int = 14,
    funding_instructions: bool = False,
    payment_methods: bool = False,
    bills: bool = False,
    ledger: bool = False,
    skip_unfunded: bool = False,
    announce: Callable[[dict[str, int]], Any] | None = None,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> MigrationAudit:
    """Every source, every customer's cash balance and its transactions, the source
    transactions of the receivers :func:`receivers_to_read` names (not every receiver's), then
    :func:`~toolkit.audit_migration` over them. Read only, unless
    ``funding_instructions=True`` (Stripe creates missing instructions: a write, refused in live
    mode unless the session allows live writes). What it read is its last note: ``"Read from
    Stripe: 31 reads (this account: 4,830 in 30 days)."`` (:data:`READS_NOTE`), and it is
    held to the read allowance before it starts by what it cost the last time.

    Asked for, and only then (they spend the account's read allocation: :func:`retirement_reads`
    says the least each takes, and a note says it before the figures): ``payment_methods``
    (the successors), ``bills`` (open invoices and subscriptions: what is wired to Sources, and
    accounts receivable), ``ledger`` (the tie-out of every receiver, with the receivers the
    migration moved out of the customers' lists read by id). ``announce(retirement_reads(...))`` is
    called before the first of them is read (the CLI prints it). ``skip_unfunded``: the
    receivers that never received money are not asked for their transactions (see
    :func:`~toolkit.load_source_transactions`)."""
    with session.reading("migration audit") as meter:
        sources = load_sources(session, progress=progress, cancel=cancel)
        cash = load_cash_balances(
            session, funding_instructions=funding_instructions, progress=progress, cancel=cancel
        )
        moves = load_cash_balance_transactions(session, cash, progress=progress, cancel=cancel)
        receivers = receivers_to_read(sources, moves)  # a fraction of every receiver
        stxns = load_source_transactions(
            session, receivers, skip_unfunded=skip_unfunded, progress=progress, cancel=cancel
        )
        asked = retirement_reads(
            sources, payment_methods=payment_methods, bills=bills, ledger=ledger
        )
        if asked and announce is not None:
            announce(asked)
        found: dict[str, pd.DataFrame] = {}
        if payment_methods:
            found["payment_methods"] = load_payment_methods(
                session, sources, progress=progress, cancel=cancel
            )
        if bills:
            found["invoices"] = load_invoices(session, progress=progress, cancel=cancel)
            found["subscriptions"] = load_subscriptions(session, progress=progress, cancel=cancel)
        if ledger:
            sources = with_moved_receivers(
                session, sources, moves, progress=progress, cancel=cancel
            )
            found["ledger"] = load_ledger(session, sources, progress=progress, cancel=cancel)
    audit = audit_migration(
        sources,
        cash,
        moves,
        source_transactions=stxns,
        as_of=as_of,
        unapplied_days=unapplied_days,
        **found,
    )
    if asked:
        parts = ", ".join(
            f"{name.replace('_', ' ')} at least {n:,} ({_reads_of(found, name)})"
            for name, n in asked.items()
        )
        audit.notes.append(f"Asked for, with the reads each takes: {parts}.")
    audit.notes.append(f"{READS_NOTE} {meter.describe()}.")
    return audit


def _reads_of(found: dict[str, pd.DataFrame], name: str) -> str:
    """What the part ``name`` read, from its frames' LoadInfo."""
    frames = {"bills": ("invoices", "subscriptions")}.get(name, (name,))
    reads = sum(int(found[f].attrs.get("toolkit", {}).get("reads") or 0) for f in frames)
    return f"{reads:,} read"
