"""Does the money tie out? Per receiver, every cent it received traced to where it went:

    received = charged + returned + swept + moved_to_cash + unapplied + gap

``received`` is what the receiver shows received plus what sweeps took (a sweep lowers
``amount_received``: toolkit.audit.migration.moves); ``charged`` the charges made from it (their
ids, balance transactions and payouts in the ledger: of it ``refunded`` went back to the sender
after the charge, ``fees`` to Stripe, ``paid_out`` and ``in_balance`` is the net in a payout or not
yet); ``returned`` what it returned to the sender; ``swept`` what Stripe's monthly sweep took to
the account balance; ``moved_to_cash`` what the migration to Bank Transfers moved into the cash
balance; ``unapplied`` what is still on it. The ``gap`` is what the receiver counts as charged that
no charge and no move explains (negative: more charges than it counts), named in ``gap_reason``.

>>> sources = pd.DataFrame({"id": ["src_1"], "customer": ["cus_1"], "flow": ["receiver"],
...     "currency": ["usd"], "receiver_amount_received": [5000],
...     "receiver_amount_charged": [3000], "receiver_amount_returned": [0]})
>>> ledger = pd.DataFrame({"kind": ["charge"], "id": ["ch_1"], "source": ["src_1"],
...     "amount": [2000], "fee": [100], "net": [1900], "balance_transaction": ["txn_1"],
...     "payout": ["po_1"], "charge": [None]})
>>> row = tie_out(sources, ledger, None, "test").iloc[0]
>>> int(row["charged"]), int(row["unapplied"]), int(row["gap"]), row["gap_reason"]
(2000, 2000, 1000, 'counted as charged on the receiver, but no charge or move was found: 10.00 USD')
"""

from __future__ import annotations

import pandas as pd

from toolkit.audit.checks import amount_text
from toolkit.audit.inputs import int_column
from toolkit.audit.links import dashboard_url
from toolkit.audit.migration.moves import moved_to_cash
from toolkit.money import to_major

__all__ = ["TIE_OUT_COLUMNS", "TIE_OUT_MONEY", "tie_out"]

#: The money of a tie-out row (minor units; each has a ``_major`` column beside it).
TIE_OUT_MONEY = (
    "received",
    "charged",
    "returned",
    "swept",
    "moved_to_cash",
    "unapplied",
    "gap",
    "refunded",
    "fees",
    "paid_out",
    "in_balance",
)
TIE_OUT_COLUMNS = (
    "source",
    "customer",
    "currency",
    *(c for m in TIE_OUT_MONEY for c in (m, f"{m}_major")),
    "gap_reason",
    "charges",
    "refunds",
    "balance_transactions",
    "payouts",
    "sweeps",
    "cash_transactions",
    "dashboard",
)


def _ids(values: pd.Series) -> str:
    return ", ".join(dict.fromkeys(str(v) for v in values if isinstance(v, str) and v))


def tie_out(
    sources: pd.DataFrame,
    ledger: pd.DataFrame,
    cash_transactions: pd.DataFrame | None,
    mode: str | None,
) -> pd.DataFrame:
    """One row per receiver of ``sources`` that received money, was charged or was swept (see
    the module docstring); ``ledger`` from :func:`toolkit.load_ledger`, ``cash_transactions``
    from :func:`toolkit.load_cash_balance_transactions` (without them a move into the cash
    balance shows in the gap)."""
    frame = sources.drop_duplicates("id", keep="last")
    receivers = frame[frame["flow"].astype(object) == "receiver"]
    moved = moved_to_cash(cash_transactions)
    moved_by = moved.groupby("source")["net"].sum().to_dict() if len(moved) else {}
    moved_ids = _cash_ids(cash_transactions) if cash_transactions is not None else {}
    rows = []
    received_col = int_column(receivers, "receiver_amount_received").fillna(0)
    charged_col = int_column(receivers, "receiver_amount_charged").fillna(0)
    returned_col = int_column(receivers, "receiver_amount_returned").fillna(0)
    by_source = {sid: g for sid, g in ledger.groupby("source", sort=False)} if len(ledger) else {}
    for i, sid in enumerate(receivers["id"].astype(str)):
        mine = by_source.get(sid, ledger.iloc[0:0])
        charges = mine[mine["kind"] == "charge"]
        refunds = mine[mine["kind"] == "refund"]
        sweeps = mine[mine["kind"] == "sweep"]
        swept = int(sweeps["amount"].fillna(0).sum())
        shown = int(received_col.iloc[i])
        if not (shown + swept or len(charges)):
            continue
        counted = int(charged_col.iloc[i])
        returned = int(returned_col.iloc[i])
        charged = int(charges["amount"].fillna(0).sum())
        into_cash = int(moved_by.get(sid, 0))
        money = pd.concat([charges, refunds])
        paid = money["payout"].notna() if len(money) else pd.Series(dtype=bool)
        gap = counted - charged - into_cash
        currency = str(receivers["currency"].iloc[i] or "")
        rows.append(
            {
                "source": sid,
                "customer": receivers["customer"].iloc[i],
                "currency": currency,
                "received": shown + swept,
                "charged": charged,
                "returned": returned,
                "swept": swept,
                "moved_to_cash": into_cash,
                "unapplied": shown - counted - returned,
                "gap": gap,
                "refunded": int(refunds["amount"].fillna(0).sum()),
                "fees": int(charges["fee"].fillna(0).sum()),
                "paid_out": int(money.loc[paid, "net"].fillna(0).sum()) if len(money) else 0,
                "in_balance": int(money.loc[~paid, "net"].fillna(0).sum()) if len(money) else 0,
                "gap_reason": _reason(gap, currency),
                "charges": _ids(charges["id"]),
                "refunds": _ids(refunds["id"]),
                "balance_transactions": _ids(money["balance_transaction"]),
                "payouts": _ids(money["payout"]),
                "sweeps": _ids(sweeps["id"]),
                "cash_transactions": moved_ids.get(sid, ""),
                "dashboard": dashboard_url(sid, mode),
            }
        )
    out = pd.DataFrame(rows, columns=[c for c in TIE_OUT_COLUMNS if not c.endswith("_major")])
    for name in TIE_OUT_MONEY:
        out[name] = pd.to_numeric(out[name]).astype("Int64")
        out[f"{name}_major"] = to_major(out[name], out["currency"].replace("", None))
    text = [c for c in TIE_OUT_COLUMNS if c not in TIE_OUT_MONEY and not c.endswith("_major")]
    out = out.astype({c: object for c in text})
    return out[list(TIE_OUT_COLUMNS)].reset_index(drop=True)


def _reason(gap: int, currency: str) -> str | None:
    if gap > 0:
        return (
            "counted as charged on the receiver, but no charge or move was found: "
            f"{amount_text(gap, currency)}"
        )
    if gap < 0:
        return f"charges of {amount_text(-gap, currency)} more than the receiver counts as charged"
    return None


def _cash_ids(moves: pd.DataFrame) -> dict[str, str]:
    """Source id -> the ids of the cash balance transactions that moved its money."""
    reference = moves.get("reference")
    if reference is None or not len(moves):
        return {}
    funded = moves[(moves["type"].astype(object) == "funded") & reference.notna()]
    found: dict[str, list[str]] = {}
    for ref, tid in zip(funded["reference"], funded["id"], strict=True):
        if isinstance(ref, str) and ref.startswith("src_"):
            found.setdefault(ref, []).append(str(tid))
    return {k: ", ".join(v) for k, v in found.items()}
