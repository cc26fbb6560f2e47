"""The README's tour runs as written, against the built-in sandbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def tour_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## A short tour of the Python API", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert match, "the tour has no python block"
    return match.group(1)


@pytest.mark.slow
def test_the_tour_runs_on_the_sandbox(in_tmp_cwd, monkeypatch, capsys):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    namespace: dict = {}
    exec(compile(tour_code(), str(README), "exec"), namespace)
    session = namespace["session"]
    try:
        assert session.mode == "sandbox"
        assert len(namespace["sources"]) > 500
        assert set(namespace["some"].customer) <= set(namespace["first_customers"])
        assert namespace["by_id"].attrs["toolkit"]["missing_ids"] == ["src_1NoSuchSource0000"]
        assert namespace["changes"].empty  # a snapshot equals what it was taken from
        outcome = namespace["outcome"]
        assert outcome.totals["ok"] == 20 and outcome.totals["failed"] == 0
        ids = list(namespace["receivers"].id)
        # undo restored every source's metadata exactly
        for row in namespace["receivers"].itertuples():
            assert session.sandbox.get_source(row.id)["metadata"] == row.metadata, row.id
        assert (in_tmp_cwd / "exports" / "receivers.xlsx").is_file()
        assert (in_tmp_cwd / "snapshots" / "today.parquet").is_file()
        assert ids
    finally:
        session.close()
    assert "sk_test_" not in capsys.readouterr().out


@pytest.mark.slow
def test_the_past_one_frame_example_runs(in_tmp_cwd, monkeypatch, capsys):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    text = README.read_text(encoding="utf-8")
    section = text.split("## Past one frame", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert code
    namespace: dict = {}
    exec(compile(code.group(1), str(README), "exec"), namespace)
    assert namespace["done"].sources == len(namespace["df"]) > 500
    assert namespace["by_month"]["n"].sum() == len(namespace["df"])
    assert namespace["changes"].empty
    assert len(namespace["fresh"]) == len(namespace["snapshot"])
    assert namespace["platform"]["account"].nunique() == 3
    assert set(namespace["per_account"]["account"]) <= set(namespace["platform"]["account"])
    assert (in_tmp_cwd / "snapshots" / "fresh.parquet").is_file()


def test_terminal_commands_work_from_the_repository_without_an_active_venv():
    from toolkit.cli.main import COMMANDS

    lines = [
        line.strip()
        for block in re.findall(r"```bash\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
        for line in block.splitlines()
        if "-m toolkit" in line
    ]
    assert len(lines) >= 4
    for line in lines:
        assert line.startswith(".venv/bin/python -m toolkit "), line
        assert line.split()[3] in COMMANDS, line
    assert (README.parent / ".venv" / "bin" / "python").exists()
