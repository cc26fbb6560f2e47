"""A journal's records are chained: each carries the hash of the record line before it.

An edited, removed or reordered line is found when the journal is read (undo, resume,
load_plan), naming the file and the line; undo writes back no before-state the chain does not
prove; journals written before the chain are read but neither resumed nor undone.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import toolkit
from tests.changes.changes_support import frame_of, pick, rewrite_journal
from toolkit.changes.journal.reading import read_journal
from toolkit.changes.plans.record import digest_of

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")


def applied(box, session, n=3):
    ids = pick(box, n)
    for sid in ids:
        session.client.v1.sources.update(sid, {"metadata": {"tier": "silver"}})
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"tier": "gold"})
    outcome = toolkit.apply(plan, session, progress=False)
    assert outcome.totals["ok"] == n
    return ids, plan, outcome.journal


def lines_of(path: Path) -> list[str]:
    return path.read_text().splitlines()


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


def line_of(path: Path, wanted) -> int:
    """The 0-based index of the first line whose record ``wanted`` accepts."""
    return next(i for i, line in enumerate(lines_of(path)) if wanted(json.loads(line)))


def writes(box) -> list:
    return [e for e in box.requests if e.method in ("POST", "DELETE")]


def test_an_edited_before_state_is_refused_by_undo(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids, plan, journal = applied(box, fresh_session)
    lines = lines_of(journal)
    index = line_of(journal, lambda r: r["type"] == "begin")
    record = json.loads(lines[index])
    record["before"]["tier"] = "platinum-forged"  # a value that never existed
    lines[index] = json.dumps(record, ensure_ascii=False)
    write_lines(journal, lines)
    box.clear_log()
    for attempt in (
        lambda: toolkit.undo(journal, fresh_session, progress=False),
        lambda: toolkit.apply(plan, fresh_session, resume=journal, progress=False),
        lambda: toolkit.load_plan(journal),
    ):
        with pytest.raises(toolkit.InvalidInputError) as info:
            attempt()
        message = str(info.value)
        assert f"{journal}, line {index + 2}" in message, message  # the record after it
        assert "edited, removed or reordered" in message and "restore it from a backup" in message
    assert not writes(box)
    assert all(box.get_source(sid)["metadata"]["tier"] == "gold" for sid in ids)


@pytest.mark.parametrize("how", ["removed", "reordered", "duplicated"])
def test_a_removed_or_reordered_line_is_found(fresh_sandbox, fresh_session, how):
    _, _, journal = applied(fresh_sandbox, fresh_session)
    lines = lines_of(journal)
    end = line_of(journal, lambda r: r["type"] == "end")
    if how == "removed":  # the end of a row: it would look in flight, and be undone blindly
        del lines[end]
    elif how == "reordered":
        lines[end - 1], lines[end] = lines[end], lines[end - 1]
    else:
        lines.insert(end, lines[end])
    write_lines(journal, lines)
    with pytest.raises(toolkit.InvalidInputError, match="edited, removed or reordered") as info:
        read_journal(journal)
    assert str(journal) in str(info.value) and "line " in str(info.value)
    with pytest.raises(toolkit.InvalidInputError, match="edited, removed or reordered"):
        toolkit.undo(journal, fresh_session, progress=False)


def test_a_before_state_on_the_last_line_is_not_written_back(fresh_sandbox, fresh_session):
    """The last record is proven by nothing after it: undo asks to resume first."""
    box = fresh_sandbox
    ids, _, journal = applied(box, fresh_session)
    last = ids[-1]
    # the process died right after the last request was begun: nothing follows its begin
    seen = []

    def until_last_begin(record):
        seen.append(record)
        return not any(r["type"] == "begin" and r["source"] == last for r in seen[:-1])

    rewrite_journal(journal, until_last_begin)
    lines = lines_of(journal)
    assert json.loads(lines[-1])["type"] == "begin" and json.loads(lines[-1])["source"] == last
    record = json.loads(lines[-1])
    record["before"]["tier"] = "platinum-forged"
    lines[-1] = json.dumps(record, ensure_ascii=False)
    write_lines(journal, lines)
    box.clear_log()
    with pytest.raises(toolkit.InvalidInputError) as info:
        toolkit.undo(journal, fresh_session, progress=False)
    message = str(info.value)
    assert f"line {len(lines)}" in message and "last line" in message and "resume=" in message
    assert not writes(box)
    # resuming reads the row again (already done: nothing sent) and its records follow the
    # begin, which the chain then proves: it proves a line unchanged since the next one was
    # written, not what the line says (see toolkit.changes.journal.file)
    resumed = toolkit.apply(toolkit.load_plan(journal), fresh_session, resume=journal)
    assert resumed.ok and not writes(box)
    assert read_journal(journal).proven(read_journal(journal).begun[(len(ids), last)])


def strip_chain(path: Path) -> None:
    """The journal as a toolkit before the chain wrote it (no chain, no prev, digest of its time)."""
    records = [json.loads(line) for line in lines_of(path)]
    out = []
    for record in records:
        record.pop("prev", None)
        if record["type"] == "plan":
            record.pop("chain")
            record["digest"] = digest_of(record)
        out.append(json.dumps(record, ensure_ascii=False))
    write_lines(path, out)


def test_a_journal_from_before_the_chain_is_read_but_not_resumed_or_undone(
    fresh_sandbox, fresh_session
):
    box = fresh_sandbox
    ids, plan, journal = applied(box, fresh_session)
    strip_chain(journal)
    state = read_journal(journal)
    assert not state.chained and len(state.done) == len(ids)
    assert toolkit.load_plan(journal).id == plan.id  # read-only use still works
    box.clear_log()
    for what, attempt in (
        ("undo", lambda: toolkit.undo(journal, fresh_session, progress=False)),
        ("resume", lambda: toolkit.apply(plan, fresh_session, resume=journal, progress=False)),
        ("resume", lambda: toolkit.apply(plan, fresh_session, progress=False)),
    ):
        with pytest.raises(toolkit.InvalidInputError) as info:
            attempt()
        message = str(info.value)
        assert "without the chain" in message and f"not used to {what}" in message
        assert "journal='journals/again'" in message
    assert not writes(box)
    # what the message says works: a new journal reads every row again, nothing is sent twice
    again = toolkit.apply(plan, fresh_session, journal="journals/again", progress=False)
    assert again.totals["skipped"] == len(ids) and not writes(box)


def test_a_record_claiming_a_chain_the_plan_record_lacks_is_refused(fresh_sandbox, fresh_session):
    _, _, journal = applied(fresh_sandbox, fresh_session)
    lines = lines_of(journal)
    header = json.loads(lines[0])
    header.pop("chain")
    header["digest"] = digest_of(header)
    lines[0] = json.dumps(header, ensure_ascii=False)
    write_lines(journal, lines)
    with pytest.raises(toolkit.InvalidInputError, match="line 2: a chained record"):
        read_journal(journal)
