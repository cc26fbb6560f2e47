"""Object locks: a write holds the object it changes, and a concurrent write on the same object
waits for it at most ``wait`` seconds, then answers Stripe's 429 ``lock_timeout``.

Stripe documents the error (``code: lock_timeout``, "another API request or Stripe process is
currently accessing it") and that it is safe to retry; its wait is not published, so the
sandbox waits half a second by default (the plausible choice). The reply carries
``Stripe-Should-Retry: true`` and no ``Stripe-Rate-Limited-Reason``: no limiter refused it.

>>> locks = ObjectLocks(wait=0.01)
>>> with locks.hold(("acct", False, "src_1")):
...     pass
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterator
from contextlib import contextmanager

from toolkit.sandbox.errors import ApiError

__all__ = ["LOCK_WAIT", "ObjectLocks", "lock_timeout"]

#: Seconds a write waits for an object another write holds.
LOCK_WAIT = 0.5


def lock_timeout() -> ApiError:
    """Stripe's 429 for an object another request is changing."""
    error = ApiError(
        429,
        "This object cannot be accessed right now because another API request or Stripe "
        "process is currently accessing it. If you see this error intermittently, retry the "
        "request. If you see this error frequently and are making multiple concurrent requests "
        "to a single object, make your requests serially or at a lower rate.",
        code="lock_timeout",
        saved=False,
    )
    error.headers["Stripe-Should-Retry"] = "true"
    return error


class ObjectLocks:
    """One lock per object key, created on first use, dropped when nobody holds or waits."""

    def __init__(self, wait: float = LOCK_WAIT) -> None:
        if wait < 0:
            raise ValueError(f"lock_wait must be >= 0 seconds, not {wait}")
        self.wait = wait
        self._guard = threading.Lock()
        self._locks: dict[Hashable, tuple[threading.Lock, int]] = {}

    @contextmanager
    def hold(self, key: Hashable) -> Iterator[None]:
        """Hold ``key``'s lock for the block, or raise the 429 ``lock_timeout``."""
        with self._guard:
            lock, users = self._locks.get(key, (threading.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            if not lock.acquire(timeout=self.wait):
                raise lock_timeout()
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._guard:
                lock, users = self._locks[key]
                if users <= 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)
