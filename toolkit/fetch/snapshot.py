"""Snapshots: a sources frame saved to Parquet and loaded back exactly, and the diff of two.

A snapshot keeps every column with its dtype (categories included), the ``metadata`` and ``raw``
dicts, the index, and ``df.attrs`` (when it was taken, from which account and mode). Files are
written readable by the user only (they hold customer data). Example::

    save_snapshot(df, "snapshots/2026-11-01.parquet")
    old = load_snapshot("snapshots/2026-10-01.parquet")
    changes = diff_snapshots(old, df)      # added / removed / changed, with the changed fields
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TypeAlias, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from toolkit.errors import InvalidInputError
from toolkit.fetch.arrow_frames import (
    dtype_spec,
    frame_table,
    is_json_column,
    json_default,
    objects_array,
    table_frame,
)
from toolkit.fetch.duck import diff_datasets, is_dataset
from toolkit.fetch.schema import FRAME_COLUMNS, METADATA_PREFIX
from toolkit.private_files import readable_file, write_private

__all__ = ["DIFF_COLUMNS", "diff_snapshots", "load_snapshot", "save_snapshot", "snapshot_path"]

#: What diff_snapshots compares: a frame, a snapshot file, or a dataset folder.
Snapshot: TypeAlias = pd.DataFrame | str | os.PathLike[str]
_META_KEY = b"toolkit.snapshot"
_VERSION = 1
#: Columns of the frame :func:`diff_snapshots` returns.
DIFF_COLUMNS = ("id", "customer", "change", "fields", "before", "after")
_CHANGES = pd.CategoricalDtype(pd.Index(["added", "removed", "changed"], dtype="str"))


def snapshot_path(path: object) -> Path:
    """``path`` as the Path of a snapshot file to write (a ``*.parquet`` name), or
    :class:`~toolkit.InvalidInputError` naming what is expected.

    >>> snapshot_path("snapshots/today.parquet").name
    'today.parquet'
    """
    if not isinstance(path, str | os.PathLike) or not str(path).strip():
        raise InvalidInputError(
            f"A snapshot is written to a file path such as 'snapshots/today.parquet', "
            f"not {type(path).__name__} {path!r}."
        )
    target = Path(path)
    if target.suffix.lower() not in (".parquet", ".pq"):
        raise InvalidInputError(f"A snapshot is a Parquet file: name it *.parquet, not {target}.")
    return target


def save_snapshot(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` to a Parquet file (mode 0600) that :func:`load_snapshot` reads back exactly.

    >>> path = toolkit.save_snapshot(sources, "snapshots/today.parquet")
    >>> path.name, oct(path.stat().st_mode & 0o777)
    ('today.parquet', '0o600')
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError("save_snapshot needs a DataFrame, e.g. from toolkit.load_sources.")
    target = snapshot_path(path)
    if not all(isinstance(c, str) for c in df.columns):
        raise InvalidInputError("Snapshot columns must be strings.")
    json_columns = [c for c in df.columns if is_json_column(df[c])]
    info = {
        "version": _VERSION,
        "json_columns": json_columns,
        "dtypes": {c: dtype_spec(t) for c, t in df.dtypes.items()},
        "attrs": df.attrs,
    }
    table = frame_table(df, json_columns=json_columns, keep_index=True)
    meta = dict(table.schema.metadata or {})
    meta[_META_KEY] = json.dumps(info, default=json_default).encode()
    table = table.replace_schema_metadata(meta)
    return write_private(target, lambda handle: pq.write_table(table, handle), binary=True)


def load_snapshot(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a snapshot written by :func:`save_snapshot`: same columns, dtypes, dicts and attrs.
    Any other Parquet file is refused (it has not the snapshot's schema record): read that with
    ``pandas.read_parquet``, and a dataset folder with :func:`toolkit.read_dataset`.

    >>> again = toolkit.load_snapshot(toolkit.save_snapshot(sources, "snapshots/s.parquet"))
    >>> list(again.dtypes) == list(sources.dtypes), again.attrs == sources.attrs
    (True, True)
    """
    source = readable_file(
        path,
        "snapshot",
        "check the path (toolkit.save_snapshot writes snapshots; a dataset folder is read with "
        "toolkit.read_dataset).",
    )
    try:
        table = pq.read_table(source)
    except (pa.ArrowException, OSError) as exc:
        raise InvalidInputError(f"{source} is not a readable Parquet snapshot: {exc}") from None
    raw_info = (table.schema.metadata or {}).get(_META_KEY)
    if raw_info is None:
        raise InvalidInputError(
            f"{source} is a Parquet file but not a toolkit snapshot (it lacks the snapshot's "
            "schema record, so its dtypes and attrs cannot be restored): read it with "
            "pandas.read_parquet, or write snapshots with toolkit.save_snapshot."
        )
    try:
        info = json.loads(raw_info)
    except ValueError:
        raise InvalidInputError(
            f"{source} has a damaged snapshot record: write it again with toolkit.save_snapshot."
        ) from None
    df = table_frame(table, info.get("dtypes", {}), info.get("json_columns", []))
    df.attrs = info.get("attrs", {}) or {}
    return df


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _values(series: pd.Series) -> np.ndarray:
    out = series.astype(object).to_numpy(copy=True)
    mask = series.isna().to_numpy()
    out[mask] = None
    return cast(np.ndarray, out)


