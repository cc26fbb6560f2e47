"""Regenerate the stored outputs of the runbooks by running them top to bottom on the sandbox.

Usage (from the project folder)::

    .venv/bin/python tests/notebooks/regenerate.py                      # every runbook
    .venv/bin/python tests/notebooks/regenerate.py 03_bulk_metadata 04  # some of them

Each notebook runs with nbclient in a fresh kernel of this Python, in a temporary working folder
(journals, snapshots and exports land there and are thrown away), with no Stripe key in the
environment, so ``toolkit.connect()`` starts the embedded seeded sandbox. Widget state is not
stored (no ``metadata.widgets``), nor are execution timings. The outputs written back are the real
outputs of that run: never edit them by hand. nbval then checks them (``tests/notebooks/``).

The helpers here are shared with the notebook tests.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS_DIR = ROOT / "notebooks"
SANITIZE_FILE = Path(__file__).resolve().parent / "sanitize.cfg"
#: Environment variables that would point a kernel at a real account: never passed to a test run.
STRIPE_VARIABLES = ("STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_ACCOUNT")
#: What must never appear in a stored notebook: API keys and source client secrets.
SECRET_PATTERN = re.compile(r"\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9]{4,}|src_client_secret_\w+")
CELL_TIMEOUT = 300
#: The runbooks, by name, in order (the tests check the folder holds exactly these).
RUNBOOK_NAMES = [
    "01_explore_sources",
    "02_receiver_audit",
    "03_bulk_metadata",
    "04_detach_sources",
    "05_sources_retirement",
]


def runbooks() -> list[Path]:
    """The runbook notebooks, in order: ``notebooks/NN_name.ipynb``.

    >>> [p.name for p in runbooks()][:1]
    ['01_explore_sources.ipynb']
    """
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def kernel_env() -> dict[str, str]:
    """This process's environment without any Stripe key, base or account (so: the sandbox).

    ``subprocess.run([...], env=kernel_env())``
    """
    env = {k: v for k, v in os.environ.items() if k not in STRIPE_VARIABLES}
    env.pop("PYTHONBREAKPOINT", None)
    return env


def copy_runbooks(target: Path) -> list[Path]:
    """Copy the runbooks into ``target`` (a fresh folder with no ``.env``); return the copies.

    ``copies = copy_runbooks(tmp_path / "notebooks")``
    """
    target.mkdir(parents=True, exist_ok=True)
    copies = []
    for path in runbooks():
        copy = target / path.name
        shutil.copyfile(path, copy)
        copies.append(copy)
    return copies


def checked_cells(path: Path) -> int:
    """How many items nbval runs for a notebook: its code cells, minus ``nbval-skip`` ones."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code" and "nbval-skip" not in cell.metadata.get("tags", [])
    )


def clean(nb: Any) -> Any:
    """Drop what must not be stored: widget state, execution timings, papermill run metadata."""
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
    return nb


def execute(path: Path, workdir: Path) -> Any:
    """Run one notebook top to bottom in ``workdir``; return the executed notebook (not saved).

    ``nb = execute(Path("notebooks/01_explore_sources.ipynb"), Path("/tmp/run"))``
    """
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
        store_widget_state=False,
        record_timing=False,
    )
    client.execute()
    return clean(nb)


def main(argv: list[str]) -> int:
    """Regenerate the named runbooks (all when none is named)."""
    import nbformat

    for name in STRIPE_VARIABLES:
        os.environ.pop(name, None)
    wanted = [a.removesuffix(".ipynb") for a in argv]
    paths = [
        p
        for p in runbooks()
        if not wanted or any(p.stem == w or p.stem.startswith(f"{w}_") for w in wanted)
    ]
    if wanted and len(paths) != len(wanted):
        print(f"unknown runbook in {wanted}; have {[p.stem for p in runbooks()]}", file=sys.stderr)
        return 2
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="runbook-") as tmp:
            nb = execute(path, Path(tmp))
        text = nbformat.writes(nb) + "\n"
        leaked = SECRET_PATTERN.search(text)
        if leaked:
            print(f"{path.name}: output shows a secret ({leaked.group(0)[:12]}…)", file=sys.stderr)
            return 1
        path.write_text(text, encoding="utf-8")
        print(f"regenerated {path.relative_to(ROOT)} ({checked_cells(path)} code cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
