"""Runs where finance works: the toolkit imports and applies a plan without what only POSIX has
(``fcntl``, ``os.fchmod``), as on a Windows laptop. The journal lock is :mod:`filelock`'s."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from tests.changes.changes_support import TEST_KEY, pick
from toolkit.changes.journal.writer import Journal
from toolkit.errors import JournalError
from toolkit.private_files import open_private_append, write_private

CHILD = textwrap.dedent(
    """
    import json, os, sys
    sys.modules["fcntl"] = None  # as on Windows: there is no fcntl to import
    del os.fchmod  # os.fchmod exists only on POSIX
    import toolkit
    from toolkit.changes.journal.writer import Journal
    from toolkit.session import connect

    url, key, ids_file = sys.argv[1:4]
    ids = json.load(open(ids_file))
    session = connect(key, api_base=url, rate_limit=1000, quiet=True)
    plan = toolkit.plan_metadata(ids, set={"portable": "yes"})
    outcome = toolkit.apply(plan, session, journal="journals", progress=False)
    with Journal(outcome.journal):  # held: a second writer is refused
        try:
            Journal(outcome.journal)
            refused = ""
        except toolkit.JournalError as exc:
            refused = str(exc)
    back = toolkit.undo(outcome.journal, session, progress=False)
    saved = toolkit.save_plan(plan, "plans/plan.json")
    print(json.dumps({
        "fcntl": sys.modules["fcntl"] is None and not hasattr(os, "fchmod"),
        "totals": outcome.totals,
        "refused": refused,
        "undone": back.totals["ok"],
        "journal": str(outcome.journal),
        "saved": str(saved),
    }))
    """
)


def test_apply_without_fcntl_or_fchmod(fresh_sandbox, tmp_path):
    box = fresh_sandbox
    ids = pick(box, 3)
    (tmp_path / "child.py").write_text(CHILD)
    (tmp_path / "ids.json").write_text(json.dumps(ids))
    done = subprocess.run(
        [sys.executable, "child.py", box.url, TEST_KEY, "ids.json"],
        cwd=tmp_path,
        # a read ledger of its own: filelock's soft lock (no fcntl) and the suite's real locks
        # on one file would wait on each other
        env={**os.environ, "TOOLKIT_READS_LEDGER": str(tmp_path / "reads.jsonl")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["fcntl"]  # the child really ran without them
    assert report["totals"]["ok"] == 3 and report["totals"]["failed"] == 0
    assert "is in use by" in report["refused"]
    assert report["undone"] == 3
    assert all("portable" not in (box.get_source(i).get("metadata") or {}) for i in ids)
    for name in ("journal", "saved"):  # POSIX here: the modes come from os.open and mkstemp
        assert stat.S_IMODE(os.stat(tmp_path / report[name]).st_mode) == 0o600


def test_private_files_without_fchmod(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "fchmod")
    written = write_private(tmp_path / "out" / "a.txt", lambda handle: handle.write("x"))
    with open_private_append(tmp_path / "out" / "b.jsonl") as handle:
        handle.write("{}\n")
    assert written.read_text() == "x"
    for name in ("a.txt", "b.jsonl"):
        assert stat.S_IMODE(os.stat(tmp_path / "out" / name).st_mode) == 0o600


def test_leaving_a_journal_frees_it_at_once(tmp_path):
    """The lock is let go of when the journal is closed (twice is harmless), so the next writer
    of the same journal, in this process too, takes it at once."""
    path = tmp_path / "j.jsonl"
    first = Journal(path)
    with pytest.raises(JournalError, match="is in use by"):
        Journal(path)
    first.close()
    first.close()
    with Journal(path) as second:
        second.write_plan({"plan_id": "plan_x", "rows": []})
    with Journal(path):
        pass
