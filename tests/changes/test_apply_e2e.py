"""apply/undo end to end: the real stripe SDK over HTTP against a fresh sandbox."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
import stripe

from tests.changes.changes_support import (
    TEST_KEY,
    customer_with_sources,
    effective_writes,
    frame_of,
    pick,
    pick_detachable,
    requests_for,
)
from toolkit.changes.journal.reading import load_plan, read_journal
from toolkit.changes.plans.builders import plan_attach, plan_detach, plan_metadata, plan_owner
from toolkit.changes.run.applying import apply
from toolkit.changes.run.outcome import OUTCOME_COLUMNS
from toolkit.changes.run.runner import idempotency_key
from toolkit.changes.run.undoing import undo
from toolkit.errors import InvalidInputError, LiveModeRefused
from toolkit.session import connect

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")


def fill_metadata(session, sid):
    """Give a source exactly 50 metadata keys."""
    session.client.v1.sources.update(sid, {"metadata": ""})
    session.client.v1.sources.update(sid, {"metadata": {f"k{i}": "v" for i in range(50)}})


def meta(box, sid):
    return box.get_source(sid)["metadata"]


def test_set_unset_then_undo_restores_exact_state(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 4)
    box.get_source(ids[0])  # sanity: exists
    # give one source a key to unset and one a key to overwrite, through the API
    fresh_session.client.v1.sources.update(ids[0], {"metadata": {"legacy": "1", "tier": "x"}})
    before = {sid: meta(box, sid) for sid in ids}
    plan = plan_metadata(frame_of(box, ids), set={"tier": "gold", "n": 7}, unset=["legacy"])
    outcome = apply(plan, fresh_session, progress=False)
    assert list(outcome.df.columns) == OUTCOME_COLUMNS
    assert outcome.totals["ok"] == 4 and outcome.ok
    for sid in ids:
        now = meta(box, sid)
        assert now["tier"] == "gold" and now["n"] == "7" and "legacy" not in now
        others = {k: v for k, v in before[sid].items() if k not in ("tier", "n", "legacy")}
        assert {k: now[k] for k in others} == others
    assert all(outcome.df["request_id"].str.startswith("req_"))
    # every POST carried the key of its row in this run
    assert outcome.journal is not None
    run = next(r["run"] for r in read_journal(outcome.journal).records if r["type"] == "run")
    posts = [e for e in box.requests if e.method == "POST" and "legacy" not in str(e.params)]
    assert all(
        e.idempotency_key == idempotency_key(plan.id, run, e.path.split("/")[-1], "update_metadata")
        for e in posts
        if "tier" in e.params.get("metadata", {}) and e.params["metadata"]["tier"] == "gold"
    )
    # the journal records the API version Stripe answered with
    ends = [r for r in read_journal(outcome.journal).records if r.get("event") == "finish"]
    assert ends[-1]["api_version"] == stripe.api_version
    back = undo(outcome.journal, fresh_session, progress=False)
    assert back.totals["ok"] == 4
    assert {sid: meta(box, sid) for sid in ids} == before
    # undo again: nothing left to do, nothing sent
    box.clear_log()
    again = undo(outcome.journal, fresh_session, progress=False)
    assert again.totals["ok"] == 0 and not effective_writes(box)


def test_clear_sends_empty_metadata_and_undo_brings_keys_back(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 2)
    for sid in ids:
        fresh_session.client.v1.sources.update(sid, {"metadata": {"a": "1", "b": "2"}})
    before = {sid: meta(box, sid) for sid in ids}
    outcome = apply(plan_metadata(frame_of(box, ids), clear=True), fresh_session, progress=False)
    assert outcome.totals["ok"] == 2
    assert all(meta(box, sid) == {} for sid in ids)
    sent = [e.params for e in box.requests if e.method == "POST"]
    assert sent[-1]["metadata"] == ""
    assert outcome.journal is not None
    undo(outcome.journal, fresh_session, progress=False)
    assert {sid: meta(box, sid) for sid in ids} == before


def _owned(box, count, *, email_set: bool):
    """Sources whose owner email is set (or empty) and whose address city is set."""
    found = []
    for sid, src in box.store().sources.items():
        owner = src.get("owner") or {}
        city = (owner.get("address") or {}).get("city")
        usable = src.get("customer") and src["status"] != "consumed"
        if bool(owner.get("email")) == email_set and city and usable:
            found.append(sid)
        if len(found) == count:
            return found
    raise AssertionError("the sandbox has too few such sources")


def test_owner_update_and_undo(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = _owned(box, 3, email_set=True)
    before = {sid: box.get_source(sid)["owner"] for sid in ids}
    plan = plan_owner(frame_of(box, ids), email="ops@example.com", address_city="Lyon")
    outcome = apply(plan, fresh_session, progress=False)
    assert outcome.totals["ok"] == 3
    for sid in ids:
        owner = box.get_source(sid)["owner"]
        assert owner["email"] == "ops@example.com" and owner["address"]["city"] == "Lyon"
    assert outcome.journal is not None
    back = undo(outcome.journal, fresh_session, progress=False)
    assert back.totals["ok"] == 3
    for sid in ids:
        owner, old = box.get_source(sid)["owner"], before[sid]
        assert owner["email"] == old["email"]
        assert owner["address"]["city"] == old["address"]["city"]


def test_undo_of_a_filled_empty_owner_field_is_not_possible_and_sends_nothing(
    fresh_sandbox, fresh_session
):
    box = fresh_sandbox
    empty, filled = _owned(box, 1, email_set=False), _owned(box, 1, email_set=True)
    ids = empty + filled
    outcome = apply(
        plan_owner(frame_of(box, ids), email="ops@example.com"), fresh_session, progress=False
    )
    assert outcome.totals["ok"] == 2
    assert outcome.journal is not None
    preview = undo(outcome.journal, fresh_session, dry_run=True, progress=False)
    rows = preview.df.set_index("source")
    assert rows.loc[empty[0], "result"] == "skipped"
    assert "was empty before" in rows.loc[empty[0], "message"]
    assert "Stripe cannot clear owner fields" in rows.loc[empty[0], "message"]
    box.clear_log()
    undo(outcome.journal, fresh_session, progress=False)
    posted = {e.path.rsplit("/", 1)[-1] for e in box.requests if e.method == "POST"}
    assert posted == set(filled)  # nothing sent for the row Stripe would refuse
    assert box.get_source(empty[0])["owner"]["email"] == "ops@example.com"
    assert box.get_source(filled[0])["owner"]["email"] != "ops@example.com"
    assert not any(e.status == 400 for e in box.requests)


def test_invalid_rows_are_skipped_and_valid_rows_applied(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 2)
    fill_metadata(fresh_session, ids[1])
    frame = frame_of(box, [ids[0], ids[1], ids[0]])
    plan = plan_metadata(frame, set={"extra": "1"})
    assert list(plan.df["status"]) == ["ready", "invalid", "invalid"]
    box.clear_log()
    outcome = apply(plan, fresh_session, progress=False)
    assert list(outcome.df["result"]) == ["ok", "skipped", "skipped"]
    assert "51 keys" in outcome.df.loc[1, "message"]
    assert "duplicate" in outcome.df.loc[2, "message"]
    assert effective_writes(box) == {ids[0]: 1}
    assert not requests_for(box, ids[1])  # nothing at all sent for the invalid row


def test_ids_only_plan_checks_limits_and_unknown_ids_at_apply(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 2)
    fill_metadata(fresh_session, ids[1])
    plan = plan_metadata([ids[0], ids[1], "src_doesnotexist00"], set={"extra": "1"})
    assert plan.counts["ready"] == 3
    outcome = apply(plan, fresh_session, progress=False)
    results = list(outcome.df["result"])
    assert results == ["ok", "failed", "failed"]
    assert "51 keys" in outcome.df.loc[1, "message"]
    assert "no such source" in outcome.df.loc[2, "message"]
    assert outcome.df.loc[2, "request_id"].startswith("req_")
    assert len(outcome.failed) == 2


def test_drift_refused_dry_run_reports_it_and_overwrite_writes(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 3)
    plan = plan_metadata(frame_of(box, ids), set={"tier": "gold"})
    # someone else changes tier on one source after the plan was made
    fresh_session.client.v1.sources.update(ids[1], {"metadata": {"tier": "bronze"}})
    box.clear_log()
    preview = apply(plan, fresh_session, dry_run=True, progress=False)
    assert list(preview.df["result"]) == ["would_apply", "drifted", "would_apply"]
    assert "bronze" in preview.df.loc[1, "message"]
    assert preview.journal is None
    assert all(e.method == "GET" for e in box.requests)  # a dry run never writes
    outcome = apply(plan, fresh_session, progress=False)
    assert list(outcome.df["result"]) == ["ok", "drifted", "ok"]
    assert meta(box, ids[1])["tier"] == "bronze"
    assert not requests_for(box, ids[1], "POST")
    assert len(outcome.drifted) == 1
    forced = apply(plan, fresh_session, progress=False, on_drift="overwrite")
    assert list(forced.df["result"]) == ["skipped", "ok", "skipped"]
    assert meta(box, ids[1])["tier"] == "gold"
    assert forced.journal is not None
    begin = [r for r in read_journal(forced.journal).records if r["type"] == "begin"][-1]
    assert begin["before"]["tier"] == "bronze" and "bronze" in begin["drift"]
    # undo restores each source to its state right before our write: bronze for the drifted one
    originals = {
        sid: dict(row["before"]) for sid, row in zip(ids, plan.df.to_dict("records"), strict=True)
    }
    undo(forced.journal, fresh_session, progress=False)
    assert meta(box, ids[1])["tier"] == "bronze"
    assert meta(box, ids[0]) == originals[ids[0]] and meta(box, ids[2]) == originals[ids[2]]
    with pytest.raises(InvalidInputError, match="on_drift"):
        apply(plan, fresh_session, on_drift="ignore")


def test_journal_file_records_and_resume(fresh_sandbox, fresh_session, tmp_path):
    box = fresh_sandbox
    ids = pick(box, 3)
    plan = plan_metadata(frame_of(box, ids), set={"j": "1"})
    folder = tmp_path / "jr"
    outcome = apply(plan, fresh_session, progress=False, journal=folder)
    path = outcome.journal
    assert path == folder / f"{plan.id}.jsonl"
    assert path is not None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert "client_secret" not in text and TEST_KEY not in text and "sk_test" not in text
    records = [json.loads(line) for line in text.splitlines()]
    types = [r["type"] for r in records]
    assert types[0] == "plan" and types[1] == "run" and types[-1] == "run"
    assert types.count("begin") == 3 and types.count("end") == 3
    ends = [r for r in records if r["type"] == "end"]
    assert all(r["after"]["j"] == "1" and r["result"] == "ok" for r in ends)
    begins = [r for r in records if r["type"] == "begin"]
    assert all("j" not in r["before"] for r in begins)
    box.clear_log()
    again = apply(load_plan(path), fresh_session, progress=False, resume=path)
    assert again.totals["skipped"] == 3 and not box.requests
    other = plan_metadata(frame_of(box, ids), set={"j": "2"})
    with pytest.raises(InvalidInputError, match="journal of plan"):
        apply(other, fresh_session, resume=path)


def test_progress_callable_and_cancel(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 6)
    plan = plan_metadata(frame_of(box, ids), set={"c": "1"})
    cancel = threading.Event()
    seen = []

    def progress(done, total, label):
        seen.append((done, total, label))
        if done >= 2:
            cancel.set()

    # each write answers 0.3 s late: the cancel lands while rows are left, however busy the box
    box.set_faults(latency=0.3, fault_method="POST")
    try:
        outcome = apply(plan, fresh_session, progress=progress, cancel=cancel, max_workers=1)
    finally:
        box.faults_off()
    assert seen[0] == (0, 6, "applying update_metadata")
    totals = outcome.totals
    assert totals["ok"] >= 2 and totals["canceled"] >= 1
    assert totals["ok"] + totals["canceled"] == 6
    assert outcome.journal is not None
    state = read_journal(outcome.journal)
    assert not state.pending  # every begin has its end
    assert effective_writes(box) == {sid: 1 for sid in outcome.df[outcome.df.result == "ok"].source}
    rest = apply(plan, fresh_session, progress=False)  # a re-run finishes the canceled rows
    assert rest.totals["ok"] == totals["canceled"] and rest.totals["skipped"] == totals["ok"]
    assert all(meta(box, sid)["c"] == "1" for sid in ids)


def test_detach_cannot_be_undone_and_rerun_is_safe(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick_detachable(box, 2)  # receivers holding money are never detached
    consumed = pick(box, 1, statuses=("consumed",))
    frame = frame_of(box, ids + consumed)
    plan = plan_detach(frame)
    assert plan.irreversible and list(plan.df["status"]) == ["ready", "ready", "invalid"]
    outcome = apply(plan, fresh_session, progress=False)
    assert list(outcome.df["result"]) == ["ok", "ok", "skipped"]
    assert all(box.get_source(sid)["status"] == "consumed" for sid in ids)
    assert all(e.idempotency_key is None for e in box.requests if e.method == "DELETE")
    # the same selection planned again from the stale frame: checked first, nothing sent
    box.clear_log()
    stale = apply(plan_detach(frame), fresh_session, progress=False)
    assert list(stale.df["result"])[:2] == ["skipped", "skipped"]
    assert "already consumed" in stale.df.loc[0, "message"]
    assert not [e for e in box.requests if e.method == "DELETE"]
    with pytest.raises(InvalidInputError, match="cannot be undone"):
        assert outcome.journal is not None
        undo(outcome.journal, fresh_session)


def test_attach_rules_end_to_end(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    free = [sid for sid in box.unattached_ids if box.get_source(sid)["status"] == "pending"]
    customer = next(iter(box.store().customers))
    consumed = pick(box, 1, statuses=("consumed",))[0]
    plan = plan_attach([(free[0], customer), (consumed, customer)])  # ids only: checked live
    outcome = apply(plan, fresh_session, progress=False)
    assert list(outcome.df["result"]) == ["ok", "failed"]
    assert "chargeable or pending" in outcome.df.loc[1, "message"]
    assert box.get_source(free[0])["customer"] == customer
    assert effective_writes(box)[free[0]] == 1
    with pytest.raises(InvalidInputError, match="Attach is not undone"):
        assert outcome.journal is not None
        undo(outcome.journal, fresh_session)


def test_live_mode_refused_without_allow_live(fresh_sandbox):
    live = connect("sk_live_" + "L1ve" * 6, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True)
    sid = next(iter(fresh_sandbox.store(livemode=True).sources))
    plan = plan_metadata([sid], set={"x": "1"})
    fresh_sandbox.clear_log()
    with pytest.raises(LiveModeRefused, match="allow_live"):
        apply(plan, live, progress=False)
    assert not fresh_sandbox.requests
    assert apply(plan, live, dry_run=True, progress=False).totals["would_apply"] == 1
    allowed = connect(
        "sk_live_" + "L1ve" * 6,
        api_base=fresh_sandbox.url,
        rate_limit=1000,
        quiet=True,
        allow_live=True,
    )
    # a live write also needs a second person's approval, or the waiver (issue 28)
    assert apply(plan, allowed, progress=False, require_approval=False).totals["ok"] == 1


def test_outcome_displays(fresh_sandbox, fresh_session):
    ids = pick(fresh_sandbox, 2)
    outcome = apply(plan_metadata(ids, set={"d": "1"}), fresh_session, progress=False)
    assert "2 ok" in repr(outcome) and "2</b> ok" in outcome._repr_html_()
    assert str(outcome.journal) in outcome._repr_html_()


def test_rows_of_one_customer_are_read_with_one_list_request(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    customer, ids = customer_with_sources(box, 3)
    frame = frame_of(box, ids)
    # one of them is detached after the plan: not in the customer's list any more
    fresh_session.client.v1.sources.detach(customer, ids[2])
    box.clear_log()
    outcome = apply(plan_metadata(frame, set={"grp": "1"}), fresh_session, progress=False)
    assert outcome.totals["ok"] == 3
    gets = [e.path for e in box.requests if e.method == "GET"]
    assert gets.count(f"/v1/customers/{customer}/sources") == 1
    assert gets.count(f"/v1/sources/{ids[2]}") == 1  # the one missing from the list, by id
    assert not [p for p in gets if p in (f"/v1/sources/{ids[0]}", f"/v1/sources/{ids[1]}")]
    assert effective_writes(box) == dict.fromkeys(ids, 1)
