"""Files that hold customer data: folders 0700, files 0600 written atomically, and CSV cells
that a spreadsheet would run as a formula escaped; a write that fails (a full disk, no permission,
a folder where the file should go) is an :class:`~toolkit.errors.OutputError` naming the fix, an
output is never written over an existing file unless asked (:func:`new_outputs`, ``--force``), and
a file a user gives is checked before it is read (:func:`readable_file`). The one home of these
rules.

Modes are set where the operating system has them (Linux, macOS). Windows has no ``os.fchmod``
and its ``os.chmod`` sets only the read-only bit: there a file is as private as the folder it is
in, and the folders the toolkit writes by default (``journals/``, ``exports/``...) sit in the
working folder, usually in the user's profile, which its ACL lets only that user (and
administrators) read. Keep them there, not in a shared folder.

>>> import tempfile, pathlib
>>> folder = private_folder(pathlib.Path(tempfile.mkdtemp()) / "exports" / "2026")
>>> oct(folder.stat().st_mode & 0o777)
'0o700'
>>> csv_safe_text("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from toolkit.errors import InvalidInputError, OutputError

__all__ = [
    "CSV_DATE_FORMAT",
    "FORMULA_LEADERS",
    "csv_safe",
    "csv_safe_text",
    "csv_unescape",
    "fresh_path",
    "new_outputs",
    "open_private_append",
    "output_error",
    "output_path",
    "private_folder",
    "readable_file",
    "write_csv",
    "write_private",
    "writing",
]

#: A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")
#: ...unless it is a signed number or a phone number: ``+1 415 555 2707``, ``-53.25`` (a sign,
#: digits and spaces, one decimal point) calls no function and is left as it is.
_NUMBER = re.compile(r"[+-]\d[\d ]*(\.\d+)?")
#: Dates in CSV files: UTC, the form Excel and LibreOffice read as a date (ISO's "T" and offset
#: they leave as text).
CSV_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

_DISK_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_DENIED = {errno.EACCES, errno.EPERM}


def _file_in_the_way(target: Path) -> Path | str:
    """The file that stands where ``target`` needs a folder: ``target`` or its nearest parent
    that exists, when that is not a folder."""
    for probe in (target, *target.parents):
        if probe.exists():
            return "a part of the path" if probe.is_dir() else probe
    return "a part of the path"


def output_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """The :class:`~toolkit.errors.OutputError` for ``exc``, met while writing ``path``: what
    happened, and what to do about it.

    >>> print(output_error("exports/a.csv", OSError(errno.ENOSPC, "No space left on device")))
    Could not write exports/a.csv: the disk is full (No space left on device). Free some space or write to another disk, then run it again; nothing was written.
    """
    target = Path(path)
    reason = exc.strerror or str(exc)
    if exc.errno in _DISK_FULL:
        fix = (
            f"the disk is full ({reason}). Free some space or write to another disk, then run "
            "it again; nothing was written."
        )
    elif exc.errno in _DENIED:
        fix = (
            f"permission denied ({reason}). Write to a folder you own (such as exports/), or "
            f"fix the permissions of {target.parent}."
        )
    elif exc.errno == errno.EROFS:
        fix = f"the file system is read-only ({reason}). Write to another folder."
    elif exc.errno == errno.EISDIR or target.is_dir():
        fix = "it is a folder. Pass the path of a file (a new name, or a file inside that folder)."
    elif exc.errno == errno.ENOTDIR:
        fix = (
            f"{_file_in_the_way(target)} is a file, not a folder. Choose another path, or move "
            "that file away."
        )
    elif exc.errno == errno.ENAMETOOLONG:
        fix = f"the name is too long ({reason}). Choose a shorter path."
    else:
        fix = f"{reason}. Check the path and the free space, then run it again."
    error = OutputError(f"Could not write {target}: {fix}")
    error.errno = exc.errno
    error.filename = str(target)
    return error


@contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Write ``path`` inside this block: an ``OSError`` raised in it (a full disk, no permission,
    a folder where the file should go) comes out as :func:`output_error`'s ``OutputError``.

    ``with writing("exports/a.xlsx") as target: ...``
    """
    target = Path(path)
    try:
        yield target
    except OutputError:
        raise
    except OSError as exc:
        raise output_error(target, exc) from exc


def readable_file(path: str | os.PathLike[str], what: str, hint: str) -> Path:
    """``path``, checked before it is read: a missing path, a folder, or a file this user may not
    read is an :class:`~toolkit.errors.InvalidInputError` that says so and ends with ``hint``.

    >>> readable_file("no/such/ids.txt", "id file", "pass a file of src_... ids.")
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: No id file at no/such/ids.txt: pass a file of src_... ids.
    """
    source = Path(path)
    if source.is_dir():
        raise InvalidInputError(f"{source} is a folder, not a file: {hint}")
    if not source.exists():
        raise InvalidInputError(f"No {what} at {source}: {hint}")
    try:
        os.close(os.open(source, os.O_RDONLY))
    except OSError as exc:
        raise InvalidInputError(
            f"Could not read {source} ({exc.strerror or exc}): check its permissions "
            f"(ls -l {source}), or copy it to a file you can read."
        ) from None
    return source


