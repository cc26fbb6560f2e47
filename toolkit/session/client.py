"""The one door to the Stripe SDK: a :class:`Session` with a typed method for every call the
toolkit makes, one rate limiter, the retries that are safe, and the live guard. Stripe's
exceptions are mapped to the toolkit's tree in exactly one place,
:func:`toolkit.session.transport.mapped`.

No other module imports ``stripe``. Example::

    session = toolkit.connect()
    page = session.list_customers({"limit": 100, "expand": ["data.sources"]})
    answer = session.update_source("src_1...", {"metadata": {"a": "1"}}, idempotency_key="k1")
    answer.body["metadata"], answer.replayed
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import toolkit.session.endpoints as ep
from toolkit.errors import Cancelled, LiveModeRefused
from toolkit.redact import mask_key, redact_url, replace_values
from toolkit.session.cash_calls import CashCalls
from toolkit.session.doors import READ_METHODS, ScriptDoors
from toolkit.session.money_calls import MoneyCalls
from toolkit.session.platform_calls import PlatformCalls
from toolkit.session.ratelimit import RateLimiter, StripeLimits
from toolkit.session.read_ledger import ReadLedger, key_digest
from toolkit.session.reads import ReadBook, ReadCalls, default_allowance
from toolkit.session.retries import CONNECT_TIMEOUT, read_allocation_spent, retry_delay
from toolkit.session.settings import check_bool
from toolkit.session.source_writes import SourceWrites
from toolkit.session.transport import Answer, error_code, header, mapped, seg

__all__ = ["DEFAULT_BUDGETS", "Mode", "Session"]

Mode = Literal["sandbox", "test", "live"]
T = TypeVar("T")
log = logging.getLogger(__name__)

#: The share of Stripe's limits a session uses, by mode. Live: half, because the account's own
#: traffic (checkouts, webhooks' callers, the Dashboard) shares the same limits and Stripe asks
#: background jobs to keep to "a subset of the maximum"; a bulk job that took it all would make
#: live payments fail with 429s. Test mode and the sandbox: all of it (nothing else competes).
DEFAULT_BUDGETS: dict[str, float] = {"live": 0.5, "test": 1.0, "sandbox": 1.0}
_SERIALS = itertools.count(1)  # tells sessions apart for their read meters


class Session(CashCalls, MoneyCalls, SourceWrites, PlatformCalls, ReadCalls, ScriptDoors):
    """A connection to one Stripe account (or the sandbox) with one shared rate limiter.

    Build it with :func:`toolkit.connect`. The typed methods (``list_customers``,
    ``retrieve_source``, ``update_source``...) are the calls the toolkit makes;
    ``session.raw("get", path, params)`` and ``session.call(fn, *args)`` are open doors for
    scripts, under the same limiter, retries, live guard and error mapping. Every GET is
    counted as it leaves and held to the read allowance (``session.reads``,
    :mod:`toolkit.session.reads`).
    """

    def __init__(
        self,
        *,
        api_key: str,
        mode: Mode,
        api_base: str,
        stripe_account: str | None = None,
        allow_live: bool = False,
        limits: StripeLimits | None = None,
        budget: float | None = None,
        max_workers: int = 8,
        timeout: float = 30.0,
        max_retries: int = 5,
        sandbox: Any = None,
        owns_sandbox: bool = False,
        reads: ReadBook | None = None,
        lineage: tuple[int, ...] = (),
    ) -> None:
        self._api_key = api_key
        self.mode: Mode = mode
        self.api_base = api_base.rstrip("/")
        self.stripe_account = stripe_account
        self.allow_live = allow_live
        self.max_workers = max_workers
        self.max_retries = max_retries
        self.timeout = timeout
        self.sandbox = sandbox
        self.owns_sandbox = owns_sandbox
        self.limiter = RateLimiter(
            limits if limits is not None else StripeLimits.of_mode(mode),
            budget=budget if budget is not None else DEFAULT_BUDGETS[mode],
        )
        #: The API version Stripe answered with (``Stripe-Version``), once a request has been made.
        self.api_version: str | None = None
        self.retries = 0  # retried attempts, for benchmarks and tests
        self.rate_limited = 0  # answers HTTP 429
        self._lineage = (*lineage, next(_SERIALS))
        #: The reads of this key and mode: counted, held to the allowance, in the ledger.
        self.reads = reads or ReadBook(
            ReadLedger(None), key_digest(api_key, api_base), mode, default_allowance(mode),
            self.account_label,
        )  # fmt: skip
        self._retry_lock = threading.Lock()
        import stripe  # the SDK loads with the first session, not on ``import toolkit``

        from toolkit.session.guarded_http import GuardedHTTPClient

        # a connection is given CONNECT_TIMEOUT to be made (no network is said quickly), an
        # answer ``timeout``
        self._http = GuardedHTTPClient(
            self._guard, (min(CONNECT_TIMEOUT, timeout), timeout), self.api_base
        )
        self.client = stripe.StripeClient(
            api_key,
            stripe_account=stripe_account,
            base_addresses={"api": self.api_base},
            max_network_retries=0,
            http_client=self._http,
        )

    # -- identity ---------------------------------------------------------------------------
    @property
    def livemode(self) -> bool:
        """True for a live key."""
        return self.mode == "live"

    @property
    def key_hint(self) -> str:
        """The key as its prefix and last four characters, safe to show."""
        return mask_key(self._api_key)

    @property
    def account_label(self) -> str:
        """A label for reports: ``"sandbox"``, ``"test"``, ``"acct_123 (live)"``."""
        base = "sandbox" if self.mode == "sandbox" else self.mode
        return f"{self.stripe_account} ({base})" if self.stripe_account else base

    def mask(self, value: Any) -> Any:
        """``value`` (text, or a record of them) with this session's key masked wherever it
        appears: for the journals and logs the toolkit writes. ``session.mask({"note": key})``"""
        return replace_values(value, [self._api_key])

    def __repr__(self) -> str:
        parts = [f"mode={self.mode!r}", f"key={self.key_hint!r}"]
        if self.stripe_account:
            parts.append(f"account={self.stripe_account!r}")
        if self.mode == "live":
            parts.append(f"allow_live={self.allow_live}")
        parts.append(f"api_base={redact_url(self.api_base)!r}")
        return f"<Session {' '.join(parts)}>"

    def now(self) -> datetime:
        """The time reports are stamped with: the sandbox's data clock in sandbox mode (so runs are
        reproducible), else the UTC wall clock. ``session.now().isoformat()``"""
        if self.mode == "sandbox":
            from toolkit.sandbox import SANDBOX_NOW

            return datetime.fromtimestamp(SANDBOX_NOW, tz=UTC)
        return datetime.now(tz=UTC)

    # -- the live guard ---------------------------------------------------------------------
    @property
    def allow_live(self) -> bool:
        """True only when writes with a live key were opted into with ``allow_live=True``."""
        return self._allow_live

    @allow_live.setter
    def allow_live(self, value: bool) -> None:
        self._allow_live = check_bool(value, "allow_live")

    def _guard(self, method: str, headers: Any = None) -> None:
        if method.lower() not in READ_METHODS:
            self.require_write()
        elif method.lower() == "get":
            self._spend_read(headers)

    def require_write(self) -> None:
        """Raise :class:`LiveModeRefused` for a write in live mode without ``allow_live=True``."""
        if self.mode == "live" and not self.allow_live:
            raise LiveModeRefused(
                f"This session uses a live key ({self.key_hint}): writes change real customer data "
                "and are refused. If you mean it, reconnect with "
                "toolkit.connect(..., allow_live=True)."
            )

    # -- the calls the toolkit makes --------------------------------------------------------
    @ep.names(ep.LIST_CUSTOMERS)
    def list_customers(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers``: one page (``limit``, cursors, ``created``, ``expand``,
        ``test_clock``: Stripe lists customers on a test clock only when it is named)."""
        return self._read(ep.LIST_CUSTOMERS, "/v1/customers", params, cancel, "Listing customers")

    @ep.names(ep.LIST_TEST_CLOCKS)
    def list_test_clocks(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/test_helpers/test_clocks``: one page (test mode only)."""
        path = "/v1/test_helpers/test_clocks"
        return self._read(ep.LIST_TEST_CLOCKS, path, params, cancel, "Listing test clocks")

    @ep.names(ep.RETRIEVE_CUSTOMER)
    def retrieve_customer(
        self,
        customer: str,
        params: dict[str, Any] | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}`` (``expand=["sources"]`` embeds its first sources). A
        customer deleted on Stripe still answers, as ``{"id", "object": "customer", "deleted":
        true}`` and nothing else: check ``body.get("deleted")`` before reading fields."""
        path = f"/v1/customers/{seg(customer)}"
        return self._read(
            ep.RETRIEVE_CUSTOMER, path, params or {}, cancel, f"Retrieving {customer}"
        )

    @ep.names(ep.LIST_CUSTOMER_SOURCES)
    def list_customer_sources(
        self, customer: str, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}/sources``: one page of a customer's payment sources."""
        path = f"/v1/customers/{seg(customer)}/sources"
        what = f"Listing the sources of {customer}"
        return self._read(ep.LIST_CUSTOMER_SOURCES, path, params, cancel, what)

    @ep.names(ep.RETRIEVE_SOURCE)
    def retrieve_source(
        self, source: str, *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/sources/{id}``; a source Stripe does not know raises NotFoundError."""
        path = f"/v1/sources/{seg(source)}"
        return self._read(ep.RETRIEVE_SOURCE, path, {}, cancel, f"Retrieving {source}")

    @ep.names(ep.LIST_SOURCE_TRANSACTIONS)
    def list_source_transactions(
        self, source: str, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/sources/{id}/source_transactions``: one page."""
        path = f"/v1/sources/{seg(source)}/source_transactions"
        what = f"Listing the transactions of {source}"
        return self._read(ep.LIST_SOURCE_TRANSACTIONS, path, params, cancel, what)

    # -- sending ----------------------------------------------------------------------------
    def _saw(self, headers: Any) -> None:
        """Note what Stripe's answer says about itself (the API version it answered with)."""
        version = header(headers, "Stripe-Version")
        if version:
            self.api_version = version

    def _read(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any],
        cancel: threading.Event | None,
        what: str,
    ) -> dict[str, Any]:
        def send() -> dict[str, Any]:
            # the SDK has parsed the body once already: use that, never parse it twice
            response = self.client.raw_request("get", path, **params)
            self._saw(response.headers)
            data: dict[str, Any] = response.data
            return data

        return self._send(send, False, False, cancel, what, endpoint)

    def _write(
        self,
        endpoint: str,
        method: str,
        path: str,
        params: dict[str, Any],
        idempotency_key: str | None,
        cancel: threading.Event | None,
        what: str,
    ) -> Answer:
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}

        def send() -> Answer:
            response = self.client.raw_request(method, path, **params, **options)
            self._saw(response.headers)
            replayed = (header(response.headers, "Idempotent-Replayed") or "").lower() == "true"
            return Answer(response.data, response.request_id, replayed)

        return self._send(send, True, bool(idempotency_key), cancel, what, endpoint)

    def _send(
        self,
        send: Callable[[], T],
        write: bool,
        keyed: bool,
        cancel: threading.Event | None,
        what: str,
        endpoint: str | None = None,
    ) -> T:
        if write:
            self.require_write()
        import stripe  # loaded by __init__

        replay_safe = (not write) or keyed
        attempt = 0
        while True:
            try:
                with self.limiter.slot(endpoint, cancel):
                    return send()
            except stripe.StripeError as exc:
                self._saw(exc.headers)
                spent = None if write else read_allocation_spent(exc)
                if spent is not None:  # final: reads are counted over 30 days
                    raise self._read_refused(spent, exc.request_id) from None
                delay = retry_delay(exc, attempt, replay_safe, self.limiter, endpoint)
                answer = f"HTTP {exc.http_status}" if exc.http_status else "no connection"
                code = error_code(exc)
                if exc.http_status == 429:
                    self.rate_limited += 1
                    reason = header(exc.headers, "Stripe-Rate-Limited-Reason") or code or "-"
                    log.info("rate limited (HTTP 429, %s) on %s", reason, endpoint or "a request")
                if delay is None or attempt >= self.max_retries:
                    server = redact_url(self.api_base)
                    error = mapped(exc, what, endpoint=endpoint, server=server)
                    # status and code only: Stripe's message may quote a customer's data
                    log.info("%s failed after %d retries: %s%s", endpoint or what, attempt,
                             answer, f" {code}" if code else "")  # fmt: skip
                    raise error from None
                log.info("retrying %s in %.2f s (retry %d of at most %d) after %s%s",
                         endpoint or what, delay, attempt + 1, self.max_retries, answer,
                         f" {code}" if code else "")  # fmt: skip
            attempt += 1
            with self._retry_lock:
                self.retries += 1
            if cancel is None:
                time.sleep(delay)
            elif cancel.wait(delay):
                raise Cancelled()

    # -- lifetime ---------------------------------------------------------------------------
    def for_account(self, account: str) -> Session:
        """A session that acts for connected account ``account`` (``Stripe-Account``), with
        its own limiter: Stripe measures rate limits per account, so each connected account
        has the whole budget of its mode. It shares this session's key, mode, live guard and
        sandbox (which it never stops), and is closed with :meth:`close` like any session.

        >>> session.for_account("acct_1Demo0000000").stripe_account
        'acct_1Demo0000000'
        """
        return Session(
            api_key=self._api_key,
            mode=self.mode,
            api_base=self.api_base,
            stripe_account=account,
            allow_live=self.allow_live,
            limits=self.limiter.limits,
            budget=self.limiter.budget,
            max_workers=self.max_workers,
            timeout=self.timeout,
            max_retries=self.max_retries,
            sandbox=self.sandbox,
            reads=self.reads,
            lineage=self._lineage,
        )

    def close(self) -> None:
        """Write the reads not yet in the ledger; stop the embedded sandbox, if this session
        started one. Logs (INFO) a summary of the requests it sent."""
        http = getattr(self, "_http", None)
        if http is not None and sum(http.sent.values()) and not getattr(self, "_summarised", 0):
            self._summarised = 1
            methods = ", ".join(f"{n:,} {m}" for m, n in sorted(http.sent.items()))
            answers = ", ".join(f"{n:,} {a}" for a, n in sorted(http.answers.items()))
            log.info("session on %s (%s mode): %s requests (%s; answers %s), %d retries, "
                     "%d rate limited (429)", self.account_label, self.mode,
                     f"{sum(http.sent.values()):,}", methods, answers, self.retries,
                     self.rate_limited)  # fmt: skip
        self.reads.flush()
        if self.sandbox is not None and self.owns_sandbox:
            self.sandbox.stop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
