"""Check wire JSON against stripe-python 16's typed classes (every field, its type, its
nullability and its closed enums), and against Stripe's own example objects.

``check(obj, stripe.Charge)`` raises AssertionError naming the path of the first difference:

- every field the class declares is present, except ``deleted`` (deleted objects only), the hashes
  named after another ``type`` than the object's (a ``card`` payment method has no ``sepa_debit``;
  null if present),
  the fields Stripe's own example object omits too (``tests/data/fixtures-ledger.json``, from
  stripe/openapi ``openapi/fixtures3.json``), and ``includable`` (fields Stripe sends only when
  expanded);
- no field the class does not declare;
- each value has the declared type: ``Optional`` allows null, a closed ``Literal`` its values only,
  an expandable field an id or the object, a ``ListObject`` Stripe's list envelope.

Nested hashes are held to the same rules, except that their ``Optional`` fields may be absent (as
Stripe's examples show them: ``fraud_details: {}``).
"""

from __future__ import annotations

import decimal
import typing
from typing import Any, NoReturn

import stripe
from stripe._list_object import ListObject
from stripe._stripe_object import StripeObject, UntypedStripeObject


def declared(cls: type) -> dict[str, Any]:
    """The fields a typed class declares, with their hints."""
    return {n: h for n, h in cls.__annotations__.items() if not n.isupper() and n != "OBJECT_NAME"}


def _is_optional(hint: Any) -> bool:
    return type(None) in typing.get_args(hint)


def _type_hashes(cls: type) -> set[str]:
    """Fields named after a value of the class's ``type`` (one per kind of object)."""
    hint = declared(cls).get("type")
    if hint is None:
        return set()
    values: set[str] = set()

    def walk(t: Any) -> None:
        if typing.get_origin(t) is typing.Literal:
            values.update(typing.get_args(t))
        for arg in typing.get_args(t):
            walk(arg)

    walk(hint)
    return values & set(declared(cls))


def _resolve(ref: typing.ForwardRef | str, obj: dict[str, Any]) -> type | None:
    name = ref.__forward_arg__ if isinstance(ref, typing.ForwardRef) else ref
    found = getattr(stripe, name, None)
    if (
        isinstance(found, type)
        and issubclass(found, StripeObject)
        and getattr(found, "OBJECT_NAME", obj.get("object")) == obj.get("object")
    ):
        return found
    return None


def _closed_literal(hint: Any) -> tuple[Any, ...] | None:
    """The values of a Literal that is not widened by ``| str``."""
    if typing.get_origin(hint) is typing.Literal:
        return typing.get_args(hint)
    return None


def _fail(path: str, message: str) -> NoReturn:
    raise AssertionError(f"{path}: {message}")


def _value(value: Any, hint: Any, path: str) -> None:
    if hint is Any:
        return
    if isinstance(hint, typing.ForwardRef | str):
        if isinstance(value, str):
            _fail(path, "an id where an object is declared")
        if not isinstance(value, dict):
            _fail(path, f"{value!r} is not an object")
        cls = _resolve(hint, value)
        if cls is None:
            _fail(path, f"{value.get('object')!r} is not a {hint}")
        _object(value, cls, path, nested=cls in SHAPED_ELSEWHERE)
        return
    origin = typing.get_origin(hint)
    if origin is typing.Union:
        args = typing.get_args(hint)
        if value is None:
            if type(None) not in args:
                _fail(path, "null where the field is not nullable")
            return
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            if arg is str and isinstance(value, dict):
                continue
            try:
                _value(value, arg, path)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        _fail(path, f"{value!r:.80} matches none of {hint}: {errors}")
    if value is None:
        _fail(path, "null where the field is not nullable")
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            _fail(path, f"{value!r} is not one of {typing.get_args(hint)}")
        return
    if hint is bool:
        if not isinstance(value, bool):
            _fail(path, f"{value!r} is not a boolean")
        return
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(path, f"{value!r} is not an integer")
        return
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail(path, f"{value!r} is not a number")
        return
    if hint is str:
        if not isinstance(value, str):
            _fail(path, f"{value!r} is not a string")
        return
    if hint is decimal.Decimal:
        if not isinstance(value, str):
            _fail(path, f"{value!r} is not a decimal string")
        decimal.Decimal(value)
        return
    if origin in (list, typing.List):  # noqa: UP006 - the SDK's hints
        if not isinstance(value, list):
            _fail(path, f"{value!r} is not an array")
        (item,) = typing.get_args(hint)
        for i, v in enumerate(value):
            _value(v, item, f"{path}[{i}]")
        return
    if origin is ListObject or hint is ListObject:
        if not isinstance(value, dict) or value.get("object") != "list":
            _fail(path, f"{value!r:.80} is not a list")
        if not {"data", "has_more", "url"} <= set(value):
            _fail(path, "a list without data, has_more and url")
        (item,) = typing.get_args(hint) or (Any,)
        for i, v in enumerate(value["data"]):
            _value(v, item, f"{path}.data[{i}]")
        return
    if origin is UntypedStripeObject or hint is UntypedStripeObject:
        if not isinstance(value, dict):
            _fail(path, f"{value!r} is not a hash")
        (item,) = typing.get_args(hint) or (Any,)
        for k, v in value.items():
            _value(v, item, f"{path}.{k}")
        return
    if isinstance(hint, type) and issubclass(hint, StripeObject):
        if not isinstance(value, dict):
            _fail(path, f"{value!r} is not a hash")
        _object(value, hint, path, nested=not hasattr(hint, "OBJECT_NAME"))
        return
    _fail(path, f"the checker does not know the hint {hint!r}")


