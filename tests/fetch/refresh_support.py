"""Helpers for the refresh tests: what a full load returns, and frames compared column by column."""

from __future__ import annotations

import pandas as pd

from toolkit.sandbox import Sandbox
from toolkit.session import Session

_OBJECT_COLUMNS = ("metadata", "raw")


def assert_same_frame(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Same rows in the same order, same columns in the same order, same dtypes, same value in
    every cell."""
    assert sorted(got["id"]) == sorted(want["id"]), (
        f"missing {sorted(set(want['id']) - set(got['id']))}, "
        f"extra {sorted(set(got['id']) - set(want['id']))}"
    )
    assert got["id"].tolist() == want["id"].tolist(), "rows in another order"
    assert list(got.columns) == list(want.columns)
    assert {c: str(t) for c, t in got.dtypes.items()} == {c: str(t) for c, t in want.dtypes.items()}
    left = got.sort_values("id").reset_index(drop=True)
    right = want.sort_values("id").reset_index(drop=True)
    plain = [c for c in left.columns if c not in _OBJECT_COLUMNS]
    pd.testing.assert_frame_equal(left[plain], right[plain])
    for name in _OBJECT_COLUMNS:
        assert left[name].tolist() == right[name].tolist(), name


def new_receiver(session: Session) -> str:
    """A new, unattached ach_credit_transfer receiver (pending: it can be attached)."""
    src = session.client.v1.sources.create(
        {"type": "ach_credit_transfer", "owner": {"email": "new@example.com"}}
    )
    return str(src.id)


def gets(box: Sandbox, start: int = 0) -> int:
    """GET requests in the sandbox's request log since position ``start``."""
    return sum(1 for entry in box.requests[start:] if entry.method == "GET")
