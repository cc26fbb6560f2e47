"""What the fetch, changes and audit wings need of a session, declared: :class:`SessionLike`.

The wings are typed against this protocol, not against :class:`~toolkit.session.Session`: a
test fake that implements it can stand in, and a wing that reaches for anything else fails the
type check. :class:`~toolkit.session.Session` implements it (checked in ``tests/test_layout.py``).

>>> from toolkit.session.protocol import SessionLike
>>> isinstance(session, SessionLike)
True
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from toolkit.session.ratelimit import RateLimiter
    from toolkit.session.reads import ReadMeter
    from toolkit.session.transport import Answer

__all__ = ["SessionLike"]

Page = dict[str, Any]
Cancel = threading.Event | None


@runtime_checkable
class SessionLike(Protocol):
    """A session as the wings use it: who it is, how it paces and counts, and the calls."""

    # -- who and how -------------------------------------------------------------------------
    # read-only here (a property is covariant: the session's mode is a Literal of these)
    @property
    def mode(self) -> str: ...  # "live", "test" or "sandbox"

    @property
    def api_base(self) -> str: ...

    @property
    def stripe_account(self) -> str | None: ...

    @property
    def api_version(self) -> str | None: ...

    @property
    def max_workers(self) -> int: ...

    @property
    def limiter(self) -> RateLimiter: ...

    @property
    def account_label(self) -> str: ...

    def now(self) -> datetime: ...

    def mask(self, value: Any) -> Any: ...

    def require_write(self) -> None: ...

    def reading(
        self, operation: str | None = None, *, cost: int | None = None, advice: str = ...
    ) -> AbstractContextManager[ReadMeter]: ...

    def for_account(self, account: str) -> Any: ...

    def close(self) -> None: ...

    # -- reads: one page or one object each --------------------------------------------------
    def list_customers(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def list_customer_sources(
        self, customer: str, params: Page, *, cancel: Cancel = None
    ) -> Page: ...

    def list_events(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def list_test_clocks(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def list_accounts(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def list_source_transactions(
        self, source: str, params: Page, *, cancel: Cancel = None
    ) -> Page: ...

    def list_cash_balance_transactions(
        self, customer: str, params: Page, *, cancel: Cancel = None
    ) -> Page: ...

    def list_customer_payment_methods(
        self, customer: str, params: Page, *, cancel: Cancel = None
    ) -> Page: ...

    def list_invoices(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def list_subscriptions(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def list_charges(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def list_balance_transactions(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def list_payouts(self, params: Page, *, cancel: Cancel = None) -> Page: ...

    def retrieve_source(self, source: str, *, cancel: Cancel = None) -> Page: ...

    def retrieve_customer(
        self, customer: str, params: Page | None = None, *, cancel: Cancel = None
    ) -> Page: ...

    def retrieve_cash_balance(self, customer: str, *, cancel: Cancel = None) -> Page: ...

    # -- writes ------------------------------------------------------------------------------
    def update_source(
        self, source: str, params: Page, *, idempotency_key: str, cancel: Cancel = None
    ) -> Answer: ...

    def attach_source(
        self, customer: str, source: str, *, idempotency_key: str, cancel: Cancel = None
    ) -> Answer: ...

    def detach_source(self, customer: str, source: str, *, cancel: Cancel = None) -> Answer: ...

    def create_funding_instructions(
        self, customer: str, currency: str = "usd", *, cancel: Cancel = None
    ) -> Answer: ...
