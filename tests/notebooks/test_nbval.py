"""The runbooks pass strict nbval: every stored output matches a fresh run on the sandbox.

Runs ``pytest --nbval --nbval-current-env --nbval-sanitize-with tests/notebooks/sanitize.cfg`` in a
subprocess on copies of the runbooks in a temporary folder (so a ``notebooks/.env`` with a real key
is never read, and journals, snapshots and exports are thrown away), with no Stripe key in the
environment. Outputs are regenerated with ``tests/notebooks/regenerate.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from regenerate import SANITIZE_FILE, checked_cells, copy_runbooks, kernel_env, runbooks


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_runbooks_pass_strict_nbval(tmp_path):
    assert len(runbooks()) == 4, [p.name for p in runbooks()]
    copies = copy_runbooks(tmp_path / "notebooks")
    expected = sum(checked_cells(path) for path in copies)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-q",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(SANITIZE_FILE),
        "--nbval-cell-timeout",
        "180",
        "notebooks/",
    ]
    result = subprocess.run(
        command, cwd=tmp_path, env=kernel_env(), capture_output=True, text=True, timeout=580
    )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    passed = re.search(r"(\d+) passed", result.stdout)
    assert passed, report
    assert int(passed.group(1)) == expected, report
    assert not re.search(r"\d+ (failed|error|skipped)", result.stdout), report
