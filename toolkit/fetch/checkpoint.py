"""What a dataset folder says of itself (``_checkpoint.json``): what it is a dataset of, the
windows done, every part written (its rows and bytes), and whether the export finished.

An export starts only on an empty folder or a dataset of the same thing (:func:`start`): the
same account(s), mode, API host, scope and schema; otherwise it names the difference and the way
out (another folder, or ``replace=True``). It repairs what it finds: a window whose parts are
missing or altered is written again. :func:`verify` is the reader's check: a dataset is read
only when it is finished and its parts are exactly those recorded.

>>> describe({"account": "self", "mode": "test", "api_host": "api.stripe.com", "accounts": "all"})
"the key's own account (test mode, api.stripe.com), connected accounts: all"
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path
from typing import Any, cast

from toolkit.errors import InvalidInputError
from toolkit.fetch.dataset_folder import (
    CHECKPOINT,
    FolderContents,
    contents,
    listed,
    part_window,
)
from toolkit.private_files import write_private

__all__ = [
    "VERSION",
    "Checkpoint",
    "describe",
    "own_contents",
    "read_state",
    "start",
    "verify",
]

VERSION = 2
_PART_KEY = re.compile(r"^account=([A-Za-z0-9_]+)/month=\d{4}-\d{2}/w\d{4}-b\d{4}\.parquet$")
_FIX = (
    "export into a new folder, or start this one again with "
    "export_sources(..., replace=True) (CLI: export --force)"
)


def describe(identity: dict[str, Any]) -> str:
    """A dataset's identity as a reader says it."""
    account = identity.get("account")
    own = "the key's own account" if account in (None, "self") else f"account {account}"
    text = f"{own} ({identity.get('mode')} mode, {identity.get('api_host')})"
    accounts = identity.get("accounts")
    if accounts is not None:
        shown = accounts if isinstance(accounts, str) else listed([str(a) for a in accounts])
        text += f", connected accounts: {shown}"
    for name in ("scope", "schema"):
        if identity.get(name) is not None:
            text += f", {name} {identity[name]}"
    return text


def _key(rel: str) -> tuple[str, int]:
    """(account, window) of a part's relative path."""
    match = _PART_KEY.match(rel)
    assert match is not None
    return match.group(1), int(part_window(rel.rsplit("/", 1)[1]) or 0)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shape_problem(state: Any) -> str | None:
    """What is wrong with a checkpoint's content (None: nothing)."""
    if not isinstance(state, dict):
        return "it is not a JSON object"
    if state.get("version") != VERSION:
        return f"version {state.get('version')!r}, this toolkit writes version {VERSION}"
    if not isinstance(state.get("dataset"), dict):
        return "'dataset' is not an object"
    windows, done, parts = state.get("windows"), state.get("done"), state.get("parts")
    if not (isinstance(windows, dict) and isinstance(done, dict) and isinstance(parts, dict)):
        return "'windows', 'done' or 'parts' is not an object"
    for account, bounds in windows.items():
        if not isinstance(bounds, list) or not all(
            isinstance(w, list) and len(w) == 2 and all(b is None or _is_int(b) for b in w)
            for w in bounds
        ):
            return f"the windows of {account!r} are not pairs of times"
    for account, indexes in done.items():
        known = len(windows.get(account) or [])
        if not isinstance(indexes, list) or not all(_is_int(i) and 0 <= i < known for i in indexes):
            return f"the windows done of {account!r} are not windows it has"
    for rel, record in parts.items():
        if not _PART_KEY.match(rel):
            return f"{rel!r} is not the name of a part"
        if not isinstance(record, dict) or not all(
            _is_int(record.get(k)) and record[k] >= 0 for k in ("rows", "bytes")
        ):
            return f"the record of {rel} has no rows and bytes"
    if state.get("finished") is not None and not isinstance(state["finished"], dict):
        return "'finished' is not an object"
    return None


