"""DetachPanel: what will be detached and refused, typed confirmation, detach, journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.widgets.widget_support import assert_no_secrets, widget_text
from toolkit.widgets import DetachPanel, SourceExplorer


@pytest.fixture
def panel(fresh_session, fresh_explorer, tmp_path: Path) -> DetachPanel:
    return DetachPanel(fresh_session, fresh_explorer, journal_folder=tmp_path / "journals")


def _mixed(explorer: SourceExplorer) -> tuple[list[str], list[str]]:
    """Select two chargeable sources and one consumed one (refused)."""
    frame = explorer.frame
    cards = (frame["status"] == "chargeable") & (frame["type"] == "card")  # no receiver money
    ready = list(frame.loc[cards, "id"].head(2))
    consumed = list(frame.loc[frame["status"] == "consumed", "id"].head(1))
    assert len(ready) == 2 and len(consumed) == 1
    explorer.select(ready + consumed)
    return ready, consumed


def test_preview_confirm_and_detach(panel, fresh_explorer, fresh_sandbox, fresh_session) -> None:
    ready, consumed = _mixed(fresh_explorer)
    assert "cannot be undone" in panel.warning.value.lower()
    assert panel.detach_button.disabled and panel.confirm.disabled

    plan = panel.preview()
    assert plan is not None and plan.irreversible
    assert plan.counts["ready"] == 2 and plan.counts["invalid"] == 1
    view = panel.plan_view.value
    assert "Will detach 2</b>" in view and "1 refused" in view
    assert consumed[0] in view and "already consumed" in view
    assert panel.detach_button.description == "Detach 2 sources"

    # the typed number must match the number of sources to detach
    panel.confirm.value = "3"
    assert panel.detach_button.disabled
    assert "type 2" in panel.confirm_hint.value  # a wrong entry says so at once
    assert panel.detach() is False and "number of sources the plan detaches: 2" in panel.error.value
    panel.confirm.value = " 2 "
    assert not panel.detach_button.disabled

    panel.detach_button.click()
    assert panel.wait(30)
    assert panel.outcome.totals["ok"] == 2, panel.outcome.df
    for source_id in ready:
        assert fresh_sandbox.get_source(source_id)["status"] == "consumed"
    journal = panel.outcome.journal
    assert journal is not None and journal.exists() and str(journal) in panel.result_view.value
    assert panel.plan is None and panel.confirm.value == "" and panel.detach_button.disabled
    assert "Detached 2 of 3" in panel.plan_view.value
    assert_no_secrets(panel, fresh_session)


def test_dry_run_changes_nothing(panel, fresh_explorer, fresh_sandbox) -> None:
    ready, _ = _mixed(fresh_explorer)
    panel.preview()
    assert not panel.check_button.disabled
    panel.check_button.click()
    assert panel.wait(30)
    assert panel.outcome.dry_run and panel.outcome.totals["would_apply"] == 2
    assert all(fresh_sandbox.get_source(i)["status"] == "chargeable" for i in ready)
    assert panel.plan is not None  # still previewed: the real detach can follow


def test_a_new_selection_drops_plan_and_confirmation(panel, fresh_explorer) -> None:
    _mixed(fresh_explorer)
    panel.preview()
    panel.confirm.value = "2"
    assert not panel.detach_button.disabled
    fresh_explorer.clear_selection()
    assert panel.plan is None and panel.confirm.value == "" and panel.detach_button.disabled
    assert panel.preview() is None and "No sources selected" in panel.error.value


def test_nothing_to_detach(panel, fresh_explorer) -> None:
    frame = fresh_explorer.frame
    fresh_explorer.select(list(frame.loc[frame["status"] == "consumed", "id"].head(2)))
    plan = panel.preview()
    assert plan is not None and plan.counts["ready"] == 0
    assert "Nothing to detach" in panel.plan_view.value
    assert panel.detach_button.disabled and panel.confirm.disabled and panel.check_button.disabled
    assert panel.detach() is False and "Preview first" in panel.error.value
    assert "Traceback" not in widget_text(panel)
