"""Has each customer a successor? For every source type a customer still pays with, the
payment methods that replace it.

Stripe's migration guides name the successor of each reusable Sources payment method: ACH Credit
Transfer (and SEPA Credit Transfer) -> Bank Transfers (the ``customer_balance`` payment method),
ACH Debit -> ``us_bank_account``, SEPA Debit and Multibanco -> their payment methods. Stripe lists
a customer's cards and card sources among their payment methods as ``card``, with their own
``card_``/``src_`` ids: those are the legacy objects themselves, never a successor.

>>> sources = pd.DataFrame({"id": ["src_1"], "customer": ["cus_1"], "type": ["sepa_debit"],
...     "status": ["chargeable"], "currency": ["eur"]})
>>> pms = pd.DataFrame({"customer": ["cus_1"], "id": ["pm_1"], "type": ["sepa_debit"],
...     "legacy": [False], "customer_default_source": ["src_1"],
...     "customer_default_payment_method": ["pm_1"]})
>>> successor_table(sources, pms, "test")[["source_type", "successor", "default_is_successor"]]
  source_type successor  default_is_successor
0  sepa_debit      pm_1                  True
"""

from __future__ import annotations

import pandas as pd

from toolkit.audit.links import dashboard_url

__all__ = ["SUCCESSOR_COLUMNS", "SUCCESSOR_TYPES", "successor_table"]

#: Source type -> the payment method types that replace it.
SUCCESSOR_TYPES: dict[str, tuple[str, ...]] = {
    "ach_credit_transfer": ("customer_balance",),
    "sepa_credit_transfer": ("customer_balance",),
    "ach_debit": ("us_bank_account",),
    "sepa_debit": ("sepa_debit",),
    "multibanco": ("multibanco",),
}
SUCCESSOR_COLUMNS = (
    "customer",
    "source_type",
    "currency",
    "sources",
    "successor_types",
    "successor",
    "has_successor",
    "default_source",
    "default_payment_method",
    "default_is_successor",
    "dashboard",
)


def successor_table(
    sources: pd.DataFrame, payment_methods: pd.DataFrame, mode: str | None
) -> pd.DataFrame:
    """One row per customer and source type they still pay with (a pending or chargeable source
    of a type in :data:`SUCCESSOR_TYPES`, of the customers ``payment_methods`` was read for):
    the sources, the payment methods that replace them (``successor``, ids), whether the
    customer's default payment method is one of them, beside their default source."""
    read = set(payment_methods["customer"].dropna().astype(str))
    status = sources["status"].astype(object)
    kind = sources["type"].astype(object)
    active = sources[
        status.isin(("pending", "chargeable"))
        & kind.isin(list(SUCCESSOR_TYPES))
        & sources["customer"].astype(object).isin(read)
    ]
    pms = payment_methods[payment_methods["id"].notna()]
    pms = pms[~pms["legacy"].fillna(False).astype(bool)]
    defaults = payment_methods.drop_duplicates("customer").set_index("customer")
    rows = []
    for (cid, source_type), group in active.groupby(["customer", "type"], sort=True):
        wanted = SUCCESSOR_TYPES[str(source_type)]
        mine = pms[(pms["customer"] == cid) & pms["type"].isin(wanted)]
        default_pm = defaults.at[cid, "customer_default_payment_method"]
        rows.append(
            {
                "customer": cid,
                "source_type": source_type,
                "currency": ", ".join(sorted({str(c) for c in group["currency"].dropna()})),
                "sources": ", ".join(group["id"].astype(str)),
                "successor_types": ", ".join(wanted),
                "successor": ", ".join(mine["id"].astype(str)),
                "has_successor": bool(len(mine)),
                "default_source": defaults.at[cid, "customer_default_source"],
                "default_payment_method": default_pm,
                "default_is_successor": bool(default_pm in set(mine["id"])),
                "dashboard": dashboard_url(cid, mode),
            }
        )
    out = pd.DataFrame(rows, columns=list(SUCCESSOR_COLUMNS))
    for col in ("has_successor", "default_is_successor"):
        out[col] = out[col].astype(bool)
    return out.astype(
        {c: object for c in SUCCESSOR_COLUMNS if c not in ("has_successor", "default_is_successor")}
    )