def read_state(folder: Path) -> dict[str, Any]:
    """The checkpoint of ``folder``, checked; a damaged or edited one is a clear
    :class:`~toolkit.InvalidInputError` naming the fix."""
    path = folder / CHECKPOINT
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInputError(
            f"Cannot read {path} ({exc.strerror or exc}): give your user read access to it."
        ) from None
    except ValueError as exc:  # cut short, edited, not UTF-8
        raise InvalidInputError(f"{path} is damaged (not JSON: {exc}): {_FIX}.") from None
    if isinstance(state, dict) and _is_int(state.get("version")) and state["version"] != VERSION:
        raise InvalidInputError(
            f"{path} was written by another version of the toolkit (checkpoint version "
            f"{state['version']}; this one reads version {VERSION}): {_FIX}."
        )
    problem = _shape_problem(state)
    if problem is not None:
        raise InvalidInputError(f"{path} is damaged or edited ({problem}): {_FIX}.")
    return cast(dict[str, Any], state)


class Checkpoint:
    """The state of one export (thread-safe: accounts are exported side by side); every change
    is saved at once (atomically), so a kill loses at most the batch being written."""

    def __init__(self, folder: Path, state: dict[str, Any]) -> None:
        self.folder = folder
        self.state = state
        self.lock = threading.Lock()

    @property
    def identity(self) -> dict[str, Any]:
        return dict(self.state["dataset"])

    def windows(self, account: str, make: Any) -> list[tuple[int | None, int | None]]:
        """The windows of ``account``: those saved, or ``make()``'s (then saved)."""
        with self.lock:
            known = self.state["windows"].get(account)
        if known is None:
            known = [list(w) for w in make()]
            with self.lock:
                self.state["windows"][account] = known
                self.save()
        return [(w[0], w[1]) for w in known]

    def is_done(self, account: str, index: int) -> bool:
        with self.lock:
            return index in self.state["done"].get(account, [])

    def done(self, account: str, index: int) -> None:
        with self.lock:
            self.state["done"].setdefault(account, []).append(index)
            self.save()

    def wrote(self, parts: dict[str, tuple[int, int]]) -> None:
        """Record parts written (relative path -> (rows, bytes))."""
        with self.lock:
            for rel, (rows, size) in parts.items():
                self.state["parts"][rel] = {"rows": rows, "bytes": size}
            self.save()

    def drop_account(self, account: str) -> None:
        """Forget ``account`` and delete its parts: an account that failed is absent, and the
        next export reads it again."""
        with self.lock:
            for name in ("windows", "done"):
                self.state[name].pop(account, None)
            for rel in [r for r in self.state["parts"] if _key(r)[0] == account]:
                del self.state["parts"][rel]
            self.save()
            shutil.rmtree(self.folder / f"account={account}", ignore_errors=True)

    def finish(self, load_info: dict[str, Any]) -> None:
        with self.lock:
            self.state["finished"] = load_info
            self.save()

    def save(self) -> None:
        text = json.dumps(self.state, sort_keys=True)
        write_private(self.folder / CHECKPOINT, lambda handle: handle.write(text))

    def repair(self, on_disk: dict[str, int]) -> int:
        """Match the record to the parts on disk: a done window with a part missing, altered
        (another size) or not recorded is done again; parts of windows not done are deleted.
        Returns the windows to be done again."""
        done = {(a, i) for a, indexes in self.state["done"].items() for i in indexes}
        recorded: dict[str, dict[str, int]] = self.state["parts"]
        broken = {
            _key(rel)
            for rel, record in recorded.items()
            if _key(rel) in done and on_disk.get(rel) != record["bytes"]
        }
        broken |= {_key(rel) for rel in on_disk if _key(rel) in done and rel not in recorded}
        for account, index in broken:
            self.state["done"][account].remove(index)
        done -= broken
        for rel in [r for r in recorded if _key(r) not in done]:
            del recorded[rel]
        for rel in on_disk:
            if _key(rel) not in done:
                (self.folder / rel).unlink(missing_ok=True)
        return len(broken)


def _fresh(identity: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": VERSION,
        "dataset": identity,
        "windows": {},
        "done": {},
        "parts": {},
        "finished": None,
    }


