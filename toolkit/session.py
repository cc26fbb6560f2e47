"""Open a session on Stripe, or on the embedded sandbox when no key is set.

Example::

    import toolkit
    session = toolkit.connect()                  # no key anywhere: the seeded sandbox on loopback
    session = toolkit.connect("sk_test_...")     # a test key
    session = toolkit.connect(stripe_account="acct_123")   # a connected account, key from the env

The key comes from the argument, else ``STRIPE_API_KEY`` in the environment, else a ``.env`` file in
the working folder. It is never printed: ``repr(session)`` shows its prefix and last four characters.
"""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

import stripe

from toolkit.errors import ConfigurationError, InvalidKeyError, LiveModeRefused
from toolkit.ratelimit import Cancelled, RateLimiter
from toolkit.redact import mask_key, redact_url, replace_values
from toolkit.settings import (
    KEY_PATTERN,
    check_account,
    check_api_base,
    check_bool,
    check_rate_limit,
    read_dotenv,
    setting,
)

__all__ = ["Mode", "Session", "connect", "mask_key"]

Mode = Literal["sandbox", "test", "live"]
T = TypeVar("T")

#: The key the toolkit uses against a sandbox. It is not a secret: it unlocks nothing real.
SANDBOX_KEY = "sk_test_sandbox0000000000000000"
DEFAULT_RATES: dict[str, float] = {"live": 100.0, "test": 25.0, "sandbox": 100.0}
KEY_HELP = (
    "A Stripe API key looks like sk_test_... or sk_live_... (secret keys) or rk_test_... / rk_live_... "
    "(restricted keys), followed by letters and digits. Copy one from the Stripe Dashboard under "
    "Developers > API keys, then set it with `export STRIPE_API_KEY=sk_test_...` or a line "
    "STRIPE_API_KEY=sk_test_... in a .env file next to your notebooks. Leave it unset to use the "
    "built-in sandbox."
)
#: HTTP methods that never change anything; every other one is a write.
READ_METHODS = frozenset({"get", "head", "options"})


def _key_mode(key: str) -> Literal["test", "live"]:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        shown = mask_key(key) if isinstance(key, str) else type(key).__name__
        if isinstance(key, str) and key.startswith("pk_"):
            raise InvalidKeyError(
                f"{shown} is a publishable key, which cannot read sources. "
                "Use a secret (sk_...) or restricted (rk_...) key. " + KEY_HELP
            )
        raise InvalidKeyError(
            f"That is not a Stripe secret or restricted key ({shown}). " + KEY_HELP
        )
    return "live" if key.split("_")[1] == "live" else "test"


class _GuardedHTTPClient(stripe.RequestsClient):
    """The SDK's HTTP client with the live guard in front: in live mode without
    ``allow_live=True`` no request but a read ever leaves the machine, whichever door it took
    (apply, ``Session.raw``, ``Session.call`` or ``session.client`` directly)."""

    def __init__(self, guard: Callable[[str, str], None], timeout: float) -> None:
        super().__init__(timeout=timeout)
        self._guard = guard

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        self._guard(method, url)
        return super().request(method, url, headers, post_data)

    def request_stream(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        self._guard(method, url)
        return super().request_stream(method, url, headers, post_data)


class Session:
    """A connection to one Stripe account (or the sandbox) with one shared rate limiter.

    Build it with :func:`connect`. ``session.call(fn, *args)`` runs one SDK call under the limiter
    with retries; ``session.raw("get", "/v1/customers", {...})`` returns plain JSON, faster.
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
        self.limiter = RateLimiter(rate_limit if rate_limit is not None else DEFAULT_RATES[mode])
        self.retries = 0  # retried attempts, for benchmarks and tests
        self._retry_lock = threading.Lock()
        self.client = stripe.StripeClient(
            api_key,
            stripe_account=stripe_account,
            base_addresses={"api": self.api_base},
            max_network_retries=0,
            http_client=_GuardedHTTPClient(self._guard, timeout),
        )

    def mask(self, value: Any) -> Any:
        """``value`` (text, or a record of them) with this session's key masked wherever it
        appears: for the journals and logs the toolkit writes. ``session.mask({"note": key})``"""
        return replace_values(value, [self._api_key])

    # -- the live guard ---------------------------------------------------------------------
    @property
    def allow_live(self) -> bool:
        """True only when writes with a live key were opted into with ``allow_live=True``."""
        return self._allow_live

    @allow_live.setter
    def allow_live(self, value: bool) -> None:
        self._allow_live = check_bool(value, "allow_live")

    def _guard(self, method: str, url: str) -> None:
        if method.lower() not in READ_METHODS:
            self.require_write()

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

    # -- writes -----------------------------------------------------------------------------
    def require_write(self) -> None:
        """Raise :class:`LiveModeRefused` for a write in live mode without ``allow_live=True``."""
        if self.mode == "live" and not self.allow_live:
            raise LiveModeRefused(
                f"This session uses a live key ({self.key_hint}): writes change real customer data "
                "and are refused. If you mean it, reconnect with "
                "toolkit.connect(..., allow_live=True)."
            )

    # -- requests ---------------------------------------------------------------------------
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
        Gives up after ``max_retries`` retries by re-raising the stripe error.
        """
        options = kwargs.get("options") or {}
        return self._send(lambda: fn(*args, **kwargs), write, options, cancel)

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

        def send() -> dict[str, Any]:
            # the SDK has parsed the body once already: use that, never parse it twice
            return self.client.raw_request(method, path, **merged).data

        return self._send(send, write, options or {}, cancel)

    def _send(
        self,
        send: Callable[[], T],
        write: bool,
        options: dict[str, Any],
        cancel: threading.Event | None,
    ) -> T:
        if write:
            self.require_write()
        replay_safe = (not write) or bool(options.get("idempotency_key"))
        attempt = 0
        while True:
            self.limiter.acquire(cancel)
            try:
                return send()
            except stripe.StripeError as exc:
                delay = self._retry_delay(exc, attempt, replay_safe)
                if delay is None or attempt >= self.max_retries:
                    raise
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
            retry_after = _retry_after(exc)
            delay = retry_after if retry_after is not None else backoff
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
        if self.sandbox is not None and getattr(self, "_owns_sandbox", False):
            self.sandbox.stop()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _retry_after(exc: stripe.StripeError) -> float | None:
    headers = exc.headers or {}
    for name in ("Retry-After", "retry-after"):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, min(float(value), 60.0))
            except ValueError:
                return None
    return None


