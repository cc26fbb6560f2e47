"""Deterministic demo data: customers, payment sources, receivers with money, planted anomalies.

Everything comes from ``random.Random(seed_key)`` and SANDBOX_NOW (never the wall clock), so a
seed gives the same ids, amounts and timestamps on every machine. Example::

    ds = DataSet(livemode=False, account=None, rng_seed="7:runtime")
    seed_dataset(ds, "7", customers=300)
    len(ds.sources)  # about a thousand
"""

from __future__ import annotations

import gc
import random
from typing import Any

from toolkit.sandbox.objects import (
    FIRST,
    LAST,
    make_customer,
    make_owner,
    rand_id,
    random_address,
)
from toolkit.sandbox.seed_billing import seed_billing
from toolkit.sandbox.seed_data import (
    DAY,
    HISTORY,
    PENDING_WINDOW,
    PLANTED_NAMES,
    SHARED_EMAILS,
    SINGLE_USE_CURRENCIES,
    SMALL_COUNTS,
    SMALL_WEIGHTS,
    STALE_AGE,
    STATUS_WEIGHTS,
    TYPES,
    WEIGHTS,
    random_amount,
    random_metadata,
    random_received,
    split_total,
)
from toolkit.sandbox.source_objects import (
    make_bank_account,
    make_card,
    make_source,
    make_transaction,
)
from toolkit.sandbox.store import SANDBOX_NOW, DataSet


