"""Benchmark the toolkit past one frame: streamed export memory, incremental refresh, a sweep of
connected accounts.

1. **Streamed export memory, at Stripe's pace and unthrottled.** For each size (default 5,000
   and 20,000 customers) and each pace, a sandbox serves from its own process and a fresh
   client process runs ``export_sources`` into a new folder. At Stripe's pace the sandbox
   applies Stripe's live limits (100/s, 25/s per endpoint, concurrency, latency growing with the
   answer) and the client paces itself to them; unthrottled the sandbox has no limits and the
   client none either. The client reports its resident memory after its imports (the baseline),
   its peak (``ru_maxrss``) and the most reads its pools held queued; unthrottled it then runs
   ``load_sources`` (one frame) for contrast. Goal: the client's peak at the largest size is at
   most 1.3x its peak at the smallest, at both paces. The sandbox's own peak is printed apart:
   it is not the toolkit's (the sandbox caches each object's JSON as it serves it, so it grows
   with the account; an in-process sandbox adds all of it to the process's figure).
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

Run: ``.venv/bin/python bench/scale.py`` (about 10 minutes; ``--skip refresh,sweep`` for the
export alone, ``--sizes 2000,5000`` or ``--paces unthrottled`` for less).
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


#: How the client paces itself, and the sandbox's limits, at each pace of part 1.
PACES: dict[str, tuple[str, dict[str, Any], str]] = {
    "stripe": ("live", {"limits": {"global": 100.0}, "budget": 1.0},
               "Stripe's pace: the sandbox's live limits, the client paced to them at budget 1.0"),
    "unthrottled": ("none", {"rate_limit": 1_000_000.0},
                    "unthrottled: the sandbox without limits, the client without pacing"),
}  # fmt: skip


def client(args: argparse.Namespace) -> None:
    """Child: one export (or one frame load) against ``--url``; prints what it measured."""
    import toolkit
    from toolkit.fetch.pool import RequestPool

    queued = [0]  # the most reads any pool of this process held queued at once (counted)
    add = RequestPool.add

    def counted(self: RequestPool, *a: Any) -> None:
        add(self, *a)
        queued[0] = max(queued[0], self.queued_others)

    RequestPool.add = counted  # type: ignore[method-assign,assignment]
    options = PACES[args.pace][1]
    session = toolkit.connect(KEY, api_base=args.url, quiet=True, **options)
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
                      "wall": wall, "queued": queued[0]}))  # fmt: skip


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

    def peak_mb(self) -> float | None:
        """The sandbox process's peak resident memory (MiB; None where /proc is not)."""
        try:
            status = Path(f"/proc/{self.child.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    def close(self) -> None:
        if self.child.stdin:
            self.child.stdin.close()
        self.child.kill()
        self.child.wait(timeout=10)


def run_client(
    kind: str, url: str, folder: str = "", batch: int = 5000, pace: str = "unthrottled"
) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--client", kind, "--url", url, "--folder", folder,
            "--batch", str(batch), "--pace", pace]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=True).stdout
    answer: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return answer


# -- the three parts -----------------------------------------------------------------------------


def export_memory(sizes: list[int], batch: int, paces: list[str]) -> bool:
    from goals import goal

    print(
        f"1. Streamed export (batch {batch:,} sources): peak memory of the client process; the "
        "sandbox serves from\n   its own process (its memory is shown apart: it is not the "
        "toolkit's)"
    )
    met = True
    for pace in paces:
        limits, _, said = PACES[pace]
        print(f"  {said}")
        rows = []
        for size in sizes:
            server = Server(size, limits=limits)
            folder = tempfile.mkdtemp(prefix="bench-scale-")
            try:
                exported = run_client("export", server.url, folder + "/ds", batch, pace)
                served = server.peak_mb()
                loaded = (
                    run_client("load", server.url, pace=pace) if pace == "unthrottled" else None
                )
            finally:
                server.close()
                shutil.rmtree(folder, ignore_errors=True)
            rows.append((size, exported, served))
            frame = f"; one frame: +{loaded['peak'] - loaded['baseline']:.0f} MiB" if loaded else ""
            print(
                f"  {size:>8,} customers, {exported['sources']:>7,} sources: client peak "
                f"{exported['peak']:.0f} MiB ({exported['baseline']:.0f} MiB after imports, "
                f"+{exported['peak'] - exported['baseline']:.0f} MiB), {exported['files']:,} "
                f"files, {exported['wall']:.1f} s, at most {exported['queued']:,} reads queued"
                f"{frame}; sandbox process peak "
                + (f"{served:.0f} MiB" if served is not None else "unknown"),
                flush=True,
            )
        (small, first, first_served), (large, last, last_served) = rows[0], rows[-1]
        ratio = last["peak"] / first["peak"]
        growth = (last["peak"] - last["baseline"]) / max(first["peak"] - first["baseline"], 1.0)
        server_ratio = (
            f"{last_served / first_served:.2f}x"
            if first_served is not None and last_served is not None
            else "unknown"
        )
        print(
            f"  client peak {large:,} over {small:,} customers: {ratio:.2f}x (goal <= 1.3x); "
            f"growth over the imports {growth:.2f}x; the sandbox process {server_ratio} (not "
            "the toolkit's)",
            flush=True,
        )
        measure = f"export, client peak memory {large:,} / {small:,} customers, {pace}"
        met = goal(measure, ratio, "<= 1.3") and met
    print(
        "  (the client holds at most a batch of sources, the answers of the reads in flight "
        "(max_workers)\n  and the reads queued, at most the pool's backlog plus one page's "
        "customers per page in flight)"
    )
    return met


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
    parser.add_argument("--sizes", default="5000,20000")
    parser.add_argument(
        "--paces", default="stripe,unthrottled", help="export paces: " + ",".join(PACES)
    )
    parser.add_argument("--batch", type=int, default=5000, help="export batch (sources)")
    parser.add_argument("--skip", default="", help="parts to skip: export,refresh,sweep")
    parser.add_argument("--refresh-customers", type=int, default=20_000)
    parser.add_argument("--sweep-customers", type=int, default=20_000)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--client", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--pace", default="unthrottled", help=argparse.SUPPRESS)
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
        paces = [p for p in args.paces.split(",") if p]
        results["export peak memory flat"] = export_memory(sizes, args.batch, paces)
    if "refresh" not in skip:
        results["refresh cost"] = refresh_cost(args.refresh_customers)
    if "sweep" not in skip:
        results["account sweep"] = account_sweep(args.sweep_customers)
    print("\n" + "  ".join(f"{k}: {'met' if v else 'MISSED'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
