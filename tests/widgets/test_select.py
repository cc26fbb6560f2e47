"""toolkit.fetch.select: filters and totals over a hand-built sources frame (no network)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from toolkit.errors import InvalidInputError
from toolkit.fetch.select import (
    filter_sources,
    parse_metadata_filter,
    totals_by_currency,
    unapplied_amount,
)


def _frame() -> pd.DataFrame:
    rows = [
        # id, customer, type, status, flow, currency, amount, created, email, name, recv, chg, ret, meta
        ("src_a", "cus_1", "ach_credit_transfer", "pending", "receiver", "usd", None,
         "2024-01-01T10:00:00Z", "ann@acme.test", "Ann", 5000, 2000, 0, {"batch": "q1"}),
        ("src_b", "cus_1", "ach_credit_transfer", "consumed", "receiver", "usd", None,
         "2024-02-01T00:00:00Z", "ann@acme.test", "Ann", 1000, 1000, 0, {}),
        ("src_c", "cus_2", "card", "chargeable", "none", "eur", 1250,
         "2024-03-15T23:59:00Z", "bob@other.test", "Bob", None, None, None, {"batch": "q2", "x": "1"}),
        ("src_d", None, "sepa_debit", "canceled", "none", "jpy", 500,
         "2024-04-01T00:00:00Z", None, None, None, None, None, {"batch": "q1"}),
    ]  # fmt: skip
    df = pd.DataFrame(
        rows,
        columns=[
            "id", "customer", "type", "status", "flow", "currency", "amount", "created",
            "owner_email", "owner_name", "receiver_amount_received", "receiver_amount_charged",
            "receiver_amount_returned", "metadata",
        ],
    )  # fmt: skip
    df["created"] = pd.to_datetime(df["created"], utc=True)
    for column in ("amount", "receiver_amount_received", "receiver_amount_charged"):
        df[column] = df[column].astype("Int64")
    df["receiver_amount_returned"] = df["receiver_amount_returned"].astype("Int64")
    df["type"] = df["type"].astype("category")
    df.attrs["toolkit"] = {"account": "test"}
    return df


def ids(df: pd.DataFrame) -> list[str]:
    return list(df["id"])


def test_no_filter_keeps_everything_and_attrs() -> None:
    df = _frame()
    out = filter_sources(df)
    assert ids(out) == ["src_a", "src_b", "src_c", "src_d"]
    assert out.attrs["toolkit"] == {"account": "test"}


def test_choice_filters() -> None:
    df = _frame()
    assert ids(filter_sources(df, types=["ach_credit_transfer"])) == ["src_a", "src_b"]
    assert ids(filter_sources(df, statuses="chargeable")) == ["src_c"]
    assert ids(filter_sources(df, currencies=["eur", "jpy"])) == ["src_c", "src_d"]
    assert ids(filter_sources(df, types=[], statuses=None)) == ids(df)  # empty = no filter
    assert ids(filter_sources(df, types=["card"], currencies=["usd"])) == []


def test_search_is_case_insensitive_over_ids_email_and_name() -> None:
    df = _frame()
    assert ids(filter_sources(df, search="ACME")) == ["src_a", "src_b"]
    assert ids(filter_sources(df, search="cus_2")) == ["src_c"]
    assert ids(filter_sources(df, search="bob")) == ["src_c"]
    assert ids(filter_sources(df, search="src_d")) == ["src_d"]
    assert ids(filter_sources(df, search="  ")) == ids(df)


def test_metadata_filter() -> None:
    df = _frame()
    assert ids(filter_sources(df, metadata="batch=q1")) == ["src_a", "src_d"]
    assert ids(filter_sources(df, metadata="batch")) == ["src_a", "src_c", "src_d"]
    assert ids(filter_sources(df, metadata="batch=q2, x=1")) == ["src_c"]
    assert ids(filter_sources(df, metadata={"x": None})) == ["src_c"]
    assert parse_metadata_filter(" a = b ,c,") == {"a": "b", "c": None}
    with pytest.raises(InvalidInputError, match="no key"):
        parse_metadata_filter("=x")


def test_unapplied() -> None:
    df = _frame()
    assert list(unapplied_amount(df).astype("object").where(lambda s: s.notna(), None)) == [
        3000, 0, None, None,
    ]  # fmt: skip
    assert ids(filter_sources(df, has_unapplied=True)) == ["src_a"]
    assert ids(filter_sources(df, has_unapplied=False)) == ["src_b", "src_c", "src_d"]


def test_created_range() -> None:
    df = _frame()
    assert ids(filter_sources(df, created=("2024-02-01", None))) == ["src_b", "src_c", "src_d"]
    # a plain date as the end includes that whole day
    assert ids(filter_sources(df, created=(None, dt.date(2024, 3, 15)))) == [
        "src_a",
        "src_b",
        "src_c",
    ]
    assert ids(filter_sources(df, created=(None, "2024-03-15T12:00:00Z"))) == ["src_a", "src_b"]
    stamp = dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)
    assert ids(filter_sources(df, created=(stamp, stamp + dt.timedelta(seconds=1)))) == ["src_a"]
    with pytest.raises(InvalidInputError, match="not a date"):
        filter_sources(df, created=("yesterday-ish", None))


def test_totals_by_currency() -> None:
    totals = totals_by_currency(_frame())
    assert list(totals["currency"]) == ["eur", "jpy", "usd"]
    usd = totals.set_index("currency").loc["usd"]
    assert (usd["sources"], usd["receivers"], usd["received"], usd["unapplied"]) == (
        2,
        2,
        6000,
        3000,
    )
    assert totals.set_index("currency").loc["jpy", "amount"] == 500
    empty = totals_by_currency(_frame().iloc[0:0])
    assert empty.empty and "unapplied" in empty.columns


def test_unapplied_follows_the_audits_rule() -> None:
    """A receiver with an unknown amount has an unknown unapplied balance, in the explorer as in
    the audit (the explorer used to count a missing charged amount as 0)."""
    from toolkit.audit import audit_receivers

    df = _frame()
    df.loc[0, "receiver_amount_charged"] = pd.NA
    assert unapplied_amount(df).isna().iloc[0]
    audited = audit_receivers(df, as_of="2024-06-01").sources.set_index("source")["unapplied"]
    assert audited.isna()["src_a"]
    assert ids(filter_sources(df, has_unapplied=True)) == []
