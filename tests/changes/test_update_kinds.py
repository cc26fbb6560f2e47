"""amount, mandate and source_order as planned bulk changes (issue 25), end to end against the
sandbox with the real stripe SDK: plan -> apply -> journal -> resume -> undo, drift, refusals."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import toolkit
from tests.changes.changes_support import TEST_KEY, effective_writes, requests_for, rewrite_journal
from toolkit.changes.journal.reading import read_journal
from toolkit.cli import main

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")

OFFLINE = {
    "acceptance.status": "accepted",
    "acceptance.date": "2026-12-01",
    "acceptance.type": "offline",
    "acceptance.offline.contact_email": "mandates@example.com",
    "notification_method": "manual",
}


def singles(box, n: int) -> list[str]:
    """Single-use sources with an amount that can still be charged (not receivers)."""
    out = sorted(
        sid
        for sid, src in box.store().sources.items()
        if src["usage"] == "single_use"
        and src["flow"] != "receiver"
        and src["amount"]
        and src["status"] in ("pending", "chargeable")
        and src["currency"] in ("usd", "eur", "gbp")
    )
    assert len(out) >= n
    return out[:n]


def debits(box, n: int, kind: str = "sepa_debit") -> list[str]:
    out = sorted(
        sid
        for sid, src in box.store().sources.items()
        if src["type"] == kind and src["status"] == "chargeable"
    )
    assert len(out) >= n
    return out[:n]


def klarnas(session, n: int) -> list[str]:
    """Klarna sources with an order (the seed has none attached: create them)."""
    ids = []
    for i in range(n):
        src = session.client.v1.sources.create(
            {
                "type": "klarna",
                "currency": "usd",
                "amount": 2000,
                "source_order": {
                    "items": [{"amount": 2000, "quantity": 1, "description": f"Boots {i}"}],
                    "shipping": {
                        "name": "Ann",
                        "address": {"line1": f"{i} Main St", "city": "Austin", "country": "US"},
                    },
                },
            }
        )
        ids.append(src.id)
    return ids


def test_amount_applies_resumes_and_undoes_exactly(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    ids = singles(box, 3)
    before = {sid: box.get_source(sid)["amount"] for sid in ids}
    frame = toolkit.load_sources(session, ids=ids, progress=False)
    plan = toolkit.plan_amount(frame, amount_major="12.50")
    assert plan.counts["ready"] == 3 and not plan.irreversible
    assert all(p == {"amount": 1250} for p in plan.df["params"])
    assert "→ 1250 (12.50" in plan.df.loc[0, "change"]
    assert toolkit.apply(plan, session, dry_run=True, progress=False).totals["would_apply"] == 3

    # a crash after the first row's request was sent, before its answer was journaled
    outcome = toolkit.apply(plan, session, progress=False)
    assert outcome.totals["ok"] == 3
    journal = outcome.journal
    first = ids[0]
    assert journal is not None
    rewrite_journal(journal, lambda r: not (r.get("type") == "end" and r.get("source") == first))
    assert len(read_journal(journal).unresolved) == 1
    resumed = toolkit.apply(plan, session, resume=journal, progress=False)
    assert resumed.totals["ok"] == 1 and resumed.totals["skipped"] == 2
    assert effective_writes(box)[first] == 1  # nothing written twice
    for sid in ids:  # the SDK's own retrieve shows the new amount
        assert session.client.v1.sources.retrieve(sid).amount == 1250

    back = toolkit.undo(journal, session, progress=False)
    assert back.totals["ok"] == 3
    assert {sid: box.get_source(sid)["amount"] for sid in ids} == before  # exactly


def test_amount_drift_and_refusals(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    sid = singles(box, 1)[0]
    receiver = next(s for s, src in box.store().sources.items() if src["flow"] == "receiver")
    consumed = next(
        s
        for s, src in box.store().sources.items()
        if src["status"] == "consumed" and src["flow"] != "receiver"
    )
    frame = toolkit.load_sources(session, ids=[sid, receiver, consumed], progress=False)
    plan = toolkit.plan_amount(frame, 990)
    by_id = plan.df.set_index("source")
    assert by_id.loc[sid, "status"] == "ready"
    assert "receiver takes no amount" in by_id.loc[receiver, "reason"]
    assert "consumed source" in by_id.loc[consumed, "reason"]
    session.client.v1.sources.update(sid, {"amount": 777})  # someone else changed it
    outcome = toolkit.apply(plan, session, progress=False)
    row = outcome.df.set_index("source").loc[sid]
    assert row["result"] == "drifted" and "amount is 777, plan expected" in row["message"]
    assert box.get_source(sid)["amount"] == 777
    with pytest.raises(toolkit.InvalidInputError, match="exactly one of"):
        toolkit.plan_amount(frame)
    with pytest.raises(toolkit.InvalidInputError, match="at least 1"):
        toolkit.plan_amount(frame, 0)


def test_mandates_from_a_table_cannot_be_undone(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    ids = debits(box, 3)
    card = next(s for s, src in box.store().sources.items() if src["type"] == "card")
    table = pd.DataFrame(
        {"id": [*ids, card], **{f"mandate.{k}": [v] * 4 for k, v in OFFLINE.items()}}
    )
    table.to_csv("mandates.csv", index=False)
    frame = toolkit.load_sources(session, ids=[*ids, card], progress=False)
    plan = toolkit.plan_mandate_from_table("mandates.csv", sources=frame)
    assert plan.irreversible and "cannot be undone" in repr(plan)
    assert plan.counts == {"ready": 3, "noop": 0, "invalid": 1, "total": 4}
    assert "card source does not take a mandate" in plan.invalid["reason"].iloc[0]
    mandate = plan.df.loc[0, "params"]["mandate"]
    assert mandate["acceptance"] == {
        "status": "accepted",
        "date": 1796083200,
        "type": "offline",
        "offline": {"contact_email": "mandates@example.com"},
    }
    outcome = toolkit.apply(plan, session, progress=False)
    assert outcome.totals["ok"] == 3
    sent = [e.params["mandate"] for e in requests_for(box, ids[0], "POST")]
    assert sent[-1]["acceptance"]["offline"] == {"contact_email": "mandates@example.com"}
    assert sent[-1]["acceptance"]["date"] == "1796083200"  # form-encoded, sent whole

    # resume after a lost answer: the same key, Stripe replays its saved answer, nothing twice
    journal = outcome.journal
    assert journal is not None
    rewrite_journal(journal, lambda r: not (r.get("type") == "end" and r.get("source") == ids[1]))
    resumed = toolkit.apply(plan, session, resume=journal, progress=False)
    row = resumed.df.set_index("source").loc[ids[1]]
    assert row["result"] == "ok" and "replayed" in row["message"]
    assert effective_writes(box)[ids[1]] == 1

    with pytest.raises(toolkit.InvalidInputError, match="cannot be taken back"):
        toolkit.undo(journal, session, progress=False)


def test_mandate_rules_say_why_before_anything_is_sent(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    sid = debits(box, 1)[0]  # a euro source
    frame = toolkit.load_sources(session, ids=[sid], progress=False)
    plan = toolkit.plan_mandate(frame, {**OFFLINE, "currency": "usd"})
    assert plan.df.loc[0, "status"] == "invalid"
    assert "mandate[currency] 'usd' must be the source's currency (eur)" in plan.df.loc[0, "reason"]
    cases: dict[str, dict[str, object]] = {
        "mandate[acceptance][status] 'ok'": {"acceptance.status": "ok"},
        "mandate[acceptance][date] is required": {"acceptance.status": "accepted"},
        "contact_email] is required": {**OFFLINE, "acceptance.offline.contact_email": None},
        "(Stripe allows 800)": {**OFFLINE, "acceptance.offline.contact_email": "a" * 801},
        "online][ip] is required": {
            "acceptance.status": "pending",
            "acceptance.type": "online",
            "acceptance.online.date": 1,
            "acceptance.online.user_agent": "x",
        },
        "Unknown mandate field": {"acceptance.colour": "red"},
        "notification_method] 'sms'": {"notification_method": "sms"},
    }
    for expected, mandate in cases.items():
        mandate = {k: v for k, v in mandate.items() if v is not None}
        with pytest.raises(toolkit.InvalidInputError, match=None) as err:
            toolkit.plan_mandate(frame, mandate)
        assert expected in str(err.value), (expected, str(err.value))
    with pytest.raises(toolkit.InvalidInputError) as err:
        toolkit.plan_mandate_from_table(pd.DataFrame({"id": [sid], "mandate.colour": ["x"]}))
    assert "mandate.acceptance.status" in str(err.value)  # the known columns are listed


def test_source_order_is_sent_whole_and_undone(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    ids = klarnas(session, 2)
    before = {sid: box.get_source(sid)["source_order"] for sid in ids}
    # bare ids: the order is unknown when planning, merged with the one read at apply
    plan = toolkit.plan_source_order(
        ids, {"shipping.carrier": "DHL", "shipping.tracking_number": 7}
    )
    assert plan.df.loc[0, "params"] == {
        "source_order": {"shipping": {"carrier": "DHL", "tracking_number": "7"}}
    }
    outcome = toolkit.apply(plan, session, progress=False)
    assert outcome.totals["ok"] == 2
    for sid in ids:
        order = session.client.v1.sources.retrieve(sid).to_dict()["source_order"]
        assert order["shipping"]["carrier"] == "DHL"
        assert order["shipping"]["address"]["line1"] is not None  # the rest was kept
        assert order["items"][0]["description"].startswith("Boots")
    sent = requests_for(box, ids[0], "POST")[-1].params["source_order"]
    assert set(sent) == {"items", "shipping"} and sent["shipping"]["name"] == "Ann"
    assert outcome.journal is not None
    back = toolkit.undo(outcome.journal, session, progress=False)
    assert back.totals["ok"] == 2
    assert {sid: box.get_source(sid)["source_order"] for sid in ids} == before

    # from source dicts: the plan shows the diff; drift is refused
    objs = [session.client.v1.sources.retrieve(sid).to_dict() for sid in ids]
    plan = toolkit.plan_source_order_from_table(
        pd.DataFrame({"id": ids, "source_order.shipping.address.city": ["Dallas", ""]}),
        sources=objs,
    )
    assert plan.counts == {"ready": 1, "noop": 1, "invalid": 0, "total": 2}
    assert "shipping.address.city: 'Austin' → 'Dallas'" in plan.df.loc[0, "change"]
    session.client.v1.sources.update(
        ids[0],
        {"source_order": {"shipping": {"name": "Bob", "address": {"line1": "9 Elm"}}}},
    )
    outcome = toolkit.apply(plan, session, progress=False)
    assert outcome.df.loc[0, "result"] == "drifted"


def test_source_order_refused_where_there_is_no_order(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    card = next(
        s
        for s, src in box.store().sources.items()
        if src["type"] == "card" and src["status"] == "chargeable"
    )
    plan = toolkit.plan_source_order([card], {"shipping.carrier": "DHL"})
    outcome = toolkit.apply(plan, session, progress=False)  # known only at apply: refused there
    assert outcome.df.loc[0, "result"] == "failed"
    assert "card source does not take a source order" in outcome.df.loc[0, "message"]
    assert not requests_for(box, card, "POST")
    frame = toolkit.load_sources(session, ids=[card], progress=False)  # the type is known
    planned = toolkit.plan_source_order(frame, {"shipping.carrier": "DHL"})
    assert "card source does not take a source order" in planned.df.loc[0, "reason"]
    with pytest.raises(toolkit.InvalidInputError, match=r"source_order\.shipping\.carrier"):
        toolkit.plan_source_order_from_table(pd.DataFrame({"id": [card], "carrier": ["DHL"]}))


def test_cli_plans_mandates_and_asks_for_a_confirmation(fresh_sandbox, monkeypatch, capsys):
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", fresh_sandbox.url)
    monkeypatch.delenv("STRIPE_ACCOUNT", raising=False)
    ids = debits(fresh_sandbox, 2)
    pd.DataFrame({"id": ids, **{f"mandate.{k}": [v] * 2 for k, v in OFFLINE.items()}}).to_csv(
        "mandates.csv", index=False
    )
    assert main(["plan", "mandate", "--table", "mandates.csv", "--json"]) == 0
    made = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert made["counts"]["ready"] == 2 and made["action"] == "update_mandate"
    assert main(["apply", made["file"], "--json"]) != 0  # irreversible: --confirm 2 needed
    capsys.readouterr()
    assert main(["apply", made["file"], "--confirm", "2", "--json"]) == 0
    applied = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert applied["totals"]["ok"] == 2


def test_one_table_for_any_change(fresh_sandbox, fresh_session, monkeypatch, capsys):
    box, session = fresh_sandbox, fresh_session
    sepa = debits(box, 1)[0]
    single = singles(box, 2)
    klarna = klarnas(session, 1)[0]
    ids = [sepa, *single, klarna]
    before = {sid: box.get_source(sid) for sid in ids}
    table = pd.DataFrame(
        {
            "id": ids,
            "amount_major": ["", "9.99", "", ""],
            "amount": ["", "", "4321", ""],
            "owner.email": ["", "new@example.com", "", ""],
            "metadata.team": ["ar", "", "ap", "<unset>"],
            "mandate.acceptance.status": ["accepted", "", "", ""],
            "mandate.acceptance.date": ["2026-12-01", "", "", ""],
            "source_order.shipping.carrier": ["", "", "", "DHL"],
        }
    )
    frame = toolkit.load_sources(session, ids=ids, progress=False)
    plan = toolkit.plan_update(table, sources=frame)
    assert plan.counts["ready"] == 4 and plan.irreversible  # a mandate is in it
    changes = list(plan.df["change"])
    assert "add team='ar'" in changes[0] and "record mandate" in changes[0]
    assert "set owner.email" in changes[1] and "set amount" in changes[1]
    assert set(plan.df.loc[2, "params"]) == {"metadata", "amount"}
    outcome = toolkit.apply(plan, session, progress=False)
    assert outcome.totals["ok"] == 4
    assert session.client.v1.sources.retrieve(single[1]).amount == 4321
    assert box.get_source(klarna)["source_order"]["shipping"]["carrier"] == "DHL"
    assert len(requests_for(box, single[0], "POST")) == 1  # one request per row

    assert outcome.journal is not None
    back = toolkit.undo(outcome.journal, session, progress=False)
    assert back.totals["ok"] == 4
    assert "mandate stays" in back.df.loc[0, "message"]
    for sid in ids:
        now = box.get_source(sid)
        for field in ("amount", "metadata", "owner", "source_order"):
            assert now.get(field) == before[sid].get(field), (sid, field)

    with pytest.raises(toolkit.InvalidInputError) as err:
        toolkit.plan_update(pd.DataFrame({"id": ids, "owner.colour": ["x"] * 4}))
    assert "owner.address.city" in str(err.value) and "mandate.acceptance.status" in str(err.value)
    refused = toolkit.plan_update(pd.DataFrame({"id": [single[0]], "owner.email": ["<unset>"]}))
    assert "cannot clear owner fields" in refused.df.loc[0, "reason"]
    refused = toolkit.plan_update(pd.DataFrame({"id": [single[0]], "amount": ["<unset>"]}))
    assert "takes no unset for amount" in refused.df.loc[0, "reason"]

    # the command line: python -m toolkit plan update --table
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", box.url)
    monkeypatch.delenv("STRIPE_ACCOUNT", raising=False)
    pd.DataFrame({"id": single, "amount": ["111", "222"], "metadata.t": ["1", "2"]}).to_csv(
        "changes.csv", index=False
    )
    assert main(["plan", "update", "--table", "changes.csv", "--json"]) == 0
    made = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert made["counts"]["ready"] == 2 and made["action"] == "update_source"
    assert main(["apply", made["file"], "--json"]) == 0  # no mandate: no confirmation needed
    assert [box.get_source(s)["amount"] for s in single] == [111, 222]


def test_the_demo_account_has_orders_to_complete(fresh_sandbox, fresh_session):
    box, session = fresh_sandbox, fresh_session
    ids = box.order_ids
    assert len(ids) == 3
    frame = toolkit.load_sources(session, progress=False)  # attached: the account load finds them
    assert set(ids) <= set(frame["id"])
    orders = frame[frame["type"] == "klarna"]
    plan = toolkit.plan_source_order(orders, {"shipping.carrier": "UPS"})
    outcome = toolkit.apply(plan, session, progress=False)
    assert outcome.totals["ok"] == 3
    assert {box.get_source(s)["source_order"]["shipping"]["carrier"] for s in ids} == {"UPS"}
    assert outcome.journal is not None
    assert toolkit.undo(outcome.journal, session, progress=False).totals["ok"] == 3
    assert {box.get_source(s)["source_order"]["shipping"]["carrier"] for s in ids} == {None}


def test_rules_are_checked_again_at_apply(fresh_sandbox, fresh_session):
    """A row edited after planning (a forged plan file, say) never reaches Stripe."""
    box, session = fresh_sandbox, fresh_session
    sid = debits(box, 1)[0]
    plan = toolkit.plan_mandate([sid], OFFLINE)
    plan.df.at[0, "params"] = {"mandate": {"acceptance": {"status": "maybe"}}}
    with pytest.raises(toolkit.InvalidInputError, match=r"mandate\[acceptance\]\[status\]"):
        toolkit.apply(plan, session, progress=False)
    # a rule about the source, against the state read just before the write: its currency
    plan = toolkit.plan_mandate([sid], {**OFFLINE, "currency": "usd"})  # bare id: unknown then
    assert plan.df.loc[0, "status"] == "ready"
    outcome = toolkit.apply(plan, session, progress=False)
    assert outcome.df.loc[0, "result"] == "failed"
    assert "must be the source's currency (eur)" in outcome.df.loc[0, "message"]
    update = toolkit.plan_update(pd.DataFrame({"id": [sid], "amount": ["0"]}))
    assert "at least 1" in update.df.loc[0, "reason"]
    assert not requests_for(box, sid, "POST")
