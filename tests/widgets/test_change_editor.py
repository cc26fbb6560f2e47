"""ChangeEditor: pick fields (amount, owner, metadata, mandate), see the diff, apply, undo; a
mandate asks for the typed number of sources first, as a detach does."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.widgets.widget_support import assert_no_secrets
from toolkit.widgets import ChangeEditor


@pytest.fixture
def editor(fresh_session, fresh_explorer, tmp_path: Path) -> ChangeEditor:
    return ChangeEditor(fresh_session, fresh_explorer, journal_folder=tmp_path / "journals")


def test_fields_preview_apply_and_undo(editor, fresh_explorer, fresh_sandbox, fresh_session):
    frame = fresh_explorer.frame
    single = frame[
        (frame["usage"] == "single_use")
        & (frame["flow"] != "receiver")
        & frame["status"].isin(["pending", "chargeable"])
        & frame["currency"].isin(["usd", "eur"])
    ]
    ids = sorted(single["id"])[:2]
    before = {sid: fresh_sandbox.get_source(sid)["amount"] for sid in ids}
    fresh_explorer.select(ids)
    assert editor.add_field("owner.colour", "red") is False
    assert "owner.address.city" in editor.error.value  # the known fields are listed
    assert editor.add_field("amount_major", "12.50") and editor.add_field("metadata.team", "ar")
    assert "amount_major" in editor.fields_view.value
    plan = editor.preview()
    assert plan is not None and plan.counts["ready"] == 2 and not plan.irreversible
    assert "→ 1250 (12.50" in editor.plan_view.value and "add team" in editor.plan_view.value
    assert editor.confirm.layout.display == "none"
    assert editor.apply_button.description == "Apply to 2 sources"
    editor.apply_button.click()
    assert editor.wait(30)
    assert editor.outcome.totals["ok"] == 2
    assert [fresh_sandbox.get_source(s)["amount"] for s in ids] == [1250, 1250]
    assert not editor.undo_button.disabled
    editor.undo_button.click()
    assert editor.wait(30)
    assert {s: fresh_sandbox.get_source(s)["amount"] for s in ids} == before
    assert_no_secrets(editor, fresh_session)


def test_a_mandate_asks_for_the_number_first(editor, fresh_explorer, fresh_sandbox):
    frame = fresh_explorer.frame
    debit = frame[(frame["type"] == "sepa_debit") & (frame["status"] == "chargeable")]
    ids = sorted(debit["id"])[:2]
    fresh_explorer.select(ids)
    editor.add_field("mandate.acceptance.status", "accepted")
    editor.add_field("mandate.acceptance.date", "2026-12-01")
    plan = editor.preview()
    assert plan is not None and plan.irreversible and plan.counts["ready"] == 2
    assert "cannot be undone" in editor.plan_view.value.lower()
    assert editor.confirm.layout.display is None and editor.apply_button.disabled
    assert editor.apply() is False and "confirm with the number of sources" in editor.error.value
    editor.confirm.value = "2"
    assert not editor.apply_button.disabled
    editor.apply_button.click()
    assert editor.wait(30)
    assert editor.outcome.totals["ok"] == 2
