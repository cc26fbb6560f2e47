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

from toolkit.audit.checks import Check, amount_text, as_bool, date_text
from toolkit.fetch.schema import SOURCE_TYPES

__all__ = [
    "BLOCKED",
    "CREDIT_TRANSFER_TYPES",
    "MIGRATION_CHECKS",
    "NEEDS_ACTION",
    "READY",
    "RETIRING_TYPES",
]

READY, NEEDS_ACTION, BLOCKED = "ready", "needs action", "blocked"
#: Source types Stripe retires with the Sources API: its local payment methods. Card sources
#: (card, three_d_secure, card_present) are not named in Stripe's notice and are left out.
#: Receivers whose successor is Bank Transfers (the customer's cash balance).
CREDIT_TRANSFER_TYPES = frozenset({"ach_credit_transfer", "sepa_credit_transfer"})
RETIRING_TYPES = frozenset(SOURCE_TYPES) - {"card", "card_present", "three_d_secure"}


MIGRATION_CHECKS: tuple[Check, ...] = (
    Check(
        "no_successor",
        "Active receiver with no bank-transfer successor",
        "The customer still has a pending or chargeable credit transfer receiver (ACH Credit "
        "Transfer) but no cash balance (and no bank-transfer account was found): the customer "
        "was never migrated to Bank Transfers. "
        "Stripe returns money sent to account numbers that were never migrated to the sender.",
        lambda t, c: as_bool((t["active_receivers"] > 0) & ~t["has_cash_balance"].astype(bool)),
        lambda r, c: (
            f"{int(r['active_receivers'])} active credit transfer receiver(s) and no cash "
            "balance: migrate the customer to Bank Transfers before Sources is switched off."
        ),
        severity=BLOCKED,
    ),
    Check(
        "legacy_funds",
        "Funds still on a legacy receiver",
        "Money received on an ACH Credit Transfer (or other receiver) source and neither charged "
        "nor returned. Reconcile or refund it: once the account is migrated to Bank Transfers, "
        "Stripe sweeps money left unreconciled on a source for more than 45 days to the account "
        "balance on the 15th of each month, away from the customer.",
        lambda t, c: as_bool(t["legacy_unapplied"] > 0),
        lambda r, c: (
            f"{amount_text(r['legacy_unapplied'], r['currency'])} unapplied on "
            f"{r['legacy_funds_sources']}."
        ),
        severity=NEEDS_ACTION,
    ),
    Check(
        "receiver_after_cash",
        "Receiver still receiving after the cash balance started",
        "A receiver got money after the customer's cash balance was first funded: the customer "
        "still pays to the legacy receiver, so new money lands in two places.",
        lambda t, c: as_bool(t["receiver_money_after_cash"] > 0),
        lambda r, c: (
            f"{amount_text(r['receiver_money_after_cash'], r['currency'])} reached a receiver after the "
            f"cash balance started on {date_text(r['first_cash_funded_at'])}."
        ),
        needs=frozenset({"cash_transactions", "source_transactions"}),
        severity=NEEDS_ACTION,
    ),
    Check(
        "paying_both",
        "Money arriving on both in the same month",
        "In one calendar month (UTC) money reached both a legacy receiver and the cash balance: "
        "reconcile the two before the month is closed.",
        lambda t, c: as_bool(t["months_paying_both"].map(bool)),
        lambda r, c: f"Money arrived on both in {', '.join(r['months_paying_both'])}.",
        needs=frozenset({"cash_transactions", "source_transactions"}),
        severity=NEEDS_ACTION,
    ),
    Check(
        "swept_to_balance",
        "Receiver money swept to the account balance",
        "Stripe moved money from a receiver of the customer to the account balance (its monthly "
        "sweep, on the 15th, of money left unreconciled on a source for more than 45 days). It "
        "is still the customer's money, now in yours: refund it, or apply it to what they owe, "
        "and record which.",
        lambda t, c: as_bool(t["swept_to_balance"] > 0),
        lambda r, c: (
            f"{amount_text(r['swept_to_balance'], r['currency'])} swept to the account balance from "
            f"{r['swept_sources']}."
        ),
        needs=frozenset({"sweeps"}),
        severity=NEEDS_ACTION,
    ),
    Check(
        "cash_unapplied",
        "Cash balance unapplied for more than {days} days",
        "Part of the cash balance came in more than the threshold ago and was never applied to a "
        "payment (first in, first out): apply it, or return it to the customer.",
        lambda t, c: as_bool(t["unapplied_days"] > c.days),
        lambda r, c: (
            f"{amount_text(r['cash_available'], r['currency'])} in the cash balance, the oldest part "
            f"unapplied since {date_text(r['oldest_unapplied_at'])} ({int(r['unapplied_days'])} days)."
        ),
        needs=frozenset({"cash_transactions"}),
        severity=NEEDS_ACTION,
    ),
    Check(
        "retiring_in_use",
        "Source of a type Stripe is retiring still in use",
        "A source of a type the Sources API retires can still be charged (a reusable source, or "
        "a receiver other than a credit transfer, such as Multibanco, that is pending or "
        "chargeable): it stops working once Sources is switched off. Move the customer to the "
        "PaymentMethods API, then detach it.",
        lambda t, c: as_bool(t["retiring_in_use"] > 0),
        lambda r, c: f"Still in use: {r['retiring_in_use_sources']}.",
        severity=NEEDS_ACTION,
    ),
    Check(
        "successor_number_differs",
        "Bank-transfer account number differs from the receiver's",
        "The customer's bank-transfer account number is not the one of their ACH Credit Transfer "
        "receiver: senders who still use the old number need the new one.",
        lambda t, c: as_bool(t["successor_matches_receiver"] == False),  # noqa: E712
        lambda r, c: (
            f"Bank transfers go to an account ending {r['successor_account_last4']}, the receiver's "
            "number differs: send the customer the new funding instructions."
        ),
        needs=frozenset({"funding"}),
        severity=NEEDS_ACTION,
    ),
    Check(
        "no_payment_method",
        "Source still paid with, and no payment method replaces it",
        "The customer still pays with a source of a type Stripe retires (a pending or "
        "chargeable ACH Debit, SEPA Debit, Multibanco or credit transfer source) and has no "
        "payment method of the type that replaces it (us_bank_account, sepa_debit, multibanco, "
        "customer_balance). Their payments stop when Sources is switched off: collect the new "
        "payment method, make it the default, then detach the source. A card source the "
        "payment methods list shows as a card is the source itself, not its successor.",
        lambda t, c: as_bool(t["without_successor"] != ""),
        lambda r, c: f"No payment method replaces {r['without_successor']}.",
        needs=frozenset({"payment_methods"}),
        severity=NEEDS_ACTION,
    ),
    Check(
        "wired_to_sources",
        "Bill still wired to Sources",
        "An open invoice or a live subscription would collect through a source (its "
        "default_source) or still offers ach_credit_transfer in its payment method types: "
        "point it at the customer's successor before Sources is switched off.",
        lambda t, c: as_bool(t["wired_bills"] != ""),
        lambda r, c: f"Wired to Sources: {r['wired_bills']}.",
        needs=frozenset({"bills"}),
        severity=NEEDS_ACTION,
    ),
    Check(
        "tie_out_gap",
        "Receiver money that does not tie out",
        "What a receiver counts as charged is not explained by the charges made from it and the "
        "money the migration moved into the cash balance: a charge is missing from the account's "
        "records (or more charges name the receiver than it counts). The Tie-out sheet names it.",
        lambda t, c: as_bool(t["tie_out_gap"] != 0),
        lambda r, c: (
            f"{amount_text(r['tie_out_gap'], r['currency'])} of receiver money is not traced "
            "to a charge or a move (see the Tie-out sheet)."
        ),
        needs=frozenset({"ledger"}),
        severity=NEEDS_ACTION,
    ),
    Check(
        "refunded_after_charge",
        "Receiver money charged, then refunded to the sender",
        "Money a receiver received was charged and later refunded: it went back to the sender, "
        "not to an invoice. Record the refund against what the customer owes.",
        lambda t, c: as_bool(t["refunded_after_charge"] > 0),
        lambda r, c: (
            f"{amount_text(r['refunded_after_charge'], r['currency'])} charged from a receiver "
            "was refunded (see the Tie-out sheet)."
        ),
        needs=frozenset({"ledger"}),
        severity=NEEDS_ACTION,
    ),
)
