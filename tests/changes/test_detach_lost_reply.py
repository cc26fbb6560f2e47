"""Detach (a DELETE without idempotency key) when the reply is lost after Stripe acted.

End to end, the sandbox's ``lost_reply`` fault handles the DELETE and then closes the connection
without answering. The 500-then-404 case (Stripe acted, answered 500, the retry finds nothing)
is a narrow unit test of the detach kind against a stand-in session that raises the toolkit's own
errors, as the real session maps them.
"""

from __future__ import annotations

import threading

import toolkit
from tests.changes.changes_support import TEST_KEY, frame_of, pick_detachable
from toolkit.changes.kinds import kind_of
from toolkit.errors import NotFoundError, StripeRequestError
from toolkit.sandbox import Sandbox


def test_lost_reply_then_consumed_counts_as_done(tmp_path):
    with Sandbox(seed=3, customers=20) as box:
        session = toolkit.connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
        sid = pick_detachable(box, 1)[0]
        plan = toolkit.plan_detach(frame_of(box, [sid]))
        box.set_faults(lost_reply_rate=1.0, fault_method="DELETE")
        outcome = toolkit.apply(plan, session, journal=tmp_path, progress=False)
        box.faults_off()
        assert list(outcome.df["result"]) == ["ok"], outcome.df["message"].tolist()
        assert "confirmed detached by re-read" in outcome.df.loc[0, "message"]
        deletes = [e for e in box.requests if e.method == "DELETE"]
        assert len(deletes) == 1 and deletes[0].fault == "lost_reply"  # no blind second DELETE
        assert box.get_source(sid)["status"] == "consumed"


class StandIn:
    """A session whose DELETE lands, answers 500, and whose first re-read still lags."""

    def __init__(self) -> None:
        self.state = {"customer": "cus_1", "status": "chargeable"}
        self.deletes = 0
        self.stale_reads = 1

    def detach_source(self, customer, source, *, cancel=None):
        self.deletes += 1
        if self.state["status"] == "consumed":
            raise NotFoundError("Detaching failed: HTTP 404", status=404, detail="HTTP 404")
        self.state["status"] = "consumed"  # Stripe acted...
        raise StripeRequestError("Detaching failed: HTTP 500", status=500, uncertain=True)

    def retrieve_source(self, source, *, cancel=None):
        if self.stale_reads:
            self.stale_reads -= 1
            return {"id": source, "object": "source", "customer": "cus_1", "status": "chargeable"}
        return {"id": source, "object": "source", **self.state}


def test_404_after_a_500_where_the_source_is_consumed_counts_as_done():
    stand_in = StandIn()
    change = kind_of("detach")
    row = {"row": 1, "source": "src_lost1", "customer": "cus_1", "params": {"customer": "cus_1"}}

    def reread(source):
        return change.state_of(stand_in.retrieve_source(source))

    # a stand-in session and a partial row: only what a detach reads
    written = change.write(stand_in, row, "unused", threading.Event(), reread)  # type: ignore[arg-type]
    assert written.after == {"customer": None, "status": "consumed"}
    assert "confirmed detached by re-read" in written.message
    assert stand_in.deletes == 2  # the retried DELETE got 404, the re-read then showed consumed
