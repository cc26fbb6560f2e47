"""Files that hold customer data: folders 0700, files 0600 written atomically, and CSV cells
that a spreadsheet would run as a formula escaped. The one home of these rules.

>>> import tempfile, pathlib
>>> folder = private_folder(pathlib.Path(tempfile.mkdtemp()) / "exports" / "2026")
>>> oct(folder.stat().st_mode & 0o777)
'0o700'
>>> csv_safe_text("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = [
    "FORMULA_LEADERS",
    "csv_safe",
    "csv_safe_text",
    "csv_unescape",
    "fresh_path",
    "open_private_append",
    "private_folder",
    "write_csv",
    "write_private",
]

#: A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


def private_folder(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) readable by the user only (0700); return it.

    A folder that already exists keeps its mode: it is the user's.
    """
    target = Path(path)
    missing = []
    probe = target
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is cut by the umask
    return target


def fresh_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if nothing is there yet, else the first free ``name-2.ext``, ``name-3.ext``, ...:
    an export never replaces an earlier one.

    >>> fresh_path("no/such/folder/audit.xlsx").name
    'audit.xlsx'
    """
    target = Path(path)
    n = 1
    while target.exists():
        n += 1
        target = Path(path).with_name(f"{Path(path).stem}-{n}{Path(path).suffix}")
    return target


def write_private(
    path: str | os.PathLike[str], write: Callable[[IO[Any]], Any], *, binary: bool = False
) -> Path:
    """Write a file atomically (a temporary file in the same folder, then a rename), mode 0600.

    ``write(handle)`` fills the file; nothing is left behind if it raises.
    ``write_private("exports/a.txt", lambda f: f.write("hello"))``
    """
    target = Path(path)
    private_folder(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
    try:
        os.fchmod(fd, 0o600)
        mode = "wb" if binary else "w"
        kwargs: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as handle:
            write(handle)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def open_private_append(path: str | os.PathLike[str]) -> IO[str]:
    """Open ``path`` for appending text (created 0600, its folder 0700)."""
    target = Path(path)
    private_folder(target.parent)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def csv_safe_text(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    >>> csv_safe_text("-5"), csv_safe_text(-5), csv_safe_text("a=b")
    ("'-5", -5, 'a=b')
    """
    if isinstance(value, str) and value.startswith(FORMULA_LEADERS):
        return "'" + value
    return value


def csv_unescape(value: Any) -> Any:
    """Undo :func:`csv_safe_text`: ``"'=x"`` reads back as ``"=x"`` (other text is unchanged).

    >>> csv_unescape("'=SUM(A1)"), csv_unescape("'quoted")
    ('=SUM(A1)', "'quoted")
    """
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_LEADERS):
        return value[1:]
    return value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells are escaped with :func:`csv_safe_text`; numbers,
    dates and missing values are left as they are."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.astype(object).map(csv_safe_text)
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write ``frame`` as a private CSV (0600, atomic) with formula-leading cells escaped.

    ``options`` go to :meth:`pandas.DataFrame.to_csv` (``index=False`` unless given).
    """
    options.setdefault("index", False)
    safe = csv_safe(frame)
    return write_private(path, lambda handle: safe.to_csv(handle, **options))
