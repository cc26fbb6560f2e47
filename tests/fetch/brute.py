"""The brute-force truth for end-to-end tests: every customer listed one by one through the SDK."""

from __future__ import annotations

from typing import Any

from toolkit.sandbox import Sandbox


def brute_force(client: Any) -> dict[str, str]:
    """source id -> customer id, by listing each customer's sources with the SDK, one at a time."""
    out: dict[str, str] = {}
    clocks = client.v1.test_helpers.test_clocks.list({"limit": 100}).auto_paging_iter()
    listings = [client.v1.customers.list({"limit": 100}).auto_paging_iter()] + [
        client.v1.customers.list({"limit": 100, "test_clock": clock.id}).auto_paging_iter()
        for clock in clocks
    ]  # Stripe lists customers on a test clock only when asked for their clock
    for cus in (c for listing in listings for c in listing):
        listing = client.v1.customers.payment_sources.list(
            cus.id, {"object": "source", "limit": 100}
        )
        for src in listing.auto_paging_iter():
            assert src.id not in out
            out[src.id] = cus.id
    return out


def stored(box: Sandbox, customers: set[str] | None = None) -> dict[str, str]:
    """source id -> customer id of attached sources, read from the sandbox's own store."""
    ds = box.store()
    out: dict[str, str] = {}
    for cid, items in ds.items.items():
        if customers is not None and cid not in customers:
            continue
        for pid in items:
            if ds.payment_source(pid)["object"] == "source":
                out[pid] = cid
    return out


def lower_bound(box: Sandbox) -> int:
    """Customer pages (the clocks' too) plus the continuation pages needed (a customer with >10
    payment sources)."""
    ds = box.store()
    pages = max(1, -(-len(ds.order) // 100))
    pages += 1 + len(ds.test_clocks)  # the clocks' list, one page of customers per clock
    for items in ds.items.values():
        if len(items) > 10:
            rest = sum(1 for p in items[10:] if ds.payment_source(p)["object"] == "source")
            pages += max(1, -(-rest // 100))
    return pages


def as_map(df: Any) -> dict[str, str]:
    """source id -> customer id of a sources frame."""
    return dict(zip(df["id"].tolist(), df["customer"].tolist(), strict=True))
