"""Every source of an account (or of every connected account) streamed to a Parquet dataset that
DuckDB, pandas or pyarrow read directly, with memory bounded by a batch, not by the account.

The dataset is a folder partitioned the way Hive and DuckDB expect::

    exports/sources/account=acct_1Abc/month=2026-10/w0007-b0000.parquet

``account`` is the connected account (``self`` for the session's own account) and ``month`` the
month of the source's ``created``. Each file holds the columns of
``load_sources(metadata_columns=False)`` in the same order, with ``metadata`` and ``raw`` as JSON
text; :func:`read_dataset` gives back that frame, dtypes and dicts included.

The export walks the customers in windows of their ``created`` month (oldest month found with a
few one-row probes), one window at a time per account, and writes every ``batch`` sources as
they arrive. ``_checkpoint.json`` (:mod:`toolkit.fetch.checkpoint`) records what the dataset is
of, the windows done and every part written; an export started again on the same folder skips
the windows done without a request and writes again a window cut short, or one whose parts went
missing (its files are replaced, never doubled). The folder is locked while an export writes it
(:mod:`toolkit.fetch.dataset_folder`); a folder of something else is refused, never mixed.
An account that fails is left out whole (and read again by the next export), with an
:class:`~toolkit.AccountWarning`.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from toolkit.errors import (
    AccountWarning,
    Cancelled,
    InvalidInputError,
    ReadAllowanceError,
    StripeRequestError,
)
from toolkit.fetch.accounts import account_ids, asks_all, by_account
from toolkit.fetch.arrow_frames import dtype_spec, frame_table, table_frame
from toolkit.fetch.checkpoint import Checkpoint, own_contents, read_state, start, verify
from toolkit.fetch.dataset_folder import CHECKPOINT, ExportLock, dataset_target
from toolkit.fetch.frame import SourcesBuilder, paused_gc
from toolkit.fetch.load import iter_sources
from toolkit.fetch.loaded import LoadInfo, now_of
from toolkit.fetch.month_windows import month_windows, oldest_created
from toolkit.fetch.schema import FRAME_DTYPES
from toolkit.private_files import private_folder, write_private
from toolkit.progress import Progress, ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = [
    "BATCH",
    "CHECKPOINT",
    "ExportInfo",
    "check_dataset",
    "dataset_frame",
    "export_sources",
    "month_windows",
    "read_dataset",
]

BATCH = 5_000  # sources held before they are written
OWN = "self"  # the partition of the session's own account
PARTITIONING = pads.partitioning(
    pa.schema([("account", pa.string()), ("month", pa.string())]), flavor="hive"
)
#: The frame's columns and dtypes, as a short digest: a dataset never mixes two schemas.
SCHEMA_DIGEST = hashlib.sha256(
    json.dumps([[c, dtype_spec(t)] for c, t in FRAME_DTYPES.items()], sort_keys=True).encode()
).hexdigest()[:12]


@dataclass
class ExportInfo:
    """What an export wrote: the folder, the sources and files written, the windows done (and
    those skipped because an earlier run did them, and those written again because their parts
    went missing), the accounts left out (account, error), and ``reads``: the GET requests it
    sent (what Stripe counts against the read allocation)."""

    path: str
    sources: int = 0
    files: int = 0
    windows: int = 0
    windows_skipped: int = 0
    windows_repaired: int = 0
    requests: int = 0
    reads: int = 0
    refused_accounts: list[dict[str, str]] = field(default_factory=list)


def _write(
    folder: Path, account: str, rows: list[dict[str, Any]], name: str
) -> dict[str, tuple[int, int]]:
    """Write one batch into its partitions (one file per month it touches); returns the parts
    written (relative path -> (rows, bytes))."""
    builder = SourcesBuilder(owned=True)
    builder.add(rows)
    frame = builder.finish(metadata_columns=False, order=None)
    table = frame_table(frame)
    del frame, builder
    months = pc.strftime(table.column("created"), format="%Y-%m", locale="C")
    written: dict[str, tuple[int, int]] = {}
    for month in sorted(set(months.to_pylist())):
        part = table.filter(pc.equal(months, month))
        rel = f"account={account}/month={month}/{name}.parquet"
        private_folder((folder / rel).parent)
        path = write_private(folder / rel, _parquet_writer(part), binary=True)
        written[rel] = (part.num_rows, path.stat().st_size)
    pa.default_memory_pool().release_unused()
    return written


def _parquet_writer(table: pa.Table) -> Callable[[Any], None]:
    def write(handle: Any) -> None:
        pq.write_table(table, handle)

    return write


def _export_account(
    session: SessionLike,
    account: str,
    checkpoint: Checkpoint,
    info: ExportInfo,
    batch: int,
    bar: Progress,
    cancel: threading.Event | None,
) -> None:
    now = int(now_of(session).timestamp())
    windows = checkpoint.windows(account, lambda: month_windows(oldest_created(session, now), now))
    for index, window in enumerate(windows):
        if checkpoint.is_done(account, index):
            with checkpoint.lock:
                info.windows_skipped += 1
            continue
        rows: list[dict[str, Any]] = []
        part = 0
        with paused_gc():
            for src in iter_sources(session, created=window, progress=False, cancel=cancel):
                rows.append(src)
                if len(rows) >= batch:
                    _flush(account, f"w{index:04d}-b{part:04d}", rows, checkpoint, info, bar)
                    rows, part = [], part + 1
            if rows:
                _flush(account, f"w{index:04d}-b{part:04d}", rows, checkpoint, info, bar)
        checkpoint.done(account, index)
        with checkpoint.lock:
            info.windows += 1


def _flush(
    account: str,
    name: str,
    rows: list[dict[str, Any]],
    checkpoint: Checkpoint,
    info: ExportInfo,
    bar: Progress,
) -> None:
    """One batch to its files, recorded and counted under the lock (accounts run side by
    side)."""
    parts = _write(checkpoint.folder, account, rows, name)
    checkpoint.wrote(parts)
    with checkpoint.lock:
        info.files += len(parts)
        info.sources += len(rows)
    bar.update(info.sources, f"{info.sources:,} sources · {account}")


def _identity(session: SessionLike, accounts: Any, ids: list[str]) -> dict[str, Any]:
    """What a dataset is a dataset of: one folder never mixes two."""
    asked: Any = None
    if accounts is not None:
        asked = "all" if asks_all(accounts) else sorted(ids)
    return {
        "account": session.stripe_account or OWN,
        "mode": session.mode,
        "api_host": urlsplit(session.api_base).hostname,
        "accounts": asked,
        "scope": "account",  # every customer: a dataset has no created, customers or ids filter
        "schema": SCHEMA_DIGEST,
    }


def export_sources(
    session: SessionLike,
    path: str | os.PathLike[str],
    *,
    accounts: str | Sequence[str] | None = None,
    batch: int = BATCH,
    replace: bool = False,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> ExportInfo:
    """Stream every source of the account (``accounts="all"`` or a list: of those connected
    accounts, side by side) into the Parquet dataset at folder ``path``; returns what it wrote.
    Run it again on the same folder after an interruption: it goes on where it stopped.

    ``path`` must be a new or empty folder, or a dataset of the same account(s), mode and API
    host; ``replace=True`` deletes a dataset of something else (or a damaged one) first.
    Another export writing the same folder, a system folder, or files the export did not
    write are refused. An account that fails is left out whole, with an
    :class:`~toolkit.AccountWarning` (and ``refused_accounts``); the next export reads it.

    >>> done = toolkit.export_sources(session, "exports/sources", progress=False)
    >>> len(toolkit.read_dataset("exports/sources")) == done.sources
    True
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InvalidInputError(f"batch must be a whole number of sources >= 1, not {batch!r}.")
    own = [OWN] if accounts is None else account_ids(session, accounts)
    folder = dataset_target(path)
    own_contents(folder)  # a folder of other files is refused before a lock file is put in it
    with ExportLock(folder):
        checkpoint, repaired = start(folder, _identity(session, accounts, own), replace=replace)
        info = ExportInfo(path=str(folder), windows_repaired=repaired)
        _export(session, accounts, own, checkpoint, info, batch, progress, cancel)
    for line in LoadInfo(refused_accounts=info.refused_accounts).not_found():
        warnings.warn(AccountWarning(line), stacklevel=2)
    return info


