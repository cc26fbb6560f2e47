"""Every mistake a user can make with plans and apply gives a toolkit error naming the fix; a bad
value fails its own row only."""

from __future__ import annotations

import pandas as pd
import pytest

import toolkit
from tests.changes.changes_support import frame_of, pick
from toolkit.errors import ConfigurationError, InvalidInputError

pytestmark = pytest.mark.usefixtures("in_tmp_cwd")


@pytest.mark.parametrize(
    ("make", "hint"),
    [
        (lambda: toolkit.plan_metadata(["src_1abc"], set=[("a", "1")]), "set="),  # type: ignore[arg-type]
        (lambda: toolkit.plan_metadata(["src_1abc"], set="team=ar"), "set="),  # type: ignore[arg-type]
        (lambda: toolkit.plan_metadata(["src_1abc"], unset={"a": 1}), "unset="),
        (lambda: toolkit.plan_metadata(["src_1abc"], set={"k": float("nan")}), "NaN"),
        (lambda: toolkit.plan_metadata(["src_1abc"], set={"k": "\ud800"}), "Unicode"),
        (lambda: toolkit.plan_attach(None), "pairs"),
        (lambda: toolkit.plan_attach(42), "pairs"),
        (lambda: toolkit.plan_detach(None), "sources"),
        (lambda: toolkit.plan_owner(["src_1abc"], email="@"), "email"),
        (lambda: toolkit.plan_owner(["src_1abc"], email="a@b"), "email"),
        (lambda: toolkit.plan_owner(["src_1abc"], email="x y@example.com"), "email"),
    ],
)
def test_plan_mistakes_are_toolkit_errors(make, hint):
    with pytest.raises(InvalidInputError) as info:
        make()
    assert hint in str(info.value)


def test_a_good_email_is_accepted():
    plan = toolkit.plan_owner(["src_1abc"], email="billing+ar@example.co.uk")
    assert plan.counts["ready"] == 1


@pytest.mark.parametrize("session", [None, "sk_test_" + "T3st" * 6, 42, {"mode": "test"}])
def test_apply_needs_a_session(session):
    plan = toolkit.plan_metadata(["src_1abc"], set={"a": "1"})
    with pytest.raises(InvalidInputError, match=r"toolkit\.connect") as info:
        toolkit.apply(plan, session, progress=False)
    assert "T3stT3st" not in str(info.value)


@pytest.mark.parametrize("value", ["fast", -1, 0, float("nan"), True])
def test_rate_limit_must_be_a_positive_number(value):
    with pytest.raises(ConfigurationError, match="rate_limit"):
        toolkit.connect("sk_test_" + "T3st" * 6, rate_limit=value, quiet=True)


def test_a_text_file_named_xlsx(tmp_path):
    path = tmp_path / "changes.xlsx"
    path.write_text("id,team\nsrc_1abc,ar\n")
    with pytest.raises(InvalidInputError, match="Excel"):
        toolkit.plan_metadata_from_table(path)


def test_a_table_that_is_not_utf8(tmp_path):
    path = tmp_path / "changes.csv"
    path.write_bytes("id,team\nsrc_1abc,caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match="UTF-8"):
        toolkit.plan_metadata_from_table(path)


def test_a_lone_surrogate_fails_its_own_row_only():
    table = pd.DataFrame(
        {"id": ["src_1abc", "src_2abc"], "team": ["ar", "bad\udc80"]}, dtype=object
    )
    plan = toolkit.plan_metadata_from_table(table)
    assert list(plan.df["status"]) == ["ready", "invalid"]
    assert "Unicode" in plan.df.loc[1, "reason"]


@pytest.mark.parametrize(
    "build",
    [
        lambda ids: toolkit.plan_detach(ids),
        lambda ids: toolkit.plan_metadata(ids, set={"team": "ar"}),
        lambda ids: toolkit.plan_owner(ids, email="a@example.com"),
        lambda ids: toolkit.plan_metadata_from_table(
            pd.DataFrame({"id": ids, "team": ["ar", "ar"]}, dtype=object)
        ),
    ],
)
def test_a_lone_surrogate_in_an_id_fails_its_own_row_only(build):
    """An id with broken Unicode (a file read with the wrong encoding) is refused in its row,
    shown escaped; it raised UnicodeEncodeError from pandas before."""
    plan = build(["src_bad\udc80", "src_2abc"])
    alone = build(["src_1abc", "src_2abc"])
    assert list(plan.df["status"]) == ["invalid", alone.df.loc[1, "status"]]
    assert "src_bad" in plan.df.loc[0, "reason"] and "not a source id" in plan.df.loc[0, "reason"]


def test_a_lone_surrogate_in_a_hand_made_plan_fails_at_apply_row_by_row(
    fresh_sandbox, fresh_session
):
    box = fresh_sandbox
    ids = pick(box, 2)
    plan = toolkit.plan_metadata(frame_of(box, ids), set={"team": "ar"})
    plan.df.at[1, "params"] = {"metadata": {"team": "bad\udc80"}}  # edited by hand
    outcome = toolkit.apply(plan, fresh_session, progress=False)
    assert list(outcome.df["result"]) == ["ok", "failed"]
    assert "Unicode" in outcome.df.loc[1, "message"]
    assert box.get_source(ids[0])["metadata"]["team"] == "ar"


def test_a_plan_from_another_account_is_refused_up_front(fresh_sandbox, fresh_session):
    sources = toolkit.load_sources(fresh_session, customers=None, progress=False).head(3)
    plan = toolkit.plan_metadata(sources, set={"team": "ar"})
    other = toolkit.connect(
        "sk_live_" + "L1ve" * 6, api_base=fresh_sandbox.url, allow_live=True, quiet=True
    )
    fresh_sandbox.clear_log()
    with pytest.raises(InvalidInputError) as info:
        toolkit.apply(plan, other, progress=False)
    message = str(info.value)
    assert "test" in message and "live" in message
    assert not fresh_sandbox.requests
