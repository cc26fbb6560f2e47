"""The audit on frames built by toolkit.fetch.frame from Stripe-shaped dicts (real dtypes: categoricals,
string, Int64), which must give the same result as the hand-built frames."""

from __future__ import annotations

from typing import Any

from tests.audit.audit_frames import AS_OF
from toolkit.audit import audit_receivers
from toolkit.fetch.frame import sources_frame, transactions_frame

NOW = int(AS_OF.timestamp())
DAY = 86400


def source(
    id: str,
    received: int,
    charged: int,
    returned: int,
    *,
    status: str = "pending",
    currency: str = "usd",
    days_old: int = 10,
    customer: str | None = "cus_1",
    refund_status: str = "available",
    receiver: bool = True,
) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "id": id,
        "object": "source",
        "client_secret": f"{id}_secret_x",
        "created": NOW - days_old * DAY,
        "currency": currency,
        "customer": customer,
        "flow": "receiver",
        "livemode": False,
        "metadata": {"order": id},
        "owner": {"email": f"{id}@example.com"},
        "status": status,
        "type": "ach_credit_transfer",
        "usage": "reusable",
        "ach_credit_transfer": {"bank_name": "TEST BANK"},
    }
    if receiver:
        obj["receiver"] = {
            "address": "110000000-test",
            "amount_received": received,
            "amount_charged": charged,
            "amount_returned": returned,
            "refund_attributes_method": "email",
            "refund_attributes_status": refund_status,
        }
    return obj


def transaction(
    id: str, src: str, amount: int, *, currency: str = "usd", status: str = "succeeded"
):
    return {
        "id": id,
        "object": "source_transaction",
        "source": src,
        "amount": amount,
        "currency": currency,
        "created": NOW - 2 * DAY,
        "livemode": False,
        "status": status,
        "type": "ach_credit_transfer",
    }


def test_audit_on_frames_from_toolkit_frame(tmp_path):
    objs = [
        source("src_ok", 1000, 400, 0),
        source("src_consumed", 1000, 900, 0, status="consumed", days_old=70),
        source("src_canceled", 500, 0, 0, status="canceled", currency="jpy", customer=None),
        source("src_refund", 1000, 0, 1000, status="chargeable", refund_status="missing"),
        source("src_stale", 300, 0, 0, days_old=45),
        source("src_nohash", 0, 0, 0, receiver=False),
        {**source("src_card", 0, 0, 0, receiver=False), "flow": "none", "type": "card"},
    ]
    df = sources_frame(objs)
    df.attrs["toolkit"] = {"taken_at": AS_OF.isoformat(), "account": "sandbox", "mode": "sandbox"}
    txns = transactions_frame(
        [
            transaction("t1", "src_ok", 1000),
            transaction("t2", "src_consumed", 1100),
            transaction("t3", "src_consumed", -100),
            transaction("t4", "src_canceled", 500, currency="usd"),
            transaction("t5", "src_refund", 1000),
            transaction("t6", "src_stale", 300),
            transaction("t7", "src_other", 5),
        ],
        {"src_ok": "cus_1"},
    )
    audit = audit_receivers(df, txns)
    flags = audit.sources.set_index("source")["flags"].to_dict()
    assert flags == {
        "src_ok": "",
        "src_consumed": "funds_on_consumed, overpaid_consumed, negative_reversal",
        "src_canceled": "funds_on_canceled, transactions_mismatch, currency_mismatch_txn",
        "src_refund": "refund_attributes_missing",
        "src_stale": "stale_pending",
        "src_nohash": "receiver_missing",
    }
    assert list(audit.unmatched_transactions["id"]) == ["t7"]
    by_cur = audit.by_currency.set_index("currency")
    assert by_cur.loc["usd", "unapplied"] == 600 + 100 + 0 + 300
    assert by_cur.loc["jpy", "unapplied"] == 500
    assert audit.by_status["status"].map(type).eq(str).all()
    assert audit.sources["customer"].isna().sum() == 1
    assert audit.by_customer["customer"].isin(["(no customer)"]).any()
    assert str(audit.sources["created"].dtype).endswith("UTC]")
    assert audit.to_excel(tmp_path / "a.xlsx").exists()
    assert len(audit.to_csv(tmp_path / "csv")) == 9