def _export(
    session: SessionLike,
    accounts: Any,
    own: list[str],
    checkpoint: Checkpoint,
    info: ExportInfo,
    batch: int,
    progress: ProgressArg,
    cancel: threading.Event | None,
) -> None:
    """The export itself, holding the folder's lock. A fresh export of the session's own
    account is held to what the last one cost (the read ledger); one that goes on from a
    checkpoint, and each connected account's windows, are checked as they read."""
    fresh = accounts is None and not any(checkpoint.state["done"].values())
    with session.reading("export sources" if fresh else None) as meter:
        try:
            _export_reading(
                session, accounts, own, checkpoint, info, batch, progress, cancel, meter
            )
        except ReadAllowanceError as exc:
            info.reads = meter.reads
            raise exc.keeping(
                info,
                f"{info.sources:,} sources are written in {checkpoint.folder} (error.partial is "
                "what the export did); run the same export again once reads are allowed to go "
                "on from there.",
            ) from None
        finally:
            info.reads = meter.reads


def _export_reading(
    session: SessionLike,
    accounts: Any,
    own: list[str],
    checkpoint: Checkpoint,
    info: ExportInfo,
    batch: int,
    progress: ProgressArg,
    cancel: threading.Event | None,
    meter: Any,
) -> None:
    bar = Progress(progress, None, "Exporting sources", unit="sources", reads=meter)
    start_count = session.limiter.acquired
    try:
        if accounts is None:
            _export_account(session, OWN, checkpoint, info, batch, bar, cancel)
        else:

            def work(sub: SessionLike, account: str) -> pd.DataFrame:
                try:
                    _export_account(sub, account, checkpoint, info, batch, bar, cancel)
                except StripeRequestError:
                    checkpoint.drop_account(account)  # refused means absent, read again later
                    raise
                finally:
                    with checkpoint.lock:
                        info.requests += sub.limiter.acquired
                return pd.DataFrame()

            _, info.refused_accounts = by_account(session, own, work, cancel)
    except Cancelled:
        raise Cancelled(
            f"Canceled: {info.sources:,} sources are written in {checkpoint.folder}; run the "
            "same export again to go on from there."
        ) from None
    finally:
        bar.close()
    info.requests += session.limiter.acquired - start_count
    loaded = LoadInfo(
        taken_at=now_of(session).isoformat(),
        account=session.account_label,
        mode=session.mode,
        scope="account",
        refused_accounts=info.refused_accounts or None,
    )
    checkpoint.finish(loaded.to_attrs())


