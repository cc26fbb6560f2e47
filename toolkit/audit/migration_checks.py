"""The named checks of the Sources retirement audit, each with its severity and a sentence a
finance reader understands.

Each check reads the per customer and currency table that :func:`toolkit.audit_migration`
builds (minor units) and flags rows. A ``blocked`` finding means money can be lost when Sources
is switched off; ``needs action`` means work to do before then. Checks that need an input (cash
balance transactions, source transactions, funding instructions) run only when it is given.

>>> [c.name for c in MIGRATION_CHECKS][:3]
['no_successor', 'legacy_funds', 'receiver_after_cash']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.fetch.schema import SOURCE_TYPES
from toolkit.money import format_money

__all__ = [
    "BLOCKED",
    "CREDIT_TRANSFER_TYPES",
    "MIGRATION_CHECKS",
    "NEEDS_ACTION",
    "READY",
    "RETIRING_TYPES",
    "MigrationCheck",
    "StateContext",
]

READY, NEEDS_ACTION, BLOCKED = "ready", "needs action", "blocked"
#: Source types Stripe retires with the Sources API: its local payment methods. Card sources
#: (card, three_d_secure, card_present) are not named in Stripe's notice and are left out.
#: Receivers whose successor is Bank Transfers (the customer's cash balance).
CREDIT_TRANSFER_TYPES = frozenset({"ach_credit_transfer", "sepa_credit_transfer"})
RETIRING_TYPES = frozenset(SOURCE_TYPES) - {"card", "card_present", "three_d_secure"}


@dataclass(frozen=True)
class StateContext:
    """What checks may need besides the table: the unapplied threshold, the inputs given."""

    unapplied_days: int
    inputs: frozenset[str]


@dataclass(frozen=True)
class MigrationCheck:
    """One check: ``flags(table, ctx)`` a boolean Series, ``detail(row, ctx)`` a sentence;
    ``needs``: the input it runs on ("cash_transactions", "source_transactions", "funding")."""

    name: str
    title: str
    severity: str
    explanation: str
    needs: frozenset[str]
    flags: Callable[[pd.DataFrame, StateContext], pd.Series]
    detail: Callable[[Mapping[str, Any], StateContext], str]

    def runs(self, ctx: StateContext) -> bool:
        """Whether the inputs this check needs were given."""
        return self.needs <= ctx.inputs

    def title_for(self, ctx: StateContext) -> str:
        """The title with the threshold filled in."""
        return self.title.format(days=ctx.unapplied_days)


def _money(amount: Any, currency: Any) -> str:
    if amount is None or amount is pd.NA or pd.isna(amount):
        return "unknown"
    return format_money(int(amount), str(currency)) if currency else f"{int(amount)} (no currency)"


def _when(value: Any) -> str:
    return (
        "unknown" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")
    )


def _bool(series: pd.Series) -> pd.Series:
    return series.fillna(False).astype(bool)


MIGRATION_CHECKS: tuple[MigrationCheck, ...] = (
    MigrationCheck(
        "no_successor",
        "Active receiver with no bank-transfer successor",
        BLOCKED,
        "The customer still has a pending or chargeable credit transfer receiver (ACH Credit "
        "Transfer) but no cash balance (and no bank-transfer account was found): the customer "
        "was never migrated to Bank Transfers. "
        "Stripe returns money sent to account numbers that were never migrated to the sender.",
        frozenset(),
        lambda t, c: _bool((t["active_receivers"] > 0) & ~t["has_cash_balance"].astype(bool)),
        lambda r, c: (
            f"{int(r['active_receivers'])} active credit transfer receiver(s) and no cash "
            "balance: migrate the customer to Bank Transfers before Sources is switched off."
        ),
    ),
    MigrationCheck(
        "legacy_funds",
        "Funds still on a legacy receiver",
        NEEDS_ACTION,
        "Money received on an ACH Credit Transfer (or other receiver) source and neither charged "
        "nor returned. Reconcile or refund it: once the account is migrated to Bank Transfers, "
        "Stripe sweeps money left unreconciled on a source for more than 45 days to the account "
        "balance on the 15th of each month, away from the customer.",
        frozenset(),
        lambda t, c: _bool(t["legacy_unapplied"] > 0),
        lambda r, c: (
            f"{_money(r['legacy_unapplied'], r['currency'])} unapplied on "
            f"{r['legacy_funds_sources']}."
        ),
    ),
    MigrationCheck(
        "receiver_after_cash",
        "Receiver still receiving after the cash balance started",
        NEEDS_ACTION,
        "A receiver got money after the customer's cash balance was first funded: the customer "
        "still pays to the legacy receiver, so new money lands in two places.",
        frozenset({"cash_transactions", "source_transactions"}),
        lambda t, c: _bool(t["receiver_money_after_cash"] > 0),
        lambda r, c: (
            f"{_money(r['receiver_money_after_cash'], r['currency'])} reached a receiver after the "
            f"cash balance started on {_when(r['first_cash_funded_at'])}."
        ),
    ),
    MigrationCheck(
        "paying_both",
        "Money arriving on both in the same month",
        NEEDS_ACTION,
        "In one calendar month (UTC) money reached both a legacy receiver and the cash balance: "
        "reconcile the two before the month is closed.",
        frozenset({"cash_transactions", "source_transactions"}),
        lambda t, c: _bool(t["months_paying_both"].map(bool)),
        lambda r, c: f"Money arrived on both in {', '.join(r['months_paying_both'])}.",
    ),
    MigrationCheck(
        "swept_to_balance",
        "Receiver money swept to the account balance",
        NEEDS_ACTION,
        "Stripe moved money from a receiver of the customer to the account balance (its monthly "
        "sweep, on the 15th, of money left unreconciled on a source for more than 45 days). It "
        "is still the customer's money, now in yours: refund it, or apply it to what they owe, "
        "and record which.",
        frozenset({"source_transactions"}),
        lambda t, c: _bool(t["swept_to_balance"] > 0),
        lambda r, c: (
            f"{_money(r['swept_to_balance'], r['currency'])} swept to the account balance from "
            f"{r['swept_sources']}."
        ),
    ),
    MigrationCheck(
        "cash_unapplied",
        "Cash balance unapplied for more than {days} days",
        NEEDS_ACTION,
        "Part of the cash balance came in more than the threshold ago and was never applied to a "
        "payment (first in, first out): apply it, or return it to the customer.",
        frozenset({"cash_transactions"}),
        lambda t, c: _bool(t["unapplied_days"] > c.unapplied_days),
        lambda r, c: (
            f"{_money(r['cash_available'], r['currency'])} in the cash balance, the oldest part "
            f"unapplied since {_when(r['oldest_unapplied_at'])} ({int(r['unapplied_days'])} days)."
        ),
    ),
    MigrationCheck(
        "retiring_in_use",
        "Source of a type Stripe is retiring still in use",
        NEEDS_ACTION,
        "A source of a type the Sources API retires can still be charged (a reusable source, or "
        "a receiver other than a credit transfer, such as Multibanco, that is pending or "
        "chargeable): it stops working once Sources is switched off. Move the customer to the "
        "PaymentMethods API, then detach it.",
        frozenset(),
        lambda t, c: _bool(t["retiring_in_use"] > 0),
        lambda r, c: f"Still in use: {r['retiring_in_use_sources']}.",
    ),
    MigrationCheck(
        "successor_number_differs",
        "Bank-transfer account number differs from the receiver's",
        NEEDS_ACTION,
        "The customer's bank-transfer account number is not the one of their ACH Credit Transfer "
        "receiver: senders who still use the old number need the new one.",
        frozenset({"funding"}),
        lambda t, c: _bool(t["successor_matches_receiver"] == False),  # noqa: E712
        lambda r, c: (
            f"Bank transfers go to an account ending {r['successor_account_last4']}, the receiver's "
            "number differs: send the customer the new funding instructions."
        ),
    ),
)
