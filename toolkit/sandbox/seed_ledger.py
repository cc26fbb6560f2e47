"""The seeded ledger: the charges each receiver's ``amount_charged`` counts, their balance
transactions and the payouts that took them, and the planted cases that do not tie out.

Drawn from its own random stream (``seed_key + ":ledger"``) after the sources, the bills and the
cash balances are seeded (toolkit.sandbox.seed, toolkit.sandbox.seed_cash), so nothing seeded
before changes. For every receiver, the money it counts as charged, less what a migration moved
into the cash balance, is one to three charges made from it after the money arrived (before the
migration, for a migrated one); the weekly payouts up to 2026-11-01 take everything available
(toolkit.sandbox.payouts). The cash balance moves that touch the account balance were booked as the
cash balances were seeded.

Planted (``Ledger.planted``, receiver source ids, two each; chosen among receivers of customers
with no other planted state, not migrated):

- ``charge_missing``: the receiver counts a charge the account does not have (its newest);
- ``charge_refunded``: its newest charge was refunded in full, the money sent back to the sender:
  a ``refund`` balance transaction;
- ``swept``: none at seeding; the monthly sweep adds every receiver it takes money from
  (toolkit.sandbox.ach_migration).

It also names the seeded bills and payment methods worth finding (``PaymentMethodBook.planted``
and ``Billing.planted``), from the data as seeded and migrated:

- ``no_successor`` / ``successor``: customers with an active source of a type Stripe retires
  (toolkit.sandbox.payment_methods.SUCCESSOR_OF) in their list, without / with a payment method
  of a type that replaces each of them; ``default_successor``: customers whose
  ``invoice_settings.default_payment_method`` is one of those;
- ``open_ach_credit_transfer``: open invoices whose ``payment_method_types`` still offer
  ``ach_credit_transfer``; ``open_on_source`` / ``subscription_on_source``: open invoices /
  live subscriptions whose ``default_source`` is a source (``src_...``).

>>> LEDGER_PLANTED
('charge_missing', 'charge_refunded', 'swept')
"""

from __future__ import annotations

import gc
import random

from toolkit.sandbox.billing import LIVE_SUBSCRIPTION
from toolkit.sandbox.ledger import LEDGER_PLANTED
from toolkit.sandbox.payment_methods import SUCCESSOR_OF
from toolkit.sandbox.payouts import pay_out
from toolkit.sandbox.seed_data import split_total
from toolkit.sandbox.store import SANDBOX_NOW, DataSet

__all__ = ["LEDGER_PLANTED", "seed_ledger"]

_DAY = 86_400
_PER_PLANT = 2


def _moved(ds: DataSet) -> dict[str, tuple[int, int]]:
    """Source id -> (money a migration moved into a cash balance, when)."""
    found: dict[str, tuple[int, int]] = {}
    for txns in ds.cash.txns.values():
        for txn in txns:
            ref = (txn.get("funded") or {}).get("bank_transfer", {}).get("reference")
            if txn["type"] == "funded" and ref in ds.sources:
                amount, _ = found.get(ref, (0, 0))
                found[ref] = (amount + txn["net_amount"], txn["created"])
    return found


def _clean_customers(ds: DataSet) -> set[str]:
    """Customers with no planted receiver, no planted cash state and no migration."""
    busy = {str(ds.sources[s].get("customer")) for ids in ds.planted.values() for s in ids}
    busy |= {c for ids in ds.cash.planted.values() for c in ids} | ds.cash.migrated
    return set(ds.customers) - busy


def seed_ledger(ds: DataSet, seed_key: str) -> None:
    """Charges, refunds and payouts for ``ds``, and the planted cases (module docstring)."""
    enabled = gc.isenabled()
    gc.disable()  # thousands of small dicts: as in toolkit.sandbox.seed
    try:
        _seed(ds, seed_key)
    finally:
        if enabled:
            gc.enable()


