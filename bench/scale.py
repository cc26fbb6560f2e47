"""Benchmark the toolkit past one frame: streamed export memory, incremental refresh, a sweep of
connected accounts.

1. **Streamed export memory.** For each size (default 5,000, 20,000 and 50,000 customers) a
   sandbox serves from its own process and a fresh client process runs
   ``export_sources`` into a new folder; the client reports its resident memory after its
   imports (the baseline) and its peak (``ru_maxrss``). The same client then runs
   ``load_sources`` (one frame) for contrast. Goal: the export's peak memory is flat within 1.3x
   from the smallest size to the largest (the frame's grows with the size); the growth over
   the baseline is printed too (bounded by ``--batch`` and the pages in flight).
2. **Refresh after 1% changed.** On a sandbox of ``--refresh-customers`` customers: a full load,
   then 1% of its sources changed through the API (metadata), then ``refresh``. Requests
   counted on the server. Goal: requests <= 1.2x (changed objects + event pages); printed
   beside what a full load costs.
3. **Three connected accounts** against Stripe's live limits (the sandbox's ``limits="live"``:
   100/s per account, 25/s per endpoint, a concurrency cap), ``load_sources(accounts="all")``
   at budget 1.0 and the live default. Stripe counts limits per account, so the least time of
   the sweep is the largest of the accounts' own least times (each endpoint's requests / 25 and
   all of an account's requests / 100). Goal at budget 1.0: wall <= 1.2x that bound, no 429s;
   at the default budget no account above budget x its limits; and against the same accounts
   loaded one after another.

Run: ``.venv/bin/python bench/scale.py`` (about 10 minutes; ``--sizes 2000,5000`` for less).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

KEY = "sk_test_" + "Scale" * 5


def rss_mb() -> float:
    """This process's resident memory now (MB)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- child processes -----------------------------------------------------------------------------


def serve(args: argparse.Namespace) -> None:
    """Child: a sandbox of ``--customers`` on a free port; prints its URL, serves until stdin
    closes."""
    from toolkit.sandbox import Sandbox

    limits = None if args.limits == "none" else args.limits
    box = Sandbox(seed=args.seed, customers=args.customers, limits=limits)
    for account in sorted(box.connected_accounts):  # seed them before the clock starts
        box.store(account)
    box.start()
    print(box.url, flush=True)
    sys.stdin.read()  # the parent closes stdin (or kills us) when it is done
    box.stop()


def client(args: argparse.Namespace) -> None:
    """Child: one export (or one frame load) against ``--url``; prints what it measured."""
    import toolkit

    session = toolkit.connect(KEY, api_base=args.url, rate_limit=1000, quiet=True)
    baseline = rss_mb()
    start = time.perf_counter()
    if args.client == "export":
        info = toolkit.export_sources(session, args.folder, batch=args.batch, progress=False)
        count, files = info.sources, info.files
    else:
        frame = toolkit.load_sources(session, progress=False)
        count, files = len(frame), 0
    wall = time.perf_counter() - start
    print(json.dumps({"baseline": baseline, "peak": peak_mb(), "sources": count, "files": files,
                      "wall": wall}))  # fmt: skip


class Server:
    """A sandbox in its own process."""

    def __init__(self, customers: int, limits: str = "none", seed: int = 7) -> None:
        argv = [sys.executable, __file__, "--serve", "--customers", str(customers),
                "--limits", limits, "--seed", str(seed)]  # fmt: skip
        self.child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, cwd=ROOT)  # fmt: skip
        assert self.child.stdout is not None
        self.url = self.child.stdout.readline().strip()
        if not self.url.startswith("http"):
            raise RuntimeError("the sandbox did not start")

    def log(self, clear: bool = False) -> list[dict[str, Any]]:
        import urllib.request

        method = "DELETE" if clear else "GET"
        request = urllib.request.Request(f"{self.url}/_sandbox/requests", method=method)
        with urllib.request.urlopen(request, timeout=60) as reply:
            body = json.loads(reply.read())
        return [] if clear else body["data"]

    def close(self) -> None:
        if self.child.stdin:
            self.child.stdin.close()
        self.child.kill()
        self.child.wait(timeout=10)


def run_client(kind: str, url: str, folder: str = "", batch: int = 5000) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--client", kind, "--url", url, "--folder", folder,
            "--batch", str(batch)]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=True).stdout
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return answer


# -- the three parts -----------------------------------------------------------------------------


def export_memory(sizes: list[int], batch: int) -> bool:
    print(f"1. Streamed export (batch {batch:,} sources): peak memory of the client process")
    rows = []
    for size in sizes:
        server = Server(size)
        folder = tempfile.mkdtemp(prefix="bench-scale-")
        try:
            exported = run_client("export", server.url, folder + "/ds", batch)
            loaded = run_client("load", server.url)
        finally:
            server.close()
            shutil.rmtree(folder, ignore_errors=True)
        rows.append((size, exported, loaded))
        print(
            f"  {size:>6,} customers, {exported['sources']:>7,} sources: export peak "
            f"{exported['peak']:.0f} MB (+{exported['peak'] - exported['baseline']:.0f} MB over "
            f"{exported['baseline']:.0f} MB after imports, {exported['files']:,} files, "
            f"{exported['wall']:.1f} s); one frame: +{loaded['peak'] - loaded['baseline']:.0f} MB",
            flush=True,
        )
    first, last = rows[0], rows[-1]
    growth = [(e["peak"] - e["baseline"]) for _, e, _ in rows]
    frame = [(f["peak"] - f["baseline"]) for _, _, f in rows]
    ratio = growth[-1] / max(growth[0], 1.0)
    peak_ratio = last[1]["peak"] / first[1]["peak"]
    print(
        f"  export growth {growth[0]:.0f} -> {growth[-1]:.0f} MB = {ratio:.2f}x, peak "
        f"{peak_ratio:.2f}x from {first[0]:,} to {last[0]:,} customers (goal: peak <= 1.3x); "
        f"one frame grows {frame[0]:.0f} -> {frame[-1]:.0f} MB = "
        f"{frame[-1] / max(frame[0], 1.0):.2f}x\n  (the growth is the sources buffered, at most a "
        "batch, and the customer pages in flight: it stops growing once the windows hold a batch)"
    )
    return bool(peak_ratio <= 1.3)


