"""The open doors for scripts: :meth:`~toolkit.Session.call` (one SDK call) and
:meth:`~toolkit.Session.raw` (one request, plain JSON), under the same limiter, retries, live
guard, read count and error mapping as the typed calls. Mixed into :class:`~toolkit.Session`.

>>> session.raw("get", "/v1/customers", {"limit": 1})["object"]
'list'
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from toolkit.session.endpoints import endpoint_of

__all__ = ["READ_METHODS", "ScriptDoors"]

T = TypeVar("T")
#: HTTP methods that never change anything; every other one is a write.
READ_METHODS = frozenset({"get", "head", "options"})


class ScriptDoors:
    """``call`` and ``raw``; the session defines ``client``, ``_saw`` and ``_send``."""

    client: Any

    def _saw(self, headers: Any) -> None:
        raise NotImplementedError

    def _send(
        self,
        send: Callable[[], T],
        write: bool,
        keyed: bool,
        cancel: threading.Event | None,
        what: str,
        endpoint: str | None = None,
    ) -> T:
        raise NotImplementedError

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
            response = self.client.raw_request(method, path, **merged)
            self._saw(response.headers)
            data: dict[str, Any] = response.data
            return data

        is_write = write or method.lower() not in READ_METHODS
        endpoint = endpoint_of(method, path)
        return self._send(send, is_write, keyed, cancel, f"{method.upper()} {path}", endpoint)
