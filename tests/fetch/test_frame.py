"""The sources frame: same columns and dtypes whatever comes in, typed values, no client_secret."""

from __future__ import annotations

import copy
import json
from typing import Any

import pandas as pd

from toolkit.fetch.frame import empty_frame, sources_frame, transactions_frame
from toolkit.fetch.schema import FRAME_COLUMNS, FRAME_DTYPES, TRANSACTION_COLUMNS, frame_dtypes
from toolkit.redact import redact_source as redact


def _fixed(df: pd.DataFrame) -> dict[str, str]:
    return {c: t for c, t in frame_dtypes(df).items() if not c.startswith("metadata.")}


def test_empty_frame_has_every_column_and_dtype() -> None:
    df = empty_frame()
    assert tuple(df.columns) == FRAME_COLUMNS
    assert len(df) == 0
    assert str(df["amount"].dtype) == "Int64"
    assert str(df["created"].dtype) == "datetime64[us, UTC]"
    assert str(df["id"].dtype) == "string"
    assert isinstance(df["status"].dtype, pd.CategoricalDtype)
    for column, dtype in FRAME_DTYPES.items():
        assert df[column].dtype == dtype, column


def test_stripe_example_source(stripe_source: dict[str, Any]) -> None:
    df = sources_frame([stripe_source])
    row = df.iloc[0]
    assert row["id"] == "src_1Pgc75B7WZ01zgkWn9ogkWOr"
    assert row["type"] == "ach_credit_transfer"
    assert row["flow"] == "receiver"
    assert row["created"] == pd.Timestamp(1234567890, unit="s", tz="UTC")
    assert not row["livemode"] and str(df["livemode"].dtype) == "boolean"
    assert row["owner_email"] == "jenny.rosen@example.com"
    assert pd.isna(row["owner_name"]) and pd.isna(row["amount"]) and pd.isna(row["customer"])
    assert row["receiver_address"] == "121042882-38381234567890123"
    assert row["receiver_amount_received"] == 0
    assert row["receiver_refund_attributes_status"] == "missing"
    assert row["ach_credit_transfer_routing_number"] == "110000000"
    assert row["ach_credit_transfer_swift_code"] == "TSTEZ122"
    assert row["metadata"] == {}
    assert row["raw"]["id"] == row["id"]


def test_same_dtypes_whatever_types_are_present(variety: list[dict[str, Any]]) -> None:
    expected = _fixed(empty_frame())
    for subset in ([variety[0]], [variety[1]], [variety[2]], [variety[3]], variety):
        df = sources_frame(subset)
        assert list(df.columns[: len(FRAME_COLUMNS) - 1]) == list(FRAME_COLUMNS[:-1])
        assert df.columns[-1] == "raw"
        assert _fixed(df) == expected
    df = sources_frame(variety)
    # frames from different loads concatenate without losing dtypes
    both = pd.concat([sources_frame(variety[:2]), sources_frame(variety[2:])], ignore_index=True)
    assert _fixed(both) == expected
    assert both["status"].tolist() == df["status"].tolist()


def test_type_specific_columns(variety: list[dict[str, Any]]) -> None:
    df = sources_frame(variety).set_index("id")
    assert df.loc["src_card1", "card_brand"] == "Visa"
    assert df.loc["src_card1", "card_exp_year"] == 2030
    assert df.loc["src_card1", "amount"] == 1999
    assert df.loc["src_card1", "currency"] == "eur"
    assert pd.isna(df.loc["src_card1", "receiver_amount_received"])
    assert df.loc["src_sepa1", "sepa_debit_mandate_reference"] == "MR1"
    assert pd.isna(df.loc["src_sepa1", "owner_email"])  # owner is null
    assert df.loc["src_3ds1", "flow"] == "redirect"


