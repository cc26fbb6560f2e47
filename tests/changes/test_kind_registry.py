"""A kind of change is one unit: a class declaring its state, plan rows, rules, write, undo and
command-line input, plus one entry in the registry. Here a toy kind (a source's ``team``, kept in
its metadata) is registered for one test, and everything else picks it up: the sources frame, the
plan, ``python -m toolkit plan``, apply with its journal, and undo."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

import toolkit
from tests.changes.changes_support import TEST_KEY, frame_of, pick
from toolkit.changes.journal.reading import read_journal
from toolkit.changes.kinds import KINDS
from toolkit.changes.kinds.base import FieldsChange, SourceState
from toolkit.changes.plans.builders import plan_each
from toolkit.changes.rows import PlanRow
from toolkit.cli import main


class TeamChange(FieldsChange):
    """Set the ``team`` of every source (its ``metadata.team``)."""

    name = "team"
    action = "update_team"
    plan_input = "ids"
    plan_input_help = "a file of source ids"

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, str | None]:
        return {"team": (obj.get("metadata") or {}).get("team")}

    def plan_row(self, number: int, source: SourceState, request: Any = None) -> PlanRow:
        before, after = source.before, {"team": "ar"}
        if before == after:
            return self.row(number, source, {}, before, after, "noop", "no change", "")
        params = {"metadata": {"team": "ar"}}
        return self.row(number, source, params, before, after, "ready", "", "team → 'ar'")

    def touched(self, params: Mapping[str, Any]) -> dict[str, str | None]:
        return {k: v or None for k, v in params["metadata"].items()}

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        return None if set(row.get("params") or {}) == {"metadata"} else "sends only metadata"

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        params = {"metadata": {"team": before.get("team") or ""}}
        return {**row, "params": params, "before": after, "after": before, "change": "restore"}


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(KINDS, "team", TeamChange())  # the one line a new kind adds


def test_a_registered_kind_is_planned_applied_journaled_and_undone(
    registered, fresh_sandbox, fresh_session, tmp_path, monkeypatch, capsys
):
    box = fresh_sandbox
    ids = pick(box, 3)
    frame = frame_of(box, ids)
    teams = [(box.get_source(i)["metadata"] or {}).get("team") for i in ids]
    plan = plan_each(KINDS["team"], frame, None)
    assert plan.action == "update_team" and plan.counts["ready"] == 3
    assert list(plan.df["before"]) == [{"team": t} for t in teams]  # read by the kind

    outcome = toolkit.apply(plan, fresh_session, journal=tmp_path / "journals", progress=False)
    assert outcome.ok and outcome.totals["ok"] == 3
    assert all(box.get_source(i)["metadata"]["team"] == "ar" for i in ids)
    assert outcome.journal is not None
    assert len(read_journal(outcome.journal).done) == 3
    back = toolkit.undo(outcome.journal, fresh_session, progress=False)
    assert back.totals["ok"] == 3
    assert [(box.get_source(i)["metadata"] or {}).get("team") for i in ids] == teams

    # the command line offers it, with the input it declares
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", box.url)
    monkeypatch.delenv("STRIPE_ACCOUNT", raising=False)
    (tmp_path / "ids.txt").write_text("\n".join(ids) + "\n")
    assert main(["plan", "team", "--ids", "ids.txt", "--json"]) == 0
    made = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert made["action"] == "update_team" and made["counts"]["ready"] == 3


def test_the_command_line_lists_the_registry(registered, capsys):
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    shown = capsys.readouterr().out
    assert "{metadata,amount,mandate,source_order,update,detach,team}" in shown
    assert (
        "detach: a file of source ids (CSV with an id column, or text); team: a file"
        in " ".join(shown.split())
    )
