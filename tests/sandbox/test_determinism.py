"""Same seed, same data (ids, amounts, timestamps, wire bytes); another seed, other data;
and the data set scales to 20,000 customers in seconds."""

from __future__ import annotations

import json
import time

import pytest

from toolkit.sandbox import SANDBOX_NOW, Sandbox

from .conftest import make_client, send


def _snapshot(box: Sandbox, **where: object) -> str:
    ds = box.store(**where)  # type: ignore[arg-type]
    return json.dumps(
        {
            "order": ds.order,
            "customers": ds.customers,
            "sources": ds.sources,
            "cards": ds.cards,
            "items": ds.items,
            "transactions": ds.transactions,
            "planted": ds.planted,
            "detached": ds.detached_ids,
            "unattached": ds.unattached_ids,
        },
        sort_keys=True,
    )


def test_same_seed_same_data() -> None:
    a, b = Sandbox(seed=5, customers=50), Sandbox(seed=5, customers=50)
    assert _snapshot(a) == _snapshot(b)
    assert _snapshot(a, livemode=True) == _snapshot(b, livemode=True)
    assert _snapshot(a, account="acct_Z") == _snapshot(b, account="acct_Z")
    assert _snapshot(a) != _snapshot(a, account="acct_Z")


def test_other_seed_other_data() -> None:
    a, b = Sandbox(seed=5, customers=50), Sandbox(seed=6, customers=50)
    assert not set(a.store().sources) & set(b.store().sources)
    assert not set(a.store().customers) & set(b.store().customers)


def test_wire_bytes_and_created_objects_repeat() -> None:
    bodies, created = [], list[tuple[object, ...]]()
    for _ in range(2):
        with Sandbox(seed=5, customers=30) as box:
            _, _, body = send(box, "GET", "/v1/customers?limit=100&expand[]=data.sources")
            bodies.append(body)
            src = make_client(box).v1.sources.create(params={"type": "ach_credit_transfer"})
            created.append((src.id, src.created, src.client_secret))
            created.append(tuple(sorted(box.deposit(src.id, 100).items())))
    assert bodies[0] == bodies[1]
    assert created[0] == created[2] and created[1] == created[3]
    assert created[0][1] == SANDBOX_NOW + 1


def test_no_data_and_tiny_data() -> None:
    empty = Sandbox(demo=False)
    assert empty.store().customers == {} and empty.planted == {}
    with Sandbox(customers=0) as box:
        assert send(box, "GET", "/v1/customers")[0] == 200
    with pytest.raises(ValueError):
        Sandbox(host="0.0.0.0")


@pytest.mark.slow
@pytest.mark.alone
def test_scales_to_twenty_thousand_customers() -> None:
    start = time.perf_counter()
    box = Sandbox(seed=7, customers=20_000)
    elapsed = time.perf_counter() - start
    ds = box.store()
    assert elapsed < 15  # about 2-4 s on a 2-core machine
    assert 45_000 <= len(ds.sources) <= 60_000
    sizes = [len(items) for items in ds.items.values()]
    assert 0.04 <= sum(n > 10 for n in sizes) / len(sizes) <= 0.07
    assert sum(n > 100 for n in sizes) >= 5
