"""``POST /v1/sources/{id}`` checks amount, mandate and source_order as Stripe's spec says: each
invalid request gets Stripe's error shape with the parameter named; what Stripe stores shows on
retrieve (an order), what it does not (a mandate) does not."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from toolkit.sandbox import Sandbox

OFFLINE = {
    "status": "accepted",
    "date": 1796083200,
    "type": "offline",
    "offline": {"contact_email": "mandates@example.com"},
}


def first(box: Sandbox, **wanted: Any) -> dict[str, Any]:
    for sid in sorted(box.store().sources):
        src = box.get_source(sid)
        if all(src.get(k) == v for k, v in wanted.items()):
            return src
    raise AssertionError(f"no source with {wanted}")


def refused(
    client: stripe.StripeClient, sid: str, params: dict[str, Any]
) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.sources.update(sid, params)  # type: ignore[arg-type]  # refused on purpose
    assert err.value.http_status == 400
    assert err.value.error is not None and err.value.error.type == "invalid_request_error"
    return err.value


MANDATE_CASES = [
    ({"acceptance": {"date": 1}}, "mandate[acceptance][status]", "parameter_missing"),
    ({"acceptance": {"status": "maybe"}}, "mandate[acceptance][status]", None),
    ({"acceptance": {"status": "accepted"}}, "mandate[acceptance][date]", "parameter_missing"),
    (
        {"acceptance": {"status": "pending", "type": "offline"}},
        "mandate[acceptance][offline][contact_email]",
        "parameter_missing",
    ),
    (
        {"acceptance": {**OFFLINE, "offline": {"contact_email": "a" * 801}}},
        "mandate[acceptance][offline][contact_email]",
        None,
    ),
    (
        {
            "acceptance": {
                "status": "pending",
                "type": "online",
                "online": {"date": 1, "ip": "1.2.3.4"},
            }
        },
        "mandate[acceptance][online][user_agent]",
        "parameter_missing",
    ),
    ({"acceptance": {**OFFLINE, "type": "paper"}}, "mandate[acceptance][type]", None),
    (
        {"acceptance": {**OFFLINE, "date": "soon"}},
        "mandate[acceptance][date]",
        "parameter_invalid_integer",
    ),
    ({"interval": "weekly"}, "mandate[interval]", None),
    ({"notification_method": "sms"}, "mandate[notification_method]", None),
    ({"currency": "usd"}, "mandate[currency]", None),
    ({"amount": "lots"}, "mandate[amount]", "parameter_invalid_integer"),
    ({"colour": "red"}, "mandate[colour]", "parameter_unknown"),
    ({"interval": ""}, "mandate[interval]", "parameter_invalid_empty"),
]


@pytest.mark.parametrize(("mandate", "param", "code"), MANDATE_CASES)
def test_each_mandate_refusal_names_its_parameter(box, wclient, mandate, param, code):
    sepa = first(box, type="sepa_debit", status="chargeable", currency="eur")
    err = refused(wclient, sepa["id"], {"mandate": mandate})
    assert err.param == param, err.user_message
    assert err.code == code


def test_a_mandate_is_taken_by_debit_sources_and_not_shown(box, wclient):
    sepa = first(box, type="sepa_debit", status="chargeable")
    mandate = {"acceptance": OFFLINE, "amount": "", "currency": "eur", "interval": "variable"}
    answer = wclient.v1.sources.update(sepa["id"], {"mandate": mandate}).to_dict()
    assert answer["id"] == sepa["id"] and "mandate" not in answer  # not in Stripe's schema
    ach = first(box, type="ach_debit", status="chargeable")
    wclient.v1.sources.update(ach["id"], {"mandate": {"notification_method": "email"}})
    card = first(box, type="card", status="chargeable")
    assert refused(wclient, card["id"], {"mandate": {"acceptance": OFFLINE}}).param == "mandate"
    consumed = first(box, type="sepa_debit", status="consumed")
    err = refused(wclient, consumed["id"], {"mandate": {"acceptance": OFFLINE}})
    assert err.param == "mandate" and "consumed" in err.user_message


def test_amount_rules(box, wclient):
    single = first(box, usage="single_use", status="pending", flow="redirect")
    assert wclient.v1.sources.update(single["id"], {"amount": 4200}).amount == 4200
    assert refused(wclient, single["id"], {"amount": 0}).param == "amount"
    err = refused(wclient, single["id"], {"amount": "ten"})
    assert (err.param, err.code) == ("amount", "parameter_invalid_integer")
    ended = first(box, usage="single_use", status="canceled", flow="redirect")
    err = refused(wclient, ended["id"], {"amount": 100})
    assert err.param == "amount" and "canceled" in err.user_message


def test_source_order_rules_and_what_retrieve_shows(box, wclient):
    klarna = wclient.v1.sources.create({"type": "klarna", "currency": "usd", "amount": 900})
    order = {
        "items": [{"amount": 900, "quantity": 1, "description": "Hat", "type": "sku"}],
        "shipping": {"name": "Ann", "carrier": "UPS", "address": {"line1": "1 Main St"}},
    }
    wclient.v1.sources.update(klarna.id, {"source_order": order})
    shown = wclient.v1.sources.retrieve(klarna.id).to_dict()["source_order"]
    assert shown["shipping"]["carrier"] == "UPS" and shown["amount"] == 900
    assert shown["items"][0]["currency"] == "usd"
    cases = [
        ({"shipping": {"name": "Ann"}}, "source_order[shipping][address]", "parameter_missing"),
        (
            {"shipping": {"address": {"city": "Austin"}}},
            "source_order[shipping][address][line1]",
            "parameter_missing",
        ),
        ({"items": [{"type": "gift"}]}, "source_order[items][0][type]", None),
        ({"items": [{"description": "x" * 1001}]}, "source_order[items][0][description]", None),
        (
            {"items": [{"quantity": "two"}]},
            "source_order[items][0][quantity]",
            "parameter_invalid_integer",
        ),
    ]
    for params, param, code in cases:
        err = refused(wclient, klarna.id, {"source_order": params})
        assert (err.param, err.code) == (param, code), err.user_message
    card = first(box, type="card", status="chargeable")
    assert refused(wclient, card["id"], {"source_order": order}).param == "source_order"


def test_publishable_key_reads_a_source_with_its_client_secret(box):
    from .conftest import make_client

    src = first(box, type="sepa_debit", status="chargeable")
    public = make_client(box, key="pk_test_" + "Publ1c" * 4)
    got = public.v1.sources.retrieve(src["id"], {"client_secret": src["client_secret"]})
    assert got.id == src["id"]
    with pytest.raises(stripe.InvalidRequestError) as err:
        public.v1.sources.retrieve(src["id"], {"client_secret": "src_client_secret_wrong"})
    assert err.value.http_status == 404 and err.value.code == "resource_missing"
    with pytest.raises(stripe.StripeError) as any_err:
        public.v1.sources.retrieve(src["id"])
    assert any_err.value.http_status == 404
    with pytest.raises(stripe.AuthenticationError) as auth_err:
        public.v1.sources.update(src["id"], {"metadata": {"a": "1"}})
    assert "publishable API key" in str(auth_err.value.user_message)