def _check_frame(df: Any, name: str) -> None:
    if not isinstance(df, pd.DataFrame) or "id" not in df.columns:
        raise InvalidInputError(
            f"diff_snapshots: {name} must be a sources frame (load_sources or load_snapshot)."
        )


def diff_snapshots(old: Snapshot, new: Snapshot) -> pd.DataFrame:
    """Sources added, removed and changed between two frames, with the fields that changed.

    ``old`` and ``new`` are frames, snapshot files, or dataset folders from
    :func:`~toolkit.export_sources`: two datasets are compared in DuckDB (the ``duckdb`` extra)
    and only the rows that differ are read, so accounts too big for a frame diff too.

    One row per source: ``id, customer, change ("added"|"removed"|"changed"), fields`` (list of
    column names, ``metadata.<key>`` for metadata, ``raw.<key>`` for other parts of the object),
    ``before`` and ``after`` (dicts of those fields).

    >>> changed = sources.copy()
    >>> changed.loc[0, "status"] = "consumed" if sources.loc[0, "status"] != "consumed" else "failed"
    >>> toolkit.diff_snapshots(sources, changed)[["change", "fields"]].to_dict("records")
    [{'change': 'changed', 'fields': ['status']}]
    """
    if is_dataset(old) or is_dataset(new):
        if not (is_dataset(old) and is_dataset(new)):
            raise InvalidInputError(
                "diff_snapshots compares two dataset folders, or two frames / snapshot files: "
                "read the dataset with toolkit.read_dataset to compare it with a frame."
            )
        old, new = diff_datasets(old, new)
    before = load_snapshot(old) if isinstance(old, str | os.PathLike) else old
    after = load_snapshot(new) if isinstance(new, str | os.PathLike) else new
    _check_frame(before, "old")
    _check_frame(after, "new")
    return _diff_frames(before, after)


