"""Receiver balance audit: what each receiver source holds, what looks wrong, and roll-ups.

Example::

    import toolkit
    session = toolkit.connect()
    sources = toolkit.load_sources(session)
    txns = toolkit.load_source_transactions(session, sources[sources.flow == "receiver"])
    audit = toolkit.audit_receivers(sources, txns)
    audit.exceptions                     # one row per finding, with a sentence saying why
    audit.to_excel("exports/audit.xlsx")  # cover sheet + one sheet per table
    audit.plot()                          # unapplied funds by age and currency, findings per check

Amounts are kept in the currency's minor unit (``received``, ``charged``, ...) next to the major unit
(``received_major``, ... as exact ``Decimal``) and the ``currency``. Different currencies are never
added together. The audit date (``as_of``) comes from the snapshot (``taken_at``), never the clock.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from toolkit.audit_checks import CHECKS, CheckContext
from toolkit.errors import InvalidInputError
from toolkit.money import minor_to_major

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["AGING_BUCKETS", "MONEY_COLUMNS", "Audit", "audit_receivers"]

#: Aging buckets of unapplied funds, by the source's age in days at the audit date.
AGING_BUCKETS: tuple[str, ...] = ("0-30 days", "31-60 days", "61-90 days", "over 90 days")
#: The money columns (minor units) that every table carries next to a ``<name>_major`` column.
MONEY_COLUMNS: tuple[str, ...] = ("received", "charged", "returned", "unapplied")
_MONEY_AND_MAJOR = (*MONEY_COLUMNS, *(f"{name}_major" for name in MONEY_COLUMNS))
_STATUS_ORDER = ("pending", "chargeable", "consumed", "canceled", "failed")
_NO_CUSTOMER = "(no customer)"
_DAY = pd.Timedelta(days=1)
#: Per-receiver transaction counts and totals (Int64; 0 when a receiver has no transactions).
_TXN_COUNT_COLUMNS = (
    "transactions",
    "transactions_total",
    "reversals",
    "reversals_total",
    "other_currency_transactions",
)

SOURCE_COLUMNS: tuple[str, ...] = (
    "source",
    "customer",
    "owner_email",
    "type",
    "status",
    "currency",
    "created",
    "age_days",
    *_MONEY_AND_MAJOR,
    "refund_attributes_method",
    "refund_attributes_status",
    "transactions",
    "transactions_total",
    "transactions_total_major",
    "reversals",
    "reversals_total",
    "other_currency_transactions",
    "other_currencies",
    "last_transaction_at",
    "days_since_last_transaction",
    "aging_bucket",
    "flags",
    "flag_count",
)
EXCEPTION_COLUMNS: tuple[str, ...] = (
    "source",
    "check",
    "title",
    "detail",
    "customer",
    "owner_email",
    "status",
    "currency",
    "created",
    *_MONEY_AND_MAJOR,
)
TRANSACTION_COLUMNS: tuple[str, ...] = (
    "id",
    "source",
    "customer",
    "type",
    "status",
    "currency",
    "amount",
    "created",
)


@dataclass
class Audit:
    """The result of :func:`audit_receivers`: tables, findings and the context they were made in.

    ``summary`` (item/value), ``sources`` (one row per receiver), ``exceptions`` (one row per
    finding: source + check), ``by_currency``, ``by_customer``, ``by_status``, ``aging``, ``checks``
    (name, title, explanation, ran, flagged), ``unmatched_transactions`` (transactions whose source is
    not in the frame), ``as_of`` (UTC timestamp or None), ``as_of_basis`` ("given", "snapshot",
    "latest activity", "none"), ``account``, ``mode``, ``pending_days``, ``notes``.

    Example::

        audit = audit_receivers(sources, txns)
        audit.by_currency[["currency", "unapplied_major"]]
        audit.to_csv("exports/audit-csv")
    """

    summary: pd.DataFrame
    sources: pd.DataFrame
    exceptions: pd.DataFrame
    by_currency: pd.DataFrame
    by_customer: pd.DataFrame
    by_status: pd.DataFrame
    aging: pd.DataFrame
    checks: pd.DataFrame
    unmatched_transactions: pd.DataFrame
    as_of: pd.Timestamp | None
    as_of_basis: str
    account: str | None
    mode: str | None
    pending_days: int
    transactions_given: bool
    notes: list[str] = field(default_factory=list)

    @property
    def checks_run(self) -> list[str]:
        """Names of the checks that ran (transaction checks only run with transactions)."""
        return [str(n) for n in self.checks.loc[self.checks["ran"], "name"]]

    @property
    def flagged(self) -> pd.DataFrame:
        """The receiver rows with at least one finding: ``audit.flagged["source"]``."""
        return self.sources[self.sources["flag_count"] > 0].reset_index(drop=True)

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by its export name, in export order: ``list(audit.tables())``."""
        tables = {
            "summary": self.summary,
            "checks": self.checks,
            "exceptions": self.exceptions,
            "sources": self.sources,
            "by_currency": self.by_currency,
            "by_customer": self.by_customer,
            "by_status": self.by_status,
            "aging": self.aging,
        }
        if len(self.unmatched_transactions):
            tables["unmatched_transactions"] = self.unmatched_transactions
        return tables

    def to_excel(self, path: str | Path) -> Path:
        """Write an Excel workbook finance can file; returns the path: ``audit.to_excel("a.xlsx")``.

        A cover sheet (totals per currency, as-of, account, mode, checks run) and one sheet per
        table; money is formatted as money with the currency's decimals. The file is made 0600.
        """
        from toolkit.audit_export import write_excel

        return write_excel(self, path)

    def to_csv(self, folder: str | Path) -> dict[str, Path]:
        """Write one CSV per table into ``folder``; returns name -> path: ``audit.to_csv("out")``."""
        from toolkit.audit_export import write_csv

        return write_csv(self, folder)

    def plot(self, path: str | Path | None = None) -> Figure:
        """Charts of unapplied funds by age per currency and findings per check: ``audit.plot()``.

        Returns a matplotlib Figure (no pyplot state, renders in a notebook); with ``path`` it is
        also saved as PNG.
        """
        from toolkit.audit_plot import plot_audit

        return plot_audit(self, path)

    def __repr__(self) -> str:
        when = self.as_of.isoformat() if self.as_of is not None else "unknown"
        return (
            f"<Audit as of {when}: {len(self.sources)} receivers, "
            f"{int((self.sources['flag_count'] > 0).sum()) if len(self.sources) else 0} flagged, "
            f"{len(self.exceptions)} findings>"
        )

    def _repr_html_(self) -> str:
        parts = [f"<p><b>{html.escape(repr(self))}</b></p>"]
        parts.append(self.summary.to_html(index=False))
        checks = self.checks[["title", "ran", "flagged"]]
        parts.append(checks.to_html(index=False))
        return "\n".join(parts)


