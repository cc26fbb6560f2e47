"""An audit's inputs, read and checked: the sources frame, the transactions, the audit date.

>>> resolve_as_of(None, {"taken_at": "2026-11-01T00:00:00+00:00"}, None, None, [])[1]
'snapshot'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.fetch.inputs import to_time

__all__ = [
    "TRANSACTION_COLUMNS",
    "empty_transactions",
    "normalize_sources",
    "normalize_transactions",
    "resolve_as_of",
    "text_or_none",
]


#: The columns of source transactions as the audits read them.
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


def text_or_none(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return str(value)


def to_utc(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        out = values
        if getattr(values.dt, "tz", None) is None:
            out = values.dt.tz_localize("UTC")
        return out.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(values):
        return pd.to_datetime(values, unit="s", utc=True)
    return pd.to_datetime(values, utc=True)


def int_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64")
    return pd.to_numeric(frame[name], errors="coerce").astype("Int64")


def text_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(None, index=frame.index, dtype="object")
    col = frame[name].astype("object")
    return col.where(col.notna(), None)


def normalize_sources(sources: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    frame = sources.reset_index(drop=True)
    if frame["id"].duplicated().any():
        dupes = int(frame["id"].duplicated().sum())
        notes.append(
            f"{dupes} duplicate source row(s) were dropped (the last copy of each is kept)."
        )
        frame = frame.drop_duplicates("id", keep="last").reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    out["id"] = frame["id"].astype("object")
    if "account" in frame.columns:  # a load across connected accounts
        out["account"] = text_column(frame, "account")
    for name in (
        "customer",
        "owner_email",
        "type",
        "status",
        "flow",
        "receiver_refund_attributes_method",
        "receiver_refund_attributes_status",
    ):
        out[name] = text_column(frame, name)
    currency = text_column(frame, "currency")
    out["currency"] = currency.map(lambda c: str(c).lower() if c is not None else "")
    if "created" in frame.columns:
        out["created"] = to_utc(frame["created"])
    else:
        out["created"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    for name in ("received", "charged", "returned"):
        out[name] = int_column(frame, f"receiver_amount_{name}")
    return out


def empty_transactions() -> pd.DataFrame:
    dtypes = {"amount": "Int64", "created": "datetime64[ns, UTC]"}
    return pd.DataFrame(
        {name: pd.Series(dtype=dtypes.get(name, "object")) for name in TRANSACTION_COLUMNS}
    )


def normalize_transactions(transactions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("source", "amount") if c not in transactions.columns]
    if missing:
        raise InvalidInputError(
            f"The transactions table lacks {', '.join(missing)}: pass the frame from "
            "toolkit.load_source_transactions."
        )
    frame = transactions.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    for name in ("id", "source", "customer", "type", "status"):
        out[name] = text_column(frame, name)
    currency = text_column(frame, "currency")
    out["currency"] = currency.map(lambda c: str(c).lower() if c is not None else "")
    out["amount"] = int_column(frame, "amount")
    if "created" in frame.columns:
        out["created"] = to_utc(frame["created"])
    else:
        out["created"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return out


def resolve_as_of(
    as_of: Any,
    meta: dict[str, Any],
    frame: pd.DataFrame,
    txns: pd.DataFrame | None,
    notes: list[str],
) -> tuple[pd.Timestamp | None, str]:
    if as_of is not None:
        return timestamp(as_of, "as_of"), "given"
    taken = meta.get("taken_at")
    if taken:
        return timestamp(taken, 'sources.attrs["toolkit"]["taken_at"]'), "snapshot"
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


def timestamp(value: Any, what: str) -> pd.Timestamp:
    """``value`` as a UTC time by the toolkit's one rule (:func:`toolkit.fetch.inputs.to_time`)."""
    stamp = to_time(value, what, none="None for the snapshot's time")
    if stamp is None:
        raise InvalidInputError(f"{what} must be a date and time, not None.")
    return stamp
