"""Seeded cash balances: an account part-way through Stripe's move from ACH Credit Transfer
receivers to Bank Transfers (customer cash balances), planted states included.

Drawn from its own random stream (``seed_key + ":cash"``) after the sources are seeded, so every
source id and every other seeded fact is the same with or without it. A migrated customer is
migrated as Stripe's automatic migration does it (toolkit.sandbox.ach_migration): their ACH
Credit Transfer sources leave their list of payment sources, and the money left on them moves
into the cash balance (a ``funded`` transaction whose reference is the source id; on the source,
now ``consumed`` and in ``detached_ids``, reachable by id only, it shows in
``receiver.amount_charged``); nothing else of a source changes. Profiles:

- ``"partial"`` (the demo): the planted states below, and about 30% of the other customers with
  an ACH Credit Transfer receiver migrated, with bank transfers and applications. Customers who
  own a planted receiver anomaly (toolkit.sandbox.seed_data.PLANTED_NAMES) or more than 10
  payment sources (the long lists that exercise pagination) are not migrated, so the receiver
  audit still finds the anomalies and the seeded lists keep their shape;
- ``"complete"``: every customer with an ACH Credit Transfer receiver migrated (no
  ``not_migrated_funds`` or ``paying_both``);
- ``"none"``: no cash balances at all (an account that has not started).

Planted states (``CashBalances.planted``, customer ids; a state is skipped when the data set has no
customer that fits):

- migrated_clean: migrated, receivers held nothing, the cash balance started in a later month
  than the last receiver transaction and nothing sits unapplied for long;
- migrated_legacy_funds: migrated while a receiver still held unapplied funds: they moved into
  the cash balance at the migration (a few days ago), and a bank transfer followed;
- paying_both: not migrated, but paying by bank transfer too (a new virtual account number): a
  bank transfer landed in the cash balance before the receiver's latest money, in the same month;
- cash_unapplied_weeks: migrated, a bank transfer 40 days old never applied;
- not_migrated_funds: not migrated, money still on an active receiver;
- cash_jpy: a JPY (zero-decimal) cash balance, no receiver;
- cash_multi: USD and EUR cash balances, no receiver;
- other_moves: migrated customers whose history also holds Stripe's other seven transaction
  types (a reversed funding that overdrew the balance, and the overdraft adjusted).

No sweep has run in the seeded history: they start with the sandbox's clock (the first on
2026-11-15, see ``Sandbox.advance_clock``).

>>> CASH_PLANTED[:2]
('migrated_clean', 'migrated_legacy_funds')
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from toolkit.sandbox.ach_migration import migrate_sources
from toolkit.sandbox.store import SANDBOX_NOW, DataSet

__all__ = ["CASH_PLANTED", "MIGRATION_PROFILES", "month_start_after", "seed_cash"]

CASH_PLANTED = (
    "migrated_clean",
    "migrated_legacy_funds",
    "paying_both",
    "cash_unapplied_weeks",
    "not_migrated_funds",
    "cash_jpy",
    "cash_multi",
    "other_moves",
)
MIGRATION_PROFILES = ("partial", "complete", "none")
_DAY = 86_400
_LONG_LIST = 10  # payment sources: the demo migrates no customer with a longer list


def month_start_after(ts: int) -> int:
    """The first second of the month after ``ts`` (UTC).

    >>> datetime.fromtimestamp(month_start_after(1793491200 - 1), UTC).isoformat()
    '2026-11-01T00:00:00+00:00'
    """
    d = datetime.fromtimestamp(ts, UTC)
    year, month = (d.year + 1, 1) if d.month == 12 else (d.year, d.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp())


def _month_start(ts: int) -> int:
    d = datetime.fromtimestamp(ts, UTC)
    return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp())


class _Facts:
    """What the seed needs to know of each customer's sources."""

    def __init__(self, ds: DataSet) -> None:
        self.receivers: dict[str, list[dict[str, Any]]] = {}
        self.last_txn: dict[str, int] = {}
        self.holding: set[str] = set()  # a receiver with unapplied funds
        self.active_other: set[str] = set()  # a chargeable non-card, non-receiver source
        for cid in ds.customers:
            for pid in ds.items.get(cid, ()):
                src = ds.sources.get(pid)
                if src is None:
                    continue
                if src["type"] == "ach_credit_transfer":
                    self.receivers.setdefault(cid, []).append(src)
                    rcv = src["receiver"]
                    left = rcv["amount_received"] - rcv["amount_charged"] - rcv["amount_returned"]
                    if left > 0:
                        self.holding.add(cid)
                    for txn in ds.transactions.get(pid, ()):
                        self.last_txn[cid] = max(self.last_txn.get(cid, 0), txn["created"])
                elif src["flow"] == "receiver":
                    self.receivers.setdefault(cid, []).append(src)
                elif src["status"] == "chargeable" and src["type"] not in (
                    "card",
                    "three_d_secure",
                ):
                    self.active_other.add(cid)

    def clean(self, cid: str) -> bool:
        return cid not in self.holding and cid not in self.active_other


