"""``python -m toolkit export``: the headless export, against a sandbox given by STRIPE_API_BASE."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from tests.fetch.brute import stored
from toolkit.cli import export
from toolkit.fetch.dataset import read_dataset
from toolkit.fetch.snapshot import load_snapshot
from toolkit.sandbox import Sandbox


@pytest.fixture
def sandbox_env(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Sandbox:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    return sandbox


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    export.add_arguments(parser)
    return export.run(parser.parse_args(list(argv)))


def test_export_parquet_of_the_whole_account(
    sandbox_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "exports" / "sources.parquet"
    assert _run("--out", str(out), "--quiet") == 0
    df = load_snapshot(out)
    assert dict(zip(df["id"], df["customer"], strict=True)) == stored(sandbox_env)
    assert df.attrs["toolkit"]["mode"] == "sandbox"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert f"Wrote {len(df):,} sources" in capsys.readouterr().out


def test_export_csv_with_filters(sandbox_env: Sandbox, tmp_path: Path) -> None:
    ds = sandbox_env.store()
    picked = [c for c, items in ds.items.items() if items][:3]
    out = tmp_path / "some.csv"
    assert (
        _run("--out", str(out), "--customers", ",".join(picked[:2]), "--customers", picked[2]) == 0
    )
    df = pd.read_csv(out)
    assert set(df["customer"]) == set(picked)
    assert "raw" not in df.columns and "metadata" in df.columns
    assert "client_secret" not in out.read_text()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_export_ids_file_and_created_range(
    sandbox_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    detached = sandbox_env.detached_ids[:2]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text(f"# detached ones\n{detached[0]}\n\n{detached[1]}, src_unknown000000\n")
    out = tmp_path / "ids.parquet"
    assert _run("--out", str(out), "--ids-file", str(ids_file)) == export.NOT_FOUND  # said so
    assert load_snapshot(out)["id"].tolist() == detached  # and the others are written
    assert "1 source ids not found: src_unknown000000" in capsys.readouterr().err

    ds = sandbox_env.store()
    hi = pd.Timestamp(ds.customers[ds.order[10]]["created"], unit="s", tz="UTC")
    lo = pd.Timestamp(ds.customers[ds.order[60]]["created"], unit="s", tz="UTC")
    out = tmp_path / "range.parquet"
    assert (
        _run("--out", str(out), "--created-from", lo.isoformat(), "--created-to", hi.isoformat())
        == 0
    )
    inside = {
        c for c in ds.customers if lo.timestamp() <= ds.customers[c]["created"] < hi.timestamp()
    }
    assert set(load_snapshot(out)["customer"]) <= inside


def test_export_through_the_cli_entry(sandbox_env: Sandbox, tmp_path: Path) -> None:
    from toolkit.cli import main

    assert main(["export", "--out", str(tmp_path / "a.parquet"), "--quiet"]) == 0
    assert main(["export", "--out", str(tmp_path / "a.xlsx")]) == 2
    assert main(["export", "--out", str(tmp_path / "a.csv"), "--ids-file", "nope.txt"]) == 2
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    assert main(["export", "--out", str(tmp_path / "a.csv"), "--ids-file", str(empty)]) == 2


def test_a_mistyped_customer_is_refused_and_an_unknown_one_exits_4(
    sandbox_env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from toolkit.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="'cust_abc' is not an id of that kind"):
        _run("--out", str(tmp_path / "x.csv"), "--customers", "cust_abc")
    assert not (tmp_path / "x.csv").exists()
    assert _run("--out", str(tmp_path / "y.csv"), "--customers", "cus_typo123") == 4
    err = capsys.readouterr().err
    assert "1 customer ids not found: cus_typo123" in err
    assert "NotFoundWarning" not in err  # said once, by the command


def test_no_output_is_replaced_without_force(
    sandbox_env: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from toolkit.errors import InvalidInputError

    for name in ("old.parquet", "old.csv"):
        out = tmp_path / name
        out.write_text("keep me")
        with pytest.raises(InvalidInputError, match="exists: name a new file, or pass --force"):
            _run("--out", str(out), "--quiet")
        assert out.read_text() == "keep me"
        assert _run("--out", str(out), "--quiet", "--force") == 0
        assert out.read_bytes() != b"keep me"
    # folders: never a system folder, never one holding other files
    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    (home / "notes" / "todo.txt").write_text("mine")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(InvalidInputError, match="system folder"):
        _run("--out", f"{home}/", "--quiet", "--force")
    with pytest.raises(InvalidInputError, match=r"did not write \(todo\.txt\)"):
        _run("--out", f"{home}/notes/", "--quiet", "--force")
    assert sorted(p.name for p in home.rglob("*")) == ["notes", "todo.txt"]
    # a dataset of another export is refused; --force starts it afresh
    ds = tmp_path / "ds"
    accounts = sorted(sandbox_env.connected_accounts)
    assert _run("--out", f"{ds}/", "--accounts", accounts[0], "--quiet") == 0
    with pytest.raises(InvalidInputError, match="One folder never mixes two"):
        _run("--out", f"{ds}/", "--quiet")
    assert _run("--out", f"{ds}/", "--quiet", "--force") == 0
    assert dict(zip(*[read_dataset(ds)[c] for c in ("id", "customer")], strict=True)) == stored(
        sandbox_env
    )
