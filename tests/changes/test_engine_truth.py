"""The change engine never reports a write that did not happen, and undo restores exactly.

- a key belongs to one journaled attempt: apply, undo, apply again writes again;
- a replayed answer is not proof: the row counts only when the source shows the new state;
- journals keep customer data exactly (a metadata key named ``secret`` survives);
- undo right after a crash undoes what landed and reports what stays uncertain.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import toolkit
from tests.changes.changes_support import effective_writes, frame_of, pick, rewrite_journal
from toolkit.changes.journal.reading import read_journal
from toolkit.changes.journal.writer import Journal
from toolkit.redact import replace_values

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")


def meta(box, sid):
    return box.get_source(sid)["metadata"]


def drop_end_records(journal: Path, sources: set[str]) -> None:
    """Make the journal look as if the process died right after sending these rows' requests."""
    rewrite_journal(journal, lambda r: not (r.get("type") == "end" and r.get("source") in sources))


def test_apply_undo_apply_writes_again(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 5)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"squad": "ar"})
    first = toolkit.apply(plan, fresh_session, progress=False)
    assert first.totals["ok"] == 5
    assert first.journal is not None
    back = toolkit.undo(first.journal, fresh_session, progress=False)
    assert back.totals["ok"] == 5
    assert all("squad" not in meta(box, sid) for sid in ids)
    box.clear_log()
    again = toolkit.apply(plan, fresh_session, progress=False)
    # the undo is recorded in the plan's journal: the rows are no longer done
    assert again.totals["ok"] == 5, again.df[["source", "result", "message"]]
    assert all(meta(box, sid)["squad"] == "ar" for sid in ids)
    assert effective_writes(box) == dict.fromkeys(ids, 1)  # really written, not replayed
    assert not any(e.replayed for e in box.requests)


def test_new_journal_after_undo_writes_again(fresh_sandbox, fresh_session, tmp_path):
    box = fresh_sandbox
    ids = pick(box, 3)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"squad": "ar"})
    first = toolkit.apply(plan, fresh_session, progress=False, journal=tmp_path / "one")
    assert first.journal is not None
    toolkit.undo(first.journal, fresh_session, progress=False)
    # the same plan from another folder (or after deleting journals/): a new run, new keys
    again = toolkit.apply(plan, fresh_session, progress=False, journal=tmp_path / "two")
    assert again.totals["ok"] == 3
    assert all(meta(box, sid)["squad"] == "ar" for sid in ids)


def test_each_run_has_its_own_keys_and_the_journal_records_the_run(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 2)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"squad": "ar"})
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    assert outcome.journal is not None
    toolkit.undo(outcome.journal, fresh_session, progress=False)
    toolkit.apply(plan, fresh_session, progress=False)
    keys = [e.idempotency_key for e in box.requests if e.method == "POST"]
    assert len(keys) == 6 and len(set(keys)) == 6  # apply, undo, apply: six attempts, six keys
    state = read_journal(outcome.journal)
    runs = [r for r in state.records if r["type"] == "run" and r["event"] == "start"]
    assert len(runs) == 2 and runs[0]["run"] != runs[1]["run"]
    begins = [r for r in state.records if r["type"] == "begin"]
    assert {b["run"] for b in begins} == {runs[0]["run"], runs[1]["run"]}


def test_a_replayed_answer_that_does_not_show_the_change_is_not_counted(
    fresh_sandbox, fresh_session
):
    box = fresh_sandbox
    ids = pick(box, 2)
    before = {sid: meta(box, sid) for sid in ids}
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"squad": "ar"})
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    # the process died right after the request for ids[0] (no end record); then someone put
    # the source back as it was, so resuming replays the first answer under the same key
    assert outcome.journal is not None
    drop_end_records(outcome.journal, {ids[0]})
    fresh_session.client.v1.sources.update(ids[0], {"metadata": {"squad": ""}})
    assert meta(box, ids[0]) == before[ids[0]]
    resumed = toolkit.apply(
        toolkit.load_plan(outcome.journal), fresh_session, resume=outcome.journal, progress=False
    )
    row = resumed.df.set_index("source").loc[ids[0]]
    assert row["result"] != "ok", row.to_dict()
    assert "replayed" in row["message"].lower()
    assert meta(box, ids[0]) == before[ids[0]]
    # a new run after that writes it for real, with a new key
    final = toolkit.apply(plan, fresh_session, progress=False)
    assert final.df.set_index("source").loc[ids[0], "result"] == "ok"
    assert meta(box, ids[0])["squad"] == "ar"


