"""The sandbox's request log: what it received, bounded (the oldest tenth drops out when full).

>>> log = RequestLog(limit=10)
>>> for i in range(25):
...     log.add(RequestLogEntry("GET", f"/v1/x/{i}", {}, 200, None, None, False, 0.0, f"req_{i}"))
>>> len(log.entries) <= 10, log.entries[-1].path
(True, '/v1/x/24')
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["LOG_LIMIT", "RequestLog", "RequestLogEntry"]

#: Request log entries kept by default; older ones are dropped (a tenth at a time).
LOG_LIMIT = 50_000


@dataclass(frozen=True)
class RequestLogEntry:
    """One request the sandbox received (faulted ones too; ``/_sandbox/`` routes are not logged).

    ``status`` is 0 for a dropped connection; ``fault`` names an injected fault, if any;
    ``limited`` the limiter that refused it (``Stripe-Rate-Limited-Reason``), if one did;
    ``livemode`` is None when the key was missing or malformed; ``time`` is wall-clock epoch
    seconds of arrival; ``size`` the bytes of the answer's body and ``seconds`` how long the
    answer took from arrival (the latency model included), for benchmarks' least times.
    """

    method: str
    path: str
    params: dict[str, Any]
    status: int
    idempotency_key: str | None
    account: str | None
    livemode: bool | None
    time: float
    request_id: str
    replayed: bool = False
    fault: str | None = None
    limited: str | None = None
    size: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class RequestLog:
    """Entries in arrival order (``entries`` is a plain list tests can slice), at most ``limit``."""

    def __init__(self, limit: int = LOG_LIMIT) -> None:
        if limit < 1:
            raise ValueError(f"log_limit must be at least 1, not {limit}")
        self.limit = limit
        self.entries: list[RequestLogEntry] = []
        self._lock = threading.Lock()

    def add(self, entry: RequestLogEntry) -> None:
        """Append one entry, dropping the oldest tenth when the log is full."""
        with self._lock:
            self.entries.append(entry)
            if len(self.entries) > self.limit:
                del self.entries[: len(self.entries) - self.limit * 9 // 10]

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self.entries.clear()
