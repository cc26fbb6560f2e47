"""The created-window splitting against an in-memory customer list with awkward timestamps.

No HTTP here: a stand-in session answers the two list endpoints the account-wide load uses, with
Stripe's ordering (created desc, then id), filters and cursors, so that ties, dense bursts and
empty stretches can be tested quickly. The real thing runs in test_load_e2e / test_faults_e2e.
"""

from __future__ import annotations

import bisect
import itertools
import random
import threading
from contextlib import nullcontext
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import stripe

from toolkit.fetch import load_sources
from toolkit.session.transport import mapped


class FakeStripe:
    """Customers (created, id) with ``n_sources`` each; lists like Stripe does."""

    def __init__(self, created: list[int], rng: random.Random, big: int = 0) -> None:
        self.customers: list[dict[str, Any]] = []
        self.sources: dict[str, list[dict[str, Any]]] = {}
        for i, stamp in enumerate(created):
            cid = f"cus_{i:06d}"
            count = rng.choice([0, 1, 2, 3, 4, 12, 25]) if i >= big else 130
            self.customers.append({"id": cid, "object": "customer", "created": stamp})
            self.sources[cid] = [
                {
                    "id": f"src_{i:06d}_{k:03d}",
                    "object": "source" if k % 7 else "card",
                    "customer": cid,
                    "created": stamp + k,
                    "type": "ach_credit_transfer",
                    "status": "pending",
                    "flow": "receiver",
                    "livemode": False,
                    "client_secret": "src_client_secret_x",
                    "metadata": {},
                }
                for k in range(count)
            ]
        self.customers.sort(key=lambda c: (c["created"], c["id"]), reverse=True)
        self.neg_created = [-c["created"] for c in self.customers]
        self.position = {c["id"]: i for i, c in enumerate(self.customers)}
        self.requests = 0
        self.lock = threading.Lock()

    def expected(self) -> dict[str, str]:
        return {
            s["id"]: cid
            for cid, items in self.sources.items()
            for s in items
            if s["object"] == "source"
        }

    @staticmethod
    def _page(items: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        start = 0
        after = params.get("starting_after")
        if after is not None:
            start = next(i for i, item in enumerate(items) if item["id"] == after) + 1
        limit = int(params.get("limit", 10))
        page = items[start : start + limit]
        return {"object": "list", "data": page, "has_more": start + limit < len(items)}

    def raw_request(self, method: str, path: str, **params: Any) -> Any:
        with self.lock:
            self.requests += 1
        parts = path.strip("/").split("/")
        if parts == ["v1", "customers"]:
            created = params.get("created", {})
            first = bisect.bisect_right(self.neg_created, -created.get("lt", 10**12))
            end = bisect.bisect_right(self.neg_created, -created.get("gte", -(10**12)))
            start = first
            if params.get("starting_after") is not None:
                start = max(first, self.position[params["starting_after"]] + 1)
            limit = int(params["limit"])
            page = self.customers[start : min(end, start + limit)]
            body: dict[str, Any] = {"object": "list", "data": page, "has_more": start + limit < end}
            body["data"] = [
                dict(c, sources=self._page(self.sources[c["id"]], {"limit": 10}))
                for c in body["data"]
            ]
            return SimpleNamespace(data=body)
        if len(parts) == 4 and parts[3] == "sources":
            items = [s for s in self.sources[parts[2]] if s["object"] == params.get("object")]
            return SimpleNamespace(data=self._page(items, params))
        raise AssertionError(path)


class FakeSession:
    """The session's two list calls over the stand-in, Stripe's errors mapped as the real one."""

    mode = "test"
    account_label = "fake"
    # the rest of what the wings read of a session (toolkit.session.protocol.SessionLike)
    api_base = "http://fake.invalid"
    stripe_account = None
    api_version = None
    limiter = None

    def __init__(self, stripe: FakeStripe, workers: int) -> None:
        self.client = stripe
        self.max_workers = workers

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        try:
            return self.client.raw_request("get", path, **params).data
        except stripe.StripeError as exc:
            raise mapped(exc, f"GET {path}") from None

    def list_customers(self, params: dict[str, Any], *, cancel: Any = None) -> Any:
        return self._get("/v1/customers", params)

    def list_customer_sources(
        self, customer: str, params: dict[str, Any], *, cancel: Any = None
    ) -> Any:
        return self._get(f"/v1/customers/{customer}/sources", params)

    def list_test_clocks(self, params: dict[str, Any], *, cancel: Any = None) -> Any:
        return {"object": "list", "data": [], "has_more": False}  # the stand-in has none

    def list_events(self, params: dict[str, Any], *, cancel: Any = None) -> Any:
        return {"object": "list", "data": [], "has_more": False}  # nor events

    def now(self) -> datetime:
        return datetime(2026, 11, 1, tzinfo=UTC)

    def reading(self, operation: Any = None, **_: Any) -> Any:
        """A meter that counts nothing: the stand-in is not reached over HTTP."""
        return nullcontext(SimpleNamespace(reads=0, describe=lambda: "0 reads"))


def _timestamps(kind: str, n: int, rng: random.Random) -> list[int]:
    base = 1_700_000_000
    if kind == "uniform":
        return [base + rng.randrange(90_000_000) for _ in range(n)]
    if kind == "ties":
        return [base + 1000 * rng.randrange(40) for _ in range(n)]
    if kind == "all_same":
        return [base] * n
    if kind == "burst":  # most customers created within one minute, a few spread over years
        return [
            base + rng.randrange(60) if rng.random() < 0.9 else base - rng.randrange(10**8)
            for _ in range(n)
        ]
    if kind == "gaps":  # two clusters years apart
        return [base + rng.randrange(1000) + (0 if i % 2 else 10**8) for i in range(n)]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["uniform", "ties", "all_same", "burst", "gaps"])
