"""Reads as a cost (issue 23 item 2): every GET counted as it leaves, the private read ledger of
30 days, ``connect(read_allowance=N)``, Stripe's refusal for the read allocation never retried."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest

import toolkit
from toolkit.cli import main
from toolkit.errors import ConfigurationError, ReadAllowanceError
from toolkit.sandbox import Sandbox
from toolkit.session import connect, read_usage
from toolkit.session.read_ledger import WINDOW, Allocation, ReadLedger, key_digest

LIVE = "sk_live_" + "L1ve" * 6
TEST = "sk_test_" + "T3st" * 6


def gets(box: Sandbox, since: int = 0) -> int:
    """The GET requests the sandbox received (its request log), after entry ``since``."""
    return sum(1 for e in box.requests[since:] if e.method == "GET")


def test_a_meter_counts_every_get_the_session_sends(sandbox: Sandbox, tmp_path: Path) -> None:
    session = connect(TEST, api_base=sandbox.url, rate_limit=1000, quiet=True,
                      read_ledger=tmp_path / "reads.jsonl")  # fmt: skip
    mark = len(sandbox.requests)
    with session.reading("three doors") as meter:
        session.list_customers({"limit": 2})  # a typed call
        session.raw("get", "/v1/customers", {"limit": 1})  # an open door
        session.call(session.client.v1.customers.list, {"limit": 1})  # the SDK itself
    assert meter.reads == 3 == gets(sandbox, mark)
    assert session.reads.sent >= 3
    assert meter.describe() == "3 reads (this account: 3 in 30 days)"


def test_writes_are_not_counted(fresh_sandbox: Sandbox, tmp_path: Path) -> None:
    session = connect(TEST, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True,
                      read_ledger=tmp_path / "reads.jsonl", read_allowance=1)  # fmt: skip
    src = next(iter(fresh_sandbox.store().sources))
    with session.reading() as meter:
        session.update_source(src, {"metadata": {"a": "1"}}, idempotency_key="w1")
        session.update_source(src, {"metadata": {"a": "2"}}, idempotency_key="w2")
    assert meter.reads == 0  # Stripe: "Write API requests have no allocation limit"
    assert read_usage(session).reads == 0


def test_the_ledger_is_private_and_counts_across_sessions(sandbox: Sandbox, tmp_path: Path):
    path = tmp_path / "data" / "toolkit" / "reads.jsonl"
    first = connect(TEST, api_base=sandbox.url, rate_limit=1000, quiet=True, read_ledger=path)
    with first.reading():
        first.list_customers({"limit": 1})
        first.list_customers({"limit": 1})
    second = connect(TEST, api_base=sandbox.url, rate_limit=1000, quiet=True, read_ledger=path)
    with second.reading():
        second.list_customers({"limit": 1})
    usage = read_usage(second)
    assert usage.reads == 3 and usage.ledger == str(path)
    assert sum(usage.by_day.values()) == 3 and list(usage.frame().columns) == ["day", "reads"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    text = path.read_text()
    assert TEST not in text and TEST[-4:] not in text  # never the key
    assert all(json.loads(line)["key"] == key_digest(TEST, sandbox.url) for line in text.split())


def test_the_ledger_keeps_30_days(tmp_path: Path) -> None:
    path = tmp_path / "reads.jsonl"
    ledger = ReadLedger(path)
    where = Allocation("k_x", "live", "own")
    now = time.time()
    ledger.add(where, 500, None, now=now - WINDOW - 3600)  # 30 days and an hour ago
    ledger.add(where, 7, None, now=now - 3600)
    assert ledger.used(where) == 7
    ledger.add(where, 1, None)  # a write drops what is older than 30 days
    assert [json.loads(line)["reads"] for line in path.read_text().split()] == [7, 1]
    assert ReadLedger(path).used(where) == 8


def test_the_ledger_is_parsed_again_only_when_another_process_wrote_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every apply and load starts with a reload: a ledger that only this process wrote to
    since it last read it is not parsed again; one another process added to (or rewrote) is."""
    path = tmp_path / "reads.jsonl"
    where = Allocation("k_demo", "test", "own")
    mine, other = ReadLedger(path), ReadLedger(path)  # two processes on one file
    parsed: list[int] = []
    original = ReadLedger._read_file

    def counting(self: ReadLedger) -> list[dict[str, object]]:
        parsed.append(id(self))
        return original(self)

    monkeypatch.setattr(ReadLedger, "_read_file", counting)
    mine.add(where, 5, None)
    mine.reload()  # its own write: nothing to parse
    mine.add(where, 7, None)
    mine.reload()
    assert parsed == [] and mine.used(where) == 12
    other.reload()  # the other process never saw the file as it is: parsed
    assert parsed == [id(other)] and other.used(where) == 12
    other.add(where, 30, None)
    mine.reload()  # another process appended: parsed again
    assert parsed == [id(other), id(mine)] and mine.used(where) == 42
    mine.reload()
    assert len(parsed) == 2
    records = [json.loads(line) for line in path.read_text().splitlines()]
    records[0]["reads"] = 500  # rewritten in place by someone else: parsed again
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    mine.reload()
    assert len(parsed) == 3 and mine.used(where) == 537


