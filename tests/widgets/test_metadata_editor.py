"""MetadataEditor driven through its traits and handlers against a writable sandbox."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from tests.widgets.widget_support import LIVE_KEY, TEST_KEY, assert_no_secrets, widget_text
from toolkit.session import connect
from toolkit.widgets import MetadataEditor, SourceExplorer
from toolkit.widgets.metadata_editor import CSV_MODE


def _pick(explorer: SourceExplorer, n: int, status: str = "chargeable") -> list[str]:
    ids = list(explorer.frame.loc[explorer.frame["status"] == status, "id"].head(n))
    assert len(ids) == n
    explorer.select(ids)
    return ids


def _meta(sandbox, ids: list[str]) -> list[dict]:
    return [dict(sandbox.get_source(i).get("metadata") or {}) for i in ids]


@pytest.fixture
def editor(fresh_session, fresh_explorer, tmp_path: Path) -> MetadataEditor:
    return MetadataEditor(fresh_session, fresh_explorer, journal_folder=tmp_path / "journals")


def test_preview_dry_run_apply_and_undo(editor, fresh_explorer, fresh_sandbox, fresh_session):
    ids = _pick(fresh_explorer, 3)
    before = _meta(fresh_sandbox, ids)
    assert "<b>3</b> sources selected" in editor.selection_label.value
    assert editor.apply_button.disabled and editor.dry_run.value is True

    editor.add_key("segment", "gold")
    plan = editor.preview()
    assert plan is not None and plan.counts["ready"] == 3
    assert list(plan.df["source"]) == ids
    assert "segment" in editor.plan_view.value and editor.error.value == ""
    assert not editor.apply_button.disabled and editor.apply_button.description == "Dry run"

    # dry run by default: checks against Stripe, changes nothing
    assert editor.apply()
    assert editor.wait(30)
    assert editor.outcome.dry_run and editor.outcome.totals["would_apply"] == 3
    assert _meta(fresh_sandbox, ids) == before
    assert "Dry run (nothing changed)" in editor.result_view.value
    assert editor.undo_button.disabled and not editor.apply_button.disabled

    editor.dry_run.value = False
    assert editor.apply_button.description == "Apply"
    assert editor.apply()
    assert editor.wait(30)
    assert editor.outcome.totals["ok"] == 3, editor.outcome.df
    assert [m.get("segment") for m in _meta(fresh_sandbox, ids)] == ["gold"] * 3
    journal = editor.outcome.journal
    assert journal is not None and journal.exists() and str(journal) in editor.result_view.value
    assert journal.stat().st_mode & 0o077 == 0
    assert editor.apply_button.disabled  # the plan is spent: a new change needs a new preview
    assert not editor.undo_button.disabled

    assert editor.undo()
    assert editor.wait(30)
    assert editor.outcome.totals["ok"] == 3
    assert _meta(fresh_sandbox, ids) == before
    assert editor.undo_button.disabled
    assert_no_secrets(editor, fresh_session)


def test_inputs_changed_after_preview_lock_apply(editor, fresh_explorer) -> None:
    _pick(fresh_explorer, 2)
    editor.add_key("tier", "a")
    assert editor.preview() is not None and not editor.apply_button.disabled
    editor.key_rows.children[0].children[2].value = "b"
    assert editor.plan is None and editor.apply_button.disabled
    assert "preview again" in editor.plan_view.value
    assert editor.apply() is False and "Preview a plan" in editor.error.value
    editor.preview()
    assert not editor.apply_button.disabled
    fresh_explorer.clear_selection()  # a new selection drops the plan too
    assert editor.plan is None and editor.apply_button.disabled


def test_unset_keys(editor, fresh_explorer, fresh_sandbox) -> None:
    frame = fresh_explorer.frame
    has_key = frame[frame["metadata"].map(bool) & (frame["status"] == "chargeable")]
    source = has_key.iloc[0]
    key = sorted(source["metadata"])[0]
    fresh_explorer.select([source["id"]])
    editor.unset_keys.value = [key]
    plan = editor.preview()
    assert plan is not None and plan.counts["ready"] == 1
    editor.dry_run.value = False
    editor.apply()
    assert editor.wait(30)
    assert key not in fresh_sandbox.get_source(source["id"])["metadata"]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("a[b]", "x", "[ or ]"),
        ("", "orphan", "has no key"),
        ("k", "", "To remove a key"),
    ],
)
def test_bad_input_is_an_error_inside_the_widget(editor, fresh_explorer, key, value, message):
    _pick(fresh_explorer, 1)
    editor.add_key(key, value)
    if not key:  # add_key fills the empty first row only when given a key
        editor.key_rows.children[0].children[2].value = value
    assert editor.preview() is None
    assert message in editor.error.value
    assert editor.apply_button.disabled
    assert "Traceback" not in widget_text(editor)


def test_nothing_selected_or_nothing_to_change(editor, fresh_explorer) -> None:
    fresh_explorer.clear_selection()
    editor.add_key("k", "v")
    assert editor.preview() is None and "No sources selected" in editor.error.value
    _pick(fresh_explorer, 1)
    editor.key_rows.children = ()
    assert editor.preview() is None and "Nothing to change" in editor.error.value


def test_invalid_rows_are_shown_with_their_reason(editor, fresh_explorer) -> None:
    frame = fresh_explorer.frame
    full = frame[frame["metadata"].map(len) > 0].iloc[[0]].copy()
    full.at[full.index[0], "metadata"] = {f"k{i}": "v" for i in range(50)}
    ok = frame[frame["status"] == "chargeable"].iloc[[0]]
    editor.set_selection(pd.concat([ok, full], ignore_index=True))
    editor.add_key("one_more", "x")
    plan = editor.preview()
    assert plan is not None and plan.counts == {"ready": 1, "noop": 0, "invalid": 1, "total": 2}
    reason = plan.invalid["reason"].iloc[0]
    assert "50" in reason and reason.split(" ")[0] in editor.plan_view.value
    assert "#fde8ea" in editor.plan_view.value  # the invalid row is highlighted
    assert not editor.apply_button.disabled  # the valid row can still be applied


def test_csv_upload_plans_and_applies(editor, fresh_explorer, fresh_sandbox) -> None:
    ids = list(fresh_explorer.frame["id"].head(3))
    csv = "id,region,legacy\n" + "\n".join(f"{i},emea,<unset>" for i in ids[:2]) + f"\n{ids[2]},,\n"
    editor.upload.value = (
        {"name": "regions.csv", "type": "text/csv", "size": len(csv), "content": csv.encode(),
         "last_modified": dt.datetime(2026, 11, 1, tzinfo=dt.UTC)},
    )  # fmt: skip
    assert editor.mode.value == CSV_MODE and "regions.csv" in editor.upload_label.value
    plan = editor.preview()
    assert plan is not None, editor.error.value
    assert plan.counts["ready"] == 2 and plan.counts["noop"] == 1
    editor.dry_run.value = False
    editor.apply()
    assert editor.wait(30)
    assert editor.outcome.totals["ok"] == 2
    for source_id in ids[:2]:
        meta = fresh_sandbox.get_source(source_id)["metadata"]
        assert meta["region"] == "emea" and "legacy" not in meta


def test_csv_unknown_ids_and_unreadable_files(editor) -> None:
    assert editor.load_csv(b"id,region\nsrc_doesnotexist1,x\n", "x.csv")
    plan = editor.preview()
    assert plan is not None and plan.counts["invalid"] == 1
    assert "unknown id" in editor.plan_view.value
    assert editor.apply_button.disabled
    assert editor.load_csv(b"\xff\xfe\x00garbage", "bad.csv") is False
    assert "Could not read bad.csv" in editor.error.value
    assert editor.preview() is None and "Load a CSV" in editor.error.value


def test_retry_failed_rows(fresh_sandbox, tmp_path: Path) -> None:
    session = connect(TEST_KEY, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True,
                      max_retries=0)  # fmt: skip
    explorer = SourceExplorer(session)
    assert explorer.wait(30)
    editor = MetadataEditor(session, explorer, journal_folder=tmp_path)
    ids = _pick(explorer, 2)
    editor.add_key("retry", "yes")
    editor.preview()
    editor.dry_run.value = False
    fresh_sandbox.set_faults(error_rate=1.0, fault_method="POST")
    editor.apply()
    assert editor.wait(30)
    assert editor.outcome is not None
    assert editor.outcome.totals["failed"] == 2
    assert "failed" in editor.result_view.value and not editor.retry_button.disabled
    fresh_sandbox.faults_off()
    assert editor.retry_failed()
    assert editor.wait(30)
    assert editor.outcome.totals["ok"] == 2 and editor.retry_button.disabled
    assert [m.get("retry") for m in _meta(fresh_sandbox, ids)] == ["yes", "yes"]


def test_cancel_stops_the_apply(fresh_sandbox, tmp_path: Path) -> None:
    session = connect(TEST_KEY, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True,
                      max_workers=1)  # fmt: skip
    explorer = SourceExplorer(session)
    assert explorer.wait(30)
    editor = MetadataEditor(session, explorer, journal_folder=tmp_path)
    ids = list(explorer.frame["id"].head(30))
    explorer.select(ids)
    editor.add_key("cancel_me", "1")
    editor.preview()
    editor.dry_run.value = False
    fresh_sandbox.set_faults(latency=0.05)
    assert editor.apply()
    assert editor.running and not editor.cancel_button.disabled and editor.preview_button.disabled
    editor.cancel_button.click()
    assert editor.wait(30)
    fresh_sandbox.faults_off()
    assert editor.outcome is not None
    totals = editor.outcome.totals
    assert totals["canceled"] > 0 and totals["ok"] < 30, totals
    done = set(editor.outcome.df.loc[editor.outcome.df["result"] == "ok", "source"])
    for source_id in ids:
        assert (fresh_sandbox.get_source(source_id)["metadata"].get("cancel_me") == "1") == (
            source_id in done
        )
    assert editor.cancel_button.disabled and not editor.retry_button.disabled


def test_live_mode_banner_confirmation_and_refusal(fresh_sandbox, fresh_explorer, tmp_path):
    live = connect(LIVE_KEY, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True)
    editor = MetadataEditor(live, fresh_explorer.frame.head(2), journal_folder=tmp_path)
    assert "LIVE MODE" in editor.banner.value and "refused" in editor.banner.value
    assert editor.live_confirm.layout.display is None
    editor.add_key("k", "v")
    editor.preview()
    assert not editor.apply_button.disabled  # a dry run needs no confirmation
    editor.dry_run.value = False
    assert editor.apply_button.disabled  # a live write needs the extra confirmation
    assert editor.apply() is False and "confirmation" in editor.error.value
    editor.live_confirm.value = True
    assert not editor.apply_button.disabled
    editor.apply()
    assert editor.wait(30)
    assert "allow_live=True" in editor.error.value  # refused by the session, shown in the widget
    assert "Traceback" not in widget_text(editor)
    assert_no_secrets(editor, live)

    allowed = connect(LIVE_KEY, api_base=fresh_sandbox.url, quiet=True, allow_live=True)
    banner = MetadataEditor(allowed, None).banner.value
    assert "LIVE MODE" in banner and "real customer data" in banner


def test_test_mode_has_no_live_banner(editor) -> None:
    assert editor.banner.value == "" and editor.live_confirm.layout.display == "none"


def test_wrong_selection_type_is_refused(fresh_session) -> None:
    with pytest.raises(TypeError):
        MetadataEditor(fresh_session, ["src_1"])


def test_a_live_write_without_approval_is_saved_for_approval(
    fresh_sandbox, fresh_explorer, tmp_path, monkeypatch
):
    """Issue 28: a live write needs a second person's approval; the editor says so (no
    traceback), saves the plan for approval and names the next steps; nothing is written."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOOLKIT_REQUIRE_APPROVAL", raising=False)
    allowed = connect(
        LIVE_KEY, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True, allow_live=True
    )
    live_frame = __import__("toolkit").load_sources(allowed, progress=False).head(2)
    editor = MetadataEditor(allowed, live_frame, journal_folder=tmp_path / "journals")
    editor.add_key("k", "v")
    editor.preview()
    editor.dry_run.value = False
    editor.live_confirm.value = True
    fresh_sandbox.clear_log()
    editor.apply()
    assert editor.wait(30)
    text = editor.error.value
    assert "approved by someone other than you" in text and "toolkit approve" in text
    assert "Traceback" not in widget_text(editor)
    saved = list((tmp_path / "plans").glob("plan_*.json"))
    assert len(saved) == 1 and str(saved[0].name) in text
    assert not [e for e in fresh_sandbox.requests if e.method != "GET"]  # nothing was written
    assert_no_secrets(editor, allowed)
