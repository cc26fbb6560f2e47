"""``python -m toolkit audit`` options, driven through audit_cli.add_arguments/run."""

from __future__ import annotations

import argparse

import openpyxl
import pytest

from tests.audit.audit_frames import card, receiver, sources_frame
from toolkit.cli import audit as audit_cli
from toolkit.errors import InvalidInputError
from toolkit.fetch.id_files import read_ids
from toolkit.fetch.snapshot import save_snapshot


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="audit")
    audit_cli.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.fixture
def snapshot(tmp_path):
    rows = [
        receiver("src_ok", received=1000, charged=1000, status="chargeable"),
        receiver("src_bad", received=5000, status="canceled", days_old=100),
        receiver("src_jpy", received=300, currency="jpy", status="chargeable"),
        card("src_card"),
    ]
    return save_snapshot(sources_frame(rows), tmp_path / "snap.parquet")


def test_audit_from_a_snapshot_writes_excel_csv_and_png(snapshot, tmp_path, capsys):
    out = tmp_path / "out" / "audit.xlsx"
    args = parse(
        "--snapshot", str(snapshot), "--out", str(out),
        "--csv", str(tmp_path / "csv"), "--png", str(tmp_path / "audit.png"),
    )  # fmt: skip
    assert audit_cli.run(args) == 0
    text = capsys.readouterr().out
    assert "Audited 3 receiver sources as of 2026-11-01T00:00:00+00:00" in text
    assert "1 with findings" in text
    assert "USD: unapplied 50.00 USD across 2 receivers" in text
    assert "JPY: unapplied 300 JPY across 1 receivers" in text
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:2] == ["Cover", "Summary"]
    assert (tmp_path / "csv" / "sources.csv").exists()
    assert (tmp_path / "audit.png").read_bytes().startswith(b"\x89PNG")


def test_audit_options(snapshot, tmp_path, capsys):
    args = parse(
        "--snapshot", str(snapshot), "--csv", str(tmp_path / "csv"),
        "--as-of", "2027-01-01T00:00:00Z", "--pending-days", "5",
    )  # fmt: skip
    assert args.out is None
    assert audit_cli.run(args) == 0
    assert "as of 2027-01-01T00:00:00+00:00" in capsys.readouterr().out
    assert not (tmp_path / "exports").exists()
    assert (tmp_path / "csv" / "checks.csv").exists()


def test_audit_refuses_bad_input(tmp_path):
    with pytest.raises(InvalidInputError, match="No snapshot"):
        audit_cli.run(parse("--snapshot", str(tmp_path / "missing.parquet")))
    with pytest.raises(InvalidInputError, match="pending-days"):
        audit_cli.run(parse("--snapshot", str(tmp_path / "x"), "--pending-days", "-3"))


def test_read_ids(tmp_path):
    text = tmp_path / "ids.txt"
    text.write_text("# detached\nsrc_1\n\nsrc_2\nsrc_1\n")
    assert read_ids(text) == ["src_1", "src_2"]
    table = tmp_path / "ids.csv"
    table.write_text("customer,id\ncus_1,src_9\ncus_2,src_8\n")
    assert read_ids(table) == ["src_9", "src_8"]
    bad = tmp_path / "bad.txt"
    bad.write_text("src_1\ncus_1\n")
    with pytest.raises(InvalidInputError, match="not source ids"):
        read_ids(bad)
    with pytest.raises(InvalidInputError, match="No id file"):
        read_ids(tmp_path / "nope.txt")


def test_ids_do_not_combine_with_a_snapshot(snapshot, tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("src_1\n")
    with pytest.raises(InvalidInputError, match="--ids"):
        audit_cli.run(parse("--snapshot", str(snapshot), "--ids", str(ids)))


def test_audit_and_migration_json_summaries(snapshot, tmp_path, capsys):
    import json

    from toolkit.cli import main

    assert (
        main(["audit", "--snapshot", str(snapshot), "--out", str(tmp_path / "a.xlsx"), "--json"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["receivers"] == 3 and summary["by_currency"]["usd"]["unapplied"] == "50.00"
    assert summary["written"] == [str(tmp_path / "a.xlsx")]
