"""Filter a sources frame and total what is left: the logic behind the explorer widget's filters.

Plain functions over the frame built by :func:`toolkit.load_sources`; no network.

Example::

    from toolkit.fetch.select import filter_sources, totals_by_currency
    receivers = filter_sources(df, types=["ach_credit_transfer"], has_unapplied=True)
    tagged = filter_sources(df, metadata="batch=2024-q1", search="@example.com")
    totals_by_currency(receivers)     # one row per currency: sources, amounts, unapplied
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeAlias

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.fetch.inputs import check_flag, is_date_only, to_time
from toolkit.fetch.schema import SOURCE_TYPES, STATUSES
from toolkit.money import CURRENCIES, unapplied

__all__ = [
    "SEARCH_COLUMNS",
    "filter_sources",
    "parse_metadata_filter",
    "totals_by_currency",
    "unapplied_amount",
]

#: Text columns that ``search=`` looks in (case-insensitive substring).
SEARCH_COLUMNS = ("id", "customer", "owner_email", "owner_name")

CreatedBound: TypeAlias = date | datetime | str | pd.Timestamp | None


def unapplied_amount(df: pd.DataFrame) -> pd.Series:
    """Receiver money not yet used, in minor units: received - charged - returned (Int64).

    Sources without receiver amounts (not receivers) give ``<NA>``, and so does a receiver with any
    of the three amounts unknown (the rule is :func:`toolkit.money.unapplied`, which the audit
    uses too). ``unapplied_amount(df).gt(0)`` marks sources that still hold customer money.
    """
    result = unapplied(
        df["receiver_amount_received"],
        df["receiver_amount_charged"],
        df["receiver_amount_returned"],
    )
    result.index = df.index
    return result


def parse_metadata_filter(spec: str | Mapping[str, str | None] | None) -> dict[str, str | None]:
    """Turn ``"key=value, other"`` into ``{"key": "value", "other": None}`` (None: key present).

    >>> parse_metadata_filter("batch=q1, reviewed")
    {'batch': 'q1', 'reviewed': None}
    """
    if spec is None:
        return {}
    if isinstance(spec, Mapping):
        return {str(k): (None if v is None else str(v)) for k, v in spec.items()}
    wanted: dict[str, str | None] = {}
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not key:
            raise InvalidInputError(
                f"metadata filter {part!r} has no key: write key=value, or key alone for 'has key'."
            )
        wanted[key] = value.strip() if sep else None
    return wanted


#: filter argument -> (its column, the values Stripe gives that column)
_CHOICES = {
    "types": ("type", SOURCE_TYPES),
    "statuses": ("status", STATUSES),
    "currencies": ("currency", CURRENCIES),
}


def _chosen(df: pd.DataFrame, values: Iterable[Any] | str | None, name: str) -> set[str] | None:
    """The values a filter keeps, each one of Stripe's or of the frame's: a typo is an error
    that lists the valid ones, never an empty frame. Currencies in any letter case."""
    column, known = _CHOICES[name]
    if values is None:
        return None
    present = sorted(str(v) for v in df[column].dropna().unique()) if column in df else []
    valid = present if column == "currency" else sorted({*known, *present})
    if isinstance(values, str):
        values = [values]
    if isinstance(values, Mapping) or not isinstance(values, Iterable):
        raise InvalidInputError(
            f"{name} must be a list of values such as {valid[:2]}, got {values!r}."
        )
    chosen = set()
    for value in values:
        text = value.strip() if isinstance(value, str) else value
        text = text.lower() if column == "currency" and isinstance(text, str) else text
        if not isinstance(text, str) or (text not in known and text not in present):
            raise InvalidInputError(
                f"{name}: {value!r} is not a {column} of these sources. Use one of: "
                f"{', '.join(valid) or '(none in this frame)'}."
            )
        chosen.add(text)
    return chosen or None


def _bound(value: CreatedBound, *, end: bool) -> pd.Timestamp | None:
    """A UTC timestamp (the rule is :func:`~toolkit.fetch.inputs.to_time`); a plain date as an
    end bound means the end of that day."""
    stamp = to_time(value, f"created {'end' if end else 'start'}")
    if stamp is not None and end and is_date_only(value):
        stamp = stamp.normalize() + timedelta(days=1)
    return stamp


def _in(df: pd.DataFrame, column: str, chosen: set[str] | None) -> pd.Series:
    if chosen is None:
        return pd.Series(True, index=df.index)
    return df[column].astype("string").isin(chosen).fillna(False).astype(bool)


def _metadata_match(df: pd.DataFrame, wanted: dict[str, str | None]) -> pd.Series:
    def ok(meta: Any) -> bool:
        meta = meta if isinstance(meta, Mapping) else {}
        for key, value in wanted.items():
            if key not in meta:
                return False
            if value is not None and str(meta[key]) != value:
                return False
        return True

    return df["metadata"].map(ok).astype(bool)


def filter_sources(
    df: pd.DataFrame,
    *,
    types: Iterable[str] | str | None = None,
    statuses: Iterable[str] | str | None = None,
    currencies: Iterable[str] | str | None = None,
    search: str | None = None,
    metadata: str | Mapping[str, str | None] | None = None,
    has_unapplied: bool | None = None,
    created: tuple[CreatedBound, CreatedBound] | None = None,
) -> pd.DataFrame:
    """The rows of a sources frame that pass every given filter (None or empty: no filter).

    ``filter_sources(df, statuses=["chargeable"], search="acme", created=("2024-01-01", None))``

    - ``types`` / ``statuses`` / ``currencies``: keep rows whose value is one of these; a value
      that is neither Stripe's nor in the frame is an error listing the valid ones.
    - ``search``: case-insensitive text found in the source id, customer id, owner email or name.
    - ``metadata``: ``"key=value"`` pairs, comma separated (or a dict); a key alone means "has the key".
    - ``has_unapplied``: True keeps receivers holding unapplied money, False keeps the others.
    - ``created``: ``(start, end)``, either may be None; start inclusive, end exclusive, a plain
      date as end includes that whole day. ISO dates and times, dates, datetimes or Unix times
      (:func:`~toolkit.fetch.inputs.to_time`); naive times are UTC.

    The result keeps the frame's columns, dtypes, index and ``attrs``.

    >>> receivers = toolkit.filter_sources(sources, types=["ach_credit_transfer"])
    >>> set(receivers["type"].astype(str)), len(receivers) < len(sources)
    ({'ach_credit_transfer'}, True)
    """
    mask = pd.Series(True, index=df.index)
    mask &= _in(df, "type", _chosen(df, types, "types"))
    mask &= _in(df, "status", _chosen(df, statuses, "statuses"))
    mask &= _in(df, "currency", _chosen(df, currencies, "currencies"))
    has_unapplied = check_flag(has_unapplied, "has_unapplied", optional=True)
    if search is not None and not isinstance(search, str):
        raise InvalidInputError(f"search must be text, got {search!r}.")
    if created is not None and (not isinstance(created, tuple | list) or len(created) != 2):
        raise InvalidInputError(
            "created must be a pair (start, end), e.g. ('2026-01-01', None); None for an open end."
        )
    if search is not None and search.strip():
        needle = search.strip().lower()
        found = pd.Series(False, index=df.index)
        for column in SEARCH_COLUMNS:
            text = df[column].astype("string").str.lower()
            found |= text.str.contains(needle, regex=False).fillna(False).astype(bool)
        mask &= found
    wanted = parse_metadata_filter(metadata)
    if wanted:
        mask &= _metadata_match(df, wanted)
    if has_unapplied is not None:
        holds = unapplied_amount(df).gt(0).fillna(False).astype(bool)
        mask &= holds if has_unapplied else ~holds
    if created is not None:
        start, end = _bound(created[0], end=False), _bound(created[1], end=True)
        when = pd.to_datetime(df["created"], utc=True)
        if start is not None:
            mask &= (when >= start).fillna(False).astype(bool)
        if end is not None:
            mask &= (when < end).fillna(False).astype(bool)
    out = df[mask]
    out.attrs = dict(df.attrs)
    return out


def totals_by_currency(df: pd.DataFrame) -> pd.DataFrame:
    """Counts and money totals per currency, in minor units (Int64).

    Columns ``currency, sources, receivers, amount, received, charged, returned, unapplied``;
    one row per currency present, sorted; sources without a currency are counted under ``""``.

    >>> toolkit.totals_by_currency(sources).columns.tolist()[:3]
    ['currency', 'sources', 'receivers']
    """
    columns = [
        "currency",
        "sources",
        "receivers",
        "amount",
        "received",
        "charged",
        "returned",
        "unapplied",
    ]
    if df.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype="string" if c == "currency" else "Int64") for c in columns}
        )
    work = pd.DataFrame(
        {
            "currency": df["currency"].astype("string").fillna(""),
            "sources": 1,
            "receivers": df["flow"].astype("string").eq("receiver").fillna(False).astype(int),
            "amount": pd.to_numeric(df["amount"], errors="coerce").astype("Int64"),
            "received": pd.to_numeric(df["receiver_amount_received"], errors="coerce").astype(
                "Int64"
            ),
            "charged": pd.to_numeric(df["receiver_amount_charged"], errors="coerce").astype(
                "Int64"
            ),
            "returned": pd.to_numeric(df["receiver_amount_returned"], errors="coerce").astype(
                "Int64"
            ),
            "unapplied": unapplied_amount(df),
        },
        index=df.index,
    )
    out = work.groupby("currency", sort=True).sum(min_count=0).reset_index()
    for column in columns[1:]:
        out[column] = out[column].astype("Int64")
    out["currency"] = out["currency"].astype("string")
    return out[columns]
