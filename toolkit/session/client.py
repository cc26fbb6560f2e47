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

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import stripe

from toolkit.errors import Cancelled, LiveModeRefused
from toolkit.redact import mask_key, redact_url, replace_values
from toolkit.session.ratelimit import RateLimiter
from toolkit.session.settings import check_bool
from toolkit.session.transport import Answer, GuardedHTTPClient, mapped, retry_after, seg

__all__ = ["DEFAULT_RATES", "Mode", "Session"]

Mode = Literal["sandbox", "test", "live"]
T = TypeVar("T")

#: Requests per second a session allows itself, by mode (Stripe's global limits).
DEFAULT_RATES: dict[str, float] = {"live": 100.0, "test": 25.0, "sandbox": 100.0}
#: HTTP methods that never change anything; every other one is a write.
READ_METHODS = frozenset({"get", "head", "options"})


class Session:
    """A connection to one Stripe account (or the sandbox) with one shared rate limiter.

    Build it with :func:`toolkit.connect`. The typed methods (``list_customers``,
    ``retrieve_source``, ``update_source``...) are the calls the toolkit makes;
    ``session.raw("get", path, params)`` and ``session.call(fn, *args)`` are open doors for
    scripts, under the same limiter, retries, live guard and error mapping.
    """

    def __init__(
        self,
        *,
        api_key: str,
        mode: Mode,
        api_base: str,
        stripe_account: str | None = None,
        allow_live: bool = False,
        rate_limit: float | None = None,
        max_workers: int = 8,
        timeout: float = 30.0,
        max_retries: int = 5,
        sandbox: Any = None,
        owns_sandbox: bool = False,
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
        self.limiter = RateLimiter(rate_limit if rate_limit is not None else DEFAULT_RATES[mode])
        self.retries = 0  # retried attempts, for benchmarks and tests
        self._retry_lock = threading.Lock()
        self.client = stripe.StripeClient(
            api_key,
            stripe_account=stripe_account,
            base_addresses={"api": self.api_base},
            max_network_retries=0,
            http_client=GuardedHTTPClient(self._guard, timeout),
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

    def _guard(self, method: str) -> None:
        if method.lower() not in READ_METHODS:
            self.require_write()

    def require_write(self) -> None:
        """Raise :class:`LiveModeRefused` for a write in live mode without ``allow_live=True``."""
        if self.mode == "live" and not self.allow_live:
            raise LiveModeRefused(
                f"This session uses a live key ({self.key_hint}): writes change real customer data "
                "and are refused. If you mean it, reconnect with "
                "toolkit.connect(..., allow_live=True)."
            )

    # -- the calls the toolkit makes --------------------------------------------------------
    def list_customers(
        self, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers``: one page (``limit``, cursors, ``created``, ``expand``)."""
        return self._read("/v1/customers", params, cancel, "Listing customers")

    def retrieve_customer(
        self,
        customer: str,
        params: dict[str, Any] | None = None,
        *,
        cancel: threading.Event | None = None,
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}`` (``expand=["sources"]`` embeds its first sources)."""
        return self._read(
            f"/v1/customers/{seg(customer)}", params or {}, cancel, f"Retrieving {customer}"
        )

    def list_customer_sources(
        self, customer: str, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/customers/{id}/sources``: one page of a customer's payment sources."""
        path = f"/v1/customers/{seg(customer)}/sources"
        return self._read(path, params, cancel, f"Listing the sources of {customer}")

    def retrieve_source(
        self, source: str, *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/sources/{id}``; a source Stripe does not know raises NotFoundError."""
        return self._read(f"/v1/sources/{seg(source)}", {}, cancel, f"Retrieving {source}")

    def list_source_transactions(
        self, source: str, params: dict[str, Any], *, cancel: threading.Event | None = None
    ) -> dict[str, Any]:
        """``GET /v1/sources/{id}/source_transactions``: one page."""
        path = f"/v1/sources/{seg(source)}/source_transactions"
        return self._read(path, params, cancel, f"Listing the transactions of {source}")

    def update_source(
        self,
        source: str,
        params: dict[str, Any],
        *,
        idempotency_key: str,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """``POST /v1/sources/{id}`` (metadata, owner) with the row's idempotency key."""
        return self._write(
            "post",
            f"/v1/sources/{seg(source)}",
            params,
            idempotency_key,
            cancel,
            f"Updating {source}",
        )

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
        return self._write(
            "post", path, {"source": source}, idempotency_key, cancel, f"Attaching {source}"
        )

    def detach_source(
        self, customer: str, source: str, *, cancel: threading.Event | None = None
    ) -> Answer:
        """``DELETE /v1/customers/{id}/sources/{id}``: the source becomes consumed (no key:
        Stripe takes none on DELETE, so it is never retried blindly)."""
        path = f"/v1/customers/{seg(customer)}/sources/{seg(source)}"
        return self._write("delete", path, {}, None, cancel, f"Detaching {source}")

    # -- open doors for scripts --------------------------------------------------------------
    def call(
        self,
        fn: Callable[..., T],
        *args: Any,
        write: bool = False,
        cancel: threading.Event | None = None,
        **kwargs: Any,
    ) -> T:
        """Run one SDK call under the shared limiter, retrying what is safe to retry.

        ``session.call(session.client.v1.sources.retrieve, "src_123")``

        429s are always retried (after a pause shared by every thread). 5xx, 409 and connection
        errors are retried for reads, and for writes that carry ``options={"idempotency_key": ...}``.
        Gives up after ``max_retries`` retries with a :class:`StripeRequestError`.
        """
        options = kwargs.get("options") or {}
        what = getattr(fn, "__qualname__", "The call")
        return self._send(
            lambda: fn(*args, **kwargs), write, bool(options.get("idempotency_key")), cancel, what
        )

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
            return self.client.raw_request(method, path, **merged).data

        is_write = write or method.lower() not in READ_METHODS
        return self._send(send, is_write, keyed, cancel, f"{method.upper()} {path}")

    # -- sending ----------------------------------------------------------------------------
    def _read(
        self, path: str, params: dict[str, Any], cancel: threading.Event | None, what: str
    ) -> dict[str, Any]:
        def send() -> dict[str, Any]:
            # the SDK has parsed the body once already: use that, never parse it twice
            return self.client.raw_request("get", path, **params).data

        return self._send(send, False, False, cancel, what)

    def _write(
        self,
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
            headers = {str(k).lower(): str(v) for k, v in dict(response.headers or {}).items()}
            replayed = headers.get("idempotent-replayed", "").lower() == "true"
            return Answer(response.data, response.request_id, replayed)

        return self._send(send, True, bool(idempotency_key), cancel, what)

    def _send(
        self,
        send: Callable[[], T],
        write: bool,
        keyed: bool,
        cancel: threading.Event | None,
        what: str,
    ) -> T:
        if write:
            self.require_write()
        replay_safe = (not write) or keyed
        attempt = 0
        while True:
            self.limiter.acquire(cancel)
            try:
                return send()
            except stripe.StripeError as exc:
                delay = self._retry_delay(exc, attempt, replay_safe)
                if delay is None or attempt >= self.max_retries:
                    raise mapped(exc, what) from None
            attempt += 1
            with self._retry_lock:
                self.retries += 1
            if cancel is None:
                time.sleep(delay)
            elif cancel.wait(delay):
                raise Cancelled()

    def _retry_delay(
        self, exc: stripe.StripeError, attempt: int, replay_safe: bool
    ) -> float | None:
        """Seconds to wait before retrying ``exc``, or None when it must not be retried."""
        backoff = min(8.0, 0.25 * 2**attempt) * (0.5 + random.random() / 2)
        status = exc.http_status
        if isinstance(exc, stripe.RateLimitError) or status == 429:
            asked = retry_after(exc)
            delay = asked if asked is not None else backoff
            self.limiter.pause(delay)
            return delay
        if not replay_safe:
            return None
        if isinstance(exc, stripe.APIConnectionError):
            return backoff
        if status is not None and (status >= 500 or status == 409):
            return backoff
        return None

    # -- lifetime ---------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the embedded sandbox, if this session started one."""
        if self.sandbox is not None and self.owns_sandbox:
            self.sandbox.stop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
