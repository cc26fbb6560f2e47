"""DuckDB over the Parquet datasets of :func:`~toolkit.export_sources`: the work that would not
fit one frame runs there, and only its (small) answer comes back as a frame.

DuckDB is an optional extra (``pip install 'stripe-sources-toolkit[duckdb]'``). It reads a
dataset folder directly, partitions included::

    con = duckdb.connect()
    con.sql(f"SELECT account, status, count(*) FROM {scan('exports/sources')} GROUP BY ALL")

- :func:`read_receivers`: the receiver rows of a dataset (a small share of the sources), for
  :func:`~toolkit.audit_receivers`;
- :func:`diff_datasets`: two datasets compared in DuckDB; only the rows that differ are read
  into pandas and described as :func:`~toolkit.diff_snapshots` describes them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import ConfigurationError
from toolkit.fetch.dataset import check_dataset, dataset_frame

__all__ = ["diff_datasets", "duckdb_connection", "is_dataset", "read_receivers", "scan"]


def is_dataset(value: Any) -> bool:
    """Is ``value`` the path of a dataset folder (as opposed to a frame or a snapshot file)?

    >>> is_dataset(pd.DataFrame()), is_dataset("no/such/folder")
    (False, False)
    """
    return isinstance(value, str | os.PathLike) and Path(value).is_dir()


def duckdb_connection() -> Any:
    """A fresh in-memory DuckDB connection; a clear error naming the extra when it is missing."""
    try:
        import duckdb
    except ImportError:
        raise ConfigurationError(
            "Reading a dataset folder needs DuckDB: pip install 'stripe-sources-toolkit[duckdb]' "
            "(or pip install duckdb), or read it into a frame with toolkit.read_dataset."
        ) from None
    return duckdb.connect()


def scan(path: str | os.PathLike[str]) -> str:
    """The SQL that reads a dataset folder, partition columns included.

    >>> scan("exports/sources")
    "read_parquet('exports/sources/**/*.parquet', hive_partitioning = true, union_by_name = true)"
    """
    folder = Path(path)
    pattern = (folder / "**" / "*.parquet").as_posix().replace("'", "''")
    return f"read_parquet('{pattern}', hive_partitioning = true, union_by_name = true)"


def _checked(path: str | os.PathLike[str]) -> Path:
    """The folder of a finished dataset whose parts are those its checkpoint records (so a
    query reads nothing short and nothing foreign); else a clear error naming the fix."""
    folder = Path(path)
    check_dataset(folder)
    return folder


def read_receivers(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The receiver sources of a dataset (``flow = 'receiver'``, or with receiver amounts), as
    the frame :func:`~toolkit.load_sources` gives; the selection runs in DuckDB.

    >>> done = toolkit.export_sources(session, "exports/ds", progress=False)
    >>> set(read_receivers("exports/ds")["flow"])
    {'receiver'}
    """
    folder = _checked(path)
    con = duckdb_connection()
    source = scan(folder)
    where = (
        "flow = 'receiver' OR receiver_amount_received IS NOT NULL "
        "OR receiver_amount_charged IS NOT NULL OR receiver_amount_returned IS NOT NULL"
    )
    return dataset_frame(con.sql(f"SELECT * FROM {source} WHERE {where}").to_arrow_table(), folder)


def diff_datasets(
    old: str | os.PathLike[str], new: str | os.PathLike[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of two datasets that differ (added, removed, or any column changed), as two
    frames ``(old_rows, new_rows)`` for :func:`~toolkit.diff_snapshots`; the comparison runs in
    DuckDB, so only those rows are read.

    >>> _ = toolkit.export_sources(session, "exports/a", progress=False)
    >>> before, after = diff_datasets("exports/a", "exports/a")
    >>> len(before), len(after)
    (0, 0)
    """
    con = duckdb_connection()
    a, b = scan(_checked(old)), scan(_checked(new))
    columns = [str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {a}").fetchall()]
    compared = [c for c in columns if c not in ("month",)]
    distinct = " OR ".join(f'o."{c}" IS DISTINCT FROM n."{c}"' for c in compared if c != "id")
    con.execute(
        f"CREATE TEMP TABLE differing AS SELECT coalesce(o.id, n.id) AS id "
        f"FROM {a} o FULL OUTER JOIN {b} n ON o.id = n.id "
        f"WHERE o.id IS NULL OR n.id IS NULL OR {distinct or 'false'}"
    )
    pick = "WHERE id IN (SELECT id FROM differing)"
    return (
        dataset_frame(con.sql(f"SELECT * FROM {a} {pick}").to_arrow_table(), old),
        dataset_frame(con.sql(f"SELECT * FROM {b} {pick}").to_arrow_table(), new),
    )
