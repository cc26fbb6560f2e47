"""The runbooks pass strict nbval: every stored output matches a fresh run on the sandbox.

Runs ``pytest --nbval --nbval-current-env --nbval-sanitize-with tests/notebooks/sanitize.cfg`` in
subprocesses (two at a time, two notebooks each) on copies of the runbooks in a temporary folder, so
a ``notebooks/.env`` with a real key is never read and journals, snapshots and exports are thrown
away, with no Stripe key in the environment. Regenerate outputs with
``tests/notebooks/regenerate.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.notebooks.regenerate import (
    SANITIZE_FILE,
    checked_cells,
    copy_runbooks,
    kernel_env,
    runbooks,
)

GROUPS = 2
HINT = (
    "\nIf this change is intended (new sandbox data, a changed repr), regenerate the stored outputs "
    "with `.venv/bin/python tests/notebooks/regenerate.py`, review the diff and commit it; if a value "
    "changes on every run, add a pattern to tests/notebooks/sanitize.cfg."
)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_runbooks_pass_strict_nbval(tmp_path):
    assert len(runbooks()) == 5, [p.name for p in runbooks()]
    copies = copy_runbooks(tmp_path / "all")
    expected = sum(checked_cells(path) for path in copies)
    assert expected >= 30
    jobs = []
    for group in range(GROUPS):
        folder = tmp_path / f"group{group}"
        (folder / "notebooks").mkdir(parents=True)
        for path in copies[group::GROUPS]:
            path.rename(folder / "notebooks" / path.name)
        command = [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "-p",
            "nbval",  # the repository's settings (found through sanitize.cfg) leave it out
            "--nbval",
            "--nbval-current-env",
            "--nbval-sanitize-with",
            str(SANITIZE_FILE),
            "--nbval-cell-timeout",
            "180",
            "notebooks/",
        ]
        jobs.append(
            subprocess.Popen(
                command,
                cwd=folder,
                env=kernel_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    passed = 0
    for job in jobs:
        output, _ = job.communicate(timeout=580)
        report = output[-8000:] + HINT
        assert job.returncode == 0, report
        found = re.search(r"(\d+) passed", output)
        assert found, report
        assert not re.search(r"\d+ (failed|error|errors|skipped|xfailed)\b", output), report
        passed += int(found.group(1))
    assert passed == expected
