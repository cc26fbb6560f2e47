"""Each runbook runs headless with papermill and parameters, as the README shows.

``python -m papermill notebooks/NAME.ipynb out.ipynb -k python3 -p NAME VALUE ...`` in a temporary
folder, on the sandbox (no Stripe key in the environment).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from regenerate import NOTEBOOKS_DIR, kernel_env

#: Per runbook: papermill arguments, and a text the run's outputs must show (the parameter at work).
RUNS: dict[str, tuple[list[str], str]] = {}


def outputs_text(nb: dict) -> str:
    """All text outputs of an executed notebook, joined."""
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append("".join(out.get("text", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
    return "\n".join(parts)


def run_papermill(name: str, args: list[str], workdir: Path) -> dict:
    """Run one runbook with papermill in ``workdir``; return the output notebook as JSON."""
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
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.slow
@pytest.mark.timeout(320)
@pytest.mark.parametrize("name", sorted(RUNS))
def test_runbook_runs_with_papermill_parameters(name, tmp_path):
    args, expected = RUNS[name]
    nb = run_papermill(name, args, tmp_path)
    assert nb["metadata"]["papermill"]["exception"] in (None, False)
    tags = [cell["metadata"].get("tags", []) for cell in nb["cells"]]
    assert any("injected-parameters" in t for t in tags)
    errors = [o for c in nb["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
    assert expected in outputs_text(nb)
