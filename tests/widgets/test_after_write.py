"""After Apply, Undo or Detach every view shows what Stripe holds now, not the rows loaded before."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import toolkit
from toolkit.fetch.reread import patch_rows
from toolkit.widgets import DetachPanel, MetadataEditor, SourceExplorer


def _chargeable(explorer: SourceExplorer, n: int) -> list[str]:
    frame = explorer.frame
    cards = (frame["status"] == "chargeable") & (frame["type"] == "card")  # no receiver money
    ids = list(frame.loc[cards, "id"].head(n))
    explorer.select(ids)
    return ids


def _row(explorer: SourceExplorer, source: str) -> pd.Series:
    return explorer.frame.set_index("id").loc[source]


def test_apply_then_undo_keeps_the_explorer_current(fresh_session, fresh_explorer, tmp_path: Path):
    editor = MetadataEditor(fresh_session, fresh_explorer, journal_folder=tmp_path)
    ids = _chargeable(fresh_explorer, 2)
    before = {i: dict(_row(fresh_explorer, i)["metadata"]) for i in ids}
    order = list(fresh_explorer.frame["id"])
    editor.add_key("segment", "gold")
    editor.dry_run.value = False
    assert editor.preview() is not None and editor.apply() and editor.wait(30)
    assert editor.outcome is not None
    assert editor.outcome.totals["ok"] == 2
    # the explorer's rows are the ones Stripe answers now, in the same place, still selected
    assert [_row(fresh_explorer, i)["metadata"].get("segment") for i in ids] == ["gold", "gold"]
    assert list(fresh_explorer.frame["id"]) == order
    assert fresh_explorer.selected_ids == ids
    # planning the same change again finds nothing to do (it was stale before the fix)
    plan = editor.preview()
    assert plan is not None and plan.counts["noop"] == 2 and plan.counts["ready"] == 0

    assert editor.undo() and editor.wait(30)
    assert {i: dict(_row(fresh_explorer, i)["metadata"]) for i in ids} == before
    plan = editor.preview()  # after the undo the change is needed again
    assert plan is not None and plan.counts["ready"] == 2


def test_detached_sources_are_not_offered_again(fresh_session, fresh_explorer, tmp_path: Path):
    panel = DetachPanel(fresh_session, fresh_explorer, journal_folder=tmp_path)
    ids = _chargeable(fresh_explorer, 2)
    panel.preview()
    panel.confirm.value = "2"
    assert panel.detach() and panel.wait(30)
    assert panel.outcome is not None
    assert panel.outcome.totals["ok"] == 2
    assert [str(_row(fresh_explorer, i)["status"]) for i in ids] == ["consumed", "consumed"]
    plan = panel.preview()  # the same selection again: both refused, none ready
    assert plan is not None and plan.counts["ready"] == 0 and plan.counts["invalid"] == 2


def test_the_app_marks_an_earlier_audit_stale(fresh_session, tmp_path: Path):
    ui = toolkit.widgets.app(fresh_session, journal_folder=tmp_path, export_folder=tmp_path)
    assert ui.explorer.wait(60)
    assert ui.audit.run() and ui.audit.wait(60)
    _chargeable(ui.explorer, 1)
    ui.editor.add_key("segment", "gold")
    ui.editor.dry_run.value = False
    assert ui.editor.preview() is not None and ui.editor.apply() and ui.editor.wait(30)
    assert "run it again" in ui.audit.error.value


def test_patch_rows_keeps_order_dtypes_and_drops_what_stripe_lost(fresh_session, fresh_explorer):
    frame = fresh_explorer.frame
    first, second = frame["id"].iloc[0], frame["id"].iloc[1]
    fresh = toolkit.load_sources(fresh_session, ids=[second], progress=False)
    fresh.loc[0, "status"] = "consumed"
    out = patch_rows(frame, fresh, [first, second])
    assert list(out["id"]) == list(frame["id"].iloc[1:])  # first: not in fresh, so gone
    assert out["status"].iloc[0] == "consumed"
    assert out.dtypes.to_dict() == frame.dtypes.to_dict()
    assert out.attrs == frame.attrs


def test_undo_asks_first_and_says_what_it_restored(fresh_session, fresh_explorer, tmp_path: Path):
    editor = MetadataEditor(fresh_session, fresh_explorer, journal_folder=tmp_path)
    ids = _chargeable(fresh_explorer, 2)
    editor.add_key("segment", "gold")
    editor.dry_run.value = False
    assert editor.preview() is not None and editor.apply() and editor.wait(30)
    editor.undo_button.click()  # asks, writes nothing yet
    assert (
        editor.undo_box.layout.display is None and "<b>2</b> sources" in editor.undo_question.value
    )
    assert [_row(fresh_explorer, i)["metadata"].get("segment") for i in ids] == ["gold", "gold"]
    editor.undo_no.click()
    assert editor.undo_box.layout.display == "none" and editor.last_applied is not None
    editor.undo_button.click()
    editor.undo_yes.click()
    assert editor.wait(30)
    assert editor.outcome is not None
    assert editor.outcome.headline().startswith("Undo of plan_")
    assert set(editor.outcome.df["message"]) == {
        "restored (unset segment): Stripe's answer shows the state from before the change"
    }
    assert "Undone: 2 sources" in editor.plan_view.value
    assert "segment" not in editor.plan_view.value  # the old plan is no longer shown


def test_the_csv_help_shows_the_unset_marker(fresh_session):
    editor = MetadataEditor(fresh_session)
    assert "&lt;unset&gt;" in editor.upload_label.value


def test_a_receiver_holding_money_is_never_planned_for_detach(fresh_session, fresh_explorer):
    """The rule lives in plan_detach, so the panel, the runbook and the CLI all refuse it."""
    frame = fresh_explorer.frame
    left = frame["receiver_amount_received"] - frame["receiver_amount_charged"]
    left = left - frame["receiver_amount_returned"]
    holding = frame[(left > 0) & frame["customer"].notna() & (frame["status"] != "consumed")]
    assert len(holding)
    fresh_explorer.select([holding["id"].iloc[0]])
    panel = DetachPanel(fresh_session, fresh_explorer)
    plan = panel.preview()
    assert plan is not None and plan.counts["ready"] == 0 and plan.counts["invalid"] == 1
    reason = plan.invalid["reason"].iloc[0]
    assert "refund it first" in reason and str(holding["currency"].iloc[0]).upper() in reason