def test_a_ledger_that_is_not_one_is_refused_not_overwritten(sandbox: Sandbox, tmp_path: Path):
    path = tmp_path / "notes.txt"
    path.write_text("my notes\nmore notes\n")
    with pytest.raises(ConfigurationError, match=r"not a ledger record.*TOOLKIT_READS_LEDGER"):
        connect(TEST, api_base=sandbox.url, quiet=True, read_ledger=path)
    assert path.read_text() == "my notes\nmore notes\n"
    torn = tmp_path / "torn.jsonl"  # a crash cut the last line short: a lost count, not an error
    record = {"at": int(time.time()), "key": "k", "mode": "test", "allocation": "own", "reads": 2}
    torn.write_text(json.dumps(record) + '\n{"at"')
    connect(TEST, api_base=sandbox.url, quiet=True, read_ledger=torn).close()


def test_default_allowance_live_10000_test_and_sandbox_none(sandbox: Sandbox) -> None:
    assert connect(LIVE, api_base=sandbox.url, quiet=True).reads.allowance == 10_000
    assert connect(TEST, api_base=sandbox.url, quiet=True).reads.allowance is None
    raised = connect(LIVE, api_base=sandbox.url, quiet=True, read_allowance=250_000)
    assert raised.reads.allowance == 250_000
    assert (
        connect(LIVE, api_base=sandbox.url, quiet=True, read_allowance=None).reads.allowance is None
    )
    with connect(sandbox_options={"customers": 3}, quiet=True) as box_session:
        assert box_session.reads.allowance is None
        assert read_usage(box_session).ledger is None  # the sandbox's reads: in memory


def test_read_allowance_from_the_environment(sandbox: Sandbox, monkeypatch) -> None:
    monkeypatch.setenv("TOOLKIT_READ_ALLOWANCE", "50000")
    assert connect(LIVE, api_base=sandbox.url, quiet=True).reads.allowance == 50_000
    monkeypatch.setenv("TOOLKIT_READ_ALLOWANCE", "lots")
    with pytest.raises(ConfigurationError, match="TOOLKIT_READ_ALLOWANCE"):
        connect(LIVE, api_base=sandbox.url, quiet=True)


@pytest.mark.parametrize("bad", [-1, 2.5, "10k", True])
def test_a_bad_read_allowance_is_refused(sandbox: Sandbox, bad) -> None:
    with pytest.raises(ConfigurationError, match="read_allowance"):
        connect(TEST, api_base=sandbox.url, quiet=True, read_allowance=bad)


