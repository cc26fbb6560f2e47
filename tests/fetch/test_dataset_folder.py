"""A dataset folder keeps to itself: locked while an export writes it, a record of what it is a
dataset of and of every part, checked before a read, and clear errors for what a user can do
wrong (an empty or foreign folder, an edited checkpoint, an unreadable part, a system folder)."""

from __future__ import annotations

import json
import os
import shutil
import threading
import warnings
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

import toolkit
from toolkit.fetch import dataset as dataset_module
from toolkit.sandbox import Sandbox
from toolkit.session import Session

CHECKPOINT = "_checkpoint.json"


def _ids(df: pd.DataFrame) -> list[str]:
    return sorted(df["id"].tolist())


def _parts(folder: Path) -> list[Path]:
    return sorted(folder.rglob("w*.parquet"))


def test_two_exports_into_one_folder_are_locked_against_each_other(
    fresh_session: Session, tmp_path: Path
) -> None:
    target = tmp_path / "ds"
    started, go = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold(done: int, total: int | None, label: str) -> None:
        started.set()
        go.wait(timeout=60)

    def first() -> None:
        try:
            toolkit.export_sources(fresh_session, target, batch=20, progress=hold)
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert started.wait(timeout=60)
        with pytest.raises(toolkit.InvalidInputError, match=rf"pid {os.getpid()} .*another folder"):
            toolkit.export_sources(fresh_session, target, batch=20, progress=False)
    finally:
        go.set()
        thread.join(timeout=120)
    assert not failures, failures
    full = toolkit.load_sources(fresh_session, progress=False, metadata_columns=False)
    back = toolkit.read_dataset(target)
    assert _ids(back) == _ids(full)  # nothing lost, nothing twice
    # a lock file left behind (a killed export leaves one) blocks nobody
    (target / "_export.lock").write_text("")
    done = toolkit.export_sources(fresh_session, target, progress=False)
    assert done.sources == 0 and done.windows_skipped > 0


def test_a_dataset_is_of_one_account_and_one_export(
    fresh_sandbox: Sandbox, fresh_session: Session, tmp_path: Path
) -> None:
    platform = tmp_path / "platform"
    toolkit.export_sources(fresh_session, platform, progress=False)
    account = sorted(fresh_sandbox.connected_accounts)[0]
    connected = fresh_session.for_account(account)
    with pytest.raises(toolkit.InvalidInputError, match="another folder, or pass replace=True"):
        toolkit.export_sources(connected, platform, progress=False)
    assert len(toolkit.read_dataset(platform)) == len(
        toolkit.load_sources(fresh_session, progress=False)
    )  # refused, and untouched
    info = toolkit.export_sources(connected, platform, replace=True, progress=False)
    alone = toolkit.load_sources(connected, progress=False)
    assert info.sources == len(alone)
    assert _ids(toolkit.read_dataset(platform)) == _ids(alone)
    # other arguments on the same folder: refused, never mixed
    some = tmp_path / "some"
    toolkit.export_sources(fresh_session, some, accounts=[account], progress=False)
    with pytest.raises(toolkit.InvalidInputError, match=f"connected accounts: {account}"):
        toolkit.export_sources(fresh_session, some, accounts="all", progress=False)
    again = toolkit.export_sources(fresh_session, some, accounts=[account], progress=False)
    assert again.sources == 0  # the same export goes on (here: nothing left to do)
    assert _ids(toolkit.read_dataset(some)) == _ids(alone)
    # the record names the API host too
    state = json.loads((some / CHECKPOINT).read_text())
    state["dataset"]["api_host"] = "api.stripe.com"
    (some / CHECKPOINT).write_text(json.dumps(state))
    with pytest.raises(toolkit.InvalidInputError, match=r"api\.stripe\.com"):
        toolkit.export_sources(fresh_session, some, accounts=[account], progress=False)


