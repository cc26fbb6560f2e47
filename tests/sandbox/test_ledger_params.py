"""The endpoints past Sources take exactly stripe-python 16's typed parameters, refuse the others
as Stripe does, and refuse enum values and ids Stripe would refuse."""

from __future__ import annotations

import json
import re
import sys

import pytest
import stripe
import stripe.params as typed
from stripe._request_options import RequestOptions

from toolkit.sandbox import Sandbox
from toolkit.sandbox.ledger_objects import BALANCE_TYPES
from toolkit.sandbox.payment_methods import STRIPE_TYPES
from toolkit.sandbox.routes import ROUTES

from .conftest import send
from .stripe_shapes import TYPED_LEDGER_PARAMS


def _tree(cls: type) -> dict[str, object]:
    """The typed parameters of ``cls`` as nested names (request options left out)."""
    module = sys.modules[cls.__module__]
    tree: dict[str, object] = {}
    for name, hint in cls.__annotations__.items():
        if name in RequestOptions.__annotations__:
            continue
        names = re.findall(r"[A-Z][A-Za-z]*Params[A-Za-z]*", str(hint))
        nested = next((getattr(module, n) for n in names if hasattr(module, n)), None)
        # a hash that may also be an integer (created=<timestamp>) is taken as sent
        scalar = "|int" in str(hint)
        tree[name] = _tree(nested) if nested is not None and not scalar else {}
    return tree


def _spec_tree(spec: dict[str, object]) -> dict[str, object]:
    return {k: _spec_tree(v) if isinstance(v, dict) else {} for k, v in spec.items()}


def test_every_new_endpoint_takes_exactly_the_typed_parameters() -> None:
    served = {template: spec for _m, template, spec, _h in ROUTES}
    assert set(TYPED_LEDGER_PARAMS) <= set(served)
    for template, name in TYPED_LEDGER_PARAMS.items():
        assert _spec_tree(served[template]) == _tree(getattr(typed, name)), template


def test_the_enums_the_sandbox_checks_are_stripes() -> None:
    def literals(hint: object) -> set[str]:
        import typing

        found: set[str] = set()

        def walk(t: object) -> None:
            if typing.get_origin(t) is typing.Literal:
                found.update(typing.get_args(t))
            for arg in typing.get_args(t):
                walk(arg)

        walk(hint)
        return found

    assert literals(stripe.PaymentMethod.__annotations__["type"]) == STRIPE_TYPES
    assert literals(stripe.BalanceTransaction.__annotations__["type"]) == BALANCE_TYPES


@pytest.mark.parametrize(
    ("target", "status", "code", "param"),
    [
        ("/v1/charges?foo=1", 400, "parameter_unknown", "foo"),
        ("/v1/invoices?subscription_details=1", 400, "parameter_unknown", "subscription_details"),
        ("/v1/payouts?source=x", 400, "parameter_unknown", "source"),
        ("/v1/balance_transactions?customer=cus_x", 400, "parameter_unknown", "customer"),
        ("/v1/payment_methods?limit=101", 400, None, "limit"),
        ("/v1/invoices?status=late", 400, None, "status"),
        ("/v1/subscriptions?status=gone", 400, None, "status"),
        ("/v1/payment_methods?customer=cus_nope", 400, "resource_missing", "customer"),
        ("/v1/charges?customer=cus_nope", 400, "resource_missing", "customer"),
        ("/v1/invoices?subscription=sub_nope", 400, "resource_missing", "subscription"),
        ("/v1/balance_transactions?payout=po_nope", 400, "resource_missing", "payout"),
        ("/v1/balance_transactions?type=sweep", 400, None, "type"),
        ("/v1/charges?expand[]=data.payment_intent", 400, None, "expand"),
        ("/v1/charges?starting_after=ch_nope", 400, "resource_missing", "starting_after"),
        ("/v1/charges/ch_nope", 404, "resource_missing", "id"),
        ("/v1/payment_methods/pm_nope", 404, "resource_missing", "id"),
        ("/v1/invoices/in_nope", 404, "resource_missing", "id"),
        ("/v1/subscriptions/sub_nope", 404, "resource_missing", "id"),
        ("/v1/balance_transactions/txn_nope", 404, "resource_missing", "id"),
        ("/v1/payouts/po_nope", 404, "resource_missing", "id"),
        ("/v1/refunds/re_nope", 404, "resource_missing", "id"),
    ],
)
def test_stripes_refusals(
    sandbox: Sandbox, target: str, status: int, code: str | None, param: str
) -> None:
    got, _, body = send(sandbox, "GET", target)
    error = json.loads(body)["error"]
    assert got == status, error
    assert error["param"] == param and error["type"] == "invalid_request_error"
    if code is not None:
        assert error["code"] == code


def test_the_404_names_the_object_as_stripe_does(sandbox: Sandbox) -> None:
    _, _, body = send(sandbox, "GET", "/v1/payment_methods/pm_nope")
    assert json.loads(body)["error"]["message"] == "No such PaymentMethod: 'pm_nope'"
    _, _, body = send(sandbox, "GET", "/v1/charges/ch_nope")
    assert json.loads(body)["error"]["message"] == "No such charge: 'ch_nope'"


def test_a_restricted_key_needs_the_permission_of_each_resource() -> None:
    key = "rk_test_" + "L3dg" * 6
    with Sandbox(seed=3, customers=20, restricted_keys={key: {"charges": "read"}}) as box:
        assert send(box, "GET", "/v1/charges", key=key)[0] == 200
        got, _, body = send(box, "GET", "/v1/payouts", key=key)
        assert got == 403 and "rak_payout_read" in json.loads(body)["error"]["message"]
        got, _, body = send(box, "GET", "/v1/balance_transactions", key=key)
        assert got == 403 and "rak_balance_read" in json.loads(body)["error"]["message"]
