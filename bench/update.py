"""Benchmark: a mixed plan_update (amount, owner, metadata, mandate in one table) through apply()
against a sandbox that applies Stripe's live limits, at budget 1.0 (issue 25).

    .venv/bin/python bench/update.py [--rows 1000] [--customers 620] [--budget 1.0]

The table is made the way an analyst fills it in: load_sources() loads the account (not timed),
the first ``--rows`` live sources (chargeable or pending) by id are selected, and each row gets a
``metadata.bench`` value and an ``owner.name``; single-use sources that are not receivers also an
``amount``; debit sources a mandate acceptance (offline). plan_update() plans it and apply()
applies it with the drift check on (every source re-read before its write).

It prints, from the sandbox's request log, requests per endpoint, wall time over the least time
the limits allow for the requests made (the larger of each endpoint's requests / its limit and
all requests / the global limit), and the share refused (429). Goal: wall <= 1.15x that bound;
no row failed, and every source shows its change afterwards (the SDK's own retrieve).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd
from goals import goal
from limits_report import LimitsReport

from toolkit.changes import apply
from toolkit.changes.plans.builders import plan_update
from toolkit.fetch import load_sources
from toolkit.sandbox import Sandbox
from toolkit.sandbox.limits import ENDPOINT_RATE, GLOBAL_RATES
from toolkit.session import connect

KEY = "sk_test_" + "B3nch" * 5
LIVE = GLOBAL_RATES["live"]
GOAL = 1.15
DEBITS = ("sepa_debit", "ach_debit")


def table_of(frame: pd.DataFrame, rows: int) -> pd.DataFrame:
    """The analyst's table: one row per live source, every field of its kind it can take."""
    live = frame[frame["status"].isin(["chargeable", "pending"])].sort_values("id").head(rows)
    single = (live["usage"] == "single_use") & (live["flow"] != "receiver")
    debit = live["type"].isin(DEBITS) & (live["status"] == "chargeable")
    return pd.DataFrame(
        {
            "id": live["id"].to_numpy(),
            "metadata.bench": "u1",
            "owner.name": [f"Bench {i}" for i in range(len(live))],
            "amount": ["4321" if s else "" for s in single],
            "mandate.acceptance.status": ["accepted" if d else "" for d in debit],
            "mandate.acceptance.date": ["2026-12-01" if d else "" for d in debit],
            "mandate.acceptance.type": ["offline" if d else "" for d in debit],
            "mandate.acceptance.offline.contact_email": [
                "mandates@example.com" if d else "" for d in debit
            ],
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=620, help="customers in the sandbox")
    parser.add_argument("--budget", type=float, default=1.0)
    args = parser.parse_args()

    with Sandbox(seed=7, customers=args.customers, limits="live") as box:
        session = connect(
            KEY, api_base=box.url, limits={"global": LIVE}, budget=args.budget, quiet=True
        )
        frame = load_sources(session, progress=False)
        table = table_of(frame, args.rows)
        plan = plan_update(table, sources=frame)
        kinds = {
            name: int(table[column].astype(bool).sum())
            for name, column in (("amount", "amount"), ("mandate", "mandate.acceptance.status"))
        }
        print(
            f"sandbox: limits 'live' ({LIVE:g}/s global, {ENDPOINT_RATE:g}/s per endpoint, "
            f"concurrency {box.limits.concurrency}); account: {len(frame)} sources; plan: "
            f"{plan.counts['ready']} ready of {len(table)} rows (all metadata + owner.name, "
            f"{kinds['amount']} with an amount, {kinds['mandate']} with a mandate); "
            f"budget {args.budget:g}"
        )
        with tempfile.TemporaryDirectory() as folder:
            box.clear_log()
            started = time.perf_counter()
            outcome = apply(plan, session, journal=folder, progress=False)
            wall = time.perf_counter() - started
        log = [e.to_dict() for e in box.requests]
        landed = 0
        for row in table.to_dict("records"):
            src = box.get_source(row["id"])
            landed += (
                src["metadata"].get("bench") == "u1"
                and src["owner"]["name"] == row["owner.name"]
                and (not row["amount"] or src["amount"] == 4321)
            )
        report = LimitsReport.of(
            log, wall=wall, global_rate=LIVE, endpoint_rate=ENDPOINT_RATE, budget=args.budget
        )
        totals = outcome.totals
        print(
            f"\n{totals['ok']} ok, {totals['failed']} failed, {totals['drifted']} drifted, "
            f"{landed} of {len(table)} show the change; {totals['ok'] / wall:.1f} updates/s"
        )
        for line in report.lines():
            print(line)
        for note in outcome.notes:
            print(f"note: {note}")
        goal("update of every kind: wall / least time", report.ratio, f"<= {GOAL:.2f}")
        goal("update of every kind: refused (%)", report.refused_share * 100, "<= 0.5")
        good = totals["failed"] == 0 and landed == len(table) and report.ratio <= GOAL
        print(
            f"goal: wall <= {GOAL:.2f}x bound, nothing failed, every row shows its change: "
            f"{'met' if good else 'MISSED'} ({report.ratio:.2f}x)"
        )
        session.close()
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
