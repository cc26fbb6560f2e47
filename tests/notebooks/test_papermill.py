"""Each runbook runs headless with papermill and parameters, as the README shows.

``python -m papermill notebooks/NAME.ipynb out.ipynb -k python3 -p NAME VALUE ...`` in a temporary
folder, on the embedded sandbox (no Stripe key in the environment). The parameters are chosen from
the seeded data (seed 7, the same data every notebook kernel starts), and each run must show them at
work. The four runs go two at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from regenerate import NOTEBOOKS_DIR, kernel_env

import toolkit

NAMES = ["01_explore_sources", "02_receiver_audit", "03_bulk_metadata", "04_detach_sources"]


def outputs_text(nb: dict) -> str:
    """All text outputs of an executed notebook (streams and text/plain), joined."""
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def run_papermill(name: str, args: list[str], workdir: Path) -> tuple[dict | None, str]:
    """Run one runbook with papermill in ``workdir``: (output notebook or None, log tail)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / f"{name}.out.ipynb"
    command = [
        sys.executable,
        "-m",
        "papermill",
        str(NOTEBOOKS_DIR / f"{name}.ipynb"),
        str(out),
        "-k",
        "python3",
        "--cwd",
        str(workdir),
        "--no-progress-bar",
        *args,
    ]
    result = subprocess.run(
        command, cwd=workdir, env=kernel_env(), capture_output=True, text=True, timeout=300
    )
    log = result.stdout[-3000:] + result.stderr[-5000:]
    if result.returncode != 0 or not out.exists():
        return None, log
    return json.loads(out.read_text(encoding="utf-8")), log


@pytest.fixture(scope="module")
def seeded(session) -> pd.DataFrame:
    """The seeded sources (seed 7), as every runbook's own sandbox starts."""
    return toolkit.load_sources(session, progress=False)


@pytest.fixture(scope="module")
def runs(seeded, sandbox, tmp_path_factory) -> dict[str, tuple[dict | None, str, str]]:
    """Run the four runbooks with parameters: name -> (output notebook, log, expected text)."""
    base = tmp_path_factory.mktemp("papermill")
    cards = seeded[(seeded["type"] == "card") & (seeded["status"] == "chargeable")]
    cards = sorted(cards["id"])
    receivers = int((seeded["type"] == "ach_credit_transfer").sum())
    consumed_with_funds = sorted(sandbox.planted["funds_on_consumed"])

    table_dir = base / "03_bulk_metadata"
    table_dir.mkdir()
    pd.DataFrame(
        {"id": cards[:3], "ticket": ["FIN-101", "FIN-102", "FIN-103"], "reviewed": ["yes"] * 3}
    ).to_csv(table_dir / "changes.csv", index=False)

    plans: dict[str, tuple[list[str], str]] = {
        "01_explore_sources": (
            [
                "-y",
                json.dumps({"types": ["ach_credit_transfer"]}),
                "-p",
                "snapshot_path",
                "snapshots/receivers.parquet",
            ],
            f"Saved {receivers} sources to snapshots/receivers.parquet",
        ),
        "02_receiver_audit": (
            [
                "-p",
                "customers_created_from",
                "2025-01-01",
                "-p",
                "pending_days",
                "45",
                "-y",
                json.dumps({"source_ids": consumed_with_funds}),
            ],
            consumed_with_funds[0],
        ),
        "03_bulk_metadata": (
            ["-p", "table_path", "changes.csv", "-p", "undo", "True"],
            "3 of 3 sources hold the planned metadata",
        ),
        "04_detach_sources": (
            ["-y", json.dumps({"source_ids": cards[3:5], "statuses": None})],
            "2 of 2 planned sources are detached",
        ),
    }

    def one(name: str) -> tuple[dict | None, str, str]:
        args, expected = plans[name]
        nb, log = run_papermill(name, args, base / name)
        return nb, log, expected

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(NAMES, pool.map(one, NAMES), strict=True))


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NAMES)
def test_runbook_runs_with_papermill_parameters(name, runs):
    nb, log, expected = runs[name]
    assert nb is not None, log
    assert nb["metadata"]["papermill"]["exception"] in (None, False), log
    tags = [cell["metadata"].get("tags", []) for cell in nb["cells"]]
    assert any("injected-parameters" in t for t in tags)
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
    text = outputs_text(nb)
    assert expected in text, text[-4000:]
    if name == "03_bulk_metadata":
        assert "3 of 3 sources are back to their metadata from before" in text, text[-4000:]
