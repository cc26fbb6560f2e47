"""Journals as evidence: an edited or malformed journal is refused with the file, the line and
the fix; a full disk stops the run with its Outcome; two processes never share a journal."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import toolkit
from tests.changes.changes_support import TEST_KEY, effective_writes, frame_of, pick
from toolkit.changes.journal.reading import read_journal
from toolkit.session import connect

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")


def applied_journal(box, session, n=3, kind="metadata"):
    ids = pick(box, n)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"squad": "ar"})
    outcome = toolkit.apply(plan, session, progress=False)
    return ids, plan, outcome.journal


def edit_lines(path: Path, edit) -> None:
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records = edit(records)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def test_an_edited_kind_is_refused_everywhere(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    _, plan, journal = applied_journal(box, fresh_session)

    def to_detach(records):
        records[0]["kind"] = "detach"
        return records

    edit_lines(journal, to_detach)
    box.clear_log()
    for attempt in (
        lambda: toolkit.load_plan(journal),
        lambda: toolkit.apply(plan, fresh_session, resume=journal, progress=False),
        lambda: toolkit.undo(journal, fresh_session, progress=False),
    ):
        with pytest.raises(toolkit.InvalidInputError, match="digest") as info:
            attempt()
        assert str(journal) in str(info.value)
    assert not [e for e in box.requests if e.method in ("POST", "DELETE")]


def test_a_consistently_forged_kind_is_refused_too(fresh_sandbox, fresh_session):
    """Even with the digest recomputed, rows whose actions do not fit the kind are refused."""
    box = fresh_sandbox
    _, _, journal = applied_journal(box, fresh_session)

    def forge(records):
        header = records[0]
        header["kind"] = "detach"
        header.pop("digest")
        body = {k: v for k, v in header.items() if k != "time"}  # as the docs say
        header["digest"] = hashlib.sha256(
            json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        return records

    edit_lines(journal, forge)
    box.clear_log()
    with pytest.raises(toolkit.InvalidInputError, match="do not fit"):
        toolkit.load_plan(journal)
    assert not [e for e in box.requests if e.method == "DELETE"]


def _header_then(records, extra):
    return [records[0], *extra]


EDITS = {
    "row is text": lambda r: _header_then(r, [{"type": "begin", "row": "x", "source": "src_1"}]),
    "no source": lambda r: _header_then(r, [{"type": "end", "row": 1, "result": "ok"}]),
    "record is a list": lambda r: _header_then(r, [[1, 2, 3]]),
    "rows not a list": lambda r: [{**r[0], "rows": "all"}, *r[1:]],
    "params not a dict": lambda r: _header_then(
        r, [{"type": "begin", "row": 1, "source": r[0]["rows"][0]["source"], "params": "oops"}]
    ),
    "unknown record type": lambda r: _header_then(r, [{"type": "shrug"}]),
    "result unknown": lambda r: _header_then(
        r, [{"type": "end", "row": 1, "source": r[0]["rows"][0]["source"], "result": "maybe"}]
    ),
    "plan not first": lambda r: [r[1], r[0], *r[2:]],
}


@pytest.mark.parametrize("name", sorted(EDITS))
def test_malformed_journals_name_the_file_and_line(fresh_sandbox, fresh_session, name):
    _, _, journal = applied_journal(fresh_sandbox, fresh_session, n=1)
    edit_lines(journal, EDITS[name])
    with pytest.raises(toolkit.InvalidInputError) as info:
        toolkit.load_plan(journal)
    message = str(info.value)
    assert str(journal) in message and "line " in message, message


def test_garbage_in_the_middle_and_bad_encoding(fresh_sandbox, fresh_session):
    _, _, journal = applied_journal(fresh_sandbox, fresh_session, n=2)
    lines = journal.read_text().splitlines()
    lines.insert(3, "this is not json")
    journal.write_text("\n".join(lines) + "\n")
    with pytest.raises(toolkit.InvalidInputError, match="line 4"):
        read_journal(journal)
    journal.write_bytes(b"\xff\xfe" + journal.read_bytes())
    with pytest.raises(toolkit.InvalidInputError, match="UTF-8"):
        toolkit.load_plan(journal)


def test_a_crash_while_recording_the_plan(fresh_sandbox, fresh_session, tmp_path):
    box = fresh_sandbox
    ids = pick(box, 2)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"squad": "ar"})
    journal = tmp_path / f"{plan.id}.jsonl"
    journal.write_text('{"type": "plan", "plan_id": "' + plan.id + '", "ki')
    with pytest.raises(toolkit.InvalidInputError) as info:
        toolkit.load_plan(journal)
    assert "nothing was written" in str(info.value)
    assert "apply the plan again" in str(info.value)
    outcome = toolkit.apply(plan, fresh_session, journal=journal, progress=False)
    assert outcome.totals["ok"] == 2
    assert toolkit.load_plan(journal).id == plan.id


FULL_DISK_CHILD = textwrap.dedent(
    """
    import json, os, resource, signal, sys
    import toolkit
    from toolkit.session import connect

    url, key, ids_file, journal = sys.argv[1:5]
    ids = json.load(open(ids_file))
    session = connect(key, api_base=url, rate_limit=1000, quiet=True)
    plan = toolkit.plan_metadata(ids, set={"disk": "full"})
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG

    def progress(done, total, label):
        if done == 5:  # the disk fills up: the journal can grow by 1,500 bytes more
            size = os.path.getsize(journal)
            resource.setrlimit(resource.RLIMIT_FSIZE, (size + 1500, resource.RLIM_INFINITY))

    try:
        toolkit.apply(plan, session, journal=journal, progress=progress, max_workers=2)
    except toolkit.JournalError as exc:
        print(json.dumps({"totals": exc.outcome.totals, "resume": exc.resume, "text": str(exc)}))
    """
)


@pytest.mark.slow
def test_a_full_disk_stops_the_run_with_its_outcome(fresh_sandbox, tmp_path):
    box = fresh_sandbox
    ids = pick(box, 40)
    script = tmp_path / "child.py"
    script.write_text(FULL_DISK_CHILD)
    (tmp_path / "ids.json").write_text(json.dumps(ids))
    journal = tmp_path / "journal.jsonl"
    box.clear_log()
    done = subprocess.run(
        [sys.executable, str(script), box.url, TEST_KEY, str(tmp_path / "ids.json"), str(journal)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "load_plan" in report["resume"] and str(journal) in report["resume"]
    assert "journal" in report["text"].lower()
    written = effective_writes(box)
    totals = report["totals"]
    assert sum(totals[k] for k in totals if k != "total") == 40
    assert totals["ok"] == len(written)  # the Outcome says what really landed
    state = read_journal(journal)
    # nothing was sent that the journal does not show begun
    begun = {source for (_, source) in state.begun}
    assert set(written) <= begun
    assert len(written) < 40  # it stopped
    # once there is room again, resuming finishes the rest without writing anything twice
    session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
    outcome = toolkit.apply(toolkit.load_plan(journal), session, resume=journal, progress=False)
    assert outcome.ok
    assert effective_writes(box) == dict.fromkeys(ids, 1)


PLAN_RECORD_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys
    import toolkit
    from toolkit.session import connect

    url, key, ids_file, journal = sys.argv[1:5]
    ids = json.load(open(ids_file))
    session = connect(key, api_base=url, rate_limit=1000, quiet=True)
    plan = toolkit.plan_metadata(ids, set={"disk": "full"})
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (300, resource.RLIM_INFINITY))  # a full disk
    try:
        toolkit.apply(plan, session, journal=journal, progress=False)
        raise SystemExit("the plan record fitted")
    except toolkit.JournalError as exc:
        report = {"resume": exc.resume, "text": str(exc), "outcome": exc.outcome is not None}
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    again = toolkit.apply(plan, session, journal=journal, progress=False)  # what it says to do
    report["again"] = again.totals
    print(json.dumps(report))
    """
)


