"""Plans are pure: every validation rule, the readable frame, HTML and CSV export."""

from __future__ import annotations

import json
import os
import stat

import pandas as pd
import pytest

from toolkit.changes.kinds.metadata import UNSET
from toolkit.changes.plans.builders import (
    plan_attach,
    plan_detach,
    plan_metadata,
    plan_metadata_from_table,
    plan_owner,
)
from toolkit.changes.plans.plan import Plan
from toolkit.changes.rows import PLAN_COLUMNS
from toolkit.errors import InvalidInputError


def frame(*rows: dict) -> pd.DataFrame:
    """A small sources frame with the columns plans read."""
    base: dict[str, object] = {
        "id": None,
        "customer": None,
        "status": "chargeable",
        "metadata": {},
        "owner_email": None,
        "owner_name": None,
        "owner_phone": None,
        "owner_address_line1": None,
        "owner_address_line2": None,
        "owner_address_city": None,
        "owner_address_state": None,
        "owner_address_postal_code": None,
        "owner_address_country": None,
    }
    return pd.DataFrame([{**base, **row} for row in rows])


@pytest.fixture
def df() -> pd.DataFrame:
    return frame(
        {"id": "src_a", "customer": "cus_1", "metadata": {"tier": "silver", "old": "x"}},
        {"id": "src_b", "customer": "cus_1", "metadata": {"tier": "gold"}},
        {"id": "src_c", "customer": None, "status": "consumed", "metadata": {}},
        {"id": "src_d", "customer": "cus_2", "status": "pending", "owner_email": "d@example.com"},
    )


def by_source(plan: Plan) -> dict[str, dict]:
    return {r["source"]: r for r in plan.df.to_dict("records")}


def test_plan_frame_shape_and_counts(df):
    plan = plan_metadata(df, set={"tier": "gold"})
    assert list(plan.df.columns) == PLAN_COLUMNS
    assert plan.kind == "metadata" and plan.id.startswith("plan_")
    assert plan.counts == {"ready": 3, "noop": 1, "invalid": 0, "total": 4}
    assert plan.valid and not plan.irreversible
    rows = by_source(plan)
    assert rows["src_a"]["params"] == {"metadata": {"tier": "gold"}}
    assert rows["src_a"]["before"] == {"tier": "silver", "old": "x"}
    assert rows["src_a"]["after"] == {"tier": "gold", "old": "x"}
    assert "silver" in rows["src_a"]["change"] and "gold" in rows["src_a"]["change"]
    assert rows["src_b"]["status"] == "noop" and rows["src_b"]["params"] == {}
    assert list(plan.summary()["change"]) == ["add", "change"]


def test_unset_sends_empty_string_and_skips_missing_keys(df):
    plan = plan_metadata(df, unset=["old"])
    rows = by_source(plan)
    assert rows["src_a"]["params"] == {"metadata": {"old": ""}}
    assert rows["src_a"]["after"] == {"tier": "silver"}
    assert rows["src_b"]["status"] == "noop"
    assert plan.counts["ready"] == 1


def test_set_none_or_empty_means_unset(df):
    plan = plan_metadata(df, set={"old": None, "tier": ""})
    assert by_source(plan)["src_a"]["params"] == {"metadata": {"old": "", "tier": ""}}
    assert any("empty value means unset" in n for n in plan.notes)


def test_clear_alone_sends_empty_metadata(df):
    plan = plan_metadata(df, clear=True)
    rows = by_source(plan)
    assert rows["src_a"]["params"] == {"metadata": ""}
    assert rows["src_a"]["after"] == {}
    assert rows["src_c"]["status"] == "noop"


def test_clear_with_set_unsets_the_others(df):
    plan = plan_metadata(df, clear=True, set={"tier": "gold"})
    rows = by_source(plan)
    assert rows["src_a"]["params"] == {"metadata": {"old": "", "tier": "gold"}}
    assert rows["src_b"]["status"] == "noop"


def test_clear_with_set_needs_known_state():
    plan = plan_metadata(["src_a"], clear=True, set={"x": "1"})
    assert plan.df.loc[0, "status"] == "invalid"
    assert "load_sources" in plan.df.loc[0, "reason"]


