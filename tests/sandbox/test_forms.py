"""Bracket form parsing matches what the stripe SDK puts on the wire."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stripe._encode import _api_encode

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.forms import (
    EXPAND,
    INT,
    LIST_OF,
    METADATA,
    STR,
    parse_form,
    split_key,
    validate,
)
from toolkit.sandbox.metadata import apply_metadata


def sdk_wire(params: dict[str, Any]) -> str:
    """Exactly how stripe-python 16 encodes a v1 request's params."""
    encoded = urlencode(list(_api_encode(params)))
    return encoded.replace("%5B", "[").replace("%5D", "]")


def test_sdk_encoding_round_trips() -> None:
    params = {
        "limit": 100,
        "expand": ["data.sources", "data.default_source"],
        "metadata": {"order id": "A&B=C", "note": "café ü", "empty": ""},
        "owner": {"address": {"city": "San Francisco", "line1": "1 Main St"}},
        "source_order": {"items": [{"amount": 500, "quantity": 2}, {"amount": 7}]},
        "validate": True,
    }
    wire = sdk_wire(params)
    assert "expand[0]=data.sources" in wire
    assert "owner[address][city]=San+Francisco" in wire
    assert "source_order[items][1][amount]=7" in wire
    parsed = parse_form(wire)
    spec = {
        "limit": INT,
        "expand": EXPAND,
        "metadata": METADATA,
        "owner": {"address": {"city": STR, "line1": STR}},
        "source_order": {"items": LIST_OF + "item"},
        "validate": STR,
    }
    checked = validate(parsed, spec, {"item": {"amount": INT, "quantity": INT}})
    assert checked == {**params, "validate": "true"}


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=40).filter(lambda k: "[" not in k and "]" not in k),
        st.text(max_size=60),
        max_size=8,
    )
)
def test_metadata_round_trips(metadata: dict[str, str]) -> None:
    parsed = parse_form(sdk_wire({"metadata": metadata}))
    assert parsed.get("metadata", {}) == metadata


def test_split_key() -> None:
    assert split_key("a") == ["a"]
    assert split_key("a[b][c]") == ["a", "b", "c"]
    assert split_key("a[]") == ["a", ""]
    assert split_key("metadata[a[b]") == ["metadata", "a[b"]
    assert split_key("metadata[a]b]") == ["metadata", "a]b"]


def test_shapes() -> None:
    assert parse_form("expand[]=a&expand[]=b") == {"expand": ["a", "b"]}
    assert parse_form("metadata[a]=1&metadata=") == {"metadata": ""}
    assert parse_form("metadata=&metadata[a]=1") == {"metadata": {"a": "1"}}
    assert parse_form("a=1&a=2") == {"a": "2"}
    with pytest.raises(ApiError):
        parse_form("expand[][0]=a")
    with pytest.raises(ApiError):
        parse_form("a[b]=1&a[]=2")
    with pytest.raises(ApiError) as err:
        validate({"limit": "ten"}, {"limit": INT})
    assert err.value.message == "Invalid integer: ten"
    with pytest.raises(ApiError) as err:
        validate({"owner": {"x": "1"}}, {"owner": {"name": STR}})
    assert err.value.param == "owner[x]"


def test_metadata_rules() -> None:
    assert apply_metadata({"a": "1", "b": "2"}, {"a": "", "c": "3"}) == {"b": "2", "c": "3"}
    assert apply_metadata({"a": "1"}, "") == {}
    assert apply_metadata(None, {"z": ""}) == {}
    with pytest.raises(ApiError):
        apply_metadata({}, {"a": {"nested": "x"}})