def test_a_plan_record_that_does_not_fit_says_to_apply_again(fresh_sandbox, tmp_path):
    box = fresh_sandbox
    ids = pick(box, 5)
    script = tmp_path / "child.py"
    script.write_text(PLAN_RECORD_CHILD)
    (tmp_path / "ids.json").write_text(json.dumps(ids))
    journal = tmp_path / "journal.jsonl"
    box.clear_log()
    done = subprocess.run(
        [sys.executable, str(script), box.url, TEST_KEY, str(tmp_path / "ids.json"), str(journal)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    text = report["text"]
    assert "nothing was written to Stripe" in text and "apply the plan again" in text, text
    assert "resume" not in text and "load_plan" not in text and report["resume"] is None, text
    # what it says works: the same call again applies every row, once
    assert report["again"]["ok"] == len(ids)
    assert effective_writes(box) == dict.fromkeys(ids, 1)
    assert len(read_journal(journal).done) == len(ids)


HOLDER_CHILD = textwrap.dedent(
    """
    import json, sys
    import toolkit
    from toolkit.session import connect

    url, key, ids_file, journal, plan_file = sys.argv[1:6]
    ids = json.load(open(ids_file))
    session = connect(key, api_base=url, rate_limit=1000, quiet=True)
    plan = toolkit.plan_metadata(ids, set={"holder": "1"})
    open(plan_file, "w").write(plan.id)
    toolkit.apply(plan, session, journal=journal, progress=False, max_workers=1)
    """
)


@pytest.mark.slow
def test_two_processes_never_share_a_journal(fresh_sandbox, tmp_path):
    box = fresh_sandbox
    ids = pick(box, 30)
    box.set_faults(latency=0.1, fault_method="POST")
    script = tmp_path / "child.py"
    script.write_text(HOLDER_CHILD)
    (tmp_path / "ids.json").write_text(json.dumps(ids))
    journal = tmp_path / "journal.jsonl"
    plan_file = tmp_path / "plan.txt"
    child = subprocess.Popen(
        [
            sys.executable,
            str(script),
            box.url,
            TEST_KEY,
            str(tmp_path / "ids.json"),
            str(journal),
            str(plan_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if journal.exists() and '"type": "begin"' in journal.read_text():
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the child never started writing")
        session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
        with pytest.raises(toolkit.JournalError) as info:
            toolkit.apply(toolkit.load_plan(journal), session, resume=journal, progress=False)
        assert f"pid {child.pid}" in str(info.value)
        with pytest.raises(toolkit.JournalError):
            toolkit.undo(journal, session, progress=False)
    finally:
        child.wait(timeout=120)
    box.faults_off()
    assert child.stderr is not None
    assert child.returncode == 0, child.stderr.read()[-2000:]
    state = read_journal(journal)
    assert len(state.done) == 30 and not state.pending
    assert effective_writes(box) == dict.fromkeys(ids, 1)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("user.csv", "id,team\nsrc_1,ar\n"),  # the user's own CSV
        ("notes.txt", None),  # not there yet, but not a journal's name
        ("mine.jsonl", '{"event": "signup", "user": 1}\n'),  # JSON lines of someone else's
        ("plan.jsonl", '{\n "format": "toolkit-plan/1"\n}\n'),  # a plan file, renamed
    ],
)
def test_a_journal_path_is_a_journal_or_nothing(
    fresh_sandbox, fresh_session, tmp_path, name, content
):
    box = fresh_sandbox
    plan = toolkit.plan_metadata(frame_of(box, pick(box, 2)), set={"squad": "ar"})
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
        path.chmod(0o644)
    box.clear_log()
    for attempt in (
        lambda: toolkit.apply(plan, fresh_session, journal=path, progress=False),
        lambda: toolkit.apply(plan, fresh_session, journal=path, dry_run=True, progress=False),
        lambda: toolkit.apply(plan, fresh_session, resume=path, progress=False),
    ):
        with pytest.raises(toolkit.InvalidInputError) as info:
            attempt()
        message = str(info.value)
        assert str(path) in message and "not a journal" in message, message
        assert "journal='journals'" in message and "nothing was sent" in message
    assert not box.requests  # refused before anything was read or sent
    if content is None:
        assert not path.exists()
    else:
        assert path.read_text() == content and (path.stat().st_mode & 0o777) == 0o644
    # undo names it too, instead of reading it as a journal cut short
    if content is not None:
        with pytest.raises(toolkit.InvalidInputError, match="not a journal"):
            toolkit.undo(path, fresh_session, progress=False)
