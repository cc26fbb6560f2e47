"""Property test end to end: any valid set/unset lands exactly as planned, and undo restores it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.changes.changes_support import TEST_KEY, pick
from toolkit.changes.plans.builders import plan_metadata
from toolkit.changes.run.applying import apply
from toolkit.changes.run.undoing import undo
from toolkit.sandbox import Sandbox
from toolkit.session import connect

pytestmark = pytest.mark.slow  # property tests: many examples each

# any text Stripe accepts as a key (no [ or ], 1-40 characters) and as a value (1-500)
keys = st.text(
    alphabet=st.characters(blacklist_characters="[]", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=40,
)
values = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=500)


@pytest.fixture(scope="module")
def box():
    with Sandbox(seed=13, customers=20) as sandbox:
        yield sandbox


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    sets=st.dictionaries(keys, values, min_size=1, max_size=4),
    unset_existing=st.booleans(),
)
def test_any_valid_change_lands_and_undoes_exactly(box, tmp_path_factory, sets, unset_existing):
    session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
    ids = pick(box, 3)
    sources = [box.get_source(sid) for sid in ids]
    before = {s["id"]: dict(s["metadata"]) for s in sources}
    unset = sorted({k for m in before.values() for k in m} - set(sets)) if unset_existing else []
    plan = plan_metadata(sources, set=sets, unset=unset)
    assert plan.counts["invalid"] == 0
    folder = tmp_path_factory.mktemp("journals")
    outcome = apply(plan, session, journal=folder, progress=False)
    assert outcome.totals["failed"] == 0, outcome.df["message"].tolist()
    for sid in ids:
        expected = {k: v for k, v in before[sid].items() if k not in unset}
        expected.update(sets)
        assert box.get_source(sid)["metadata"] == expected
    assert outcome.journal is not None
    back = undo(outcome.journal, session, progress=False)
    assert back.totals["failed"] == 0 and back.totals["drifted"] == 0
    assert {sid: box.get_source(sid)["metadata"] for sid in ids} == before
