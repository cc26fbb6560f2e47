"""The folder of a Parquet dataset: where one may be written, which of its files the export
wrote, and the lock that keeps two exports out of one folder.

A dataset folder holds ``_checkpoint.json`` (what it is a dataset of, the windows done, every
part written), the parts ``account=<id>/month=<YYYY-MM>/w<window>-b<batch>.parquet`` and, while
an export runs, ``_export.lock`` and ``_export.holder.json`` (who holds it). Anything else is
foreign: the export and :func:`~toolkit.read_dataset` name it and refuse, never read or delete it.

>>> part_window("w0007-b0002.parquet"), part_window("notes.parquet")
(7, None)
>>> system_folder("/")
True
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from toolkit.errors import InvalidInputError
from toolkit.private_files import private_folder, write_private

__all__ = [
    "CHECKPOINT",
    "ExportLock",
    "FolderContents",
    "contents",
    "dataset_target",
    "listed",
    "part_window",
    "system_folder",
]

CHECKPOINT = "_checkpoint.json"
LOCK = "_export.lock"
HOLDER = "_export.holder.json"
_OWN_FILES = (CHECKPOINT, LOCK, HOLDER)
_PART = re.compile(r"^w(\d{4})-b\d{4}\.parquet$")
#: What :func:`~toolkit.private_files.write_private` leaves when a kill cuts a write short.
_TEMPORARY = re.compile(r"^\.(w\d{4}-b\d{4}\.parquet|_checkpoint\.json|_export\.holder\.json)-")
_ACCOUNT = re.compile(r"^account=[A-Za-z0-9_]+$")
_MONTH = re.compile(r"^month=\d{4}-\d{2}$")
#: Folders no export may fill, beside the filesystem's root, the home folder and its parents.
_SYSTEM = (
    "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64", "/media", "/mnt", "/opt",
    "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var",
    "/Applications", "/Library", "/System", "/Users", "/Volumes", "/private",
)  # fmt: skip


def part_window(name: str) -> int | None:
    """The window a part file belongs to (from its name), or None for a file the export did
    not write."""
    match = _PART.match(name)
    return int(match.group(1)) if match else None


def system_folder(path: str | os.PathLike[str]) -> bool:
    """Is ``path`` the filesystem's root, the home folder (or one of its parents) or a system
    folder such as ``/usr``? An export never writes there.

    >>> system_folder("/usr"), system_folder("exports/sources")
    (True, False)
    """
    resolved = Path(path).expanduser().resolve()
    home = Path.home().resolve()
    system = {Path(resolved.anchor), home, *home.parents, *(Path(p) for p in _SYSTEM)}
    for name in ("SystemRoot", "ProgramFiles", "ProgramFiles(x86)", "ProgramData"):
        if os.environ.get(name):  # Windows
            system.add(Path(os.environ[name]).resolve())
    return resolved in system


def dataset_target(path: str | os.PathLike[str]) -> Path:
    """The folder of a dataset export, created 0700 if missing; a system folder (``/``, the home
    folder, ``/usr``, ...) or a file is refused."""
    folder = Path(path).expanduser()
    if system_folder(folder):
        raise InvalidInputError(
            f"{folder} is a system folder: a dataset needs a folder of its own, e.g. "
            "exports/sources/ (created if missing)."
        )
    if folder.exists() and not folder.is_dir():
        raise InvalidInputError(
            f"{folder} is a file: a dataset is a folder; name a new folder, e.g. exports/sources/."
        )
    try:
        return private_folder(folder)
    except OSError as exc:
        raise InvalidInputError(
            f"Cannot create the dataset folder {folder} ({exc.strerror or exc}): choose a "
            "folder you can write to."
        ) from None


@dataclass
class FolderContents:
    """What a dataset folder holds: ``parts`` (relative path -> bytes) the export's naming
    says it wrote, ``foreign`` files and folders it did not write, ``temporary`` files a killed
    write left behind, and whether ``_checkpoint.json`` is there."""

    parts: dict[str, int] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)
    temporary: list[Path] = field(default_factory=list)
    checkpoint: bool = False

    @property
    def empty(self) -> bool:
        """Nothing of an export's in it, and nothing else."""
        return not (self.parts or self.foreign or self.checkpoint)


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as found:
            return sorted(found, key=lambda e: e.name)
    except OSError as exc:
        raise InvalidInputError(
            f"Cannot list {folder} ({exc.strerror or exc}): give your user read access to it."
        ) from None


def contents(folder: Path) -> FolderContents:
    """Sort what ``folder`` holds into parts, foreign files and leftovers (hidden files such as
    ``.DS_Store`` are left alone: no reader reads them)."""
    found = FolderContents()
    for top in _entries(folder):
        if top.name.startswith("."):
            if _TEMPORARY.match(top.name):
                found.temporary.append(Path(top.path))
            continue
        if top.name in _OWN_FILES and top.is_file():
            found.checkpoint = found.checkpoint or top.name == CHECKPOINT
            continue
        if not (_ACCOUNT.match(top.name) and top.is_dir()):
            found.foreign.append(top.name + ("/" if top.is_dir() else ""))
            continue
        for month in _entries(Path(top.path)):
            where = f"{top.name}/{month.name}"
            if month.name.startswith("."):
                continue
            if not (_MONTH.match(month.name) and month.is_dir()):
                found.foreign.append(where + ("/" if month.is_dir() else ""))
                continue
            for item in _entries(Path(month.path)):
                if item.name.startswith("."):
                    if _TEMPORARY.match(item.name):
                        found.temporary.append(Path(item.path))
                elif part_window(item.name) is not None and item.is_file():
                    found.parts[f"{where}/{item.name}"] = item.stat().st_size
                else:
                    found.foreign.append(f"{where}/{item.name}")
    return found


def listed(names: list[str], limit: int = 5) -> str:
    """A few names, and how many more.

    >>> listed(["a", "b", "c"], limit=2)
    'a, b and 1 more'
    """
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


class ExportLock:
    """Held while an export writes ``folder``: a second export into it is refused with a
    :class:`~toolkit.InvalidInputError` naming the holder. The operating system lets go of the
    lock when its process ends, even by a kill, so a killed export never blocks the next one.

    ``with ExportLock(folder): ...``
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = FileLock(folder / LOCK, timeout=0, mode=0o600, thread_local=False)

    def __enter__(self) -> ExportLock:
        try:
            self._lock.acquire()
        except Timeout:
            raise InvalidInputError(
                f"{self.folder} is being written by {self._holder()}: two exports must never "
                "share a folder. Wait for that one to finish (or stop it), then run this again; "
                "or export to another folder."
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        }
        try:
            write_private(self.folder / HOLDER, lambda handle: handle.write(json.dumps(holder)))
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        (self.folder / HOLDER).unlink(missing_ok=True)
        self._lock.release()

    def _holder(self) -> str:
        try:
            holder = json.loads((self.folder / HOLDER).read_text())
            return (
                f"another export (pid {int(holder['pid'])} on {holder['host']}, running since "
                f"{holder['since']})"
            )
        except (OSError, ValueError, TypeError, KeyError):
            return "another export"
