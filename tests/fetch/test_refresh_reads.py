"""A refresh reads each change once (issue 27 item 3): the events of the load's own second that
the load already saw are not read back again, checked against the sandbox's request log."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import toolkit
from toolkit.sandbox import Sandbox
from toolkit.session import connect

TEST = "sk_test_" + "T3st" * 6


def source_reads(box: Sandbox, mark: int) -> list[str]:
    """The sources read by id (GET /v1/sources/{id}) after log entry ``mark``."""
    return [
        e.path.rsplit("/", 1)[1]
        for e in box.requests[mark:]
        if e.method == "GET" and e.path.startswith("/v1/sources/") and e.path.count("/") == 3
    ]


def test_a_refresh_reads_back_only_what_changed_after_the_load(
    fresh_sandbox: Sandbox, tmp_path: Path
) -> None:
    box = fresh_sandbox
    session = connect(TEST, api_base=box.url, rate_limit=1000, quiet=True,
                      read_ledger=tmp_path / "reads.jsonl")  # fmt: skip
    first = toolkit.load_sources(session, progress=False)
    receivers = first[first["flow"] == "receiver"]["id"].astype(str).tolist()
    before, after = receivers[0], receivers[1]
    box.deposit(before, 1_000)  # the newest event when the load begins: the load sees it
    snap = toolkit.load_sources(session, progress=False)
    box.deposit(after, 2_000)  # a change after the load
    mark = len(box.requests)
    fresh = toolkit.refresh(snap, session, progress=False)
    assert source_reads(box, mark) == [after]  # before: the load's own last event was re-read
    assert fresh.attrs["refresh"]["reads"] == 2  # one page of events, one source
    row = fresh.set_index("id").loc[after]
    assert (
        int(row["receiver_amount_received"])
        == int(snap.set_index("id").loc[after, "receiver_amount_received"]) + 2_000
    )
    # and a second refresh, from where the first stopped, reads nothing back
    mark = len(box.requests)
    again = toolkit.refresh(fresh, session, progress=False)
    assert source_reads(box, mark) == []
    pd.testing.assert_frame_equal(again, fresh, check_like=True)
    info = toolkit.LoadInfo.from_attrs(snap)
    assert info is not None and info.events_seen and info.events_since is not None
