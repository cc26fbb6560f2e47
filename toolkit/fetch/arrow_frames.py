"""A sources frame as an Arrow table and back: the one conversion of snapshots, datasets and
DuckDB answers (``metadata`` and ``raw`` travel as JSON text; dtypes are restored).

>>> df = pd.DataFrame({"id": ["a"], "metadata": [{"k": "v"}]})
>>> table_frame(frame_table(df), {})["metadata"][0]
{'k': 'v'}
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from toolkit.fetch.frame import paused_gc

__all__ = [
    "dtype_spec",
    "dumps_json",
    "frame_table",
    "is_json_column",
    "json_default",
    "objects_array",
    "restore_dtype",
    "table_frame",
]


def json_default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def dumps_json(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return json.dumps(value, default=json_default, ensure_ascii=False, separators=(",", ":"))


def is_json_column(series: pd.Series) -> bool:
    if series.dtype != object:
        return False
    for value in series:
        if value is None:
            continue
        return isinstance(value, dict | list)
    return series.name in ("metadata", "raw")


def dtype_spec(dtype: Any) -> dict[str, Any]:
    if isinstance(dtype, pd.CategoricalDtype):
        return {
            "kind": "category",
            "categories": [str(c) for c in dtype.categories],
            "ordered": bool(dtype.ordered),
        }
    return {"kind": "plain", "dtype": str(dtype)}


def restore_dtype(series: pd.Series, spec: dict[str, Any]) -> pd.Series:
    if spec.get("kind") == "category":
        dtype = pd.CategoricalDtype(
            pd.Index(spec["categories"], dtype="str"), ordered=spec.get("ordered", False)
        )
        if series.dtype == dtype:
            return series
        return series.astype(object).astype(dtype)
    target = spec.get("dtype", "object")
    if str(series.dtype) == target:
        return series
    try:
        return series.astype(target)
    except (TypeError, ValueError):
        return series


def objects_array(values: list[Any]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


def frame_table(
    df: pd.DataFrame, *, json_columns: list[str] | None = None, keep_index: bool = False
) -> pa.Table:
    """A sources frame as an Arrow table: its dict columns (``json_columns``, default those
    :func:`is_json_column` finds: ``metadata``, ``raw``) as JSON text; ``keep_index`` stores an
    index that is not 0..n-1.

    >>> frame_table(pd.DataFrame({"id": ["a"], "metadata": [{"k": "v"}]}))["metadata"][0].as_py()
    '{"k":"v"}'
    """
    out = df.copy(deep=False)
    out.attrs = {}
    if json_columns is None:
        json_columns = [c for c in out.columns if is_json_column(out[c])]
    with paused_gc():
        for column in json_columns:
            out[column] = pd.array([dumps_json(v) for v in out[column]], dtype="string")
    return pa.Table.from_pandas(out, preserve_index=None if keep_index else False)


def table_frame(
    table: pa.Table,
    dtypes: dict[str, Any],
    json_columns: tuple[str, ...] | list[str] = ("metadata", "raw"),
) -> pd.DataFrame:
    """The frame of :func:`frame_table`'s table: the ``json_columns`` parsed, each column of
    ``dtypes`` given that dtype (a dtype, or a :func:`dtype_spec`; categories included).

    >>> table_frame(frame_table(pd.DataFrame({"id": ["a"], "raw": [{"x": 1}]})), {})["raw"][0]
    {'x': 1}
    """
    json_columns = [c for c in json_columns if c in table.column_names]
    order = list(table.column_names)
    parsed: dict[str, np.ndarray] = {}
    with paused_gc():
        for column in json_columns:
            strings = table.column(column).to_pylist()
            text = ",".join("null" if v is None else v for v in strings)
            parsed[column] = objects_array(json.loads(f"[{text}]"))
    df = table.drop_columns(json_columns).to_pandas()
    for column in json_columns:
        df[column] = pd.Series(parsed[column], index=df.index, name=column)
    df = df[[c for c in order if c in df.columns]]  # a stored index came back as the index
    for column, dtype in dtypes.items():
        if column in df.columns and column not in json_columns:
            spec = dtype if isinstance(dtype, dict) else dtype_spec(dtype)
            df[column] = restore_dtype(df[column], spec)
    return df
