"""DuckDB over exported datasets: diff_snapshots and audit_receivers take dataset folders, run
their heavy part in DuckDB and agree with the in-memory answers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

import toolkit
from toolkit.fetch.duck import diff_datasets, scan
from toolkit.sandbox import Sandbox
from toolkit.session import Session


@pytest.mark.slow
def test_diff_of_two_datasets_equals_the_diff_of_two_frames(
    fresh_sandbox: Sandbox, fresh_session: Session, tmp_path: Path
) -> None:
    toolkit.export_sources(fresh_session, tmp_path / "a", progress=False)
    old = toolkit.load_sources(fresh_session, progress=False, metadata_columns=False)
    cards = old[(old["type"] == "card") & (old["status"] == "chargeable")]
    fresh_session.client.v1.sources.update(str(cards["id"].iloc[1]), {"metadata": {"q": "1"}})
    fresh_session.client.v1.customers.payment_sources.delete(
        str(cards["customer"].iloc[0]), str(cards["id"].iloc[0])
    )
    fresh_sandbox.deposit(str(old.loc[old["type"] == "ach_credit_transfer", "id"].iloc[0]), 999)
    toolkit.export_sources(fresh_session, tmp_path / "b", progress=False)
    new = toolkit.load_sources(fresh_session, progress=False, metadata_columns=False)
    in_duckdb = toolkit.diff_snapshots(tmp_path / "a", tmp_path / "b")
    in_memory = toolkit.diff_snapshots(old, new)
    assert len(in_duckdb) == 3
    pd.testing.assert_frame_equal(
        in_duckdb.drop(columns=["before", "after"]), in_memory.drop(columns=["before", "after"])
    )
    assert in_duckdb["after"].tolist() == in_memory["after"].tolist()
    before, after = diff_datasets(tmp_path / "a", tmp_path / "b")
    assert (len(before), len(after)) == (3, 2)  # only the differing rows were read
    with pytest.raises(toolkit.InvalidInputError, match="two dataset folders"):
        toolkit.diff_snapshots(tmp_path / "a", old)


def test_the_receiver_audit_of_a_dataset(fresh_session: Session, tmp_path: Path) -> None:
    toolkit.export_sources(fresh_session, tmp_path / "ds", progress=False)
    on_disk = toolkit.audit_receivers(tmp_path / "ds")
    in_memory = toolkit.audit_receivers(toolkit.load_sources(fresh_session, progress=False))
    pd.testing.assert_frame_equal(on_disk.by_currency, in_memory.by_currency)
    assert on_disk.exceptions["source"].tolist() == in_memory.exceptions["source"].tolist()
    assert on_disk.as_of_basis == in_memory.as_of_basis == "snapshot"  # the export's own time
    with pytest.raises(toolkit.InvalidInputError, match="No dataset"):
        toolkit.fetch.duck.read_receivers(tmp_path / "empty")


def test_the_readme_query(fresh_session: Session, tmp_path: Path) -> None:
    toolkit.export_sources(fresh_session, tmp_path / "ds", progress=False)
    relation = duckdb.sql(
        f"SELECT month, count(*) AS n FROM {scan(tmp_path / 'ds')} GROUP BY month ORDER BY month"
    )
    assert relation is not None
    rows = relation.fetchall()
    assert sum(n for _, n in rows) == len(toolkit.read_dataset(tmp_path / "ds"))
