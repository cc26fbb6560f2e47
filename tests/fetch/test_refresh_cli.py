"""``python -m toolkit refresh``: says what events cannot show, and ``--recheck`` sees it."""

from __future__ import annotations

import json

import pytest

import toolkit
from toolkit.cli.main import main
from toolkit.sandbox import Sandbox


def test_refresh_command_says_what_it_cannot_see_and_rechecks(
    tmp_path, monkeypatch, capsys
) -> None:
    with Sandbox(seed=11, customers=40, source_update_events=False) as box:
        monkeypatch.setenv("STRIPE_API_BASE", box.url)
        monkeypatch.delenv("STRIPE_API_KEY", raising=False)
        monkeypatch.chdir(tmp_path)
        assert main(["export", "--out", "snapshots/s.parquet", "--quiet"]) == 0
        sid = str(toolkit.load_snapshot("snapshots/s.parquet")["id"].iloc[0])
        with toolkit.connect(quiet=True) as session:
            session.client.v1.sources.update(sid, {"metadata": {"cli": "1"}})
        capsys.readouterr()
        assert main(["refresh", "snapshots/s.parquet"]) == 0
        text = capsys.readouterr().out
        assert "0 changed" in text and "customer.source.updated" in text
        assert "recheck='customers'" in text
        assert main(["refresh", "snapshots/s.parquet", "--recheck", "customers", "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["changed"] == summary["unseen"] == [sid]
        assert summary["recheck_requests"] > 0 and summary["blind_to"] == []
        with pytest.raises(SystemExit):
            main(["refresh", "snapshots/s.parquet", "--recheck", "everything"])
        assert main(["refresh", "snapshots/s.parquet", "--recheck", "sources"]) == 2
        assert "recheck='customers'" in capsys.readouterr().err
