"""Seeded payment methods, subscriptions and invoices: customers part-way from Sources to
PaymentMethods, with bills still wired to their sources.

Drawn from its own random stream (``seed_key + ":billing"``) once the sources are seeded and
before the cash balances are (toolkit.sandbox.seed_cash), so no source or customer id changes,
and the seeded migrations update these bills as Stripe's does (toolkit.sandbox.billing). What is
seeded, customer by customer (test-clock customers have none):

- payment methods: about half the customers with an active SEPA Debit, ACH Debit or Multibanco
  source have its successor (toolkit.sandbox.payment_methods.SUCCESSOR_OF); about one in eight
  with an active ACH Credit Transfer receiver already pays by bank transfer too (a
  ``customer_balance`` payment method; a migration gives one to every migrated customer); some
  customers add a card or Link; most customers with a payment method have it as
  ``invoice_settings.default_payment_method``;
- subscriptions (about one customer in seven): monthly, on a price of a small catalog, most
  active, some past due or canceled; customers who pay by ACH Credit Transfer are mostly billed
  ``send_invoice`` with ``payment_method_types`` ``["ach_credit_transfer", "card"]``; many pay
  through ``default_source`` (a retiring source), others through ``default_payment_method``;
  its last four monthly invoices, the latest open;
- one-off invoices (about one customer in twelve): paid, open, void, uncollectible or draft,
  ``send_invoice``, offering ``ach_credit_transfer`` to customers with a receiver.

>>> from toolkit.sandbox.store import DataSet
>>> ds = DataSet(livemode=False, account=None, rng_seed="1:runtime")
>>> seed_billing(ds, "1")
>>> len(ds.billing.prices)
7
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from toolkit.sandbox.invoices import make_invoice
from toolkit.sandbox.payment_methods import SUCCESSOR_OF, billing_details
from toolkit.sandbox.store import SANDBOX_NOW, DataSet
from toolkit.sandbox.subscriptions import add_months, make_price, make_subscription

__all__ = ["seed_billing"]

_DAY = 86_400
_ACTIVE = ("pending", "chargeable")
_CATALOG = (
    ("Starter", 2_900, "usd"),
    ("Pro", 9_900, "usd"),
    ("Team", 49_900, "usd"),
    ("Enterprise", 250_000, "usd"),
    ("Pro (EU)", 8_900, "eur"),
)
_SERVICES = (("Implementation services", "usd"), ("Implementation services (EU)", "eur"))
_EUR_TYPES = ("sepa_debit", "multibanco")
_MAX_INVOICES = 4


def _periods(start: int, until: int) -> list[int]:
    """The starts of the last ``_MAX_INVOICES`` monthly periods of a subscription started at
    ``start``, up to ``until``, oldest first."""
    a, b = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(until, UTC)
    months = (b.year - a.year) * 12 + b.month - a.month + 1
    found = [add_months(start, k) for k in range(max(0, months - _MAX_INVOICES - 1), months + 1)]
    return [p for p in found if p <= until][-_MAX_INVOICES:]


class _BillingSeeder:
    def __init__(self, ds: DataSet, rng: random.Random) -> None:
        self.ds = ds
        self.rng = rng
        created = SANDBOX_NOW - 3 * 365 * _DAY
        self.prices = [
            make_price(rng, name, amount, cur, created=created, livemode=ds.livemode)
            for name, amount, cur in _CATALOG
        ]
        self.services = {
            cur: make_price(rng, name, 100_000, cur, created=created, livemode=ds.livemode,
                            recurring=False)
            for name, cur in _SERVICES
        }  # fmt: skip
        for price in [*self.prices, *self.services.values()]:
            ds.billing.prices[price["id"]] = price

    def when(self, after: int, before: int = SANDBOX_NOW - 3600) -> int:
        return self.rng.randint(min(after, before - 60), before)

    def attached(self, cid: str) -> list[dict[str, Any]]:
        ds = self.ds
        return [ds.sources[p] for p in ds.items.get(cid, ()) if p in ds.sources]

    def payment_methods(self, cus: dict[str, Any], retiring: list[dict[str, Any]]) -> list[str]:
        rng, ds = self.rng, self.ds
        details = billing_details(cus.get("name"), cus.get("email"), cus.get("address"))
        kinds: list[tuple[str, int]] = []
        for src in retiring:
            chance = 0.12 if src["type"] == "ach_credit_transfer" else 0.5
            if rng.random() < chance:
                kinds.append((SUCCESSOR_OF[src["type"]][0], src["created"]))
        if rng.random() < 0.18:
            kinds.append(("card", cus["created"]))
        if rng.random() < 0.04:
            kinds.append(("link", cus["created"]))
        made = []
        for kind, after in dict(kinds).items():
            pm = ds.payment_methods.add(
                kind, customer=cus["id"], created=self.when(after), details=details, rng=rng
            )
            made.append(pm["id"])
        if made and rng.random() < 0.6:
            newest = max(made, key=lambda p: ds.payment_methods.objects[p]["created"])
            cus["invoice_settings"]["default_payment_method"] = newest
        return made

    def number(self, cus: dict[str, Any]) -> str:
        seq = cus["next_invoice_sequence"]
        cus["next_invoice_sequence"] = seq + 1
        return f"{cus['invoice_prefix']}-{seq:04d}"

    def subscription(
        self, cus: dict[str, Any], retiring: list[dict[str, Any]], methods: list[str]
    ) -> None:
        rng, ds = self.rng, self.ds
        receivers = [s for s in self.attached(cus["id"]) if s["type"] == "ach_credit_transfer"]
        eur = any(s["type"] in _EUR_TYPES for s in retiring)
        price = self.prices[-1] if eur else rng.choice(self.prices[:-1])
        start = self.when(max(cus["created"] + _DAY, SANDBOX_NOW - 900 * _DAY),
                          SANDBOX_NOW - 20 * _DAY)  # fmt: skip
        roll = rng.random()
        status = "canceled" if roll < 0.12 else ("past_due" if roll < 0.2 else "active")
        ended = (
            self.when(start + 60 * _DAY, SANDBOX_NOW - 10 * _DAY) if status == "canceled" else None
        )
        send = bool(receivers) and rng.random() < 0.75
        collection = "send_invoice" if send else "charge_automatically"
        default_source = retiring[0]["id"] if retiring and rng.random() < 0.6 else None
        default_pm = rng.choice(methods) if methods and not default_source else None
        types = ["ach_credit_transfer", "card"] if send and rng.random() < 0.7 else None
        periods = _periods(start, ended or SANDBOX_NOW)
        sub = make_subscription(
            rng,
            customer=cus["id"],
            price=price,
            start=start,
            period_start=periods[-1],
            collection_method=collection,
            livemode=ds.livemode,
            status=status,
            ended_at=ended,
            default_source=default_source,
            default_payment_method=default_pm,
            payment_method_types=types,
        )
        ds.billing.subscriptions[sub["id"]] = sub
        shown = periods
        line = (f"1 × {price['nickname']}", price["unit_amount"], price["currency"], price["id"],
                price["product"])  # fmt: skip
        for i, begin in enumerate(shown):
            unpaid = len(shown) - i <= (2 if status == "past_due" else 1) and status != "canceled"
            if collection == "charge_automatically" and status == "active":
                unpaid = False
            invoice_status = "open" if unpaid or begin + 3 * _DAY > SANDBOX_NOW else "paid"
            inv = make_invoice(
                rng,
                customer=cus,
                number=self.number(cus),
                created=begin,
                line=line,
                status=invoice_status,
                collection_method=collection,
                livemode=ds.livemode,
                subscription=sub,
                period=(begin, add_months(begin, 1)),
                payment_method_types=list(types) if types else None,
                default_source=default_source,
                default_payment_method=default_pm,
            )
            ds.billing.invoices[inv["id"]] = inv
            sub["latest_invoice"] = inv["id"]

    def one_off(self, cus: dict[str, Any]) -> None:
        rng, ds = self.rng, self.ds
        receivers = [s for s in self.attached(cus["id"]) if s["type"] == "ach_credit_transfer"]
        for _ in range(rng.choice((1, 1, 2))):
            created = self.when(max(cus["created"], SANDBOX_NOW - 200 * _DAY))
            roll = rng.random()
            status = (
                "paid" if roll < 0.5 else "open" if roll < 0.8 else "void" if roll < 0.88
                else "uncollectible" if roll < 0.92 else "draft"
            )  # fmt: skip
            if status == "paid" and created + 3 * _DAY > SANDBOX_NOW:
                status = "open"
            types: list[str] | None
            if receivers:
                types = (
                    ["ach_credit_transfer", "card"]
                    if rng.random() < 0.5
                    else ["ach_credit_transfer"]
                )
            else:
                choices: list[list[str] | None] = [None, ["card"], ["card", "us_bank_account"]]
                types = rng.choice(choices)
            currency = "usd"
            price = self.services[currency]
            amount = rng.randint(500, 25_000) * 100
            inv = make_invoice(
                rng,
                customer=cus,
                number=self.number(cus),
                created=created,
                line=(price["nickname"], amount, currency, price["id"], price["product"]),
                status=status,
                collection_method="send_invoice",
                livemode=ds.livemode,
                payment_method_types=types,
            )
            ds.billing.invoices[inv["id"]] = inv


def seed_billing(ds: DataSet, seed_key: str) -> None:
    """Payment methods, subscriptions and invoices for ``ds`` (see the module docstring)."""
    seeder = _BillingSeeder(ds, random.Random(seed_key + ":billing"))
    rng = seeder.rng
    for cid, cus in ds.customers.items():
        if cus.get("test_clock"):
            continue
        retiring = [
            s for s in seeder.attached(cid) if s["type"] in SUCCESSOR_OF and s["status"] in _ACTIVE
        ]
        methods = seeder.payment_methods(cus, retiring)
        if (retiring or methods or ds.items.get(cid)) and rng.random() < 0.14:
            seeder.subscription(cus, retiring, methods)
        if rng.random() < 0.08:
            seeder.one_off(cus)
    ds.billing.changed()
