"""The stripe SDK's HTTP client with the live guard in front of every request.

Its own module because it subclasses the SDK's client: the SDK (requests, httpx) loads when a
:class:`~toolkit.session.Session` is made, not on ``import toolkit``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import stripe

__all__ = ["GuardedHTTPClient"]


class GuardedHTTPClient(stripe.RequestsClient):
    """The SDK's HTTP client with the live guard in front: in live mode without
    ``allow_live=True`` no request but a read ever leaves the machine, whichever door it took
    (a typed method, ``Session.raw``, ``Session.call`` or ``session.client`` directly); and
    every read is counted here, as it leaves (each retry too)."""

    def __init__(
        self, guard: Callable[[str, Any], None], timeout: float | tuple[float, float]
    ) -> None:
        super().__init__(timeout=timeout)
        self._guard = guard

    def request(  # type: ignore[override]  # the SDK's RequestsClient has this signature
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        """Refuse a write of a guarded live session (and count a read, or refuse it past the
        read allowance), else send it as the SDK would."""
        self._guard(method, headers)
        return super().request(method, url, headers, post_data)

    def request_stream(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        """The streaming twin of :meth:`request`."""
        self._guard(method, headers)
        return super().request_stream(method, url, headers, post_data)
