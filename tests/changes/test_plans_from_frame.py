"""Plans from the real sources frame (load_sources), a CSV an analyst edited, applied end to end."""

from __future__ import annotations

import pandas as pd
import pytest

from toolkit.changes.kinds.metadata import UNSET
from toolkit.changes.plans.builders import plan_metadata_from_table, plan_owner
from toolkit.changes.run.applying import apply
from toolkit.changes.run.undoing import undo
from toolkit.fetch import load_sources

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")


def test_csv_round_trip_from_the_frame(fresh_sandbox, fresh_session, tmp_path):
    df = load_sources(fresh_session, progress=False)
    live = df[df["status"].isin(["chargeable", "pending"])].head(5).reset_index(drop=True)
    with_keys = [(i, next(iter(m))) for i, m in enumerate(live["metadata"]) if m]
    assert with_keys, "the seeded data has metadata"
    # the analyst's sheet: id plus one column per key; fill some cells, leave others empty
    sheet = pd.DataFrame({"id": live["id"], "segment": ["", "smb", "ent", "", "smb"]})
    row, key = with_keys[0]
    sheet[key] = ""
    sheet.loc[row, key] = UNSET
    sheet = pd.concat([sheet, pd.DataFrame({"id": ["src_notinthisaccount"], "segment": ["x"]})])
    path = tmp_path / "sheet.csv"
    sheet.to_csv(path, index=False)

    plan = plan_metadata_from_table(path, sources=df)
    status = list(plan.df["status"])
    assert status[-1] == "invalid" and "unknown id" in plan.df["reason"].iloc[-1]
    outcome = apply(plan, fresh_session, progress=False)
    assert outcome.totals["failed"] == 0 and outcome.totals["drifted"] == 0

    after = load_sources(fresh_session, ids=list(live["id"]), progress=False).set_index("id")
    for i, sid in enumerate(live["id"]):
        meta = after.loc[sid, "metadata"]
        want = dict(live.loc[i, "metadata"])
        if sheet["segment"].iloc[i]:
            want["segment"] = sheet["segment"].iloc[i]
        if i == row:
            want.pop(key)
        assert meta == want
    # undo brings the frame back to what it was
    assert outcome.journal is not None
    undo(outcome.journal, fresh_session, progress=False)
    again = load_sources(fresh_session, ids=list(live["id"]), progress=False).set_index("id")
    assert [again.loc[s, "metadata"] for s in live["id"]] == list(live["metadata"])


def test_owner_plan_from_the_frame(fresh_session):
    df = load_sources(fresh_session, progress=False)
    some = df[df["status"] == "chargeable"].head(3)
    plan = plan_owner(some, phone="+15550000000")
    email = some["owner_email"].iloc[0]
    assert plan.df["before"].iloc[0]["email"] == (None if pd.isna(email) else email)
    outcome = apply(plan, fresh_session, progress=False)
    assert outcome.totals["ok"] == 3
    after = load_sources(fresh_session, ids=list(some["id"]), progress=False)
    assert set(after["owner_phone"]) == {"+15550000000"}
