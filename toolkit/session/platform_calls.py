"""The session's calls for a platform: its events (what changed, for an incremental refresh),
its connected accounts, and a session that acts for one of them. Mixed into
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
from toolkit.session.ratelimit import RateLimiter

__all__ = ["PlatformCalls"]


class PlatformCalls:
    """``list_events``, ``list_accounts``, ``for_account``: paced on their own endpoints."""

    limiter: RateLimiter
    stripe_account: str | None

    def _read(
        self,
        endpoint: str,
        path: str,
        params: dict[str, Any],
        cancel: threading.Event | None,
        what: str,
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _copy(self, stripe_account: str) -> Any:
        raise NotImplementedError

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

    def for_account(self, account: str) -> Any:
        """A session that acts for connected account ``account`` (``Stripe-Account``), with
        its own limiter: Stripe measures rate limits per account, so each connected account
        has the whole budget of its mode. It shares this session's key, mode, live guard and
        sandbox, and is closed with :meth:`close` like any session.

        >>> session.for_account("acct_1Demo0000000").stripe_account
        'acct_1Demo0000000'
        """
        return self._copy(account)