class _Seeder:
    def __init__(self, ds: DataSet, rng: random.Random) -> None:
        self.ds = ds
        self.rng = rng
        self.created = ds.created_at  # payment source id -> created (cards have none)
        self.counter = 0

    def customer(self) -> dict[str, Any]:
        rng = self.rng
        cid = rand_id(rng, "cus_", 14)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        name = None if rng.random() < 0.05 else f"{first} {last}"
        roll = rng.random()
        if roll < 0.06:
            email = None
        elif roll < 0.10:
            email = rng.choice(SHARED_EMAILS)
        else:
            email = f"{first}.{last}{rng.randint(1, 9999)}@example.com".lower()
        self.counter += 1
        cus = make_customer(
            cid,
            created=SANDBOX_NOW - rng.randint(2 * DAY, HISTORY),
            livemode=self.ds.livemode,
            name=name,
            email=email,
            metadata=random_metadata(rng, self.counter) if rng.random() < 0.5 else {},
            address=random_address(rng) if rng.random() < 0.4 else None,
            currency=rng.choice((None, "usd", "usd", "eur")),
        )
        self.ds.customers[cid] = cus
        self.ds.items[cid] = []
        return cus

    def when(self, after: int, *, within: int | None = None) -> int:
        """A time between ``after`` and SANDBOX_NOW (or within the last ``within`` seconds)."""
        lo = after + 60
        if within is not None:
            lo = max(lo, SANDBOX_NOW - within)
        return self.rng.randint(min(lo, SANDBOX_NOW - 60), SANDBOX_NOW - 60)

    def source(self, cus: dict[str, Any] | None, kind: str | None = None) -> dict[str, Any]:
        rng = self.rng
        kind = kind or rng.choices(TYPES, WEIGHTS)[0]
        after = cus["created"] if cus else SANDBOX_NOW - HISTORY
        if kind in ("ach_credit_transfer", "multibanco"):
            group = "receiver"
        elif kind in ("card", "sepa_debit", "ach_debit"):
            group = kind
        else:
            group = "single_use"
        statuses, weights = STATUS_WEIGHTS[group]
        status = rng.choices(statuses, weights)[0]
        currency: str | None = None
        amount = None
        if kind in ("ach_credit_transfer", "ach_debit"):
            currency = "usd"
        elif kind in (
            "sepa_debit",
            "multibanco",
            "ideal",
            "bancontact",
            "sofort",
            "giropay",
            "eps",
        ):
            currency = "eur"
        if group == "single_use":
            currency = rng.choice(SINGLE_USE_CURRENCIES.get(kind, ("eur",)))
            amount = random_amount(rng, currency)
        if group == "receiver" and status == "pending":
            created = self.when(after, within=PENDING_WINDOW)
        else:
            created = self.when(after)
        self.counter += 1
        name = cus["name"] if cus else None
        email = cus["email"] if cus else None
        owner = make_owner(rng, name, email, address=rng.random() < 0.6)
        src = make_source(
            rng,
            kind,
            created=created,
            livemode=self.ds.livemode,
            status=status,
            currency=currency,
            amount=amount,
            owner=owner,
            metadata=random_metadata(rng, self.counter),
            statement_descriptor=rng.choice((None, None, None, "ACME CORP", "GLOBEX INV")),
            customer=cus["id"] if cus else None,
        )
        if group == "receiver":
            self.fund(src)
        self.ds.sources[src["id"]] = src
        self.created[src["id"]] = created
        return src

    def fund(self, src: dict[str, Any]) -> None:
        """Consistent receiver amounts and transactions for the source's status."""
        rng = self.rng
        rcv = src["receiver"]
        status = src["status"]
        received = charged = returned = 0
        if status == "chargeable":
            received = random_received(rng)
            charged = rng.choice((0, 0, received // rng.randint(2, 5)))
        elif status == "consumed":
            received = 0 if rng.random() < 0.1 else random_received(rng)
            if received and rng.random() < 0.2:
                returned = rng.randint(1, received)
            charged = received - returned
        elif status == "canceled" and rng.random() < 0.3:
            received = returned = random_received(rng)
        rcv["amount_received"] = received
        rcv["amount_charged"] = charged
        rcv["amount_returned"] = returned
        rcv["refund_attributes_method"] = rng.choice(("email", "email", "manual", "none"))
        if returned:
            rcv["refund_attributes_status"] = "available"
            if rcv["refund_attributes_method"] == "none":
                rcv["refund_attributes_method"] = "email"
        else:
            rcv["refund_attributes_status"] = rng.choice(("missing", "requested", "available"))
        self.transactions(src, split_total(rng, received, rng.choice((1, 1, 2, 2, 3, 4))))
        if received and rng.random() < 0.02:
            self.transactions(
                src, [rng.randint(100, 50_000)], status=rng.choice(("failed", "pending"))
            )

    def transactions(
        self,
        src: dict[str, Any],
        amounts: list[int],
        *,
        status: str = "succeeded",
        currency: str | None = None,
    ) -> None:
        txns = self.ds.transactions.setdefault(src["id"], [])
        for amount in amounts:
            if amount == 0:
                continue
            when = self.when(src["created"])
            txns.append(
                make_transaction(
                    self.rng, src, amount, created=when, status=status, currency=currency
                )
            )
        txns.sort(key=lambda t: (t["created"], t["id"]), reverse=True)

    def attach(self, cus: dict[str, Any], pid: str) -> None:
        self.ds.items[cus["id"]].append(pid)

    def other(self, cus: dict[str, Any]) -> None:
        """A legacy card or bank account in the customer's payment sources."""
        rng = self.rng
        maker = make_card if rng.random() < 0.67 else make_bank_account
        obj = maker(rng, cus["id"], name=cus["name"], metadata={})
        self.ds.cards[obj["id"]] = obj
        self.created[obj["id"]] = self.when(cus["created"])
        self.attach(cus, obj["id"])

    def planted(self, name: str, cus: dict[str, Any] | None) -> dict[str, Any]:
        rng = self.rng
        status = {
            "overpaid_consumed": "consumed",
            "funds_on_consumed": "consumed",
            "funds_on_canceled": "canceled",
            "refund_attributes_missing": "consumed",
            "stale_pending": "pending",
        }.get(name, "chargeable")
        after = cus["created"] if cus else SANDBOX_NOW - HISTORY
        if name == "stale_pending":
            created = rng.randint(
                min(after + 60, SANDBOX_NOW - STALE_AGE - DAY), SANDBOX_NOW - STALE_AGE
            )
        else:
            created = self.when(after)
        src = make_source(
            rng,
            "ach_credit_transfer",
            created=created,
            livemode=self.ds.livemode,
            status=status,
            currency="usd",
            owner=make_owner(rng, cus["name"] if cus else None, cus["email"] if cus else None),
            metadata={},
            customer=cus["id"] if cus else None,
        )
        rcv = src["receiver"]
        received = random_received(rng) + 10_000
        charged = returned = 0
        amounts = split_total(rng, received, rng.choice((1, 2, 3)))
        if name == "overpaid_consumed":
            charged = received - rng.randint(1, received // 4)
        elif name == "negative_reversal":
            reversal = rng.randint(100, received // 2)
            amounts = [*split_total(rng, received + reversal, 2), -reversal]
        elif name == "transactions_mismatch":
            amounts = [*amounts[:-1], amounts[-1] + rng.choice((-1, 1)) * rng.randint(100, 5000)]
        elif name == "refund_attributes_missing":
            returned = rng.randint(1, received)
            charged = received - returned
        elif name == "stale_pending":
            received = 0
            amounts = []
        elif name == "currency_mismatch_txn" and len(amounts) == 1:
            amounts = split_total(rng, received, 2)
        rcv["amount_received"] = received
        rcv["amount_charged"] = charged
        rcv["amount_returned"] = returned
        rcv["refund_attributes_method"] = "email"
        rcv["refund_attributes_status"] = (
            "missing"
            if name == "refund_attributes_missing"
            else ("available" if returned else "missing")
        )
        if name == "currency_mismatch_txn":
            self.transactions(src, amounts[:-1])
            self.transactions(src, amounts[-1:], currency="eur")
        else:
            self.transactions(src, amounts)
        self.ds.sources[src["id"]] = src
        self.created[src["id"]] = created
        return src


def seed_dataset(ds: DataSet, seed_key: str, customers: int) -> None:
    """Fill ``ds`` with ``customers`` customers and about 3.5 payment sources each.

    A few customers have more than 100 payment sources, about 5% more than 10; some sources
    were detached earlier (consumed, reachable by id only), a few were never attached.
    """
    enabled = gc.isenabled()
    gc.disable()  # tens of thousands of small dicts: the collector would double the time
    try:
        _seed(ds, seed_key, customers)
    finally:
        if enabled:
            gc.enable()


def _seed(ds: DataSet, seed_key: str, customers: int) -> None:
    rng = random.Random(seed_key)
    seeder = _Seeder(ds, rng)
    custs = [seeder.customer() for _ in range(customers)]
    counts = rng.choices(SMALL_COUNTS, SMALL_WEIGHTS, k=customers)
    if customers:
        picks = rng.sample(range(customers), min(customers, max(2, customers // 2000)))
        for i in picks[:2] if customers < 4 else picks:
            counts[i] = rng.randint(101, 160)
        for i in rng.sample(range(customers), max(1, customers * 5 // 100)):
            if counts[i] <= 10:
                counts[i] = rng.randint(11, 30)
    for cus, count in zip(custs, counts, strict=True):
        for _ in range(count):
            if rng.random() < 0.12:
                seeder.other(cus)
                continue
            src = seeder.source(cus)
            if rng.random() < 0.04:
                detach_consistently(src)
                ds.detached_ids.append(src["id"])
            else:
                seeder.attach(cus, src["id"])
    for _ in range(max(2, customers // 100)):
        kind = rng.choice(("ach_credit_transfer", "three_d_secure", "alipay", "ideal"))
        src = seeder.source(None, kind)
        if src["status"] in ("consumed", "canceled", "failed") or src["flow"] == "receiver":
            reset_unattached(src, seeder)
        ds.unattached_ids.append(src["id"])
    per_name = max(2, customers // 150)
    old_enough = [c for c in custs if c["created"] < SANDBOX_NOW - STALE_AGE - 2 * DAY] or custs
    for name in PLANTED_NAMES:
        ids = ds.planted.setdefault(name, [])
        pool = old_enough if name == "stale_pending" else custs
        for _ in range(per_name):
            owner: dict[str, Any] | None = rng.choice(pool) if pool else None
            src = seeder.planted(name, owner)
            ids.append(src["id"])
            if name == "funds_on_consumed" or owner is None:
                ds.detached_ids.append(src["id"])
            else:
                seeder.attach(owner, src["id"])
    for cus in custs:
        items = ds.items[cus["id"]]
        items.sort(key=lambda p: (seeder.created[p], p), reverse=True)
        cus["default_source"] = items[0] if items else None
    if not ds.livemode and customers >= CLOCK_MIN_CUSTOMERS:
        _seed_test_clocks(ds, seed_key)
    seed_billing(ds, seed_key)  # payment methods and bills: their own random stream
    ds.index()


#: Test clocks (and their customers) are seeded in test mode from this many customers up.
CLOCK_MIN_CUSTOMERS = 100


def _seed_test_clocks(ds: DataSet, seed_key: str) -> None:
    """Two test clocks with three customers each (own random stream: the rest is unchanged),
    listed by ``GET /v1/customers`` only with their ``test_clock``, as in Stripe."""
    rng = random.Random(f"{seed_key}:clocks")
    seeder = _Seeder(ds, rng)
    for n in range(2):
        clock_id = rand_id(rng, "clock_", 24)
        frozen = SANDBOX_NOW - rng.randint(DAY, 30 * DAY)
        ds.test_clocks[clock_id] = {
            "id": clock_id,
            "object": "test_helpers.test_clock",
            "created": frozen - DAY,
            "deletes_after": frozen + 30 * DAY,
            "frozen_time": frozen,
            "livemode": False,
            "name": f"Migration rehearsal {n + 1}",
            "status": "ready",
        }
        for _ in range(3):
            cus = seeder.customer()
            cus["test_clock"] = clock_id
            for _ in range(2):
                src = seeder.source(cus)
                seeder.attach(cus, src["id"])
            items = ds.items[cus["id"]]
            items.sort(key=lambda p: (seeder.created[p], p), reverse=True)
            cus["default_source"] = items[0] if items else None


def detach_consistently(src: dict[str, Any]) -> None:
    """A source detached earlier: consumed, with receiver amounts that still add up."""
    src["status"] = "consumed"
    if "redirect" in src and src["redirect"]["status"] == "pending":
        src["redirect"]["status"] = "succeeded"
    if "receiver" in src:
        rcv = src["receiver"]
        rcv["amount_charged"] = rcv["amount_received"] - rcv["amount_returned"]


def reset_unattached(src: dict[str, Any], seeder: _Seeder) -> None:
    """A source created but never attached: pending, recent, no money."""
    src["status"] = "pending"
    src["created"] = seeder.when(SANDBOX_NOW - PENDING_WINDOW)
    seeder.created[src["id"]] = src["created"]
    if "redirect" in src:
        src["redirect"]["status"] = "pending"
        src["redirect"]["failure_reason"] = None
    if "receiver" in src:
        rcv = src["receiver"]
        rcv["amount_received"] = rcv["amount_charged"] = rcv["amount_returned"] = 0
        seeder.ds.transactions.pop(src["id"], None)
