"""``python -m toolkit lab``: JupyterLab on a working copy of the runbooks, on 127.0.0.1 with a
fresh token, every kernel on one shared sandbox unless a key is set.

- **A working copy.** The tracked runbooks (``notebooks/``) are copied into a git-ignored working
  folder (default ``work/`` beside them) and JupyterLab opens there: running, autosaving and
  editing never touch a tracked file, and exports, journals and snapshots land in ``work/``. A
  runbook that changed upstream replaces its copy only when the copy was not edited (otherwise
  the launcher says which file to delete to get the new one).
- **One sandbox for every kernel.** With no ``STRIPE_API_KEY`` (environment, or ``.env`` in the
  current folder or beside the runbooks) and no ``STRIPE_API_BASE``, the launcher starts the
  seeded sandbox once and points every kernel at it (``STRIPE_API_BASE``): sources detached in
  one runbook stay detached in the next. It stops with the lab.
- **Secrets stay out of sight.** The token and a key travel in the environment, never on a
  command line where ``ps`` would show them. The URL opens a fresh workspace on the runbook list.

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
from pathlib import Path
from types import FrameType

from toolkit.session.connect import SANDBOX_DEFAULTS, SHARED_SANDBOX_VARIABLE
from toolkit.session.settings import read_dotenv

__all__ = [
    "INSTALLED_NOTEBOOKS",
    "SHARED_SANDBOX",
    "add_arguments",
    "find_runbooks",
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


def refresh_working_copy(notebooks: Path, work: Path) -> list[str]:
    """Copy the runbooks of ``notebooks`` into ``work``; returns what the user should know.

    A copy is made when missing, replaced when its runbook changed and the copy was not edited
    since it was made, and kept (with a note) when the user edited it.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "nb").mkdir(); _ = (folder / "nb" / "01_a.ipynb").write_text("{}")
    >>> refresh_working_copy(folder / "nb", folder / "work"), (folder / "work" / "01_a.ipynb").exists()
    ([], True)
    """
    work.mkdir(parents=True, exist_ok=True)
    manifest_path = work / _MANIFEST
    try:
        manifest: dict[str, str] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    notes = []
    for runbook in sorted(notebooks.glob("*.ipynb")):
        copy = work / runbook.name
        upstream = _digest(runbook)
        if not copy.exists():
            shutil.copyfile(runbook, copy)
        elif _digest(copy) != upstream:
            if _digest(copy) == manifest.get(runbook.name):
                shutil.copyfile(runbook, copy)  # unedited copy of an older version
            else:
                notes.append(
                    f"{copy} has your edits and {runbook} changed since: delete the copy to get "
                    "the new version."
                )
                continue
        manifest[runbook.name] = upstream
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
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
    print(f"Open: http://127.0.0.1:{args.port}/lab?reset&token={token}", flush=True)
    child = subprocess.Popen(command, env=env)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        child.terminate()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:  # Ctrl-C reached JupyterLab too: let it finish
                child.terminate()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if box is not None:
            box.stop()