def connect(
    api_key: str | None = None,
    *,
    stripe_account: str | None = None,
    allow_live: bool = False,
    api_base: str | None = None,
    rate_limit: float | None = None,
    max_workers: int | None = None,
    timeout: float = 30.0,
    max_retries: int = 5,
    sandbox_options: dict[str, Any] | None = None,
    quiet: bool = False,
) -> Session:
    """Open a :class:`Session`: your account with a key, else the seeded sandbox on loopback.

    ``session = toolkit.connect()`` or ``toolkit.connect("sk_test_...", stripe_account="acct_1")``

    Key: ``api_key``, else ``STRIPE_API_KEY`` (environment, then ``./.env``). With no key and no
    ``api_base`` the embedded sandbox starts on 127.0.0.1 and one line says so. ``api_base`` (or
    ``STRIPE_API_BASE``) points at another Stripe-compatible server. ``rate_limit`` is requests per
    second (default: live 100, test 25, sandbox 100). Writes with a live key need ``allow_live=True``.
    """
    dotenv = read_dotenv(Path.cwd() / ".env")
    key = api_key if api_key is not None else setting("STRIPE_API_KEY", dotenv)
    base = api_base if api_base is not None else setting("STRIPE_API_BASE", dotenv)
    account = stripe_account if stripe_account is not None else setting("STRIPE_ACCOUNT", dotenv)
    check_account(account)
    check_api_base(base)
    check_bool(allow_live, "allow_live")
    rate_limit = check_rate_limit(rate_limit)
    workers = max_workers if max_workers is not None else 8
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigurationError(
            f"max_workers must be a whole number of at least 1, got {workers!r}."
        )

    sandbox = None
    owns_sandbox = False
    if key is None:
        mode: Mode = "sandbox"
        key = SANDBOX_KEY
        if base is None:
            from toolkit.sandbox import Sandbox

            sandbox = Sandbox(**(sandbox_options or {}))
            sandbox.start()
            owns_sandbox = True
            base = sandbox.url
            message = (
                f"No STRIPE_API_KEY set: using the built-in sandbox with demo data at {base}. "
                "Set STRIPE_API_KEY to work on your own account."
            )
        else:
            message = (
                f"No STRIPE_API_KEY set: using the Stripe-compatible server at {redact_url(base)} "
                "as a sandbox."
            )
        if not quiet:
            print(message, file=sys.stderr)
    else:
        mode = _key_mode(key)
        if sandbox_options:
            raise ConfigurationError(
                "sandbox_options only apply when no key is set (sandbox mode)."
            )

    session = Session(
        api_key=key,
        mode=mode,
        api_base=base or "https://api.stripe.com",
        stripe_account=account,
        allow_live=allow_live,
        rate_limit=rate_limit,
        max_workers=workers,
        timeout=timeout,
        max_retries=max_retries,
        sandbox=sandbox,
    )
    session._owns_sandbox = owns_sandbox  # type: ignore[attr-defined]
    return session
