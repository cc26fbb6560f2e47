"""Detach (a DELETE without idempotency key) when the reply is lost after Stripe acted.

The sandbox drops connections before acting, so this case runs against a small stand-in
session (no stripe monkeypatching: the SDK's own error classes are raised by the stand-in).
"""

from __future__ import annotations

from types import SimpleNamespace

import stripe

from toolkit.apply import apply
from toolkit.plans import plan_detach


class _Obj(dict):
    def to_dict(self):
        return dict(self)


class FakeStripe:
    """Sources that detach for real but lose the reply, as a dropped connection would."""

    def __init__(self, failure: str) -> None:
        self.failure = failure
        self.state = {"src_lost1": {"customer": "cus_1", "status": "chargeable"}}
        self.deletes = 0
        self.stale_reads = 0  # reads that still show the old state (a lagging replica)
        self.v1 = SimpleNamespace(
            sources=SimpleNamespace(retrieve=self.retrieve, detach=self.detach)
        )

    def retrieve(self, sid):
        if self.stale_reads:
            self.stale_reads -= 1
            return _Obj(id=sid, object="source", customer="cus_1", status="chargeable")
        return _Obj(id=sid, object="source", **self.state[sid])

    def detach(self, customer, sid):
        self.deletes += 1
        src = self.state[sid]
        if src["status"] == "consumed":
            raise stripe.InvalidRequestError(
                f"No such source: '{sid}'", "id", code="resource_missing", http_status=404
            )
        src["status"] = "consumed"  # Stripe acted...
        if self.failure == "drop":
            raise stripe.APIConnectionError("Connection aborted.")  # ...and the reply was lost
        if self.failure == "500-then-404":
            self.failure = "none"
            self.stale_reads = 1  # the re-read right after the 500 still lags
            raise stripe.APIError("Internal error", http_status=500)
        return _Obj(id=sid, object="source", **src)


class FakeSession:
    mode = "test"
    account_label = "fake"
    max_workers = 2

    def __init__(self, client: FakeStripe) -> None:
        self.client = client

    def require_write(self) -> None:
        pass

    def call(self, fn, *args, write=False, cancel=None, **kwargs):
        return fn(*args, **kwargs)  # no retries here: apply's own detach logic is under test


def detach_plan():
    return plan_detach([{"id": "src_lost1", "customer": "cus_1", "status": "chargeable"}])


def test_lost_reply_then_consumed_counts_as_done(tmp_path):
    fake = FakeStripe("drop")
    outcome = apply(detach_plan(), FakeSession(fake), journal=tmp_path, progress=False)
    assert list(outcome.df["result"]) == ["ok"]
    assert "confirmed detached by re-read" in outcome.df.loc[0, "message"]
    assert fake.deletes == 1  # re-read instead of a blind second DELETE


def test_404_after_a_500_where_the_source_is_consumed_counts_as_done(tmp_path):
    fake = FakeStripe("500-then-404")
    outcome = apply(detach_plan(), FakeSession(fake), journal=tmp_path, progress=False)
    assert list(outcome.df["result"]) == ["ok"]
    assert fake.state["src_lost1"]["status"] == "consumed"
    assert fake.deletes == 2  # the retried DELETE got 404, the re-read then showed consumed