def own_contents(folder: Path) -> FolderContents:
    """What ``folder`` holds, when it holds nothing an export did not write; else a clear
    refusal (an export never writes among, nor deletes, other files)."""
    found = contents(folder)
    if found.foreign:
        raise InvalidInputError(
            f"{folder} holds files an export did not write ({listed(found.foreign)}): a dataset "
            "needs a folder of its own. Export to a new folder (or an empty one), or move them out."
        )
    return found


def start(folder: Path, identity: dict[str, Any], *, replace: bool) -> tuple[Checkpoint, int]:
    """The checkpoint an export of ``identity`` goes on from (call it holding the folder's
    lock), and how many windows it repairs. An empty folder starts a dataset; a dataset of
    something else, a damaged checkpoint or parts without one are refused unless ``replace``
    (then deleted first); files the export did not write are always refused."""
    found = own_contents(folder)
    for leftover in found.temporary:  # a write cut short by a kill
        leftover.unlink(missing_ok=True)
    state: dict[str, Any] | None = None
    if found.checkpoint:
        try:
            state = read_state(folder)
        except InvalidInputError:
            if not replace:
                raise
    elif found.parts and not replace:
        raise InvalidInputError(
            f"{folder} holds dataset parts but no {CHECKPOINT}, so what they are is unknown: "
            f"{_FIX}."
        )
    if state is not None and state["dataset"] != identity and not replace:
        raise InvalidInputError(
            f"{folder} is a dataset of {describe(state['dataset'])}; this export is of "
            f"{describe(identity)}. One folder never mixes two: export into another folder, or "
            "pass replace=True (CLI: export --force) to delete it and start again."
        )
    if replace or state is None:
        for rel in found.parts:
            (folder / rel).unlink(missing_ok=True)
        state = _fresh(identity)
        found.parts = {}
    checkpoint = Checkpoint(folder, state)
    repaired = checkpoint.repair(found.parts)
    state["finished"] = None  # until this export finishes
    checkpoint.save()
    return checkpoint, repaired


def verify(folder: Path) -> tuple[dict[str, Any], list[str]]:
    """The checkpoint of the dataset at ``folder`` and its parts, once checked: finished, every
    recorded part there with its size, nothing else. Otherwise a clear
    :class:`~toolkit.InvalidInputError` naming what is wrong and the fix."""
    if not folder.is_dir():
        raise InvalidInputError(
            f"No dataset at {folder}: export one with toolkit.export_sources(session, "
            f"{str(folder)!r})."
        )
    found = contents(folder)
    if not found.checkpoint:
        if found.empty:
            raise InvalidInputError(
                f"No dataset at {folder} (the folder is empty): export one with "
                f"toolkit.export_sources(session, {str(folder)!r})."
            )
        raise InvalidInputError(
            f"{folder} is not a dataset of toolkit.export_sources (it has no {CHECKPOINT}): "
            "name the folder an export wrote."
        )
    state = read_state(folder)
    if state.get("finished") is None:
        raise InvalidInputError(
            f"The export into {folder} has not finished (or is running now): run the same "
            "export again to finish it; it goes on where it stopped."
        )
    recorded: dict[str, dict[str, int]] = state["parts"]
    missing = [r for r in recorded if r not in found.parts]
    altered = [r for r in recorded if r in found.parts and found.parts[r] != recorded[r]["bytes"]]
    foreign = found.foreign + [r for r in found.parts if r not in recorded]
    if missing or altered or foreign:
        said = [
            f"{len(names)} {what if len(names) == 1 else plural} ({listed(names)})"
            for names, what, plural in (
                (missing, "part missing", "parts missing"),
                (altered, "part altered", "parts altered"),
                (foreign, "file the export did not write", "files the export did not write"),
            )
            if names
        ]
        raise InvalidInputError(
            f"{folder} does not match its checkpoint: {'; '.join(said)}. Nothing was read. Move "
            "out the files the export did not write, then run the same export into this "
            "folder again: it writes the windows of missing or altered parts again."
        )
    return state, sorted(recorded)
