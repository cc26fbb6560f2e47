"""Which failures a session retries, and after how long: Stripe's retry signals first.

- ``Stripe-Should-Retry: false`` is final: a 500 Stripe saved under the idempotency key (a
  retry would only replay it), an idempotency conflict, a key of the wrong length;
- a 429 was not performed, so it is always retried, after slowing the limiter its
  ``Stripe-Rate-Limited-Reason`` names; a 429 ``lock_timeout`` (one object busy) slows nothing;
- a 409 ``idempotency_key_in_use`` (the first request with the key is still running, say after
  a timeout) is retried after a longer pause, :data:`IN_FLIGHT_PAUSE` doubling each time: once
  the first request ends, the retry gets its saved answer, so this is safe and nothing is
  written twice;
- ``Stripe-Should-Retry: true`` is retried;
- a connection that could not be made (refused, no DNS, no route, the connect timeout: the
  request never left) is retried :data:`CONNECT_RETRIES` times after a short pause, whatever
  the request, then reported at once as unreachable (no network), not after a minute of
  backoff;
- otherwise connection errors, 5xx and 409 are retried when a replay is safe (a read, or a
  write with an idempotency key), with exponential backoff and jitter.

Stripe documents no ``Retry-After``; if a reply carries one it is honoured (at most 60 s).

A 429 for the **read request allocation** (Stripe counts reads over 30 days: a retry within
seconds cannot help) is never retried: :func:`read_allocation_spent` tells it from the other
429s, by its ``Stripe-Rate-Limited-Reason: read-allocation`` (the sandbox's choice: Stripe's docs
name no error for it) or by a message that names the read allocation.

>>> import stripe
>>> limiter = RateLimiter(None)
>>> retry_delay(stripe.InvalidRequestError("bad", "id", http_status=400), 0, True, limiter, None)
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from toolkit.session.ratelimit import RateLimiter
from toolkit.session.transport import error_code, header, unreachable

if TYPE_CHECKING:  # the SDK loads with the first Session (toolkit.session.guarded_http)
    import stripe

__all__ = [
    "CONNECT_PAUSE",
    "CONNECT_RETRIES",
    "CONNECT_TIMEOUT",
    "IN_FLIGHT_PAUSE",
    "READ_ALLOCATION_REASON",
    "read_allocation_spent",
    "retry_after",
    "retry_delay",
]

#: Seconds before the first retry of a 409 ``idempotency_key_in_use`` (doubling, at most 8 s):
#: the request holding the key has to finish first, and a write can take a while.
IN_FLIGHT_PAUSE = 0.5
#: Retries of a connection that could not be made (refused, no DNS, the connect timeout), and
#: the pause before each (times the attempt): about half a second before it is reported.
CONNECT_RETRIES = 2
CONNECT_PAUSE = 0.15
#: Seconds a connection is given to be made (the answer has the session's ``timeout``).
CONNECT_TIMEOUT = 4.0
#: The ``Stripe-Rate-Limited-Reason`` of a read refused for the read allocation (the sandbox's).
READ_ALLOCATION_REASON = "read-allocation"


def read_allocation_spent(exc: stripe.StripeError) -> str | None:
    """Stripe's message when ``exc`` refuses a read for the read request allocation, else None.

    >>> import stripe
    >>> spent = stripe.RateLimitError("Your read request allocation is spent.", http_status=429)
    >>> read_allocation_spent(spent)
    'Your read request allocation is spent.'
    >>> read_allocation_spent(stripe.RateLimitError("Too many requests", http_status=429)) is None
    True
    """
    if exc.http_status != 429:
        return None
    error = getattr(exc, "error", None)
    message = (getattr(error, "message", None) or exc.user_message or str(exc) or "").strip()
    reason = (header(exc.headers, "Stripe-Rate-Limited-Reason") or "").lower()
    lowered = message.lower()
    if reason == READ_ALLOCATION_REASON or ("read" in lowered and "allocation" in lowered):
        return message or "HTTP 429 read allocation"
    return None


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

    backoff = min(8.0, 0.25 * 2.0**attempt) * (0.5 + random.random() / 2)
    status = exc.http_status
    should = (header(exc.headers, "Stripe-Should-Retry") or "").lower()
    if should == "false" or read_allocation_spent(exc) is not None:
        return None
    if unreachable(exc) is not None:  # never sent: safe to retry, pointless to insist
        return None if attempt >= CONNECT_RETRIES else CONNECT_PAUSE * (attempt + 1)
    if isinstance(exc, stripe.RateLimitError) or status == 429:
        if error_code(exc) == "lock_timeout":
            return backoff
        asked = retry_after(exc)
        delay = asked if asked is not None else backoff
        limiter.limited(endpoint, header(exc.headers, "Stripe-Rate-Limited-Reason"), delay)
        return delay
    if status == 409 and error_code(exc) == "idempotency_key_in_use":
        return min(8.0, IN_FLIGHT_PAUSE * 2.0**attempt) * (0.75 + random.random() / 4)
    if should == "true":
        return backoff
    if not replay_safe:
        return None
    if isinstance(exc, stripe.APIConnectionError):
        return backoff
    if status is not None and (status >= 500 or status == 409):
        return backoff
    return None
