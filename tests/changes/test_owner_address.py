"""Stripe replaces the owner's address whole on an update: the sandbox does so, and the toolkit
always sends the whole address (the state read just before the write, with the change applied),
compares the whole address for done and drift, and undoes all of it."""

from __future__ import annotations

import pytest

import toolkit
from tests.changes.changes_support import frame_of, pick
from toolkit.changes.journal.reading import read_journal

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")

FULL = {
    "line1": "1 Main St",
    "line2": "Floor 3",
    "city": "Berlln",  # the typo the plan fixes
    "state": "BE",
    "postal_code": "10115",
    "country": "DE",
}


def with_address(session, ids, address=FULL):
    for sid in ids:
        session.client.v1.sources.update(
            sid, {"owner": {"email": f"{sid.lower()}@example.com", "address": address}}
        )


def address_of(box, sid):
    return (box.get_source(sid).get("owner") or {}).get("address")


def owner_posts(box):
    """The owner params of every POST to a source, as the sandbox received them."""
    return [e.params["owner"] for e in box.requests if e.method == "POST" and "owner" in e.params]


def test_the_sandbox_replaces_the_address_and_merges_metadata(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    sid = pick(box, 1)[0]
    client = fresh_session.client
    client.v1.sources.update(sid, {"metadata": {"a": "1"}, "owner": {"name": "Ann"}})
    with_address(fresh_session, [sid])
    src = client.v1.sources.update(
        sid, {"owner": {"address": {"city": "Berlin"}}, "metadata": {"b": "2"}}
    ).to_dict()
    assert src["owner"]["address"] == {
        "city": "Berlin",
        "country": None,
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }
    assert src["owner"]["name"] == "Ann" and src["owner"]["email"]  # owner fields merge
    assert src["metadata"]["a"] == "1" and src["metadata"]["b"] == "2"  # merged key by key
    # an order's shipping address is replaced whole too
    free = client.v1.sources.create({"type": "klarna", "currency": "usd", "amount": 100}).id
    shipping = {"name": "Ann", "address": {"line1": "2 Side St", "city": "Lyon"}}
    item = {"amount": 100, "quantity": 1, "description": "x"}
    client.v1.sources.update(free, {"source_order": {"items": [item], "shipping": shipping}})
    shipping = {"name": "Ann", "address": {"line1": "3 Other St"}}  # Stripe requires line1
    order = client.v1.sources.update(
        free, {"source_order": {"items": [item], "shipping": shipping}}
    ).to_dict()["source_order"]
    assert order["shipping"]["address"]["line1"] == "3 Other St"
    assert order["shipping"]["address"]["city"] is None


def test_a_city_fix_keeps_the_rest_of_the_address(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 3)
    with_address(fresh_session, ids)
    plan = toolkit.plan_owner(frame_of(box, ids), address_city="Berlin")
    whole = {**FULL, "city": "Berlin"}
    assert plan.df.loc[0, "params"] == {"owner": {"address": whole}}
    # the plan shows the address as one value, before and after
    assert plan.df.loc[0, "change"] == (
        "set owner.address: '1 Main St, Floor 3, Berlln, BE, 10115, DE' → "
        "'1 Main St, Floor 3, Berlin, BE, 10115, DE'"
    )
    assert plan.summary().to_dict("records") == [
        {"change": "set", "field": "owner.address", "rows": 3}
    ]
    box.clear_log()
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    assert outcome.totals["ok"] == 3
    assert all(address_of(box, sid) == whole for sid in ids)
    assert owner_posts(box) == [{"address": whole}] * 3  # the whole address went out
    assert outcome.journal is not None
    begin = next(r for r in read_journal(outcome.journal).records if r["type"] == "begin")
    assert begin["params"] == {"owner": {"address": whole}}  # the journal says what was sent


def test_sources_given_as_ids_get_the_address_read_at_apply(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 2)
    with_address(fresh_session, ids)
    plan = toolkit.plan_owner(ids, address_city="Berlin")  # nothing known when planning
    assert plan.df.loc[0, "params"] == {"owner": {"address": {"city": "Berlin"}}}
    box.clear_log()
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    assert outcome.totals["ok"] == 2
    whole = {**FULL, "city": "Berlin"}
    assert all(address_of(box, sid) == whole for sid in ids)
    assert owner_posts(box) == [{"address": whole}] * 2
    # applied again: already as planned, nothing sent
    box.clear_log()
    again = toolkit.apply(toolkit.plan_owner(ids, address_city="Berlin"), fresh_session)
    assert again.totals["skipped"] == 2 and not owner_posts(box)


def test_another_address_field_changed_since_the_plan_is_drift(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 2)
    with_address(fresh_session, ids)
    plan = toolkit.plan_owner(frame_of(box, ids), address_city="Berlin")
    moved = {**FULL, "line1": "9 Other St"}
    with_address(fresh_session, ids[:1], moved)  # someone fixed line1 meanwhile
    box.clear_log()
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    row = outcome.df.set_index("source").loc[ids[0]]
    assert row["result"] == "drifted" and "address.line1 is '9 Other St'" in row["message"]
    assert address_of(box, ids[0]) == moved
    # overwriting the drift sends the state read with the change applied: line1 survives
    forced = toolkit.apply(plan, fresh_session, on_drift="overwrite", progress=False)
    assert forced.df.set_index("source").loc[ids[0], "result"] == "ok"
    assert address_of(box, ids[0]) == {**moved, "city": "Berlin"}


def test_undo_restores_the_whole_address(fresh_sandbox, fresh_session):
    box = fresh_sandbox
    ids = pick(box, 2)
    partial = {k: v for k, v in FULL.items() if k != "line2"}  # no line2 before
    with_address(fresh_session, ids, partial)
    before = {sid: address_of(box, sid) for sid in ids}
    plan = toolkit.plan_owner(frame_of(box, ids), address={"city": "Berlin", "line2": "Apt 4"})
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    assert outcome.totals["ok"] == 2
    assert all(address_of(box, sid)["line2"] == "Apt 4" for sid in ids)
    box.clear_log()
    assert outcome.journal is not None
    back = toolkit.undo(outcome.journal, fresh_session, progress=False)
    assert back.totals["ok"] == 2, back.df["message"].tolist()
    assert {sid: address_of(box, sid) for sid in ids} == before  # line2 empty again
    assert owner_posts(box) == [{"address": partial}] * 2
