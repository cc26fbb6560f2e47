"""Snapshots round-trip exactly through Parquet; diffs name what changed."""

from __future__ import annotations

import copy
import os
import stat
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from toolkit.errors import InvalidInputError
from toolkit.fetch.frame import empty_frame, sources_frame
from toolkit.fetch.schema import frame_dtypes
from toolkit.fetch.snapshot import DIFF_COLUMNS, diff_snapshots, load_snapshot, save_snapshot

ATTRS = {
    "taken_at": "2026-11-01T00:00:00+00:00",
    "account": "sandbox",
    "mode": "sandbox",
    "missing_ids": ["src_gone"],
}


def _frame(sources: list[dict[str, Any]]) -> pd.DataFrame:
    df = sources_frame(sources)
    df.attrs["toolkit"] = dict(ATTRS)
    return df


def test_round_trip_is_exact(tmp_path: Path, variety: list[dict[str, Any]]) -> None:
    df = _frame(variety)
    path = save_snapshot(df, tmp_path / "snaps" / "a.parquet")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    back = load_snapshot(path)
    pd.testing.assert_frame_equal(back, df)
    assert frame_dtypes(back) == frame_dtypes(df)
    assert back.attrs == df.attrs
    assert back["raw"].tolist() == df["raw"].tolist()
    assert back["metadata"].tolist() == df["metadata"].tolist()
    assert isinstance(back["metadata"].iloc[0], dict)


def test_round_trip_of_empty_and_filtered_frames(tmp_path: Path, variety: list) -> None:
    empty = empty_frame()
    back = load_snapshot(save_snapshot(empty, tmp_path / "empty.parquet"))
    pd.testing.assert_frame_equal(back, empty)
    subset = _frame(variety)
    subset = subset[subset["currency"] == "eur"]  # a non-range index
    back = load_snapshot(save_snapshot(subset, tmp_path / "subset.parquet"))
    pd.testing.assert_frame_equal(back, subset)


def test_snapshot_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="parquet"):
        save_snapshot(empty_frame(), tmp_path / "a.csv")
    with pytest.raises(InvalidInputError, match="DataFrame"):
        save_snapshot([], tmp_path / "a.parquet")
    with pytest.raises(InvalidInputError, match="No snapshot"):
        load_snapshot(tmp_path / "missing.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(InvalidInputError, match="not a readable"):
        load_snapshot(tmp_path / "junk.parquet")


def test_diff_lists_added_removed_changed(variety: list[dict[str, Any]]) -> None:
    old = _frame(variety[:3])
    changed = copy.deepcopy(variety[1:])
    changed[0]["status"] = "consumed"  # src_card1
    changed[0]["metadata"] = {"region": "eu-west", "tier": "gold"}
    changed[1]["sepa_debit"]["mandate_url"] = "https://example.com/m"  # not a column: raw
    new = _frame(changed)
    diff = diff_snapshots(old, new)
    assert tuple(diff.columns) == DIFF_COLUMNS
    by_id = diff.set_index("id")
    assert by_id.loc["src_3ds1", "change"] == "added"
    assert by_id.loc["src_1Pgc75B7WZ01zgkWn9ogkWOr", "change"] == "removed"
    card = by_id.loc["src_card1"]
    assert card["change"] == "changed"
    assert card["fields"] == ["status", "metadata.region", "metadata.tier"]
    assert card["before"] == {
        "status": "chargeable",
        "metadata.region": "eu",
        "metadata.tier": None,
    }
    assert card["after"]["status"] == "consumed"
    assert card["after"]["metadata.tier"] == "gold"
    sepa = by_id.loc["src_sepa1"]
    assert sepa["fields"] == ["raw.sepa_debit.mandate_url"]
    assert diff["change"].tolist() == ["added", "removed", "changed", "changed"]


def test_diff_of_identical_and_empty_frames(tmp_path: Path, variety: list) -> None:
    df = _frame(variety)
    back = load_snapshot(save_snapshot(df, tmp_path / "x.parquet"))
    diff = diff_snapshots(back, df)
    assert len(diff) == 0 and tuple(diff.columns) == DIFF_COLUMNS
    all_added = diff_snapshots(empty_frame(), df)
    assert set(all_added["change"]) == {"added"} and len(all_added) == len(df)
    with pytest.raises(InvalidInputError):
        diff_snapshots(df, "nope")


def test_a_filtered_frame_round_trips_with_its_index(session, tmp_path) -> None:
    """A frame filtered down (its index no longer 0..n-1) saves and loads back exactly: the
    stored index is the index again, not a column (a bug once: KeyError on load)."""
    from toolkit.fetch import load_snapshot, load_sources, save_snapshot

    sources = load_sources(session, progress=False)
    some = sources[sources["type"] == "ach_credit_transfer"]
    again = load_snapshot(save_snapshot(some, tmp_path / "some.parquet"))
    assert list(again.columns) == list(some.columns)
    assert list(again.index) == list(some.index)
    assert again["id"].tolist() == some["id"].tolist()
