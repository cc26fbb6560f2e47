"""Build the sources and source-transactions frames (the schema is :mod:`toolkit.fetch.schema`).

The scalar fields are converted in one pass in C++ (pyarrow), then one typed array per column:
several times faster than ``pandas.json_normalize``.

>>> frame = sources_frame([{"id": "src_1", "object": "source", "status": "pending",
...                          "metadata": {"k": "v"}, "client_secret": "src_client_secret_x"}])
>>> frame.loc[0, "status"], frame.loc[0, "metadata.k"], "client_secret" in frame.loc[0, "raw"]
('pending', 'v', False)
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit.fetch.schema import (
    BOOL,
    CREATED,
    INT,
    METADATA_PREFIX,
    OBJECT,
    SCHEMA,
    STRING,
    TRANSACTION_SCHEMA,
    categories,
)
from toolkit.redact import redact_source

__all__ = [
    "SYSTEM_MEMORY",
    "SourcesBuilder",
    "empty_frame",
    "joined_metadata_columns",
    "paused_gc",
    "sources_frame",
    "transactions_frame",
]

_EMPTY: Mapping[str, Any] = {}
#: Where the copies made after the last answer (a load's sort, the merge of accounts) take their
#: memory: Arrow's default allocator (mimalloc) pays each page it has not handed out lately
#: (a process's first copies, and after it gave memory back), 20-40 ms of a load's end.
SYSTEM_MEMORY = pa.system_memory_pool()


_PATHS: dict[str, tuple[str, ...]] = {
    "owner_email": ("owner", "email"),
    "owner_name": ("owner", "name"),
    "owner_phone": ("owner", "phone"),
    **{
        f"owner_address_{k}": ("owner", "address", k)
        for k in ("line1", "line2", "city", "state", "postal_code", "country")
    },
    **{
        f"receiver_{k}": ("receiver", k)
        for k in (
            "address",
            "amount_received",
            "amount_charged",
            "amount_returned",
            "refund_attributes_method",
            "refund_attributes_status",
        )
    },
    **{
        f"ach_credit_transfer_{k}": ("ach_credit_transfer", k)
        for k in ("bank_name", "routing_number", "account_number", "fingerprint", "swift_code")
    },
    **{f"card_{k}": ("card", k) for k in ("brand", "last4", "exp_month", "exp_year")},
    **{f"sepa_debit_{k}": ("sepa_debit", k) for k in ("country", "last4", "mandate_reference")},
    **{f"ach_debit_{k}": ("ach_debit", k) for k in ("bank_name", "last4")},
}


def _arrow_type(dtype: Any) -> pa.DataType:
    if dtype in (INT, CREATED):
        return pa.int64()
    if dtype == BOOL:
        return pa.bool_()
    return pa.string()


def _struct_type(schema: list[tuple[str, Any]]) -> pa.StructType:
    """The arrow struct type holding exactly the scalar fields a frame reads from an object."""
    tree: dict[str, Any] = {}
    for name, dtype in schema:
        if dtype == OBJECT:
            continue
        path = _PATHS.get(name, (name,))
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _arrow_type(dtype)

    def build(node: dict[str, Any]) -> pa.StructType:
        return pa.struct([(k, build(v) if isinstance(v, dict) else v) for k, v in node.items()])

    return build(tree)


_SOURCE_TYPE = _struct_type(SCHEMA)
_TXN_TYPE = _struct_type(TRANSACTION_SCHEMA)


def _coerce(value: Any, typ: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_struct(typ):
        if not isinstance(value, Mapping):
            return None
        return {f.name: _coerce(value.get(f.name), f.type) for f in typ}
    if pa.types.is_string(typ):
        if isinstance(value, Mapping):  # an expanded object: keep its id
            value = value.get("id")
            return None if value is None else str(value)
        return value if isinstance(value, str) else str(value)
    if pa.types.is_boolean(typ):
        return value if isinstance(value, bool) else None
    try:
        return None if isinstance(value, bool) or value == "" else int(value)
    except (TypeError, ValueError):
        return None


def _to_struct_array(objects: Sequence[Mapping[str, Any]], typ: pa.StructType) -> pa.StructArray:
    """Convert in C++ through pyarrow; odd values (wrong types) take a slow, lenient path."""
    try:
        return pa.array(objects, type=typ)
    except (pa.ArrowException, TypeError, ValueError):
        return pa.array([_coerce(o, typ) for o in objects], type=typ)


def _nested(arr: pa.StructArray, path: tuple[str, ...]) -> pa.Array:
    """A nested child, null wherever it or a parent is null."""
    return pc.struct_field(arr, list(path))


def _categorical(arr: pa.Array, dtype: pd.CategoricalDtype) -> pd.Categorical:
    encoded = pc.dictionary_encode(arr)
    values = encoded.dictionary.to_pylist()
    known = dtype.categories
    extra = sorted(v for v in values if v not in known)
    if extra:
        dtype = categories([*known.tolist(), *extra])
    positions = {v: i for i, v in enumerate(dtype.categories)}
    lookup = np.array([positions[v] for v in values] + [-1], dtype=np.int64)
    indices = encoded.indices.fill_null(len(values)).to_numpy(zero_copy_only=False)
    return pd.Categorical.from_codes(lookup[indices], dtype=dtype)


def _mask_and_values(arr: pa.Array, fill: Any, np_type: str) -> tuple[np.ndarray, np.ndarray]:
    mask = arr.is_null().to_numpy(zero_copy_only=False)
    values = arr.fill_null(fill).to_numpy(zero_copy_only=False).astype(np_type, copy=False)
    return values, mask


def _column(arr: pa.Array, dtype: Any) -> Any:
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical(arr, dtype)
    if dtype == STRING:  # pandas keeps text as large_string: cast into the system's memory
        return pd.array(pc.cast(arr, pa.large_string(), memory_pool=SYSTEM_MEMORY), dtype=STRING)
    if dtype == INT:
        values, mask = _mask_and_values(arr, 0, "int64")
        return pd.arrays.IntegerArray(values, mask)
    if dtype == BOOL:
        values, mask = _mask_and_values(arr, False, "bool")
        return pd.arrays.BooleanArray(values, mask)
    if dtype == CREATED:
        values, mask = _mask_and_values(arr, 0, "int64")
        micro = values * 1_000_000
        micro[mask] = np.iinfo("int64").min  # NaT
        return pd.DatetimeIndex(micro.view("datetime64[us]")).tz_localize("UTC").array
    raise AssertionError(dtype)


def _objects(values: list[Any]) -> np.ndarray:
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    return arr


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small dicts (much faster).

    >>> with paused_gc():
    ...     rows = [{"id": i} for i in range(3)]
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _raw(s: Mapping[str, Any]) -> dict[str, Any]:
    if "client_secret" in s:
        return redact_source(s)
    return dict(s)


def _metadata_columns(mds: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        arr = pa.array(mds, memory_pool=SYSTEM_MEMORY)
        if not pa.types.is_struct(arr.type) or any(
            not (pa.types.is_string(f.type) or pa.types.is_null(f.type)) for f in arr.type
        ):
            raise TypeError("metadata values are not all strings")
    except (pa.ArrowException, TypeError, ValueError):
        keys = sorted({k for md in mds for k in md})
        arr = pa.array(
            [{k: None if md.get(k) is None else str(md.get(k)) for k in keys} for md in mds],
            type=pa.struct([(k, pa.string()) for k in keys]),
            memory_pool=SYSTEM_MEMORY,
        )
    out: dict[str, Any] = {}
    for f in sorted(arr.type, key=lambda f: f.name):
        out[METADATA_PREFIX + f.name] = _column(arr.field(f.name), STRING)  # null: all missing
    return out


def with_metadata_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its ``metadata.<key>`` columns made again from its ``metadata`` dicts
    (after rows were replaced): one per key some row has, sorted, before ``raw``.

    >>> df = pd.DataFrame({"id": ["a"], "metadata": [{"k": "v"}], "metadata.old": ["x"], "raw": [{}]})
    >>> with_metadata_columns(df).columns.tolist()
    ['id', 'metadata', 'metadata.k', 'raw']
    """
    base = [c for c in frame.columns if not str(c).startswith(METADATA_PREFIX) and c != "raw"]
    mds = [m if isinstance(m, dict) else {} for m in frame["metadata"]]
    meta = pd.DataFrame(_metadata_columns(mds), index=frame.index) if len(frame) else None
    parts = [frame[base]] + ([meta] if meta is not None else []) + [frame[["raw"]]]
    out = pd.concat(parts, axis=1)
    out.attrs = dict(frame.attrs)
    return out


