"""Journals: append-only JSON lines, 0600, flushed per record, tolerant of a cut last line."""

from __future__ import annotations

import json
import os
import stat

import pytest

from toolkit.errors import InvalidInputError
from toolkit.journal import DEFAULT_FOLDER, Journal, journal_path, read_journal, scrub


def test_records_are_flushed_at_once_and_private(tmp_path):
    path = tmp_path / "j" / "plan_x.jsonl"
    journal = Journal(path)
    journal.write({"type": "plan", "plan_id": "plan_x", "rows": []})
    journal.write({"type": "begin", "row": 1, "source": "src_1", "before": {"a": "1"}})
    # readable by another reader before close: flushed per record
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["source"] == "src_1"
    assert "time" in json.loads(lines[0])
    journal.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_secrets_never_written(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as journal:
        journal.write(
            {
                "type": "end",
                "after": {"client_secret": "src_client_secret_abc", "metadata": {"k": "v"}},
                "api_key": "sk_test_123",
                "idempotency_key": "toolkit:x",
            }
        )
    text = path.read_text()
    assert "client_secret" not in text and "sk_test" not in text and "idempotency" not in text
    assert scrub([{"Client_Secret": 1, "x": 2}]) == [{"x": 2}]


def test_state_done_pending_and_damaged_tail(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as journal:
        journal.write({"type": "plan", "plan_id": "plan_y", "kind": "metadata", "rows": []})
        journal.write({"type": "begin", "row": 1, "source": "src_1", "before": {}})
        journal.write({"type": "end", "row": 1, "source": "src_1", "result": "ok", "after": {}})
        journal.write({"type": "begin", "row": 2, "source": "src_2", "before": {"a": "1"}})
        journal.write({"type": "begin", "row": 3, "source": "src_3", "before": {}})
        journal.write({"type": "end", "row": 3, "source": "src_3", "result": "failed"})
    with open(path, "a") as handle:
        handle.write('{"type": "end", "row": 2, "sou')  # the process died mid-write
    state = read_journal(path)
    assert state.plan_id == "plan_y"
    assert set(state.done) == {(1, "src_1")}
    assert set(state.pending) == {(2, "src_2")}
    assert state.damaged_lines == 1
    assert state.before_of((1, "src_1")) == {}
    assert state.before_of((2, "src_2")) is None  # not done
    # appending after a cut line starts on a fresh line
    with Journal(path) as journal:
        journal.write({"type": "end", "row": 2, "source": "src_2", "result": "ok"})
    state = read_journal(path)
    assert set(state.done) == {(1, "src_1"), (2, "src_2")} and not state.pending
    assert state.before_of((2, "src_2")) == {"a": "1"}


def test_journal_path_rules(tmp_path):
    assert journal_path(None, "plan_a") == DEFAULT_FOLDER / "plan_a.jsonl"
    assert journal_path(tmp_path, "plan_a") == tmp_path / "plan_a.jsonl"
    assert journal_path(tmp_path / "mine.jsonl", "plan_a") == tmp_path / "mine.jsonl"
    assert journal_path(tmp_path / "newfolder", "plan_a") == tmp_path / "newfolder" / "plan_a.jsonl"
    with pytest.raises(InvalidInputError, match="No journal"):
        read_journal(tmp_path / "missing.jsonl")
