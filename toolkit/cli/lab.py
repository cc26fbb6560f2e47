"""``python -m toolkit lab``: JupyterLab on a working copy of the runbooks, on 127.0.0.1 with a
fresh token, every kernel on one shared sandbox unless a key is set.

- **A working copy.** The tracked runbooks (``notebooks/``) are copied into a git-ignored working
  folder (default ``work/`` beside them) and JupyterLab opens there: running, autosaving and
  editing never touch a tracked file, and exports, journals and snapshots land in ``work/``. A
  runbook that changed upstream replaces its copy only when the copy's cells were not edited
  (running it is not editing); an edited copy is kept, and the launcher says how to get the new
  version without losing the edits.
- **One sandbox for every kernel.** With no ``STRIPE_API_KEY`` (environment, or ``.env`` in the
  current folder or beside the runbooks) and no ``STRIPE_API_BASE``, the launcher starts the
  seeded sandbox once and points every kernel at it (``STRIPE_API_BASE``): sources detached in
  one runbook stay detached in the next. It stops with the lab.
- **Secrets stay out of sight.** The token and a key travel in the environment, never on a
  command line where ``ps`` would show them. The URL opens a fresh workspace on the runbook list.
- **The URL that works.** It is printed once JupyterLab listens, with the port it listens on:
  when the port asked for is taken (another lab), JupyterLab moves to the next one, and the
  launcher says so.

Stopping the launcher (Ctrl-C, SIGTERM) stops JupyterLab and the sandbox.

Examples::

    python -m toolkit lab                          # what make lab runs
    python -m toolkit lab --port 9999              # another port
    python -m toolkit lab --notebooks ~/runbooks   # from an installed package: the runbooks' folder
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from toolkit.session.connect import SANDBOX_DEFAULTS, SHARED_SANDBOX_VARIABLE
from toolkit.session.settings import read_dotenv

__all__ = [
    "INSTALLED_NOTEBOOKS",
    "SHARED_SANDBOX",
    "add_arguments",
    "cells_digest",
    "find_runbooks",
    "listening_port",
    "refresh_working_copy",
    "run",
]

#: Set in every kernel's environment when the lab runs its shared sandbox.
SHARED_SANDBOX = SHARED_SANDBOX_VARIABLE
_MANIFEST = ".runbooks.json"
_REPO_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
#: Where an installed wheel puts the runbooks (pyproject's data-files).
INSTALLED_NOTEBOOKS = Path(sys.prefix) / "share" / "stripe-sources-toolkit" / "notebooks"


def find_runbooks(given: str | None) -> tuple[Path, Path]:
    """The runbooks to open and the working folder for them: ``--notebooks`` if given, else the
    repository's ``notebooks/`` (working copy ``work/`` beside it), else the copy an installed
    wheel ships (working copy ``./work``)."""
    if given:
        folder = Path(given)
        return folder, folder.resolve().parent / "work"
    if _REPO_NOTEBOOKS.is_dir():
        return _REPO_NOTEBOOKS, _REPO_NOTEBOOKS.parent / "work"
    return INSTALLED_NOTEBOOKS, Path.cwd() / "work"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the lab options to ``parser``."""
    parser.add_argument("--port", type=int, default=8888, help="port on 127.0.0.1 (default 8888)")
    parser.add_argument(
        "--notebooks",
        default=None,
        help="the runbooks to copy (default: the repository's notebooks/, else ./notebooks)",
    )
    parser.add_argument(
        "--workdir",
        default=None,
        help="the git-ignored working folder JupyterLab opens (default: work/ beside notebooks/)",
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cells_digest(path: Path) -> str:
    """What a person wrote in a notebook: its cells' types and sources, not their outputs,
    execution counts or metadata (running a runbook is not editing it). A file that is not a
    notebook is taken whole.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> ran = {"cells": [{"cell_type": "code", "source": ["x = 1"], "outputs": [1]}]}
    >>> fresh = {"cells": [{"cell_type": "code", "source": "x = 1", "outputs": []}]}
    >>> _ = (folder / "ran.ipynb").write_text(json.dumps(ran))
    >>> _ = (folder / "fresh.ipynb").write_text(json.dumps(fresh))
    >>> cells_digest(folder / "ran.ipynb") == cells_digest(folder / "fresh.ipynb")
    True
    """
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        written = [
            [cell.get("cell_type"), "".join(cell.get("source") or [])]
            if isinstance(cell.get("source"), list)
            else [cell.get("cell_type"), str(cell.get("source") or "")]
            for cell in cells
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return "file:" + _digest(path)
    return hashlib.sha256(json.dumps(written).encode()).hexdigest()


def refresh_working_copy(notebooks: Path, work: Path) -> list[str]:
    """Copy the runbooks of ``notebooks`` into ``work``; returns what the user should know.

    A copy is made when missing, replaced when its runbook changed and the copy's cells were not
    edited since it was made (running it, which adds outputs, is not editing), and kept (with a
    note that says how to get the new version without losing the edits) when they were.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "nb").mkdir(); _ = (folder / "nb" / "01_a.ipynb").write_text("{}")
    >>> refresh_working_copy(folder / "nb", folder / "work"), (folder / "work" / "01_a.ipynb").exists()
    ([], True)
    """
    work.mkdir(parents=True, exist_ok=True)
    manifest_path = work / _MANIFEST
    try:
        stored = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    # {"cells": {name: cells digest}}; an older launcher kept {name: file digest}
    cells: dict[str, str] = dict(stored.get("cells", {})) if "cells" in stored else {}
    files: dict[str, str] = {} if "cells" in stored else dict(stored)
    notes = []
    for runbook in sorted(notebooks.glob("*.ipynb")):
        copy = work / runbook.name
        upstream = cells_digest(runbook)
        unchanged = upstream == cells.get(runbook.name)  # the runbook, since it was copied
        if copy.exists() and not unchanged and cells_digest(copy) != upstream:
            mine = cells_digest(copy)
            if mine != cells.get(runbook.name) and _digest(copy) != files.get(runbook.name):
                keep = copy.with_name(f"{copy.stem}-mine{copy.suffix}")
                notes.append(
                    f"{copy} has cells you edited, and {runbook} changed since: your copy is "
                    f"kept as it is. To get the new version and keep your edits, rename your "
                    f"copy (e.g. to {keep.name}) and start the lab again."
                )
                continue
            shutil.copyfile(runbook, copy)  # an unedited copy of an older version
        elif not copy.exists():
            shutil.copyfile(runbook, copy)
        cells[runbook.name] = upstream
    text = json.dumps({"cells": cells}, indent=1, sort_keys=True)
    manifest_path.write_text(text, encoding="utf-8")
    return notes


def _stripe_key(folders: list[Path]) -> str | None:
    key = os.environ.get("STRIPE_API_KEY")
    for folder in folders:
        key = key or read_dotenv(folder / ".env").get("STRIPE_API_KEY")
    return key.strip() if key else None


def run(args: argparse.Namespace) -> int:
    """Copy the runbooks, start the shared sandbox if no key is set, run JupyterLab until stopped."""
    folder, default_work = find_runbooks(args.notebooks)
    if not folder.is_dir():
        print(
            f"error: no runbooks at {folder}: pass --notebooks PATH (the repository's notebooks/ "
            "folder, or any folder of runbooks).",
            file=sys.stderr,
        )
        return 2
    work = Path(args.workdir) if args.workdir else default_work
    for note in refresh_working_copy(folder, work):
        print(f"note: {note}", flush=True)

    env = {**os.environ}
    env["JUPYTER_TOKEN"] = token = os.environ.get("JUPYTER_TOKEN") or secrets.token_hex(24)
    key = _stripe_key([Path.cwd(), folder, work])
    box = None
    if key:
        env["STRIPE_API_KEY"] = key
        mode = "your Stripe account (STRIPE_API_KEY is set)"
    elif os.environ.get("STRIPE_API_BASE"):
        mode = "the server at STRIPE_API_BASE (no STRIPE_API_KEY set)"
    else:
        from toolkit.sandbox import Sandbox

        box = Sandbox(**SANDBOX_DEFAULTS)
        box.start()
        env["STRIPE_API_BASE"] = box.url
        env[SHARED_SANDBOX] = "1"
        mode = f"the built-in sandbox at {box.url}, shared by every runbook (no STRIPE_API_KEY set)"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={args.port}",
        f"--ServerApp.root_dir={work}",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    print(f"Starting JupyterLab on {work} (copies of {folder}) against {mode}.", flush=True)
    child = subprocess.Popen(command, env=env)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        child.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    announced = False
    try:
        while True:
            try:
                if not announced:
                    announced = True
                    _announce(listening_port(child, _runtime_dir(env)), args.port, token)
                return child.wait()
            except KeyboardInterrupt:  # Ctrl-C reached JupyterLab too: let it finish
                child.terminate()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if box is not None:
            box.stop()


def _announce(port: int | None, asked: int, token: str) -> None:
    """The URL to open, once JupyterLab listens (nothing if it ended first: it said why)."""
    if port is None:
        return
    if port != asked:
        print(
            f"note: port {asked} is taken (another JupyterLab?): this one listens on port {port}.",
            flush=True,
        )
    print(f"Open: http://127.0.0.1:{port}/lab?reset&token={token}", flush=True)


def _runtime_dir(env: dict[str, str]) -> Path:
    """Where JupyterLab (started with ``env``) writes its server record."""
    if env.get("JUPYTER_RUNTIME_DIR"):
        return Path(env["JUPYTER_RUNTIME_DIR"])
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir())


def listening_port(child: subprocess.Popen[bytes], runtime: Path) -> int | None:
    """The port the JupyterLab server ``child`` listens on, once it listens (from the record
    ``jpserver-<pid>.json`` it writes then in ``runtime``); None if it ended first. JupyterLab
    moves to the next free port when the one asked for is taken: this is the one to open."""
    record = runtime / f"jpserver-{child.pid}.json"
    while child.poll() is None:
        try:
            info = json.loads(record.read_text(encoding="utf-8"))
            if info.get("pid") == child.pid and isinstance(info.get("port"), int):
                return int(info["port"])
        except (OSError, ValueError):
            pass  # not written yet, or half written
        time.sleep(0.2)
    return None
