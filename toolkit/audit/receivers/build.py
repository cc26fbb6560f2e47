"""Receiver balance audit: what each receiver source holds, what looks wrong, and roll-ups.

Amounts are kept in the currency's minor unit (``received``, ``charged``, ...) next to the major unit
(``received_major``, ... as exact ``Decimal``) and the ``currency``. Different currencies are never
added together. The audit date (``as_of``) comes from the snapshot (``taken_at``), never the clock.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import pandas as pd

from toolkit.audit.checks import CheckContext, evaluate
from toolkit.audit.inputs import (
    empty_transactions,
    normalize_sources,
    normalize_transactions,
    resolve_as_of,
    text_or_none,
)
from toolkit.audit.receivers.audit import Audit
from toolkit.audit.receivers.checks import CHECKS, TRANSACTIONS
from toolkit.audit.receivers.result import (
    EXCEPTION_COLUMNS,
    MONEY_COLUMNS,
    SOURCE_COLUMNS,
    TRANSACTION_COLUMNS,
    TXN_COUNT_COLUMNS,
    UNMATCHED_COLUMNS,
)
from toolkit.audit.receivers.rollups import (
    aging,
    aging_bucket,
    days_between,
    major,
    rollup,
    summary,
)
from toolkit.errors import InvalidInputError
from toolkit.fetch.duck import is_dataset, read_receivers
from toolkit.fetch.loaded import ATTRS_KEY, LoadInfo
from toolkit.fetch.transactions import UNFUNDED_NOTE
from toolkit.money import unapplied

__all__ = ["NO_TRANSACTIONS", "audit_receivers"]

#: The note of an audit made without source transactions (on the cover, in the view and the CLI).
NO_TRANSACTIONS = (
    "No source transactions were given, so the checks that compare a receiver with its "
    "transactions did not run."
)


def audit_receivers(
    sources: pd.DataFrame | str | os.PathLike[str],
    transactions: pd.DataFrame | None = None,
    *,
    as_of: datetime | pd.Timestamp | str | None = None,
    pending_days: int = 30,
) -> Audit:
    """Audit the receiver sources of a sources frame (from ``load_sources`` or a snapshot), or
    of a dataset folder from ``export_sources``: there DuckDB (the ``duckdb`` extra) selects the
    receivers, so only they are read into memory (the summary then counts receivers).

    ``transactions`` (from ``load_source_transactions``) enables the reconciliation checks
    (without them ``audit.notes`` holds :data:`NO_TRANSACTIONS`).
    ``as_of`` defaults to the snapshot's ``attrs["toolkit"]["taken_at"]``; without it, to the
    latest created/transaction time in the data (said in ``audit.notes``), never the wall clock.
    ``pending_days``: how long a receiver may stay pending before ``stale_pending`` flags it.

    >>> audit = toolkit.audit_receivers(sources, pending_days=45)
    >>> audit.exceptions[["source", "title", "detail"]].shape[1], audit.pending_days
    (3, 45)
    """
    if is_dataset(sources):
        sources = read_receivers(sources)
    if not isinstance(sources, pd.DataFrame):
        raise InvalidInputError(
            "audit_receivers needs the sources DataFrame from toolkit.load_sources (or a snapshot), "
            f"not {type(sources).__name__}."
        )
    if "id" not in sources.columns:
        raise InvalidInputError(
            "The sources table has no 'id' column: pass the frame from toolkit.load_sources."
        )
    if transactions is not None and not isinstance(transactions, pd.DataFrame):
        raise InvalidInputError(
            "transactions must be the DataFrame from toolkit.load_source_transactions, "
            f"not {type(transactions).__name__}."
        )
    if isinstance(pending_days, bool) or not isinstance(pending_days, int) or pending_days < 0:
        raise InvalidInputError(
            f"pending_days must be a whole number of days >= 0, not {pending_days!r}."
        )

    info = LoadInfo.from_attrs(sources) or LoadInfo()
    meta: dict[str, Any] = info.to_attrs()
    notes: list[str] = info.not_found()  # on the cover sheet and in the view, not only in attrs
    frame = normalize_sources(sources, notes)
    txns = normalize_transactions(transactions) if transactions is not None else None

    when, basis = resolve_as_of(as_of, meta, frame, txns, notes)
    table = _receiver_table(frame)
    unmatched = empty_transactions()
    if txns is not None:
        known = set(frame["id"])
        unmatched = txns[~txns["source"].isin(known)][list(TRANSACTION_COLUMNS)]
        unmatched = unmatched.sort_values(
            ["created", "id"], kind="mergesort", na_position="last"
        ).reset_index(drop=True)
        other = txns["source"].isin(known) & ~txns["source"].isin(set(table["source"]))
        if len(unmatched):
            notes.append(
                f"{len(unmatched)} transaction(s) belong to sources that are not in this table; "
                "they are listed separately and left out of every figure."
            )
        if other.any():
            notes.append(
                f"{int(other.sum())} transaction(s) belong to sources that are not receivers and "
                "were left out."
            )
        missing = (LoadInfo.from_attrs(transactions) or LoadInfo()).missing_ids
        if missing:
            notes.append(
                f"Stripe did not know {len(missing)} source id(s) asked for transactions: "
                f"{', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}."
            )
        given = transactions.attrs if transactions is not None else {}
        skipped = (given.get(ATTRS_KEY) or {}).get("unfunded_skipped") or []
        if skipped:
            notes.append(
                f"{UNFUNDED_NOTE} {len(skipped)} receiver(s) that never received money "
                "(amount received 0; skip_unfunded). A pending, failed or fully reversed transfer "
                "on them is not seen."
            )
        table = _add_transactions(table, txns[txns["source"].isin(set(table["source"]))], when)
    else:
        table = _add_no_transactions(table)
        notes.append(NO_TRANSACTIONS)

    table["age_days"] = days_between(table["created"], when)
    table["aging_bucket"] = aging_bucket(table["age_days"], table["unapplied"])
    ctx = CheckContext(pending_days, frozenset({TRANSACTIONS} if txns is not None else ()))
    table, exceptions, checks = _run_checks(table, ctx)
    unmatched["amount_major"] = major(unmatched["amount"], unmatched["currency"])
    unmatched = unmatched[list(UNMATCHED_COLUMNS)]
    for name in MONEY_COLUMNS:
        table[f"{name}_major"] = major(table[name], table["currency"])
    for name in ("transactions_total", "reversals_total"):
        table[f"{name}_major"] = major(table[name], table["currency"])
    across = "account" in table.columns  # a load across connected accounts
    table = table[["account", *SOURCE_COLUMNS] if across else list(SOURCE_COLUMNS)]
    table = table.reset_index(drop=True)
    exceptions = _finish_exceptions(exceptions, table)

    by_currency = rollup(table, ["currency"])
    by_customer = rollup(table, ["customer", "currency"])
    by_status = rollup(table, ["status", "currency"])
    by_age = aging(table)
    by_account = rollup(table, ["account", "currency"]) if across else pd.DataFrame()

    if len(frame) and not len(table):
        notes.append("The table holds no receiver sources (flow 'receiver'): nothing to audit.")
    elif not len(frame):
        notes.append("The sources table is empty: nothing to audit.")

    audit = Audit(
        summary=pd.DataFrame(),
        sources=table,
        exceptions=exceptions,
        by_currency=by_currency,
        by_customer=by_customer,
        by_status=by_status,
        aging=by_age,
        checks=checks,
        unmatched_transactions=unmatched,
        as_of=when,
        as_of_basis=basis,
        account=text_or_none(meta.get("account")),
        mode=text_or_none(meta.get("mode")),
        pending_days=pending_days,
        transactions_given=txns is not None,
        notes=notes,
        by_account=by_account,
    )
    audit.summary = summary(audit, n_sources=len(frame))
    return audit


# --- per receiver ------------------------------------------------------------------------------


def _receiver_table(frame: pd.DataFrame) -> pd.DataFrame:
    has_receiver = frame[["received", "charged", "returned"]].notna().any(axis=1)
    is_receiver = (frame["flow"] == "receiver").fillna(False).astype(bool) | has_receiver
    t = frame[is_receiver].copy()
    t = t.rename(
        columns={
            "id": "source",
            "receiver_refund_attributes_method": "refund_attributes_method",
            "receiver_refund_attributes_status": "refund_attributes_status",
        }
    )
    t["has_receiver"] = has_receiver[is_receiver].astype(bool)
    t["unapplied"] = unapplied(t["received"], t["charged"], t["returned"]).set_axis(t.index)
    t = t.sort_values(["created", "source"], kind="mergesort", na_position="last")
    return t.reset_index(drop=True)


def _add_no_transactions(t: pd.DataFrame) -> pd.DataFrame:
    for name in (*TXN_COUNT_COLUMNS, "days_since_last_transaction"):
        t[name] = pd.Series(pd.NA, index=t.index, dtype="Int64")
    t["other_currencies"] = pd.Series(None, index=t.index, dtype="object")
    t["last_transaction_at"] = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns, UTC]")
    return t


def _add_transactions(
    t: pd.DataFrame, txns: pd.DataFrame, when: pd.Timestamp | None
) -> pd.DataFrame:
    if not len(txns):
        t = _add_no_transactions(t)
        for name in TXN_COUNT_COLUMNS:
            t[name] = pd.Series(0, index=t.index, dtype="Int64")
        return t
    cur = dict(zip(t["source"], t["currency"], strict=True))
    x = txns.copy()
    x["same_currency"] = x["currency"] == x["source"].map(cur)
    counted = x["status"].eq("succeeded") & x["same_currency"]
    reversal = (x["amount"] < 0).fillna(False).astype(bool) & x["status"].ne("failed")
    x["counted_amount"] = x["amount"].where(counted, 0).fillna(0)
    x["is_reversal"] = reversal.astype(int)
    x["reversal_amount"] = x["amount"].where(reversal & x["same_currency"], 0).fillna(0)
    x["other"] = (~x["same_currency"]).astype(int)
    grouped = x.groupby("source", sort=False)
    agg = pd.DataFrame(
        {
            "transactions": grouped.size(),
            "transactions_total": grouped["counted_amount"].sum(),
            "reversals": grouped["is_reversal"].sum(),
            "reversals_total": grouped["reversal_amount"].sum(),
            "other_currency_transactions": grouped["other"].sum(),
            "last_transaction_at": grouped["created"].max(),
        }
    )
    others = (
        x[~x["same_currency"]]
        .groupby("source")["currency"]
        .agg(lambda s: ", ".join(sorted({c or "(none)" for c in s})))
    )
    idx = t["source"]
    for name in TXN_COUNT_COLUMNS:
        t[name] = pd.array(idx.map(agg[name]).fillna(0).to_numpy(), dtype="Int64")
    t["other_currencies"] = idx.map(others).astype("object")
    t["other_currencies"] = t["other_currencies"].where(t["other_currencies"].notna(), None)
    last = pd.to_datetime(idx.map(agg["last_transaction_at"]), utc=True)
    t["last_transaction_at"] = last.to_numpy()
    t["last_transaction_at"] = pd.to_datetime(t["last_transaction_at"], utc=True)
    t["days_since_last_transaction"] = days_between(t["last_transaction_at"], when)
    return t


def _run_checks(
    t: pd.DataFrame, ctx: CheckContext
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    flags: dict[str, list[str]] = {s: [] for s in t["source"]}
    findings: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for check, ran, hit in evaluate(t, CHECKS, ctx):
        count: Any = int(hit.sum()) if ran else pd.NA
        for row in t[hit].to_dict("records") if ran and count else ():
            flags[row["source"]].append(check.name)
            findings.append(
                {
                    "source": row["source"],
                    "check": check.name,
                    "title": check.title_for(ctx),
                    "detail": check.detail(row, ctx),
                }
            )
        rows.append(
            {
                "name": check.name,
                "title": check.title_for(ctx),
                "explanation": check.explanation_for(ctx),
                "ran": ran,
                "flagged": count,
            }
        )
    t = t.copy()
    t["flags"] = t["source"].map(lambda s: ", ".join(flags[s])).astype("object")
    t["flag_count"] = t["source"].map(lambda s: len(flags[s])).astype("int64")
    exceptions = pd.DataFrame(findings, columns=["source", "check", "title", "detail"])
    checks = pd.DataFrame(rows, columns=["name", "title", "explanation", "ran", "flagged"])
    checks["ran"] = checks["ran"].astype(bool)
    checks["flagged"] = checks["flagged"].astype("Int64")
    return t, exceptions, checks


def _finish_exceptions(findings: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    keep = [c for c in EXCEPTION_COLUMNS if c not in findings.columns]
    merged = findings.merge(table[["source", *keep]], on="source", how="left", sort=False)
    return merged[list(EXCEPTION_COLUMNS)].reset_index(drop=True)
