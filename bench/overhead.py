r"""The toolkit's own cost per request, beside a bare stripe-python loop making the same requests.

With Stripe's limits raised (``connect(limits=...)``) or against the sandbox unthrottled, the
toolkit's own work per request (parsing, the frame, the journal, the limiter, its threads) sets the
ceiling. This bench serves a sandbox from its own process with no limits, then measures in this
process, for a load of every source and for a bulk metadata update:

- the toolkit: ``load_sources`` (the frame included) and ``apply`` of a metadata plan (journal,
  drift check and done-check included), with limits lifted;
- a bare loop with stripe-python's ``StripeClient``: the same customer pages with embedded sources
  and the same continuations, one request at a time; for the update, the same reads the toolkit's
  apply sent for its drift check (taken from the sandbox's request log: the customer pages, the
  continuations, the sources read by id), each with the SDK's typed call, then the same number of
  updates, one ``POST`` each;

and prints requests per CPU-second of this process for each (CPU time: the sandbox's work is in
another process, and a busy machine moves wall time far more than CPU time), and their ratio.
Goal: the toolkit at least 0.8x the bare loop's rate on one core.

The update is measured in rounds (``--rounds``, 3 by default): each round applies a plan of new
rows, then runs the bare loop over the same requests, so both see the same load of the machine;
the figure is the median round's ratio, printed with the lowest and highest. Beside it, held to
the same goal, the stricter figure this bench gave before: the toolkit's requests (its reads
counted as requests) per CPU-second against a bare loop of the ``POST``\ s alone, which reads
nothing (what the toolkit's whole write path costs beyond a loop that checks nothing). A customer
page of 100 with their sources costs stripe-python's typed call about 50 ms of CPU (it builds a
``StripeObject`` of every field) and the toolkit about 2.5 ms, so the first figure is mostly that
difference; the second is the one the toolkit's own work per write moves.

Run: ``.venv/bin/python bench/overhead.py`` (about a minute; ``--customers N --rows N --rounds N``).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from goals import goal  # noqa: E402

KEY = "sk_test_" + "Overhead" * 3
GOAL = 0.8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(customers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [
        sys.executable, "-m", "toolkit", "sandbox", "--port", str(port),
        "--customers", str(customers), "--limits", "off",
    ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(
                urllib.request.Request(url + "/v1/customers?limit=1",
                                       headers={"Authorization": f"Bearer {KEY}"}), timeout=2
            ).close()  # fmt: skip
            return proc, url
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the sandbox did not start")


def _measure(work: Any) -> tuple[int, float, float]:
    """(requests, CPU seconds of this process, wall seconds) of ``work()`` (returns requests)."""
    cpu, wall = time.process_time(), time.perf_counter()
    requests = work()
    return requests, time.process_time() - cpu, time.perf_counter() - wall


def _bare_load(url: str) -> int:
    """Customer pages with embedded sources, then each customer's continuation: one at a time."""
    import stripe

    client = stripe.StripeClient(KEY, base_addresses={"api": url})
    requests, after = 0, None
    while True:
        params: stripe.params.CustomerListParams = {"limit": 100, "expand": ["data.sources"]}
        if after:
            params["starting_after"] = after
        page = client.v1.customers.list(params=params)
        requests += 1
        for customer in page.data:
            # a StripeObject is not a dict: .get raises
            sources = customer["sources"] if "sources" in customer else None  # noqa: SIM401
            while sources is not None and sources["has_more"]:
                last = sources["data"][-1]["id"]
                sources = client.v1.customers.payment_sources.list(
                    customer.id, params={"limit": 100, "starting_after": last}
                )
                requests += 1
        if not page.has_more:
            return requests
        after = page.data[-1].id


def _clear_log(url: str) -> None:
    """Empty the sandbox's request log (its admin route: no key, not logged itself)."""
    request = urllib.request.Request(url + "/_sandbox/requests", method="DELETE")
    urllib.request.urlopen(request, timeout=10).close()


def _as_params(value: Any) -> Any:
    """A request log's decoded form (``{"expand": {"0": "data.sources"}}``) as SDK params."""
    if isinstance(value, dict):
        if value and all(str(key).isdigit() for key in value):
            return [_as_params(value[key]) for key in sorted(value, key=int)]
        return {key: _as_params(item) for key, item in value.items()}
    return value


def _reads_sent(url: str) -> list[tuple[str, dict[str, Any]]]:
    """The API reads (``GET /v1/...``) the sandbox received since its log was cleared."""
    with urllib.request.urlopen(url + "/_sandbox/requests", timeout=30) as answer:
        entries = json.load(answer)["data"]
    return [
        (entry["path"], _as_params(entry["params"]))
        for entry in entries
        if entry["method"] == "GET" and entry["path"].startswith("/v1/")
    ]


def _bare_reads(client: Any, reads: list[tuple[str, dict[str, Any]]]) -> int:
    """The same reads, each with the SDK's typed call as a script would make it."""
    for path, params in reads:
        parts = path.strip("/").split("/")
        if parts == ["v1", "customers"]:
            client.v1.customers.list(params=params)
        elif len(parts) == 4 and parts[1] == "customers" and parts[3] == "sources":
            client.v1.customers.payment_sources.list(parts[2], params=params)
        elif len(parts) == 3 and parts[1] == "sources":
            client.v1.sources.retrieve(parts[2], params=params)
        elif parts == ["v1", "test_helpers", "test_clocks"]:
            client.v1.test_helpers.test_clocks.list(params=params)
        else:
            client.raw_request("get", path, **params)
    return len(reads)


def _bare_client(url: str) -> Any:
    import stripe

    return stripe.StripeClient(KEY, base_addresses={"api": url})


