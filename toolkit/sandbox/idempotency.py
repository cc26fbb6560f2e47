"""Saved responses per idempotency key, as Stripe keeps them: for 24 hours of the sandbox's
clock, then forgotten (a reused key is a new request again); and the keys whose first request
is still in flight (a second request with one of them is Stripe's 409).

Each entry is kept compactly (a 16-byte digest of the request instead of its parameters, the body
compressed), so a long run of keyed writes costs little memory. The caller holds the sandbox lock.

>>> store = IdempotencyStore()
>>> store.put("k1", Saved.of(("POST", "/v1/sources/src_1", ()), 200, b'{"id":"src_1"}', "req_1"), now=0)
>>> store.get("k1", now=3600).body
b'{"id":"src_1"}'
>>> store.get("k1", now=86_401) is None
True
>>> store.claim("k2"), store.claim("k2")
(True, False)
>>> store.release("k2"); store.claim("k2")
True
"""

from __future__ import annotations

import hashlib
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

__all__ = ["KEY_LIFETIME", "IdempotencyStore", "Saved"]

#: Seconds Stripe keeps a key's saved response ("at least 24 hours").
KEY_LIFETIME = 24 * 3600


@dataclass(frozen=True)
class Saved:
    """The first response to a key: a digest of the request, the status, the body (compressed)."""

    fingerprint: bytes
    status: int
    packed: bytes
    request_id: str
    saved_at: float = 0.0

    @classmethod
    def of(cls, request: tuple[Any, ...], status: int, body: bytes, request_id: str) -> Saved:
        """A saved response for ``request`` (method, path, sorted parameter pairs)."""
        return cls(fingerprint(request), status, zlib.compress(body, 1), request_id)

    @property
    def body(self) -> bytes:
        """The response body as it was first sent."""
        return zlib.decompress(self.packed)

    def matches(self, request: tuple[Any, ...]) -> bool:
        """Is ``request`` the same request (same method, path and parameters)?"""
        return self.fingerprint == fingerprint(request)


def fingerprint(request: tuple[Any, ...]) -> bytes:
    """16 bytes that tell one request from another."""
    return hashlib.blake2b(repr(request).encode("utf-8", "surrogatepass"), digest_size=16).digest()


class IdempotencyStore:
    """Key -> :class:`Saved`, oldest first; entries older than :data:`KEY_LIFETIME` drop out."""

    def __init__(self) -> None:
        self._saved: OrderedDict[str, Saved] = OrderedDict()
        self._bytes = 0
        self._in_flight: set[str] = set()

    def claim(self, key: str) -> bool:
        """Mark ``key`` in flight; False when another request holds it already."""
        if key in self._in_flight:
            return False
        self._in_flight.add(key)
        return True

    def in_flight(self, key: str) -> bool:
        """Is a request holding ``key`` still running (for tests that race a second one)?"""
        return key in self._in_flight

    def release(self, key: str) -> None:
        """The request holding ``key`` is answered (its answer saved, or not to be saved)."""
        self._in_flight.discard(key)

    def _expire(self, now: float) -> None:
        while self._saved:
            key, oldest = next(iter(self._saved.items()))
            if now - oldest.saved_at < KEY_LIFETIME:
                return
            del self._saved[key]
            self._bytes -= _size(key, oldest)

    def get(self, key: str, *, now: float) -> Saved | None:
        """The saved response for ``key``, unless it expired by ``now`` (sandbox seconds)."""
        self._expire(now)
        return self._saved.get(key)

    def put(self, key: str, saved: Saved, *, now: float) -> None:
        """Save the first response to ``key`` at ``now``."""
        self._expire(now)
        entry = Saved(saved.fingerprint, saved.status, saved.packed, saved.request_id, now)
        old = self._saved.pop(key, None)
        if old is not None:
            self._bytes -= _size(key, old)
        self._saved[key] = entry
        self._bytes += _size(key, entry)

    def clear(self) -> None:
        """Forget every saved key (keys in flight stay claimed until their request ends)."""
        self._saved.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._saved)

    @property
    def nbytes(self) -> int:
        """About how many bytes the saved entries hold."""
        return self._bytes


def _size(key: str, saved: Saved) -> int:
    return len(key) + len(saved.packed) + len(saved.request_id) + len(saved.fingerprint) + 120
