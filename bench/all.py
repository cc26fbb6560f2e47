"""Every benchmark in one command, then one table of every figure beside its goal.

    .venv/bin/python bench/all.py [--quick] [--only fetch,reads]     (or ``make bench``)

Each bench runs as its own process (its output streams through as it runs) and states its figures
with ``goals.goal``; the table at the end gathers them. Every ratio is against a bound or a
baseline measured in the same run (the least time Stripe's limits allow for the requests made, the
least reads the lists allow, a bare stripe-python loop, ...), never a stored time. The exit status
is 0 even when a goal is not met: the table says which.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from goals import parse

HERE = Path(__file__).resolve().parent
#: (script, its arguments in full, its arguments with --quick): the order they run in.
BENCHES: list[tuple[str, list[str], list[str]]] = [
    ("sandbox.py", [], []),
    # issue 27's conditions: Stripe's live limits, 80 ms + 2 ms/KiB an answer, budget 1.0
    # --quick: one run each, same sizes (a smaller account is mostly start and tail)
    ("fetch.py", ["--issue"], ["--issue", "--repeat", "1"]),
    (
        "apply.py",
        ["--issue"],
        ["--budgets", "1.0", "--latency", "0.08", "--latency-per-kb", "0.002"],
    ),
    ("accounts.py", ["--issue"], ["--repeat", "1"]),
    ("update.py", [], []),
    ("first_rows.py", [], ["--sizes", "500,5000"]),
    ("scale.py", [], []),
    ("overhead.py", [], []),
    ("reads.py", [], ["--no-runbooks"]),
    ("workbook.py", [], []),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller accounts, fewer runs")
    parser.add_argument("--only", default="", help="comma-separated bench names (fetch,reads)")
    args = parser.parse_args()
    only = {name.strip().removesuffix(".py") for name in args.only.split(",") if name.strip()}
    rows: list[tuple[str, str, str, str, bool]] = []
    failed: list[str] = []
    started = time.monotonic()
    for script, full, quick in BENCHES:
        name = script.removesuffix(".py")
        if (only and name not in only) or not (HERE / script).exists():
            continue
        print(f"\n==== bench/{script} ====", flush=True)
        cmd = [sys.executable, str(HERE / script), *(quick if args.quick else full)]
        with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, bufsize=1) as proc:
            assert proc.stdout is not None
            for line in proc.stdout:
                sys.stdout.write(line)
                found = parse(line.rstrip("\n"))
                if found:
                    rows.append((name, *found))
        if proc.returncode:
            failed.append(f"{script} (exit {proc.returncode})")
    print(f"\n==== every figure beside its goal ({time.monotonic() - started:.0f} s) ====")
    width = max([len(r[1]) for r in rows] + [7])
    print(f"{'bench':<10} {'measure':<{width}} {'figure':>8}  {'goal':<9} verdict")
    for bench, measure, figure, target, met in rows:
        print(
            f"{bench:<10} {measure:<{width}} {figure:>8}  {target:<9} {'met' if met else 'NOT MET'}"
        )
    met_count = sum(r[4] for r in rows)
    print(
        f"{met_count} of {len(rows)} goals met"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
