"""Maker and checker: a second person approves a plan file's exact digest before a live apply.

- **Maker.** :func:`~toolkit.save_plan` records who prepared the plan (the OS user, and a name
  when given) inside the plan file, so its digest covers it.
- **Checker.** :func:`approve` (``python -m toolkit approve PLAN``) reads the plan file (refused
  if it changed since it was saved), and appends an approval of its digest to the **approvals
  file beside it**: ``plans/plan_x.json`` -> ``plans/plan_x.approvals.jsonl`` (one JSON object a
  line, mode 0600). The maker cannot approve their own plan.
- **Apply.** With a live key, :func:`~toolkit.apply` refuses a plan that no one other than its
  maker approved (:class:`~toolkit.errors.ApprovalRequired`, CLI exit 9), before anything is
  read or sent. The plan must be the saved one, unchanged: an approval is of one digest, so a
  plan made again (or edited in memory) needs a new approval. Every apply records in the
  journal (the ``approval`` of its run's start record, chained like every record) which
  approvals it relied on, or that the check was waived, or not required.
- **Waivers** (one-person teams): ``apply(..., require_approval=False)``, the CLI's
  ``--no-approval``, or ``TOOLKIT_REQUIRE_APPROVAL=false`` in the environment (or ``.env``);
  the waiver and who waived it are recorded in the journal. ``TOOLKIT_REQUIRE_APPROVAL=true``
  (or ``require_approval=True``) requires an approval in test mode and the sandbox too; by
  default it is required for live keys only, so runbooks against the sandbox keep working. An
  undo (which puts back what an applied plan changed) needs no approval of its own.

"Someone other than its maker" means another OS user: a name is what a person types, the OS user
is who is logged in. Like the plan's digest, an approval is plain data, not a signature: it
records the four-eyes step and catches mistakes (a plan changed after approval, a maker
approving their own plan); it is no seal against someone who edits files on purpose.

>>> approvals_path("plans/plan_x.json").name
'plan_x.approvals.jsonl'
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
from pathlib import Path
from typing import Any

from toolkit.changes.plans.plan import Plan
from toolkit.changes.plans.record import file_digest, maker_of, read_plan, save_plan
from toolkit.errors import ApprovalRequired, ConfigurationError, InvalidInputError
from toolkit.private_files import fresh_path, open_private_append

__all__ = [
    "APPROVAL_VARIABLE",
    "approval_record",
    "approval_required",
    "approvals_of",
    "approvals_path",
    "approve",
    "save_for_approval",
    "sign_off_facts",
]

#: The environment variable that sets whether a write needs an approval (true/false).
APPROVAL_VARIABLE = "TOOLKIT_REQUIRE_APPROVAL"
_SUFFIX = ".approvals.jsonl"


def approvals_path(plan_path: str | os.PathLike[str]) -> Path:
    """The approvals file of a plan file: beside it, ``<name>.approvals.jsonl``."""
    path = Path(plan_path)
    return path.with_name(path.stem + _SUFFIX)


def _who(person: Any) -> str:
    if not isinstance(person, dict):
        return "unknown"
    name = person.get("name")
    return f"{name} ({person.get('user')})" if name else str(person.get("user"))


def approvals_of(
    plan_path: str | os.PathLike[str], digest: str | None = None
) -> list[dict[str, Any]]:
    """The approvals recorded beside a plan file (of ``digest`` only, when given); lines that are
    not approvals are left out."""
    path = approvals_path(plan_path)
    if not path.is_file():
        return []
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("type") != "approval":
            continue
        if digest is None or record.get("digest") == digest:
            found.append(record)
    return found


def approve(plan_path: str | os.PathLike[str], checker: str | None = None) -> dict[str, Any]:
    """Record that you (the OS user, ``checker`` as your name) approve the plan file's exact
    digest; returns the approval. Refused when the file changed since it was saved, and when
    you are its maker (someone else must check it).

    >>> import getpass, tempfile
    >>> plan = toolkit.plan_metadata(sources.head(2), set={"reviewed": "yes"})
    >>> path = toolkit.save_plan(plan, Path(tempfile.mkdtemp()) / "plan.json", maker="Ada")
    >>> toolkit.approve(path, checker="Bea")
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: You prepared this plan (maker Ada (...)): ...
    """
    plan = read_plan(plan_path)
    me = maker_of(checker)
    maker = plan.maker or {}
    if not maker:
        raise InvalidInputError(
            f"{plan_path} records no maker (saved by an older toolkit): make the plan again "
            "with save_plan (or `python -m toolkit plan`), then approve the new file."
        )
    if maker.get("user") == me["user"]:
        raise InvalidInputError(
            f"You prepared this plan (maker {_who(maker)}): an approval must come from someone "
            "else, logged in as another user. A one-person team waives the approval instead: "
            f"`apply --no-approval`, apply(..., require_approval=False) or {APPROVAL_VARIABLE}"
            "=false (the waiver is recorded in the journal)."
        )
    record = {
        "type": "approval",
        "plan_id": plan.id,
        "digest": plan.digest,
        "maker": maker,
        "checker": me,
        "time": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
    }
    path = approvals_path(plan_path)
    with open_private_append(path) as handle:
        handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return record


def approval_required(require_approval: bool | None, mode: str, variable: str | None) -> bool:
    """Whether a write needs an approval: ``require_approval`` when given, else the
    environment's ``TOOLKIT_REQUIRE_APPROVAL`` (``variable``), else only in live mode.

    >>> approval_required(None, "live", None), approval_required(None, "test", None)
    (True, False)
    >>> approval_required(None, "live", "false"), approval_required(False, "live", "true")
    (False, False)
    """
    if require_approval is not None:
        if require_approval is not True and require_approval is not False:
            raise ConfigurationError(
                f"require_approval must be True, False or None, got {require_approval!r}."
            )
        return require_approval
    if variable is not None and variable.strip():
        value = variable.strip().lower()
        if value not in ("true", "false", "1", "0", "yes", "no"):
            raise ConfigurationError(
                f"{APPROVAL_VARIABLE} must be true or false, got {variable!r}."
            )
        return value in ("true", "1", "yes")
    return mode == "live"


def approval_record(
    plan: Plan, mode: str, require_approval: bool | None, variable: str | None
) -> dict[str, Any]:
    """What a run's start record in the journal says of approval (its ``approval``) for a
    write of ``plan`` in ``mode``: ``status``
    approved (with the approvals relied on), waived (how, and by whom) or not required (why).
    Raises :class:`~toolkit.errors.ApprovalRequired` naming the fix when an approval is needed
    and missing."""
    me = maker_of()
    if plan.undoes:
        return {"status": "not_required", "why": "an undo", "by": me}
    required = approval_required(require_approval, mode, variable)
    if not required:
        if require_approval is False:
            how = "require_approval=False"
        elif variable is not None and variable.strip():
            how = f"{APPROVAL_VARIABLE}={variable.strip()}"
        else:
            return {"status": "not_required", "why": f"{mode} mode", "by": me}
        return {"status": "waived", "how": how, "by": me, "mode": mode}
    fix = (
        "Save the plan (save_plan(plan, path) or `python -m toolkit plan`), have someone else "
        "run `python -m toolkit approve PATH` (or toolkit.approve(path)), then apply that file "
        "(`python -m toolkit apply PATH --live`, or apply(toolkit.read_plan(path), session)). "
        "A one-person team waives it: --no-approval, require_approval=False or "
        f"{APPROVAL_VARIABLE}=false (recorded in the journal). Nothing was sent."
    )
    if plan.path is None or plan.digest is None:
        raise ApprovalRequired(
            f"A {mode} write needs the plan {plan.id} approved by a second person, and this "
            f"plan was never saved to a file, so no one can have approved it. {fix}"
        )
    if file_digest(plan) != plan.digest:
        raise ApprovalRequired(
            f"The plan {plan.id} was changed after it was saved to {plan.path}: its approval "
            f"(if any) is of the saved file, not of these rows. {fix}"
        )
    if not plan.maker:
        raise ApprovalRequired(
            f"The plan file {plan.path} records no maker (saved by an older toolkit), so no "
            f"approval can be told apart from its maker's. {fix}"
        )
    maker_user = plan.maker.get("user")
    found = [
        a
        for a in approvals_of(plan.path, plan.digest)
        if isinstance(a.get("checker"), dict) and a["checker"].get("user") != maker_user
    ]
    if not found:
        raise ApprovalRequired(
            f"A {mode} write needs the plan {plan.id} approved by someone other than its maker "
            f"({_who(plan.maker)}), and {approvals_path(plan.path)} holds no such approval of "
            f"its digest {plan.digest[:12]}…. {fix}"
        )
    return {
        "status": "approved",
        "digest": plan.digest,
        "maker": plan.maker,
        "checkers": [a["checker"] for a in found],
        "approved": [a.get("time") for a in found],
        "by": me,
    }


def sign_off_facts(journal: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """What a workbook's cover (or the report) says of a change run, from its journal (checked:
    an edited journal is refused): the plan, its maker, its checker(s) or the waiver, the digest
    approved. The last run of the journal counts.

    >>> facts = dict(sign_off_facts(outcome.journal))
    >>> facts["Checker"]
    'not required (test mode)'
    """
    from toolkit.changes.journal.reading import read_journal

    state = read_journal(journal)
    if state.plan is None:
        raise InvalidInputError(f"{journal} records no plan: pass the journal of a run.")
    plan = state.plan
    starts = [r for r in state.records if r.get("type") == "run" and r.get("event") == "start"]
    approval = (starts[-1].get("approval") if starts else None) or {}
    status = approval.get("status")
    if status == "approved":
        checker = ", ".join(_who(c) for c in approval.get("checkers") or [])
    elif status == "waived":
        checker = f"waived ({approval.get('how')}, by {_who(approval.get('by'))})"
    elif status == "not_required":
        checker = f"not required ({approval.get('why')})"
    else:
        checker = "not recorded (a run before approvals were recorded)"
    maker = plan.get("maker")
    return [
        ("Change", f"{plan.get('plan_id')} ({plan.get('action')}), journal {Path(journal).name}"),
        ("Maker", _who(maker) if maker else "not recorded"),
        ("Checker", checker),
        ("Plan digest", str(approval.get("digest") or "none approved")),
    ]


def save_for_approval(
    plan: Plan, folder: str | os.PathLike[str] = "plans", maker: str | None = None
) -> str:
    """Save ``plan`` for a second person to approve (``<folder>/<plan id>.json``, never over
    another file) and say what comes next: what a runbook or a widget shows when a live apply
    was refused for want of an approval.

    >>> import tempfile
    >>> plan = toolkit.plan_metadata(sources.head(2), set={"reviewed": "yes"})
    >>> print(toolkit.save_for_approval(plan, tempfile.mkdtemp()))
    Not applied: a live write needs this plan approved by someone other than you. ...
    """
    path = fresh_path(Path(folder) / f"{plan.id}.json")
    saved = save_plan(plan, path, maker=maker)
    return (
        "Not applied: a live write needs this plan approved by someone other than you. It is "
        f"saved for approval as {saved} (its CSV beside it, for review). Next: someone else "
        f"runs `python -m toolkit approve {saved}`; then apply that file: `python -m toolkit "
        f"apply {saved} --live` (or toolkit.apply(toolkit.read_plan({str(saved)!r}), session)). "
        f"A one-person team waives the approval instead: {APPROVAL_VARIABLE}=false (the waiver "
        "is recorded in the journal). Nothing was sent."
    )