def test_read_checks_the_parts_and_an_export_repairs_them(
    fresh_session: Session, tmp_path: Path
) -> None:
    target = tmp_path / "ds"
    toolkit.export_sources(fresh_session, target, batch=20, progress=False)
    full = toolkit.load_sources(fresh_session, progress=False, metadata_columns=False)
    parts = _parts(target)
    gone = parts[len(parts) // 2]
    gone.unlink()
    with pytest.raises(toolkit.InvalidInputError, match=rf"1 part missing \(.*{gone.name}"):
        toolkit.read_dataset(target)
    with pytest.raises(toolkit.InvalidInputError, match="1 part missing"):
        toolkit.audit_receivers(target)  # DuckDB reads through the same check
    info = toolkit.export_sources(fresh_session, target, batch=20, progress=False)
    assert info.windows_repaired == 1 and 0 < info.sources < len(full)
    assert _ids(toolkit.read_dataset(target)) == _ids(full)
    # a foreign Parquet file in a partition: refused by the reader and by the export
    junk = parts[0].parent / "junk.parquet"
    shutil.copy(parts[0], junk)
    with pytest.raises(toolkit.InvalidInputError, match="1 file the export did not write"):
        toolkit.read_dataset(target)
    with pytest.raises(toolkit.InvalidInputError, match=r"junk\.parquet"):
        toolkit.export_sources(fresh_session, target, batch=20, progress=False)
    junk.unlink()
    # an altered part: one row dropped
    table = pq.read_table(parts[0])
    pq.write_table(table.slice(1), parts[0])
    with pytest.raises(toolkit.InvalidInputError, match="1 part altered"):
        toolkit.read_dataset(target)
    info = toolkit.export_sources(fresh_session, target, batch=20, progress=False)
    assert info.windows_repaired == 1
    assert _ids(toolkit.read_dataset(target)) == _ids(full)


def test_a_damaged_checkpoint_is_a_clear_error(fresh_session: Session, tmp_path: Path) -> None:
    target = tmp_path / "ds"
    toolkit.export_sources(fresh_session, target, progress=False)
    path = target / CHECKPOINT
    good = path.read_text()
    edits = {
        "cut short": good[: len(good) // 2],
        "not an object": "[]",
        "older version": json.dumps({**json.loads(good), "version": 1}),
        "done edited": json.dumps({**json.loads(good), "done": {"self": "all"}}),
        "a part outside": json.dumps(
            {**json.loads(good), "parts": {"../../etc/passwd": {"rows": 1, "bytes": 1}}}
        ),
        "rows edited": json.dumps(
            {
                **json.loads(good),
                "parts": {"account=self/month=2026-01/w0000-b0000.parquet": {"rows": "x"}},
            }
        ),
    }
    for what, text in edits.items():
        path.write_text(text)
        for attempt in (
            lambda: toolkit.read_dataset(target),
            lambda: toolkit.export_sources(fresh_session, target, progress=False),
        ):
            said = r"another version" if what == "older version" else r"damaged"
            with pytest.raises(toolkit.InvalidInputError, match=said + r".*replace=True") as caught:
                attempt()
            assert "Traceback" not in str(caught.value), what
    info = toolkit.export_sources(fresh_session, target, replace=True, progress=False)
    assert len(toolkit.read_dataset(target)) == info.sources > 0


def test_an_account_that_fails_midway_is_left_out_whole(tmp_path: Path) -> None:
    from toolkit.session import connect

    with Sandbox(seed=11, customers=60) as box:
        session = connect("sk_test_" + "T3st" * 6, api_base=box.url, rate_limit=1000, quiet=True)
        victim = sorted(box.connected_accounts)[0]
        alone = toolkit.load_sources(session.for_account(victim), progress=False)
        # the victim's newest customer with more than one page of sources fails for good
        many = alone["customer"].value_counts()
        customer = str(alone[alone["customer"].isin(many[many > 10].index)]["customer"].iloc[0])
        box.set_faults(error_rate=1.0, fault_path=f"^/v1/customers/{customer}/sources")
        with pytest.warns(toolkit.AccountWarning, match=victim):
            info = toolkit.export_sources(
                session, tmp_path / "ds", accounts="all", batch=10, progress=False
            )
        assert [r["account"] for r in info.refused_accounts] == [victim]
        back = toolkit.read_dataset(tmp_path / "ds")
        assert victim not in set(back["account"])  # refused means absent
        assert not (tmp_path / "ds" / f"account={victim}").exists()
        with pytest.warns(toolkit.AccountWarning, match=victim):
            loaded = toolkit.load_sources(session, accounts="all", progress=False)
        assert victim not in set(loaded["account"])
        # once the account answers again, the same export reads it (and only it)
        box.faults_off()
        with warnings.catch_warnings():
            warnings.simplefilter("error", toolkit.AccountWarning)
            again = toolkit.export_sources(
                session, tmp_path / "ds", accounts="all", batch=10, progress=False
            )
            full = toolkit.load_sources(
                session, accounts="all", progress=False, metadata_columns=False
            )
        assert again.sources == len(alone) and not again.refused_accounts
        back = toolkit.read_dataset(tmp_path / "ds")
        assert set(zip(back["id"], back["account"], strict=True)) == set(
            zip(full["id"], full["account"], strict=True)
        )
        assert back["id"].is_unique


def test_read_dataset_of_an_empty_or_a_foreign_folder(
    fresh_session: Session, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(toolkit.InvalidInputError, match=r"No dataset .*empty"):
        toolkit.read_dataset(empty)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(toolkit.InvalidInputError, match="not a dataset"):
        toolkit.read_dataset(junk)
    with pytest.raises(toolkit.InvalidInputError, match=r"did not write .*notes\.txt"):
        toolkit.export_sources(fresh_session, junk, progress=False)
    assert sorted(p.name for p in junk.iterdir()) == ["notes.txt"]  # left as it was
    a_file = tmp_path / "a.parquet"
    a_file.write_bytes(b"x")
    with pytest.raises(toolkit.InvalidInputError, match="No dataset"):
        toolkit.read_dataset(a_file)
    with pytest.raises(toolkit.InvalidInputError, match="is a file"):
        toolkit.export_sources(fresh_session, a_file, progress=False)


def test_accounts_of_the_wrong_kind(fresh_session: Session, tmp_path: Path) -> None:
    for accounts in (123, 1.5, {"acct_1Aaaaaaaaaa": 1}, [123], [], b"all"):
        with pytest.raises(toolkit.InvalidInputError, match="accounts must be"):
            toolkit.load_sources(fresh_session, accounts=accounts, progress=False)  # type: ignore[arg-type]
        with pytest.raises(toolkit.InvalidInputError, match="accounts must be"):
            toolkit.export_sources(
                fresh_session,
                tmp_path / "ds",
                accounts=accounts,  # type: ignore[arg-type]
                progress=False,
            )
    assert not (tmp_path / "ds").exists()  # refused before anything was written


def test_system_folders_are_refused(
    fresh_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(toolkit.InvalidInputError, match="system folder"):
        toolkit.export_sources(fresh_session, home, progress=False)
    assert not any(home.iterdir())
    from toolkit.fetch.dataset_folder import dataset_target  # (never tried for real: "/")

    for system in ("/", "/usr", "/etc", str(home), str(tmp_path), "~"):
        with pytest.raises(toolkit.InvalidInputError, match="system folder"):
            dataset_target(system)


def test_an_unreadable_part_is_a_clear_error(
    fresh_session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ds"
    toolkit.export_sources(fresh_session, target, progress=False)

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(_parts(target)[0]))

    monkeypatch.setattr(dataset_module.pads, "dataset", denied)  # type: ignore[attr-defined]  # as pyarrow says it
    with pytest.raises(toolkit.InvalidInputError, match="read access"):
        toolkit.read_dataset(target)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_part_on_disk(fresh_session: Session, tmp_path: Path) -> None:
    target = tmp_path / "ds"
    toolkit.export_sources(fresh_session, target, progress=False)
    part = _parts(target)[0]
    part.chmod(0)
    try:
        with pytest.raises(toolkit.InvalidInputError, match="read access"):
            toolkit.read_dataset(target)
    finally:
        part.chmod(0o600)
