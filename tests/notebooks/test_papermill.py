"""Each runbook runs headless with papermill and parameters, as the README shows.

``python -m papermill notebooks/NAME.ipynb out.ipynb -k python3 -p NAME VALUE ...`` in a temporary
folder. The parameters are chosen from the seeded data (seed 7, the data every notebook kernel's
embedded sandbox starts with), and each run must show them at work. Two more runs use a test key
(pointed at a sandbox server of their own) to check that with ``dry_run=True`` the bulk-update and
detach runbooks write nothing to a real account. The runs go two at a time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from tests.notebooks.regenerate import NOTEBOOKS_DIR, RUNBOOK_NAMES, kernel_env
from toolkit.sandbox import Sandbox

NAMES = RUNBOOK_NAMES
GUARDED = ["03_bulk_metadata", "04_detach_sources", "05_sources_retirement"]
KEY = "sk_test_" + "N0tebookRun" * 2
LIVE_KEY = "sk_live_" + "N0tebookRun" * 2


@dataclass
class Run:
    """One papermill run: what to pass, what its outputs must show, and what came out."""

    notebook: str
    args: list[str]
    expected: list[str]
    env: dict[str, str] | None = None
    sandbox: Sandbox | None = None
    nb: dict | None = None
    log: str = ""
    workdir: Path = field(default_factory=Path)


def outputs_text(nb: dict) -> str:
    """All text outputs of an executed notebook (streams and text/plain), joined."""
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def run_papermill(run: Run) -> Run:
    """Run one runbook with papermill in ``run.workdir``; fill in ``run.nb`` and ``run.log``."""
    run.workdir.mkdir(parents=True, exist_ok=True)
    out = run.workdir / f"{run.notebook}.out.ipynb"
    command = [
        sys.executable,
        "-m",
        "papermill",
        str(NOTEBOOKS_DIR / f"{run.notebook}.ipynb"),
        str(out),
        "-k",
        "python3",
        "--cwd",
        str(run.workdir),
        "--no-progress-bar",
        *run.args,
    ]
    result = subprocess.run(
        command,
        cwd=run.workdir,
        env=run.env or kernel_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    run.log = result.stdout[-3000:] + result.stderr[-5000:]
    if result.returncode == 0 and out.exists():
        run.nb = json.loads(out.read_text(encoding="utf-8"))
    return run


@pytest.fixture(scope="module")
def seeded(session) -> pd.DataFrame:
    """The seeded sources (seed 7), as every runbook's own sandbox starts."""
    return toolkit.load_sources(session, progress=False)


@pytest.fixture(scope="module")
def runs(seeded, sandbox, tmp_path_factory) -> Iterator[dict[str, Run]]:
    """Every papermill run of this module, done two at a time: key -> finished Run."""
    base = tmp_path_factory.mktemp("papermill")
    cards = seeded[(seeded["type"] == "card") & (seeded["status"] == "chargeable")]
    cards = sorted(cards["id"])
    receivers = int((seeded["type"] == "ach_credit_transfer").sum())
    consumed_with_funds = sorted(sandbox.planted["funds_on_consumed"])
    (base / "03_bulk_metadata").mkdir()
    pd.DataFrame(
        {"id": cards[:3], "ticket": ["FIN-101", "FIN-102", "FIN-103"], "reviewed": ["yes"] * 3}
    ).to_csv(base / "03_bulk_metadata" / "changes.csv", index=False)
    (base / "04_detach_sources").mkdir()
    toolkit.save_ids(cards[3:5], base / "04_detach_sources" / "selection.csv")

    plans = {
        "01_explore_sources": Run(
            "01_explore_sources",
            [
                *("-y", json.dumps({"types": ["ach_credit_transfer"]})),
                *("-p", "snapshot_path", "snapshots/receivers.parquet", "-p", "csv_path", "None"),
            ],
            [f"Saved {receivers} sources to snapshots/receivers.parquet"],
        ),
        "02_receiver_audit": Run(
            "02_receiver_audit",
            [
                *("-p", "customers_created_from", "2025-01-01", "-p", "pending_days", "45"),
                *("-y", json.dumps({"source_ids": consumed_with_funds})),
            ],
            consumed_with_funds,
        ),
        "03_bulk_metadata": Run(
            "03_bulk_metadata",
            ["-p", "table_path", "changes.csv", "-p", "undo", "True", "-p", "dry_run", "False"],
            [
                "3 of 3 sources hold the planned metadata",
                "3 of 3 sources are back to their metadata from before",
            ],
        ),
        "04_detach_sources": Run(
            "04_detach_sources",
            [  # the selection travels as a file, as runbook 01's explorer saves it
                *("-y", json.dumps({"statuses": None})),
                *("-p", "source_ids_path", "selection.csv"),
                *("-p", "dry_run", "False", "-p", "confirm", "2"),
            ],
            ["2 of 2 planned sources are detached", "this run WRITES to"],
        ),
        "05_sources_retirement": Run(
            "05_sources_retirement",
            ["-p", "unapplied_days", "30", "-p", "as_of", "2026-11-01T00:00:00Z"],
            [
                "<MigrationAudit as of 2026-11-01:",
                "Cash balance unapplied for more than 30 days",
                "Nothing was written (dry_run is True)",
            ],
        ),
    }
    boxes = []
    for name in GUARDED:
        box = Sandbox(seed=11, customers=60)
        box.start()
        boxes.append(box)
        env = {**kernel_env(), "RUNBOOK_KEY": KEY, "STRIPE_API_BASE": box.url}
        plans[f"{name}:test-key"] = Run(
            name,
            ["-p", "api_key_env", "RUNBOOK_KEY"],
            ["Connected to: test", "Nothing was"],
            env=env,
            sandbox=box,
        )
    # a platform: every connected account audited side by side, rolled up per account
    plans["02_receiver_audit:accounts"] = Run(
        "02_receiver_audit", ["-p", "accounts", "all"], ["account", "acct_1"]
    )
    # Run All as it comes (no parameters) in the sandbox writes nothing, and says so first
    for name in ("03_bulk_metadata", "04_detach_sources"):
        box = Sandbox(seed=7, customers=60)
        box.start()
        boxes.append(box)
        plans[f"{name}:run-all"] = Run(
            name,
            [],
            ["Dry run: nothing is written to", "Nothing was"],
            env={**kernel_env(), "STRIPE_API_BASE": box.url},
            sandbox=box,
        )
    # a detach asked for with the wrong confirmation stops before writing, and says what to type
    box = Sandbox(seed=7, customers=60)
    box.start()
    boxes.append(box)
    plans["04_detach_sources:wrong-confirm"] = Run(
        "04_detach_sources",
        ["-p", "dry_run", "False", "-p", "confirm", "DETACH"],
        ["confirm with the number of sources the plan detaches"],
        env={**kernel_env(), "STRIPE_API_BASE": box.url},
        sandbox=box,
    )
    # a live key with yes/no parameters passed raw (-r): strings must never open live writes
    live = Sandbox(seed=11, customers=60)
    live.start()
    boxes.append(live)
    live_env = {**kernel_env(), "RUNBOOK_KEY": LIVE_KEY, "STRIPE_API_BASE": live.url}
    for value, error in (("False", "allow_live=True"), ("no", "-p allow_live True")):
        plans[f"03_bulk_metadata:raw-{value}"] = Run(
            "03_bulk_metadata",
            [
                "-p",
                "api_key_env",
                "RUNBOOK_KEY",
                "-r",
                "allow_live",
                value,
                "-r",
                "dry_run",
                "False",
            ],
            [error],
            env=live_env,
            sandbox=live,
        )
    for key, run in plans.items():
        run.workdir = base / key.replace(":", "-")
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            done = dict(zip(plans, pool.map(run_papermill, plans.values()), strict=True))
        yield done
    finally:
        for box in boxes:
            box.stop()