@pytest.mark.parametrize("workers", [1, 8])
def test_every_source_once_whatever_the_timestamps(kind: str, workers: int) -> None:
    rng = random.Random(f"{kind}-{workers}")
    fake = FakeStripe(_timestamps(kind, 1500, rng), rng, big=3)
    df = load_sources(FakeSession(fake, workers), progress=False)  # type: ignore[arg-type]
    assert df["id"].is_unique
    assert dict(zip(df["id"], df["customer"], strict=True)) == fake.expected()
    assert "client_secret" not in df["raw"].iloc[0]


def test_request_count_near_the_lower_bound_on_a_large_uniform_account() -> None:
    rng = random.Random(3)
    fake = FakeStripe(_timestamps("uniform", 5000, rng), rng, big=4)
    load_sources(FakeSession(fake, 8), progress=False)  # type: ignore[arg-type]
    pages = 50
    for items in fake.sources.values():
        if len(items) > 10:
            rest = sum(1 for s in items[10:] if s["object"] == "source")
            pages += max(1, -(-rest // 100))
    assert fake.requests <= pages * 1.05


def test_created_window_with_ties_at_the_edges() -> None:
    rng = random.Random(9)
    fake = FakeStripe(_timestamps("ties", 1200, rng), rng)
    lo, hi = 1_700_000_000 + 5000, 1_700_000_000 + 30_000
    df = load_sources(FakeSession(fake, 4), created=(lo, hi), progress=False)  # type: ignore[arg-type]
    inside = {c["id"] for c in fake.customers if lo <= c["created"] < hi}
    expected = {s: c for s, c in fake.expected().items() if c in inside}
    assert dict(zip(df["id"], df["customer"], strict=True)) == expected


class VanishingStripe(FakeStripe):
    """Deletes the last customer of the first customer page, and the last source of the first
    continuation page, right after serving them: the next request's cursor no longer exists."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vanished: set[str] = set()
        self.gone: list[str] = []

    def raw_request(self, method: str, path: str, **params: Any) -> Any:
        after = params.get("starting_after")
        if after in self.gone:
            raise stripe.InvalidRequestError(
                f"No such object: '{after}'",
                "starting_after",
                code="resource_missing",
                http_status=404,
            )
        response = super().raw_request(method, path, **params)
        data = response.data["data"]
        kind = "page" if path == "/v1/customers" else "items"
        if kind not in self.vanished and response.data["has_more"] and data:
            self.vanished.add(kind)
            victim = data[-1]
            self.gone.append(victim["id"])
            if kind == "page":
                self.customers = [c for c in self.customers if c["id"] != victim["id"]]
                self.neg_created = [-c["created"] for c in self.customers]
                self.position = {c["id"]: i for i, c in enumerate(self.customers)}
            else:
                cid = path.split("/")[3]
                self.sources[cid] = [s for s in self.sources[cid] if s["id"] != victim["id"]]
        return response


def test_cursor_objects_deleted_mid_load() -> None:
    rng = random.Random(4)
    fake = VanishingStripe(_timestamps("uniform", 900, rng), rng, big=3)
    df = load_sources(FakeSession(fake, 4), progress=False)  # type: ignore[arg-type]
    assert set(fake.vanished) == {"page", "items"}
    expected = fake.expected()  # now without the deleted ones
    got = dict(zip(df["id"], df["customer"], strict=True))
    assert df["id"].is_unique
    assert set(expected.items()) <= set(got.items())  # everything still there came out once
    assert set(got) - set(expected) <= set(fake.gone) | {
        s["id"] for s in df["raw"] if s["customer"] in fake.gone
    }


@pytest.mark.parametrize("kind", ["uniform", "ties", "burst", "gaps"])
def test_every_source_once_when_slow_pages_carve_windows_at_once(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Slow pages (issue 27): a split carves several windows at once; still every source once,
    and the request count stays near the lower bound on a uniform account."""
    from toolkit.fetch.source_fetch import SourceFetch

    made = SourceFetch.__init__

    def slow_server(self: SourceFetch, *args: Any, **kwargs: Any) -> None:
        made(self, *args, **kwargs)
        self.slow = True  # as load_sources sets it after a slow events mark

    monkeypatch.setattr(SourceFetch, "__init__", slow_server)
    monkeypatch.setattr(SourceFetch, "windows_wanted", lambda self, round_trip: 4)
    rng = random.Random(f"carve-{kind}")
    fake = FakeStripe(_timestamps(kind, 3000, rng), rng, big=3)
    df = load_sources(FakeSession(fake, 8), progress=False)  # type: ignore[arg-type]
    assert df["id"].is_unique
    assert dict(zip(df["id"], df["customer"], strict=True)) == fake.expected()
    if kind == "uniform":
        pages = 30 + sum(
            max(1, -(-sum(1 for s in items[10:] if s["object"] == "source") // 100))
            for items in fake.sources.values()
            if len(items) > 10
        )
        assert fake.requests <= pages * 1.05


def test_a_carve_starts_the_windows_wanted_in_one_go_and_they_tile_the_rest() -> None:
    from toolkit.fetch.windows import Windows

    windows = Windows(None, None)
    first = windows.all[0]
    page = [{"id": f"cus_{i}", "created": 2_000_000 - 7 * i} for i in range(100)]
    assert windows.observe(first, {"data": page, "has_more": True})
    started: list[Any] = []
    windows.rebalance(4, started.append, at_once=3)
    assert len(started) == 3  # one round trip, not three
    assert started[-1].gte is None  # the oldest stays open-ended: nothing is left out
    assert first.stop == started[0].lt  # the first window keeps what is above the first cut
    assert all(upper.gte == lower.lt for upper, lower in itertools.pairwise(started))
    assert all(w.gte == w.stop for w in started[:-1])
    # one at a time without at_once, as before
    again = Windows(None, None)
    again.observe(again.all[0], {"data": page, "has_more": True})
    one: list[Any] = []
    again.rebalance(4, one.append)
    assert len(one) == 1