def test_numbers_and_booleans_are_converted_and_noted(df):
    plan = plan_metadata(df, set={"n": 5, "f": 2.50, "flag": False, "whole": 3.0})
    params = by_source(plan)["src_a"]["params"]["metadata"]
    assert params == {"n": "5", "f": "2.5", "flag": "false", "whole": "3"}
    assert len([n for n in plan.notes if "converted" in n]) == 4


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"k": [1, 2]}, "not text"),
        ({"k": {"a": 1}}, "not text"),
        ({"k": float("inf")}, "finite"),
        ({"k": pd.Timestamp("2026-01-01")}, "isoformat"),
        ({"k" * 41: "v"}, "41 characters"),
        ({"a[b]": "v"}, "[ or ]"),
        ({"": "v"}, "empty key"),
        ({"k": "v" * 501}, "501 characters"),
        ({str(i): "v" for i in range(51)}, "51 keys"),
    ],
)
def test_global_set_problems_raise(df, bad, words):
    with pytest.raises(InvalidInputError, match=words.replace("[", r"\[").replace("]", r"\]")):
        plan_metadata(df, set=bad)


def test_same_key_set_and_unset_raises(df):
    with pytest.raises(InvalidInputError, match="both set and unset"):
        plan_metadata(df, set={"a": "1"}, unset="a")


def test_nothing_to_change_raises(df):
    with pytest.raises(InvalidInputError, match="Nothing to change"):
        plan_metadata(df)


def test_fifty_keys_after_merge_invalid_only_for_that_row():
    full = {f"k{i}": "v" for i in range(50)}
    plan = plan_metadata(
        frame({"id": "src_full", "metadata": full}, {"id": "src_ok", "metadata": {}}),
        set={"new": "v"},
    )
    rows = by_source(plan)
    assert rows["src_full"]["status"] == "invalid"
    assert "51 keys after the change" in rows["src_full"]["reason"]
    assert rows["src_ok"]["status"] == "ready"
    # replacing a key of a full object stays at 50: fine
    assert by_source(plan_metadata(frame({"id": "src_x", "metadata": full}), set={"k1": "w"}))[
        "src_x"
    ]["status"] == ("ready")


def test_duplicate_and_malformed_ids(df):
    plan = plan_metadata(["src_a", "src_a", "cus_1", None, 42, "src_b"], set={"t": "1"})
    statuses = list(plan.df["status"])
    assert statuses == ["ready", "invalid", "invalid", "invalid", "invalid", "ready"]
    reasons = list(plan.df["reason"])
    assert "duplicate id" in reasons[1] and "row 1" in reasons[1]
    assert "not a source id" in reasons[2]
    assert "missing source id" in reasons[3]
    assert "not text" in reasons[4]


def test_ids_only_plan_has_unknown_state():
    plan = plan_metadata(["src_a"], set={"t": "1"}, unset=["u"])
    row = plan.df.iloc[0]
    assert row["status"] == "ready" and row["before"] is None
    assert row["params"] == {"metadata": {"u": "", "t": "1"}}
    assert "unknown" in row["change"]


def test_source_dicts_as_stripe_returns_them():
    src = {
        "id": "src_a",
        "object": "source",
        "customer": "cus_1",
        "status": "chargeable",
        "metadata": {"a": "1"},
        "owner": {"email": "a@example.com", "address": {"city": "Oslo"}},
        "client_secret": "src_client_secret_never",
    }
    plan = plan_owner([src], address_city="Bergen")
    row = plan.df.iloc[0]
    assert row["before"]["address.city"] == "Oslo"
    assert row["params"] == {"owner": {"address": {"city": "Bergen"}}}
    assert "client_secret" not in plan.df.to_json()


