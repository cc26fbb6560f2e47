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
they arrive. ``_checkpoint.json`` records the windows done; an export started again on the same
folder with the same arguments skips them without a request and rewrites only the window that
was cut short (its files are replaced, never doubled).
"""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from toolkit.errors import Cancelled, InvalidInputError
from toolkit.fetch.accounts import account_ids, by_account
from toolkit.fetch.arrow_frames import frame_table, table_frame
from toolkit.fetch.frame import SourcesBuilder, paused_gc
from toolkit.fetch.load import iter_sources
from toolkit.fetch.loaded import LoadInfo, now_of
from toolkit.fetch.schema import FRAME_DTYPES
from toolkit.private_files import private_folder, write_private
from toolkit.progress import Progress, ProgressArg
from toolkit.session import Session

__all__ = [
    "BATCH",
    "ExportInfo",
    "dataset_frame",
    "export_sources",
    "month_windows",
    "read_dataset",
]

BATCH = 5_000  # sources held before they are written
CHECKPOINT = "_checkpoint.json"
OWN = "self"  # the partition of the session's own account
_VERSION = 1
PARTITIONING = pads.partitioning(
    pa.schema([("account", pa.string()), ("month", pa.string())]), flavor="hive"
)


@dataclass
class ExportInfo:
    """What an export wrote: the folder, the sources and files written, the windows done (and
    those skipped because an earlier run did them), the accounts left out (account, error)."""

    path: str
    sources: int = 0
    files: int = 0
    windows: int = 0
    windows_skipped: int = 0
    requests: int = 0
    refused_accounts: list[dict[str, str]] = field(default_factory=list)


def month_windows(oldest: int | None, now: int) -> list[tuple[int | None, int | None]]:
    """``created`` windows of customers: everything before ``oldest``'s month, each month up to
    ``now``'s, then everything after.

    >>> month_windows(1790812800, 1793000000)  # 2026-10-01 .. 2026-10-26
    [(None, 1790812800), (1790812800, 1793491200), (1793491200, None)]
    """
    if oldest is None:
        return [(None, None)]
    start = datetime.fromtimestamp(oldest, tz=UTC).replace(day=1, hour=0, minute=0, second=0)
    bounds = [int(start.timestamp())]
    while bounds[-1] <= now:
        month = datetime.fromtimestamp(bounds[-1], tz=UTC)
        nxt = month.replace(year=month.year + (month.month == 12), month=month.month % 12 + 1)
        bounds.append(int(nxt.timestamp()))
    windows: list[tuple[int | None, int | None]] = [(None, bounds[0])]
    windows += list(itertools.pairwise(bounds))
    windows.append((bounds[-1], None))
    return windows


def _oldest(session: Session, now: int) -> int | None:
    """About when the oldest customer was created (to the day), from one-row probes."""

    def any_before(t: int) -> bool:
        page = session.list_customers({"limit": 1, "created": {"lt": t}})
        return bool(page.get("data"))

    if not any_before(now + 1):
        return None
    lo, hi = 1_293_840_000, now + 1  # 2011-01-01 (before Stripe's first customers)
    if any_before(lo):
        return lo
    while hi - lo > 86_400:  # the oldest customer is in [lo, hi)
        mid = (lo + hi) // 2
        if any_before(mid):
            hi = mid
        else:
            lo = mid
    return lo


class _Checkpoint:
    """The windows done, kept in the folder; a run with other arguments starts afresh."""

    def __init__(self, folder: Path, key: dict[str, Any]) -> None:
        self.path = folder / CHECKPOINT
        self.key = key
        self.lock = threading.Lock()
        self.state: dict[str, Any] = {"version": _VERSION, "key": key, "windows": {}, "done": {}}
        if self.path.is_file():
            saved = json.loads(self.path.read_text())
            if saved.get("key") == key and saved.get("version") == _VERSION:
                self.state = saved

    def windows(self, account: str, make: Callable[[], list[Any]]) -> list[Any]:
        with self.lock:
            known = self.state["windows"].get(account)
        if known is None:
            known = [list(w) for w in make()]
            with self.lock:
                self.state["windows"][account] = known
                self.save()
        return [tuple(w) for w in known]

    def is_done(self, account: str, index: int) -> bool:
        with self.lock:
            return index in self.state["done"].get(account, [])

    def done(self, account: str, index: int) -> None:
        with self.lock:
            self.state["done"].setdefault(account, []).append(index)
            self.save()

    def save(self) -> None:
        text = json.dumps(self.state, sort_keys=True)
        write_private(self.path, lambda handle: handle.write(text))


def _write(folder: Path, account: str, rows: list[dict[str, Any]], name: str) -> int:
    """Write one batch into its partitions (one file per month it touches); returns the files
    written."""
    builder = SourcesBuilder(owned=True)
    builder.add(rows)
    frame = builder.finish(metadata_columns=False, order=None)
    table = frame_table(frame)
    del frame, builder
    months = pc.strftime(table.column("created"), format="%Y-%m", locale="C")
    written = 0
    for month in sorted(set(months.to_pylist())):
        part = table.filter(pc.equal(months, month))
        target = private_folder(folder / f"account={account}" / f"month={month}")
        write_private(target / f"{name}.parquet", _parquet_writer(part), binary=True)
        written += 1
    pa.default_memory_pool().release_unused()
    return written


def _parquet_writer(table: pa.Table) -> Callable[[Any], None]:
    def write(handle: Any) -> None:
        pq.write_table(table, handle)

    return write


def _forget(folder: Path, account: str, index: int) -> None:
    """Remove what a window cut short had written (it is written again)."""
    for path in (folder / f"account={account}").glob(f"month=*/w{index:04d}-*.parquet"):
        path.unlink()


def _export_account(
    session: Session,
    folder: Path,
    account: str,
    checkpoint: _Checkpoint,
    info: ExportInfo,
    batch: int,
    bar: Progress,
    cancel: threading.Event | None,
) -> None:
    now = int(now_of(session).timestamp())
    windows = checkpoint.windows(account, lambda: month_windows(_oldest(session, now), now))
    for index, window in enumerate(windows):
        if checkpoint.is_done(account, index):
            with checkpoint.lock:
                info.windows_skipped += 1
            continue
        _forget(folder, account, index)
        rows: list[dict[str, Any]] = []
        part = 0
        with paused_gc():
            for src in iter_sources(session, created=window, progress=False, cancel=cancel):
                rows.append(src)
                if len(rows) >= batch:
                    _flush(
                        folder, account, f"w{index:04d}-b{part:04d}", rows, checkpoint, info, bar
                    )
                    rows, part = [], part + 1
            if rows:
                _flush(folder, account, f"w{index:04d}-b{part:04d}", rows, checkpoint, info, bar)
        checkpoint.done(account, index)
        with checkpoint.lock:
            info.windows += 1


def _flush(
    folder: Path,
    account: str,
    name: str,
    rows: list[dict[str, Any]],
    checkpoint: _Checkpoint,
    info: ExportInfo,
    bar: Progress,
) -> None:
    """One batch to its files, counted under the lock (accounts run side by side)."""
    files = _write(folder, account, rows, name)
    with checkpoint.lock:
        info.files += files
        info.sources += len(rows)
    bar.update(info.sources, f"{info.sources:,} sources · {account}")


def export_sources(
    session: Session,
    path: str | os.PathLike[str],
    *,
    accounts: str | Sequence[str] | None = None,
    batch: int = BATCH,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
) -> ExportInfo:
    """Stream every source of the account (``accounts="all"`` or a list: of those connected
    accounts, side by side) into the Parquet dataset at folder ``path``; returns what it wrote.
    Run it again on the same folder after an interruption: it goes on where it stopped.

    >>> done = toolkit.export_sources(session, "exports/sources", progress=False)
    >>> len(toolkit.read_dataset("exports/sources")) == done.sources
    True
    """
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise InvalidInputError(f"batch must be a whole number of sources >= 1, not {batch!r}.")
    folder = private_folder(Path(path))
    if any(folder.glob("*.parquet")):
        raise InvalidInputError(f"{folder} holds Parquet files of its own: export to a new folder.")
    own = [OWN] if accounts is None else account_ids(session, accounts)
    key = {"accounts": own, "mode": session.mode, "across": accounts is not None}
    checkpoint = _Checkpoint(folder, key)
    info = ExportInfo(path=str(folder))
    bar = Progress(progress, None, "Exporting sources", unit="sources")
    start = session.limiter.acquired
    try:
        if accounts is None:
            _export_account(session, folder, OWN, checkpoint, info, batch, bar, cancel)
        else:

            def work(sub: Session, account: str) -> pd.DataFrame:
                try:
                    _export_account(sub, folder, account, checkpoint, info, batch, bar, cancel)
                finally:
                    with checkpoint.lock:
                        info.requests += sub.limiter.acquired
                return pd.DataFrame()

            _, info.refused_accounts = by_account(session, own, work, cancel)
    except Cancelled:
        raise Cancelled(
            f"Canceled: {info.sources:,} sources are written in {folder}; run the same export "
            "again to go on from there."
        ) from None
    finally:
        bar.close()
    info.requests += session.limiter.acquired - start
    loaded = LoadInfo(
        taken_at=now_of(session).isoformat(),
        account=session.account_label,
        mode=session.mode,
        scope="account",
        refused_accounts=info.refused_accounts or None,
    )
    with checkpoint.lock:
        checkpoint.state["load_info"] = loaded.to_attrs()
        checkpoint.save()
    return info


def read_dataset(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The whole dataset as the frame :func:`~toolkit.load_sources` gives (with
    ``metadata_columns=False``; an ``account`` column after ``id`` when the export spanned
    connected accounts), newest first.

    >>> toolkit.read_dataset("exports/sources").columns[:2].tolist()
    ['id', 'customer']
    """
    return dataset_frame(_open(path).to_table(), path)