def joined_metadata_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``, a concatenation of frames that each made their own ``metadata.<key>`` columns,
    with those columns as :func:`with_metadata_columns` makes them for the whole: every key's
    column, sorted, before ``raw``, text, missing in the rows of frames without that key.
    (Each frame made its own in its own thread; remade here, they took 15-20 ms after the last
    answer of ``load_sources(accounts="all")``.)

    >>> a = pd.DataFrame({"id": ["a"], "metadata.z": pd.array(["1"], dtype="string"), "raw": [{}]})
    >>> b = pd.DataFrame({"id": ["b"], "metadata.k": pd.array(["2"], dtype="string"), "raw": [{}]})
    >>> joined = joined_metadata_columns(pd.concat([a, b], ignore_index=True))
    >>> joined.columns.tolist(), joined["metadata.z"].tolist()
    (['id', 'metadata.k', 'metadata.z', 'raw'], ['1', <NA>])
    """
    meta = sorted(str(c) for c in frame.columns if str(c).startswith(METADATA_PREFIX))
    base = [c for c in frame.columns if not str(c).startswith(METADATA_PREFIX) and c != "raw"]
    out = frame[[*base, *meta, "raw"]]
    for name in meta:
        if out[name].dtype != STRING:  # a key some frames lacked, on pandas that made it object
            out[name] = out[name].astype(STRING)
    out.attrs = dict(frame.attrs)
    return out


class SourcesBuilder:
    """Builds a sources frame from batches, converting each batch as it comes (while the rest
    is still being fetched), then sorts once at the end.

    Example::

        builder = SourcesBuilder()
        for batch in batches:
            builder.add(batch)
        df = builder.finish(order="newest")
    """

    def __init__(self, *, owned: bool = False) -> None:
        # owned=True: the dicts are private copies without client_secret (from toolkit.fetch)
        self.owned = owned
        self.chunks: list[pa.Array] = []
        self.mds: list[dict[str, Any]] = []
        self.raws: list[dict[str, Any]] = []

    def __len__(self) -> int:
        return len(self.raws)

    def add(self, sources: Iterable[Mapping[str, Any]]) -> None:
        """Convert one batch of source dicts."""
        objects = sources if isinstance(sources, list) else list(sources)
        if not objects:
            return
        with paused_gc():
            self.chunks.append(_to_struct_array(objects, _SOURCE_TYPE))
            self.mds.extend([dict(s.get("metadata") or _EMPTY) for s in objects])
            if self.owned:
                self.raws.extend(objects)  # type: ignore[arg-type]
            else:
                self.raws.extend([_raw(s) for s in objects])

    def finish(
        self, *, metadata_columns: bool = True, order: str | Sequence[int] | None = None
    ) -> pd.DataFrame:
        """The frame; ``order="newest"`` sorts by created (newest first) then id, a sequence of
        positions puts the rows in that order, None keeps the order of arrival."""
        n = len(self.raws)
        with paused_gc():
            if self.chunks:
                arr = (
                    pa.concat_arrays(self.chunks, memory_pool=SYSTEM_MEMORY)
                    if len(self.chunks) > 1
                    else self.chunks[0]
                )
            else:
                arr = pa.array([], type=_SOURCE_TYPE)
            mds, raws = self.mds, self.raws
            perm: Any = None
            if order == "newest" and n:
                keys = pa.table(
                    {
                        "created": pc.struct_field(arr, ["created"]),
                        "id": pc.struct_field(arr, ["id"]),
                    }
                )
                perm = pc.sort_indices(
                    keys, sort_keys=[("created", "descending"), ("id", "ascending")]
                )
            elif order is not None and not isinstance(order, str):
                perm = pa.array(list(order), type=pa.int64())
            if perm is not None:
                arr = pc.take(arr, perm, memory_pool=SYSTEM_MEMORY)
                index = perm.to_numpy(zero_copy_only=False)
                mds = [mds[i] for i in index]
                raws = [raws[i] for i in index]
            data: dict[str, Any] = {}
            for name, dtype in SCHEMA:
                if dtype == OBJECT:
                    continue
                data[name] = _column(_nested(arr, _PATHS.get(name, (name,))), dtype)
            data["metadata"] = _objects(mds)
            if metadata_columns and n:
                data.update(_metadata_columns(mds))
            data["raw"] = _objects(raws)
        return pd.DataFrame(data, index=pd.RangeIndex(len(raws)), copy=False)


def sources_frame(
    sources: Iterable[Mapping[str, Any]], *, metadata_columns: bool = True
) -> pd.DataFrame:
    """Build the sources DataFrame from source dicts (as Stripe returns them), in their order.

    The scalar fields are converted in one pass in C++ (pyarrow), then one typed array per
    column: several times faster than ``pandas.json_normalize``. ``client_secret`` is dropped.
    Example::

        df = sources_frame(iter_sources(session, progress=False))
    """
    builder = SourcesBuilder()
    builder.add(sources)
    return builder.finish(metadata_columns=metadata_columns)


def empty_frame() -> pd.DataFrame:
    """A sources frame with no rows: every column, every dtype.

    Example: ``empty_frame().dtypes["amount"] == "Int64"``.
    """
    return sources_frame([])


def transactions_frame(
    transactions: Iterable[Mapping[str, Any]],
    customers: Mapping[str, str | None] | None = None,
) -> pd.DataFrame:
    """Build the source-transactions DataFrame; ``customers`` maps source id -> customer id.

    Example: ``transactions_frame(txns, {"src_1": "cus_1"})``.
    """
    customers = customers or {}
    objects = [dict(t) for t in transactions]
    for t in objects:
        t["customer"] = customers.get(t.get("source"))  # type: ignore[arg-type]
    with paused_gc():
        arr = _to_struct_array(objects, _TXN_TYPE)
        data = {
            name: _column(_nested(arr, (name,)), dtype)
            for name, dtype in TRANSACTION_SCHEMA
            if dtype != OBJECT
        }
        for t in objects:
            del t["customer"]
        data["raw"] = _objects(objects)
    return pd.DataFrame(data, index=pd.RangeIndex(len(objects)), copy=False)
