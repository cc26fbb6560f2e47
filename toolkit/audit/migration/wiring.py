"""What is still wired to Sources: open invoices and live subscriptions that would collect
through a source (``default_source`` names a ``src_...``) or still offer ``ach_credit_transfer``
in ``payment_settings.payment_method_types``.

A bill with no ``default_source`` of its own collects through the customer's default when it is
charged automatically; Stripe's pages do not say how that meets a retiring source, so only the
bill's own settings are read here.

>>> bills = pd.DataFrame({"id": ["in_1", "in_2"], "customer": ["cus_1", "cus_2"],
...     "status": ["open", "open"], "currency": ["usd", "usd"], "amount_remaining": [500, 700],
...     "default_source": ["src_1", None], "payment_method_types": [None, "card"]})
>>> wired_bills(bills, None, "test")[["bill", "why"]].to_dict("records")
[{'bill': 'in_1', 'why': 'collects through the source src_1'}]
"""

from __future__ import annotations

import pandas as pd

from toolkit.audit.links import dashboard_url
from toolkit.money import to_major

__all__ = ["RETIRING_METHOD", "WIRED_COLUMNS", "wired_bills"]

#: The payment method type a bill may still offer that Stripe retires with Sources.
RETIRING_METHOD = "ach_credit_transfer"
WIRED_COLUMNS = (
    "kind",
    "bill",
    "customer",
    "status",
    "currency",
    "amount_remaining",
    "amount_remaining_major",
    "why",
    "action",
    "dashboard",
)
_OPEN_INVOICES = ("draft", "open")
_ENDED = ("canceled", "incomplete_expired")


def _why(row: pd.Series) -> list[str]:
    reasons = []
    source = row.get("default_source")
    if isinstance(source, str) and source.startswith("src_"):
        reasons.append(f"collects through the source {source}")
    types = row.get("payment_method_types")
    if isinstance(types, str) and RETIRING_METHOD in [t.strip() for t in types.split(",")]:
        reasons.append(f"offers {RETIRING_METHOD}")
    return reasons


def wired_bills(
    invoices: pd.DataFrame | None, subscriptions: pd.DataFrame | None, mode: str | None
) -> pd.DataFrame:
    """One row per open invoice or live subscription wired to Sources: ``why`` and the
    ``action`` that unwires it."""
    rows = []
    for kind, frame, live in (
        ("invoice", invoices, lambda s: s.isin(_OPEN_INVOICES)),
        ("subscription", subscriptions, lambda s: ~s.isin(_ENDED)),
    ):
        if frame is None or not len(frame):
            continue
        for _, row in frame[live(frame["status"].astype(object))].iterrows():
            why = _why(row)
            if not why:
                continue
            action = (
                f"Update the {kind}: set default_payment_method to the customer's successor "
                "and clear default_source"
                if any(w.startswith("collects") for w in why)
                else f"Update the {kind}: offer customer_balance instead of {RETIRING_METHOD}"
            )
            rows.append(
                {
                    "kind": kind,
                    "bill": row["id"],
                    "customer": row["customer"],
                    "status": row["status"],
                    "currency": row.get("currency"),
                    "amount_remaining": row.get("amount_remaining", pd.NA),
                    "why": "; ".join(why),
                    "action": action + ".",
                    "dashboard": dashboard_url(row["id"], mode),
                }
            )
    out = pd.DataFrame(rows, columns=[c for c in WIRED_COLUMNS if not c.endswith("_major")])
    out["amount_remaining"] = pd.to_numeric(out["amount_remaining"]).astype("Int64")
    out["amount_remaining_major"] = to_major(out["amount_remaining"], out["currency"])
    money = ("amount_remaining", "amount_remaining_major")
    out = out.astype({c: object for c in WIRED_COLUMNS if c not in money})
    return out[list(WIRED_COLUMNS)]
