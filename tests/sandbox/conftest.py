"""Fixtures for the sandbox tests: SDK clients, raw HTTP, and Stripe's schema as JSON Schema.

Read-only tests use the lead's session-scoped ``sandbox`` (seed 7, 300 customers); tests that
write get ``box``, a small sandbox of their own.
"""

from __future__ import annotations

import copy
import http.client as httplib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import stripe

from toolkit.sandbox import Sandbox

if TYPE_CHECKING:  # jsonschema takes seconds to import: it loads with the first schema check
    import jsonschema

KEY = "sk_test_" + "x" * 24
LIVE_KEY = "sk_live_" + "y" * 24
SPEC_PATH = Path(__file__).resolve().parents[1] / "data" / "openapi-sources.json"


def make_client(box: Sandbox, key: str = KEY, **kwargs: Any) -> stripe.StripeClient:
    """A real stripe SDK client pointed at the sandbox, no retries."""
    return stripe.StripeClient(
        key, base_addresses={"api": box.url}, max_network_retries=0, **kwargs
    )


def raw(client: stripe.StripeClient, method: str, path: str, **params: Any) -> dict[str, Any]:
    """The wire JSON of a 2xx response, sent through the SDK's raw_request."""
    resp = client.raw_request(method, path, **params)
    return json.loads(resp.body)


def send(
    box: Sandbox,
    method: str,
    target: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    key: str | None = KEY,
) -> tuple[int, dict[str, str], bytes]:
    """A plain HTTP request (for what the SDK will not send): status, headers, body."""
    conn = httplib.HTTPConnection(box.host, box.port, timeout=10)
    hdrs = dict(headers or {})
    if key is not None:
        hdrs.setdefault("Authorization", f"Bearer {key}")
    if body is not None:
        hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
    try:
        conn.request(method, target, body=body, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _jsonschema(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema: ``nullable: true`` becomes ``anyOf [..., null]``."""
    if isinstance(node, list):
        return [_jsonschema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


STRICT = (
    "source",
    "source_owner",
    "source_receiver_flow",
    "source_redirect_flow",
    "source_code_verification_flow",
    "source_order",
    "source_transaction",
    "source_transaction_ach_credit_transfer_data",
    "address",
)


class Schemas:
    """Validate wire objects against components.schemas of Stripe's spec."""

    def __init__(self, strict: bool) -> None:
        spec = json.loads(SPEC_PATH.read_text())
        schemas = spec["components"]["schemas"]
        for missing in (
            "account",
            "deleted_customer",
            "deleted_payment_source",
            "external_account_requirements",
            "payment_intent",
            "payment_method",
            "payment_source",
            "setup_intent",
            "shipping",
        ):
            schemas.setdefault(missing, {})
        # Newer API versions add one nullable field to source (see shared/stripe/README.md).
        schemas["source"]["properties"]["allow_redisplay"] = {
            "enum": ["always", "limited", "unspecified", None],
            "nullable": True,
            "type": "string",
        }
        if strict:  # nothing the sandbox sends may be undeclared in these schemas
            for name, schema in schemas.items():
                if name in STRICT or name.startswith("source_type_"):
                    schema["additionalProperties"] = False
        self.doc = {"components": {"schemas": _jsonschema(schemas)}}
        self.paths = spec["paths"]
        self._cache: dict[str, jsonschema.Draft202012Validator] = {}

    def validator(self, schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
        import jsonschema

        root = {**copy.copy(self.doc), **schema}
        return jsonschema.Draft202012Validator(root)

    def check(self, obj: Any, name: str) -> None:
        """Raise jsonschema.ValidationError unless ``obj`` is a valid ``name``."""
        validator = self._cache.get(name)
        if validator is None:
            validator = self.validator({"$ref": f"#/components/schemas/{name}"})
            self._cache[name] = validator
        validator.validate(obj)

    def check_response(self, obj: Any, method: str, path: str, status: str = "200") -> None:
        """Validate against the documented response of ``method path`` (templated path)."""
        key = f"{method} {path} {status}"
        validator = self._cache.get(key)
        if validator is None:
            resp = self.paths[path][method]["responses"][status]
            schema = resp["content"]["application/json"]["schema"]
            validator = self._cache[key] = self.validator(_jsonschema(schema))
        validator.validate(obj)


@pytest.fixture(scope="session")
def schemas() -> Schemas:
    """Stripe's schema, strict about undeclared fields in source objects."""
    return Schemas(strict=True)


@pytest.fixture(scope="session")
def client(sandbox: Sandbox) -> stripe.StripeClient:
    """An SDK client on the shared read-only sandbox."""
    return make_client(sandbox)


@pytest.fixture
def box() -> Iterator[Sandbox]:
    """A small sandbox of the test's own, free to write to."""
    with Sandbox(seed=3, customers=40) as sb:
        yield sb


@pytest.fixture
def wclient(box: Sandbox) -> stripe.StripeClient:
    """An SDK client on ``box``."""
    return make_client(box)
