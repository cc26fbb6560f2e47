"""Every object and error the sandbox sends validates against Stripe's published schema.

Responses are taken as wire JSON through the SDK's raw_request (not StripeObjects).
"""

from __future__ import annotations

import json

import pytest
import stripe

from toolkit.sandbox import Sandbox

from .conftest import LIVE_KEY, Schemas, make_client, raw, send
from .stripe_shapes import TYPED_LEDGER_PARAMS


def _envelope(page: dict) -> dict:
    """The page with embedded source lists emptied (their items are validated one by one)."""
    data = [
        {**c, "sources": {**c["sources"], "data": []}} if "sources" in c else c
        for c in page["data"]
    ]
    return {**page, "data": data}


def _all_customer_pages(client: stripe.StripeClient) -> list[dict]:
    pages, after = [], None
    while True:
        params = {"limit": 100, "expand": ["data.sources"]}
        if after:
            params["starting_after"] = after
        page = raw(client, "get", "/v1/customers", **params)
        pages.append(page)
        if not page["has_more"]:
            return pages
        after = page["data"][-1]["id"]


@pytest.mark.slow
def test_every_seeded_object_matches_the_schema(
    sandbox: Sandbox, client: stripe.StripeClient, schemas: Schemas
) -> None:
    seen_sources = 0
    kinds = set()
    for page in _all_customer_pages(client):
        schemas.check_response(_envelope(page), "get", "/v1/customers")
        for cus in page["data"]:
            embedded = cus["sources"]
            assert embedded["url"] == f"/v1/customers/{cus['id']}/sources"
            assert "total_count" not in embedded
            if embedded["has_more"]:
                rest = raw(
                    client,
                    "get",
                    f"/v1/customers/{cus['id']}/sources",
                    limit=100,
                    starting_after=embedded["data"][-1]["id"],
                )
                schemas.check_response(
                    {**rest, "data": []}, "get", "/v1/customers/{customer}/sources"
                )
                items = embedded["data"] + rest["data"]
            else:
                items = embedded["data"]
            for item in items:
                kinds.add(item["object"])
                schemas.check(item, item["object"])
                if item["object"] == "source":
                    seen_sources += 1
                    kinds.add(item["type"])
                    assert item["customer"] == cus["id"]
    for sid in sandbox.detached_ids + sandbox.unattached_ids:
        src = raw(client, "get", f"/v1/sources/{sid}")
        schemas.check_response(src, "get", "/v1/sources/{source}")
    assert seen_sources > 800
    assert {"source", "card", "bank_account"} <= kinds
    assert {"ach_credit_transfer", "card", "sepa_debit", "ach_debit", "three_d_secure"} <= kinds
    assert {"alipay", "multibanco", "wechat", "ideal"} <= kinds


def test_transactions_and_their_lists_match_the_schema(
    sandbox: Sandbox, client: stripe.StripeClient, schemas: Schemas
) -> None:
    ids = [sid for names in sandbox.planted.values() for sid in names]
    ids += [s for s, txns in sandbox.store().transactions.items() if txns][:20]
    count = 0
    for sid in ids:
        page = raw(client, "get", f"/v1/sources/{sid}/source_transactions", limit=100)
        schemas.check_response(page, "get", "/v1/sources/{source}/source_transactions")
        assert page["url"] == f"/v1/sources/{sid}/source_transactions"
        for txn in page["data"]:
            schemas.check(txn, "source_transaction")
            assert txn["source"] == sid
            count += 1
    assert count > 30