def audit_receivers(
    sources: pd.DataFrame,
    transactions: pd.DataFrame | None = None,
    *,
    as_of: datetime | pd.Timestamp | str | None = None,
    pending_days: int = 30,
) -> Audit:
    """Audit the receiver sources of a sources frame (from ``load_sources`` or a snapshot).

    ``transactions`` (from ``load_source_transactions``) enables the reconciliation checks.
    ``as_of`` defaults to the snapshot's ``attrs["toolkit"]["taken_at"]``; without it, to the
    latest created/transaction time in the data (said in ``audit.notes``), never the wall clock.
    ``pending_days``: how long a receiver may stay pending before ``stale_pending`` flags it.

    Example::

        audit = audit_receivers(sources, txns, pending_days=45)
        audit.exceptions[["source", "title", "detail"]]
    """
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

    meta: dict[str, Any] = dict(sources.attrs.get("toolkit") or {})
    notes: list[str] = []
    frame = _normalize_sources(sources, notes)
    txns = _normalize_transactions(transactions) if transactions is not None else None

    when, basis = _resolve_as_of(as_of, meta, frame, txns, notes)
    table = _receiver_table(frame)
    unmatched = _empty_transactions()
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
        missing = (transactions.attrs.get("toolkit") or {}).get("missing_ids") or []
        if missing:
            notes.append(
                f"Stripe did not know {len(missing)} source id(s) asked for transactions: "
                f"{', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}."
            )
        table = _add_transactions(table, txns[txns["source"].isin(set(table["source"]))], when)
    else:
        table = _add_no_transactions(table)
        notes.append(
            "No source transactions were given: the transaction checks did not run "
            "(pass load_source_transactions(...) to run them)."
        )

    table["age_days"] = _days_between(table["created"], when)
    table["aging_bucket"] = _aging_bucket(table["age_days"], table["unapplied"])
    ctx = CheckContext(pending_days=pending_days, has_transactions=txns is not None)
    table, exceptions, checks = _run_checks(table, ctx)
    for name in MONEY_COLUMNS:
        table[f"{name}_major"] = _major(table[name], table["currency"])
    table["transactions_total_major"] = _major(table["transactions_total"], table["currency"])
    table = table[list(SOURCE_COLUMNS)].reset_index(drop=True)
    exceptions = _finish_exceptions(exceptions, table)

    by_currency = _rollup(table, ["currency"])
    by_customer = _rollup(table, ["customer", "currency"])
    by_status = _rollup(table, ["status", "currency"])
    aging = _aging(table)

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
        aging=aging,
        checks=checks,
        unmatched_transactions=unmatched,
        as_of=when,
        as_of_basis=basis,
        account=_text_or_none(meta.get("account")),
        mode=_text_or_none(meta.get("mode")),
        pending_days=pending_days,
        transactions_given=txns is not None,
        notes=notes,
    )
    audit.summary = _summary(audit, n_sources=len(frame))
    return audit


