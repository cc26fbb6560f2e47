"""``python -m toolkit plan | apply | undo``: a plan file for sign-off, applied with the opt-ins a
write needs, journaled, resumable, undone; ``--json`` summaries; every command documented."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.cli import main
from toolkit.cli.main import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
TEST_KEY = "sk_test_" + "C1iChanges" * 2
LIVE_KEY = "sk_live_" + "C1iChanges" * 2


@pytest.fixture
def account(fresh_sandbox, monkeypatch, tmp_path):
    """The CLI pointed at a sandbox server of its own with a test key, in an empty folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", fresh_sandbox.url)
    monkeypatch.delenv("STRIPE_ACCOUNT", raising=False)
    return fresh_sandbox


def _cards(box, n: int, key: str = TEST_KEY) -> list[str]:
    session = toolkit.connect(key, api_base=box.url, quiet=True)
    df = toolkit.load_sources(session, progress=False)
    cards = df[(df["type"] == "card") & (df["status"] == "chargeable") & df["customer"].notna()]
    return sorted(cards["id"])[:n]


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_plan_apply_undo_round_trip(account, capsys):
    ids = _cards(account, 3)
    before = {i: dict(account.get_source(i)["metadata"] or {}) for i in ids}
    pd.DataFrame({"id": ids, "ticket": ["FIN-1", "FIN-2", "FIN-3"]}).to_csv(
        "changes.csv", index=False
    )
    assert main(["plan", "metadata", "--table", "changes.csv", "--json"]) == 0
    made = _json(capsys)
    assert made["counts"]["ready"] == 3 and Path(made["csv"]).exists()
    plan_file = made["file"]

    assert main(["apply", plan_file, "--dry-run", "--json"]) == 0
    assert _json(capsys)["totals"]["would_apply"] == 3
    assert [account.get_source(i)["metadata"].get("ticket") for i in ids] == [None] * 3

    assert main(["apply", plan_file, "--json"]) == 0
    applied = _json(capsys)
    assert applied["totals"]["ok"] == 3 and applied["ok"] is True
    assert [account.get_source(i)["metadata"]["ticket"] for i in ids] == ["FIN-1", "FIN-2", "FIN-3"]
    # the same command again resumes from the journal: nothing is sent twice
    writes = len([r for r in account.requests if r.method.upper() == "POST"])
    assert main(["apply", plan_file]) == 0
    assert len([r for r in account.requests if r.method.upper() == "POST"]) == writes
    capsys.readouterr()

    assert main(["undo", applied["journal"]]) == 0
    out = capsys.readouterr().out
    assert "Undo of" in out
    assert out.count("restored (unset ticket)") == 3  # which keys and values were put back
    assert {i: dict(account.get_source(i)["metadata"] or {}) for i in ids} == before
    journals = set(Path("journals").iterdir())
    # a second undo has nothing left to put back: it says so and writes no journal
    assert main(["undo", applied["journal"]]) == 0
    out = capsys.readouterr().out
    assert "Nothing to undo" in out and "0 ok" in out
    assert set(Path("journals").iterdir()) == journals


def test_an_edited_plan_file_is_refused(account, capsys):
    ids = _cards(account, 1)
    pd.DataFrame({"id": ids, "ticket": ["FIN-1"]}).to_csv("changes.csv", index=False)
    assert main(["plan", "metadata", "--table", "changes.csv", "--json"]) == 0
    path = Path(_json(capsys)["file"])
    record = json.loads(path.read_text())
    record["rows"][0]["params"] = {"metadata": {"ticket": "SOMETHING-ELSE"}}
    path.write_text(json.dumps(record))
    assert main(["apply", str(path)]) == 2
    assert "changed after the plan was made" in capsys.readouterr().err
    assert account.get_source(ids[0])["metadata"].get("ticket") is None


def test_detach_needs_its_count_and_a_live_key_needs_live(account, capsys, monkeypatch):
    ids = _cards(account, 2)
    toolkit.save_ids(ids, "selection.csv")
    assert main(["plan", "detach", "--ids", "selection.csv", "--json"]) == 0
    plan_file = _json(capsys)["file"]
    for wrong in ([], ["--confirm", "DETACH"], ["--confirm", "3"]):
        assert main(["apply", plan_file, *wrong]) == 2
        assert "number of sources the plan detaches: 2" in capsys.readouterr().err
    assert all(account.get_source(i)["status"] == "chargeable" for i in ids)
    monkeypatch.setenv("STRIPE_API_KEY", LIVE_KEY)  # the plan was made in test mode:
    assert main(["apply", plan_file, "--confirm", "2", "--live"]) == 2  # another mode: refused
    assert "test" in capsys.readouterr().err
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    assert main(["apply", plan_file, "--confirm", "2"]) == 0
    assert all(account.get_source(i)["status"] == "consumed" for i in ids)


