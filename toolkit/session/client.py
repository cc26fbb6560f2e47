"""The one door to the Stripe SDK: a :class:`Session` with a typed method for every call the
toolkit makes, one rate limiter, the retries that are safe, and the live guard. Stripe's
exceptions are mapped to the toolkit's tree in exactly one place,
:func:`toolkit.session.transport.mapped`.

No other module imports ``stripe``. Example::

    session = toolkit.connect()
    page = session.list_customers({"limit": 100, "expand": ["data.sources"]})
    answer = session.update_source("src_1...", {"metadata": {"a": "1"}}, idempotency_key="k1")
    answer.body["metadata"], answer.replayed

The calls, one example each:

>>> customer = sources["customer"].dropna().iloc[0]
>>> sorted(session.retrieve_cash_balance(customer))[:3]
['available', 'customer', 'customer_account']
>>> customer = sources["customer"].dropna().iloc[0]
>>> session.list_customer_payment_methods(customer, {"limit": 1})["object"]
'list'
>>> answer = session.update_source(
...     sources["id"].iloc[0], {"metadata": {"doc": "1"}}, idempotency_key="doc-writes-1"
... )
>>> answer.body["metadata"]["doc"]
'1'
>>> session.list_events({"limit": 1})["object"]
'list'
>>> [a["object"] for a in session.list_accounts({"limit": 1})["data"]]
['account']
>>> session.raw("get", "/v1/customers", {"limit": 1})["object"]
'list'
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Literal, TypeVar

import toolkit.session.endpoints as ep
from toolkit.errors import Cancelled, LiveModeRefused, ReadAllowanceError
from toolkit.redact import mask_key, redact_url, replace_values
from toolkit.session.endpoints import endpoint_of
from toolkit.session.ratelimit import RateLimiter, StripeLimits
from toolkit.session.read_ledger import ReadLedger, key_digest
from toolkit.session.reads import (
    CONNECTED,
    LOAD_ADVICE,
    OWN,
    ReadBook,
    ReadMeter,
    allocation_of,
    default_allowance,
    reads_text,
)
from toolkit.session.retries import CONNECT_TIMEOUT, read_allocation_spent, retry_delay
from toolkit.session.server_clock import ServerClock
from toolkit.session.settings import check_bool
from toolkit.session.transport import Answer, error_code, header, mapped, seg, send_plain

__all__ = ["DEFAULT_BUDGETS", "READ_METHODS", "Mode", "Session"]

Mode = Literal["sandbox", "test", "live"]
T = TypeVar("T")
log = logging.getLogger(__name__)

#: The share of Stripe's limits a session uses, by mode. Live: half, because the account's own
#: traffic (checkouts, webhooks' callers, the Dashboard) shares the same limits and Stripe asks
#: background jobs to keep to "a subset of the maximum"; a bulk job that took it all would make
#: live payments fail with 429s. Test mode and the sandbox: all of it (nothing else competes).
DEFAULT_BUDGETS: dict[str, float] = {"live": 0.5, "test": 1.0, "sandbox": 1.0}
#: HTTP methods that never change anything; every other one is a write.
READ_METHODS = frozenset({"get", "head", "options"})
_SERIALS = itertools.count(1)  # tells sessions apart for their read meters


class Session:
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
        clock: ServerClock | None = None,
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
        if clock is not None:  # a connected account's session: the platform's (same server)
            self._http.clock = clock
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
        """The time loads and reports are stamped with: the server's, as its answers' ``Date``
        header tells it (toolkit.session.server_clock), not this machine's. The sandbox's clock
        reaches a session that way too. ``session.now().isoformat()``"""
        return self._http.clock.now()

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
            response = send_plain(self.client, "get", path, params)  # parsed once, plain dicts
            self._saw(response.headers)
            return response.data

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
            response = send_plain(self.client, method, path, {**params, **options})
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
        It also shares this session's server clock (the same server answers both): a load of
        the account stamps itself with the ``Date`` the platform's last answer told, without a
        request of its own (a ``HEAD`` before each account's first read otherwise).

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
            clock=self._http.clock,
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

    # -- customer cash balances (Bank Transfers, where ACH Credit Transfer money lands) ---
    @ep.names(ep.RETRIEVE_CASH_BALANCE)
    def retrieve_cash_balance(
        self, customer: str, *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}/cash_balance``: ``available`` per currency and settings."""
        path = f"/v1/customers/{seg(customer)}/cash_balance"
        what = f"Retrieving the cash balance of {customer}"
        return self._read(ep.RETRIEVE_CASH_BALANCE, path, {}, cancel, what)

    @ep.names(ep.LIST_CASH_TRANSACTIONS)
    def list_cash_balance_transactions(
        self, customer: str, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}/cash_balance_transactions``: one page, newest first."""
        path = f"/v1/customers/{seg(customer)}/cash_balance_transactions"
        what = f"Listing the cash balance transactions of {customer}"
        return self._read(ep.LIST_CASH_TRANSACTIONS, path, params, cancel, what)

    @ep.names(ep.CREATE_FUNDING_INSTRUCTIONS)
    def create_funding_instructions(
        self, customer: str, currency: str = "usd", *, cancel: threading.Event | None = None
    ) -> Answer:
        """``POST /v1/customers/{id}/funding_instructions`` for USD bank transfers. Stripe
        creates the instructions when the customer has none, so this is a write: refused in
        live mode unless the session allows live writes. One key per customer and currency, so a
        retry never creates a second account number."""
        path = f"/v1/customers/{seg(customer)}/funding_instructions"
        params = {
            "bank_transfer": {"type": "us_bank_transfer"},
            "currency": currency,
            "funding_type": "bank_transfer",
        }
        key = f"toolkit-funding-{customer}-{currency}"
        what = f"Reading the funding instructions of {customer}"
        return self._write(ep.CREATE_FUNDING_INSTRUCTIONS, "post", path, params, key, cancel, what)

    # -- where the money and the obligations live now: payment methods, bills, the ledger ---
    @ep.names(ep.LIST_CUSTOMER_PAYMENT_METHODS)
    def list_customer_payment_methods(
        self, customer: str, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}/payment_methods``: one page of a customer's payment
        methods (Stripe lists their saved cards and card sources here too, as ``card``).
        Stripe lists payment methods only per customer: ``GET /v1/payment_methods`` without
        ``customer`` is for Treasury flows."""
        path = f"/v1/customers/{seg(customer)}/payment_methods"
        what = f"Listing the payment methods of {customer}"
        return self._read(ep.LIST_CUSTOMER_PAYMENT_METHODS, path, params, cancel, what)

    @ep.names(ep.LIST_INVOICES)
    def list_invoices(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/invoices``: one page, every customer's (``status``, ``customer``,
        ``created``, ``expand``)."""
        return self._read(ep.LIST_INVOICES, "/v1/invoices", params, cancel, "Listing invoices")

    @ep.names(ep.LIST_SUBSCRIPTIONS)
    def list_subscriptions(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/subscriptions``: one page (Stripe leaves out canceled ones unless
        ``status`` names them)."""
        path = "/v1/subscriptions"
        return self._read(ep.LIST_SUBSCRIPTIONS, path, params, cancel, "Listing subscriptions")

    @ep.names(ep.LIST_CHARGES)
    def list_charges(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/charges``: one page, newest first (``created``, ``customer``,
        ``expand[]=data.balance_transaction``, ``data.refunds``)."""
        return self._read(ep.LIST_CHARGES, "/v1/charges", params, cancel, "Listing charges")

    @ep.names(ep.LIST_BALANCE_TRANSACTIONS)
    def list_balance_transactions(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/balance_transactions``: one page (``payout``, ``type``, ``created``)."""
        path = "/v1/balance_transactions"
        what = "Listing balance transactions"
        return self._read(ep.LIST_BALANCE_TRANSACTIONS, path, params, cancel, what)

    @ep.names(ep.LIST_PAYOUTS)
    def list_payouts(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/payouts``: one page, newest first (``created``, ``status``)."""
        return self._read(ep.LIST_PAYOUTS, "/v1/payouts", params, cancel, "Listing payouts")

    # -- writes on sources, each with the row's idempotency key where Stripe takes one ----
    @ep.names(ep.UPDATE_SOURCE)
    def update_source(
        self,
        source: str,
        params: dict[str, Any],
        *,
        idempotency_key: str,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """``POST /v1/sources/{id}`` (metadata, owner) with the row's idempotency key."""
        path = f"/v1/sources/{seg(source)}"
        what = f"Updating {source}"
        return self._write(ep.UPDATE_SOURCE, "post", path, params, idempotency_key, cancel, what)

    @ep.names(ep.ATTACH_SOURCE)
    def attach_source(
        self,
        customer: str,
        source: str,
        *,
        idempotency_key: str,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """``POST /v1/customers/{id}/sources source=src_...``: attach a source."""
        path = f"/v1/customers/{seg(customer)}/sources"
        params = {"source": source}
        what = f"Attaching {source}"
        return self._write(ep.ATTACH_SOURCE, "post", path, params, idempotency_key, cancel, what)

    @ep.names(ep.DETACH_SOURCE)
    def detach_source(
        self, customer: str, source: str, *, cancel: threading.Event | None = None
    ) -> Answer:
        """``DELETE /v1/customers/{id}/sources/{id}``: the source becomes consumed (no key:
        Stripe takes none on DELETE, so it is never retried blindly)."""
        path = f"/v1/customers/{seg(customer)}/sources/{seg(source)}"
        what = f"Detaching {source}"
        return self._write(ep.DETACH_SOURCE, "delete", path, {}, None, cancel, what)

    # -- the platform: events, connected accounts -----------------------------------------
    @ep.names(ep.LIST_EVENTS)
    def list_events(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/events``: one page, newest first (``type`` / ``types``, ``created``,
        cursors). Stripe keeps 30 days of events."""
        return self._read(ep.LIST_EVENTS, "/v1/events", params, cancel, "Listing events")

    @ep.names(ep.LIST_ACCOUNTS)
    def list_accounts(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/accounts``: one page of the platform's connected accounts."""
        what = "Listing connected accounts"
        return self._read(ep.LIST_ACCOUNTS, "/v1/accounts", params, cancel, what)

    # -- open doors for scripts: one SDK call, one raw request ----------------------------
    def call(
        self,
        fn: Callable[..., T],
        *args: Any,
        write: bool = False,
        cancel: threading.Event | None = None,
        endpoint: str | None = None,
        **kwargs: Any,
    ) -> T:
        """Run one SDK call under the shared limiter, retrying what is safe to retry.

        ``session.call(session.client.v1.sources.retrieve, "src_123",
        endpoint="GET /v1/sources/{id}")`` (name the endpoint to pace it on its own limit; without
        it only the global limit paces the call).

        429s are always retried (after slowing the limiter Stripe names). 5xx, 409 and connection
        errors are retried for reads, and for writes that carry ``options={"idempotency_key": ...}``
        (a 409 ``idempotency_key_in_use`` after a longer pause: the first request with the key
        is still running); never when Stripe answers ``Stripe-Should-Retry: false``. Gives up
        after ``max_retries`` retries with a :class:`StripeRequestError`.
        """
        options = kwargs.get("options") or {}
        what = getattr(fn, "__qualname__", "The call")
        keyed = bool(options.get("idempotency_key"))

        def send() -> T:
            result = fn(*args, **kwargs)
            self._saw(getattr(getattr(result, "last_response", None), "headers", None))
            return result

        return self._send(send, write, keyed, cancel, what, endpoint)

    def raw(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        write: bool = False,
        options: dict[str, Any] | None = None,
        cancel: threading.Event | None = None,
    ) -> dict[str, Any]:
        """Send one request and return its JSON as plain dicts (no StripeObject conversion).

        ``session.raw("get", "/v1/customers", {"limit": 100, "expand": ["data.sources"]})``
        """
        merged = {**(params or {}), **(options or {})}
        keyed = bool((options or {}).get("idempotency_key"))

        def send() -> dict[str, Any]:
            response = send_plain(self.client, method, path, merged)
            self._saw(response.headers)
            return response.data

        is_write = write or method.lower() not in READ_METHODS
        endpoint = endpoint_of(method, path)
        return self._send(send, is_write, keyed, cancel, f"{method.upper()} {path}", endpoint)

    # -- reads: its meters, the allocation it draws on, each GET counted as it leaves -----
    @property
    def read_allocation(self) -> str:
        """``"connected"`` for a session acting for a connected account, else ``"own"``."""
        return CONNECTED if self.stripe_account else OWN

    def reading(
        self, operation: str | None = None, *, cost: int | None = None, advice: str = LOAD_ADVICE
    ) -> AbstractContextManager[ReadMeter]:
        """A meter over one operation: every GET this session (and its connected-account
        sessions) sends while it is open, retries included, is ``meter.reads``.

        ``with session.reading("apply", cost=len(rows)) as meter: ...``

        ``cost``: the reads the operation will send at least; when it would pass the read
        allowance, :class:`~toolkit.ReadAllowanceError` is raised here, before anything is sent.
        Without ``cost``, what ``operation`` cost the last time it ran (the ledger) is the
        estimate. At the end, what it cost is recorded under ``operation`` (None: not recorded,
        not checked). ``advice`` ends the error's message: the cheaper ways to do the work.
        """
        return self.reads.metering(self._lineage[-1], self.read_allocation, operation, cost, advice)

    def reads_line(self, reads: int) -> str:
        """What some work read, beside where the account stands, for a summary:
        ``session.reads_line(1216)`` -> ``"1,216 reads (this account: 4,830 in 30 days)"``."""
        return reads_text(reads, self.reads.standing(self.read_allocation))

    def _spend_read(self, headers: Mapping[str, str] | None) -> None:
        """Count one GET about to leave (or refuse it: the allowance is spent)."""
        allocation, account = allocation_of(headers)
        self.reads.spend(self._lineage, allocation, account)

    def _read_refused(self, message: str, request_id: str | None) -> ReadAllowanceError:
        """The error for Stripe's refusal of a read for the read allocation."""
        return self.reads.refused_by_stripe(
            self._lineage, self.read_allocation, message, request_id
        )