def test_metadata_dict_and_columns(variety: list[dict[str, Any]]) -> None:
    df = sources_frame(variety)
    meta = [c for c in df.columns if c.startswith("metadata.")]
    assert meta == ["metadata.erp_id", "metadata.region"]
    assert all(str(df[c].dtype) == "string" for c in meta)
    assert df["metadata.region"].tolist()[:2] == ["us-east", "eu"]
    assert pd.isna(df["metadata.erp_id"].iloc[1])
    assert df["metadata"].iloc[0] == {"erp_id": "ERP-1", "region": "us-east"}
    assert list(df.columns).index("metadata.region") < list(df.columns).index("raw")
    no_cols = sources_frame(variety, metadata_columns=False)
    assert not [c for c in no_cols.columns if c.startswith("metadata.")]


def test_client_secret_appears_nowhere(variety: list[dict[str, Any]]) -> None:
    secret = variety[0]["client_secret"]
    df = sources_frame(variety)
    text = json.dumps(df.drop(columns=["created"]).to_dict("records"), default=str)
    assert "client_secret" not in text.replace("client_secret=[redacted]", "")
    assert secret not in text
    assert all("client_secret" not in raw for raw in df["raw"])
    assert "[redacted]" in df.set_index("id").loc["src_3ds1", "raw"]["redirect"]["url"]
    # the input objects are left untouched
    assert variety[0]["client_secret"] == secret


def test_redact_copies() -> None:
    src = {"id": "src_1", "client_secret": "src_client_secret_abc", "metadata": {}}
    out = redact(src)
    assert out == {"id": "src_1", "metadata": {}}
    assert "client_secret" in src


def test_unknown_values_extend_categories(stripe_source: dict[str, Any]) -> None:
    stripe_source["type"] = "paper_check"
    stripe_source["status"] = "brand_new_status"
    df = sources_frame([stripe_source])
    assert df["type"].iloc[0] == "paper_check"
    assert df["status"].iloc[0] == "brand_new_status"
    assert "pending" in df["status"].cat.categories


def test_odd_values_take_the_lenient_path(stripe_source: dict[str, Any]) -> None:
    odd = copy.deepcopy(stripe_source)
    odd["customer"] = {"id": "cus_expanded", "object": "customer"}
    odd["amount"] = "1200"
    odd["owner"] = "not a dict"
    odd["metadata"] = {"n": 5}
    df = sources_frame([stripe_source, odd])
    assert df["customer"].tolist()[1] == "cus_expanded"
    assert df["amount"].tolist()[1] == 1200
    assert pd.isna(df["owner_email"].iloc[1])
    assert pd.isna(df["metadata.n"].iloc[0])
    assert df["metadata.n"].iloc[1] == "5"
    assert _fixed(df) == _fixed(empty_frame())


def test_generators_and_large_inputs(stripe_source: dict[str, Any]) -> None:
    def gen():
        for i in range(2500):
            src = dict(stripe_source, id=f"src_{i}", customer=f"cus_{i % 7}")
            yield src

    df = sources_frame(gen())
    assert len(df) == 2500 and df["id"].is_unique
    assert df["customer"].nunique() == 7


def test_transactions_frame(stripe_transaction: dict[str, Any]) -> None:
    reversal = dict(stripe_transaction, id="srctxn_2", amount=-200, status="pending")
    df = transactions_frame(
        [stripe_transaction, reversal], {"src_1Pgc75B7WZ01zgkWn9ogkWOr": "cus_A"}
    )
    assert tuple(df.columns) == TRANSACTION_COLUMNS
    assert df["amount"].tolist() == [500, -200]
    assert str(df["amount"].dtype) == "Int64"
    assert df["customer"].tolist() == ["cus_A", "cus_A"]
    assert str(df["created"].dtype) == "datetime64[us, UTC]"
    assert df["status"].tolist() == ["succeeded", "pending"]
    assert "customer" not in df["raw"].iloc[0]
    empty = transactions_frame([])
    assert frame_dtypes(empty) == frame_dtypes(df)