def private_folder(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and missing parents) readable by the user only (0700); return it.

    A folder that already exists keeps its mode: it is the user's. A folder that cannot be made
    is an :class:`~toolkit.errors.OutputError` naming the fix.
    """
    target = Path(path)
    with writing(target):
        missing = []
        probe = target
        while not probe.exists():
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
        if not probe.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(probe))
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


def new_outputs(
    paths: Iterable[str | os.PathLike[str]], *, force: bool = False, how: str = "pass --force"
) -> list[Path]:
    """The one rule for every output a person names: an existing file is never replaced unless
    ``force`` (the CLI's ``--force``); a folder is never a file. Call it before long work, so a
    taken name fails first. ``how`` says how to replace it anyway.

    >>> new_outputs(["no/such/audit.xlsx"])
    [PosixPath('no/such/audit.xlsx')]
    >>> new_outputs(["/"])
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: / is a folder: name a file.
    """
    targets = [Path(p) for p in paths]
    for target in targets:
        if target.is_dir():
            raise InvalidInputError(f"{target} is a folder: name a file.")
    taken = [t for t in targets if t.exists()]
    if taken and not force:
        shown = ", ".join(str(t) for t in taken[:3]) + (" ..." if len(taken) > 3 else "")
        raise InvalidInputError(
            f"{shown} {'exists' if len(taken) == 1 else 'exist'}: name a new file, or {how} "
            f"to replace {'it' if len(taken) == 1 else 'them'}."
        )
    return targets


def output_path(path: str | os.PathLike[str]) -> Path:
    """``path`` ready to be written: not a folder, its folder made (0700); else an
    :class:`~toolkit.errors.OutputError` naming the fix. Call it before long work whose result
    goes there, so that a wrong path fails first.
    """
    target = Path(path)
    with writing(target):
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
        private_folder(target.parent)
    return target


def _owner_only(fd: int) -> None:
    """Make the open file ``fd`` readable by the user only (0600) where files have modes; on
    Windows (no ``os.fchmod``) the folder's ACL decides (see the module docstring)."""
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)


def write_private(
    path: str | os.PathLike[str], write: Callable[[IO[Any]], Any], *, binary: bool = False
) -> Path:
    """Write a file atomically (a temporary file in the same folder, then a rename), mode 0600.

    ``write(handle)`` fills the file; nothing is left behind if it raises. A write the system
    refuses (a full disk, no permission, ``path`` a folder) is an
    :class:`~toolkit.errors.OutputError` naming the fix.
    ``write_private("exports/a.txt", lambda f: f.write("hello"))``
    """
    target = output_path(path)
    with writing(target):
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}-", dir=target.parent)
        try:
            _owner_only(fd)
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
    _owner_only(fd)
    return os.fdopen(fd, "a", encoding="utf-8")


def csv_safe_text(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula (a
    signed number or a phone number is not one).

    >>> csv_safe_text("-5+A1"), csv_safe_text("+14155552707"), csv_safe_text(-5), csv_safe_text("a=b")
    ("'-5+A1", '+14155552707', -5, 'a=b')
    """
    if isinstance(value, str) and value.startswith(FORMULA_LEADERS):
        return value if _NUMBER.fullmatch(value) else "'" + value
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
    """A copy of ``frame`` as cells a spreadsheet reads right: text escaped with
    :func:`csv_safe_text`, dates in UTC as ``2026-10-31 22:42:16`` (:data:`CSV_DATE_FORMAT`, which
    Excel and LibreOffice read as a date); numbers and missing values are left as they are."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[column] = series.map(_csv_date).astype(object)
        elif series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.astype(object).map(_csv_cell)
    return out


def _csv_date(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value)):
        return ""
    when = pd.Timestamp(value)
    if when.tzinfo is not None:
        when = when.tz_convert("UTC")
    return when.strftime(CSV_DATE_FORMAT)


def _csv_cell(value: Any) -> Any:
    return _csv_date(value) if isinstance(value, datetime) else csv_safe_text(value)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], **options: Any) -> Path:
    """Write ``frame`` as a private CSV (0600, atomic) of :func:`csv_safe` cells.

    ``options`` go to :meth:`pandas.DataFrame.to_csv` (``index=False`` unless given).
    """
    options.setdefault("index", False)
    safe = csv_safe(frame)
    return write_private(path, lambda handle: safe.to_csv(handle, **options))
