"""Order-bearing sources for the demo account: a few Klarna sources whose ``source_order``
lacks its shipping details (carrier, tracking number), so that the source_order kind has rows to
act on in the runbooks (issue 25). The debit sources a mandate is recorded on and the single-use
sources whose amount can change are already in the seed.

Seeded last, from their own random stream (``<seed>:orders``): every other object of the seed
(customers, sources, cash balances, the ledger) is unchanged; only the chosen customers' lists
grow by one source each, in its place by creation time, and a customer's ``default_source``
stays as it was (Stripe makes an attached source the default only when there is none).

>>> from toolkit.sandbox import Sandbox
>>> with Sandbox(seed=7, customers=20) as box:
...     ids = box.order_ids
...     [box.get_source(i)["type"] for i in ids]
['klarna', 'klarna', 'klarna']
"""

from __future__ import annotations

import random
from typing import Any

from toolkit.sandbox.objects import make_owner, random_address
from toolkit.sandbox.source_objects import make_source
from toolkit.sandbox.source_updates import make_order
from toolkit.sandbox.store import SANDBOX_NOW, DataSet

__all__ = ["seed_orders"]

_ITEMS = (("Walking boots", 12_900), ("Rain jacket", 8_450), ("Wool socks", 1_500))


def seed_orders(ds: DataSet, seed_key: str, count: int = 3) -> None:
    """Attach ``count`` chargeable Klarna sources with an order (items and a shipping address,
    no carrier or tracking number yet) to customers chosen from their own random stream."""
    rng = random.Random(f"{seed_key}:orders")
    customers = sorted(c for c in ds.customers if not ds.customers[c].get("test_clock"))
    if not customers:
        return
    for cid in rng.sample(customers, min(count, len(customers))):
        cus = ds.customers[cid]
        name, price = rng.choice(_ITEMS)
        quantity = rng.randint(1, 2)
        created = rng.randint(max(cus["created"] + 60, SANDBOX_NOW - 20 * 86_400), SANDBOX_NOW - 60)
        src = make_source(
            rng,
            "klarna",
            created=created,
            livemode=ds.livemode,
            status="chargeable",
            currency="usd",
            amount=price * quantity,
            owner=make_owner(rng, cus.get("name"), cus.get("email"), address=False),
            customer=cid,
        )
        address: dict[str, Any] = random_address(rng)
        order = {
            "items": [{"amount": price, "quantity": quantity, "description": name}],
            "shipping": {"name": cus.get("name") or "Customer", "address": address},
        }
        src["source_order"] = make_order(src, order)
        ds.sources[src["id"]] = src
        ds.created_at[src["id"]] = created
        items = ds.items[cid]
        items.append(src["id"])
        items.sort(key=lambda p: (ds.created_at.get(p, 0), p), reverse=True)
        if not cus.get("default_source"):
            cus["default_source"] = src["id"]
        ds.order_ids.append(src["id"])
    ds.index()  # drops the cached bytes of the customers whose lists grew
