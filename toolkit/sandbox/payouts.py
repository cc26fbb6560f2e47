"""Stripe's automatic payouts as the sandbox plays them: what leaves the account balance for the
bank, and which balance transactions each payout took.

Stripe does not publish a schedule for a demo account; the sandbox's plausible one: payouts are
automatic and weekly, on Mondays (00:00 UTC), per currency. Each takes every balance transaction
available by then and not yet paid out (refunds and adjustments too) when their sum is positive,
and arrives two days later (``in_transit`` until then). Its own ``payout`` balance transaction
(negative) is listed under ``GET /v1/balance_transactions?payout=po_...`` with the ones it paid
out, so that list sums to 0. Seeded history only: the sandbox's clock pays out nothing more.

>>> from toolkit.sandbox.ledger import Ledger
>>> ledger = Ledger(livemode=False, rng=random.Random(1), sources={}, customers={}, cash=None)
>>> _ = ledger.adjust(2500, "usd", created=1792000000, description="x", category="other_adjustment")
>>> [(p["amount"], p["currency"]) for p in pay_out(ledger, 1793491200)]
[(2500, 'usd')]
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from toolkit.sandbox.objects import rand_id, rand_str

if TYPE_CHECKING:
    from toolkit.sandbox.ledger import Ledger

__all__ = ["pay_out"]

_DAY = 86_400
_WEEK = 7 * _DAY


def pay_out(
    ledger: Ledger, until: int, *, rng: random.Random | None = None
) -> list[dict[str, Any]]:
    """The weekly automatic payouts (Mondays 00:00 UTC) up to ``until`` of everything
    available and not yet paid out (module docstring); returns the new payouts."""
    rng = rng or ledger.rng
    unpaid = sorted(
        (bt for bt in ledger.balance.values() if bt["id"] not in ledger.paid_in),
        key=lambda bt: (bt["available_on"], bt["id"]),
    )
    if not unpaid:
        return []
    first = unpaid[0]["available_on"] - unpaid[0]["available_on"] % _DAY
    monday = first + ((7 - datetime.fromtimestamp(first, UTC).weekday()) % 7) * _DAY
    destination = rand_id(rng, "ba_")
    made: list[dict[str, Any]] = []
    pending: dict[str, list[dict[str, Any]]] = {}
    i = 0
    while monday <= until:
        while i < len(unpaid) and unpaid[i]["available_on"] <= monday:
            pending.setdefault(unpaid[i]["currency"], []).append(unpaid[i])
            i += 1
        for currency in sorted(pending):
            btxs = pending[currency]
            total = sum(bt["net"] for bt in btxs)
            if btxs and total > 0:
                made.append(_payout(ledger, rng, total, currency, monday, btxs, destination))
                pending[currency] = []
        monday += _WEEK
    return made


def _payout(
    ledger: Ledger,
    rng: random.Random,
    total: int,
    currency: str,
    when: int,
    paid: list[dict[str, Any]],
    destination: str,
) -> dict[str, Any]:
    pid = rand_id(rng, "po_")
    own = ledger.book(
        -total,
        currency,
        created=when,
        kind="payout",
        category="payout",
        source=pid,
        description="STRIPE PAYOUT",
        txn_id=rand_id(rng, "txn_"),
    )
    payout = {
        "id": pid,
        "object": "payout",
        "amount": total,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": when + 2 * _DAY,
        "automatic": True,
        "balance_transaction": own["id"],
        "created": when,
        "currency": currency,
        "description": "STRIPE PAYOUT",
        "destination": destination,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": ledger.livemode,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "payout_method": None,
        "reconciliation_status": "completed",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "paid",  # recomputed against the clock when served
        "trace_id": {"status": "supported", "value": rand_str(rng, 15).upper()},
        "type": "bank_account",
    }
    ledger.payouts[pid] = payout
    for bt in [*paid, own]:
        ledger.paid_in[bt["id"]] = pid
    ledger.changed("payouts")
    return payout
