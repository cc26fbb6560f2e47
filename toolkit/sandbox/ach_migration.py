"""Stripe's automatic migration of ACH Credit Transfer to Bank Transfers as the sandbox plays it:
what a migration does to a customer's sources, and the monthly sweep of money left on sources.

Stripe's page ("Automatic migration to Bank Transfers", docs.stripe.com/payments/customer-balance/
ach-ct-automigration) says: the ACH Credit Transfer payment method is removed and replaced by the
customer's USD cash balance; unreconciled funds move into the cash balance; the source events
(``source.transaction.created``, ``source.chargeable``, ``customer.source.created``,
``source.refund_attributes_required``) stop; the bank details stay the same. Separately, money left
unreconciled on a source for more than 45 days is swept to the account balance every month, on
the 15th.

What the page leaves open, and the plausible choice made here:

- Removed: every ACH Credit Transfer source in the customer's list of payment sources leaves the
  list as a detach takes it: it becomes ``consumed`` (still retrievable by id, its ``customer``
  kept, never chargeable or attachable again); the customer's default source moves on. No event
  is recorded: Stripe documents none, and the source events stop.
- Moved: the money left on a removed source (received - charged - returned) lands in the USD
  cash balance as a ``funded`` transaction, a ``us_bank_transfer`` whose ``reference`` is the
  source's id and whose sender is the source's owner, dated at the migration. On the source it
  shows in ``receiver.amount_charged``, where Stripe's schema counts money that left a receiver
  other than back to the sender ("funds ... we are unable to refund ... show up in
  amount_charged"): the consumed source keeps received == charged + returned, and no source
  transaction is added (a negative one reads as the customer's bank reversing a transfer).
- Bank details: money sent later to a migrated source's account number lands in the cash balance
  (``box.deposit`` of a migrated source is a bank transfer, ``box.reverse`` a reversed funding).
- Successor and billing: the customer gets a ``customer_balance`` payment method (their
  successor, toolkit.sandbox.payment_methods) unless they have one; their open invoices and live
  subscriptions offer ``customer_balance`` where they offered ``ach_credit_transfer`` (as the page
  says), and a ``default_source`` naming a removed source is cleared (toolkit.sandbox.billing).
- Sweep: on the 15th at 00:00 UTC, in a data set that has migrated customers (the account is
  migrating), every ACH Credit Transfer source (attached or not, whatever its status) gives up the
  part of its unreconciled money that arrived more than 45 days before (first in, first out: the
  newest money stays). It shows on the source as a negative source transaction dated the 15th,
  ``amount_received`` down by it, the way Stripe shows money taken from a receiver's balance (a
  reversal "applied from the source balance"); no event. Had Stripe counted the sweep in
  ``amount_charged`` instead, no reader could tell it from a charge. The money reaches the account
  balance as one balance transaction per source (Stripe does not document its type; the
  sandbox's choice: ``type: adjustment``, ``reporting_category: other_adjustment``, ``source:
  null``, a ``description`` naming the source, available that day: toolkit.sandbox.ledger),
  named in the sweep's record (``balance_transaction``). The sweeps run as the sandbox's clock
  passes a 15th (``advance_clock``); the seeded history has none, the first one is on 2026-11-15.

>>> datetime.fromtimestamp(sweep_days(1793491200, 1793491200 + 50 * 86400)[0], UTC).isoformat()
'2026-11-15T00:00:00+00:00'
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from toolkit.sandbox.source_objects import make_transaction
from toolkit.sandbox.store import SANDBOX_NOW, DataSet

__all__ = ["SWEEP_AGE", "SWEEP_DAY", "migrate_sources", "sweep_days", "sweep_until"]

SWEEP_DAY = 15  # the day of the month Stripe sweeps
SWEEP_AGE = 45 * 86_400  # money unreconciled longer than this is swept
_ACH = "ach_credit_transfer"


def _left(src: dict[str, Any]) -> int:
    rcv = src["receiver"]
    return int(rcv["amount_received"] - rcv["amount_charged"] - rcv["amount_returned"])


def _take(ds: DataSet, src: dict[str, Any], amount: int, when: int) -> dict[str, Any]:
    """Swept money leaves the receiver: a negative source transaction dated ``when``."""
    txn = make_transaction(ds.rng, src, -amount, created=when)
    txns = ds.transactions.setdefault(src["id"], [])
    txns.append(txn)
    txns.sort(key=lambda t: (t["created"], t["id"]), reverse=True)
    src["receiver"]["amount_received"] -= amount
    ds.touch_source(src)
    return txn


def migrate_sources(ds: DataSet, cid: str, *, when: int) -> list[dict[str, Any]]:
    """Migrate customer ``cid`` of ``ds`` to Bank Transfers at ``when`` (see the module
    docstring): their ACH Credit Transfer sources leave their list, the money on them moves into
    the USD cash balance, the newest one's bank details become the cash balance's. Returns the
    ``funded`` cash balance transactions of the money moved (oldest first)."""
    items = ds.items.get(cid, [])
    receivers = [ds.sources[p] for p in items if p in ds.sources and ds.sources[p]["type"] == _ACH]
    ds.cash.migrate(cid, receivers[0] if receivers else None)
    moved = []
    for src in receivers:
        left = _left(src)
        if left > 0:
            owner = (src.get("owner") or {}).get("name") or ds.customers[cid].get("name") or ""
            currency = src.get("currency") or "usd"
            moved.append(
                ds.cash.fund(
                    cid, left, currency, created=when, sender=str(owner), reference=src["id"]
                )
            )
            src["receiver"]["amount_charged"] += left
        src["status"] = "consumed"  # as a detach leaves it
        items.remove(src["id"])
        ds.cash.fed_by[src["id"]] = cid
        ds.touch_source(src)
    if receivers:
        cus = ds.customers[cid]
        if cus.get("default_source") not in items:
            cus["default_source"] = items[0] if items else None
        ds.touch_customer(cid)
    if not ds.payment_methods.of_type(cid, "customer_balance"):
        ds.payment_methods.add("customer_balance", customer=cid, created=when)
    ds.billing.migrate(cid, [src["id"] for src in receivers])
    return moved


def sweep_days(after: float, until: float) -> list[int]:
    """The sweep instants (the 15th, 00:00 UTC) in ``(after, until]``, oldest first."""
    found = []
    day = datetime.fromtimestamp(int(after), UTC).replace(
        day=SWEEP_DAY, hour=0, minute=0, second=0, microsecond=0
    )
    while day.timestamp() <= until:
        if day.timestamp() > after:
            found.append(int(day.timestamp()))
        year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
        day = day.replace(year=year, month=month)
    return found


def _sweep(ds: DataSet, day: int) -> list[dict[str, Any]]:
    """One monthly sweep of ``ds`` on ``day``: what it took, per source."""
    taken = []
    for src in ds.sources.values():
        if src["type"] != _ACH:
            continue
        left = _left(src)
        if left <= 0:
            continue
        recent = sum(
            t["amount"]
            for t in ds.transactions.get(src["id"], ())
            if t["status"] == "succeeded" and t["amount"] > 0 and t["created"] > day - SWEEP_AGE
        )
        amount = left - min(left, recent)
        if amount > 0:
            txn = _take(ds, src, amount, day)
            taken.append(ds.ledger.sweep(src, amount, day, txn["id"]))
    return taken


def sweep_until(ds: DataSet, now: float) -> list[dict[str, Any]]:
    """Run the sweeps of every 15th since the last one run (or the data clock's start) up to
    ``now``, if ``ds`` has migrated customers; returns what they took (also kept in
    ``ds.cash.sweeps``)."""
    since = max(ds.cash.swept_through, SANDBOX_NOW)
    taken: list[dict[str, Any]] = []
    if ds.cash.migrated:
        for day in sweep_days(since, now):
            taken += _sweep(ds, day)
    ds.cash.swept_through = max(since, int(now))
    ds.cash.sweeps += taken
    return taken
