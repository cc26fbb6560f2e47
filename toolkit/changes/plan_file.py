"""A plan saved to a file for sign-off and applied later, elsewhere, exactly as reviewed.

``save_plan`` writes the plan as JSON (the record a journal starts with, with its SHA-256
digest) and its readable CSV beside it; ``read_plan`` gives the same plan back and refuses a file
edited since (the digest no longer matches), so what is applied is what was signed off.

The digest is a plain, unkeyed SHA-256 (:func:`~toolkit.changes.journal.digest_of`): it catches
a file changed by accident, not one forged on purpose, since anyone can recompute it. So apply
never trusts a row's status from a file: it checks every row against the plan builders' rules
again, and the rules about each source against the state read just before its write.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from toolkit.changes.journal import digest_of, plan_record
from toolkit.changes.plan import Plan, plan_from_record
from toolkit.errors import InvalidInputError
from toolkit.fetch.loaded import LoadInfo
from toolkit.private_files import write_private

__all__ = ["read_plan", "save_plan"]

_FORMAT = "toolkit-plan/1"


def save_plan(plan: Plan, path: str | os.PathLike[str]) -> Path:
    """Write ``plan`` to ``path`` (JSON, 0600) and its CSV for sign-off next to it; the path.

    >>> import tempfile
    >>> plan = toolkit.plan_metadata(sources.head(2), set={"reviewed": "yes"})
    >>> path = toolkit.save_plan(plan, Path(tempfile.mkdtemp()) / "plan.json")
    >>> path.with_suffix(".csv").exists()
    True
    """
    target = Path(path)
    if target.suffix.lower() != ".json":
        target = target.with_suffix(".json")
    loaded = plan.loaded or LoadInfo()
    record = plan_record(plan, loaded.account, loaded.mode)
    record["format"] = _FORMAT
    record["digest"] = digest_of(record)
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1, default=str)
    write_private(target, lambda handle: handle.write(text + "\n"))
    plan.to_csv(target.with_suffix(".csv"))
    return target


def read_plan(path: str | os.PathLike[str]) -> Plan:
    """The plan :func:`save_plan` wrote; refuses a file changed since it was written (by
    accident: the digest is no seal against a forger, see the module docstring).

    >>> import tempfile
    >>> plan = toolkit.plan_metadata(sources.head(2), set={"reviewed": "yes"})
    >>> path = toolkit.save_plan(plan, Path(tempfile.mkdtemp()) / "plan.json")
    >>> toolkit.read_plan(path).df.equals(plan.df)
    True
    """
    source = Path(path)
    if not source.is_file():
        raise InvalidInputError(f"No plan file at {source}: make one with save_plan (or `plan`).")
    try:
        record = json.loads(source.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidInputError(f"{source} is not a plan file (not JSON: {exc}).") from None
    if not isinstance(record, dict) or record.get("format") != _FORMAT:
        raise InvalidInputError(f"{source} is not a plan file written by save_plan.")
    if record.get("digest") != digest_of(record):
        raise InvalidInputError(
            f"{source} was changed after the plan was made (its digest does not match): what was "
            "signed off is not what would be applied. Make the plan again."
        )
    return plan_from_record(record)
