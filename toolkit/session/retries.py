"""Which failures a session retries, and after how long: Stripe's retry signals first.

- ``Stripe-Should-Retry: false`` is final: a 500 Stripe saved under the idempotency key (a
  retry would only replay it), an idempotency conflict;
- a 429 was not performed, so it is always retried, after slowing the limiter its
  ``Stripe-Rate-Limited-Reason`` names; a 429 ``lock_timeout`` (one object busy) slows nothing;
- ``Stripe-Should-Retry: true`` is retried;
- otherwise connection errors, 5xx and 409 are retried when a replay is safe (a read, or a
  write with an idempotency key), with exponential backoff and jitter.

Stripe documents no ``Retry-After``; if a reply carries one it is honoured (at most 60 s).

>>> import stripe
>>> limiter = RateLimiter(None)
>>> retry_delay(stripe.InvalidRequestError("bad", "id", http_status=400), 0, True, limiter, None)
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from toolkit.session.ratelimit import RateLimiter
from toolkit.session.transport import error_code, header

if TYPE_CHECKING:  # the SDK loads with the first Session (toolkit.session.guarded_http)
    import stripe

__all__ = ["retry_after", "retry_delay"]


def retry_after(exc: stripe.StripeError) -> float | None:
    """The seconds a 429's ``Retry-After`` header asks for (at most 60), or None."""
    value = header(exc.headers, "Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, min(float(value), 60.0))
    except ValueError:
        return None


def retry_delay(
    exc: stripe.StripeError,
    attempt: int,
    replay_safe: bool,
    limiter: RateLimiter,
    endpoint: str | None,
) -> float | None:
    """Seconds to wait before retrying ``exc`` (the ``attempt``-th retry), or None when it must
    not be retried. A 429 slows ``limiter`` as its reason says."""
    import stripe  # loaded already: ``exc`` is one of its errors

    backoff = min(8.0, 0.25 * 2**attempt) * (0.5 + random.random() / 2)
    status = exc.http_status
    should = (header(exc.headers, "Stripe-Should-Retry") or "").lower()
    if should == "false":
        return None
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        if error_code(exc) == "lock_timeout":
            return backoff
        asked = retry_after(exc)
        delay = asked if asked is not None else backoff
        limiter.limited(endpoint, header(exc.headers, "Stripe-Rate-Limited-Reason"), delay)
        return delay
    if should == "true":
        return backoff
    if not replay_safe:
        return None
    if isinstance(exc, stripe.APIConnectionError):
        return backoff
    if status is not None and (status >= 500 or status == 409):
        return backoff
    return None
