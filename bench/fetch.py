"""Benchmark the account-wide source load against the naive script, in one run.

Scenario: a sandbox with 20,000 customers (~50,000 sources, 5% of customers with more than 10),
30 ms latency per request and a 100 requests/s rate limit, served from its own process (like
Stripe, it does not share the client's interpreter). Prints:

- requests made against the lower bound (customer pages + the continuation pages needed),
- wall time against the naive script (auto-paging customers, then each customer's sources, one
  request at a time; run on a prefix of customers and extrapolated linearly, said so),
- wall time against the rate-limit bound (requests / rate) and the critical path,
- peak memory of the client process,
- frame build from 100,000 source objects against ``pandas.json_normalize``.

Run: ``.venv/bin/python bench/fetch.py`` (about 2 minutes; ``--help`` for sizes). The toolkit
load runs twice and the better run counts (other processes on the machine add noise).
"""

from __future__ import annotations

import argparse
import copy
import gc
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY = "sk_test_" + "Bench" * 5


def serve(args: argparse.Namespace) -> None:
    """Child process: seed the sandbox, write what the parent needs to know, serve until killed."""
    from toolkit.sandbox import Sandbox

    box = Sandbox(
        seed=args.seed,
        customers=args.customers,
        latency=args.latency,
        rate_limit=args.rate_limit,
    )
    store = box.store()
    expected: dict[str, str] = {}
    continuation_pages = 0
    longest_chain = 0
    for cid in store.customers:
        items = store.items.get(cid, [])
        kinds = [store.payment_source(p)["object"] for p in items]
        for pid, kind in zip(items, kinds, strict=True):
            if kind == "source":
                expected[pid] = cid
        if len(items) > 10:
            rest = sum(1 for k in kinds[10:] if k == "source")
            pages = max(1, math.ceil(rest / 100))
            continuation_pages += pages
            longest_chain = max(longest_chain, pages)
    info = {
        "customers": len(store.customers),
        "customer_pages": math.ceil(len(store.customers) / 100) or 1,
        "continuation_pages": continuation_pages,
        "longest_continuation_chain": longest_chain,
        "over_10": sum(1 for c in store.customers if len(store.items.get(c, [])) > 10),
        "over_100": sum(1 for c in store.customers if len(store.items.get(c, [])) > 100),
        "expected": expected,
    }
    Path(args.info).write_text(json.dumps(info))
    box.start()
    print(box.url, flush=True)
    sys.stdin.read()  # the parent closes stdin to stop us
    box.stop()


def naive(url: str, prefix: int) -> tuple[float, int, int, dict[str, str]]:
    """The script an analyst writes: one request at a time, through the SDK's auto-paging."""
    import stripe

    client = stripe.StripeClient(KEY, base_addresses={"api": url})
    found: dict[str, str] = {}
    requests = 0
    customers = 0
    start = time.perf_counter()
    page = client.v1.customers.list({"limit": 100})
    requests += 1
    for cus in page.auto_paging_iter():
        if customers >= prefix:
            break
        customers += 1
        if customers % 100 == 1 and customers > 1:
            requests += 1  # auto-paging fetched the next customer page
        listing = client.v1.customers.payment_sources.list(
            cus.id, {"object": "source", "limit": 100}
        )
        requests += 1
        while True:
            for src in listing.data:
                found[src.id] = cus.id
            if not listing.has_more:
                break
            listing = client.v1.customers.payment_sources.list(
                cus.id,
                {"object": "source", "limit": 100, "starting_after": listing.data[-1].id},
            )
            requests += 1
    return time.perf_counter() - start, customers, requests, found