# --- inputs -----------------------------------------------------------------------------------


def _text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def _to_utc(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values
        if getattr(values.dt, "tz", None) is None:
            out = values.dt.tz_localize("UTC")
        return out.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values, unit="s", utc=True)
    return pd.to_datetime(values, utc=True)


def _int_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return pd.to_numeric(frame[name], errors="coerce").astype("Int64")


def _text_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(None, index=frame.index, dtype="object")
    col = frame[name].astype("object")
    return col.where(col.notna(), None)


def _normalize_sources(sources: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    frame = sources.reset_index(drop=True)
    if frame["id"].duplicated().any():
        dupes = int(frame["id"].duplicated().sum())
        notes.append(
            f"{dupes} duplicate source row(s) were dropped (the last copy of each is kept)."
        )
        frame = frame.drop_duplicates("id", keep="last").reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    out["id"] = frame["id"].astype("object")
    for name in (
        "customer",
        "owner_email",
        "type",
        "status",
        "flow",
        "receiver_refund_attributes_method",
        "receiver_refund_attributes_status",
    ):
        out[name] = _text_column(frame, name)
    currency = _text_column(frame, "currency")
    out["currency"] = currency.map(lambda c: str(c).lower() if c is not None else "")
    if "created" in frame.columns:
        out["created"] = _to_utc(frame["created"])
    else:
        out["created"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    for name in ("received", "charged", "returned"):
        out[name] = _int_column(frame, f"receiver_amount_{name}")
    return out


def _empty_transactions() -> pd.DataFrame:
    dtypes = {"amount": "Int64", "created": "datetime64[ns, UTC]"}
    return pd.DataFrame(
        {name: pd.Series(dtype=dtypes.get(name, "object")) for name in TRANSACTION_COLUMNS}
    )


def _normalize_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("source", "amount") if c not in transactions.columns]
    if missing:
        raise InvalidInputError(
            f"The transactions table lacks {', '.join(missing)}: pass the frame from "
            "toolkit.load_source_transactions."
        )
    frame = transactions.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for name in ("id", "source", "customer", "type", "status"):
        out[name] = _text_column(frame, name)
    currency = _text_column(frame, "currency")
    out["currency"] = currency.map(lambda c: str(c).lower() if c is not None else "")
    out["amount"] = _int_column(frame, "amount")
    if "created" in frame.columns:
        out["created"] = _to_utc(frame["created"])
    else:
        out["created"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return out


def _resolve_as_of(
    as_of: Any,
    meta: dict[str, Any],
    frame: pd.DataFrame,
    txns: pd.DataFrame | None,
    notes: list[str],
) -> tuple[pd.Timestamp | None, str]:
    if as_of is not None:
        return _timestamp(as_of, "as_of"), "given"
    taken = meta.get("taken_at")
    if taken:
        return _timestamp(taken, 'sources.attrs["toolkit"]["taken_at"]'), "snapshot"
    times = [frame["created"].max()]
    if txns is not None and len(txns):
        times.append(txns["created"].max())
    times = [t for t in times if t is not None and not pd.isna(t)]
    if times:
        latest = max(times)
        notes.append(
            "The sources carry no snapshot time, so the audit date is the latest creation or "
            f"transaction time found in the data ({latest.isoformat()})."
        )
        return latest, "latest activity"
    notes.append("No audit date could be found (no snapshot time, no dates in the data).")
    return None, "none"


def _timestamp(value: Any, what: str) -> pd.Timestamp:
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(
            f"{what} must be a date and time such as '2026-11-01T00:00:00Z', not {value!r}."
        ) from exc
    if pd.isna(stamp):
        raise InvalidInputError(f"{what} must be a date and time, not {value!r}.")
    if stamp.tzinfo is None:
        return stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC")


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
    t["unapplied"] = t["received"] - t["charged"] - t["returned"]
    t = t.sort_values(["created", "source"], kind="mergesort", na_position="last")
    return t.reset_index(drop=True)


def _add_no_transactions(t: pd.DataFrame) -> pd.DataFrame:
    for name in (*_TXN_COUNT_COLUMNS, "days_since_last_transaction"):
        t[name] = pd.Series(pd.NA, index=t.index, dtype="Int64")
    t["other_currencies"] = pd.Series(None, index=t.index, dtype="object")
    t["last_transaction_at"] = pd.Series(pd.NaT, index=t.index, dtype="datetime64[ns, UTC]")
    return t


def _add_transactions(
    t: pd.DataFrame, txns: pd.DataFrame, when: pd.Timestamp | None
) -> pd.DataFrame:
    if not len(txns):
        t = _add_no_transactions(t)
        for name in _TXN_COUNT_COLUMNS:
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
    for name in _TXN_COUNT_COLUMNS:
        t[name] = pd.array(idx.map(agg[name]).fillna(0).to_numpy(), dtype="Int64")
    t["other_currencies"] = idx.map(others).astype("object")
    t["other_currencies"] = t["other_currencies"].where(t["other_currencies"].notna(), None)
    last = pd.to_datetime(idx.map(agg["last_transaction_at"]), utc=True)
    t["last_transaction_at"] = last.to_numpy()
    t["last_transaction_at"] = pd.to_datetime(t["last_transaction_at"], utc=True)
    t["days_since_last_transaction"] = _days_between(t["last_transaction_at"], when)
    return t


def _days_between(times: pd.Series, when: pd.Timestamp | None) -> pd.Series:
    if when is None or not len(times):
        return pd.Series(pd.NA, index=times.index, dtype="Int64")
    delta = (when - times) / _DAY
    return delta.apply(lambda d: pd.NA if pd.isna(d) else int(d // 1)).astype("Int64")


def _aging_bucket(age: pd.Series, unapplied: pd.Series) -> pd.Series:
    def bucket(days: Any, amount: Any) -> str | None:
        if pd.isna(amount) or amount <= 0 or pd.isna(days):
            return None
        if days <= 30:
            return AGING_BUCKETS[0]
        if days <= 60:
            return AGING_BUCKETS[1]
        if days <= 90:
            return AGING_BUCKETS[2]
        return AGING_BUCKETS[3]

    values = [bucket(d, a) for d, a in zip(age, unapplied, strict=True)]
    return pd.Series(values, index=age.index, dtype="object")


def _major(amounts: pd.Series, currencies: pd.Series) -> pd.Series:
    values = [
        None if pd.isna(a) or not c else minor_to_major(int(a), str(c))
        for a, c in zip(amounts, currencies, strict=True)
    ]
    return pd.Series(values, index=amounts.index, dtype="object")


# --- checks ------------------------------------------------------------------------------------


def _run_checks(
    t: pd.DataFrame, ctx: CheckContext
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    flags: dict[str, list[str]] = {s: [] for s in t["source"]}
    findings: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for check in CHECKS:
        ran = ctx.has_transactions or not check.needs_transactions
        count: Any = pd.NA
        if ran:
            hit = check.flags(t, ctx) if len(t) else pd.Series(dtype=bool)
            count = int(hit.sum())
            for row in t[hit].to_dict("records") if count else ():
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


# --- roll-ups ----------------------------------------------------------------------------------


def _rollup(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    columns = [
        *keys,
        "receivers",
        "flagged",
        *MONEY_COLUMNS,
        *(f"{m}_major" for m in MONEY_COLUMNS),
    ]
    if not len(table):
        out = pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
        for c in ("receivers", "flagged"):
            out[c] = out[c].astype("int64")
        for m in MONEY_COLUMNS:
            out[m] = out[m].astype("Int64")
        return out
    work = table[[*keys, *MONEY_COLUMNS, "flag_count"]].copy()
    if "customer" in keys:
        work["customer"] = work["customer"].where(work["customer"].notna(), _NO_CUSTOMER)
    if "status" in keys:
        work["status"] = work["status"].where(work["status"].notna(), "(unknown)")
    work["flagged"] = (work["flag_count"] > 0).astype("int64")
    grouped = work.groupby(keys, sort=True, dropna=False)
    out = grouped[list(MONEY_COLUMNS)].sum(min_count=0).astype("Int64")
    out.insert(0, "flagged", grouped["flagged"].sum().astype("int64"))
    out.insert(0, "receivers", grouped.size().astype("int64"))
    out = out.reset_index()
    if keys == ["status", "currency"]:
        order = {s: i for i, s in enumerate(_STATUS_ORDER)}
        out["_o"] = out["status"].map(lambda s: order.get(s, len(order)))
        out = out.sort_values(["currency", "_o", "status"], kind="mergesort").drop(columns="_o")
    elif keys == ["customer", "currency"]:
        out = out.sort_values(
            ["currency", "unapplied", "customer"], ascending=[True, False, True], kind="mergesort"
        )
    for m in MONEY_COLUMNS:
        out[f"{m}_major"] = _major(out[m], out["currency"])
    return out[columns].reset_index(drop=True)


def _aging(table: pd.DataFrame) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for currency in sorted(set(table["currency"])):
        sub = table[table["currency"] == currency]
        for bucket in AGING_BUCKETS:
            held = sub[sub["aging_bucket"] == bucket]
            amount = int(held["unapplied"].sum()) if len(held) else 0
            rows.append(
                {
                    "currency": currency,
                    "bucket": bucket,
                    "receivers": len(held),
                    "unapplied": amount,
                    "unapplied_major": minor_to_major(amount, currency) if currency else None,
                }
            )
    out = pd.DataFrame(
        rows, columns=["currency", "bucket", "receivers", "unapplied", "unapplied_major"]
    )
    out["receivers"] = out["receivers"].astype("int64")
    out["unapplied"] = out["unapplied"].astype("Int64")
    return out


def _summary(audit: Audit, *, n_sources: int) -> pd.DataFrame:
    from toolkit.money import format_money

    t = audit.sources
    items: list[tuple[str, Any]] = [
        ("As of (UTC)", audit.as_of.isoformat() if audit.as_of is not None else "unknown"),
        ("As-of basis", _BASIS_TEXT[audit.as_of_basis]),
        ("Account", audit.account or "unknown"),
        ("Mode", audit.mode or "unknown"),
        ("Sources in the table", n_sources),
        ("Receiver sources audited", len(t)),
        ("Receivers with findings", int((t["flag_count"] > 0).sum()) if len(t) else 0),
        ("Findings", len(audit.exceptions)),
        ("Currencies", ", ".join(c.upper() or "(none)" for c in audit.by_currency["currency"])),
        ("Source transactions", "given" if audit.transactions_given else "not given"),
        ("Transactions of sources not in the table", len(audit.unmatched_transactions)),
        ("Pending limit (days)", audit.pending_days),
        ("Checks run", len(audit.checks_run)),
    ]
    for _, row in audit.by_currency.iterrows():
        label = str(row["currency"]).upper() or "(none)"
        for m in MONEY_COLUMNS:
            amount = int(row[m])
            shown = format_money(amount, row["currency"]) if row["currency"] else str(amount)
            items.append((f"{m.capitalize()} ({label})", shown))
    items.extend(("Note", note) for note in audit.notes)
    frame = pd.DataFrame(items, columns=["item", "value"])
    frame["value"] = frame["value"].astype("object")
    return frame


_BASIS_TEXT = {
    "given": "given by the caller",
    "snapshot": "the time the sources were fetched (snapshot)",
    "latest activity": "no snapshot time recorded: the latest creation or transaction time",
    "none": "unknown: no snapshot time and no dates in the data",
}