def test_metadata_keys_named_like_secrets_are_kept_exactly(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 3)
    odd = {"secret": "s1", "api_key": "k1", "authorization": "a1", "idempotency_key": "i1"}
    for sid in ids:
        fresh_session.client.v1.sources.update(sid, {"metadata": odd})
    before = {sid: meta(box, sid) for sid in ids}
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"secret": "s2", "client_secret": "c2"})
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    assert outcome.totals["ok"] == 3
    assert outcome.journal is not None
    state = read_journal(outcome.journal)
    begin = next(r for r in state.records if r["type"] == "begin")
    assert begin["before"]["secret"] == "s1" and begin["before"]["api_key"] == "k1"
    assert begin["params"]["metadata"] == {"secret": "s2", "client_secret": "c2"}
    # a plan rebuilt from the journal keeps every key
    rebuilt = toolkit.load_plan(outcome.journal)
    assert rebuilt.df.loc[0, "params"]["metadata"] == {"secret": "s2", "client_secret": "c2"}
    back = toolkit.undo(outcome.journal, fresh_session, progress=False)
    assert back.totals["ok"] == 3
    assert {sid: meta(box, sid) for sid in ids} == before


def test_journal_removes_secrets_by_path_and_value(tmp_path):
    key = "sk_test_" + "Zz9" * 8
    path = tmp_path / "j.jsonl"
    with Journal(path, mask=lambda value: replace_values(value, [key])) as journal:
        journal.write(
            {
                "type": "end",
                "response": {"object": "source", "id": "src_1", "client_secret": "src_client_x"},
                "message": f"refused for {key}",
                "after": {"client_secret": "kept", "object": "source"},
                "params": {"metadata": {"client_secret": "kept", "secret": "kept too"}},
            }
        )
    record = json.loads(path.read_text())
    assert "client_secret" not in record["response"]  # a source's own secret, by path
    assert key not in path.read_text()  # the API key, by value
    assert record["after"] == {"client_secret": "kept", "object": "source"}  # customer data
    assert record["params"]["metadata"] == {"client_secret": "kept", "secret": "kept too"}


def test_undo_right_after_a_crash_undoes_what_landed(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 5)
    before = {sid: meta(box, sid) for sid in ids}
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"squad": "ar"})
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    landed, not_landed = ids[2], ids[3]
    # the process died with requests in flight: one landed, one never reached Stripe
    assert outcome.journal is not None
    drop_end_records(outcome.journal, {landed, not_landed})
    fresh_session.client.v1.sources.update(not_landed, {"metadata": {"squad": ""}})
    back = toolkit.undo(outcome.journal, fresh_session, progress=False)
    assert {sid: meta(box, sid) for sid in ids} == before
    by_source = back.df.set_index("source")
    assert by_source.loc[landed, "result"] == "ok"
    assert by_source.loc[not_landed, "result"] == "skipped"
    assert "not landed" in by_source.loc[not_landed, "message"]
    assert back.totals["failed"] == 0 and back.totals["uncertain"] == 0 and back.ok


def test_undo_reports_what_stays_uncertain(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 3)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"squad": "ar"})
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    assert outcome.journal is not None
    drop_end_records(outcome.journal, {ids[1]})
    # neither the state before nor the planned one: someone else wrote it since
    fresh_session.client.v1.sources.update(ids[1], {"metadata": {"squad": "someone-else"}})
    back = toolkit.undo(outcome.journal, fresh_session, progress=False)
    row = back.df.set_index("source").loc[ids[1]]
    assert row["result"] == "uncertain"
    assert meta(box, ids[1])["squad"] == "someone-else"  # left as it is
    assert not back.ok
    assert back.totals["uncertain"] == 1
    assert "0 failed" not in back.headline() and "1 uncertain" in back.headline()
    assert "0 failed" not in repr(back) and "uncertain" in back._repr_html_()
