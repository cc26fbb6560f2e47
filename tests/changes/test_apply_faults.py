"""Under faults (500s, 429 bursts, dropped connections, 200 ms latency) no row is lost or doubled."""

from __future__ import annotations

import pytest

from tests.changes.changes_support import (
    TEST_KEY,
    customer_with_sources,
    effective_writes,
    frame_of,
    pick,
    pick_detachable,
)
from toolkit.changes.plans.builders import plan_detach, plan_metadata
from toolkit.changes.run.applying import apply
from toolkit.sandbox import Sandbox
from toolkit.session import connect

pytestmark = [pytest.mark.usefixtures("in_tmp_cwd"), pytest.mark.slow]

FAULTS = {"latency": 0.2, "error_rate": 0.2, "drop_rate": 0.1, "rate_limit": 6}


@pytest.fixture
def faulty():
    with Sandbox(seed=5, customers=30) as box:
        yield box


def run_until_done(plan, session, box, applied, attempts=6):
    """Apply, then re-apply the same plan while rows remain failed: return every outcome.

    After each run the outcome must match the sandbox: ``applied(source_id)`` is True exactly
    for the rows that ended ok (now or in an earlier run).
    """
    outcomes = []
    for _ in range(attempts):
        outcome = apply(plan, session, progress=False, max_workers=8)
        outcomes.append(outcome)
        assert len(outcome.df) == len(plan.df)  # no row lost
        for row in outcome.df.to_dict("records"):
            assert row["result"] in ("ok", "skipped", "failed")
            if row["result"] != "ok":
                assert row["message"]  # always a reason
            if row["result"] == "failed":
                assert not applied(row["source"]), row
            else:
                assert applied(row["source"]), row
        if outcome.totals["failed"] == 0:
            break
    return outcomes


def test_metadata_under_faults_each_row_written_once(faulty):
    box = faulty
    _, grouped = customer_with_sources(box, 3)  # read together with one list request
    ids = sorted(set(pick(box, 8)) | set(grouped))
    plan = plan_metadata(frame_of(box, ids), set={"batch": "f1"})
    session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True, max_retries=4)
    box.clear_log()
    box.set_faults(**FAULTS)
    outcomes = run_until_done(
        plan, session, box, lambda sid: box.get_source(sid)["metadata"].get("batch") == "f1"
    )
    box.faults_off()
    first = outcomes[0]
    # the first run's outcome matches the sandbox: ok rows changed, failed rows written 0 times
    writes = effective_writes(box)
    for row in first.df.to_dict("records"):
        if row["result"] == "ok":
            assert row["after"]["batch"] == "f1"
    # in the end every row is applied exactly once, whatever was retried or re-run
    assert outcomes[-1].totals["failed"] == 0
    assert {sid: box.get_source(sid)["metadata"].get("batch") for sid in ids} == dict.fromkeys(
        ids, "f1"
    )
    assert writes == dict.fromkeys(ids, 1)
    faults_seen = {e.fault for e in box.requests}
    assert {"error", "drop", "rate_limit"} <= faults_seen
    retried = [e for e in box.requests if e.method == "POST" and e.status != 200]
    assert retried  # the faults really hit the writes


def test_detach_under_faults_each_source_deleted_once(faulty):
    box = faulty
    ids = pick_detachable(box, 6)  # receivers holding money are never detached
    plan = plan_detach(frame_of(box, ids))
    session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True, max_retries=4)
    box.clear_log()
    box.set_faults(**FAULTS)
    outcomes = run_until_done(
        plan, session, box, lambda sid: box.get_source(sid)["status"] == "consumed"
    )
    box.faults_off()
    assert outcomes[-1].totals["failed"] == 0
    assert all(box.get_source(sid)["status"] == "consumed" for sid in ids)
    assert effective_writes(box, "DELETE") == dict.fromkeys(ids, 1)