def test_retrieved_customer_and_written_sources_match_the_schema(
    box: Sandbox, wclient: stripe.StripeClient, schemas: Schemas
) -> None:
    cid = next(c for c, items in box.store().items.items() if len(items) > 10)
    cus = raw(wclient, "get", f"/v1/customers/{cid}", expand=["sources"])
    schemas.check_response(cus, "get", "/v1/customers/{customer}")
    assert len(cus["sources"]["data"]) == 10
    plain = raw(wclient, "get", f"/v1/customers/{cid}")
    assert "sources" not in plain
    sid = box.planted["negative_reversal"][0]
    updated = raw(
        wclient,
        "post",
        f"/v1/sources/{sid}",
        metadata={"k": "v"},
        owner={"name": "Ada", "address": {"city": "Paris"}},
    )
    schemas.check_response(updated, "post", "/v1/sources/{source}")
    klarna = raw(wclient, "post", "/v1/sources", type="klarna", currency="usd", amount=1000)
    order = raw(
        wclient,
        "post",
        f"/v1/sources/{klarna['id']}",
        source_order={"items": [{"amount": 500, "quantity": 2, "description": "x"}]},
    )
    schemas.check(order, "source")
    assert order["source_order"]["amount"] == 1000
    created = raw(wclient, "post", "/v1/sources", type="ach_credit_transfer", currency="usd")
    schemas.check_response(created, "post", "/v1/sources")
    attached = raw(wclient, "post", f"/v1/customers/{cid}/sources", source=created["id"])
    schemas.check(attached, "source")
    detached = raw(wclient, "delete", f"/v1/customers/{cid}/sources/{created['id']}")
    schemas.check(detached, "source")
    three_ds = raw(
        wclient,
        "post",
        "/v1/sources",
        type="three_d_secure",
        amount=1234,
        currency="eur",
        redirect={"return_url": "https://example.com/back"},
    )
    schemas.check(three_ds, "source")


@pytest.mark.parametrize(
    ("method", "target", "body", "key", "status"),
    [
        ("GET", "/v1/sources/src_nope", None, "sk_test_abc", 404),
        ("GET", "/v1/customers?limit=500", None, "sk_test_abc", 400),
        ("GET", "/v1/customers?foo=1", None, "sk_test_abc", 400),
        ("POST", "/v1/sources/src_nope", "metadata[a]=b", "sk_test_abc", 404),
        ("GET", "/v1/customers", None, None, 401),
        ("GET", "/v1/customers", None, "pk_test_abc", 401),
        ("GET", "/v1/nothing", None, "sk_test_abc", 404),
        ("GET", "/v1/customers/", None, "sk_test_abc", 404),
        ("GET", "/v1/customers?starting_after=cus_nope", None, "sk_test_abc", 400),
        ("GET", "/v1/customers?test_clock=clock_nope", None, "sk_test_abc", 400),
    ],
)
def test_errors_match_the_schema(
    sandbox: Sandbox,
    schemas: Schemas,
    method: str,
    target: str,
    body: str | None,
    key: str | None,
    status: int,
) -> None:
    got, headers, payload = send(sandbox, method, target, body, key=key)
    assert got == status
    assert headers["request-id"].startswith("req_")
    error = json.loads(payload)
    schemas.check(error, "error")
    assert set(error) == {"error"}


def test_live_objects_match_the_schema(sandbox: Sandbox, schemas: Schemas) -> None:
    live = make_client(sandbox, LIVE_KEY)
    page = raw(live, "get", "/v1/customers", limit=20, expand=["data.sources"])
    schemas.check_response(page, "get", "/v1/customers")
    sources = [s for c in page["data"] for s in c["sources"]["data"] if s["object"] == "source"]
    assert sources and all(s["livemode"] for s in sources)
    for src in sources:
        schemas.check(src, "source")


TYPE_HASHES = {
    "ach_credit_transfer",
    "ach_debit",
    "alipay",
    "bancontact",
    "card",
    "eps",
    "giropay",
    "ideal",
    "klarna",
    "multibanco",
    "p24",
    "sepa_debit",
    "sofort",
    "three_d_secure",
    "wechat",
}


def _documented(schemas: Schemas, method: str, path: str) -> dict:
    op = schemas.paths[path][method.lower()]
    props = {p["name"]: p.get("schema", {}) for p in op.get("parameters", []) if p["in"] == "query"}
    body = op.get("requestBody")
    if body:
        props.update(body["content"]["application/x-www-form-urlencoded"]["schema"]["properties"])
    return props


