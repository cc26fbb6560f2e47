"""Who may ask what: the key (401s), the ``Stripe-Account`` (403 unless it is one of the
sandbox's connected accounts) and a restricted key's permissions (403 naming the permission
that would allow the request), with Stripe's messages.

A **publishable key** (``pk_test_...``) may only retrieve a source, with that source's
``client_secret`` (``GET /v1/sources/{id}?client_secret=...``), as Stripe.js does; any other
call is Stripe's 401 ``This API call cannot be made with a publishable API key``. A missing or
wrong secret is answered as Stripe answers an id it does not show that key: 404
``resource_missing`` (a choice: Stripe's docs do not say, and it never confirms that the source
exists). The sandbox has no publishable key of its own: any well-shaped ``pk_`` key of the
expected key's mode is taken.

Stripe does not document the exact text of every refusal; where it is silent these are the
plausible shapes: ``type: invalid_request_error`` with a message naming the key (masked) and
the account, and ``code: account_invalid`` for an account the key cannot reach.

>>> permission_for("POST /v1/sources/{id}")
('sources', 'write')
>>> permission_for("GET /v1/customers/{id}/sources")
('customers', 'read')
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.http import ACCOUNT_RE, KEY_RE, api_key_of
from toolkit.sandbox.objects import rand_id

__all__ = [
    "NO_KEY",
    "PUBLISHABLE_ONLY",
    "authenticate",
    "check_account",
    "check_client_secret",
    "check_permission",
    "check_publishable",
    "default_connected_accounts",
    "mask",
    "permission_for",
]

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
#: The one endpoint a publishable key may call.
PUBLISHABLE_ONLY = "GET /v1/sources/{id}"
PUBLISHABLE_RE = re.compile(r"pk_(test|live)_[A-Za-z0-9]+")
#: Path prefix -> the restricted-key resource that governs it.
RESOURCES = (
    ("/v1/customers", "customers"),
    ("/v1/sources", "sources"),
    ("/v1/test_helpers/test_clocks", "test_clocks"),
    ("/v1/payment_methods", "payment_methods"),
    ("/v1/invoices", "invoices"),
    ("/v1/subscriptions", "subscriptions"),
    ("/v1/charges", "charges"),
    ("/v1/refunds", "refunds"),
    ("/v1/balance_transactions", "balance"),  # Stripe's "Balance" permission
    ("/v1/payouts", "payouts"),
)


def default_connected_accounts(seed: int, count: int = 3) -> tuple[str, ...]:
    """The accounts connected to the sandbox's platform: the same for the same seed.

    >>> default_connected_accounts(7) == default_connected_accounts(7)
    True
    """
    rng = random.Random(f"{seed}:accounts")
    return tuple("acct_1" + rand_id(rng, "", 15) for _ in range(count))


def mask(key: str) -> str:
    """A key as Stripe shows it in errors: prefix, stars, last four."""
    if len(key) <= 12:
        return "*" * len(key)
    prefix = key[: key.find("_", 3) + 1] if key.count("_") >= 2 else key[:3]
    return prefix + "*" * max(4, len(key) - len(prefix) - 4) + key[-4:]


def authenticate(
    headers: Mapping[str, str], expected: str | None, restricted: Mapping[str, object] = {}
) -> tuple[str, bool]:
    """The key and its livemode, or Stripe's 401 for a missing or malformed key.

    With ``expected`` only that key (and the restricted keys) is valid, else any well-shaped one.
    """
    key = api_key_of(headers)
    if key is None:
        raise ApiError(401, NO_KEY, saved=False)
    if PUBLISHABLE_RE.fullmatch(key):
        valid = expected is None or key.split("_", 2)[1] == expected.split("_", 2)[1]
    elif key in restricted:
        valid = KEY_RE.fullmatch(key) is not None
    elif expected is not None:
        valid = key == expected
    else:
        valid = KEY_RE.fullmatch(key) is not None
    if not valid:
        raise ApiError(401, f"Invalid API Key provided: {mask(key)}", saved=False)
    return key, key.split("_", 2)[1] == "live"


def check_account(
    key: str, account: str | None, livemode: bool, connected: frozenset[str] | None
) -> None:
    """Stripe's 403 for a ``Stripe-Account`` that is not an account the key can reach."""
    if account is None:
        return
    if ACCOUNT_RE.fullmatch(account) and (connected is None or account in connected):
        return
    mode = "live" if livemode else "test"
    raise ApiError(
        403,
        f"The provided key '{mask(key)}' does not have access to account '{account}' (or that "
        f"account does not exist) in {mode} mode. Application access may have been revoked.",
        code="account_invalid",
        type="invalid_request_error",
        saved=False,
    )


def permission_for(endpoint: str) -> tuple[str, str]:
    """(resource, "read" or "write") that an endpoint needs of a restricted key."""
    method, _, template = endpoint.partition(" ")
    resource = next((name for prefix, name in RESOURCES if template.startswith(prefix)), "other")
    return resource, ("read" if method == "GET" else "write")


def check_permission(
    key: str,
    endpoint: str,
    account: str | None,
    restricted: Mapping[str, Mapping[str, str]],
) -> None:
    """Stripe's 403 when a restricted key lacks the permission an endpoint needs.

    ``restricted`` maps a restricted key to ``{resource: "read" | "write" | "none"}``; a key not
    in it (and every secret key) may do everything.
    """
    granted = restricted.get(key)
    if granted is None:
        return
    resource, needed = permission_for(endpoint)
    level = granted.get(resource, "none")
    if level == "write" or (level == "read" and needed == "read"):
        return
    on = f" on account '{account}'" if account else ""
    singular = resource.rstrip("s")
    raise ApiError(
        403,
        f"The provided key '{mask(key)}' does not have the required permissions for this "
        f"endpoint{on}. Having the 'rak_{singular}_{needed}' permission would allow this request "
        "to continue.",
        type="invalid_request_error",
        saved=False,
    )


def check_publishable(key: str, endpoint: str) -> None:
    """Stripe's 401 when a publishable key calls anything but a source's retrieve."""
    if key.startswith("pk_") and endpoint != PUBLISHABLE_ONLY:
        raise ApiError(
            401,
            "This API call cannot be made with a publishable API key. Please use a secret API "
            "key. You can find a list of your API keys at https://dashboard.stripe.com/account/"
            "apikeys.",
            saved=False,
        )


def check_client_secret(key: str, source_id: str, given: object, stored: str | None) -> None:
    """A publishable key's retrieve needs the source's own ``client_secret``: else Stripe's 404
    for a source that key cannot see (a secret or restricted key needs none)."""
    if key.startswith("pk_") and (stored is None or given != stored):
        raise ApiError.missing("source", source_id)
