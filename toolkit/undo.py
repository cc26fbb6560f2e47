"""Undo a journaled metadata or owner change, exactly, and record it in the plan's journal.

``undo(journal, session)`` restores every row the journal shows applied (and not undone since)
to the state it had right before the request that changed it. Rows whose request was in flight
when the run stopped (begun but not ended, canceled mid-request, uncertain) are read again:
what landed is undone, what had not landed needs nothing, and a source that shows neither the
state before nor the planned one is reported ``uncertain`` and left as it is.

The inverse is a plan of its own (id ``<plan id>-undo-<hex>``, journal next to the original)
applied by :func:`toolkit.apply.apply`; each row it restores is recorded in the original journal
(an ``undone`` record), so a later apply of the same plan writes those rows again. Example::

    outcome = toolkit.apply(plan, session)
    back = toolkit.undo(outcome.journal, session)     # back.headline(): "Undo of plan_...: 5 ok, ..."
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.apply import apply, check_same_account, check_session, missing_plan
from toolkit.errors import InvalidInputError
from toolkit.journal import read_journal
from toolkit.outcome import Outcome
from toolkit.plans import PLAN_COLUMNS, Plan, merge_metadata, owner_params
from toolkit.runner import expected_after, touched

__all__ = ["inverse_row", "undo"]


def inverse_row(kind: str, row: dict[str, Any], before: Any, after: Any) -> dict[str, Any] | None:
    """A plan row that turns ``after`` back into ``before`` for the fields the row changed."""
    if kind == "metadata":
        changes = touched(kind, row["params"])
        names = sorted(set(before) | set(after)) if changes is None else list(changes)
        params = {n: before.get(n, "") for n in names if before.get(n) != after.get(n)}
        if not params:
            return None
        change = "; ".join(
            f"restore {n}={before[n]!r}" if n in before else f"unset {n}" for n in params
        )
        return {
            **row,
            "params": {"metadata": params},
            "before": after,
            "after": merge_metadata(after, params),
            "status": "ready",
            "reason": "",
            "change": change,
        }
    changes = touched(kind, row["params"]) or {}
    flat = {n: (before.get(n) or "") for n in changes if before.get(n) != after.get(n)}
    if not flat:
        return None
    change = "; ".join(f"restore owner.{n}={before.get(n)!r}" for n in flat)
    return {
        **row,
        "params": {"owner": owner_params(flat)},
        "before": after,
        "after": {**after, **{n: before.get(n) for n in flat}},
        "status": "ready",
        "reason": "",
        "change": change,
    }


def undo(
    journal: str | os.PathLike[str],
    session: Any,
    *,
    progress: Any = True,
    cancel: threading.Event | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Undo the metadata or owner changes a journal shows applied, restoring the exact before
    state (keys that did not exist are unset again). Returns the Outcome of the inverse plan.

    ``undo(outcome.journal, session)``; ``undo(path, session, dry_run=True)`` to preview.

    Rows in flight when the run stopped are read again first (see the module docstring). A field
    changed by someone else since is refused as drifted. Detach cannot be undone (the source is
    consumed) and attach is not undone (detaching would consume the source): both raise
    :class:`~toolkit.errors.InvalidInputError`; a journal another process holds raises
    :class:`~toolkit.errors.JournalError`.
    """
    check_session(session, "undo()")
    state = read_journal(journal)
    if state.plan is None:
        raise missing_plan(Path(journal), state)
    header = state.plan
    kind = header.get("kind")
    if kind == "detach":
        raise InvalidInputError(
            "Detach cannot be undone: Stripe consumed the detached sources and they cannot be "
            f"attached or charged again. The journal {journal} lists which ones were detached."
        )
    if kind == "attach":
        raise InvalidInputError(
            "Attach is not undone automatically: detaching would consume the sources for good. "
            "If you mean it, build plan_detach(...) for them and review it."
        )
    if kind not in ("metadata", "owner"):
        raise InvalidInputError(f"Cannot undo a plan of kind {kind!r}.")
    check_same_account(header.get("account"), header.get("mode"), session, f"the journal {journal}")
    plan_rows = {
        (int(r["row"]), str(r["source"])): r for r in header["rows"] if r.get("status") == "ready"
    }
    done, unresolved = state.done, state.unresolved
    rows, in_flight = [], []
    for key in sorted(set(done) | set(unresolved)):
        base, before = plan_rows.get(key), state.before_of(key)
        if base is None or before is None:
            continue
        if key in done:
            after = done[key].get("after")
        else:
            after = expected_after(kind, before, base["params"])
        if after is None:
            continue
        inverse = inverse_row(kind, base, before, after)
        if inverse is not None:
            rows.append(inverse)
            if key in unresolved:
                in_flight.append(list(key))
    undo_id = f"{header['plan_id']}-undo-{secrets.token_hex(3)}"
    plan = Plan(
        id=undo_id,
        kind=kind,
        df=pd.DataFrame(rows, columns=PLAN_COLUMNS),
        notes=[f"undo of {header['plan_id']}"],
        undoes={
            "plan_id": header["plan_id"],
            "journal": Path(journal).name,
            "unresolved": in_flight,
        },
    )
    return apply(
        plan,
        session,
        dry_run=dry_run,
        journal=Path(journal).parent / f"{undo_id}.jsonl",
        progress=progress,
        cancel=cancel,
    )
