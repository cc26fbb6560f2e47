"""The stripe SDK's HTTP client with the live guard in front of every request.

Its own module because it subclasses the SDK's client: the SDK (requests, httpx) loads when a
:class:`~toolkit.session.Session` is made, not on ``import toolkit``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import stripe

__all__ = ["GuardedHTTPClient"]

log = logging.getLogger(__name__)


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
        #: Requests sent, by method and by answer (a status, or "no answer"): what the
        #: session's summary line says.
        self.sent: Counter[str] = Counter()
        self.answers: Counter[str] = Counter()
        self._count_lock = threading.Lock()

    def _sent(self, method: str, url: str, status: str, started: float) -> None:
        with self._count_lock:
            self.sent[method.upper()] += 1
            self.answers[status] += 1
        if log.isEnabledFor(logging.DEBUG):  # the path names ids, never the query's values
            took = (time.monotonic() - started) * 1000
            path = urlsplit(url).path
            log.debug("%s %s -> %s in %.0f ms", method.upper(), path, status, took)

    def request(  # type: ignore[override]  # the SDK's RequestsClient has this signature
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        """Refuse a write of a guarded live session (and count a read, or refuse it past the
        read allowance), else send it as the SDK would."""
        self._guard(method, headers)
        started, status = time.monotonic(), "no answer"
        try:
            answer = super().request(method, url, headers, post_data)
            status = str(answer[1])
            return answer
        finally:
            self._sent(method, url, status, started)

    def request_stream(  # type: ignore[override]
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> Any:
        """The streaming twin of :meth:`request`."""
        self._guard(method, headers)
        return super().request_stream(method, url, headers, post_data)