def frame_bench(sources: list[dict[str, Any]], n: int) -> tuple[float, float]:
    """Seconds to build the toolkit frame and to json_normalize the same ``n`` objects."""
    import pandas as pd

    from toolkit.fetch.frame import sources_frame

    objects: list[dict[str, Any]] = []
    i = 0
    while len(objects) < n:
        for src in sources:
            if len(objects) >= n:
                break
            obj = copy.copy(src)
            obj["id"] = f"{src['id']}_{i}"
            obj["client_secret"] = f"src_client_secret_{i:024d}"
            objects.append(obj)
        i += 1
    gc.collect()
    best_frame = best_norm = math.inf
    for _ in range(2):
        t = time.perf_counter()
        sources_frame(objects)
        best_frame = min(best_frame, time.perf_counter() - t)
        gc.collect()
        t = time.perf_counter()
        pd.json_normalize(objects)
        best_norm = min(best_norm, time.perf_counter() - t)
        gc.collect()
    return best_frame, best_norm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--latency", type=float, default=0.03)
    parser.add_argument("--rate-limit", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=8, help="session.max_workers")
    parser.add_argument("--naive-prefix", type=int, default=400, help="customers the naive runs")
    parser.add_argument("--frame-objects", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2, help="toolkit loads; the best counts")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--info", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0

    from toolkit.fetch import load_sources
    from toolkit.session import connect

    info_path = Path(tempfile.mkstemp(prefix="bench-fetch-", suffix=".json")[1])
    child_args = [
        sys.executable, __file__, "--serve", "--info", str(info_path),
        "--customers", str(args.customers), "--latency", str(args.latency),
        "--rate-limit", str(args.rate_limit), "--seed", str(args.seed),
    ]  # fmt: skip
    print(
        f"Seeding a sandbox with {args.customers:,} customers "
        f"(latency {args.latency * 1000:.0f} ms, rate limit {args.rate_limit:g}/s) ...",
        flush=True,
    )
    child = subprocess.Popen(
        child_args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url.startswith("http"):
            print("the sandbox did not start", file=sys.stderr)
            return 1
        info = json.loads(info_path.read_text())
        expected: dict[str, str] = info.pop("expected")
        lower = info["customer_pages"] + info["continuation_pages"]
        print(
            f"  {info['customers']:,} customers, {len(expected):,} attached sources, "
            f"{info['over_10']:,} customers with >10 payment sources, {info['over_100']} with >100"
        )

        # -- the toolkit ------------------------------------------------------------------
        session = connect(
            KEY, api_base=url, rate_limit=args.rate_limit, max_workers=args.workers, quiet=True
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        walls: list[float] = []
        df = None
        rss_peak = rss_before
        for attempt in range(max(1, args.runs)):
            df = None  # the previous run's frame goes before the next run
            gc.collect()
            start_acquired = session.limiter.acquired
            t = time.perf_counter()
            df = load_sources(session, progress=False)
            walls.append(time.perf_counter() - t)
            requests = session.limiter.acquired - start_acquired
            if attempt == 0:
                rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wall = min(walls)
        retries = session.retries
        assert df is not None
        got = dict(zip(df["id"].tolist(), df["customer"].tolist(), strict=True))
        correct = got == expected and df["id"].is_unique

        # latency of one request, for the critical path
        probe = []
        for _ in range(5):
            t = time.perf_counter()
            session.raw("get", "/v1/customers", {"limit": 100, "expand": ["data.sources"]})
            probe.append(time.perf_counter() - t)
        page_time = sorted(probe)[len(probe) // 2]
        critical = page_time * (1 + info["longest_continuation_chain"])
        rate_bound = lower / args.rate_limit
        rate_bound_made = requests / args.rate_limit

        # -- the naive script -------------------------------------------------------------
        prefix = min(args.naive_prefix, info["customers"])
        naive_time, naive_customers, naive_requests, naive_found = naive(url, prefix)
        naive_full = naive_time * info["customers"] / max(1, naive_customers)
        extrapolated = naive_customers < info["customers"]
        naive_ok = all(expected.get(k) == v for k, v in naive_found.items())

        # -- the frame --------------------------------------------------------------------
        sources = df["raw"].tolist()
        del df
        gc.collect()
        frame_s, normalize_s = frame_bench(sources, args.frame_objects)
    finally:
        if child.stdin:
            child.stdin.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        info_path.unlink(missing_ok=True)

    print()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    runs = ", ".join(f"{w:.2f}" for w in walls)
    print(f"machine: {os.cpu_count()} cores, load average {load} (other work slows the client)")
    print(
        f"load_sources: {len(got):,} sources in {wall:.2f} s (best of {len(walls)}: {runs}); "
        f"complete and exact: {correct}"
    )
    print(
        f"requests: {requests:,} made vs lower bound {lower:,} "
        f"({info['customer_pages']} customer pages + {info['continuation_pages']:,} "
        f"continuation pages) = {requests / lower:.3f}x   (target <= 1.05x); "
        f"retries {retries}"
    )
    how = f"extrapolated from {naive_customers:,} customers" if extrapolated else "measured"
    print(
        f"naive script: {naive_full:,.1f} s ({how}: {naive_time:.1f} s, "
        f"{naive_requests:,} requests, results match: {naive_ok})"
    )
    print(f"wall vs naive: {naive_full / wall:.1f}x faster   (target >= 20x)")
    print(
        f"wall vs rate-limit bound: {wall:.2f} s / {rate_bound:.2f} s "
        f"(lower-bound requests / {args.rate_limit:g} per s) = {wall / rate_bound:.3f}x; "
        f"vs requests made / rate ({rate_bound_made:.2f} s) = {wall / rate_bound_made:.3f}x"
    )
    bound = max(rate_bound, critical)
    print(
        f"critical path: {critical:.2f} s ({1 + info['longest_continuation_chain']} sequential "
        f"requests x {page_time * 1000:.0f} ms); wall vs max(rate bound, critical path) = "
        f"{wall / bound:.3f}x   (target <= 1.25x)"
    )
    rss_unit = 1024 if sys.platform != "darwin" else 1024 * 1024
    print(
        f"peak memory (client process RSS): {rss_peak / rss_unit:,.0f} MiB "
        f"(+{(rss_peak - rss_before) / rss_unit:,.0f} MiB during the load)"
    )
    print(
        f"frame build, {args.frame_objects:,} objects: {frame_s:.2f} s vs json_normalize "
        f"{normalize_s:.2f} s = {normalize_s / frame_s:.1f}x faster   (target >= 2x)"
    )
    ok = (
        correct
        and requests / lower <= 1.05
        and wall / bound <= 1.25
        and naive_full / wall >= 20
        and normalize_s / frame_s >= 2
    )
    print("all targets met" if ok else "SOME TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.pop("STRIPE_API_KEY", None)
    sys.exit(main())