def _nested_names(spec: dict, documented: dict, prefix: str = "") -> list[str]:
    """Names the sandbox accepts that the documented schema does not have."""
    extra = []
    for name, kind in spec.items():
        if name not in documented:
            extra.append(prefix + name)
            continue
        doc = documented[name]
        if isinstance(kind, dict):
            options = [doc, *doc.get("anyOf", [])]
            props = next((o["properties"] for o in options if "properties" in o), None)
            if props is not None:
                extra += _nested_names(kind, props, f"{prefix}{name}.")
    return extra


def _typed_params(cls: type) -> dict:
    """stripe-python's typed parameters of ``cls`` as a tree of names (without the request
    options every call takes): ``{"bank_transfer": {"properties": {"type": {}, ...}}, ...}``."""
    import re
    import sys

    from stripe._request_options import RequestOptions

    module = sys.modules[cls.__module__]
    tree: dict = {}
    for name, hint in cls.__annotations__.items():
        if name in RequestOptions.__annotations__:
            continue
        names = re.findall(r"[A-Z][A-Za-z]*Params[A-Za-z]*", str(hint))
        nested = next((getattr(module, n) for n in names if hasattr(module, n)), None)
        tree[name] = {"properties": _typed_params(nested)} if nested is not None else {}
    return tree


#: Endpoints outside the Sources schema we hold, checked against stripe-python's typed params.
TYPED_PARAMS = {
    "/v1/customers/{id}/cash_balance": "CustomerRetrieveCashBalanceParams",
    "/v1/customers/{id}/cash_balance_transactions": "CustomerListCashBalanceTransactionsParams",
    "/v1/customers/{id}/funding_instructions": "CustomerCreateFundingInstructionsParams",
    "/v1/events": "EventListParams",
    "/v1/events/{id}": "EventRetrieveParams",
    "/v1/accounts": "AccountListParams",
    **TYPED_LEDGER_PARAMS,  # payment methods, bills and the ledger (issue 26)
}


def test_sandbox_accepts_only_documented_parameters(schemas: Schemas) -> None:
    import stripe.params as typed

    from toolkit.sandbox.routes import ROUTES

    for method, template, spec, _handler in ROUTES:
        if template == "/v1/test_helpers/test_clocks":  # not in the Sources schema we hold:
            assert set(spec) == {"limit", "starting_after", "ending_before", "expand"}
            continue  # Stripe's reference documents exactly these four
        if template in TYPED_PARAMS:
            documented = _typed_params(getattr(typed, TYPED_PARAMS[template]))
            assert documented, template
            assert not _nested_names(spec, documented), (template, spec, documented)
            continue
        first = "{customer}" if template.startswith("/v1/customers") else "{source}"
        path = template.replace("{id}", first, 1)
        documented = _documented(schemas, method, path)
        extra = set(_nested_names(spec, documented))
        if (method, path) == ("POST", "/v1/sources"):
            extra -= TYPE_HASHES  # type-specific hashes, e.g. sepa_debit[iban]
        assert not extra, (method, path, extra)


def test_fault_and_conflict_errors_match_the_schema(schemas: Schemas) -> None:
    with Sandbox(seed=1, customers=3) as box:
        sid = box.unattached_ids[0]
        box.set_faults(error_rate=1.0, fault_path="^/v1/customers$")
        status, _, body = send(box, "GET", "/v1/customers")
        assert status == 500
        schemas.check(json.loads(body), "error")
        box.set_faults(error_rate=0.0, rate_limit=1)
        statuses = [send(box, "GET", "/v1/customers") for _ in range(3)]
        limited = next(b for s, _, b in statuses if s == 429)
        schemas.check(json.loads(limited), "error")
        box.faults_off()
        headers = {"Idempotency-Key": "k1"}
        assert send(box, "POST", f"/v1/sources/{sid}", "metadata[a]=1", headers)[0] == 200
        status, _, body = send(box, "POST", f"/v1/sources/{sid}", "metadata[a]=2", headers)
        assert status == 400
        schemas.check(json.loads(body), "error")
        assert json.loads(body)["error"]["type"] == "idempotency_error"
        status, _, body = send(box, "GET", "/v1/customers", headers={"Stripe-Account": "acct_x"})
        assert status == 403
        schemas.check(json.loads(body), "error")
