"""Journals: append-only JSON lines, 0600, flushed per record, tolerant of a line cut by a crash."""

from __future__ import annotations

import json
import os
import stat

import pytest

from toolkit.changes.journal.file import DEFAULT_FOLDER, journal_path
from toolkit.changes.journal.reading import read_journal
from toolkit.changes.journal.writer import Journal
from toolkit.changes.plans.builders import plan_metadata
from toolkit.errors import InvalidInputError
from toolkit.redact import replace_values


def header(*sources: str) -> dict:
    plan = plan_metadata(list(sources), set={"a": "1"})
    return {"plan_id": plan.id, "kind": "metadata", "action": plan.action, "rows": plan.rows()}


def test_records_are_flushed_at_once_and_private(tmp_path):
    path = tmp_path / "j" / "plan_x.jsonl"
    journal = Journal(path)
    journal.write_plan(header("src_1abc"))
    journal.write({"type": "begin", "row": 1, "source": "src_1abc", "params": {}, "before": {}})
    # readable by another reader before close: flushed per record
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["source"] == "src_1abc"
    assert "time" in json.loads(lines[0]) and "digest" in json.loads(lines[0])
    journal.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_secrets_never_written_but_customer_data_is_kept(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as journal:
        journal.write(
            {
                "type": "end",
                "response": {"object": "source", "id": "src_1", "client_secret": "src_client_x"},
                "message": "refused sk_test_" + "A1b2" * 6,
                "after": {"metadata_key_client_secret": "x", "api_key": "customer value"},
            }
        )
    text = path.read_text()
    assert "src_client_x" not in text and "A1b2A1b2A1b2" not in text
    assert json.loads(text)["after"] == {
        "metadata_key_client_secret": "x",
        "api_key": "customer value",
    }


def test_the_session_key_is_masked_wherever_it_is_and_the_chain_holds(tmp_path):
    key = "sk_test_" + "K3yz" * 6
    path = tmp_path / "j.jsonl"
    with Journal(path, mask=lambda value: replace_values(value, [key])) as journal:
        plan = header("src_1abc")
        journal.write_plan({**plan, "notes": [f"made with {key}"]})
        journal.write({"type": "begin", "row": 1, "source": "src_1abc", "action": plan["action"],
                       "params": {"metadata": {"note": key}}, "before": {"k": key}})  # fmt: skip
        journal.write({"type": "skip", "row": 1, "source": "src_1abc", "message": "no key here"})
    text = path.read_text()
    assert key not in text and text.count("sk_test_…K3yz") == 3
    state = read_journal(path)  # the digest and the chain check out
    assert state.plan is not None and state.plan["notes"] == ["made with sk_test_…K3yz"]
    assert [r["type"] for r in state.records][-2:] == ["begin", "skip"]


def test_state_done_pending_and_damaged_tail(tmp_path):
    path = tmp_path / "j.jsonl"
    sources = ("src_1abc", "src_2abc", "src_3abc")
    with Journal(path) as journal:
        journal.write_plan(header(*sources))
        journal.write({"type": "run", "event": "start", "run": "run_1"})
        for row, source in enumerate(sources, start=1):
            journal.write(
                {"type": "begin", "row": row, "source": source, "params": {}, "before": {}}
            )
        journal.write({"type": "end", "row": 1, "source": "src_1abc", "result": "ok"})
        journal.write({"type": "end", "row": 3, "source": "src_3abc", "result": "failed"})
    with open(path, "a") as handle:
        handle.write('{"type": "end", "row": 2, "sou')  # the process died mid-write
    state = read_journal(path)
    assert set(state.done) == {(1, "src_1abc")}
    assert set(state.pending) == {(2, "src_2abc")}
    assert state.attempt_of((2, "src_2abc")) is None  # begun without a run id
    assert state.damaged_lines == 1
    assert state.before_of((1, "src_1abc")) == {}
    # appending after a cut line starts on a fresh line, and a new run makes it acceptable
    with Journal(path) as journal:
        journal.write({"type": "run", "event": "start", "run": "run_2"})
        journal.write({"type": "end", "row": 2, "source": "src_2abc", "result": "ok"})
    state = read_journal(path)
    assert set(state.done) == {(1, "src_1abc"), (2, "src_2abc")} and not state.pending
    # an undo takes a row out of done; the row is pending no more either
    with Journal(path) as journal:
        journal.write({"type": "undone", "row": 1, "source": "src_1abc", "by": "x-undo"})
    assert set(read_journal(path).done) == {(2, "src_2abc")}


def test_journal_path_rules(tmp_path):
    assert journal_path(None, "plan_a") == DEFAULT_FOLDER / "plan_a.jsonl"
    assert journal_path(tmp_path, "plan_a") == tmp_path / "plan_a.jsonl"
    assert journal_path(tmp_path / "mine.jsonl", "plan_a") == tmp_path / "mine.jsonl"
    assert journal_path(tmp_path / "newfolder", "plan_a") == tmp_path / "newfolder" / "plan_a.jsonl"
    with pytest.raises(InvalidInputError, match="No journal"):
        read_journal(tmp_path / "missing.jsonl")


def test_unicode_line_separators_in_customer_data_stay_on_their_line(tmp_path):
    """U+2028, U+0085 and friends are data inside a JSON string, not line breaks."""
    path = tmp_path / "j.jsonl"
    plan = plan_metadata(["src_1abc"], set={"note": "a\u2028b\x85c\u2029d\x1ce"})
    with Journal(path) as journal:
        journal.write_plan(
            {"plan_id": plan.id, "kind": "metadata", "action": plan.action, "rows": plan.rows()}
        )
    state = read_journal(path)
    assert state.plan is not None
    assert state.plan["rows"][0]["params"]["metadata"]["note"] == "a\u2028b\x85c\u2029d\x1ce"
