"""The "Sources switched off" profile: Stripe retires the Sources API's local payment methods.

With ``Sandbox(sources_retired=True)``, creating a source of a retired type or attaching one to a
customer answers 400 ``payment_method_not_available`` (a code Stripe uses for a payment method
that is not available), ``param: type``, with a message that names the successor. Stripe has not
published the exact error it will send once Sources is switched off: this shape is the plausible
choice. Card sources (``card``, ``three_d_secure``) keep working: Stripe's notice names its local
payment methods.

>>> sorted(RETIRED_TYPES)[:3]
['ach_credit_transfer', 'ach_debit', 'alipay']
>>> retired_error("ach_credit_transfer").code
'payment_method_not_available'
"""

from __future__ import annotations

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.objects import SOURCE_TYPES

__all__ = ["RETIRED_TYPES", "retired_error"]

#: The source types Stripe is retiring with the Sources API (all but card sources).
RETIRED_TYPES = frozenset(SOURCE_TYPES - {"card", "three_d_secure"})


def retired_error(kind: str, param: str = "type") -> ApiError:
    """The 400 for a retired source type (``param``: the parameter that named it)."""
    successor = (
        "Bank Transfers (the customer's cash balance)"
        if kind in ("ach_credit_transfer", "sepa_credit_transfer")
        else "the PaymentMethods API"
    )
    return ApiError(
        400,
        f"The `{kind}` payment method of the Sources API has been turned off on this account. "
        f"Use {successor} instead.",
        code="payment_method_not_available",
        param=param,
        saved=False,
    )
