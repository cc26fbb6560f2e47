"""Files of source ids: a selection saved in one runbook (or by the explorer) and opened in
another, or a list for the CLI's ``--ids``."""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.fetch.inputs import id_list
from toolkit.private_files import readable_file, write_csv

__all__ = ["read_ids", "save_ids"]

_CONTEXT = ("customer", "type", "status", "currency")
_HINT = "pass a CSV with an 'id' column or a text file with one source id per line."


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
        id_list(table["id"], "save_ids", "src_")  # the ids are checked: src_..., whole text
    else:
        table = pd.DataFrame({"id": id_list(selection, "save_ids", "src_") or []})
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
    file = readable_file(path, "id file", _HINT)
    try:
        content = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        content = "\x00"
    if "\x00" in content:
        raise InvalidInputError(
            f"{file} is not a text file of ids (it is not UTF-8 text): {_HINT} Save it as CSV "
            "UTF-8 or as plain text."
        )
    values: list[str] = []
    if file.suffix.lower() == ".csv" and content.strip():
        try:
            table = pd.read_csv(io.StringIO(content), dtype=str)
        except (ValueError, pd.errors.ParserError) as exc:
            raise InvalidInputError(f"Could not read {file} as CSV ({exc}): {_HINT}") from None
        column = "id" if "id" in table.columns else table.columns[0]
        values = [str(v).strip() for v in table[column].dropna()]
    elif file.suffix.lower() != ".csv":
        for line in content.splitlines():
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
