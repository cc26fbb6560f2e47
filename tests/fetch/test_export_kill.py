"""The export's fault campaign: ``python -m toolkit export --out DIR/`` SIGKILLed at random moments,
again and again on one folder, then run to the end: the dataset is the account's full load, no
row lost and none twice, and a killed export's lock never blocks the next one.

It prints the kills and what each left, and is bounded to about a minute.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.sandbox import Sandbox
from toolkit.session import connect

pytestmark = pytest.mark.slow

KILLS = 3
BUDGET_SECONDS = 90


def _export(box: Sandbox, folder: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "STRIPE_API_BASE": box.url}
    env.pop("STRIPE_API_KEY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "toolkit", "export", "--out", f"{folder}/", "--quiet"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("id").reset_index(drop=True)


def test_sigkilled_exports_then_one_to_the_end_equal_a_full_load(tmp_path: Path) -> None:
    rng = random.Random(20261203)
    folder = tmp_path / "ds"
    started = time.monotonic()
    killed = 0
    with Sandbox(seed=11, customers=150, latency=0.01) as box:
        while killed < KILLS and time.monotonic() - started < BUDGET_SECONDS:
            child = _export(box, folder)
            assert child.stderr is not None
            assert child.stderr.readline().startswith("Exporting sources"), child.stderr.read()
            time.sleep(rng.uniform(0.2, 4.0))
            if child.poll() is None:
                child.kill()
                killed += 1
            child.communicate(timeout=60)
            parts = len(list(folder.rglob("w*.parquet")))
            print(f"kill {killed}: {parts} parts on disk")
        child = _export(box, folder)
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err[-2000:]
        assert "Wrote" in out
        session = connect(api_base=box.url, quiet=True)
        back = toolkit.read_dataset(folder)
        full = toolkit.load_sources(session, progress=False, metadata_columns=False)
    print(f"\nexport kill campaign: {killed} kills, then {len(back)} of {len(full)} sources")
    assert killed >= 2
    assert back["id"].is_unique  # none twice
    pd.testing.assert_frame_equal(  # none lost, every value as a full load has it
        _sorted(back).drop(columns="raw"), _sorted(full).drop(columns="raw")
    )
    assert _sorted(back)["raw"].tolist() == _sorted(full)["raw"].tolist()
