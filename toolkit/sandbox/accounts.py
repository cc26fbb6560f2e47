"""``GET /v1/accounts``: the accounts connected to the platform, in Stripe's shape.

Each connected account is drawn from its id (the same id gives the same account). An account
whose access was revoked (``Sandbox(revoked_accounts=...)``) is still listed, as Stripe lists
accounts whose application access lapsed, but every request made on its behalf answers
Stripe's 403 ``account_invalid``. A request made on behalf of a connected account lists that
account's own connected accounts: none.

>>> account_object("acct_1Demo", livemode=False)["object"]
'account'
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from toolkit.sandbox.pagination import in_created, list_index, paginate
from toolkit.sandbox.params import LIST_CREATED, created_of, cursors_of, expand_of, limit_of
from toolkit.sandbox.store import SANDBOX_NOW, DataSet, dumps

__all__ = ["SPEC_LIST_ACCOUNTS", "account_object", "account_objects", "list_accounts"]

SPEC_LIST_ACCOUNTS = dict(LIST_CREATED)
_NAMES = (
    "Northwind Supply",
    "Bluebird Clinics",
    "Harbor Freight Co",
    "Maple Tutoring",
    "Kestrel Labs",
)


def account_object(account_id: str, *, livemode: bool) -> dict[str, Any]:
    """A connected account as ``GET /v1/accounts`` returns it (a standard account)."""
    rng = random.Random(f"account:{account_id}")
    name = rng.choice(_NAMES)
    slug = name.lower().replace(" ", "")
    return {
        "id": account_id,
        "object": "account",
        "business_profile": {"name": name, "url": f"https://{slug}.example.com"},
        "business_type": "company",
        "capabilities": {"ach_credit_transfer_payments": "active", "card_payments": "active"},
        "charges_enabled": True,
        "country": "US",
        "created": SANDBOX_NOW - rng.randrange(30, 1500) * 86400,
        "default_currency": "usd",
        "details_submitted": True,
        "email": f"finance@{slug}.example.com",
        "livemode": livemode,
        "metadata": {},
        "payouts_enabled": True,
        "type": "standard",
    }


def account_objects(ids: Iterable[str], *, livemode: bool) -> list[dict[str, Any]]:
    """The accounts of ``ids``, newest first (as Stripe lists them)."""
    accounts = [account_object(i, livemode=livemode) for i in ids]
    return sorted(accounts, key=lambda a: (a["created"], a["id"]), reverse=True)


def list_accounts(ds: DataSet, params: dict[str, Any]) -> bytes:
    """GET /v1/accounts: the platform's connected accounts, newest first (``created`` filters)."""
    expand_of(params, ())
    after, before = cursors_of(params)
    created = created_of(params)
    accounts = {a["id"]: a for a in ds.connected if in_created(a["created"], created)}
    ids = list(accounts)
    page, more = paginate(
        ids, 0, len(ids), list_index(ids), limit_of(params), after, before, "account", None
    )
    return ds.list_json([dumps(accounts[i]) for i in page], more, "/v1/accounts")
