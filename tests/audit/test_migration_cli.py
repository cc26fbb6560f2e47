"""``python -m toolkit migration``: the retirement audit headless, against a sandbox through the
environment as a user would point it at an account; exit 3 while work is left."""

from __future__ import annotations

import openpyxl
import pytest

from toolkit.cli import main
from toolkit.sandbox import Sandbox

KEY = "sk_test_" + "M1grCli" * 4


@pytest.mark.slow
def test_migration_writes_the_workbook_and_exits_3_while_work_is_left(
    tmp_path, monkeypatch, capsys
):
    with Sandbox(seed=11, customers=60) as box:
        monkeypatch.setenv("STRIPE_API_KEY", KEY)
        monkeypatch.setenv("STRIPE_API_BASE", box.url)
        out = tmp_path / "migration.xlsx"
        argv = ["migration", "--out", str(out), "--csv", str(tmp_path / "csv")]
        argv += ["--png", str(tmp_path / "m.png"), "--as-of", "2026-11-01T00:00:00Z"]
        code = main(argv)
    text = capsys.readouterr().out
    assert code == 3
    assert "need action" in text and "blocked" in text and "USD:" in text
    assert KEY not in text
    assert openpyxl.load_workbook(out).sheetnames[0] == "Cover"
    assert (tmp_path / "csv" / "customers.csv").exists() and (tmp_path / "m.png").exists()


def test_migration_is_ready_on_an_account_with_nothing_to_retire(tmp_path, monkeypatch, capsys):
    with Sandbox(seed=11, customers=0) as box:
        monkeypatch.setenv("STRIPE_API_KEY", KEY)
        monkeypatch.setenv("STRIPE_API_BASE", box.url)
        assert main(["migration", "--out", str(tmp_path / "m.xlsx")]) == 0
    assert "0 ready, 0 need action, 0 blocked" in capsys.readouterr().out


def test_migration_refuses_a_negative_threshold(capsys):
    assert main(["migration", "--unapplied-days", "-1"]) == 2
    assert "--unapplied-days" in capsys.readouterr().err


def test_migration_json_summary(tmp_path, monkeypatch, capsys):
    import json

    with Sandbox(seed=11, customers=60) as box:
        monkeypatch.setenv("STRIPE_API_KEY", KEY)
        monkeypatch.setenv("STRIPE_API_BASE", box.url)
        code = main(["migration", "--out", str(tmp_path / "m.xlsx"), "--json"])
    summary = json.loads(capsys.readouterr().out)  # stdout is the JSON object alone
    assert code == 3 and summary["blocked"] + summary["needs_action"] > 0
    assert set(summary["by_currency"]["usd"]) == {"legacy_receivers", "cash_balances"}
    assert summary["written"] == [str(tmp_path / "m.xlsx")]
