"""Benchmark: 1,000 metadata updates through apply() against a sandbox that applies Stripe's
live limits (100 requests/s per account, 25/s per endpoint, a concurrency cap, latency growing
with the response), once per budget.

    .venv/bin/python bench/apply.py [--rows 1000] [--budgets 1.0,0.5] [--customers 340]
                                    [--workers N] [--no-hint]

The plan is made the way a user makes it: load_sources() loads the account (not timed), the
first ``--rows`` sources by id are selected, plan_metadata() plans a change on them and apply()
applies it with the drift check on (the default): it re-reads every source before writing it,
by listing the account pipelined with the writes (``--no-hint``: without the plan's size hint).

The session is told the account's live limits (the key is a test key: the sandbox's ``live``
profile gives it a live account's limits). For each budget it prints, from the sandbox's own
request log: requests per endpoint and their peak in any 1-second window, wall time over the
least time the limits allow for the requests made (the larger of each endpoint's requests / its
limit and all requests / the global limit), and the share refused (429).

With ``--latency 0.08 --latency-per-kb 0.002`` the sandbox answers in 80 ms + 2 ms per KiB
(issue 27's proxy); the least time then adds one customer page's round trip at its size (the
writes can only start after one), and each run prints its phases (start, body, tail at the
binding limiter, each beside its least) and per endpoint the share of each second it was busy.
``--issue`` is issue 27's measure in one command: 1,000 rows, budget 1.0, that latency, 3 runs
and their spread.

Goals: with budget 1.0, wall <= 1.10x that bound and refused <= 0.5%; with the live default
budget (0.5), no endpoint and no global window above budget x limit. Every run: no row failed
and every source shows the change afterwards.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from limits_report import LimitsReport

from toolkit.changes import apply, plan_metadata
from toolkit.fetch import load_sources
from toolkit.sandbox import Sandbox
from toolkit.sandbox.limits import ENDPOINT_RATE, GLOBAL_RATES, Limits
from toolkit.session import connect
from toolkit.session.client import DEFAULT_BUDGETS

KEY = "sk_test_" + "B3nch" * 5
LIVE = GLOBAL_RATES["live"]


def run(box: Sandbox, args: argparse.Namespace, budget: float, tag: str) -> LimitsReport | None:
    """One timed apply at ``budget`` on a fresh load (not timed); prints its report; True when
    its goals are met."""
    session = connect(
        KEY, api_base=box.url, limits={"global": LIVE}, budget=budget, quiet=True,
        max_workers=args.workers,
    )  # fmt: skip
    frame = load_sources(session, progress=False)
    selection = frame.sort_values("id").head(args.rows)
    plan = plan_metadata(selection, set={"bench_run": tag})
    with tempfile.TemporaryDirectory() as folder:
        box.clear_log()
        epoch = time.time()
        started = time.perf_counter()
        outcome = apply(
            plan, session, journal=folder, progress=False,
            hint={} if args.no_hint else None,  # None: the plan's own (plan.loaded)
        )  # fmt: skip
        wall = time.perf_counter() - started
    log = [e.to_dict() for e in box.requests]
    landed = sum(
        1 for sid in selection["id"] if box.get_source(sid)["metadata"].get("bench_run") == tag
    )
    report = LimitsReport.of(
        log, wall=wall, global_rate=LIVE, endpoint_rate=ENDPOINT_RATE, budget=budget,
        latency=(box.limits.base_latency, box.limits.latency_per_kb), start=epoch,
    )  # fmt: skip
    totals = outcome.totals
    default = budget == DEFAULT_BUDGETS["live"]
    print(
        f"\nbudget {budget:g}{' (the live default)' if default else ''}: "
        f"{totals['ok']} ok, {totals['failed']} failed, {totals['drifted']} drifted, "
        f"{landed} of {len(selection)} show the change; workers {session.max_workers}; "
        f"{totals['ok'] / wall:.1f} updates/s"
    )
    for line in report.lines():
        print(line)
    if args.latency is not None:
        for line in report.busy_lines():
            print(line)
    for note in outcome.notes:
        print(f"note: {note}")
    good = totals["failed"] == 0 and landed == len(selection)
    met, goal_lines = report.goals()
    for line in goal_lines:
        print(line)
    report.state_goals(f"bulk metadata update, {len(selection):,} rows")
    session.close()
    return report if good and met else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--budgets", default=f"1.0,{DEFAULT_BUDGETS['live']}")
    parser.add_argument("--customers", type=int, default=340, help="customers in the sandbox")
    parser.add_argument("--workers", type=int, default=None, help="default: session.max_workers")
    parser.add_argument("--no-hint", action="store_true", help="apply without the size hint")
    parser.add_argument("--latency", type=float, default=None, help="base latency (s)")
    parser.add_argument("--latency-per-kb", type=float, default=None, help="latency per KiB (s)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per budget")
    parser.add_argument(
        "--issue", action="store_true",
        help="issue 27's measure: budget 1.0, 80 ms + 2 ms/KiB, 3 runs",
    )  # fmt: skip
    args = parser.parse_args()
    if args.issue:
        args.budgets = "1.0"
        args.latency = 0.08 if args.latency is None else args.latency
        args.latency_per_kb = 0.002 if args.latency_per_kb is None else args.latency_per_kb
        args.repeat = max(args.repeat, 3)
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]

    limits = Limits.profile("live")
    if args.latency is not None:
        limits.base_latency = args.latency
    if args.latency_per_kb is not None:
        limits.latency_per_kb = args.latency_per_kb
    with Sandbox(seed=7, customers=args.customers, limits=limits) as box:
        session = connect(KEY, api_base=box.url, limits={"global": LIVE}, quiet=True)
        frame = load_sources(session, progress=False)
        session.close()
        attrs = frame.attrs["toolkit"]
        print(
            f"sandbox: limits 'live' ({LIVE:g}/s global, {ENDPOINT_RATE:g}/s per endpoint, "
            f"concurrency {box.limits.concurrency}, latency {box.limits.base_latency * 1000:.0f} "
            f"ms + {box.limits.latency_per_kb * 1e3:g} ms/KiB); account: {attrs['customers']} "
            f"customers, {len(frame)} sources; plan: {min(args.rows, len(frame))} rows; "
            f"hint: {'no' if args.no_hint else 'yes'}"
        )
        runs = [b for b in budgets for _ in range(args.repeat)]
        results = [(b, run(box, args, b, f"b{i}")) for i, b in enumerate(runs)]
    ok = all(r is not None for _, r in results)
    for budget in budgets:
        ratios = sorted(r.ratio for b, r in results if b == budget and r is not None)
        if args.repeat > 1 and ratios:
            print(
                f"\nbudget {budget:g}, {len(ratios)} runs meeting their goals: wall / least time "
                f"{', '.join(f'{x:.3f}' for x in ratios)} (spread {ratios[0]:.3f}-"
                f"{ratios[-1]:.3f}x)"
            )
    print("\nall goals met" if ok else "\nSOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