def test_a_live_write_needs_the_live_flag(fresh_sandbox, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", LIVE_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", fresh_sandbox.url)
    ids = _cards(fresh_sandbox, 1, LIVE_KEY)
    pd.DataFrame({"id": ids, "ticket": ["FIN-9"]}).to_csv("changes.csv", index=False)
    assert main(["plan", "metadata", "--table", "changes.csv", "--json"]) == 0
    plan_file = _json(capsys)["file"]
    assert main(["apply", plan_file]) == 2
    assert "--live" in capsys.readouterr().err
    assert fresh_sandbox.get_source(ids[0], livemode=True)["metadata"].get("ticket") is None
    assert main(["apply", plan_file, "--live"]) == 9  # and a second person's approval
    assert "approve" in capsys.readouterr().err
    assert main(["apply", plan_file, "--live", "--no-approval"]) == 0
    assert fresh_sandbox.get_source(ids[0], livemode=True)["metadata"]["ticket"] == "FIN-9"


def test_drift_is_partial_and_exits_5(account, capsys):
    ids = _cards(account, 2)
    pd.DataFrame({"id": ids, "ticket": ["FIN-1", "FIN-2"]}).to_csv("changes.csv", index=False)
    assert main(["plan", "metadata", "--table", "changes.csv", "--json"]) == 0
    plan_file = _json(capsys)["file"]
    session = toolkit.connect(TEST_KEY, api_base=account.url, quiet=True)
    other = toolkit.plan_metadata(toolkit.load_sources(session, ids=ids[:1], progress=False),
                                  set={"ticket": "SOMEONE-ELSE"})  # fmt: skip
    toolkit.apply(other, session, journal="elsewhere", progress=False)
    assert main(["apply", plan_file, "--json"]) == 5
    totals = _json(capsys)["totals"]
    assert totals["drifted"] == 1 and totals["ok"] == 1
    assert account.get_source(ids[0])["metadata"]["ticket"] == "SOMEONE-ELSE"  # not overwritten


def test_every_command_is_documented():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, (module_name, *_rest) in COMMANDS.items():
        module = __import__(module_name, fromlist=["x"])
        assert module.__doc__ and "Example" in module.__doc__, module_name
        assert f"-m toolkit {name}" in readme, f"the README shows no `python -m toolkit {name}`"
    for code in ("0 done", "2 usage", "4 not found", "5 partly done", "6 Stripe"):
        assert code in readme


def test_help_names_the_program_as_it_was_run(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["/venv/bin/stripe-sources", "plan", "--help"])
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    assert capsys.readouterr().out.startswith("usage: stripe-sources plan")


def test_refresh_command_writes_a_new_snapshot(tmp_path, monkeypatch, capsys):
    """``refresh SNAPSHOT``: reads the events, writes a new snapshot beside the old one (never
    over it), and says what changed."""
    import json

    import toolkit
    from toolkit.sandbox import Sandbox

    with Sandbox(seed=11, customers=40) as box:
        monkeypatch.setenv("STRIPE_API_BASE", box.url)
        monkeypatch.delenv("STRIPE_API_KEY", raising=False)
        monkeypatch.chdir(tmp_path)
        assert main(["export", "--out", "snapshots/s.parquet", "--quiet"]) == 0
        old = toolkit.load_snapshot("snapshots/s.parquet")
        sid = str(old["id"].iloc[0])
        with toolkit.connect(quiet=True) as session:
            session.client.v1.sources.update(sid, {"metadata": {"cli": "1"}})
        capsys.readouterr()
        assert main(["refresh", "snapshots/s.parquet", "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["changed"] == [sid] and summary["snapshot"].endswith("s-refreshed.parquet")
        new = toolkit.load_snapshot(summary["snapshot"])
        assert new.set_index("id").at[sid, "metadata"]["cli"] == "1"
        assert main(["refresh", "snapshots/s.parquet", "--out", summary["snapshot"]]) == 2
