"""Benchmark ``load_sources(accounts="all")``: every connected account side by side, against the
least time Stripe's limits allow the slowest account.

A sandbox serves from its own process with Stripe's live limits (``limits="live"``: 100/s per
account, 25/s per endpoint, a concurrency cap of 20, each counted per account as Stripe does)
and a latency model; by default issue 27's, 80 ms + 2 ms per KiB (``--latency``,
``--latency-per-kb``). The platform has ``--customers`` customers; each of its three connected
accounts a tenth of them. The bench lists the accounts, loads them all at budget 1.0 (and the
live default unless ``--issue``), and reads the server's log per account:

- each account's least time: its limiters' admissions (each endpoint's requests / 25, all its
  requests / 100) plus one round trip of one of its customer pages at its size (its
  continuations can only start after one); the sweep's least time is the slowest account's,
  plus the platform's own list of accounts (one round trip: nothing starts before it);
- wall over that least time, the 429s, and per account its phases and the share of each second
  its busiest endpoint was busy.

Goals (issue 27): budget 1.0, wall <= 1.10x the slowest account's least time, <= 0.5% refused;
the live default: no account above budget x its limits.

Why ``bench/scale.py`` section 3 said 1.18x where issue 27's proxy said 1.54x (measured here on
the commit before the fixes, 3 runs each, a 2-core machine shared with other work):

- the latency. scale.py runs the sandbox's default model, 30 ms + 0.25 ms per KiB: a page of 100
  customers with their sources (~265 KiB) answers in ~0.1 s. The proxy's 80 ms + 2 ms per KiB
  makes it ~0.6 s. Each connected account is small (a tenth of the platform: ~125 requests, a
  least time of ~4 s), so what a slow page costs at the start weighs 10-30% of it: the load
  opened one new ``created`` window per page round trip, so the continuations (the binding
  endpoint, 25/s) waited ~1.2 s for enough pages, and the pool's 8 slots (4 for pages) fed them
  barely faster than 25/s. Measured with this bench: 1.13-1.31x with scale.py's latency (its
  bound), 1.33-1.50x with the proxy's;
- the bound. scale.py's least time is the admissions only; the proxy's adds one customer page's
  round trip (0.6 s of a ~4.6 s least time here). This bench adds it, and the platform's list of
  accounts (nothing starts before it);
- the noise. On a shared 2-core machine the client's CPU at the end (each account's frame, the
  concatenation, the metadata columns) and threads run late show as a tail of 0.2-1 s: the same
  code measured 1.12-1.50x from one run to the next.

Fixed in the toolkit (CHANGELOG, issue 27 item 1): the windows the continuations need are carved
at once from the first page, which is a short one (25 customers) on a slow server, and pages
run twice ahead of the continuations; the pool widens by Little's law while answers are slow;
the pace catches up after a thread ran late. Measured after: 1.12-1.35x over five sets of 3
runs (load average 4-9), 0 refused; on a quiet machine 1.15-1.19x (first run 1.53x).

Then the start and the tail were timed request by request (the server's log per account, the
client's phases by wrapping its functions; the slowest account, warm runs, seconds from the
call):

- 0.00-0.02 the platform's read meter parsed the read ledger (500 KB of 30 days' records) and
  0.02-0.10 the list of accounts;
- 0.10-0.16 each account's session, then its read meter parsed the ledger again (three threads
  at once: 25-45 ms), and its load asked the server's time with a ``HEAD`` (its own clock had
  no ``Date`` yet);
- 0.16-0.25 the events mark; 0.25-0.45 the 25-customer first page, and only after it the first
  window's full page and the carved windows' (answers ~1.05), so the first continuation went
  out at ~1.0, where the least time has it at 0.67 (the list, one full page);
- the body at the binding endpoint: 1.02x its least (the client's pace counts a one-second
  window plus 20 ms of network margin: ``ratelimit.WINDOW``, kept);
- after the last answer (~0.1 s after the last continuation left), 0.15-0.35 s of the client's
  CPU: the last account's frame, then a pandas sort of the 14,000 rows by two keys (12-130 ms,
  the collector running), the metadata columns, the collector after the load.

Fixed: the first window's full page now goes out with the probe (a probe only: it teaches the
density, the carved windows follow its answer), so the critical path is the events mark and one
full page; the account sessions share the platform's server clock and a load is stamped from
the events mark's ``Date`` (no ``HEAD``); the ledger is parsed again only when another writer
changed it (fixed on main meanwhile, the same way); the merge sorts with Arrow with the collector paused. Measured after, 3 runs each on
a quiet machine (load average 0.3-0.4; main measured 1.107-1.150x in the same minutes):
1.075-1.104x and 1.078-1.099x, 0 refused; at load average 1.5, 1.079-1.114x: the first run of
a process (cold) is the slowest, and can still miss the goal on a busy machine.
The bound is unchanged: it is what Stripe's limits allow.

The first run of a process (cold) still measured 1.11-1.12x where the next ones measured
1.08-1.09x: ~0.1 s more. Timed the same way (the server's log, the client's functions wrapped,
a fresh process per trial), cold against warm:

- 0.06-0.08 s before the list of accounts was sent: resolving ``toolkit.load_sources`` imported
  the whole fetch wing (the Parquet dataset, the refresh, the ledger, ``pyarrow.parquet`` and
  ``pyarrow.dataset``). The timed region keeps it: a user's first call pays it too;
- 0.03-0.05 s more after the last answer: the merge's take of the 26 text columns (45 ms where
  later runs took 11) and the last account's frame (up to 48 ms where 13). Arrow's default
  allocator, mimalloc, pays for each page it has not handed out lately: a process's first
  copies, and again after it gave memory back (so a warm run paid it now and then too). A
  warm-up merge of two one-row frames while the list of accounts was in flight did not help
  (tried: it is the memory, not first-use code paths); the system allocator does (the first
  take 12 ms).

Fixed: ``toolkit.fetch`` loads each public name on first use (``toolkit.load_sources`` imports
its own modules only: ~0.03 s, was 0.06-0.08); the copies made after the last answer (the builder's
concatenation and sort, the text and metadata columns, the merge's take) take the system
allocator's memory (``toolkit.fetch.frame.SYSTEM_MEMORY``): the last account's frame then took
10-19 ms, the merge's take 10-12 ms, from the first run. And for every run: each account makes
its ``metadata.<key>`` columns in its own thread, and the merge joins them (they were made again
for all 14,000 rows after the last answer: 15-20 ms). From the last answer to the return: 65-75
ms (was 80-115). Measured after, three sets of 3 runs interleaved with main's code in the same
minutes (load average 0.4-0.8): the first (cold) run 1.084, 1.090, 1.083x (main 1.108, 1.111,
1.107x); the others 1.069-1.075x (main 1.075-1.081x); 0 refused. The bound is unchanged.

Not done, and why:

- the events mark beside the first pages. The mark must be taken before any source it covers
  is read: a source changed after its page was read but before the mark was taken has its
  event at or before the mark, where a refresh stops, so the refresh would miss it. A mark
  request sent first and the pages after it on other connections gives no such order: Stripe
  orders nothing between concurrent requests (other connections, other hosts), and the client
  learns the mark was taken only from its answer. It stays serial (~0.085 s);
- the imports left (~0.03 s, the toolkit's own modules of a load) could overlap the list of
  accounts only if ``toolkit.fetch.load`` imported its readers lazily, in a thread started
  beside the list; ~0.02 s once a process, for code that reads worse.

What is left (~0.33 s of a 4.72 s least time warm, ~0.4 s cold): the events mark (~0.09 s,
read before any source so that a refresh misses nothing: a mark from the server's clock would
do without it, but the sandbox's clock stands still, so a refresh there would re-read every
event since the last ``advance_clock``; and the refresh's stop at the mark's event would go),
the connected accounts' starts (~0.015 s from the list's answer to the marks: sessions,
threads, the meter), the pace's window margin (~0.08 s), the client's CPU after the last answer
(0.065-0.075 s on a quiet machine: the last account's frame, the merge; one run in six 0.045 s
more after the merge, not traced), which a loaded machine stretches, and on a process's first
load its imports (~0.03 s before the list of accounts).

Run: ``.venv/bin/python bench/accounts.py`` (about 2 minutes); ``--issue``: budget 1.0 only,
3 runs and their spread; ``--latency 0.03 --latency-per-kb 0.00025``: the sandbox's default
model (what scale.py measures).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

KEY = "sk_test_" + "Accts" * 5
LIVE = 100.0


def serve(args: argparse.Namespace) -> None:
    """Child: the sandbox with live limits and the latency model; prints its URL, serves until
    stdin closes."""
    from toolkit.sandbox import Sandbox
    from toolkit.sandbox.limits import Limits

    limits = Limits.profile("live", base_latency=args.latency, latency_per_kb=args.latency_per_kb)
    box = Sandbox(seed=args.seed, customers=args.customers, limits=limits)
    for account in sorted(box.connected_accounts):  # seed them before the clock starts
        box.store(account)
    box.start()
    print(box.url, flush=True)
    sys.stdin.read()
    box.stop()


def server_log(url: str, clear: bool = False) -> list[dict[str, Any]]:
    """The sandbox's request log (``clear``: empty it instead)."""
    method = "DELETE" if clear else "GET"
    request = urllib.request.Request(f"{url}/_sandbox/requests", method=method)
    with urllib.request.urlopen(request, timeout=60) as reply:
        body = json.loads(reply.read())
    return [] if clear else body["data"]


