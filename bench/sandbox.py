"""How many 100-customer pages with expanded sources the sandbox serves per second.

The sandbox runs in this process; the clients run in separate processes, each on one keep-alive
http.client connection, reading every body in full without parsing it (so the figure measures
the server, not client-side JSON). Run::

    .venv/bin/python bench/sandbox.py                      # 2000 customers, 2 clients, 5 s
    .venv/bin/python bench/sandbox.py --customers 20000 --clients 3 --seconds 10
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toolkit.sandbox import Sandbox

KEY = "sk_test_" + "b3nch" * 5
PATH = "/v1/customers?limit=100&expand[0]=data.sources"


def _client(
    port: int, cursors: list[str | None], seconds: float, out: mp.Queue[tuple[int, int, int]]
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Authorization": f"Bearer {KEY}"}
    done = nbytes = errors = 0
    deadline = time.perf_counter() + seconds
    i = 0
    while time.perf_counter() < deadline:
        cursor = cursors[i % len(cursors)]
        i += 1
        path = PATH if cursor is None else f"{PATH}&starting_after={cursor}"
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            errors += 1
        done += 1
        nbytes += len(body)
    conn.close()
    out.put((done, nbytes, errors))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print requests/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    box = Sandbox(seed=7, customers=args.customers)
    seeded = time.perf_counter() - t0
    order = box.store().order
    cursors: list[str | None] = [None, *order[99:-1:100]]
    with box:
        # Warm the JSON caches once, as a long-running sandbox would be.
        for cursor in cursors:
            conn = http.client.HTTPConnection("127.0.0.1", box.port)
            path = PATH if cursor is None else f"{PATH}&starting_after={cursor}"
            conn.request("GET", path, headers={"Authorization": f"Bearer {KEY}"})
            conn.getresponse().read()
            conn.close()
        box.clear_log()
        queue: mp.Queue[tuple[int, int, int]] = mp.Queue()
        ctx = mp.get_context("spawn") if sys.platform == "win32" else mp.get_context("fork")
        procs = [
            ctx.Process(target=_client, args=(box.port, cursors, args.seconds, queue))
            for _ in range(args.clients)
        ]
        start = time.perf_counter()
        for proc in procs:
            proc.start()
        results = [queue.get() for _ in procs]
        elapsed = time.perf_counter() - start
        for proc in procs:
            proc.join()
    done = sum(r[0] for r in results)
    nbytes = sum(r[1] for r in results)
    errors = sum(r[2] for r in results)
    rate = done / args.seconds
    print(
        f"sandbox: {args.customers} customers seeded in {seeded:.2f} s; "
        f"{args.clients} keep-alive clients for {args.seconds:.0f} s (wall {elapsed:.1f} s)"
    )
    print(
        f"GET /v1/customers?limit=100&expand[]=data.sources: {rate:.0f} requests/s, "
        f"{nbytes / done / 1024:.0f} KiB/page, {nbytes / args.seconds / 2**20:.0f} MiB/s, "
        f"{errors} errors"
    )
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
