"""Benchmark: 1,000 metadata updates through apply() against a sandbox with 30 ms latency and a
100 requests/s limit, with a session limited to 100 requests/s.

    .venv/bin/python bench/apply.py [--rows 1000] [--latency 0.03] [--limit 100]

Prints the throughput as a ratio of the rate limit (target: at least 0.90 of the limit in
requests/s), and the updates/s, which is lower because apply re-reads every source before
writing it (drift check): one POST per row plus the re-reads (one list request per customer
for up to 8 of its rows, else one GET per row).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toolkit.apply import apply
from toolkit.plans import plan_metadata
from toolkit.sandbox import Sandbox
from toolkit.session import connect

KEY = "sk_test_" + "B3nch" * 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--limit", type=float, default=100.0)
    parser.add_argument("--workers", type=int, default=None, help="default: session.max_workers")
    args = parser.parse_args()

    with (
        Sandbox(seed=7, customers=320, latency=args.latency, rate_limit=args.limit) as box,
        tempfile.TemporaryDirectory() as folder,
    ):
        ids = sorted(box.store().sources)[: args.rows]
        if len(ids) < args.rows:
            print(f"only {len(ids)} sources in the sandbox", file=sys.stderr)
        sources = [box.get_source(sid) for sid in ids]
        session = connect(KEY, api_base=box.url, rate_limit=args.limit, quiet=True)
        plan = plan_metadata(sources, set={"bench_run": "b1"})
        box.clear_log()
        started = time.perf_counter()
        outcome = apply(plan, session, journal=folder, progress=False, max_workers=args.workers)
        seconds = time.perf_counter() - started
        requests = len(box.requests)
        limited = sum(1 for e in box.requests if e.status == 429)

    totals = outcome.totals
    rps = requests / seconds
    ups = totals["ok"] / seconds
    print(f"apply: {totals['ok']} ok, {totals['failed']} failed of {len(plan.df)} rows")
    print(
        f"{requests} requests ({limited} answered 429) in {seconds:.2f} s; "
        f"workers={args.workers or session.max_workers}, latency={args.latency * 1000:.0f} ms"
    )
    print(f"requests/s: {rps:.1f} = {rps / args.limit:.2f} of the {args.limit:.0f}/s limit")
    print(
        f"updates/s:  {ups:.1f} = {ups / args.limit:.2f} of the limit "
        "(each update = 1 write + its share of the re-reads)"
    )
    ratio = rps / args.limit
    print(f"throughput ratio: {ratio:.2f} (target >= 0.90): {'PASS' if ratio >= 0.9 else 'FAIL'}")
    return 0 if ratio >= 0.9 and totals["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