def sweep(url: str, budget: float, latency: tuple[float, float], busy: bool) -> tuple[bool, float]:
    """One ``accounts="all"`` load at ``budget``; prints its report; (goals met, ratio)."""
    from limits_report import LimitsReport

    import toolkit
    from toolkit.sandbox.limits import ENDPOINT_RATE

    session = toolkit.connect(
        KEY, api_base=url, limits={"global": LIVE}, budget=budget, quiet=True
    )  # fmt: skip
    server_log(url, clear=True)
    epoch = time.time()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", toolkit.AccountWarning)
        df = toolkit.load_sources(session, accounts="all", progress=False)
    wall = time.perf_counter() - start
    session.close()
    by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in server_log(url):
        by_account[entry.get("account") or "platform"].append(entry)
    reports = {
        a: LimitsReport.of(
            e,
            wall=wall,
            global_rate=LIVE,
            endpoint_rate=ENDPOINT_RATE,
            budget=budget,
            latency=latency,
            start=epoch,
        )
        for a, e in by_account.items()
    }
    platform = reports.pop("platform", None)
    listing = 0.0
    if platform is not None:  # GET /v1/accounts: nothing starts before its answer
        listing = sum(platform.answer_time(size) for _, _, size in platform.arrivals.get(
            "GET /v1/accounts", []))  # fmt: skip
    slowest = max(reports, key=lambda a: reports[a].bound)
    bound = reports[slowest].bound + listing
    ratio = wall / bound
    requests = sum(r.requests for r in reports.values()) + (platform.requests if platform else 0)
    refused = sum(r.refused for r in reports.values()) + (platform.refused if platform else 0)
    within = all(r.within_budget() for r in reports.values())
    print(
        f"\nbudget {budget:g}: {len(df):,} sources from {df['account'].nunique()} accounts in "
        f"{wall:.2f} s; least time {bound:.2f} s (slowest account {slowest}: admissions "
        f"{reports[slowest].admissions:.2f} s + a customer page {reports[slowest].round_trip:.2f} s"
        f"; the list of accounts {listing:.2f} s) = {ratio:.3f}x; refused {refused} of "
        f"{requests:,} = {refused / max(1, requests):.2%}; every account within budget x "
        f"limits: {within}"
    )
    for account, report in sorted(reports.items()):
        print(
            f"  {account}: {report.requests:,} requests, admissions {report.admissions:.2f} s "
            f"({report.binding[0]}), least {report.bound:.2f} s, peak {report.peak_global}/s, "
            f"429s {report.refused}"
        )
        for phase, phase_wall, least in report.phases():
            times = f"{phase_wall / least:.2f}x" if least > 0 else "-"
            print(f"    phase {phase:<6} wall {phase_wall:6.2f} s, least {least:6.2f} s, {times}")
        if busy:
            print("\n".join(report.busy_lines()[:3]))
    if budget == 1.0:
        from goals import goal

        goal("accounts='all': wall / slowest account's least time", ratio, "<= 1.10")
        goal("accounts='all': refused (%)", refused / max(1, requests) * 100, "<= 0.5")
        met = ratio <= 1.10 and refused / max(1, requests) <= 0.005
        print(f"goal (budget 1): <= 1.10x, <= 0.5% refused: {'PASS' if met else 'FAIL'}")
    else:
        met = within
        print(f"goal (budget {budget:g}): every account within budget x limits: "
              f"{'PASS' if met else 'FAIL'}")  # fmt: skip
    return met, ratio


