"""Maker and checker (issue 28): a plan file records its maker inside its digest; a second person
approves that exact digest; a live apply refuses a plan without such an approval (unless the
waiver is given, and then it is recorded); the journal records the approval and the run."""

from __future__ import annotations

import json

import pytest

import toolkit
from toolkit.changes.journal.reading import read_journal
from toolkit.changes.plans.approval import approvals_path
from toolkit.cli import main
from toolkit.session import connect

LIVE = "sk_live_" + "Appr0ve" * 4


def _as(monkeypatch, user: str) -> None:
    """Log in as ``user`` (getpass reads $LOGNAME first)."""
    monkeypatch.setenv("LOGNAME", user)
    monkeypatch.setenv("USER", user)


@pytest.fixture
def live(fresh_sandbox, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLKIT_REQUIRE_APPROVAL", raising=False)
    return connect(LIVE, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True, allow_live=True)


def _plan(box, live, tmp_path, monkeypatch, maker="Ada"):
    sid = sorted(s for s, src in box.store(livemode=True).sources.items() if src.get("customer"))[0]
    sources = toolkit.load_sources(live, ids=[sid], progress=False)
    plan = toolkit.plan_metadata(sources, set={"reviewed": "2026-12"})
    _as(monkeypatch, "ada")
    path = toolkit.save_plan(plan, tmp_path / "plans" / "p.json", maker=maker)
    return sid, plan, path


def test_the_maker_is_in_the_file_and_under_its_digest(fresh_sandbox, live, tmp_path, monkeypatch):
    _sid, plan, path = _plan(fresh_sandbox, live, tmp_path, monkeypatch)
    record = json.loads(path.read_text())
    assert record["maker"] == {"user": "ada", "name": "Ada"} == plan.maker
    assert record["digest"] == plan.digest
    record["maker"]["user"] = "bea"  # a maker changed by hand breaks the digest
    path.write_text(json.dumps(record))
    with pytest.raises(toolkit.InvalidInputError, match="digest"):
        toolkit.read_plan(path)


def test_a_live_apply_needs_another_persons_approval(fresh_sandbox, live, tmp_path, monkeypatch):
    sid, plan, path = _plan(fresh_sandbox, live, tmp_path, monkeypatch)
    fresh_sandbox.clear_log()
    with pytest.raises(toolkit.ApprovalRequired, match="toolkit approve") as info:
        toolkit.apply(toolkit.read_plan(path), live, progress=False)
    assert "Ada (ada)" in str(info.value)
    with pytest.raises(toolkit.ApprovalRequired, match="never saved"):
        toolkit.apply(toolkit.plan_metadata([sid], set={"x": "1"}), live, progress=False)
    assert not fresh_sandbox.requests  # refused before anything was read or sent
    with pytest.raises(toolkit.InvalidInputError, match=r"someone\s+else"):
        toolkit.approve(path)  # the maker cannot approve their own plan
    assert not approvals_path(path).exists()

    _as(monkeypatch, "bea")
    approval = toolkit.approve(path, checker="Bea")
    assert (
        approval["checker"] == {"user": "bea", "name": "Bea"} and approval["digest"] == plan.digest
    )
    assert approvals_path(path).stat().st_mode & 0o777 == 0o600

    _as(monkeypatch, "ada")
    edited = toolkit.read_plan(path)
    edited.df.at[0, "params"] = {"metadata": {"reviewed": "other"}}  # not what was approved
    with pytest.raises(toolkit.ApprovalRequired, match="changed after it was saved"):
        toolkit.apply(edited, live, progress=False)

    outcome = toolkit.apply(toolkit.read_plan(path), live, progress=False)
    assert outcome.ok and fresh_sandbox.get_source(sid, livemode=True)["metadata"]["reviewed"]
    assert outcome.journal is not None
    state = read_journal(outcome.journal)
    start = state.records[1]
    assert start["type"] == "run" and start["event"] == "start" and start["user"] == "ada"
    recorded = start["approval"]  # the approval the run relied on, chained like every record
    assert recorded["status"] == "approved" and recorded["digest"] == plan.digest
    assert recorded["checkers"] == [{"user": "bea", "name": "Bea"}]
    assert recorded["maker"]["user"] == "ada"
    assert state.plan is not None
    assert state.plan["maker"] == {"user": "ada", "name": "Ada"}


def test_a_new_plan_needs_a_new_approval(fresh_sandbox, live, tmp_path, monkeypatch):
    path = _plan(fresh_sandbox, live, tmp_path, monkeypatch)[2]
    _as(monkeypatch, "bea")
    toolkit.approve(path)
    _as(monkeypatch, "ada")
    toolkit.save_plan(
        toolkit.read_plan(path), path
    )  # saved again: the approval was of the old file
    with pytest.raises(toolkit.ApprovalRequired, match="holds no such approval"):
        toolkit.apply(toolkit.read_plan(path), live, progress=False)


def test_the_waiver_is_recorded(fresh_sandbox, live, tmp_path, monkeypatch):
    path = _plan(fresh_sandbox, live, tmp_path, monkeypatch)[2]
    outcome = toolkit.apply(toolkit.read_plan(path), live, progress=False, require_approval=False)
    assert outcome.ok
    assert outcome.journal is not None
    record = read_journal(outcome.journal).records[1]["approval"]
    assert record["status"] == "waived" and record["how"] == "require_approval=False"
    assert record["by"]["user"] == "ada"

    monkeypatch.setenv("TOOLKIT_REQUIRE_APPROVAL", "false")
    other = toolkit.plan_metadata(
        toolkit.load_sources(live, progress=False).head(1), set={"w": "1"}
    )
    outcome = toolkit.apply(other, live, progress=False)
    assert outcome.journal is not None
    record = read_journal(outcome.journal).records[1]["approval"]
    assert record["status"] == "waived" and "TOOLKIT_REQUIRE_APPROVAL=false" in record["how"]


def test_test_mode_needs_no_approval_unless_asked(
    fresh_sandbox, fresh_session, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLKIT_REQUIRE_APPROVAL", raising=False)
    sources = toolkit.load_sources(fresh_session, progress=False).head(1)
    outcome = toolkit.apply(
        toolkit.plan_metadata(sources, set={"t": "1"}), fresh_session, progress=False
    )
    assert outcome.journal is not None
    record = read_journal(outcome.journal).records[1]["approval"]
    assert record["status"] == "not_required" and record["why"] == "test mode"
    monkeypatch.setenv("TOOLKIT_REQUIRE_APPROVAL", "true")
    with pytest.raises(toolkit.ApprovalRequired):
        toolkit.apply(toolkit.plan_metadata(sources, set={"t": "2"}), fresh_session, progress=False)
    monkeypatch.setenv("TOOLKIT_REQUIRE_APPROVAL", "maybe")
    with pytest.raises(toolkit.ConfigurationError, match="true or false"):
        toolkit.apply(toolkit.plan_metadata(sources, set={"t": "3"}), fresh_session, progress=False)


def test_the_cli_flow_maker_checker_apply(fresh_sandbox, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", LIVE)
    monkeypatch.setenv("STRIPE_API_BASE", fresh_sandbox.url)
    monkeypatch.delenv("TOOLKIT_REQUIRE_APPROVAL", raising=False)
    sid = sorted(
        s for s, src in fresh_sandbox.store(livemode=True).sources.items() if src.get("customer")
    )[0]
    (tmp_path / "ids.txt").write_text(sid + "\n")
    (tmp_path / "t.csv").write_text(f"id,ticket\n{sid},FIN-7\n")
    _as(monkeypatch, "ada")
    assert main(["plan", "metadata", "--table", "t.csv", "--maker", "Ada", "--json"]) == 0
    made = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    plan_file = made["file"]
    assert made["maker"] == {"user": "ada", "name": "Ada"}

    assert main(["apply", plan_file, "--live", "--json"]) == 9
    err = json.loads(capsys.readouterr().err.strip().splitlines()[-1])["error"]
    assert err["type"] == "ApprovalRequired" and err["exit_code"] == 9
    assert "approve" in err["message"]
    assert main(["approve", plan_file]) == 2  # the maker
    assert "someone else" in capsys.readouterr().err

    _as(monkeypatch, "bea")
    assert main(["approve", plan_file, "--name", "Bea", "--json"]) == 0
    approved = json.loads(capsys.readouterr().out)
    assert approved["checker"]["user"] == "bea" and approved["digest"] == made["digest"]
    _as(monkeypatch, "ada")
    assert main(["apply", plan_file, "--live"]) == 0
    assert fresh_sandbox.get_source(sid, livemode=True)["metadata"]["ticket"] == "FIN-7"


def test_the_cli_waiver(fresh_sandbox, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", LIVE)
    monkeypatch.setenv("STRIPE_API_BASE", fresh_sandbox.url)
    monkeypatch.delenv("TOOLKIT_REQUIRE_APPROVAL", raising=False)
    sid = sorted(
        s for s, src in fresh_sandbox.store(livemode=True).sources.items() if src.get("customer")
    )[0]
    (tmp_path / "t.csv").write_text(f"id,ticket\n{sid},FIN-8\n")
    assert main(["plan", "metadata", "--table", "t.csv", "--json"]) == 0
    plan_file = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["file"]
    assert main(["apply", plan_file, "--live", "--no-approval", "--json"]) == 0
    journal = json.loads(capsys.readouterr().out)["journal"]
    record = read_journal(journal).records[1]["approval"]
    assert record["status"] == "waived" and record["how"] == "require_approval=False"


def test_the_cover_and_the_report_show_maker_checker_and_digest(
    fresh_sandbox, live, tmp_path, monkeypatch
):
    from openpyxl import load_workbook

    _sid, plan, path = _plan(fresh_sandbox, live, tmp_path, monkeypatch)
    _as(monkeypatch, "bea")
    toolkit.approve(path, checker="Bea")
    _as(monkeypatch, "ada")
    outcome = toolkit.apply(toolkit.read_plan(path), live, progress=False)
    audit = toolkit.audit_receivers(toolkit.load_sources(live, progress=False))
    book = audit.to_excel(tmp_path / "a.xlsx", journal=outcome.journal)
    cells = [str(c.value) for row in load_workbook(book)["Cover"].iter_rows() for c in row]
    assert "Maker" in cells and "Ada (ada)" in cells
    assert "Checker" in cells and "Bea (bea)" in cells and plan.digest in cells
    report = toolkit.write_report(tmp_path / "r.html", receivers=audit, journal=outcome.journal)
    text = report.read_text()
    assert "Bea (bea)" in text and plan.digest in text

    waived = toolkit.plan_metadata(
        toolkit.load_sources(live, progress=False).head(1), set={"w": "2"}
    )
    run = toolkit.apply(waived, live, progress=False, require_approval=False)
    book = audit.to_excel(tmp_path / "b.xlsx", journal=run.journal)
    cells = [str(c.value) for row in load_workbook(book)["Cover"].iter_rows() for c in row]
    assert any(c.startswith("waived (require_approval=False, by ada)") for c in cells)
