"""Benchmark: how soon the first rows of an account-wide load reach the caller, whatever the
account's size (issue 27 item 4).

The explorer's grid shows what ``load_sources(on_rows=...)`` hands on, as it is handed on; this
bench measures that hand-on without a browser (the browser test
``tests/browser/test_lab_widgets.py::test_the_first_rows_show_long_before_the_load_ends`` checks
that the grid really shows them while the load goes on). For each account size a sandbox serves
from its own process (``bench/fetch.py --serve``) with Stripe's live limits and issue 27's latency,
80 ms + 2 ms per KiB, and this process measures, in the same run:

- one customer page's round trip: ``GET /v1/customers`` of 100 customers with their sources
  embedded, as the load's first full page asks (timed with stripe-python, once the connection is
  open);
- the load: seconds from the call to the first ``on_rows`` hand-on, and to the end.

Goal: the first rows within one customer page's round trip plus 1 s, at every size.

Run: ``.venv/bin/python bench/first_rows.py`` (about 2 minutes; ``--sizes 2000,20000``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from goals import goal  # noqa: E402

KEY = "sk_test_" + "F1rst" * 5
LATENCY, PER_KIB = 0.08, 0.002


def serve(customers: int) -> tuple[subprocess.Popen[str], str]:
    """A live-limits sandbox of ``customers`` in its own process (bench/fetch.py's server)."""
    info = tempfile.mkstemp(prefix="bench-first-", suffix=".json")[1]
    child = subprocess.Popen(
        [
            sys.executable, str(Path(__file__).with_name("fetch.py")), "--serve", "--info", info,
            "--customers", str(customers), "--latency", str(LATENCY),
            "--latency-per-kb", str(PER_KIB),
        ],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert child.stdout is not None
    url = child.stdout.readline().strip()
    os.unlink(info)
    if not url:
        raise SystemExit("the sandbox did not start")
    return child, url


def page_round_trip(url: str) -> float:
    """Seconds of one full customer page with sources embedded (the best of two)."""
    import stripe

    client = stripe.StripeClient(KEY, base_addresses={"api": url})
    params: Any = {"limit": 100, "expand": ["data.sources"]}
    client.v1.customers.list(params={"limit": 1})  # opens the connection
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        client.v1.customers.list(params=params)
        best = min(best, time.perf_counter() - started)
        time.sleep(1.0)  # let the endpoint's limiter refill before the load
    return best


def timed_load(url: str) -> tuple[float, float, int]:
    """(seconds to the first rows, seconds to the end, sources) of one account-wide load."""
    from toolkit.fetch import load_sources
    from toolkit.session import connect

    session = connect(KEY, api_base=url, limits={"global": 100.0}, budget=1.0, quiet=True)
    first: list[float] = []
    started = time.perf_counter()

    def on_rows(frame: Any) -> None:
        if not first:
            first.append(time.perf_counter() - started)

    df = load_sources(session, progress=False, on_rows=on_rows)
    whole = time.perf_counter() - started
    session.close()
    return (first[0] if first else whole), whole, len(df)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,20000", help="customers, comma-separated")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"live limits, latency {LATENCY * 1000:.0f} ms + {PER_KIB * 1000:.0f} ms/KiB")
    print(f"{'customers':>10} {'sources':>8} {'page RTT':>9} {'first rows':>11} {'whole load':>11}")
    results: list[tuple[int, float, float]] = []
    for customers in sizes:
        child, url = serve(customers)
        try:
            rtt = page_round_trip(url)
            first, whole, sources = timed_load(url)
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=60)
        print(f"{customers:>10,} {sources:>8,} {rtt:>8.2f}s {first:>10.2f}s {whole:>10.2f}s")
        results.append((customers, first, rtt + 1.0))
    for customers, first, bound in results:
        goal(f"first rows, {customers:,} customers: seconds / (page RTT + 1 s)", first / bound,
             "<= 1.0")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