def check_run(run: Run) -> str:
    """The run completed without an error output and shows what it must; returns its text."""
    assert run.nb is not None, run.log
    assert run.nb["metadata"]["papermill"]["exception"] in (None, False), run.log
    tags = [cell["metadata"].get("tags", []) for cell in run.nb["cells"]]
    assert any("injected-parameters" in t for t in tags) or not run.args  # Run All: none
    cells = run.nb["cells"]
    assert not [o for c in cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    text = outputs_text(run.nb)
    for expected in run.expected:
        assert expected in text, text[-4000:]
    return text


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", NAMES)
def test_runbook_runs_with_papermill_parameters(name, runs):
    check_run(runs[name])


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", GUARDED)
def test_on_a_real_key_dry_run_writes_nothing(name, runs):
    run = runs[f"{name}:test-key"]
    check_run(run)
    assert run.sandbox is not None
    writes = [r for r in run.sandbox.requests if r.method.upper() != "GET"]
    assert writes == []
    assert len(run.sandbox.requests) > 10  # it did read the account
    assert KEY not in json.dumps(run.nb)
    assert not (run.workdir / "journals").exists()


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("value", ["False", "no"])
def test_raw_string_flags_never_open_live_writes(value, runs):
    """``-r allow_live False`` passes the text "False": it reads as False; "no" is refused."""
    run = runs[f"03_bulk_metadata:raw-{value}"]
    assert run.nb is None  # the run stopped with an error
    assert run.expected[0] in run.log, run.log[-3000:]
    assert run.sandbox is not None
    assert not [r for r in run.sandbox.requests if r.method.upper() != "GET"]
    assert LIVE_KEY not in run.log


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", ["03_bulk_metadata", "04_detach_sources"])
def test_run_all_writes_nothing_by_default(name, runs):
    run = runs[f"{name}:run-all"]
    check_run(run)
    assert run.sandbox is not None
    assert not [r for r in run.sandbox.requests if r.method.upper() != "GET"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_wrong_detach_confirmation_writes_nothing(runs):
    run = runs["04_detach_sources:wrong-confirm"]
    assert run.nb is None  # the run stopped at the confirmation
    assert run.expected[0] in run.log, run.log[-3000:]
    assert "Traceback" not in run.log.split("confirm with the number")[0][-400:]
    assert run.sandbox is not None
    assert not [r for r in run.sandbox.requests if r.method.upper() != "GET"]


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_platform_audit_rolls_up_per_account(runs):
    text = check_run(runs["02_receiver_audit:accounts"])
    assert "One account: no roll-up" not in text
    assert text.count("acct_1") >= 3  # the roll-up names each connected account
