"""What an undo writes in the journal of the plan it undoes (the original journal).

Each row the undo restores (or finds never landed) gets an ``undone`` record there, so a later
apply of the same plan knows the row is no longer done and writes it again; the undo's start and
finish are recorded there too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from toolkit.changes.journal.records import undo_record, undone_record
from toolkit.changes.journal.writer import Journal
from toolkit.changes.plans.plan import Plan
from toolkit.errors import JournalError

__all__ = ["OriginalJournal"]

Key = tuple[int, str]


class OriginalJournal:
    """The journal of the plan an undo undoes, held (locked) for as long as the undo runs:
    ``with OriginalJournal(undo_plan, folder) as original: ...``.

    Records an ``undone`` record per row restored, or found never to have landed
    (:meth:`record_row`), and says which rows stayed uncertain. A write that fails is kept in
    ``failure`` (the undo reports it), never raised mid-run.
    """

    def __init__(self, plan: Plan, folder: Path, mask: Any = None) -> None:
        undoes = plan.undoes or {}
        self.plan_id = plan.id
        self.path = folder / str(undoes.get("journal"))
        self.unresolved = {(int(k[0]), str(k[1])) for k in undoes.get("unresolved") or []}
        self.failure: JournalError | None = None
        self._closed = False
        self.journal = Journal(self.path, mask=mask)
        self._write(undo_record("start", plan.id))

    def _write(self, record: dict[str, Any]) -> None:
        try:
            self.journal.write(record)
        except JournalError as exc:
            self.failure = self.failure or exc

    def record_row(self, key: Key, result: dict[str, Any]) -> dict[str, Any]:
        """The undo's outcome row for ``key``, after recording it in the original journal."""
        outcome, was_unresolved = result["result"], key in self.unresolved
        if outcome == "skipped" and result.get("why") == "already":
            message = (
                "the interrupted write had not landed: nothing to undo"
                if was_unresolved
                else "already back as it was: nothing sent"
            )
            result = {**result, "message": message}
        elif outcome == "drifted" and was_unresolved:
            detail = str(result["message"]).removeprefix("drifted: ")
            result = {
                **result,
                "result": "uncertain",
                "message": (
                    "the source shows neither the state before nor the planned change "
                    f"({detail.split('; nothing sent')[0]}): left as it is"
                ),
            }
        if result["result"] in ("ok", "skipped") and (outcome == "ok" or result.get("why")):
            self._write(undone_record(key, self.plan_id, result["message"]))
        return result

    def close(self) -> None:
        """Write the undo's finish record and let go of the original journal."""
        if self._closed:
            return
        self._closed = True
        self._write(undo_record("finish", self.plan_id))
        self.journal.close()

    def __enter__(self) -> OriginalJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
