"""``python -m toolkit sandbox``: run the sandbox in the foreground until Ctrl-C (point
``STRIPE_API_BASE`` at the address it prints; any ``sk_test_``/``sk_live_`` key is accepted).

Example::

    python -m toolkit sandbox --port 12111 --seed 7 --customers 2000 --limits live
"""

from __future__ import annotations

import argparse
import sys

from toolkit.sandbox.limits import DEFAULT_CONCURRENCY, PROFILES
from toolkit.sandbox.sandbox import Sandbox


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a share between 0 and 1, not {text}")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _count(text: str) -> int:
    """A whole number >= 0; argparse makes anything else a usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number, not {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {value}")
    return value


def _port(text: str) -> int:
    """A TCP port: 0 (any free one) to 65535; argparse makes anything else a usage error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a port between 0 and 65535, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"a port between 0 and 65535 (0: any free port), not {value}"
        )
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox options to ``parser``.

    Example: ``add_arguments(subparsers.add_parser("sandbox"))``
    """
    parser.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=12111, help="port (default 12111; 0 = any)")
    parser.add_argument("--seed", type=int, default=7, help="data seed (default 7)")
    parser.add_argument(
        "--customers", type=int, default=300, help="customers to seed (default 300)"
    )
    parser.add_argument("--empty", action="store_true", help="start with no demo data")
    parser.add_argument(
        "--latency", type=_non_negative, default=0.0, help="seconds added to each request"
    )
    parser.add_argument(
        "--jitter", type=_non_negative, default=0.0, help="up to this many more seconds"
    )
    parser.add_argument(
        "--limits",
        choices=PROFILES,
        default="auto",
        help="Stripe's limiters: auto (each key's mode: live 100/s, test 25/s; 25/s per "
        "endpoint), live, test or off (default auto)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"requests in flight per account (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="a fault: one bucket of requests/s (429)"
    )
    parser.add_argument("--error-rate", type=_rate, default=0.0, help="share of 500s (0-1)")
    parser.add_argument(
        "--drop-rate", type=_rate, default=0.0, help="share of dropped connections (0-1)"
    )
    parser.add_argument("--fault-method", default=None, help="limit faults to this HTTP method")
    parser.add_argument("--fault-path", default=None, help="limit faults to paths matching regex")
    parser.add_argument(
        "--migration",
        choices=("partial", "complete", "none"),
        default="partial",
        help="cash balances: an account part-way to Bank Transfers (default), fully, or not at all",
    )
    parser.add_argument(
        "--sources-retired",
        action="store_true",
        help="the 'Sources switched off' profile: retired source types cannot be created",
    )
    parser.add_argument(
        "--read-allocation",
        type=_count,
        default=None,
        metavar="N",
        help="model Stripe's read request allocation: N reads (GETs) per allocation and mode, "
        "then a final 429 (default: counted, never refused)",
    )
    parser.add_argument(
        "--no-source-update-events",
        action="store_true",
        help="record no customer.source.updated events (Stripe does not promise them)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; returns the exit code.

    Example: ``run(parser.parse_args(["--port", "12111"]))``
    """
    try:
        box = Sandbox(
            seed=args.seed,
            customers=args.customers,
            host=args.host,
            port=args.port,
            latency=args.latency,
            jitter=args.jitter,
            rate_limit=args.rate_limit,
            limits=None if args.limits == "off" else args.limits,
            concurrency=args.concurrency,
            error_rate=args.error_rate,
            drop_rate=args.drop_rate,
            fault_method=args.fault_method,
            fault_path=args.fault_path,
            demo=not args.empty,
            migration=args.migration,
            sources_retired=args.sources_retired,
            source_update_events=not args.no_source_update_events,
            read_allocation=args.read_allocation,
        )
    except ValueError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 2
    ds = box.store()

    def ready(url: str) -> None:
        listed = sum(
            1 for cid in ds.customers for sid in ds.items.get(cid, []) if sid in ds.sources
        )
        print(
            f"Stripe sandbox on {url} (seed {args.seed}, {len(ds.customers)} customers, "
            f"{len(ds.sources):,} sources: {listed:,} attached to customers, which a load reads, "
            f"{len(ds.sources) - listed:,} detached or never attached, reachable by id only; "
            f"limits {args.limits}"
            + (
                f", read allocation {args.read_allocation:,}"
                if args.read_allocation is not None
                else ""
            )
            + "). Any sk_test_/sk_live_ key "
            "works. Ctrl-C to stop.",
            flush=True,
        )
        print(f"Connected accounts: {', '.join(sorted(box.connected_accounts))}", flush=True)

    try:
        box.serve_forever(ready)
    except KeyboardInterrupt:
        print("sandbox stopped", flush=True)
    except OSError as exc:
        print(f"sandbox: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry: ``python -m toolkit.sandbox.cli --port 12111``."""
    parser = argparse.ArgumentParser(prog="python -m toolkit sandbox", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
