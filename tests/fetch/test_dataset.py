"""export_sources / read_dataset: a streamed Parquet dataset partitioned by account and month,
the frame of load_sources, resumed after an interruption without reading what is written."""

from __future__ import annotations

import argparse
import itertools
import os
import stat
import threading
import warnings
from pathlib import Path

import pandas as pd
import pyarrow.dataset as pads
import pytest

import toolkit
from toolkit.cli import export
from toolkit.fetch.dataset import CHECKPOINT, month_windows
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

TEST_KEY = "sk_test_" + "T3st" * 6


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("id").reset_index(drop=True)


@pytest.mark.slow
def test_the_dataset_is_the_frame_of_load_sources(fresh_session: Session, tmp_path: Path) -> None:
    info = toolkit.export_sources(fresh_session, tmp_path / "ds", batch=50, progress=False)
    back = toolkit.read_dataset(tmp_path / "ds")
    full = toolkit.load_sources(fresh_session, progress=False, metadata_columns=False)
    assert info.sources == len(full) == len(back)
    assert list(back.columns) == list(full.columns)
    assert list(back.dtypes) == list(full.dtypes)
    pd.testing.assert_frame_equal(
        _sorted(back).drop(columns="raw"), _sorted(full).drop(columns="raw")
    )
    assert _sorted(back)["raw"].tolist() == _sorted(full)["raw"].tolist()
    # hive partitions by account and month of created; every file private
    files = sorted((tmp_path / "ds").rglob("*.parquet"))
    assert files and all(f.parent.parent.name == "account=self" for f in files)
    for f in files:
        month = f.parent.name.removeprefix("month=")
        created = pd.read_parquet(f, columns=["created"])["created"]
        assert (created.dt.strftime("%Y-%m") == month).all()
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    # any engine reads it: pyarrow's dataset with the partition columns
    table = pads.dataset(tmp_path / "ds", partitioning="hive").to_table(columns=["id", "month"])
    assert table.num_rows == len(full)


@pytest.mark.slow
def test_an_interrupted_export_resumes_without_reading_again(
    fresh_sandbox: Sandbox, fresh_session: Session, tmp_path: Path
) -> None:
    target = tmp_path / "ds"
    stop = threading.Event()

    def progress(done: int, total: int | None, label: str) -> None:
        if done >= 120:
            stop.set()

    with pytest.raises(toolkit.Cancelled, match="run the same export again"):
        toolkit.export_sources(fresh_session, target, batch=20, progress=progress, cancel=stop)
    assert (target / CHECKPOINT).is_file()
    fresh_sandbox.clear_log()
    info = toolkit.export_sources(fresh_session, target, batch=20, progress=False)
    resumed_requests = len(fresh_sandbox.requests)
    assert info.windows_skipped > 0
    back = toolkit.read_dataset(target)
    full = toolkit.load_sources(fresh_session, progress=False, metadata_columns=False)
    assert sorted(back["id"]) == sorted(full["id"])  # nothing lost, nothing twice
    fresh_sandbox.clear_log()
    toolkit.export_sources(fresh_session, tmp_path / "again", batch=20, progress=False)
    assert resumed_requests < len(fresh_sandbox.requests)  # the done windows were not re-read
    done = toolkit.export_sources(fresh_session, target, progress=False)  # complete: nothing to do
    assert done.sources == 0 and done.windows == 0


@pytest.mark.slow
def test_every_account_and_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    revoked = "acct_1Revoked0000"
    with Sandbox(seed=11, customers=40, revoked_accounts=[revoked]) as box:
        session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
        info = toolkit.export_sources(session, tmp_path / "all", accounts="all", progress=False)
        assert [r["account"] for r in info.refused_accounts] == [revoked]
        back = toolkit.read_dataset(tmp_path / "all")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", toolkit.AccountWarning)
            full = toolkit.load_sources(
                session, accounts="all", progress=False, metadata_columns=False
            )
        assert list(back.columns) == list(full.columns)
        pairs = set(zip(back["id"], back["account"], strict=True))
        assert pairs == set(zip(full["id"], full["account"], strict=True))
        partitions = {p.name for p in (tmp_path / "all").iterdir() if p.is_dir()}
        assert partitions == {f"account={a}" for a in box.connected_accounts}
        # the CLI: a folder target streams the dataset; a refused account exits 5
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("STRIPE_API_BASE", box.url)
        monkeypatch.delenv("STRIPE_API_KEY", raising=False)
        parser = argparse.ArgumentParser()
        export.add_arguments(parser)
        assert export.run(parser.parse_args(["--out", "cli/", "--quiet"])) == 0
        assert len(toolkit.read_dataset("cli")) > 0
        code = export.run(parser.parse_args(["--out", "cli-all/", "--accounts", "all", "--quiet"]))
        assert code == 5
        with pytest.raises(toolkit.InvalidInputError, match="whole account"):
            export.run(parser.parse_args(["--out", "x/", "--customers", "cus_1", "--quiet"]))


def test_windows_and_mistakes(fresh_session: Session, tmp_path: Path) -> None:
    windows = month_windows(1_790_812_800, 1_793_491_200)
    assert windows[0][0] is None and windows[-1][1] is None
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    with pytest.raises(toolkit.InvalidInputError, match="batch"):
        toolkit.export_sources(fresh_session, tmp_path / "x", batch=0, progress=False)
    with pytest.raises(toolkit.InvalidInputError, match="No dataset"):
        toolkit.read_dataset(tmp_path / "nothing")
    os.makedirs(tmp_path / "busy")
    (tmp_path / "busy" / "mine.parquet").write_bytes(b"x")
    with pytest.raises(toolkit.InvalidInputError, match="new folder"):
        toolkit.export_sources(fresh_session, tmp_path / "busy", progress=False)