def test_no_read_past_the_allowance_leaves(sandbox: Sandbox, tmp_path: Path) -> None:
    session = connect(TEST, api_base=sandbox.url, rate_limit=1000, quiet=True,
                      read_ledger=tmp_path / "r.jsonl", read_allowance=2)  # fmt: skip
    mark = len(sandbox.requests)
    with pytest.raises(ReadAllowanceError) as info, session.reading("listing") as meter:
        for _ in range(5):
            session.list_customers({"limit": 1})
    assert meter.reads == 2 == gets(sandbox, mark)
    error = info.value
    assert (error.reads, error.used, error.allowance, error.left) == (2, 2, 2, 0)
    assert "2 of its 2 reads" in str(error) and "read_allowance=N" in str(error)
    # known cost: refused before anything is sent
    refused = pytest.raises(ReadAllowanceError, match=r"would cost about 3 reads.*nothing was sent")
    with refused, session.reading("three reads", cost=3):
        raise AssertionError("not reached")
    assert gets(sandbox, mark) == 2


def test_connected_accounts_draw_on_a_separate_allocation(sandbox: Sandbox, tmp_path: Path):
    platform = connect(TEST, api_base=sandbox.url, rate_limit=1000, quiet=True,
                       read_ledger=tmp_path / "r.jsonl", read_allowance=3)  # fmt: skip
    account = sorted(sandbox.connected_accounts)[0]
    with platform.reading() as meter:
        platform.list_customers({"limit": 1})
        platform.for_account(account).list_customers({"limit": 1})
        platform.for_account(account).list_customers({"limit": 1})
    assert meter.reads == 3  # a meter counts its connected-account sessions too
    assert read_usage(platform).reads == 1
    connected = read_usage(platform, connected=True)
    assert connected.reads == 2 and connected.by_account == {account: 2}
    assert "reads for connected accounts" in repr(connected)
    sub = platform.for_account(account)
    sub.list_customers({"limit": 1})  # the connected allocation: 3 of 3
    with pytest.raises(ReadAllowanceError, match="connected accounts"):
        sub.list_customers({"limit": 1})
    platform.list_customers({"limit": 1})  # the platform's own still has room


def test_stripes_refusal_for_the_read_allocation_is_final(tmp_path: Path) -> None:
    with Sandbox(seed=7, customers=20, read_allocation=2) as box:
        session = connect(TEST, api_base=box.url, quiet=True, read_ledger=tmp_path / "r.jsonl")
        session.list_customers({"limit": 1})
        session.list_customers({"limit": 1})
        with pytest.raises(ReadAllowanceError, match="Stripe refused a read") as info:
            session.list_customers({"limit": 1})
        assert info.value.status == 429 and info.value.request_id
        assert session.retries == 0 and gets(box) == 3  # not retried
        with pytest.raises(ReadAllowanceError):  # nor sent again by this session
            session.retrieve_source("src_1NoSuchSource0000")
        assert gets(box) == 3


def test_read_usage_repr_and_bad_input(sandbox: Sandbox, tmp_path: Path) -> None:
    session = connect(LIVE, api_base=sandbox.url, rate_limit=1000, quiet=True,
                      read_ledger=tmp_path / "r.jsonl")  # fmt: skip
    session.list_customers({"limit": 1})
    usage = toolkit.read_usage(session)
    assert (usage.reads, usage.allowance, usage.left) == (1, 10_000, 9_999)
    assert "1 read in the last 30 days of an allowance of 10,000 (9,999 left)" in repr(usage)
    with pytest.raises(toolkit.InvalidInputError, match="connect"):
        toolkit.read_usage("not a session")  # type: ignore[arg-type]


def test_the_cli_exits_8_at_the_read_allowance(
    sandbox: Sandbox, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", LIVE)
    monkeypatch.setenv("STRIPE_API_BASE", sandbox.url)
    monkeypatch.setenv("TOOLKIT_READS_LEDGER", str(tmp_path / "r.jsonl"))
    monkeypatch.setenv("TOOLKIT_READ_ALLOWANCE", "3")
    ids = tmp_path / "ids.txt"
    ids.write_text("\n".join(f"src_1NoSuchSource{i:04d}" for i in range(5)))
    code = main(["export", "--out", str(tmp_path / "s.parquet"), "--ids-file", str(ids), "--quiet"])
    assert code == 8
    err = capsys.readouterr().err
    assert "error: Load ids would cost about 5 reads" in err and "Traceback" not in err