def _bare_update(url: str, ids: list[str], value: str = "bare", client: Any = None) -> int:
    """One ``POST`` per id, each with an idempotency key (as apply sends them)."""
    client = client or _bare_client(url)
    for sid in ids:
        client.v1.sources.update(
            sid,
            params={"metadata": {"overhead": value}},
            options={"idempotency_key": str(uuid.uuid4())},
        )
    return len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--rows", type=int, default=1000, help="rows of the bulk update")
    parser.add_argument("--rounds", type=int, default=3, help="update rounds (median is kept)")
    args = parser.parse_args()

    import tempfile

    import toolkit
    from toolkit.session.ratelimit import StripeLimits

    proc, url = _serve(args.customers)
    try:
        unlimited = StripeLimits(None, None)
        session = toolkit.connect(KEY, api_base=url, limits=unlimited, quiet=True,
                                  read_allowance=None)  # fmt: skip
        _bare_load(url)  # warm both paths (imports, connections) before measuring
        toolkit.load_sources(session, progress=False)
        results = {}
        frame: Any = None

        def load() -> int:
            nonlocal frame
            frame = toolkit.load_sources(session, progress=False)
            return int(toolkit.LoadInfo.from_attrs(frame).requests or 0)  # type: ignore[union-attr]

        results["load: toolkit"] = _measure(load)
        results["load: bare loop"] = _measure(lambda: _bare_load(url))
        chargeable = frame[frame["status"] == "chargeable"]
        half = args.rows // 2
        rounds = max(1, min(args.rounds, len(chargeable) // max(1, half) - 1))
        bare_ids = chargeable["id"].head(half).tolist()  # the toolkit's rows: new each round
        client = _bare_client(url)
        _bare_update(url, bare_ids[:20], "warm", client)
        ratios, posts_only, mismatch = [], [], []
        for n in range(1, rounds + 1):
            rows = chargeable.iloc[n * half : (n + 1) * half]
            plan = toolkit.plan_metadata(rows, set={"overhead": "toolkit"})
            reads_counted = 0
            _clear_log(url)
            with tempfile.TemporaryDirectory() as folder:

                def update(plan: Any = plan, folder: str = folder) -> int:
                    nonlocal reads_counted
                    outcome = toolkit.apply(plan, session, progress=False, journal=Path(folder))
                    reads_counted = int(outcome.reads or 0)
                    return int(outcome.totals.get("ok", 0)) + reads_counted

                mine = results[f"update {n}: toolkit"] = _measure(update)
            reads = _reads_sent(url)  # what the toolkit read, for the bare loop to read too
            if len(reads) != reads_counted:
                mismatch.append(f"round {n}: {reads_counted} reads counted, {len(reads)} logged")
            got = results[f"update {n}: bare reads"] = _measure(
                lambda r=reads: _bare_reads(client, r)
            )
            put = results[f"update {n}: bare POSTs"] = _measure(
                lambda n=n: _bare_update(url, bare_ids, f"bare-{n}", client)
            )
            mine_rate = mine[0] / mine[1]
            ratios.append(mine_rate / ((got[0] + put[0]) / (got[1] + put[1])))
            posts_only.append(mine_rate / (put[0] / put[1]))
    finally:
        proc.terminate()
        proc.wait(10)

    print(f"{args.customers:,} customers, {len(frame):,} sources; update of {half:,} rows each, "
          f"{rounds} round{'s' if rounds > 1 else ''}")  # fmt: skip
    print(f"{'':22} {'requests':>9} {'CPU s':>7} {'wall s':>7} {'req/CPU-s':>10}")
    rates = {}
    for name, (requests, cpu, wall) in results.items():
        rates[name] = requests / cpu if cpu else float("inf")
        print(f"{name:22} {requests:9,} {cpu:7.2f} {wall:7.2f} {rates[name]:10,.0f}")
    ratio = rates["load: toolkit"] / rates["load: bare loop"]
    print(f"load: the toolkit makes {ratio:.2f}x the bare loop's requests per CPU-second "
          f"(goal >= {GOAL}x) {'ok' if ratio >= GOAL else 'BELOW GOAL'}")  # fmt: skip
    ratio = statistics.median(ratios)
    print(f"update: the toolkit makes {ratio:.2f}x the bare loop's requests per CPU-second, the "
          f"same reads and POSTs (median of {len(ratios)} rounds, {min(ratios):.2f}-"
          f"{max(ratios):.2f}; goal >= {GOAL}x) {'ok' if ratio >= GOAL else 'BELOW GOAL'}")  # fmt: skip
    strict = statistics.median(posts_only)
    print(
        f"update: {strict:.2f}x a bare loop of the POSTs alone, no reads (median, "
        f"{min(posts_only):.2f}-{max(posts_only):.2f}; the toolkit's reads counted as requests; "
        f"goal >= {GOAL}x) {'ok' if strict >= GOAL else 'BELOW GOAL'}"
    )
    for line in mismatch:
        print(f"note: the sandbox logged other reads than apply counted ({line})")
    load_ratio = rates["load: toolkit"] / rates["load: bare loop"]
    goal("load: toolkit / bare loop, requests per CPU-second", load_ratio, f">= {GOAL}")
    goal("bulk update: toolkit / bare loop of the same reads and POSTs, requests per CPU-second "
         "(median round)", ratio, f">= {GOAL}")  # fmt: skip
    goal("bulk update: toolkit / bare loop of the POSTs alone, requests per CPU-second "
         "(median round)", strict, f">= {GOAL}")  # fmt: skip


if __name__ == "__main__":
    main()