def dataset_frame(table: pa.Table, path: str | os.PathLike[str]) -> pd.DataFrame:
    """Rows read from the dataset at ``path`` (all of it, or what a query kept) as the sources
    frame: partition columns dropped, dicts parsed, dtypes of load_sources, newest first, an
    ``account`` column when the export spanned connected accounts, the export's LoadInfo."""
    state = _state(path)
    across = bool((state.get("key") or {}).get("across"))
    account = table.column("account").to_pylist() if across else None
    table = table.drop_columns([c for c in ("account", "month") if c in table.column_names])
    frame = table_frame(table, FRAME_DTYPES)
    if account is not None:
        frame.insert(1, "account", pd.array(account, dtype="string"))
    frame = frame.sort_values(["created", "id"], ascending=False, kind="stable")
    frame = frame.reset_index(drop=True)
    saved = state.get("load_info")
    if saved:
        frame.attrs["toolkit"] = saved
    return frame


def _state(path: str | os.PathLike[str]) -> dict[str, Any]:
    checkpoint = Path(path) / CHECKPOINT
    return json.loads(checkpoint.read_text()) if checkpoint.is_file() else {}


def _open(path: str | os.PathLike[str]) -> pads.Dataset:
    folder = Path(path)
    if not folder.is_dir():
        raise InvalidInputError(f"No dataset at {folder}: export one with toolkit.export_sources.")
    return pads.dataset(folder, format="parquet", partitioning=PARTITIONING)
