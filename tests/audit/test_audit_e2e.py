"""End to end: load_sources + load_source_transactions over HTTP (real stripe SDK) against the
seeded sandbox, then the audit. The numbers must equal an independent computation on the
sandbox's stored data; every planted anomaly is found; receivers not planted raise no flag.

Detached sources (one planted anomaly lives there) are reachable by id only, as on Stripe, so the
test loads the account's sources and then the detached/unattached ids, like a finance user who
keeps a list of ids would.
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import UTC, datetime

import openpyxl
import pandas as pd
import pytest

from tests.audit.audit_frames import assert_currency_totals, assert_planted_found
from toolkit.audit import audit_receivers
from toolkit.cli import audit as audit_cli
from toolkit.fetch import load_source_transactions, load_sources
from toolkit.sandbox.store import SANDBOX_NOW

DATA_CLOCK = pd.Timestamp(datetime.fromtimestamp(SANDBOX_NOW, UTC))


@pytest.fixture(scope="module")
def loaded(sandbox, session):
    swept = load_sources(session, progress=False)
    by_id = load_sources(session, ids=sandbox.detached_ids + sandbox.unattached_ids, progress=False)
    sources = pd.concat([swept, by_id], ignore_index=True)
    sources.attrs = swept.attrs
    receivers = sources[sources["flow"] == "receiver"]
    txns = load_source_transactions(session, receivers, progress=False)
    return sources, txns


def test_e2e_numbers_equal_the_stored_data(sandbox, loaded):
    sources, txns = loaded
    # the session talks to the sandbox over HTTP like to an account: its clock is the wall clock,
    # so the audit date is given as the sandbox's data clock to keep ages reproducible
    audit = audit_receivers(sources, txns, as_of=DATA_CLOCK)
    ds = sandbox.store()
    stored = [s for s in ds.sources.values() if s["flow"] == "receiver"]
    assert sorted(audit.sources["source"]) == sorted(s["id"] for s in stored)
    assert_currency_totals(audit, stored)
    stored_txns = {t["id"]: t for v in ds.transactions.values() for t in v}
    assert len(txns) == len(stored_txns)
    per_source = audit.sources.set_index("source")
    count: dict[str, int] = defaultdict(int)
    for t in stored_txns.values():
        count[t["source"]] += 1
    for s in stored:
        assert per_source.loc[s["id"], "transactions"] == count[s["id"]]
    assert audit.unmatched_transactions.empty


def test_e2e_every_planted_anomaly_is_found(sandbox, loaded):
    sources, txns = loaded
    audit = audit_receivers(sources, txns, as_of=DATA_CLOCK)
    planted = sandbox.planted
    flags = assert_planted_found(audit, planted)
    planted_ids = {sid for ids in planted.values() for sid in ids}
    assert {sid for sid, f in flags.items() if f} == planted_ids
    assert audit.as_of_basis == "given"
    assert audit.mode == "test"


def test_e2e_snapshot_time_is_the_default_audit_date(loaded):
    sources, txns = loaded
    audit = audit_receivers(sources, txns)
    assert audit.as_of == pd.Timestamp(sources.attrs["toolkit"]["taken_at"])
    assert audit.as_of_basis == "snapshot"


@pytest.mark.slow
def test_cli_audit_against_the_embedded_sandbox(sandbox, tmp_path, monkeypatch, capsys):
    """No key set: `python -m toolkit audit` runs on the embedded sandbox at its data clock;
    --ids adds the detached sources, so every planted anomaly is in the workbook."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ids.txt").write_text("\n".join(sandbox.detached_ids + sandbox.unattached_ids))
    parser = argparse.ArgumentParser()
    audit_cli.add_arguments(parser)
    args = parser.parse_args(["--out", "audit.xlsx", "--csv", "csv", "--ids", "ids.txt"])
    assert audit_cli.run(args) == 0
    out = capsys.readouterr().out
    assert "as of 2026-11-01" in out
    found = pd.read_csv(tmp_path / "csv" / "exceptions.csv")
    planted = {sid for ids in sandbox.planted.values() for sid in ids}
    assert set(found["source"]) == planted
    wb = openpyxl.load_workbook(tmp_path / "audit.xlsx")
    cover = {r[0]: r[1] for r in wb["Cover"].iter_rows(values_only=True) if r and r[0]}
    assert cover["Mode"] == "sandbox"
    assert cover["Source transactions"] == "given"
    assert cover["Receivers with findings"] > 0
    assert (tmp_path / "csv" / "exceptions.csv").exists()
