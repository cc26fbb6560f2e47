"""Measure an earlier version of the toolkit (a git ref) against today's sandbox with Stripe's
live limits, so that a benchmark's figures stand beside the figures of what came before.

    .venv/bin/python bench/baseline.py --ref 8804917 fetch [--customers 20000]
    .venv/bin/python bench/baseline.py --ref 8804917 apply [--rows 1000] [--customers 340]

The ref is checked out in a temporary git worktree; its toolkit runs in a child process against
a sandbox served by this checkout (``limits="live"``), connected as that version connected a
live key (one bucket of 100 requests/s). Prints the same report as bench/fetch.py and
bench/apply.py: requests per endpoint and their peaks, wall time over the least time the limits
allow, the share refused.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fetch import KEY, LIVE, server_log
from limits_report import LimitsReport

from toolkit.sandbox.limits import ENDPOINT_RATE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CLIENT = textwrap.dedent(
    """
    import json, sys, tempfile, time, urllib.request
    import toolkit
    from toolkit.session import connect

    url, key, what, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    session = connect(key, api_base=url, rate_limit=100, quiet=True)

    def clear():
        urllib.request.urlopen(urllib.request.Request(url + "/_sandbox/requests", method="DELETE"))

    if what == "fetch":
        clear()
        t = time.perf_counter()
        df = toolkit.load_sources(session, progress=False)
        print(json.dumps({"wall": time.perf_counter() - t, "rows": len(df)}))
    else:
        frame = toolkit.load_sources(session, progress=False)
        plan = toolkit.plan_metadata(frame.sort_values("id").head(rows), set={"bench_run": "old"})
        with tempfile.TemporaryDirectory() as folder:
            clear()
            t = time.perf_counter()
            outcome = toolkit.apply(plan, session, journal=folder, progress=False)
            wall = time.perf_counter() - t
        print(json.dumps({"wall": wall, "rows": len(plan.df), "totals": dict(outcome.totals)}))
    """
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("fetch", "apply"))
    parser.add_argument("--ref", default="8804917", help="the version to measure")
    parser.add_argument("--customers", type=int, default=None, help="20000 fetch, 340 apply")
    parser.add_argument("--rows", type=int, default=1000, help="apply: rows of the plan")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    customers = args.customers or (20_000 if args.what == "fetch" else 340)

    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tree), args.ref],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        info = Path(folder) / "info.json"
        server = subprocess.Popen(
            [sys.executable, str(HERE / "fetch.py"), "--serve", "--info", str(info),
             "--customers", str(customers), "--seed", str(args.seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            (Path(folder) / "client.py").write_text(CLIENT)
            print(
                f"{args.ref} {args.what} against the live-limits sandbox ({customers:,} customers)"
            )
            child = subprocess.run(
                [sys.executable, str(Path(folder) / "client.py"), url, KEY, args.what,
                 str(args.rows)],
                cwd=tree, env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            result = json.loads(child.stdout.strip().splitlines()[-1])
            log = server_log(url)
        finally:
            if server.stdin:
                server.stdin.close()
            server.wait(timeout=30)
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False
            )
    report = LimitsReport.of(
        log, wall=result["wall"], global_rate=LIVE, endpoint_rate=ENDPOINT_RATE, budget=1.0
    )
    print(f"{result['rows']:,} rows; {result.get('totals', '')}")
    for line in report.lines():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