# ---- tables --------------------------------------------------------------------------------
def test_table_semantics_empty_unset_value(df, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(
        "id,tier,old,new\n"
        f"src_a,platinum,{UNSET},\n"  # change tier, remove old, leave new alone
        "src_b,,,  \n"  # all empty or blank: nothing to do
        "src_d,007,<UNSET>,x\n",  # CSV cells are text as written: 007 stays 007
        encoding="utf-8",
    )
    plan = plan_metadata_from_table(path, sources=df)
    rows = by_source(plan)
    assert rows["src_a"]["params"] == {"metadata": {"old": "", "tier": "platinum"}}
    assert rows["src_b"]["status"] == "noop"
    assert rows["src_d"]["params"] == {"metadata": {"new": "x", "tier": "007"}}
    assert any("empty cell = leave unchanged" in n for n in plan.notes)


def test_table_unknown_duplicate_and_bad_column(df):
    table = pd.DataFrame(
        {
            "id": ["src_a", "src_zz", "src_b", "src_b", "nope"],
            "ok": ["1", "1", "1", "2", "1"],
            "bad[key]": ["", "", "", "", ""],
        }
    )
    plan = plan_metadata_from_table(table, sources=df)
    rows = list(plan.df.to_dict("records"))
    assert rows[0]["status"] == "ready"
    assert "unknown id" in rows[1]["reason"]
    assert "duplicate id" in rows[2]["reason"] and "3, 4" in rows[2]["reason"]
    assert rows[3]["status"] == "invalid"
    assert "not a source id" in rows[4]["reason"]
    table.loc[0, "bad[key]"] = "v"
    plan = plan_metadata_from_table(table, sources=df)
    assert "[ or ]" in plan.df.loc[0, "reason"]


def test_table_non_text_cells_converted_or_refused():
    table = pd.DataFrame(
        {
            "id": ["src_a", "src_b", "src_c"],
            "n": [5.0, float("nan"), 7.25],
            "when": [None, None, pd.Timestamp("2026-01-01")],
        }
    )
    plan = plan_metadata_from_table(table)
    rows = list(plan.df.to_dict("records"))
    assert rows[0]["params"] == {"metadata": {"n": "5"}}
    assert "converted" in rows[0]["change"]
    assert rows[1]["status"] == "noop"
    assert rows[2]["status"] == "invalid" and "isoformat" in rows[2]["reason"]
    assert any("converted to text" in n for n in plan.notes)


def test_table_reads_metadata_prefixed_columns_only(df):
    exported = pd.DataFrame(
        {"id": ["src_a"], "status": ["chargeable"], "metadata.tier": ["bronze"]}
    )
    plan = plan_metadata_from_table(exported, sources=df)
    assert plan.df.loc[0, "params"] == {"metadata": {"tier": "bronze"}}
    assert any("ignored 1 other" in n for n in plan.notes)


def test_table_needs_an_id_column():
    with pytest.raises(InvalidInputError, match="'id' column"):
        plan_metadata_from_table(pd.DataFrame({"x": ["1"]}))
    with pytest.raises(InvalidInputError, match="No such table"):
        plan_metadata_from_table("/nonexistent/t.csv")


# ---- owner ---------------------------------------------------------------------------------
def test_owner_plan(df):
    plan = plan_owner(df, email="new@example.com", address={"city": "Lyon", "country": "fr"})
    rows = by_source(plan)
    assert rows["src_d"]["params"] == {
        "owner": {"email": "new@example.com", "address": {"city": "Lyon", "country": "FR"}}
    }
    assert rows["src_d"]["before"]["email"] == "d@example.com"
    assert rows["src_d"]["after"]["address.city"] == "Lyon"
    clear = by_source(plan_owner(df, email=None))
    assert clear["src_a"]["status"] == "noop"  # already empty: nothing to do


def test_owner_plan_never_clears_what_stripe_refuses_to_clear(df):
    clear = by_source(plan_owner(df, email=None, name="Ann"))
    row = clear["src_d"]
    assert row["status"] == "invalid" and row["params"] == {}
    assert "Stripe cannot clear owner fields" in row["reason"]
    assert "owner.email is 'd@example.com'" in row["reason"]
    assert clear["src_a"]["status"] == "ready"  # email already empty: only the name is set
    assert clear["src_a"]["params"] == {"owner": {"name": "Ann"}}
    unknown = plan_owner(["src_1abcdef"], email="")
    assert list(unknown.df["status"]) == ["invalid"]  # current value unknown: cannot promise


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"fax": "1"}, "Unknown owner field"),
        ({"email": "not-an-email"}, "email"),
        ({"address_country": "France"}, "two-letter"),
        ({"name": ["a"]}, "not text"),
        ({}, "Nothing to change"),
    ],
)
def test_owner_refusals(df, fields, words):
    with pytest.raises(InvalidInputError, match=words):
        plan_owner(df, **fields)


# ---- attach / detach -----------------------------------------------------------------------
def test_detach_rules(df):
    plan = plan_detach(df)
    assert plan.irreversible
    rows = by_source(plan)
    assert rows["src_a"]["status"] == "ready" and rows["src_a"]["params"] == {"customer": "cus_1"}
    assert "cannot be undone" in rows["src_a"]["change"]
    assert rows["src_c"]["status"] == "invalid" and "consumed" in rows["src_c"]["reason"]
    unattached = frame({"id": "src_e", "customer": None, "status": "chargeable"})
    assert "not attached" in plan_detach(unattached).df.loc[0, "reason"]
    assert "customer unknown" in plan_detach(["src_a"]).df.loc[0, "reason"]
    assert "Cannot be undone" in plan._repr_html_()
    assert "cannot be undone" in repr(plan)


