"""A plan as a record: the JSON a plan file holds for sign-off, and a journal's first line.

``save_plan`` writes the plan record (:func:`plan_record`, with its SHA-256 :func:`digest_of`)
to a file and its readable CSV beside it; ``read_plan`` gives the same plan back and refuses a
file edited since (the digest no longer matches), so what is applied is what was signed off. A
journal starts with the same record (:meth:`~toolkit.changes.journal.writer.Journal.write_plan`
adds its chain), so a journal alone is enough to resume or undo (:func:`plan_from_record`).

The digest is a plain, unkeyed SHA-256: it catches a file changed by accident, not one forged on
purpose, since anyone can recompute it. So apply never trusts a row's status from a file: it
checks every row against the plan builders' rules again, and the rules about each source against
the state read just before its write.

>>> digest_of({"plan_id": "plan_x", "rows": []})[:12]
'146b2989be31'
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from toolkit.changes.plans.plan import Plan, plan_frame
from toolkit.changes.rows import PlanRow
from toolkit.errors import InvalidInputError
from toolkit.fetch.loaded import LoadInfo
from toolkit.private_files import write_private

__all__ = [
    "digest_of",
    "file_digest",
    "maker_of",
    "plan_from_record",
    "plan_record",
    "read_plan",
    "save_plan",
]

_FORMAT = "toolkit-plan/1"


def digest_of(record: Mapping[str, Any]) -> str:
    """The SHA-256 a plan record carries: its canonical JSON (``sort_keys``, separators ``,``
    and ``:``) without ``digest``, ``time`` and ``seq``.

    Unkeyed: it catches a plan or journal changed by accident, not a forgery (anyone can
    recompute it), so apply checks every row again whatever its digest says.
    """
    body = {k: v for k, v in record.items() if k not in ("digest", "time", "seq")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def plan_record(
    plan: Plan, account: str | None, mode: str | None, rows: list[PlanRow] | None = None
) -> dict[str, Any]:
    """The plan record: ``plan_id, kind, action, created, irreversible, account, mode, notes,
    rows``, and ``undoes`` for an undo plan (its digest is added where it is written).
    ``rows``: ``plan.rows()`` when the caller has them already."""
    record: dict[str, Any] = {
        "type": "plan",
        "plan_id": plan.id,
        "kind": plan.kind,
        "action": plan.action,
        "created": plan.created,
        "irreversible": plan.irreversible,
        "account": account,
        "mode": mode,
        "notes": plan.notes,
        "rows": plan.rows() if rows is None else rows,
    }
    if plan.undoes:
        record["undoes"] = plan.undoes
    if plan.maker:
        record["maker"] = plan.maker
    return record


def maker_of(name: str | None = None) -> dict[str, Any]:
    """Who is running this: ``{"user": <the OS user>, "name": name}`` (the OS user from
    :func:`getpass.getuser`: ``$LOGNAME``, ``$USER``, then the password database).

    >>> maker_of("Ada Lovelace")["name"]
    'Ada Lovelace'
    """
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise InvalidInputError(f"A name must be some text, got {name!r}.")
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no user name in the environment nor the password database
        user = "unknown"
    return {"user": user, "name": name.strip() if name else None}


def _file_record(plan: Plan) -> dict[str, Any]:
    loaded = plan.loaded or LoadInfo()
    record = plan_record(plan, loaded.account, loaded.mode)
    record["format"] = _FORMAT
    return record


def file_digest(plan: Plan) -> str:
    """The digest the plan's file carries, computed from the plan as it is now: equal to
    ``plan.digest`` only when nothing changed since it was saved or read."""
    return digest_of(_file_record(plan))


def plan_from_record(record: dict[str, Any]) -> Plan:
    """The plan a plan record describes (a journal's first record, or a plan file), same id."""
    return Plan(
        id=record["plan_id"],
        kind=record["kind"],
        df=plan_frame(record["rows"]),
        notes=list(record.get("notes") or []),
        created=record.get("created", ""),
        loaded=LoadInfo(account=record.get("account"), mode=record.get("mode")),
        undoes=record.get("undoes"),
        maker=record.get("maker"),
    )


def save_plan(plan: Plan, path: str | os.PathLike[str], maker: str | None = None) -> Path:
    """Write ``plan`` to ``path`` (JSON, 0600) and its CSV for sign-off next to it; the path.

    The file records who prepared it (``maker``: the OS user, and ``maker`` as a name when
    given), covered by its digest; ``plan.maker``, ``plan.digest`` and ``plan.path`` are set.
    A second person approves that digest with :func:`~toolkit.approve` (a live apply needs it).

    >>> import tempfile
    >>> plan = toolkit.plan_metadata(sources.head(2), set={"reviewed": "yes"})
    >>> path = toolkit.save_plan(plan, Path(tempfile.mkdtemp()) / "plan.json")
    >>> path.with_suffix(".csv").exists()
    True
    """
    target = Path(path)
    if target.suffix.lower() != ".json":
        target = target.with_suffix(".json")
    plan.maker = maker_of(maker)
    record = _file_record(plan)
    record["digest"] = digest_of(record)
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, indent=1, default=str)
    write_private(target, lambda handle: handle.write(text + "\n"))
    plan.to_csv(target.with_suffix(".csv"))
    plan.digest, plan.path = record["digest"], target
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
    plan = plan_from_record(record)
    plan.digest, plan.path = record["digest"], source
    return plan
