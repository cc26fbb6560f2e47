"""Undo a journaled metadata or owner change, exactly, and record it in the plan's journal.

``undo(journal, session)`` restores every row the journal shows applied (and not undone since)
to the state it had right before the request that changed it. Rows whose request was in flight
when the run stopped (begun but not ended, canceled mid-request, uncertain) are read again:
what landed is undone, what had not landed needs nothing, and a source that shows neither the
state before nor the planned one is reported ``uncertain`` and left as it is.

The inverse is a plan of its own (id ``<plan id>-undo-<hex>``, journal next to the original)
applied by :func:`toolkit.apply`; each row it restores is recorded in the original journal
(an ``undone`` record), so a later apply of the same plan writes those rows again. Example::

>>> toolkit.undo(outcome.journal, session, dry_run=True, progress=False).totals["would_apply"]
2
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

import pandas as pd

from toolkit.changes.guards import check_same_account, check_session
from toolkit.changes.journal.lock import check_not_held
from toolkit.changes.journal.reading import missing_plan, read_journal
from toolkit.changes.kinds import kind_of
from toolkit.changes.plans.plan import Plan
from toolkit.changes.rows import PLAN_COLUMNS
from toolkit.changes.run.applying import apply
from toolkit.changes.run.outcome import OUTCOME_COLUMNS, Outcome
from toolkit.errors import InvalidInputError
from toolkit.progress import ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = ["undo"]


def undo(
    journal: str | os.PathLike[str],
    session: SessionLike,
    *,
    progress: ProgressArg = True,
    cancel: threading.Event | None = None,
    dry_run: bool = False,
) -> Outcome:
    """Undo the metadata or owner changes a journal shows applied, restoring the exact before
    state (keys that did not exist are unset again). Returns the Outcome of the inverse plan.

    ``undo(path, session, dry_run=True)`` previews it.

    Rows in flight when the run stopped are read again first (see the module docstring). A field
    changed by someone else since is refused as drifted. Every before-state written back must be
    proven by the journal's chain: an edited, reordered or cut journal, one written before the
    chain, or a before-state on its very last line (resume first) raises
    :class:`~toolkit.errors.InvalidInputError`. Detach cannot be undone (the source is
    consumed) and attach is not undone (detaching would consume the source): both raise
    :class:`~toolkit.errors.InvalidInputError`; a journal another process holds raises
    :class:`~toolkit.errors.JournalError`.

    >>> back = toolkit.undo(outcome.journal, session, progress=False)
    >>> back.headline()
    'Undo of plan_... (update_metadata): 2 ok, 0 failed'
    >>> again = toolkit.undo(outcome.journal, session, progress=False)  # nothing left
    >>> again.totals["total"], again.journal, again.notes[0][:16]
    (0, None, 'Nothing to undo:')
    """
    check_session(session, "undo()")
    check_not_held(journal)  # a journal being written ends in records nothing proves yet
    state = read_journal(journal)
    if state.plan is None:
        raise missing_plan(Path(journal))
    header = state.plan
    kind = str(header.get("kind"))
    change = kind_of(kind)
    if change.undo_refusal is not None:
        raise InvalidInputError(f"{change.undo_refusal} (journal {journal})")
    state.refuse_unchained("undo")
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
        begin = state.begun[key]
        if not state.proven(begin):
            raise InvalidInputError(
                f"{journal}, line {begin['seq']}: the before-state of row {key[0]} ({key[1]}) is "
                "on the journal's last line, which no later record proves unedited, so undo "
                "will not write it back. Resume the plan first (toolkit.apply(toolkit.load_plan("
                f"{str(journal)!r}), session, resume={str(journal)!r})), then undo."
            )
        if key in done:
            after = done[key].get("after")
        else:  # what the request sent (a whole owner address, say) would have left
            after = change.expected_after(before, begin.get("params") or base["params"])
        if after is None:
            continue
        inverse = change.inverse(base, before, after)
        if inverse is not None:
            rows.append(inverse)
            if key in unresolved:
                in_flight.append(list(key))
    undo_id = f"{header['plan_id']}-undo-{secrets.token_hex(3)}"
    if not rows:  # nothing to put back: say so, and write no empty journal that says "ok"
        plan = Plan(
            id=undo_id,
            kind=kind,
            df=pd.DataFrame(columns=PLAN_COLUMNS),
            undoes={"plan_id": header["plan_id"], "journal": Path(journal).name, "unresolved": []},
        )
        return Outcome(
            df=pd.DataFrame(columns=OUTCOME_COLUMNS),
            plan=plan,
            journal=None,
            dry_run=dry_run,
            notes=[
                f"Nothing to undo: {journal} shows no change applied and not undone since "
                "(an earlier undo restored them, or no row was applied). Nothing was sent."
            ],
        )
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
