"""Links to an object's page in the Stripe Dashboard, for the workbooks' ``dashboard`` columns.

>>> dashboard_url("ch_3Abc", "test")
'https://dashboard.stripe.com/test/payments/ch_3Abc'
>>> dashboard_url("cus_9", "live"), dashboard_url("txn_1", "test")
('https://dashboard.stripe.com/customers/cus_9', None)
"""

from __future__ import annotations

from typing import Any

__all__ = ["DASHBOARD", "dashboard_url"]

DASHBOARD = "https://dashboard.stripe.com/"
#: Id prefix -> the Dashboard's page of that kind of object.
_PAGES = {
    "cus_": "customers",
    "src_": "sources",
    "ch_": "payments",
    "py_": "payments",
    "po_": "payouts",
    "in_": "invoices",
    "sub_": "subscriptions",
}


def dashboard_url(object_id: Any, mode: str | None) -> str | None:
    """The Dashboard page of ``object_id`` (``/test/`` unless ``mode`` is ``"live"``); None for
    an object the Dashboard has no page for."""
    if not isinstance(object_id, str):
        return None
    for prefix, page in _PAGES.items():
        if object_id.startswith(prefix):
            test = "" if mode == "live" else "test/"
            return f"{DASHBOARD}{test}{page}/{object_id}"
    return None
