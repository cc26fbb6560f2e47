"""The two doors every typed call of a session goes through, as the call mixins
(:mod:`~toolkit.session.cash_calls`, :mod:`~toolkit.session.source_writes`,
:mod:`~toolkit.session.platform_calls`) see them; :class:`~toolkit.session.Session` opens them
(limiter, retries, live guard, error mapping).

Example::

    class MoreCalls(SessionCalls):
        def list_things(self, params):
            return self._read("GET /v1/things", "/v1/things", params, None, "Listing things")
"""

from __future__ import annotations

import threading
from typing import Any

from toolkit.session.transport import Answer

__all__ = ["SessionCalls"]


class SessionCalls:
    """``_read`` and ``_write``, defined by the session."""

    def _read(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any],
        cancel: threading.Event | None,
        what: str,
    ) -> dict[str, Any]:
        raise NotImplementedError

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
        raise NotImplementedError
