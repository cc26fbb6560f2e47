"""Apply and undo report the reads (GETs) they sent, checked against the sandbox's request log,
and are held to the read allowance: refused before anything is sent when their fewest re-reads
would pass it, stopped at the limit with the journal consistent otherwise (issue 23 item 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

import toolkit
from tests.changes.changes_support import TEST_KEY
from toolkit.errors import ReadAllowanceError
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect


def _session(box: Sandbox, tmp_path: Path, **options) -> Session:
    options.setdefault("read_ledger", tmp_path / "reads.jsonl")
    return connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True, **options)


def _gets(box: Sandbox, mark: int) -> int:
    return sum(1 for e in box.requests[mark:] if e.method == "GET")


def _writes(box: Sandbox, mark: int) -> int:
    return sum(1 for e in box.requests[mark:] if e.method in ("POST", "DELETE"))


def test_apply_and_undo_report_the_gets_they_sent(tmp_path: Path) -> None:
    with Sandbox(seed=5, customers=60) as box:
        session = _session(box, tmp_path)
        sources = toolkit.load_sources(session, progress=False)
        plan = toolkit.plan_metadata(sources.head(25), set={"reads": "counted"})
        for dry_run in (True, False):
            mark = len(box.requests)
            outcome = toolkit.apply(
                plan, session, dry_run=dry_run, journal=tmp_path / "j", progress=False
            )
            assert outcome.reads == _gets(box, mark) > 0
        mark = len(box.requests)
        assert outcome.journal is not None
        back = toolkit.undo(outcome.journal, session, progress=False)
        assert back.reads == _gets(box, mark) > 0
        assert back.ok


def test_an_apply_whose_rereads_would_pass_the_allowance_sends_nothing(tmp_path: Path) -> None:
    with Sandbox(seed=5, customers=60) as box:
        loader = _session(box, tmp_path)
        sources = toolkit.load_sources(loader, progress=False)
        ids = sources[sources["customer"].notna()]["id"].tolist()[:30]
        # bare ids: nothing is known of the sources, so each row is re-read by id
        plan = toolkit.plan_metadata(ids, set={"tier": "gold"})
        session = _session(box, tmp_path, read_allowance=10)
        mark = len(box.requests)
        with pytest.raises(ReadAllowanceError) as info:
            toolkit.apply(plan, session, journal=tmp_path / "j", progress=False)
        assert len(box.requests) == mark  # nothing was sent
        assert info.value.cost is not None and info.value.cost > 10
        assert (
            not (tmp_path / "j" / f"{plan.id}.jsonl").exists()
            or not (tmp_path / "j" / f"{plan.id}.jsonl").read_text().strip()
        )


def test_a_read_refused_mid_run_stops_it_and_resume_finishes(tmp_path: Path) -> None:
    with Sandbox(seed=5, customers=60, read_allocation=12) as box:
        session = _session(box, tmp_path)
        ids = [sid for sid, src in box.store().sources.items() if src.get("customer")][:8]
        # bare ids: eight reads by id at least, four left after the first ones: the sandbox (as
        # Stripe would) refuses the read that passes its allocation
        plan = toolkit.plan_metadata(ids, set={"tier": "gold"})
        for _ in range(8):  # spend most of the sandbox's allocation
            session.retrieve_source(ids[0])
        mark = len(box.requests)
        with pytest.raises(ReadAllowanceError) as info:
            toolkit.apply(plan, session, journal=tmp_path / "j", progress=False, max_workers=1)
        outcome = info.value.partial
        assert isinstance(outcome, toolkit.Outcome)
        assert outcome.reads == _gets(box, mark)
        done = outcome.totals["ok"]
        assert 0 < done < len(ids) and outcome.totals["canceled"] == len(ids) - done
        assert _writes(box, mark) == done
        assert "resume" in str(info.value)
        journal = tmp_path / "j" / f"{plan.id}.jsonl"
        box.limits.reads.reset()  # a new month
        fresh = _session(box, tmp_path)
        resumed = toolkit.apply(toolkit.load_plan(journal), fresh, resume=journal, progress=False)
        assert resumed.totals["ok"] == len(ids) - done and resumed.totals["skipped"] == done