def _diff_frames(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    old_ids = old["id"].astype(object).tolist()
    new_ids = new["id"].astype(object).tolist()
    old_pos = {i: n for n, i in enumerate(old_ids)}
    new_pos = {i: n for n, i in enumerate(new_ids)}
    if len(old_pos) != len(old_ids) or len(new_pos) != len(new_ids):
        raise InvalidInputError("diff_snapshots: a frame has duplicate ids.")

    rows: list[dict[str, Any]] = []
    for sid in sorted(set(new_pos) - set(old_pos)):
        rows.append(_added_removed(new, new_pos[sid], "added"))
    for sid in sorted(set(old_pos) - set(new_pos)):
        rows.append(_added_removed(old, old_pos[sid], "removed"))

    common = sorted(set(old_pos) & set(new_pos))
    if common:
        o_idx = np.array([old_pos[i] for i in common])
        n_idx = np.array([new_pos[i] for i in common])
        columns = [
            c
            for c in FRAME_COLUMNS
            if c not in ("id", "metadata", "raw") and c in old.columns and c in new.columns
        ]
        changed: dict[int, list[str]] = {}
        before: dict[int, dict[str, Any]] = {}
        after: dict[int, dict[str, Any]] = {}
        for column in columns:
            a = _values(old[column].iloc[o_idx])
            b = _values(new[column].iloc[n_idx])
            diff = np.fromiter(
                (x != y for x, y in zip(a, b, strict=True)), dtype=bool, count=len(a)
            )
            for k in map(int, np.flatnonzero(diff)):
                changed.setdefault(k, []).append(column)
                before.setdefault(k, {})[column] = _plain(a[k])
                after.setdefault(k, {})[column] = _plain(b[k])
        _diff_dicts(old, new, o_idx, n_idx, "metadata", METADATA_PREFIX, changed, before, after)
        if "raw" in old.columns and "raw" in new.columns:
            _diff_dicts(old, new, o_idx, n_idx, "raw", "raw.", changed, before, after, skip=True)
        for k in sorted(changed, key=lambda k: common[k]):
            rows.append(
                {
                    "id": common[k],
                    "customer": _plain(new["customer"].iloc[n_idx[k]])
                    if "customer" in new.columns
                    else None,
                    "change": "changed",
                    "fields": changed[k],
                    "before": before[k],
                    "after": after[k],
                }
            )
    return _diff_frame(rows, old, new)


# top-level keys of a source whose content the frame columns already show
_COVERED = {
    "id",
    "customer",
    "type",
    "status",
    "usage",
    "flow",
    "currency",
    "amount",
    "created",
    "livemode",
    "statement_descriptor",
    "metadata",
}


def _diff_dicts(
    old: pd.DataFrame,
    new: pd.DataFrame,
    o_idx: np.ndarray,
    n_idx: np.ndarray,
    column: str,
    prefix: str,
    changed: dict[int, list[str]],
    before: dict[int, dict[str, Any]],
    after: dict[int, dict[str, Any]],
    *,
    skip: bool = False,
) -> None:
    if column not in old.columns or column not in new.columns:
        return
    a = old[column].to_numpy()[o_idx]
    b = new[column].to_numpy()[n_idx]
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        x = x if isinstance(x, dict) else {}
        y = y if isinstance(y, dict) else {}
        if x == y:
            continue
        seen = changed.get(k, [])
        for key in sorted(set(x) | set(y)):
            if (key in x) == (key in y) and x.get(key) == y.get(key):
                continue
            if skip and (key in _COVERED or any(f.startswith(f"{key}_") for f in seen)):
                continue
            for name, a_value, b_value in _leaves(x.get(key), y.get(key), f"{prefix}{key}"):
                changed.setdefault(k, []).append(name)
                before.setdefault(k, {})[name] = a_value
                after.setdefault(k, {})[name] = b_value


def _leaves(a: Any, b: Any, name: str) -> list[tuple[str, Any, Any]]:
    """The differing leaves of two values, as dotted paths (dicts are walked into)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[tuple[str, Any, Any]] = []
        for key in sorted(set(a) | set(b)):
            if (key in a) != (key in b) or a.get(key) != b.get(key):
                out.extend(_leaves(a.get(key), b.get(key), f"{name}.{key}"))
        return out
    return [(name, a, b)]


def _added_removed(df: pd.DataFrame, pos: int, change: str) -> dict[str, Any]:
    return {
        "id": df["id"].iloc[pos],
        "customer": _plain(df["customer"].iloc[pos]) if "customer" in df.columns else None,
        "change": change,
        "fields": [],
        "before": {},
        "after": {},
    }


def _diff_frame(rows: list[dict[str, Any]], old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    order = {"added": 0, "removed": 1, "changed": 2}
    rows.sort(key=lambda r: (order[r["change"]], r["id"]))
    out = pd.DataFrame(
        {
            "id": pd.array([r["id"] for r in rows], dtype="string"),
            "customer": pd.array([r["customer"] for r in rows], dtype="string"),
            "change": pd.Categorical([r["change"] for r in rows], dtype=_CHANGES),
            "fields": objects_array([r["fields"] for r in rows]),
            "before": objects_array([r["before"] for r in rows]),
            "after": objects_array([r["after"] for r in rows]),
        },
        index=pd.RangeIndex(len(rows)),
    )
    out.attrs = {"old": old.attrs.get("toolkit", {}), "new": new.attrs.get("toolkit", {})}
    return out
