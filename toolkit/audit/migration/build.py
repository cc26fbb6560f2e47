"""The Sources retirement audit: per customer and currency, the money left on legacy receivers
beside the money in the customer's cash balance, and whether the customer is ready for Sources
to be switched off.

It reads frames only (it never calls Stripe, so it never writes): the sources frame, the cash
balances (:func:`toolkit.load_cash_balances`), and optionally the cash balance transactions and
the receivers' source transactions, which enable the timing checks.

What Stripe's automatic migration did with the money (moved into a cash balance, swept to the
account balance) is read by toolkit.audit.migration.moves, so that no money is counted twice or
lost from view.

>>> cash = toolkit.load_cash_balances(session, sources, progress=False)
>>> migration = toolkit.audit_migration(sources, cash)
>>> sorted(set(migration.customers["state"])) <= ["blocked", "needs action", "ready"]
True
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import pandas as pd

from toolkit.audit.checks import CheckContext, evaluate
from toolkit.audit.inputs import int_column, normalize_sources, resolve_as_of, text_column, to_utc
from toolkit.audit.migration.audit import MigrationAudit
from toolkit.audit.migration.checks import (
    BLOCKED,
    CREDIT_TRANSFER_TYPES,
    MIGRATION_CHECKS,
    NEEDS_ACTION,
    READY,
    RETIRING_TYPES,
)
from toolkit.audit.migration.moves import moved_to_cash, sweeps
from toolkit.audit.migration.receivable import receivable
from toolkit.audit.migration.result import account_rollup, migration_tables
from toolkit.audit.migration.where_now import where_now
from toolkit.errors import InvalidInputError
from toolkit.fetch.loaded import LoadInfo

__all__ = ["audit_migration"]

#: Transactions that put money into a cash balance (its age is counted from them).
_INFLOWS = (
    "funded",
    "unapplied_from_payment",
    "refunded_from_payment",
    "return_canceled",
    "adjusted_for_overdraft",
)
_DAY = pd.Timedelta(days=1)
#: The columns that name sources, written out as one string each.
_LISTED: tuple[str, ...] = ("receiver_ids", "legacy_funds_sources", "retiring_in_use_sources")
_LISTED += ("moved_from_sources", "swept_sources", "without_successor", "wired_bills")


def _frame(value: Any, name: str, needs: tuple[str, ...], loader: str) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise InvalidInputError(
            f"{name} must be the DataFrame from {loader}, not {type(value).__name__}."
        )
    missing = [c for c in needs if c not in value.columns]
    if missing:
        raise InvalidInputError(f"{name} lacks {', '.join(missing)}: pass the frame from {loader}.")
    return value.reset_index(drop=True)


def audit_migration(
    sources: pd.DataFrame,
    cash_balances: pd.DataFrame,
    cash_transactions: pd.DataFrame | None = None,
    *,
    source_transactions: pd.DataFrame | None = None,
    as_of: datetime | pd.Timestamp | str | None = None,
    unapplied_days: int = 14,
    payment_methods: pd.DataFrame | None = None,
    invoices: pd.DataFrame | None = None,
    subscriptions: pd.DataFrame | None = None,
    ledger: pd.DataFrame | None = None,
) -> MigrationAudit:
    """Where every customer's transferred money is now, and what must be done before Sources is
    switched off.

    ``sources`` (from :func:`toolkit.load_sources`), ``cash_balances`` (from
    :func:`toolkit.load_cash_balances`, over the same customers), ``cash_transactions`` (from
    :func:`toolkit.load_cash_balance_transactions`: enables the unapplied-age check) and
    ``source_transactions`` (from :func:`toolkit.load_source_transactions`: with cash
    transactions, enables the checks on money arriving on both). ``as_of`` defaults to the
    sources' snapshot time; ``unapplied_days`` is how long cash may sit unapplied. Money is
    never added across currencies.

    Where the money and the obligations live now, each when given: ``payment_methods`` (from
    :func:`toolkit.load_payment_methods`): has each customer a successor for each source type
    they still pay with (``audit.successors``); ``invoices`` / ``subscriptions`` (from
    :func:`toolkit.load_invoices`, :func:`toolkit.load_subscriptions`): the bills still wired to
    Sources (``audit.wired``) and, with invoices, accounts receivable beside the money waiting
    (``audit.receivable``); ``ledger`` (from :func:`toolkit.load_ledger`): the tie-out of every
    receiver (``audit.tie_out``).

    >>> migration = toolkit.audit_migration(sources, cash, unapplied_days=21)
    >>> migration.checks[["name", "ran"]].shape, migration.unapplied_days
    ((12, 2), 21)
    """
    frame = _frame(sources, "sources", ("id",), "toolkit.load_sources")
    cash = _frame(
        cash_balances,
        "cash_balances",
        ("customer", "currency", "available"),
        "toolkit.load_cash_balances",
    )
    moves = (
        None
        if cash_transactions is None
        else _frame(
            cash_transactions,
            "cash_transactions",
            ("customer", "type", "net_amount"),
            "toolkit.load_cash_balance_transactions",
        )
    )
    stxns = (
        None
        if source_transactions is None
        else _frame(
            source_transactions,
            "source_transactions",
            ("source", "amount"),
            "toolkit.load_source_transactions",
        )
    )
    pms = (
        None
        if payment_methods is None
        else _frame(
            payment_methods,
            "payment_methods",
            ("customer", "id", "type", "legacy"),
            "toolkit.load_payment_methods",
        )
    )
    bills = {
        name: None
        if value is None
        else _frame(value, name, ("id", "customer", "status"), f"toolkit.load_{name}")
        for name, value in (("invoices", invoices), ("subscriptions", subscriptions))
    }
    books = (
        None
        if ledger is None
        else _frame(ledger, "ledger", ("kind", "source", "amount"), "toolkit.load_ledger")
    )
    if (
        isinstance(unapplied_days, bool)
        or not isinstance(unapplied_days, int)
        or unapplied_days < 0
    ):
        raise InvalidInputError(
            f"unapplied_days must be a whole number >= 0, not {unapplied_days!r}."
        )
    info = LoadInfo.from_attrs(sources) or LoadInfo()
    cash_info = LoadInfo.from_attrs(cash_balances) or LoadInfo()
    notes: list[str] = info.not_found() + cash_info.not_found()
    src = normalize_sources(frame, notes)
    unique = frame.drop_duplicates("id", keep="last").reset_index(drop=True)
    numbers = text_column(unique, "ach_credit_transfer_account_number")
    accounts = dict(zip(unique["id"].astype(object), numbers, strict=True))
    when, basis = resolve_as_of(as_of, info.to_attrs(), src, None, notes)
    inputs = {"cash_transactions"} if moves is not None else set()
    if stxns is not None:
        inputs.add("source_transactions")
    if "funding_account_number" in cash.columns and cash["funding_account_number"].notna().any():
        inputs.add("funding")
    if pms is not None:
        inputs.add("payment_methods")
    if bills["invoices"] is not None or bills["subscriptions"] is not None:
        inputs.add("bills")
    if books is not None:
        inputs.add("ledger")
    sweeps_known = {"sweeps"} if stxns is not None or books is not None else set()
    ctx = CheckContext(unapplied_days, frozenset(inputs | sweeps_known))
    now = where_now(frame, pms, bills["invoices"], bills["subscriptions"], books, moves, info.mode)
    rows = _rows(src, cash, moves, stxns, accounts, when, notes, now.by_key, stxns is None)
    table = pd.DataFrame(rows)
    findings: list[dict[str, Any]] = []
    checks = []
    flagged_by_row: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for check, ran, hits in evaluate(table, MIGRATION_CHECKS, ctx):
        for i in table.index[hits]:
            row = table.loc[i].to_dict()
            flagged_by_row[i].append((check.name, str(check.severity)))
            findings.append(
                {
                    "customer": row["customer"],
                    "currency": row["currency"],
                    "check": check.name,
                    "title": check.title_for(ctx),
                    "severity": check.severity,
                    "detail": check.detail(row, ctx),
                    "owner_email": row["owner_email"],
                    "legacy_unapplied": row["legacy_unapplied"],
                    "cash_available": row["cash_available"],
                }
            )
        checks.append(
            {
                "name": check.name,
                "title": check.title_for(ctx),
                "severity": check.severity,
                "ran": ran,
                "flagged": int(hits.sum()),
                "explanation": check.explanation,
            }
        )
    if len(table):
        table["checks"] = [", ".join(n for n, _ in flagged_by_row.get(i, [])) for i in table.index]
        table["state"] = [_state([s for _, s in flagged_by_row.get(i, [])]) for i in table.index]
    missing = {"cash_transactions", "source_transactions", "funding"} - ctx.inputs
    if missing:
        notes.append(
            "Not given, so the checks that need them did not run: "
            + ", ".join(sorted(missing))
            + " (see the Checks sheet)."
        )
    tables = migration_tables(table, findings, checks)
    covered = int(tables["customers"]["customer"].nunique()) if len(tables["customers"]) else 0
    read = int(cash["customer"].nunique()) if "customer" in cash.columns else 0
    if read > covered:  # say why the counts differ (every customer is read for its cash balance)
        notes.append(
            f"{read:,} customers were read for their cash balance; the audit covers the "
            f"{covered:,} with a receiver, a source of a type Stripe is retiring, or a cash "
            f"balance (the other {read - covered:,} have none of these)."
        )
    if "account" in frame.columns:  # sources across connected accounts: each customer's account
        known = frame.dropna(subset=["customer", "account"])
        account_of = dict(
            zip(known["customer"].astype(str), known["account"].astype(str), strict=True)
        )
        customers = tables["customers"]
        customers.insert(0, "account", customers["customer"].map(account_of))
        tables["by_account"] = account_rollup(customers, account_of)
    return MigrationAudit(
        **tables,
        as_of=when,
        as_of_basis=basis,
        account=info.account,
        mode=info.mode,
        unapplied_days=unapplied_days,
        inputs=sorted(inputs),
        notes=notes,
        successors=now.successors,
        wired=now.wired,
        tie_out=now.tie_out,
        receivable=(
            receivable(tables["customers"], bills["invoices"], info.mode)
            if bills["invoices"] is not None
            else pd.DataFrame()
        ),
    )


def _state(severities: list[str]) -> str:
    if BLOCKED in severities:
        return BLOCKED
    return NEEDS_ACTION if severities else READY


def _rows(
    src: pd.DataFrame,
    cash: pd.DataFrame,
    moves: pd.DataFrame | None,
    stxns: pd.DataFrame | None,
    accounts: dict[str, Any],
    when: pd.Timestamp | None,
    notes: list[str],
    found: dict[tuple[str, str], dict[str, Any]],
    swept_from_ledger: bool,
) -> list[dict[str, Any]]:
    """One dict per (customer, currency) with every figure the checks read (``found``: what
    :func:`~toolkit.audit.migration.where_now.where_now` found of each)."""
    loose = src[src["customer"].isna() & (src["flow"] == "receiver")]
    if len(loose):
        notes.append(
            f"{len(loose)} receiver source(s) belong to no customer; they are left out (the "
            "receiver audit lists them)."
        )
    src = src[src["customer"].notna()].copy()
    unapplied = src["received"].fillna(0) - src["charged"].fillna(0) - src["returned"].fillna(0)
    src["unapplied"] = unapplied.astype("Int64")
    email = src.dropna(subset=["owner_email"]).groupby("customer")["owner_email"].first().to_dict()
    cash_read = set(cash["customer"].dropna())
    with_balance = set(cash.loc[cash["currency"].notna(), "customer"])
    funding: dict[str, Any] = {}
    if "funding_account_number" in cash.columns:
        for cid, number in zip(cash["customer"], cash["funding_account_number"], strict=True):
            if isinstance(number, str) and number:
                funding[cid] = number
    keys: dict[tuple[str, str], dict[str, Any]] = {}
    moved = moved_to_cash(moves)
    moved_left = moved.groupby("source")["net"].sum().to_dict()

    def row(cid: str, currency: str) -> dict[str, Any]:
        key = (cid, currency)
        if key not in keys:
            keys[key] = {
                "customer": cid,
                "owner_email": email.get(cid),
                "currency": currency,
                "receivers": 0,
                "active_receivers": 0,
                "receiver_ids": [],
                "legacy_unapplied": 0,
                "legacy_funds_sources": [],
                "retiring_in_use": 0,
                "retiring_in_use_sources": [],
                "cash_read": cid in cash_read,
                "has_cash_balance": cid in with_balance or cid in funding,
                "cash_available": pd.NA,
                "moved_to_cash": 0,
                "moved_from_sources": [],
                "swept_to_balance": 0,
                "swept_sources": [],
                "reconciliation_mode": None,
                "first_cash_funded_at": pd.NaT,
                "oldest_unapplied_at": pd.NaT,
                "unapplied_days": pd.NA,
                "last_receiver_money_at": pd.NaT,
                "receiver_money_after_cash": 0,
                "months_paying_both": [],
                "successor_account_last4": None,
                "successor_matches_receiver": pd.NA,
                "without_successor": [],
                "wired_bills": [],
                "tie_out_gap": 0,
                "refunded_after_charge": 0,
            }
        return keys[key]

    receiver_of: dict[str, tuple[str, str]] = {}
    for s in src.itertuples(index=False):
        cur = s.currency or ""
        if s.flow == "receiver":
            r = row(s.customer, cur)
            receiver_of[s.id] = (s.customer, cur)
            r["receivers"] += 1
            r["receiver_ids"].append(s.id)
            if s.status in ("pending", "chargeable"):
                if s.type in CREDIT_TRANSFER_TYPES:
                    r["active_receivers"] += 1
                elif s.type in RETIRING_TYPES:
                    r["retiring_in_use"] += 1
                    r["retiring_in_use_sources"].append(f"{s.id} ({s.type}, {s.status})")
            left = 0 if pd.isna(s.unapplied) else int(s.unapplied)
            if left > 0 and moved_left.get(s.id, 0) > 0:  # read before its money moved
                counted = min(left, int(moved_left[s.id]))
                moved_left[s.id] -= counted
                left -= counted
            if left > 0:
                r["legacy_unapplied"] += left
                r["legacy_funds_sources"].append(f"{s.id} ({s.status})")
        elif s.type in RETIRING_TYPES and s.status == "chargeable":
            r = row(s.customer, cur)
            r["retiring_in_use"] += 1
            r["retiring_in_use_sources"].append(f"{s.id} ({s.type})")
    for c in cash.itertuples(index=False):
        if isinstance(c.currency, str) and c.currency:
            r = row(c.customer, c.currency)
            r["cash_available"] = int(c.available) if not pd.isna(c.available) else pd.NA
            r["reconciliation_mode"] = c.reconciliation_mode
    for m in moved.itertuples(index=False):
        r = row(m.customer, m.currency)
        r["moved_to_cash"] += int(m.net)
        r["moved_from_sources"].append(f"{m.source} ({m.created:%Y-%m-%d})")
    if funding:
        for (cid, _cur), r in keys.items():
            number = funding.get(cid)
            if number and r["receivers"]:
                r["successor_account_last4"] = number[-4:]
                own = {accounts.get(sid) for sid in r["receiver_ids"]} - {None}
                r["successor_matches_receiver"] = number in own if own else pd.NA
    cash_months: dict[tuple[str, str], set[str]] = defaultdict(set)
    if moves is not None:
        _cash_timing(moves, keys, cash_months, when)
    if stxns is not None and moves is not None:
        _receiver_timing(stxns, receiver_of, keys, cash_months)
    if stxns is not None:
        credit = set(src.loc[src["type"].astype(object) == "ach_credit_transfer", "id"])
        swept = sweeps(stxns, moved)
        for sid, created, amount in zip(
            swept["source"], swept["created"], swept["amount"], strict=True
        ):
            if sid in credit and sid in receiver_of:
                r = keys[receiver_of[sid]]
                r["swept_to_balance"] += int(amount)
                r["swept_sources"].append(f"{sid} ({created:%Y-%m-%d})")
    for (cid, cur), more in found.items():
        r = row(cid, cur)
        r["without_successor"] += more["without_successor"]
        r["wired_bills"] += more["wired_bills"]
        r["tie_out_gap"] += more["tie_out_gap"]
        r["refunded_after_charge"] += more["refunded_after_charge"]
        if swept_from_ledger:
            r["swept_to_balance"] += more["swept"]
            r["swept_sources"] += more["swept_sources"]
    out = []
    for r in keys.values():
        for name in _LISTED:
            r[name] = ", ".join(r[name])
        r["months_paying_both"] = sorted(r["months_paying_both"])
        out.append(r)
    return out


def _cash_timing(
    moves: pd.DataFrame,
    keys: dict[tuple[str, str], dict[str, Any]],
    cash_months: dict[tuple[str, str], set[str]],
    when: pd.Timestamp | None,
) -> None:
    """First funding, months funded, and the age of the oldest unapplied cash (first in, first
    out: the available balance is the most recent inflows)."""
    m = moves.assign(created=to_utc(moves["created"]), net=int_column(moves, "net_amount"))
    m = m.sort_values("created", ascending=False, kind="stable")
    for (cid, cur), group in m.groupby(["customer", "currency"], sort=False):
        r = keys.get((cid, cur))
        if r is None:
            continue
        funded = group[group["type"] == "funded"]
        if len(funded):
            r["first_cash_funded_at"] = funded["created"].min()
            cash_months[(cid, cur)] = set(funded["created"].dt.strftime("%Y-%m"))
        need = 0 if pd.isna(r["cash_available"]) else int(r["cash_available"])
        if need <= 0:
            continue
        oldest = pd.NaT
        for created, kind, net in zip(group["created"], group["type"], group["net"], strict=True):
            if kind in _INFLOWS and not pd.isna(net) and int(net) > 0:
                oldest = created
                need -= int(net)
                if need <= 0:
                    break
        r["oldest_unapplied_at"] = oldest
        if when is not None and not pd.isna(oldest):
            r["unapplied_days"] = int((when - oldest) // _DAY)


def _receiver_timing(
    stxns: pd.DataFrame,
    receiver_of: dict[str, tuple[str, str]],
    keys: dict[tuple[str, str], dict[str, Any]],
    cash_months: dict[tuple[str, str], set[str]],
) -> None:
    """Receiver money after the cash balance started, and months with money on both."""
    t = stxns.assign(created=to_utc(stxns["created"]), amount=int_column(stxns, "amount"))
    if "status" in t.columns:
        t = t[t["status"].astype(object) == "succeeded"]
    t = t[t["amount"].fillna(0) > 0]
    for sid, created, amount in zip(t["source"], t["created"], t["amount"], strict=True):
        key = receiver_of.get(sid)
        if key is None:
            continue
        r = keys[key]
        if pd.isna(r["last_receiver_money_at"]) or created > r["last_receiver_money_at"]:
            r["last_receiver_money_at"] = created
        start = r["first_cash_funded_at"]
        if not pd.isna(start) and created > start:
            r["receiver_money_after_cash"] += int(amount)
        month = created.strftime("%Y-%m")
        if month in cash_months.get(key, ()) and month not in r["months_paying_both"]:
            r["months_paying_both"].append(month)