def seed_cash(ds: DataSet, seed_key: str, profile: str = "partial") -> None:
    """Cash balances for ``ds`` (see the module docstring); ``profile`` one of
    ``MIGRATION_PROFILES``."""
    if profile not in MIGRATION_PROFILES:
        raise ValueError(
            f"migration must be one of {', '.join(MIGRATION_PROFILES)}, not {profile!r}"
        )
    if profile == "none":
        return
    rng = random.Random(seed_key + ":cash")
    book = ds.cash
    facts = _Facts(ds)
    ach = sorted(cid for cid, srcs in facts.receivers.items() if _ach(srcs))
    rng.shuffle(ach)
    taken: set[str] = set()
    if profile == "partial":  # the receiver audit's planted anomalies stay where they are
        taken.update(
            str(ds.sources[sid]["customer"])
            for ids in ds.planted.values()
            for sid in ids
            if ds.sources[sid].get("customer")
        )

    def pick(fits: Any, n: int = 2) -> list[str]:
        found = [c for c in ach if c not in taken and fits(c)][:n]
        taken.update(found)
        return found

    def name_of(cid: str) -> str:
        return str(ds.customers[cid].get("name") or "")

    def fund(cid: str, amount: int, currency: str, when: int) -> None:
        book.fund(cid, amount, currency, created=when, sender=name_of(cid))

    now = SANDBOX_NOW
    recent = now - 20 * _DAY
    # migrated_clean: the cash balance starts the month after the last receiver money
    for cid in pick(
        lambda c: facts.clean(c) and month_start_after(facts.last_txn.get(c, 0)) < recent
    ):
        start = max(month_start_after(facts.last_txn.get(cid, 0)), now - 90 * _DAY)
        _migrate(ds, cid, when=start)
        fund(cid, rng.randint(50_00, 5_000_00), "usd", start + rng.randint(1, 3) * _DAY)
        book.apply(cid, book.available[cid]["usd"], "usd", created=start + 5 * _DAY)
        fund(cid, rng.randint(10_00, 900_00), "usd", now - rng.randint(1, 5) * _DAY)
        book.planted.setdefault("migrated_clean", []).append(cid)
    for cid in pick(lambda c: c in facts.holding and c not in facts.active_other):
        when = max(facts.last_txn.get(cid, 0) + 60, now - rng.randint(6, 12) * _DAY)
        _migrate(ds, cid, when=when)
        fund(cid, rng.randint(50_00, 900_00), "usd", when + max(60, (now - when) // 2))
        book.planted.setdefault("migrated_legacy_funds", []).append(cid)

    def both(c: str) -> bool:
        last = facts.last_txn.get(c, 0)
        return last > now - 60 * _DAY and last - _month_start(last) > 2 * _DAY

    for cid in pick(both) if profile == "partial" else ():
        book.address(cid)  # bank transfers to a new virtual account number, receivers kept
        last = facts.last_txn[cid]
        when = max(_month_start(last) + 3600, last - 2 * _DAY)
        fund(cid, rng.randint(50_00, 900_00), "usd", when)
        book.planted.setdefault("paying_both", []).append(cid)
    for cid in pick(lambda c: facts.clean(c) and facts.last_txn.get(c, 0) < now - 80 * _DAY):
        _migrate(ds, cid, when=now - 41 * _DAY)
        fund(cid, rng.randint(500_00, 9_000_00), "usd", now - 40 * _DAY)
        book.planted.setdefault("cash_unapplied_weeks", []).append(cid)
    if profile == "partial":
        for cid in pick(lambda c: c in facts.holding and _active(facts.receivers[c])):
            book.planted.setdefault("not_migrated_funds", []).append(cid)
    no_sources = [c for c in sorted(ds.customers) if not ds.items.get(c)]
    rng.shuffle(no_sources)
    for cid in no_sources[:2]:
        fund(cid, rng.randint(10_000, 2_000_000), "jpy", now - rng.randint(2, 9) * _DAY)
        book.planted.setdefault("cash_jpy", []).append(cid)
    for cid in no_sources[2:4]:
        fund(cid, rng.randint(10_00, 900_00), "usd", now - rng.randint(2, 9) * _DAY)
        fund(cid, rng.randint(10_00, 900_00), "eur", now - rng.randint(2, 9) * _DAY)
        book.mode[cid] = "manual"
        book.planted.setdefault("cash_multi", []).append(cid)
    for cid in ach:
        if cid in taken or (
            profile == "partial" and (len(ds.items[cid]) > _LONG_LIST or rng.random() >= 0.3)
        ):
            continue
        start = max(month_start_after(facts.last_txn.get(cid, 0)), now - 120 * _DAY)
        _migrate(ds, cid, when=start)
        events: list[tuple[int, str, int]] = []
        for _ in range(rng.choice((0, 1, 1, 2, 3))):
            when = rng.randint(start, now - _DAY) if start < now - _DAY else now - _DAY
            amount = rng.randint(10_00, 2_000_00)
            events.append((when, "funded", amount))
            applied = when + rng.randint(1, 10) * _DAY
            if rng.random() < 0.7 and applied < now:
                events.append((applied, "applied_to_payment", amount))
        for when, kind, amount in sorted(events):  # balances run in time order
            if kind == "funded":
                fund(cid, amount, "usd", when)
            else:
                book.apply(cid, amount, "usd", created=when)
        if book.available[cid]["usd"] >= 100_00 and len(book.planted.get("other_moves", [])) < 3:
            _other_moves(book, cid, rng)
            book.planted.setdefault("other_moves", []).append(cid)


def _other_moves(book: Any, cid: str, rng: random.Random) -> None:
    """The rest of Stripe's transaction types: a return started and canceled, a payment applied
    then unapplied, a refund into the balance, a transfer to the merchant's balance, then a bank
    transfer reversed after most of the balance was applied: the reversal overdraws the balance
    and Stripe adjusts the overdraft from the account balance (linked to the reversal)."""
    held = book.available[cid]["usd"]
    part = max(1, held // 10)
    when = SANDBOX_NOW - _DAY // 2
    for i, (kind, amount) in enumerate(
        (
            ("return_initiated", part),
            ("return_canceled", part),
            ("applied_to_payment", part),
            ("unapplied_from_payment", part),
            ("refunded_from_payment", rng.randint(1_00, 50_00)),
            ("transferred_to_balance", part),
        )
    ):
        book.record(cid, kind, amount, "usd", created=when + i * 60)
    overdraft = rng.randint(1_00, 10_00)
    book.reverse_funding(cid, book.available[cid]["usd"] + overdraft, "usd", created=when + 600)


def _migrate(ds: DataSet, cid: str, *, when: int) -> None:
    """Migrate a customer while seeding: their receivers join the sources detached before the
    sandbox started (reachable by id only)."""
    migrate_sources(ds, cid, when=when)
    ds.detached_ids += [sid for sid, owner in ds.cash.fed_by.items() if owner == cid]


def _ach(sources: list[dict[str, Any]]) -> bool:
    return any(s["type"] == "ach_credit_transfer" for s in sources)


def _active(sources: list[dict[str, Any]]) -> bool:
    return any(s["status"] in ("pending", "chargeable") for s in sources)
