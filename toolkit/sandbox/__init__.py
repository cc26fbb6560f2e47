"""A Stripe-compatible server on loopback with seeded demo data, fault injection and a request log.

Example::

    from toolkit.sandbox import Sandbox

    with Sandbox(seed=7) as box:
        print(box.url, box.planted["funds_on_canceled"])
"""

from toolkit.sandbox.dispatch import RequestLogEntry
from toolkit.sandbox.sandbox import Sandbox
from toolkit.sandbox.store import SANDBOX_NOW

__all__ = ["SANDBOX_NOW", "RequestLogEntry", "Sandbox"]
