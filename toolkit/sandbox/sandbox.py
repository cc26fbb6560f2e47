"""The Sandbox: a Stripe-compatible server on loopback with seeded data and fault injection.

Example::

    with Sandbox(seed=7, customers=300) as box:
        client = stripe.StripeClient("sk_test_" + "x" * 24, base_addresses={"api": box.url})
        client.v1.sources.retrieve(box.planted["stale_pending"][0])
        box.deposit(box.planted["stale_pending"][0], 5000)
"""

from __future__ import annotations

import ipaddress
import itertools
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Mapping
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Self

from toolkit.sandbox.access import default_connected_accounts
from toolkit.sandbox.accounts import account_objects
from toolkit.sandbox.ach_migration import sweep_until
from toolkit.sandbox.cash_admin import CashAdmin
from toolkit.sandbox.faults import Faults
from toolkit.sandbox.limits import DEFAULT_CONCURRENCY, Limits
from toolkit.sandbox.locks import LOCK_WAIT, ObjectLocks
from toolkit.sandbox.log import LOG_LIMIT, RequestLog, RequestLogEntry
from toolkit.sandbox.objects import ALNUM
from toolkit.sandbox.read_allocation import ReadAllocation
from toolkit.sandbox.seed import seed_dataset
from toolkit.sandbox.seed_cash import MIGRATION_PROFILES, seed_cash
from toolkit.sandbox.seed_ledger import seed_ledger
from toolkit.sandbox.seed_orders import seed_orders
from toolkit.sandbox.server import SandboxServer
from toolkit.sandbox.source_admin import SourceAdmin
from toolkit.sandbox.store import SANDBOX_NOW, DataSet


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Sandbox(CashAdmin, SourceAdmin):
    """A Stripe-compatible HTTP server on 127.0.0.1 serving deterministic demo data.

    Any key shaped ``(sk|rk)_(test|live)_...`` is accepted (only ``api_key`` if given); live keys
    see a separate live data set. ``Stripe-Account`` must name one of ``connected_accounts``
    (default: three ids drawn from the seed, ``box.connected_accounts``; else Stripe's 403), each
    with its own data set (seeded from the account id, a tenth of the size); ``GET /v1/accounts``
    lists them and ``revoked_accounts`` (listed, but every request on their behalf answers 403).
    ``GET /v1/events`` lists what every write did (toolkit.sandbox.events). ``restricted_keys``
    maps ``rk_...`` keys to ``{"customers": "read", "sources": "write", ...}``; a request needing
    more answers Stripe's 403. ``demo=False`` starts empty.

    ``limits`` applies Stripe's limiters (toolkit.sandbox.limits): ``"auto"`` (each key's mode:
    live 100/s, test 25/s), ``"live"``, ``"test"`` or None (off, the default: tests and fault
    campaigns stay fast); ``endpoint_limits`` overrides the 25/s of some endpoints
    (``{"POST /v1/sources/{id}": 50}``), ``concurrency`` caps requests in flight per account,
    ``endpoint_concurrency`` those on one endpoint (``{"GET /v1/sources/{id}": 4}``: 429
    ``endpoint-concurrency``) and ``resource_limits`` the requests per second on one object of an
    endpoint (``{"POST /v1/sources/{id}": 2}``: 429 ``resource-specific``), whatever ``limits``.
    A write holds its object: a concurrent write on it waits ``lock_wait`` seconds, then answers
    429 ``lock_timeout``.

    ``migration`` seeds cash balances (toolkit.sandbox.seed_cash): ``"partial"`` (the demo: an
    account part-way to Bank Transfers), ``"complete"`` or ``"none"``; a migrated customer's ACH
    Credit Transfer sources leave their list and their money moves into the cash balance, and
    once the clock passes the 15th of a month money left on a source for more than 45 days is
    swept to the account balance (toolkit.sandbox.ach_migration). ``sources_retired=True`` is
    the "Sources switched off" profile (toolkit.sandbox.retired). ``source_update_events=False``
    records no ``customer.source.updated`` (Stripe's docs do not promise that event for a source
    update; an unattached source's update has none either way): the profile a refresh must be
    honest under. ``read_allocation=N`` models Stripe's read request allocation: N reads (GETs)
    per allocation (the platform's own; its reads for connected accounts) and mode, then a 429
    that says so, final (toolkit.sandbox.read_allocation); reads are counted either way
    (``box.reads_used()``).

    Example::

        box = Sandbox(seed=7, customers=50).start()
        print(box.url)  # http://127.0.0.1:54321
        box.stop()
    """

    def __init__(
        self,
        *,
        seed: int = 7,
        customers: int = 300,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        jitter: float = 0.0,
        rate_limit: float | None = None,
        error_rate: float = 0.0,
        drop_rate: float = 0.0,
        lost_reply_rate: float = 0.0,
        error_after_rate: float = 0.0,
        fault_method: str | None = None,
        fault_path: str | None = None,
        api_key: str | None = None,
        demo: bool = True,
        log_limit: int = LOG_LIMIT,
        limits: str | Limits | None = None,
        endpoint_limits: Mapping[str, float] | None = None,
        concurrency: int | None = DEFAULT_CONCURRENCY,
        endpoint_concurrency: Mapping[str, int] | None = None,
        resource_limits: Mapping[str, float] | None = None,
        connected_accounts: Iterable[str] | None = None,
        revoked_accounts: Iterable[str] = (),
        restricted_keys: Mapping[str, Mapping[str, str]] | None = None,
        lock_wait: float = LOCK_WAIT,
        migration: str = "partial",
        sources_retired: bool = False,
        source_update_events: bool = True,
        read_allocation: int | None = None,
    ) -> None:
        if not _is_loopback(host):
            raise ValueError(f"the sandbox listens on loopback only, not {host!r}")
        if customers < 0:
            raise ValueError(f"customers must be >= 0, not {customers}")
        if migration not in MIGRATION_PROFILES:
            raise ValueError(f"migration must be one of {MIGRATION_PROFILES}, not {migration!r}")
        self.migration = migration
        self.sources_retired = sources_retired
        self.source_update_events = source_update_events
        self.log = RequestLog(log_limit)
        self._clock_start = time.monotonic()
        self._clock_offset = 0.0
        self.seed = seed
        self.customers = customers
        self.host = host
        self.api_key = api_key
        self.demo = demo
        self.faults = Faults(seed)
        self.faults.configure(
            latency=latency,
            jitter=jitter,
            rate_limit=rate_limit,
            error_rate=error_rate,
            drop_rate=drop_rate,
            lost_reply_rate=lost_reply_rate,
            error_after_rate=error_after_rate,
            fault_method=fault_method,
            fault_path=fault_path,
        )
        if isinstance(limits, Limits):
            self.limits = limits
        else:
            self.limits = Limits.profile(
                limits,
                endpoint_limits=endpoint_limits,
                concurrency=concurrency,
                endpoint_concurrency=endpoint_concurrency,
                resource_limits=resource_limits,
            )
        self.limits.reads = ReadAllocation(read_allocation)
        accounts = (
            default_connected_accounts(seed) if connected_accounts is None else connected_accounts
        )
        #: The accounts a ``Stripe-Account`` header may name.
        self.connected_accounts: frozenset[str] = frozenset(accounts)
        #: Listed by ``GET /v1/accounts`` but refused (403): their access was revoked.
        self.revoked_accounts: frozenset[str] = (
            frozenset(revoked_accounts) - self.connected_accounts
        )
        #: Restricted key -> {resource: "read" | "write" | "none"}.
        self.restricted_keys: dict[str, dict[str, str]] = {
            key: dict(grants) for key, grants in (restricted_keys or {}).items()
        }
        self._object_locks = ObjectLocks(lock_wait)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (any free port) to 65535, not {port!r}")
        self._requested_port = port
        #: Held while a request reads or writes the data (and by the admin routes).
        self.lock = threading.RLock()
        self._counter = itertools.count(1)
        self._datasets: dict[tuple[str | None, bool], DataSet] = {}
        self._server: SandboxServer | None = None
        self._thread: threading.Thread | None = None
        self.dataset(None, False)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._server = SandboxServer((self.host, self._requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"stripe-sandbox:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self, ready: Callable[[str], None] | None = None) -> None:
        """Serve in the calling thread until KeyboardInterrupt (used by the CLI).

        ``ready(url)`` is called once the port is bound.
        """
        self._server = SandboxServer((self.host, self._requested_port), self)
        if ready is not None:
            ready(self.url)
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._server.close_all()
            self._server.server_close()
            self._server = None

    def stop(self) -> None:
        """Stop serving and close open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (the requested one before start())."""
        if self._server is not None:
            return self._server.server_address[1]
        return self._requested_port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (start() first)."""
        if self._server is None:
            raise RuntimeError("the sandbox is not running: call start() or use `with Sandbox()`")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"Sandbox(seed={self.seed}, customers={self.customers}, {where})"

    # -- data -------------------------------------------------------------------------------

    def _seed_key(self, account: str | None, livemode: bool) -> str:
        key = str(self.seed)
        if account:
            key += f":{account}"
        if livemode:
            key += ":live"
        return key

    def _size(self, account: str | None, livemode: bool) -> int:
        if self.customers == 0:
            return 0
        if account:
            return max(10, self.customers // 10)
        if livemode:
            return max(10, self.customers // 4)
        return self.customers

    def dataset(self, account: str | None, livemode: bool) -> DataSet:
        """The data set of an account and mode, seeded on first use."""
        key = (account, livemode)
        ds = self._datasets.get(key)
        if ds is not None:
            return ds
        with self.lock:
            ds = self._datasets.get(key)
            if ds is None:
                seed_key = self._seed_key(account, livemode)
                ds = DataSet(livemode=livemode, account=account, rng_seed=seed_key + ":runtime")
                if self.demo:
                    seed_dataset(ds, seed_key, self._size(account, livemode))
                    seed_cash(ds, seed_key, self.migration)
                    seed_ledger(ds, seed_key)
                    seed_orders(ds, seed_key)  # last: nothing seeded before depends on them
                else:
                    ds.index()
                ds.sources_retired, ds.events.now = self.sources_retired, self.clock
                if not self.source_update_events:
                    ds.events.silent = frozenset({"customer.source.updated"})
                sweep_until(ds, self.clock())  # a data set first read after the clock moved on
                if account is None:
                    listed = self.connected_accounts | self.revoked_accounts
                    ds.connected = account_objects(listed, livemode=livemode)
                self._datasets[key] = ds
            return ds

    def store(self, account: str | None = None, livemode: bool = False) -> DataSet:
        """The data set of an account and mode (read it; write through the API or deposit())."""
        return self.dataset(account, livemode)

    def reset(self) -> None:
        """Reseed every data set from scratch, forget idempotency keys and the reads counted,
        clear the request log."""
        with self.lock:
            self._datasets.clear()
            self.dataset(None, False)
        self.limits.reads.reset()
        self.clear_log()

    def reads_used(self, account: str | None = None, livemode: bool = False) -> int:
        """Reads admitted of the allocation ``account`` draws on (None: the platform's own;
        any connected account: the platform's reads for them all). ``box.reads_used()``"""
        return self.limits.reads.used(account, livemode)

    # -- faults and log ---------------------------------------------------------------------

    def set_faults(self, **settings: Any) -> None:
        """Change faults at run time: latency, jitter, rate_limit, error_rate, drop_rate,
        lost_reply_rate (handled, then the connection closes without an answer),
        error_after_rate (handled, then a 500 saved under the idempotency key),
        fault_method, fault_path (the ones not given stay).

        Example: ``box.set_faults(error_rate=0.3, fault_method="POST")``
        """
        self.faults.configure(**settings)

    def faults_off(self) -> None:
        """Remove every fault."""
        self.faults.off()

    @property
    def requests(self) -> list[RequestLogEntry]:
        """The request log, oldest first (at most ``log_limit`` entries)."""
        return self.log.entries

    def clear_log(self) -> None:
        """Empty the request log."""
        self.log.clear()

    def log_request(self, entry: RequestLogEntry) -> None:
        """Add one entry to the request log."""
        self.log.add(entry)

    # -- the clock --------------------------------------------------------------------------

    def clock(self) -> float:
        """The sandbox's clock in epoch seconds: the data clock's start (2026-11-01) plus the
        time it has been running, plus what :meth:`advance_clock` added. Idempotency keys
        expire after 24 hours of it. ``box.clock()``"""
        return SANDBOX_NOW + (time.monotonic() - self._clock_start) + self._clock_offset

    def date(self) -> int:
        """The time every answer's ``Date`` header carries, in epoch seconds: the data clock's
        start (2026-11-01) plus what :meth:`advance_clock` added. It stands still between
        advances, so that a run's stamps are reproducible (our choice: Stripe's ``Date`` is its
        wall clock). A session learns the server's time from it, as from any server's.
        ``box.date()``"""
        return int(SANDBOX_NOW + self._clock_offset)

    def advance_clock(self, seconds: float) -> float:
        """Move the clock forward (to expire idempotency keys, to pass the monthly sweep); returns
        the new time. Passing the 15th of a month (00:00 UTC) runs Stripe's sweep in every data
        set with migrated customers: money left unreconciled on an ACH Credit Transfer source for
        more than 45 days goes to the account balance (toolkit.sandbox.ach_migration; what it
        took is in ``box.store().cash.sweeps``).

        Example: ``box.advance_clock(24 * 3600)``; ``box.advance_clock(15 * 86400)`` passes
        2026-11-15.
        """
        if seconds < 0:
            raise ValueError(f"the clock only moves forward, not by {seconds}")
        with self.lock:
            self._clock_offset += seconds
            now = self.clock()
            for ds in self._datasets.values():
                sweep_until(ds, now)
        return now

    def object_lock(self, key: Hashable) -> AbstractContextManager[None]:
        """Hold one object for a write (429 ``lock_timeout`` after ``lock_wait`` seconds)."""
        return self._object_locks.hold(key)

    def next_request_id(self) -> str:
        """A fresh ``req_...`` id (deterministic for the order of requests)."""
        n = next(self._counter)
        chars = []
        for _ in range(14):
            n, r = divmod(n, 62)
            chars.append(ALNUM[r])
        return "req_" + "".join(reversed(chars))
