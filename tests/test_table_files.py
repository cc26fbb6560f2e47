"""Issue 28 item 12: ``plan metadata --table`` reads what Excel saves: a ``;``-separated CSV (its
default where the decimal mark is a comma), a ``source_id`` or ``Source ID`` header; and a table
without ids says which columns it found."""

from __future__ import annotations

import pytest

import toolkit
from toolkit.changes.plans.table import read_table
from toolkit.cli import main
from toolkit.errors import InvalidInputError


@pytest.mark.parametrize(
    "text",
    [
        "id,tier\nsrc_1abc,gold\n",
        "id;tier\nsrc_1abc;gold\n",
        "\ufeffsource_id;tier\r\nsrc_1abc;gold\r\n",
        "Source ID\ttier\nsrc_1abc\tgold\n",
        "source_id;tier;note\nsrc_1abc;gold;a, b and c\n",
    ],
)
def test_a_table_of_changes_as_excel_saves_it(text, tmp_path):
    path = tmp_path / "changes.csv"
    path.write_text(text, encoding="utf-8")
    plan = toolkit.plan_metadata_from_table(path)
    assert plan.df.loc[0, "source"] == "src_1abc"
    assert plan.df.loc[0, "params"]["metadata"]["tier"] == "gold"
    if "note" in text:
        assert plan.df.loc[0, "params"]["metadata"]["note"] == "a, b and c"


def test_a_table_without_ids_names_the_columns_it_found(tmp_path, capsys):
    path = tmp_path / "changes.csv"
    path.write_text("source id number;tier\nsrc_1abc;gold\n", encoding="utf-8")
    assert list(read_table(path).columns) == ["source id number", "tier"]
    with pytest.raises(InvalidInputError) as info:
        toolkit.plan_metadata_from_table(path)
    assert "'source id number', 'tier'" in str(info.value) and str(path) in str(info.value)
    assert main(["plan", "metadata", "--table", str(path)]) == 2
    err = capsys.readouterr().err
    assert "'source id number', 'tier'" in err and "column named id (or source_id)" in err


def test_plan_metadata_cli_reads_a_semicolon_table_with_source_id(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("STRIPE_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "changes.csv").write_text("source_id;tier\nsrc_1NoSuchSource0000;gold\n")
    code = main(["plan", "metadata", "--table", "changes.csv", "--folder", "plans"])
    out = capsys.readouterr().out
    assert code == 4, out  # read: the one id is unknown to Stripe, and the plan says so
    assert "1 refused" in out and "src_1NoSuchSource0000" in out
    assert list((tmp_path / "plans").glob("plan_*.json"))
