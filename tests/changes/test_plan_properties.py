"""Property tests: plan validation against an independent model of Stripe's metadata rules."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.changes.kinds.metadata import UNSET
from toolkit.changes.plans.builders import plan_metadata, plan_metadata_from_table
from toolkit.changes.text import to_text
from toolkit.errors import InvalidInputError

pytestmark = pytest.mark.slow  # property tests: many examples each

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# keys: mostly short and valid, sometimes long, bracketed or empty
key_text = st.one_of(
    st.text(alphabet="abcdefgh_-.", min_size=1, max_size=6),
    st.text(min_size=0, max_size=45),
    st.sampled_from(["a[b]", "x" * 40, "y" * 41, "", "]"]),
)
valid_key = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)
value_any = st.one_of(
    st.text(max_size=20),
    st.text(min_size=499, max_size=502, alphabet="v"),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
before_metadata = st.dictionaries(valid_key, st.text(max_size=10, min_size=1), max_size=50)


def stripe_merge(before: dict[str, str], params) -> dict[str, str]:
    """Stripe's rule: "" removes a key, any other text sets it; metadata="" clears all."""
    if params == "":
        return {}
    out = dict(before)
    for key, value in params.items():
        if value == "":
            out.pop(key, None)
        else:
            out[key] = value
    return out


def convertible(value) -> str | None:
    """The text a value becomes, or None when it must be refused (model, not the code)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return None


def key_ok(key: str) -> bool:
    return 0 < len(key) <= 40 and "[" not in key and "]" not in key


@SETTINGS
@given(
    before=before_metadata,
    sets=st.dictionaries(key_text, value_any, max_size=6),
    unsets=st.lists(key_text, max_size=3),
)
def test_plan_metadata_matches_the_model(before, sets, unsets):
    df = pd.DataFrame(
        [{"id": "src_p", "customer": None, "status": "chargeable", "metadata": before}]
    )
    # model of what must be refused up front
    refused = any(not key_ok(k) for k in sets) or any(not key_ok(k) for k in unsets)
    new: dict[str, str] = {}
    removed = set(unsets)
    for key, value in sets.items():
        if value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
            removed.add(key)
            continue
        text = convertible(value)
        if text is None or len(text) > 500:
            refused = True
        else:
            new[key] = text
    refused = refused or bool(set(new) & set(unsets)) or len(new) > 50
    try:
        plan = plan_metadata(df, set=sets, unset=unsets)
    except InvalidInputError:
        assert refused or not (new or removed)
        return
    assert not refused
    row = plan.df.iloc[0]
    expected = {k: v for k, v in before.items() if k not in removed}
    expected.update(new)
    assert row["after"] == expected
    if len(expected) > 50:
        assert row["status"] == "invalid" and "keys after the change" in row["reason"]
        return
    if expected == before:
        assert row["status"] == "noop" and row["params"] == {}
        return
    assert row["status"] == "ready"
    params = row["params"]["metadata"]
    assert all(isinstance(v, str) for v in params.values())  # never None: the SDK would drop it
    assert stripe_merge(before, params) == expected
    # only what changes is sent
    assert all(before.get(k) != (v or None) for k, v in params.items())


cell = st.one_of(st.just(""), st.just(UNSET), st.just("   "), st.text(min_size=1, max_size=8))


@SETTINGS
@given(
    before=st.lists(before_metadata, min_size=1, max_size=4),
    keys=st.lists(key_text, min_size=1, max_size=3, unique=True),
    data=st.data(),
)
def test_table_cells_follow_the_documented_rules(before, keys, data):
    ids = [f"src_t{i}" for i in range(len(before))]
    sources = pd.DataFrame(
        [
            {"id": i, "customer": None, "status": "chargeable", "metadata": m}
            for i, m in zip(ids, before, strict=True)
        ]
    )
    keys = [
        k for k in keys if k not in ("id", "source", "source_id") and not k.startswith("metadata.")
    ]
    if not keys:
        return
    cells = [[data.draw(cell) for _ in keys] for _ in ids]
    table = pd.DataFrame(
        [[i, *row] for i, row in zip(ids, cells, strict=True)], columns=["id", *keys]
    )
    plan = plan_metadata_from_table(table, sources=sources)
    assert len(plan.df) == len(ids)
    for index, row in enumerate(plan.df.to_dict("records")):
        sets = {}
        unsets = set()
        bad_key = False
        for key, value in zip(keys, cells[index], strict=True):
            if value.strip() == "":
                continue
            if not key_ok(key):
                bad_key = True
            elif value.strip() == UNSET:
                unsets.add(key)
            else:
                sets[key] = value
        if bad_key:
            assert row["status"] == "invalid"
            continue
        expected = {k: v for k, v in before[index].items() if k not in unsets}
        expected.update(sets)
        if (not sets and not unsets) or expected == before[index]:
            assert row["status"] == "noop"
        elif len(expected) > 50:
            assert row["status"] == "invalid"
        else:
            assert row["status"] == "ready"
            assert stripe_merge(before[index], row["params"]["metadata"]) == expected


@SETTINGS
@given(st.one_of(st.integers(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False)))
def test_numbers_convert_to_text_that_reads_back(value):
    text, note = to_text(value)
    assert isinstance(text, str) and note and "converted" in note
    if isinstance(value, bool):
        assert text == ("true" if value else "false")
    else:
        assert float(text) == pytest.approx(float(value), rel=1e-15)
