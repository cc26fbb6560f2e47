"""What :func:`~toolkit.refresh` accepts, checked before anything is read: a sources frame (or
its snapshot file) that says when and how it was loaded, a session, a ``*.parquet`` target, a
recheck that fits the load. Each refusal is an :class:`~toolkit.InvalidInputError` naming what
is expected.

>>> checked_recheck("customers", "ids")
Traceback (most recent call last):
...
toolkit.errors.InvalidInputError: recheck='customers' re-reads customer pages, which a load of ids does not use: pass recheck='sources' (every id read again).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.fetch.loaded import LoadInfo
from toolkit.fetch.schema import FRAME_COLUMNS
from toolkit.fetch.snapshot import load_snapshot, snapshot_path
from toolkit.session.protocol import SessionLike

__all__ = ["RECHECKS", "checked_out", "checked_recheck", "checked_session", "checked_snapshot"]

#: ``recheck=`` values: re-read the customer pages (loads through customers) or every id.
RECHECKS = {"customers": ("account", "customers"), "sources": ("ids",)}
_ISO = "an ISO 8601 time with its UTC offset such as '2026-11-01T00:00:00+00:00'"


def checked_snapshot(snapshot: object) -> tuple[pd.DataFrame, LoadInfo, datetime]:
    """The frame, its LoadInfo and when it was taken (aware, UTC)."""
    if isinstance(snapshot, str | os.PathLike):
        if Path(snapshot).is_dir():
            raise InvalidInputError(
                f"{snapshot} is a folder: refresh takes a snapshot file (*.parquet from "
                "save_snapshot or python -m toolkit export --out file.parquet); a dataset "
                "folder is brought up to date by running export_sources into it again."
            )
        frame = load_snapshot(snapshot)
    elif isinstance(snapshot, pd.DataFrame):
        frame = snapshot
    else:
        raise InvalidInputError(
            "refresh needs a sources frame from toolkit.load_sources (or the path of a snapshot "
            f"file from save_snapshot), not {type(snapshot).__name__}."
        )
    if "id" not in frame.columns:
        raise InvalidInputError(
            "refresh brings a sources frame up to date (from toolkit.load_sources); this frame "
            "has no 'id' column."
        )
    info = LoadInfo.from_attrs(frame)
    if info is None or not info.taken_at:
        raise InvalidInputError(
            "This frame does not say when it was loaded (df.attrs['toolkit'] is missing), so "
            "its changes cannot be read from events: run toolkit.load_sources again."
        )
    lacking = [c for c in FRAME_COLUMNS if c not in frame.columns]
    if lacking:
        what = "a source-transactions frame" if "source" in frame.columns else "a selection"
        raise InvalidInputError(
            f"This frame lacks the columns {', '.join(lacking[:4])}"
            f"{' and more' if len(lacking) > 4 else ''} of a sources frame ({what}?): refresh "
            "the frame load_sources returned, or its snapshot."
        )
    if info.scope not in ("account", "customers", "ids"):
        raise InvalidInputError(
            f"refresh brings whole-account, customers or ids loads up to date, not a "
            f"{info.scope!r} load: load the account (or those customers) instead."
        )
    since = info.events_since
    if since is not None and (isinstance(since, bool) or not isinstance(since, int)):
        raise InvalidInputError(
            f"This frame's LoadInfo.events_since is {since!r}, not the created (epoch seconds) of "
            "a Stripe event: refresh the frame load_sources returned, or load it again."
        )
    return frame, info, _taken_at(info.taken_at)


def _taken_at(value: object) -> datetime:
    try:
        taken = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        taken = None
    if taken is None or taken.tzinfo is None:
        raise InvalidInputError(
            f"This frame's LoadInfo.taken_at is {value!r}, not {_ISO} (what load_sources "
            "writes): refresh the frame load_sources returned, or load it again."
        )
    return taken


def checked_session(session: object) -> SessionLike:
    """``session`` if it is a :class:`~toolkit.Session`."""
    if not isinstance(session, SessionLike):
        raise InvalidInputError(
            f"refresh needs a session from toolkit.connect(...), not {type(session).__name__}."
        )
    return session


def checked_out(out: object) -> Path | None:
    """Where the new snapshot goes (None: nowhere)."""
    return None if out is None else snapshot_path(out)


def checked_recheck(recheck: object, scope: str | None) -> str | None:
    """``recheck`` if it is None or fits a load of ``scope``."""
    if recheck is None:
        return None
    if not isinstance(recheck, str) or recheck not in RECHECKS:
        raise InvalidInputError(
            f"recheck must be None, 'customers' (re-read the customer pages) or 'sources' "
            f"(re-read every id of a load of ids), not {recheck!r}."
        )
    if scope not in RECHECKS[recheck]:
        if recheck == "customers":
            raise InvalidInputError(
                "recheck='customers' re-reads customer pages, which a load of ids does not use: "
                "pass recheck='sources' (every id read again)."
            )
        raise InvalidInputError(
            "recheck='sources' re-reads every id of a load of ids; a load through customers is "
            "rechecked with recheck='customers' (a read per 100 customers, not one per source)."
        )
    return recheck
