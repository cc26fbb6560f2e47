"""The session's calls for a platform: its events (what changed, for an incremental refresh),
its connected accounts (``Session.for_account`` acts for one of them). Mixed into
:class:`~toolkit.session.Session`.

>>> session.list_events({"limit": 1})["object"]
'list'
>>> [a["object"] for a in session.list_accounts({"limit": 1})["data"]]
['account']
"""

from __future__ import annotations

import threading
from typing import Any

import toolkit.session.endpoints as ep
from toolkit.session.calls import SessionCalls

__all__ = ["PlatformCalls"]


class PlatformCalls(SessionCalls):
    """``list_events``, ``list_accounts``: paced on their own endpoints like every call."""

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