def refresh_cost(customers: int) -> bool:
    print(f"\n2. Refresh after 1% of the sources changed ({customers:,} customers)")
    import toolkit
    from toolkit.sandbox import Sandbox

    with Sandbox(seed=7, customers=customers) as box:
        session = toolkit.connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)
        box.clear_log()
        old = toolkit.load_sources(session, progress=False)
        full_requests = len(box.requests)
        changed = old["id"].sample(frac=0.01, random_state=1).astype(str).tolist()
        for n, sid in enumerate(changed):
            session.client.v1.sources.update(sid, {"metadata": {"bench": str(n)}})
        box.clear_log()
        start = time.perf_counter()
        new = toolkit.refresh(old, session, progress=False)
        wall = time.perf_counter() - start
        sent = len(box.requests)
    info = new.attrs["refresh"]
    ideal = len(changed) + info["event_pages"]
    ratio = sent / ideal
    right = sorted(info["changed"]) == sorted(changed)
    print(
        f"  {len(old):,} sources, {len(changed):,} changed: refresh sent {sent:,} requests "
        f"({info['event_pages']} event pages, 1 mark, {info['refetched']:,} re-reads) in "
        f"{wall:.1f} s = {ratio:.3f}x (changed + event pages; goal <= 1.2x); a full load sent "
        f"{full_requests:,}; every change found: {right}"
    )
    return ratio <= 1.2 and right


def account_sweep(customers: int) -> bool:
    print(
        f"\n3. Three connected accounts against the live limits ({customers:,} platform customers)"
    )
    import warnings

    from limits_report import LimitsReport

    import toolkit
    from toolkit.sandbox.limits import ENDPOINT_RATE
    from toolkit.session.client import DEFAULT_BUDGETS

    live = 100.0
    server = Server(customers, limits="live")
    good = True
    try:
        timings: dict[str, float] = {}
        for budget in (1.0, DEFAULT_BUDGETS["live"]):
            session = toolkit.connect(KEY, api_base=server.url, limits={"global": live},
                                      budget=budget, quiet=True)  # fmt: skip
            server.log(clear=True)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", toolkit.AccountWarning)
                df = toolkit.load_sources(session, accounts="all", progress=False)
            wall = time.perf_counter() - start
            by_account: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for entry in server.log():
                by_account[entry.get("account") or "platform"].append(entry)
            reports = {
                a: LimitsReport.of(
                    e, wall=wall, global_rate=live, endpoint_rate=ENDPOINT_RATE, budget=budget
                )
                for a, e in by_account.items()
            }
            bound = max(r.bound for a, r in reports.items() if a != "platform")
            refused = sum(r.refused for r in reports.values())
            within = all(r.within_budget() for r in reports.values())
            print(
                f"  budget {budget:g}: {len(df):,} sources from {df['account'].nunique()} accounts "
                f"in {wall:.2f} s; least time the limits allow {bound:.2f} s (the slowest "
                f"account) = {wall / bound:.2f}x; 429s {refused}; every account within "
                f"budget x limits: {within}"
            )
            for account, report in sorted(reports.items()):
                print(f"    {account}: {report.requests:,} requests, least {report.bound:.2f} s, "
                      f"peak {report.peak_global}/s")  # fmt: skip
            timings[str(budget)] = wall
            if budget == 1.0:
                good = good and wall / bound <= 1.2 and refused == 0
            else:
                good = good and within
            session.close()
        session = toolkit.connect(KEY, api_base=server.url, limits={"global": live}, budget=1.0,
                                  quiet=True)  # fmt: skip
        start = time.perf_counter()
        for account in toolkit.fetch.accounts.account_ids(session, "all"):
            toolkit.load_sources(session.for_account(account), progress=False)
        one_by_one = time.perf_counter() - start
        print(
            f"  one account after another: {one_by_one:.2f} s; side by side "
            f"{timings['1.0']:.2f} s = {one_by_one / timings['1.0']:.2f}x faster"
        )
    finally:
        server.close()
    return good


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5000,20000,50000")
    parser.add_argument("--batch", type=int, default=5000, help="export batch (sources)")
    parser.add_argument("--skip", default="", help="parts to skip: export,refresh,sweep")
    parser.add_argument("--refresh-customers", type=int, default=20_000)
    parser.add_argument("--sweep-customers", type=int, default=20_000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    parser.add_argument("--folder", default="", help=argparse.SUPPRESS)
    parser.add_argument("--customers", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--limits", default="none", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return 0
    if args.client:
        client(args)
        return 0
    sizes = [int(s) for s in args.sizes.split(",") if s]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {os.cpu_count()} cores, load average {load}\n")
    skip = set(args.skip.split(","))
    results = {}
    if "export" not in skip:
        results["export peak memory flat"] = export_memory(sizes, args.batch)
    if "refresh" not in skip:
        results["refresh cost"] = refresh_cost(args.refresh_customers)
    if "sweep" not in skip:
        results["account sweep"] = account_sweep(args.sweep_customers)
    print("\n" + "  ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