def _object(obj: dict[str, Any], cls: type, path: str, *, nested: bool) -> None:
    fields = declared(cls)
    extra = set(obj) - set(fields)
    if extra:
        _fail(path, f"undeclared fields {sorted(extra)}")
    hashes = _type_hashes(cls)
    for name, hint in fields.items():
        if name in obj:
            continue
        if name in hashes and name != obj.get("type"):
            continue
        if name == "deleted" or (nested and _is_optional(hint)):
            continue
        if not nested and name in _omitted(cls):
            continue
        _fail(path, f"missing field {name!r}")
    for name in hashes:
        if obj.get(name) is not None and name != obj.get("type"):
            _fail(path, f"a {name!r} hash on an object of type {obj.get('type')!r}")
    for name, value in obj.items():
        _value(value, fields[name], f"{path}.{name}")


#: Objects embedded here whose shape other tests hold to Stripe's schema (sources and customers:
#: test_conformance): inside another object only their declared fields and types are checked.
SHAPED_ELSEWHERE = (stripe.Source, stripe.Customer, stripe.Card, stripe.BankAccount)

#: Fields Stripe sends only when asked (``expand[]=...``): not required, still checked if sent.
INCLUDABLE: dict[str, set[str]] = {
    "charge": {"refunds"},  # not included by default since API version 2022-11-15
    "invoice": {"payments"},
}


#: Fields stripe-python declares that Stripe's own example objects (stripe/openapi,
#: openapi/fixtures3.json) leave out: a response without them is still Stripe's shape.
OMITTED: dict[str, set[str]] = {
    "charge": {"authorization_code", "level3", "presentment_details", "radar_options", "transfer"},
    "invoice": {
        "amount_paid_off_stripe",
        "confirmation_secret",
        "status_details",
        "threshold_reason",
    },
    "payment_method": {"radar_options"},
    "refund": {
        "description",
        "failure_balance_transaction",
        "failure_reason",
        "instructions_email",
        "next_action",
        "pending_reason",
        "presentment_details",
    },
    "subscription": {"presentment_details", "status_details"},
    "subscription_item": {"billed_until", "current_trial"},
    "price": {"currency_options", "tiers"},
    "plan": {"tiers"},
    "line_item": set(),
    "balance_transaction": set(),
    "payout": set(),
}


def _omitted(cls: type) -> set[str]:
    name = getattr(cls, "OBJECT_NAME", "")
    return OMITTED.get(name, set()) | INCLUDABLE.get(name, set())


def check(obj: dict[str, Any], cls: type, path: str = "") -> None:
    """Raise AssertionError unless the wire object ``obj`` has the shape of ``cls``."""
    if obj.get("object") != getattr(cls, "OBJECT_NAME", obj.get("object")):
        _fail(
            path or cls.__name__,
            f"object {obj.get('object')!r} is not {getattr(cls, 'OBJECT_NAME', None)!r}",
        )
    _object(obj, cls, path or str(obj.get("id")), nested=False)


#: The endpoints past Sources and stripe-python 16's typed parameters of each (the sandbox must
#: accept exactly these).
TYPED_LEDGER_PARAMS: dict[str, str] = {
    "/v1/customers/{id}/payment_methods": "CustomerListPaymentMethodsParams",
    "/v1/customers/{id}/payment_methods/{id}": "CustomerRetrievePaymentMethodParams",
    "/v1/payment_methods": "PaymentMethodListParams",
    "/v1/payment_methods/{id}": "PaymentMethodRetrieveParams",
    "/v1/invoices": "InvoiceListParams",
    "/v1/invoices/{id}": "InvoiceRetrieveParams",
    "/v1/subscriptions": "SubscriptionListParams",
    "/v1/subscriptions/{id}": "SubscriptionRetrieveParams",
    "/v1/charges": "ChargeListParams",
    "/v1/charges/{id}": "ChargeRetrieveParams",
    "/v1/balance_transactions": "BalanceTransactionListParams",
    "/v1/balance_transactions/{id}": "BalanceTransactionRetrieveParams",
    "/v1/payouts": "PayoutListParams",
    "/v1/payouts/{id}": "PayoutRetrieveParams",
    "/v1/refunds/{id}": "RefundRetrieveParams",
}