def main() -> int:
    from toolkit.session.client import DEFAULT_BUDGETS

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000, help="platform customers")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--latency", type=float, default=0.08, help="base latency (s)")
    parser.add_argument("--latency-per-kb", type=float, default=0.002, help="per KiB (s)")
    parser.add_argument("--repeat", type=int, default=1, help="runs at budget 1.0")
    parser.add_argument("--issue", action="store_true", help="budget 1.0 only, 3 runs")
    parser.add_argument("--busy", action="store_true", help="print busy shares per second")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0
    if args.issue:
        args.repeat = max(args.repeat, 3)
    argv = [sys.executable, __file__, "--serve", "--customers", str(args.customers),
            "--seed", str(args.seed), "--latency", str(args.latency),
            "--latency-per-kb", str(args.latency_per_kb)]  # fmt: skip
    print(
        f"Sandbox: {args.customers:,} platform customers (connected accounts a tenth each), "
        f"limits 'live' per account, latency {args.latency * 1000:g} ms + "
        f"{args.latency_per_kb * 1000:g} ms/KiB"
    )
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=ROOT)  # fmt: skip
    results: list[tuple[float, bool, float]] = []
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http"):
            print("the sandbox did not start", file=sys.stderr)
            return 1
        budgets = [1.0] * args.repeat + ([] if args.issue else [DEFAULT_BUDGETS["live"]])
        latency = (args.latency, args.latency_per_kb)
        for budget in budgets:
            met, ratio = sweep(url, budget, latency, args.busy)
            results.append((budget, met, ratio))
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    ratios = sorted(r for b, _, r in results if b == 1.0)
    print(
        f"\nbudget 1.0, {len(ratios)} run(s): {', '.join(f'{r:.3f}' for r in ratios)}x "
        f"(spread {ratios[0]:.3f}-{ratios[-1]:.3f}x); machine: {os.cpu_count()} cores, "
        f"load average {load}"
    )
    ok = all(met for _, met, _ in results)
    print("all goals met" if ok else "SOME GOALS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.pop("STRIPE_API_KEY", None)
    sys.exit(main())
