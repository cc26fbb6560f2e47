"""Apply checks every rule a plan builder checks again, at the moment of the write.

- money that lands on a receiver between plan and apply: the receiver is drifted, never detached;
- a plan file edited and its digest recomputed (the digest is no seal): the forged rows are
  refused at apply time, rows marked invalid or no-op are never sent.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

import toolkit
from tests.changes.changes_support import frame_of, held, pick
from toolkit.changes.plans.record import digest_of
from toolkit.fetch import load_sources

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")


def empty_receivers(box, n: int) -> list[str]:
    """``n`` attached receivers that hold no customer money (plan_detach makes them ready)."""
    out = [
        sid
        for sid, src in sorted(box.store().sources.items())
        if src.get("flow") == "receiver"
        and src.get("customer")
        and src["status"] in ("chargeable", "pending")
        and held(src) <= 0
    ]
    assert len(out) >= n
    return out[:n]


def money_receiver(box) -> str:
    return next(
        sid
        for sid, src in sorted(box.store().sources.items())
        if src.get("customer") and src["status"] == "chargeable" and held(src) > 0
    )


def admin_deposit(box, source: str, amount: int) -> None:
    """Money lands through the sandbox's admin route, as a bank transfer would."""
    body = f"source={source}&amount={amount}".encode()
    with urllib.request.urlopen(f"{box.url}/_sandbox/deposit", data=body, timeout=10) as reply:
        assert reply.status == 200


def deletes(box) -> list[str]:
    return [e.path.rsplit("/", 1)[-1] for e in box.requests if e.method == "DELETE"]


@pytest.mark.parametrize("on_drift", ["refuse", "overwrite"])
def test_money_that_arrives_after_the_plan_is_never_detached(
    fresh_sandbox, fresh_session, on_drift
):
    box = fresh_sandbox
    sid, other = empty_receivers(box, 2)
    sources = load_sources(fresh_session, ids=[sid, other], progress=False)
    plan = toolkit.plan_detach(sources)
    assert plan.counts["ready"] == 2  # empty when planned
    admin_deposit(box, sid, 50_000)  # USD 500.00 arrives between plan and apply
    box.clear_log()
    outcome = toolkit.apply(plan, fresh_session, on_drift=on_drift, progress=False)
    row = outcome.df.set_index("source").loc[sid]
    expected = "drifted" if on_drift == "refuse" else "failed"  # overwrite never beats money
    assert row["result"] == expected, row.to_dict()
    assert "500.00" in row["message"] and "refund it first" in row["message"]
    assert sid not in deletes(box)
    src = box.get_source(sid)
    assert src["status"] != "consumed" and src["customer"]
    assert held(src) == 50_000  # the money is still there
    # the other row, still empty, is detached as planned
    assert outcome.df.set_index("source").loc[other, "result"] == "ok"
    assert deletes(box) == [other]


def edit_plan_file(path, edit) -> None:
    """Edit a saved plan file and recompute its digest, as anyone can."""
    record = json.loads(path.read_text())
    edit(record)
    record["digest"] = digest_of(record)
    path.write_text(json.dumps(record))


def test_a_forged_detach_row_in_a_plan_file_is_refused(fresh_sandbox, fresh_session, tmp_path):
    box = fresh_sandbox
    empty, rich = empty_receivers(box, 1)[0], money_receiver(box)
    money = held(box.get_source(rich))
    sources = load_sources(fresh_session, ids=[empty, rich], progress=False)
    plan = toolkit.plan_detach(sources)
    assert list(plan.df["status"]) == ["ready", "invalid"]
    path = toolkit.save_plan(plan, tmp_path / "plan.json")

    def forge(record):  # the refused receiver, flipped to ready
        row = record["rows"][1]
        row.update(
            status="ready",
            reason="",
            params={"customer": row["customer"]},
            after={"customer": None, "status": "consumed"},
        )

    edit_plan_file(path, forge)
    forged = toolkit.read_plan(path)  # the digest matches: it is no seal
    assert forged.counts["ready"] == 2
    box.clear_log()
    outcome = toolkit.apply(forged, fresh_session, progress=False)
    row = outcome.df.set_index("source").loc[rich]
    assert row["result"] in ("drifted", "failed") and "refund it first" in row["message"]
    assert toolkit.format_money(money, "usd") in row["message"]
    assert deletes(box) == [empty]
    assert box.get_source(rich)["status"] == "chargeable"
    assert held(box.get_source(rich)) == money


def test_forged_rows_of_other_kinds_are_refused_row_by_row(fresh_sandbox, fresh_session, tmp_path):
    box = fresh_sandbox
    cases = {
        "owner": (
            lambda frame: toolkit.plan_owner(frame, email="billing@example.com"),
            lambda p: p["owner"].update(email="not-an-email"),
            "does not look like an email",
        ),
        "owner field": (
            lambda frame: toolkit.plan_owner(frame, email="billing@example.com"),
            lambda p: p["owner"].update(planet="Mars"),
            "unknown owner field",
        ),
        "metadata": (
            lambda frame: toolkit.plan_metadata(frame, set={"tier": "gold"}),
            lambda p: p["metadata"].update({"bad[key]": "x"}),
            "contains [ or ]",
        ),
    }
    every = pick(box, 3 * len(cases))
    for number, (name, (make, forge, refusal)) in enumerate(cases.items()):
        ids = every[3 * number : 3 * number + 3]
        path = toolkit.save_plan(make(frame_of(box, ids)), tmp_path / f"{number}.json")

        def edit(record, forge=forge):
            forge(record["rows"][0]["params"])

        edit_plan_file(path, edit)
        box.clear_log()
        outcome = toolkit.apply(toolkit.read_plan(path), fresh_session, progress=False)
        results = list(outcome.df["result"])
        assert results == ["failed", "ok", "ok"], (name, outcome.df["message"].tolist())
        assert refusal in outcome.df.loc[0, "message"], name
        posted = {e.path.rsplit("/", 1)[-1] for e in box.requests if e.method == "POST"}
        assert posted == set(ids[1:]), name  # nothing sent for the forged row


def test_rows_marked_invalid_or_noop_are_never_sent(fresh_sandbox, fresh_session, tmp_path):
    box = fresh_sandbox
    ids = pick(box, 3)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"tier": "gold"})
    path = toolkit.save_plan(plan, tmp_path / "plan.json")

    def edit(record):
        record["rows"][0]["status"] = "invalid"
        record["rows"][0]["reason"] = "refused"
        record["rows"][1]["status"] = "noop"

    edit_plan_file(path, edit)
    box.clear_log()
    outcome = toolkit.apply(toolkit.read_plan(path), fresh_session, progress=False)
    assert list(outcome.df["result"]) == ["skipped", "skipped", "ok"]
    posted = {e.path.rsplit("/", 1)[-1] for e in box.requests if e.method == "POST"}
    assert posted == {ids[2]}


def test_a_status_no_builder_makes_refuses_the_plan_before_anything_is_sent(
    fresh_sandbox, fresh_session, tmp_path
):
    box = fresh_sandbox
    ids = pick(box, 2)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"tier": "gold"})
    path = toolkit.save_plan(plan, tmp_path / "plan.json")
    edit_plan_file(path, lambda record: record["rows"][1].update(status="READY"))
    box.clear_log()
    with pytest.raises(toolkit.InvalidInputError, match="row 2: status 'READY'") as info:
        toolkit.apply(toolkit.read_plan(path), fresh_session, progress=False)
    assert "make the plan again" in str(info.value)
    assert not box.requests