def check_dataset(path: str | os.PathLike[str]) -> list[str]:
    """The parts of the dataset at ``path`` (relative paths), once checked against its
    checkpoint: the export finished, no part missing or altered, no other file. Otherwise a
    clear :class:`~toolkit.InvalidInputError` naming the fix."""
    return verify(Path(path))[1]


def read_dataset(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The whole dataset as the frame :func:`~toolkit.load_sources` gives (with
    ``metadata_columns=False``; an ``account`` column after ``id`` when the export spanned
    connected accounts), newest first. A dataset whose export did not finish, or whose parts
    differ from those it recorded, is refused with the fix (nothing is read silently short).

    >>> toolkit.read_dataset("exports/sources").columns[:2].tolist()
    ['id', 'customer']
    """
    folder = Path(path)
    state, parts = verify(folder)
    if not parts:
        return dataset_frame(None, folder)
    try:
        found = pads.dataset(
            [str(folder / rel) for rel in parts],
            format="parquet",
            partitioning=PARTITIONING,
            partition_base_dir=str(folder),
        )
        table = found.to_table()
    except (OSError, pa.ArrowException) as exc:
        raise InvalidInputError(
            f"Cannot read the dataset at {folder} ({exc}): give your user read access to its "
            f"files (chmod -R u+rX {str(folder)!r}), or export again into a new folder."
        ) from None
    expected = sum(int(state["parts"][rel]["rows"]) for rel in parts)
    if table.num_rows != expected:
        raise InvalidInputError(
            f"{folder} does not match its checkpoint: its parts hold {table.num_rows:,} rows, "
            f"the export wrote {expected:,}. A part was altered: export into a new folder, or "
            "again into this one with replace=True (CLI: export --force)."
        )
    return dataset_frame(table, folder)


def dataset_frame(table: pa.Table | None, path: str | os.PathLike[str]) -> pd.DataFrame:
    """Rows read from the dataset at ``path`` (all of it, or what a query kept; None: no rows)
    as the sources frame: partition columns dropped, dicts parsed, dtypes of load_sources,
    newest first, an ``account`` column when the export spanned connected accounts, the
    export's LoadInfo."""
    state = read_state(Path(path))
    across = state["dataset"].get("accounts") is not None
    if table is None or not table.column_names:
        frame = SourcesBuilder(owned=True).finish(metadata_columns=False, order="newest")
        account: list[Any] | None = [] if across else None
    else:
        account = table.column("account").to_pylist() if across else None
        table = table.drop_columns([c for c in ("account", "month") if c in table.column_names])
        frame = table_frame(table, FRAME_DTYPES)
    if account is not None:
        frame.insert(1, "account", pd.array(account, dtype="string"))
    frame = frame.sort_values(["created", "id"], ascending=False, kind="stable")
    frame = frame.reset_index(drop=True)
    saved = state.get("finished")
    if saved:
        frame.attrs["toolkit"] = saved
    return frame
