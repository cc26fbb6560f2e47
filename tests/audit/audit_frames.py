"""Hand-built sources and transactions frames in the shape of toolkit.load_sources, for audit tests."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

SOURCE_COLUMNS = [
    "id", "customer", "type", "status", "usage", "flow", "currency", "amount", "created",
    "livemode", "statement_descriptor", "owner_email", "owner_name", "owner_phone",
    "owner_address_line1", "owner_address_line2", "owner_address_city", "owner_address_state",
    "owner_address_postal_code", "owner_address_country", "receiver_address",
    "receiver_amount_received", "receiver_amount_charged", "receiver_amount_returned",
    "receiver_refund_attributes_method", "receiver_refund_attributes_status",
    "ach_credit_transfer_bank_name", "ach_credit_transfer_routing_number",
    "ach_credit_transfer_account_number", "ach_credit_transfer_fingerprint",
    "ach_credit_transfer_swift_code", "card_brand", "card_last4", "card_exp_month",
    "card_exp_year", "sepa_debit_country", "sepa_debit_last4", "sepa_debit_mandate_reference",
    "ach_debit_bank_name", "ach_debit_last4", "metadata", "raw",
]  # fmt: skip
INT_COLUMNS = [
    "amount", "receiver_amount_received", "receiver_amount_charged", "receiver_amount_returned",
]  # fmt: skip
TXN_COLUMNS = ["id", "source", "customer", "type", "status", "currency", "amount", "created",
               "livemode", "raw"]  # fmt: skip

AS_OF = pd.Timestamp("2026-11-01T00:00:00Z")


def receiver(
    id: str,
    *,
    received: int | None = 0,
    charged: int | None = 0,
    returned: int | None = 0,
    status: str = "pending",
    currency: str = "usd",
    customer: str | None = "cus_A",
    days_old: float = 10,
    refund_status: str | None = "available",
    refund_method: str | None = "email",
    **extra: Any,
) -> dict[str, Any]:
    """One receiver source row; ``received=None`` etc. means no receiver hash."""
    row: dict[str, Any] = {
        "id": id,
        "customer": customer,
        "type": "ach_credit_transfer",
        "status": status,
        "usage": "reusable",
        "flow": "receiver",
        "currency": currency,
        "created": AS_OF - pd.Timedelta(days=days_old),
        "livemode": False,
        "owner_email": f"{id}@example.com",
        "receiver_amount_received": received,
        "receiver_amount_charged": charged,
        "receiver_amount_returned": returned,
        "receiver_refund_attributes_method": refund_method,
        "receiver_refund_attributes_status": refund_status,
        "metadata": {},
        "raw": {"id": id},
    }
    row.update(extra)
    return row


def card(id: str, *, customer: str | None = "cus_A", days_old: float = 5) -> dict[str, Any]:
    return {
        "id": id,
        "customer": customer,
        "type": "card",
        "status": "chargeable",
        "flow": "none",
        "currency": None,
        "created": AS_OF - pd.Timedelta(days=days_old),
        "livemode": False,
        "card_brand": "Visa",
        "card_last4": "4242",
        "metadata": {},
        "raw": {"id": id},
    }


def sources_frame(rows: list[dict[str, Any]], *, taken_at: Any = AS_OF) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=SOURCE_COLUMNS)
    for col in INT_COLUMNS:
        df[col] = df[col].astype("Int64")
    df["created"] = pd.to_datetime(df["created"], utc=True)
    df["metadata"] = [r.get("metadata", {}) for r in rows]
    if taken_at is not None:
        df.attrs["toolkit"] = {
            "taken_at": pd.Timestamp(taken_at).isoformat(),
            "account": "sandbox",
            "mode": "sandbox",
            "missing_ids": [],
        }
    return df


def txn(
    id: str,
    source: str,
    amount: int,
    *,
    status: str = "succeeded",
    currency: str = "usd",
    days_old: float = 5,
    customer: str | None = "cus_A",
) -> dict[str, Any]:
    return {
        "id": id,
        "source": source,
        "customer": customer,
        "type": "ach_credit_transfer",
        "status": status,
        "currency": currency,
        "amount": amount,
        "created": AS_OF - pd.Timedelta(days=days_old),
        "livemode": False,
        "raw": {"id": id},
    }


def txn_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=TXN_COLUMNS)
    df["amount"] = df["amount"].astype("Int64")
    df["created"] = pd.to_datetime(df["created"], utc=True)
    return df


def assert_currency_totals(
    audit: Any, receivers: list[dict[str, Any]]
) -> dict[str, dict[str, int]]:
    """Check ``audit.by_currency`` against totals summed from stored receiver sources; return them."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in receivers:
        r = s["receiver"]
        t = totals[s["currency"]]
        t["receivers"] += 1
        t["received"] += r["amount_received"]
        t["charged"] += r["amount_charged"]
        t["returned"] += r["amount_returned"]
        t["unapplied"] += r["amount_received"] - r["amount_charged"] - r["amount_returned"]
    by_cur = audit.by_currency.set_index("currency")
    assert set(by_cur.index) == set(totals)
    for cur, t in totals.items():
        for key, value in t.items():
            assert by_cur.loc[cur, key] == value, (cur, key)
    return totals


def assert_planted_found(audit: Any, planted: dict[str, list[str]]) -> dict[str, set[str]]:
    """Check every planted anomaly is flagged by its check; return the flags per source."""
    flags = {
        row.source: set(filter(None, row.flags.split(", "))) for row in audit.sources.itertuples()
    }
    for name, ids in planted.items():
        assert ids, name
        for sid in ids:
            assert name in flags[sid], (name, sid, flags[sid])
    return flags
