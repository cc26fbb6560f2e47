"""A sources frame as a CSV file for spreadsheets: dict columns as JSON, ``raw`` left out, the
file private (0600), text a spreadsheet would run as a formula escaped (the plans read it back).

>>> import tempfile, pathlib
>>> frame = toolkit.load_sources(session, progress=False).head(2)
>>> path = write_sources_csv(frame, pathlib.Path(tempfile.mkdtemp()) / "sources.csv")
>>> path.read_text().splitlines()[0].split(",")[:3]
['id', 'customer', 'type']
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from toolkit.private_files import write_csv

__all__ = ["write_sources_csv"]


def write_sources_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a sources frame as CSV (mode 0600); returns the path.

    ``toolkit.write_sources_csv(sources, "exports/sources.csv")``

    >>> toolkit.write_sources_csv(sources.head(1), "exports/one.csv").name
    'one.csv'
    """
    out = df.drop(columns=[c for c in ("raw",) if c in df.columns])
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = [
                json.dumps(v, ensure_ascii=False, sort_keys=True)
                if isinstance(v, dict | list)
                else v
                for v in out[column]
            ]
    return write_csv(out, path)
