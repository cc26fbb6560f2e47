"""Files of source ids: a selection saved in one runbook (or by the explorer) and opened in
another, or a list for the CLI's ``--ids``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.private_files import write_csv

__all__ = ["read_ids", "save_ids"]

_CONTEXT = ("customer", "type", "status", "currency")


def save_ids(selection: pd.DataFrame | Iterable[str], path: str | Path) -> Path:
    """Write source ids to a CSV (an ``id`` column; with a frame, also customer, type, status
    and currency for whoever reads it), readable by you only; returns the path.

    ``toolkit.save_ids(explorer.selected, "exports/to-detach.csv")``

    >>> import tempfile
    >>> path = toolkit.save_ids(["src_1", "src_2"], Path(tempfile.mkdtemp()) / "selected.csv")
    >>> path.name
    'selected.csv'
    """
    if isinstance(selection, pd.DataFrame):
        if "id" not in selection.columns:
            raise InvalidInputError(
                "save_ids needs a frame with an 'id' column (from load_sources)."
            )
        table = selection[["id", *(c for c in _CONTEXT if c in selection.columns)]].astype("string")
    else:
        table = pd.DataFrame({"id": [str(i) for i in selection]})
    if not len(table):
        raise InvalidInputError("Nothing to save: the selection is empty (select rows first).")
    return write_csv(table, Path(path), index=False, lineterminator="\n")


def read_ids(path: str | Path) -> list[str]:
    r"""Source ids from a CSV with an ``id`` column (as :func:`save_ids` writes) or a text file
    (one per line, or separated by commas or spaces; ``#`` starts a comment), duplicates dropped.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "ids.txt").write_text("src_1  # the first\nsrc_2, src_1\n")
    >>> toolkit.read_ids(folder / "ids.txt")
    ['src_1', 'src_2']
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidInputError(
            f"No id file at {file}: pass a CSV with an 'id' column or one source id per line."
        )
    if file.suffix.lower() == ".csv":
        table = pd.read_csv(file, dtype=str)
        column = "id" if "id" in table.columns else table.columns[0]
        values = [str(v).strip() for v in table[column].dropna()]
    else:
        values = []
        for line in file.read_text(encoding="utf-8").splitlines():
            text = line.split("#", 1)[0]
            values.extend(part for part in text.replace(",", " ").split())
    ids = [v for v in values if v]
    if not ids:
        raise InvalidInputError(f"{file} holds no source ids (src_...).")
    bad = [v for v in ids if not v.startswith("src_")]
    if bad:
        raise InvalidInputError(
            f"{file} holds {len(bad)} value(s) that are not source ids (src_...), e.g. {bad[0]!r}."
        )
    return list(dict.fromkeys(ids))
