"""The session wing: the one door to Stripe.

- :mod:`~toolkit.session.settings` reads and checks what a user configures (key, account,
  address, rates, strict yes/no flags);
- :mod:`~toolkit.session.connect` opens a session (a real account, or the embedded sandbox);
- :mod:`~toolkit.session.client` is the :class:`Session`: a typed method per call the toolkit
  makes, the retries that are safe, the live guard, Stripe's errors mapped to the toolkit's;
- :mod:`~toolkit.session.endpoints` names Stripe's endpoints as its limits count them;
- :mod:`~toolkit.session.ratelimit` paces every thread of a session: a global bucket and one
  per endpoint, within the session's budget;
- :mod:`~toolkit.session.retries` reads Stripe's retry signals (``Retry-After``,
  ``Stripe-Should-Retry``, ``Stripe-Rate-Limited-Reason``);
- :mod:`~toolkit.session.reads` counts every read (GET) as it leaves and holds it to the read
  allowance, :mod:`~toolkit.session.read_ledger` keeps the count of 30 days in a private file,
  :mod:`~toolkit.session.read_usage` shows it (``read_usage``).
- :mod:`~toolkit.session.guarded_http` is the SDK's HTTP client with the live guard in front
  (the SDK loads with the first session, not on ``import toolkit``).

Nothing else in the toolkit imports ``stripe``.
"""

from toolkit.redact import mask_key
from toolkit.session.client import Mode, Session
from toolkit.session.connect import SANDBOX_KEY, connect
from toolkit.session.read_usage import ReadUsage, read_usage
from toolkit.session.transport import Answer

__all__ = [
    "SANDBOX_KEY",
    "Answer",
    "Mode",
    "ReadUsage",
    "Session",
    "connect",
    "mask_key",
    "read_usage",
]
