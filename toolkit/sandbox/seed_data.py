"""The seed's fixed facts: how old things are, which anomalies are planted, how often each type
appears, and the small random helpers the seeder draws amounts and metadata with.

>>> split_total(random.Random(1), 1000, 3)
[...]
>>> sum(split_total(random.Random(1), 1000, 3))
1000
"""

from __future__ import annotations

import random

__all__ = [
    "DAY",
    "HISTORY",
    "NOTES",
    "PENDING_WINDOW",
    "PLANTED_NAMES",
    "REGIONS",
    "SHARED_EMAILS",
    "SINGLE_USE_CURRENCIES",
    "SMALL_COUNTS",
    "SMALL_WEIGHTS",
    "STALE_AGE",
    "STATUS_WEIGHTS",
    "TYPES",
    "TYPE_WEIGHTS",
    "WEIGHTS",
    "random_amount",
    "random_metadata",
    "random_received",
    "split_total",
]


DAY = 86_400
HISTORY = 3 * 365 * DAY  # customers were created over the three years before SANDBOX_NOW
PENDING_WINDOW = 25 * DAY  # ordinary pending receivers are younger than this
STALE_AGE = 60 * DAY  # planted stale pending receivers are older than this

PLANTED_NAMES = (
    "overpaid_consumed",
    "negative_reversal",
    "transactions_mismatch",
    "funds_on_consumed",
    "funds_on_canceled",
    "refund_attributes_missing",
    "stale_pending",
    "currency_mismatch_txn",
)
"""Anomalies planted in every seeded data set (``Sandbox.planted`` maps them to source ids):

- overpaid_consumed: attached, consumed, charged > 0, received > charged + returned
- negative_reversal: chargeable, a negative (reversal) transaction; transactions add up
- transactions_mismatch: chargeable, succeeded transactions do not add up to amount_received
- funds_on_consumed: detached earlier (consumed, by id only), received > 0, nothing charged/returned
- funds_on_canceled: canceled with received > 0, nothing charged/returned
- refund_attributes_missing: consumed, amount_returned > 0, refund_attributes_status "missing"
- stale_pending: pending receivers created more than 60 days before SANDBOX_NOW
- currency_mismatch_txn: chargeable usd receiver with one transaction in eur (amounts add up)

Everywhere else: succeeded transactions add up to amount_received (failed/pending ones are
rare and not counted), consumed/canceled/failed receivers have received == charged + returned,
amount_returned > 0 comes with refund_attributes_status "available", pending receivers are
younger than 25 days and have received nothing.
"""

TYPE_WEIGHTS = (
    ("ach_credit_transfer", 58),
    ("card", 12),
    ("sepa_debit", 8),
    ("ach_debit", 5),
    ("three_d_secure", 5),
    ("alipay", 3),
    ("multibanco", 2),
    ("wechat", 1.5),
    ("ideal", 1.5),
    ("bancontact", 1),
    ("sofort", 1),
    ("p24", 0.8),
    ("giropay", 0.7),
    ("eps", 0.5),
)
TYPES = [t for t, _ in TYPE_WEIGHTS]
WEIGHTS = [w for _, w in TYPE_WEIGHTS]

STATUS_WEIGHTS: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {
    "receiver": (("pending", "chargeable", "consumed", "canceled", "failed"), (15, 45, 28, 8, 4)),
    "card": (("chargeable", "consumed", "canceled", "failed"), (80, 10, 5, 5)),
    "sepa_debit": (("chargeable", "consumed", "canceled"), (85, 10, 5)),
    "ach_debit": (("pending", "chargeable", "failed"), (20, 70, 10)),
    "single_use": (
        ("pending", "chargeable", "consumed", "canceled", "failed"),
        (15, 25, 45, 10, 5),
    ),
}
SINGLE_USE_CURRENCIES = {
    "three_d_secure": ("usd", "usd", "eur", "gbp", "jpy", "bhd"),
    "alipay": ("usd", "cny", "jpy", "eur", "hkd"),
    "wechat": ("cny", "jpy", "usd"),
    "p24": ("pln", "eur"),
}
SMALL_COUNTS = (0, 1, 2, 3, 4, 5, 6)
SMALL_WEIGHTS = (15, 30, 25, 15, 8, 4, 3)
REGIONS = ("us-east", "us-west", "emea", "apac", "latam")
NOTES = ("call before charging", "VIP", "migrated from legacy billing", "café — paid by wire", "")
SHARED_EMAILS = ("ap@acme.example", "billing@globex.example", "finance@initech.example")


def random_amount(rng: random.Random, currency: str) -> int:
    """A single-use amount in the currency's minor unit."""
    if currency == "jpy":
        return rng.randint(3, 800) * 100
    if currency == "bhd":
        return rng.randint(1, 500) * 1000 + rng.choice((0, 250, 500, 750))
    return rng.randint(5, 2000) * 100 + rng.choice((0, 0, 50, 99))


def random_received(rng: random.Random) -> int:
    """Money that landed in a receiver: from a few dollars to hundreds of thousands."""
    magnitude = rng.choice((3, 4, 4, 5, 5, 5, 6, 6, 7, 8))
    value = rng.randint(10 ** (magnitude - 1), 10**magnitude)
    return value - value % 100 if rng.random() < 0.6 else value


def random_metadata(rng: random.Random, n: int) -> dict[str, str]:
    pick = rng.random()
    if pick < 0.3:
        return {}
    if pick < 0.5:
        return {"order_id": f"ord_{n:06d}"}
    if pick < 0.65:
        return {"erp_id": f"ERP-{n:06d}", "region": rng.choice(REGIONS)}
    if pick < 0.8:
        meta = {"invoice": f"INV-{2023 + n % 4}-{n:05d}"}
        note = rng.choice(NOTES)
        if note:
            meta["note"] = note
        return meta
    if pick < 0.92:
        return {"legacy_account": f"LA{n:07d}", "migrated": rng.choice(("true", "false"))}
    return {
        "customer_ref": f"REF/{n}",
        "team": rng.choice(("finance", "growth", "ops")),
        "comment": "long note " + "x" * rng.randint(50, 300),
    }


def split_total(rng: random.Random, total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` positive amounts."""
    if total <= 0 or parts <= 1 or total < parts:
        return [total]
    cuts = sorted(rng.sample(range(1, total), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
