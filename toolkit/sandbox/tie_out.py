"""The independent tie-out of every receiver: where its money went, computed from the sandbox's
store alone, for tests to compare the toolkit's reading of the API with.

Per receiver: ``received`` (what it shows received plus what sweeps took) = ``charged`` (by the
charges made from it) + ``moved_to_cash`` (by a migration to Bank Transfers) + ``returned`` +
``swept`` + ``unapplied`` (still on it) + ``gap`` (what it counts as charged that no charge or
migration explains). Of what was charged: ``fees``, ``refunded`` (returned to the sender after
the charge), ``paid_out`` and ``in_balance`` (net, in a payout or not yet).

>>> from toolkit.sandbox.store import DataSet
>>> expected_tie_out(DataSet(livemode=False, account=None, rng_seed="1:runtime").ledger)
{}
"""

from __future__ import annotations

from typing import Any, Protocol

__all__ = ["expected_tie_out"]


class Books(Protocol):
    """What the tie-out reads of a data set's ledger (toolkit.sandbox.ledger.Ledger)."""

    sources: dict[str, dict[str, Any]]
    charges: dict[str, dict[str, Any]]
    refunds: dict[str, dict[str, Any]]
    balance: dict[str, dict[str, Any]]
    by_source: dict[str, list[str]]
    paid_in: dict[str, str]
    cash: Any


def expected_tie_out(ledger: Books) -> dict[str, dict[str, Any]]:
    """Where each receiver's money went, computed from the store alone (source id -> row:
    ``customer``, ``currency``, ``received``, ``charged``, ``refunded``, ``fees``,
    ``paid_out``, ``in_balance`` (charged net of fees and refunds, not yet paid out),
    ``moved_to_cash``, ``returned``, ``swept``, ``unapplied``, ``gap``; see the module
    docstring). Every receiver that received money, was charged or was swept has a row."""
    moved: dict[str, int] = {}
    for txns in ledger.cash.txns.values():
        for txn in txns:
            ref = (txn.get("funded") or {}).get("bank_transfer", {}).get("reference")
            if txn["type"] == "funded" and ref in ledger.sources:
                moved[ref] = moved.get(ref, 0) + txn["net_amount"]
    swept: dict[str, int] = {}
    for record in ledger.cash.sweeps:
        swept[record["source"]] = swept.get(record["source"], 0) + record["amount"]
    rows = {}
    for sid, src in ledger.sources.items():
        rcv = src.get("receiver")
        if rcv is None:
            continue
        charges = [ledger.charges[c] for c in ledger.by_source.get(sid, ())]
        received = rcv["amount_received"] + swept.get(sid, 0)
        if not (received or charges):
            continue
        charged = sum(c["amount"] for c in charges)
        refunded = sum(c["amount_refunded"] for c in charges)
        txn_ids = [c["balance_transaction"] for c in charges]
        txn_ids += [ledger.refunds[r]["balance_transaction"] for c in charges for r in c["refunds"]]
        nets = [(ledger.balance[t]["net"], t in ledger.paid_in) for t in txn_ids]
        left = rcv["amount_received"] - rcv["amount_charged"] - rcv["amount_returned"]
        rows[sid] = {
            "source": sid,
            "customer": src.get("customer"),
            "currency": src.get("currency") or "usd",
            "received": received,
            "charged": charged,
            "refunded": refunded,
            "fees": sum(ledger.balance[c["balance_transaction"]]["fee"] for c in charges),
            "paid_out": sum(net for net, paid in nets if paid),
            "in_balance": sum(net for net, paid in nets if not paid),
            "moved_to_cash": moved.get(sid, 0),
            "returned": rcv["amount_returned"],
            "swept": swept.get(sid, 0),
            "unapplied": left,
            "gap": rcv["amount_charged"] - charged - moved.get(sid, 0),
        }
    return rows