def test_attach_rules(df):
    free = frame(
        {"id": "src_f", "customer": None, "status": "chargeable"},
        {"id": "src_g", "customer": None, "status": "failed"},
        {"id": "src_h", "customer": None, "status": "pending"},
    )
    sources = pd.concat([df, free], ignore_index=True)
    plan = plan_attach(
        [
            ("src_f", "cus_9"),
            ("src_g", "cus_9"),
            ("src_a", "cus_9"),
            ("src_a", "cus_8"),
            ("src_b", "cus_1"),
            ("src_zz", "cus_9"),
            ("src_h", "nope"),
        ],
        sources=sources,
    )
    rows = plan.df.to_dict("records")
    assert rows[0]["status"] == "ready" and rows[0]["params"] == {"source": "src_f"}
    assert rows[0]["customer"] == "cus_9"
    assert "chargeable or pending" in rows[1]["reason"]
    assert "already attached to cus_1" in rows[2]["reason"]
    assert "duplicate id" in rows[3]["reason"]
    assert rows[4]["status"] == "noop"
    assert "unknown id" in rows[5]["reason"]
    assert "not a customer id" in rows[6]["reason"]
    assert plan_attach({"src_f": "cus_9"}).df.loc[0, "status"] == "ready"
    pairs = pd.DataFrame({"source": ["src_f"], "customer": ["cus_9"]})
    assert plan_attach(pairs, sources=sources).counts["ready"] == 1
    with pytest.raises(InvalidInputError, match="pair"):
        plan_attach(["src_f"])


# ---- presentation --------------------------------------------------------------------------
def test_html_repr_and_csv(df, tmp_path):
    plan = plan_metadata(df, set={"tier": "<b>gold</b>"})
    page = plan._repr_html_()
    assert "4</b> ready" in page and "&lt;b&gt;gold" in page and "<b>gold</b>" not in page
    assert plan.headline() in repr(plan)
    path = plan.to_csv(tmp_path / "out" / "plan.csv")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(back.columns[:2]) == ["plan_id", "kind"]
    assert set(back["plan_id"]) == {plan.id}
    first = back.iloc[0]
    assert json.loads(first["params"]) == {"metadata": {"tier": "<b>gold</b>"}}
    assert json.loads(first["before"]) == {"old": "x", "tier": "silver"}


def test_empty_selection_is_a_valid_empty_plan():
    plan = plan_metadata(frame({"id": "src_a"}).iloc[0:0], set={"a": "1"})
    assert plan.counts == {"ready": 0, "noop": 0, "invalid": 0, "total": 0}
    assert not plan.valid
    assert "0 rows" in repr(plan) and "0</b> rows" in plan._repr_html_()


def test_table_from_excel(df, tmp_path):
    path = tmp_path / "sheet.xlsx"
    pd.DataFrame({"id": ["src_a", "src_b"], "tier": ["", "platinum"]}).to_excel(path, index=False)
    plan = plan_metadata_from_table(path, sources=df)
    assert list(plan.df["status"]) == ["noop", "ready"]
    assert plan.df.loc[1, "params"] == {"metadata": {"tier": "platinum"}}


def test_subset_is_a_plan_of_its_own(df):
    plan = plan_metadata(df, set={"tier": "gold"})
    part = plan.subset(["src_a", "src_d"])
    assert part.id.startswith(plan.id + "-part-") and list(part.df["source"]) == ["src_a", "src_d"]
    assert f"part of plan {plan.id}" in part.notes
    assert list(part.df["row"]) == [1, 4]
    assert plan.subset(df.head(1)).counts["total"] == 1


def test_tables_come_as_frames_paths_bytes_or_files(tmp_path):
    import io as _io

    from toolkit.changes.plans.table import read_table

    text = "id,region\nsrc_1AbCdEfGhIjK,emea\n"
    path = tmp_path / "t.csv"
    path.write_text(text)
    frames = [
        read_table(path),
        read_table(str(path)),
        read_table(text.encode()),
        read_table(_io.BytesIO(text.encode())),
        read_table(pd.DataFrame({"id": ["src_1AbCdEfGhIjK"], "region": ["emea"]})),
    ]
    for frame in frames:
        assert frame.to_dict("records") == [{"id": "src_1AbCdEfGhIjK", "region": "emea"}]
    with pytest.raises(InvalidInputError, match=r"Could not read bad\.csv as CSV"):
        read_table(b"\xff\xfe\x00garbage", name="bad.csv")
    with pytest.raises(InvalidInputError, match="not int"):
        read_table(42)
