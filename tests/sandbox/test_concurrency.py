"""Many threads reading and writing at once over keep-alive connections: no errors, no lost
writes, and lists stay consistent with the writes."""

from __future__ import annotations

import http.client
import json
from concurrent.futures import ThreadPoolExecutor

import stripe

from toolkit.sandbox import Sandbox

from .conftest import KEY, make_client, raw


def test_parallel_reads_and_writes(box: Sandbox) -> None:
    ds = box.store()
    receivers = [  # money sent to a migrated receiver lands in the cash balance instead
        s["id"]
        for s in ds.sources.values()
        if s["flow"] == "receiver" and s["id"] not in ds.cash.fed_by
    ][:8]
    before = {sid: box.get_source(sid)["receiver"]["amount_received"] for sid in receivers}

    def work(i: int) -> int:
        client = make_client(box)
        sid = receivers[i % len(receivers)]
        for j in range(4):
            client.v1.sources.update(sid, params={"metadata": {f"t{i}_{j}": "x"}})
            box.deposit(sid, 100)
            page = raw(client, "get", "/v1/customers", limit=100, expand=["data.sources"])
            assert len(page["data"]) == 40
        return i

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert sorted(pool.map(work, range(16))) == list(range(16))
    client: stripe.StripeClient = make_client(box)
    for idx, sid in enumerate(receivers):
        src = client.v1.sources.retrieve(sid)
        writers = [i for i in range(16) if i % len(receivers) == idx]
        assert src.receiver is not None
        assert src.receiver.amount_received == before[sid] + 100 * 4 * len(writers)
        assert src.metadata is not None
        assert {f"t{i}_{j}" for i in writers for j in range(4)} <= set(src.metadata.to_dict())
    assert all(e.status == 200 for e in box.requests)


def test_keep_alive_connection_serves_many_requests(box: Sandbox) -> None:
    conn = http.client.HTTPConnection(box.host, box.port, timeout=10)
    try:
        for _ in range(5):
            conn.request("GET", "/v1/customers?limit=3", headers={"Authorization": f"Bearer {KEY}"})
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.getheader("Connection") is None
            assert len(json.loads(resp.read())["data"]) == 3
    finally:
        conn.close()
