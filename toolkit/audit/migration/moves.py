"""What Stripe's automatic migration to Bank Transfers did with the money on a customer's ACH
Credit Transfer receivers, as the retirement audit reads it from the cash balance transactions and
the source transactions.

Stripe's automatic migration moves the money left on a customer's ACH Credit Transfer receivers
into their cash balance, and once the account is migrated Stripe sweeps money left unreconciled
on a source for more than 45 days to the account balance, on the 15th of each month
(toolkit.sandbox.ach_migration says how the sandbox shows both). So that no money is counted twice
or lost from view:

- a ``funded`` cash balance transaction whose reference is a source id is money moved from that
  receiver (:func:`moved_to_cash`); a receiver row that still shows it (a sources frame read
  before the migration) must not count it again as legacy money;
- a negative succeeded source transaction dated the 15th (UTC) is a sweep (:func:`sweeps`): money
  that left the customer's receiver for the account balance. Only the receivers whose
  transactions are read can show one. Stripe's pages do not say how a sweep shows on a source: if
  Stripe counts it in ``receiver.amount_charged`` instead, it cannot be told from a charge.

>>> moved_to_cash(None).empty
True
>>> txns = pd.DataFrame({"source": ["src_1", "src_1"], "amount": [5000, -1200],
...                      "created": ["2026-10-01", "2026-11-15"], "status": "succeeded"})
>>> sweeps(txns, moved_to_cash(None)).to_dict("records")
[{'source': 'src_1', 'created': Timestamp('2026-11-15 00:00:00+0000', tz='UTC'), 'amount': 1200}]
"""

from __future__ import annotations

import pandas as pd

from toolkit.audit.inputs import int_column, text_column, to_utc

__all__ = ["SWEEP_DAY", "moved_to_cash", "sweeps"]

#: Stripe's monthly sweep of money left on sources runs on this day of the month.
SWEEP_DAY = 15
_SOURCE_ID = r"src_[A-Za-z0-9]+"


def moved_to_cash(moves: pd.DataFrame | None) -> pd.DataFrame:
    """The money the migration moved from receivers into cash balances: the ``funded`` cash
    balance transactions whose reference is a source id, as ``customer``, ``currency``,
    ``source``, ``net`` (minor units) and ``created``."""
    columns = ["customer", "currency", "source", "net", "created"]
    if moves is None or not len(moves):
        return pd.DataFrame(columns=columns)
    reference = text_column(moves, "reference").astype("string")
    is_moved = (moves["type"].astype(object) == "funded") & reference.str.fullmatch(
        _SOURCE_ID
    ).fillna(False).astype(bool)
    m = moves[is_moved]
    return pd.DataFrame(
        {
            "customer": m["customer"].astype(object),
            "currency": text_column(m, "currency"),
            "source": reference[is_moved].astype(object),
            "net": int_column(m, "net_amount").fillna(0).astype(int),
            "created": to_utc(m["created"]),
        },
        columns=columns,
    ).reset_index(drop=True)


def sweeps(stxns: pd.DataFrame, moved: pd.DataFrame) -> pd.DataFrame:
    """The sweeps among source transactions: negative, succeeded, dated the 15th (UTC), and not
    the migration's move of the same amount from the same source (``moved``: from
    :func:`moved_to_cash`). Columns ``source``, ``created``, ``amount`` (positive: what left)."""
    t = stxns.assign(created=to_utc(stxns["created"]), amount=int_column(stxns, "amount"))
    if "status" in t.columns:
        t = t[t["status"].astype(object) == "succeeded"]
    t = t[(t["amount"].fillna(0) < 0) & (t["created"].dt.day == SWEEP_DAY)]
    was_moved = set(zip(moved["source"], moved["net"], strict=True))
    keep = [(s, -int(a)) not in was_moved for s, a in zip(t["source"], t["amount"], strict=True)]
    out = t[pd.Series(keep, index=t.index, dtype=bool)]
    return pd.DataFrame(
        {"source": out["source"], "created": out["created"], "amount": -out["amount"]}
    ).reset_index(drop=True)
