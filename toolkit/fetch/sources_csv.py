"""A sources frame as a CSV file for spreadsheets: money in the currency's major unit under its
name with the minor unit (cents) beside it as ``<name>_minor``, times in UTC as a spreadsheet
reads a date (``2026-10-31 22:42:16``), dict columns as JSON, ``raw`` left out, the file private
(0600), text a spreadsheet would run as a formula escaped (the plans read it back).

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

from toolkit.money import finance_frame, to_major
from toolkit.private_files import write_csv

__all__ = ["MONEY_COLUMNS", "write_sources_csv"]

#: The sources frame's amounts (minor units, in the row's ``currency``).
MONEY_COLUMNS = (
    "amount",
    "receiver_amount_received",
    "receiver_amount_charged",
    "receiver_amount_returned",
)


def write_sources_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a sources frame as CSV (mode 0600); returns the path.

    ``toolkit.write_sources_csv(sources, "exports/sources.csv")``: ``amount`` holds 1399.00 for
    a 1,399.00 USD source and ``amount_minor`` beside it 139900.

    >>> toolkit.write_sources_csv(sources.head(1), "exports/one.csv").name
    'one.csv'
    """
    out = df.drop(columns=[c for c in ("raw",) if c in df.columns])
    if "currency" in out.columns:
        currencies = out["currency"].astype(object)
        for name in MONEY_COLUMNS:
            if name in out.columns:  # right after it: the minor units stay beside the major
                where = out.columns.get_loc(name) + 1
                out.insert(where, f"{name}_major", to_major(out[name], currencies))
        out, _money = finance_frame(out)
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = [
                json.dumps(v, ensure_ascii=False, sort_keys=True)
                if isinstance(v, dict | list)
                else v
                for v in out[column]
            ]
    return write_csv(out, path)
