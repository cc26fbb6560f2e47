"""Files that hold customer data: private (0600 files, 0700 folders), in the git-ignored
folders by default, and CSV cells that a spreadsheet would run as formulas are escaped."""

from __future__ import annotations

import argparse
import csv
import os
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.cli import export
from toolkit.private_files import csv_safe, private_folder

ROOT = Path(__file__).resolve().parent.parent
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_csv_safe_escapes_formula_leading_text_only():
    frame = pd.DataFrame({"text": [*FORMULAS, "plain", None], "n": [-1, 2, 3, 4, 5, 6, 7, 8]})
    safe = csv_safe(frame)
    assert list(safe["text"][:6]) == ["'" + f for f in FORMULAS]
    assert safe.loc[6, "text"] == "plain" and pd.isna(safe.loc[7, "text"])
    assert list(safe["n"]) == [-1, 2, 3, 4, 5, 6, 7, 8]  # numbers stay numbers


def test_sources_csv_escapes_formulas_and_reads_back_exactly(tmp_path):
    frame = pd.DataFrame(
        {"id": ["src_1abc", "src_2abc"], "metadata.note": ['=HYPERLINK("x")', "ok"]}
    )
    path = toolkit.write_sources_csv(frame, tmp_path / "out" / "sources.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["metadata.note"] == '\'=HYPERLINK("x")'
    assert mode_of(path) == 0o600 and mode_of(path.parent) == 0o700
    # an edited export read back as a plan sets the value as it was, not the escaped text
    plan = toolkit.plan_metadata_from_table(path)
    assert plan.df.loc[0, "params"]["metadata"] == {"note": '=HYPERLINK("x")'}


def test_plan_csv_has_no_formula_cells(tmp_path):
    plan = toolkit.plan_metadata(["src_1abc"], set={"note": "=1+1"})
    path = plan.to_csv(tmp_path / "plans" / "plan.csv")
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert not any(str(v).startswith(("=", "+", "-", "@")) for v in rows[0].values())
    assert mode_of(path) == 0o600 and mode_of(path.parent) == 0o700


def test_audit_csv_escapes_formulas(fresh_sandbox, fresh_session, tmp_path):
    store = fresh_sandbox.store()
    sid = next(s for s, src in store.sources.items() if src["type"] == "ach_credit_transfer")
    fresh_session.client.v1.sources.update(sid, {"owner": {"email": "=HYPERLINK(1)"}})
    sources = toolkit.load_sources(fresh_session, ids=[sid], progress=False)
    audit = toolkit.audit_receivers(sources)
    written = audit.to_csv(tmp_path / "audit")
    text = written["sources"].read_text()
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
    assert mode_of(tmp_path / "audit") == 0o700


def test_private_folder_is_0700_at_every_level(tmp_path):
    folder = private_folder(tmp_path / "a" / "b" / "c")
    assert folder.is_dir()
    for level in (tmp_path / "a", tmp_path / "a" / "b", folder):
        assert mode_of(level) == 0o700


def test_snapshot_folders_are_private(tmp_path, session):
    sources = toolkit.load_sources(session, customers=[], progress=False)
    path = toolkit.save_snapshot(sources, tmp_path / "snapshots" / "empty.parquet")
    assert mode_of(path) == 0o600 and mode_of(path.parent) == 0o700


def _run_export(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    export.add_arguments(parser)
    return export.run(parser.parse_args(list(argv)))


def test_export_writes_to_the_ignored_folder_by_default(sandbox, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    assert _run_export("--quiet", "--customers", "cus_none0000001") == 4  # unknown: said, exit 4
    written = list((tmp_path / "exports").glob("*.parquet"))
    assert len(written) == 1 and mode_of(tmp_path / "exports") == 0o700
    assert not list(tmp_path.glob("*.parquet"))


def test_readme_cli_examples_write_into_ignored_folders():
    readme = (ROOT / "README.md").read_text()
    commands = [line for line in readme.splitlines() if "python -m toolkit" in line]
    assert commands
    for line in commands:
        for flag in ("--out", "--csv", "--png"):
            if flag in line:
                target = line.split(flag, 1)[1].split()[0]
                assert target.startswith(("exports/", "snapshots/", "journals/")), line
    ignored = subprocess.run(
        ["git", "check-ignore", "exports/x.xlsx", "snapshots/x.parquet", "journals/x.jsonl"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert len(ignored.stdout.split()) == 3


@pytest.mark.parametrize("folder", ["exports", "snapshots"])
def test_audit_cli_default_folder_is_private(folder, sandbox, monkeypatch, tmp_path):
    from toolkit.cli.audit import add_arguments, run

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    if folder == "exports":
        assert run(parser.parse_args(["--no-transactions"])) == 0
    else:
        sources = toolkit.load_sources(
            toolkit.connect(api_base=sandbox.url, quiet=True), customers=[], progress=False
        )
        toolkit.save_snapshot(sources, Path("snapshots") / "s.parquet")
    assert mode_of(tmp_path / folder) == 0o700
