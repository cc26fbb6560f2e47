"""Benchmark: 1,000 metadata updates through apply() against a sandbox with 30 ms latency and a
100 requests/s limit, with a session limited to 100 requests/s.

    .venv/bin/python bench/apply.py [--rows 1000] [--latency 0.03] [--limit 100] [--no-hint]
                                    [--customers 340] [--workers 8]

The plan is made the way a user makes it: load_sources() loads the account (not timed), the
first ``--rows`` sources of the frame by id are selected, plan_metadata() plans a change on them
and apply() applies it with the drift check on (the default). apply re-reads every source before
writing it; the plan carries the frame's size of the account (``plan.loaded``), so apply knows
listing the account is cheap and re-reads by listing it, pipelined with the writes.
``--no-hint`` applies without that hint (apply then tries the listing and stops it once it
costs as much as reading by customer).

Prints requests/s and updates/s as ratios of the limit; PASS when updates/s >= 0.90 of the limit
(every update is one write plus its share of the re-reads), no row failed and every source shows
the change afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toolkit.changes.apply import apply
from toolkit.changes.plan_metadata import plan_metadata
from toolkit.fetch import load_sources
from toolkit.sandbox import Sandbox
from toolkit.session import connect

KEY = "sk_test_" + "B3nch" * 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--limit", type=float, default=100.0)
    parser.add_argument("--customers", type=int, default=340, help="customers in the sandbox")
    parser.add_argument("--workers", type=int, default=None, help="default: session.max_workers")
    parser.add_argument("--no-hint", action="store_true", help="apply without the size hint")
    args = parser.parse_args()

    with (
        Sandbox(
            seed=7, customers=args.customers, latency=args.latency, rate_limit=args.limit
        ) as box,
        tempfile.TemporaryDirectory() as folder,
    ):
        session = connect(KEY, api_base=box.url, rate_limit=args.limit, quiet=True)
        frame = load_sources(session, progress=False)
        selection = frame.sort_values("id").head(args.rows)
        if len(selection) < args.rows:
            print(f"only {len(selection)} sources in the sandbox", file=sys.stderr)
        plan = plan_metadata(selection, set={"bench_run": "b1"})
        box.clear_log()
        started = time.perf_counter()
        outcome = apply(
            plan,
            session,
            journal=folder,
            progress=False,
            max_workers=args.workers,
            hint={} if args.no_hint else None,  # None: the plan's own (plan.loaded)
        )
        seconds = time.perf_counter() - started
        log = list(box.requests)
        landed = sum(
            1 for sid in selection["id"] if box.get_source(sid)["metadata"].get("bench_run") == "b1"
        )

    totals = outcome.totals
    requests = len(log)
    limited = sum(1 for e in log if e.status == 429)
    kinds = Counter(
        "write"
        if e.method == "POST"
        else "list customers"
        if e.path == "/v1/customers"
        else "list a customer's sources"
        if e.path.endswith("/sources")
        else "get a source"
        for e in log
    )
    rps = requests / seconds
    ups = totals["ok"] / seconds
    attrs = frame.attrs["toolkit"]
    print(
        f"account: {attrs['customers']} customers, {len(frame)} sources "
        f"(load_sources: {attrs['requests']} requests); plan: {len(plan.df)} rows over "
        f"{selection['customer'].nunique()} customers, "
        f"{int(selection['customer'].isna().sum())} without a customer; "
        f"hint: {'no' if args.no_hint else 'yes'}"
    )
    print(f"apply: {totals['ok']} ok, {totals['failed']} failed, {totals['drifted']} drifted")
    print(
        f"{requests} requests ({limited} answered 429) in {seconds:.2f} s; "
        f"workers={args.workers or session.max_workers}, latency={args.latency * 1000:.0f} ms"
    )
    print("requests: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common()))
    for note in outcome.notes:
        print(f"note: {note}")
    print(f"requests/s: {rps:.1f} = {rps / args.limit:.2f} of the {args.limit:.0f}/s limit")
    print(
        f"updates/s:  {ups:.1f} = {ups / args.limit:.2f} of the limit "
        "(each update = 1 write + its share of the re-reads)"
    )
    ratio = ups / args.limit
    good = ratio >= 0.9 and totals["failed"] == 0 and landed == len(selection)
    print(f"updates/s ratio: {ratio:.2f} (target >= 0.90): {'PASS' if good else 'FAIL'}")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