def _seed(ds: DataSet, seed_key: str) -> None:
    rng = random.Random(seed_key + ":ledger")
    ledger = ds.ledger
    moved = _moved(ds)
    owed: dict[str, int] = {}
    for sid, src in ds.sources.items():
        if src["flow"] == "receiver":
            left = src["receiver"]["amount_charged"] - moved.get(sid, (0, 0))[0]
            if left > 0:
                owed[sid] = left
    clean = _clean_customers(ds)
    pool = sorted(
        sid
        for sid in owed
        if ds.sources[sid].get("customer") in clean and sid not in ds.cash.fed_by
    )
    rng.shuffle(pool)
    plants = {
        name: pool[i * _PER_PLANT : (i + 1) * _PER_PLANT]
        for i, name in enumerate(LEDGER_PLANTED[:2])
    }
    missing = set(plants["charge_missing"])
    for sid, amount in owed.items():
        src = ds.sources[sid]
        deadline = moved[sid][1] if sid in moved else SANDBOX_NOW
        arrived = sorted(
            t["created"]
            for t in ds.transactions.get(sid, ())
            if t["status"] == "succeeded" and t["amount"] > 0
        ) or [src["created"]]
        parts = split_total(rng, amount, rng.choice((1, 1, 2, 3)))
        if sid in missing:
            parts = parts[:-1]  # the newest charge is not there
        for k, part in enumerate(parts):
            base = arrived[min(k, len(arrived) - 1)]
            when = min(base + rng.randint(3600, 3 * _DAY), deadline - 60 * (len(parts) - k))
            ledger.charge(
                part,
                src.get("currency") or "usd",
                created=max(when, src["created"] + 1),
                customer=src.get("customer"),
                source=sid,
                rng=rng,
            )
    for sid in plants["charge_refunded"]:
        charge = ledger.charges[ledger.by_source[sid][-1]]
        when = min(charge["created"] + rng.randint(2, 20) * _DAY, SANDBOX_NOW - 3600)
        ledger.refund(
            charge, charge["amount"], charge["currency"], created=when,
            customer=charge["customer"], rng=rng,
        )  # fmt: skip
    for name, ids in plants.items():
        ledger.planted[name] = list(ids)
    pay_out(ledger, SANDBOX_NOW, rng=rng)
    _plant_bills(ds)


def _plant_bills(ds: DataSet) -> None:
    pms, billing = ds.payment_methods, ds.billing
    for name in ("no_successor", "successor", "default_successor"):
        pms.planted[name] = []
    for cid, cus in ds.customers.items():
        retiring = {
            ds.sources[p]["type"]
            for p in ds.items.get(cid, ())
            if p in ds.sources
            and ds.sources[p]["type"] in SUCCESSOR_OF
            and ds.sources[p]["status"] in ("pending", "chargeable")
        }
        if not retiring:
            continue
        has = {pms.objects[p]["type"] for p in pms.by_customer.get(cid, ())}
        covered = all(set(SUCCESSOR_OF[kind]) & has for kind in sorted(retiring))
        pms.planted["successor" if covered else "no_successor"].append(cid)
        default = cus["invoice_settings"]["default_payment_method"]
        successors = {t for kind in retiring for t in SUCCESSOR_OF[kind]}
        if default in pms.objects and pms.objects[default]["type"] in successors:
            pms.planted["default_successor"].append(cid)
    billing.planted["open_ach_credit_transfer"] = [
        i["id"]
        for i in billing.invoices.values()
        if i["status"] == "open"
        and "ach_credit_transfer" in (i["payment_settings"]["payment_method_types"] or ())
    ]
    billing.planted["open_on_source"] = [
        i["id"]
        for i in billing.invoices.values()
        if i["status"] == "open" and str(i["default_source"] or "").startswith("src_")
    ]
    billing.planted["subscription_on_source"] = [
        s["id"]
        for s in billing.subscriptions.values()
        if s["status"] in LIVE_SUBSCRIPTION and str(s["default_source"] or "").startswith("src_")
    ]
