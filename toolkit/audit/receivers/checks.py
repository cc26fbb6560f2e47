"""The named checks of the receiver audit, each with a plain-language explanation.

Each check looks at the per-receiver table that :func:`toolkit.audit.audit_receivers` builds
(one row per receiver source, amounts in minor units) and says which rows it flags, with a short
sentence per flagged row. Checks that need source transactions run only when transactions are given.

Example::

    from toolkit.audit.receivers.checks import CHECKS
    for check in CHECKS:
        print(check.name, "-", check.title)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from toolkit.audit.checks import Check, CheckContext, amount_text, as_bool

__all__ = ["CHECKS", "TRANSACTIONS", "check_names"]

#: The input the reconciliation checks need: the receivers' source transactions.
TRANSACTIONS = "transactions"
_NEEDS = frozenset({TRANSACTIONS})


def _funds_on(status: str) -> Callable[[pd.DataFrame, CheckContext], pd.Series]:
    def flags(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
        return as_bool((t["status"] == status) & (t["unapplied"] > 0))

    return flags


def _funds_detail(status: str) -> Callable[[Mapping[str, Any], CheckContext], str]:
    def detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
        return (
            f"{amount_text(row['unapplied'], row['currency'])} received but neither charged nor "
            f"returned, on a {status} source."
        )

    return detail


def _over_applied(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
    return as_bool((t["charged"] + t["returned"]) > t["received"])


def _over_applied_detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
    cur = row["currency"]
    return (
        f"Charged {amount_text(row['charged'], cur)} + returned {amount_text(row['returned'], cur)} "
        f"is more than the {amount_text(row['received'], cur)} received."
    )


def _overpaid_consumed(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
    return as_bool((t["status"] == "consumed") & (t["received"] != t["charged"] + t["returned"]))


def _overpaid_detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
    cur = row["currency"]
    return (
        f"Received {amount_text(row['received'], cur)}, but charged + returned is "
        f"{amount_text(row['charged'] + row['returned'], cur)} "
        f"(difference {amount_text(row['unapplied'], cur)})."
    )


def _refund_attributes_missing(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
    status = t["refund_attributes_status"].astype("object")
    missing = status.isna() | status.isin(["missing", ""])
    return as_bool((t["returned"] > 0) & missing)


def _refund_detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
    return (
        f"{amount_text(row['returned'], row['currency'])} returned while the customer's refund "
        "details are recorded as missing."
    )


def _stale_pending(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
    return as_bool((t["status"] == "pending") & (t["age_days"] > ctx.days))


def _stale_detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
    held = row["unapplied"]
    if held is not pd.NA and held is not None and held > 0:
        holding = f"while holding {amount_text(held, row['currency'])} that was never applied"
    else:
        holding = "and nothing has been received"
    return f"Pending for {row['age_days']} days {holding} (limit {ctx.days} days)."


def _transactions_mismatch(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
    return as_bool(t["transactions_total"] != t["received"])


def _mismatch_detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
    cur = row["currency"]
    return (
        f"Succeeded transactions add up to {amount_text(row['transactions_total'], cur)}, "
        f"but Stripe reports {amount_text(row['received'], cur)} received."
    )


def _negative_reversal(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
    return as_bool(t["reversals"] > 0)


def _reversal_detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
    count = int(row["reversals"])
    noun = "transaction" if count == 1 else "transactions"
    return (
        f"{count} negative {noun} (reversals) totalling "
        f"{amount_text(row['reversals_total'], row['currency'])}."
    )


def _currency_mismatch(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
    return as_bool(t["other_currency_transactions"] > 0)


def _currency_detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
    count = int(row["other_currency_transactions"])
    noun = "transaction is" if count == 1 else "transactions are"
    others = row["other_currencies"] or "another currency"
    return f"{count} {noun} in {others.upper()}, the source is in {str(row['currency']).upper()}."


def _receiver_missing(t: pd.DataFrame, ctx: CheckContext) -> pd.Series:
    return ~t["has_receiver"].astype(bool)


def _receiver_missing_detail(row: Mapping[str, Any], ctx: CheckContext) -> str:
    return "No received, charged or returned figures came with this receiver source."


CHECKS: tuple[Check, ...] = (
    Check(
        "receiver_missing",
        "Receiver figures missing",
        "The source collects bank transfers (a receiver), but Stripe gave no figures for what it "
        "received, charged or returned, so its balance cannot be checked. Open it in the Stripe "
        "Dashboard to see what it holds.",
        _receiver_missing,
        _receiver_missing_detail,
    ),
    Check(
        "funds_on_consumed",
        "Unapplied funds on a consumed source",
        "The source has been used up (consumed), yet it still holds money the customer sent that "
        "was neither charged nor returned. That money belongs to the customer until it is applied "
        "to an invoice or sent back.",
        _funds_on("consumed"),
        _funds_detail("consumed"),
    ),
    Check(
        "funds_on_canceled",
        "Unapplied funds on a canceled source",
        "The source was canceled while it still holds money the customer sent that was neither "
        "charged nor returned. The money has to be returned to the customer.",
        _funds_on("canceled"),
        _funds_detail("canceled"),
    ),
    Check(
        "funds_on_failed",
        "Unapplied funds on a failed source",
        "The source failed while it still holds money the customer sent that was neither charged "
        "nor returned. The money has to be returned to the customer.",
        _funds_on("failed"),
        _funds_detail("failed"),
    ),
    Check(
        "over_applied",
        "More charged and returned than received",
        "The amounts charged and returned add up to more than the customer actually sent. The "
        "books show money going out that never came in; ask Stripe to confirm the figures.",
        _over_applied,
        _over_applied_detail,
    ),
    Check(
        "overpaid_consumed",
        "Consumed source does not balance (customer overpaid)",
        "Once a source is consumed, everything it received should have been charged or returned. "
        "Here the amount received differs from charged plus returned, which usually means the "
        "customer sent more than was due and the excess was never dealt with.",
        _overpaid_consumed,
        _overpaid_detail,
    ),
    Check(
        "refund_attributes_missing",
        "Returned funds without refund details",
        "Money was returned to the customer, but the details of where to send it back (the "
        "customer's refund information) are recorded as missing. Confirm the refund actually "
        "reached the customer.",
        _refund_attributes_missing,
        _refund_detail,
    ),
    Check(
        "stale_pending",
        "Pending for more than {days} days",
        "The source was opened more than {days} days before the audit date and is still "
        "pending. A receiver normally becomes chargeable as soon as the customer's transfer "
        "arrives, so either the customer never paid (follow up, or cancel the source) or money "
        "sits on it unapplied (apply it to an invoice or return it); the detail says which.",
        _stale_pending,
        _stale_detail,
    ),
    Check(
        "transactions_mismatch",
        "Transactions do not add up to the amount received",
        "The individual transfers recorded for the source (succeeded ones in the source's "
        "currency, with reversals subtracted) do not add up to the total Stripe reports as "
        "received. One of the two is incomplete or wrong.",
        _transactions_mismatch,
        _mismatch_detail,
        _NEEDS,
    ),
    Check(
        "negative_reversal",
        "Reversed transfer (negative transaction)",
        "A transfer into the source was later taken back by the bank: a transaction with a "
        "negative amount. Check that the customer was not credited for money that was reversed.",
        _negative_reversal,
        _reversal_detail,
        _NEEDS,
    ),
    Check(
        "currency_mismatch_txn",
        "Transaction in another currency than its source",
        "A transaction on the source is in a different currency than the source itself. Amounts "
        "in different currencies cannot be added together, so this source cannot be reconciled "
        "until the transaction is explained.",
        _currency_mismatch,
        _currency_detail,
        _NEEDS,
    ),
)


def check_names() -> list[str]:
    """The names of every check, in the order they run: ``check_names()[0] == 'receiver_missing'``."""
    return [check.name for check in CHECKS]
