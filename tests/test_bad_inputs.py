"""Every bad input answered (issue 22): a mistake a user can make gives a toolkit error whose
message names the fix; never a raw exception, a traceback from the CLI, or a silently wrong answer.

One table, :data:`CASES`. Each case is a label, a call taking the test's :class:`Ctx` (a tmp
folder, ``monkeypatch``, and on first use the shared sandbox's session and sources), what is
expected, and a fragment of the message that names the fix. What is expected is one of:

- a :class:`toolkit.ToolkitError` class: the call raises it (and nothing else);
- an ``int``: the call runs the CLI, which exits with that code and says so on stderr in one
  ``error:`` (or argparse ``usage``) line, without a traceback;
- :data:`SHOWN`: the call returns the text a widget shows, which holds the fragment.

Every wing's cases are here: outputs, parsing, input files, datasets, refresh, journals, plan
files, the read allowance, widgets and the sandbox's own helpers.

Tally (how many cases, by what is expected)::

    .venv/bin/python -c "from tests.test_bad_inputs import tally; print(tally())"
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import toolkit
from toolkit.cli import main
from toolkit.cli.output import OUTPUT, USAGE
from toolkit.errors import InvalidInputError, NotFoundError, OutputError
from toolkit.fetch.inputs import to_epoch, to_time
from toolkit.private_files import output_error

#: Expected of a case whose call returns the text a widget shows.
SHOWN = "shown"
DISK_FULL = "disk is full"


class FullDiskFile:
    """A file on a full disk: every write fails with ENOSPC, as the kernel says it."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def write(self, data: Any) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.handle)

    def __enter__(self) -> FullDiskFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


@dataclass
class Ctx:
    """What a case may use: ``tmp`` (empty), ``monkeypatch``, the sandbox session on first use."""

    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    request: pytest.FixtureRequest

    @property
    def session(self) -> toolkit.Session:
        return self.request.getfixturevalue("session")

    @property
    def sandbox(self) -> Any:
        return self.request.getfixturevalue("sandbox")

    @property
    def sources(self) -> pd.DataFrame:
        return self.request.getfixturevalue("some_sources")

    @property
    def out(self) -> Path:
        """The folder outputs go to: it must hold no file after a failed write."""
        return self.tmp / "out"

    def folder(self, name: str) -> Path:
        """An existing folder, where a file is expected."""
        path = self.out / name
        path.mkdir(parents=True)
        return path

    def file(self, name: str, content: str | bytes) -> Path:
        path = self.tmp / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    def full_disk(self) -> None:
        """From now on the disk is full: every file the toolkit writes fails with ENOSPC."""
        real = os.fdopen

        def fdopen(fd: int, *args: Any, **kwargs: Any) -> FullDiskFile:
            return FullDiskFile(real(fd, *args, **kwargs))

        self.monkeypatch.setattr(os, "fdopen", fdopen)

    def _deny(self, where: Path, *, writes: bool) -> None:
        """Opening under ``where`` fails with EACCES (for root too: it reads and writes all)."""
        real = os.open
        where = where.resolve()

        def deny(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
            writing = flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            target = Path(os.fsdecode(path)).resolve()
            if (writing or not writes) and target.is_relative_to(where):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real(path, flags, *args, **kwargs)

        self.monkeypatch.setattr(os, "open", deny)

    def unwritable(self, name: str) -> Path:
        """A folder this user may not write in."""
        path = self.folder(name)
        path.chmod(0o500)
        self._deny(path, writes=True)
        return path

    def unreadable(self, path: Path) -> Path:
        """``path``, which this user may not read."""
        path.chmod(0)
        self._deny(path, writes=False)
        return path

    def cli(self, *argv: str) -> int:
        """Run ``python -m toolkit ARGV`` in ``tmp`` against the shared sandbox; its exit code."""
        self.monkeypatch.chdir(self.tmp)
        self.monkeypatch.delenv("STRIPE_API_KEY", raising=False)
        self.monkeypatch.setenv("STRIPE_API_BASE", self.sandbox.url)
        try:
            return main(list(argv))
        except SystemExit as exc:  # argparse's usage errors
            return int(exc.code or 0)


@dataclass(frozen=True)
class Case:
    label: str
    call: Callable[[Ctx], Any]
    expect: type[toolkit.ToolkitError] | int | str
    fix: str


def _full(ctx: Ctx, then: Callable[[Ctx], Any]) -> Any:
    ctx.full_disk()
    return then(ctx)


def _plan() -> toolkit.Plan:
    return toolkit.plan_metadata(["src_1abc"], set={"team": "ar"})


def _plain_parquet(ctx: Ctx) -> Path:
    path = ctx.tmp / "in" / "plain.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"id": ["src_1abc"], "n": [1]}).to_parquet(path)
    return path


def _explorer_shows(ctx: Ctx, start: str) -> str:
    from toolkit.widgets import SourceExplorer

    explorer = SourceExplorer(ctx.sources)
    explorer.created_from.value = start
    return explorer.error.value


def _stale_taken_at(ctx: Ctx) -> pd.DataFrame:
    """The sources frame with its LoadInfo edited: taken "yesterday"."""
    frame = ctx.sources.copy()
    info = toolkit.LoadInfo.from_attrs(ctx.sources)
    assert info is not None
    frame.attrs = {"toolkit": {**info.to_attrs(), "taken_at": "yesterday"}}
    return frame


def _dataset(ctx: Ctx, checkpoint: str) -> Path:
    """A finished export of the shared sandbox, its checkpoint then replaced by ``checkpoint``."""
    folder = ctx.tmp / "in" / "ds"
    toolkit.export_sources(ctx.session, folder, progress=False)
    (folder / "_checkpoint.json").write_text(checkpoint, encoding="utf-8")
    return folder


def _junk_folder(ctx: Ctx) -> Path:
    ctx.file("notes.txt", "not a dataset")
    return ctx.tmp / "in"


def _snapshot(ctx: Ctx) -> Path:
    return toolkit.save_snapshot(ctx.sources.head(3), ctx.tmp / "in" / "snap.parquet")


CASES: list[Case] = [
    # -- item 10: a full disk, for every writer other than the journal --------------------------
    Case("full disk: save_snapshot",
         lambda c: _full(c, lambda c: toolkit.save_snapshot(c.sources, c.out / "s.parquet")),
         OutputError, DISK_FULL),
    Case("full disk: write_sources_csv",
         lambda c: _full(c, lambda c: toolkit.write_sources_csv(c.sources, c.out / "s.csv")),
         OutputError, DISK_FULL),
    Case("full disk: save_ids",
         lambda c: _full(c, lambda c: toolkit.save_ids(["src_1abc"], c.out / "ids.csv")),
         OutputError, DISK_FULL),
    Case("full disk: export_sources",
         lambda c: _full(c, lambda c: toolkit.export_sources(c.session, c.out / "ds", progress=False)),
         OutputError, DISK_FULL),
    Case("full disk: save_plan",
         lambda c: _full(c, lambda c: toolkit.save_plan(_plan(), c.out / "plan.json")),
         OutputError, DISK_FULL),
    Case("full disk: Audit.to_excel",
         lambda c: _full(c, lambda c: toolkit.audit_receivers(c.sources).to_excel(c.out / "a.xlsx")),
         OutputError, DISK_FULL),
    Case("full disk: Audit.to_csv",
         lambda c: _full(c, lambda c: toolkit.audit_receivers(c.sources).to_csv(c.out / "audit")),
         OutputError, DISK_FULL),
    Case("full disk: CLI export",
         lambda c: _full(c, lambda c: c.cli("export", "--out", str(c.out / "s.parquet"), "--quiet")),
         OUTPUT, DISK_FULL),
    # -- unwritable output paths: the same error -----------------------------------------------
    Case("no permission: save_snapshot",
         lambda c: toolkit.save_snapshot(c.sources, c.unwritable("locked") / "s.parquet"),
         OutputError, "permission"),
    Case("no permission: Audit.to_excel",
         lambda c: toolkit.audit_receivers(c.sources).to_excel(c.unwritable("locked") / "a.xlsx"),
         OutputError, "permission"),
    Case("no permission: CLI export",
         lambda c: c.cli("export", "--out", str(c.unwritable("locked") / "s.csv"), "--quiet"),
         OUTPUT, "permission"),
    Case("a folder as the file: save_snapshot",
         lambda c: toolkit.save_snapshot(c.sources, c.folder("s.parquet")),
         OutputError, "is a folder"),
    Case("a folder as the file: write_sources_csv",
         lambda c: toolkit.write_sources_csv(c.sources, c.folder("s.csv")),
         OutputError, "is a folder"),
    Case("a folder as the file: save_ids",
         lambda c: toolkit.save_ids(["src_1abc"], c.folder("ids.csv")),
         OutputError, "is a folder"),
    Case("a folder as the file: save_plan",
         lambda c: toolkit.save_plan(_plan(), c.folder("plan.json")),
         OutputError, "is a folder"),
    Case("a folder as the file: Audit.to_excel",
         lambda c: toolkit.audit_receivers(c.sources).to_excel(c.folder("a.xlsx")),
         OutputError, "is a folder"),
    Case("a parent that cannot be made: save_snapshot",
         lambda c: toolkit.save_snapshot(c.sources, c.file("a-file", "x") / "s.parquet"),
         OutputError, "not a folder"),
    Case("a parent that cannot be made: CLI export",
         lambda c: c.cli("export", "--out", str(c.file("a-file", "x") / "s.csv"), "--quiet"),
         OUTPUT, "not a folder"),
    # -- item 14: loose parsing ----------------------------------------------------------------
    Case("metadata_columns='no'",
         lambda c: toolkit.load_sources(c.session, metadata_columns="no", progress=False),  # type: ignore[arg-type]
         InvalidInputError, "True or False"),
    Case("has_unapplied='no'",
         lambda c: toolkit.filter_sources(c.sources, has_unapplied="no"),  # type: ignore[arg-type]
         InvalidInputError, "True, False or None"),
    Case("dry_run_notice('False')",
         lambda c: toolkit.dry_run_notice("False", "acct_1 (test)"),  # type: ignore[arg-type]
         InvalidInputError, "parse_flag"),
    Case("load_sources created=('01/02/2026', None)",
         lambda c: toolkit.load_sources(c.session, created=("01/02/2026", None), progress=False),
         InvalidInputError, "YYYY-MM-DD"),
    Case("filter_sources created=('01/02/2026', None)",
         lambda c: toolkit.filter_sources(c.sources, created=("01/02/2026", None)),
         InvalidInputError, "YYYY-MM-DD"),
    Case("filter_sources created=(None, '2026/02/01')",
         lambda c: toolkit.filter_sources(c.sources, created=(None, "2026/02/01")),
         InvalidInputError, "YYYY-MM-DD"),
    Case("audit_receivers as_of='01/02/2026'",
         lambda c: toolkit.audit_receivers(c.sources, as_of="01/02/2026"),
         InvalidInputError, "YYYY-MM-DD"),
    Case("CLI export --created-from 01/02/2026",
         lambda c: c.cli("export", "--out", str(c.out / "s.parquet"), "--quiet",
                         "--created-from", "01/02/2026"),
         USAGE, "YYYY-MM-DD"),
    Case("explorer Created ≥ 01/02/2026",
         lambda c: _explorer_shows(c, "01/02/2026"),
         SHOWN, "YYYY-MM-DD"),
    Case("load_sources created=(nan, None)",
         lambda c: toolkit.load_sources(c.session, created=(float("nan"), None), progress=False),
         InvalidInputError, "None for an open end"),
    Case("filter_sources created=(nan, None)",
         lambda c: toolkit.filter_sources(c.sources, created=(float("nan"), None)),
         InvalidInputError, "None for an open end"),
    Case("minor_to_major(100, 'xyz')",
         lambda c: toolkit.minor_to_major(100, "xyz"),
         InvalidInputError, "ISO 4217"),
    Case("format_money(100, 'xyz')",
         lambda c: toolkit.format_money(100, "xyz"),
         InvalidInputError, "ISO 4217"),
    Case("filter_sources statuses=['nope']",
         lambda c: toolkit.filter_sources(c.sources, statuses=["nope"]),
         InvalidInputError, "chargeable"),
    Case("filter_sources types=['ach_credit_tranfer']",
         lambda c: toolkit.filter_sources(c.sources, types=["ach_credit_tranfer"]),
         InvalidInputError, "ach_credit_transfer"),
    Case("filter_sources currencies=['xyz']",
         lambda c: toolkit.filter_sources(c.sources, currencies=["xyz"]),
         InvalidInputError, "usd"),
    Case("filter_sources types=123",
         lambda c: toolkit.filter_sources(c.sources, types=123),  # type: ignore[arg-type]
         InvalidInputError, "list"),
    Case("load_snapshot of a Parquet file that is no snapshot",
         lambda c: toolkit.load_snapshot(_plain_parquet(c)),
         InvalidInputError, "save_snapshot"),
    # -- the remaining bad inputs --------------------------------------------------------------
    Case("a folder as the table: plan_metadata_from_table",
         lambda c: toolkit.plan_metadata_from_table(c.folder("changes.csv")),
         InvalidInputError, "is a folder"),
    Case("a folder as the table: CLI plan --table",
         lambda c: c.cli("plan", "metadata", "--table", str(c.folder("changes.csv"))),
         USAGE, "is a folder"),
    Case("a folder as the id file: read_ids",
         lambda c: toolkit.read_ids(c.folder("ids.csv")),
         InvalidInputError, "is a folder"),
    Case("an empty id file: read_ids (.csv)",
         lambda c: toolkit.read_ids(c.file("ids.csv", "")),
         InvalidInputError, "no source ids"),
    Case("an empty id file: read_ids (.txt)",
         lambda c: toolkit.read_ids(c.file("ids.txt", "")),
         InvalidInputError, "no source ids"),
    Case("a binary id file: read_ids (.txt)",
         lambda c: toolkit.read_ids(c.file("ids.txt", b"\x89PNG\r\n\x1a\n\x00\xff")),
         InvalidInputError, "UTF-8"),
    Case("a binary id file: read_ids (.csv)",
         lambda c: toolkit.read_ids(c.file("ids.csv", b"\x89PNG\r\n\x1a\n\x00\xff")),
         InvalidInputError, "UTF-8"),
    Case("a binary id file: CLI export --ids-file",
         lambda c: c.cli("export", "--out", str(c.out / "s.parquet"), "--quiet",
                         "--ids-file", str(c.file("ids.txt", b"\x00\xff\xfe"))),
         USAGE, "UTF-8"),
    Case("an unreadable table",
         lambda c: toolkit.plan_metadata_from_table(c.unreadable(c.file("t.csv", "id,a\nsrc_1,x\n"))),
         InvalidInputError, "permission"),
    Case("an unreadable id file",
         lambda c: toolkit.read_ids(c.unreadable(c.file("ids.txt", "src_1abc\n"))),
         InvalidInputError, "permission"),
    Case("an unreadable snapshot",
         lambda c: toolkit.load_snapshot(c.unreadable(_snapshot(c))),
         InvalidInputError, "permission"),
    Case("a lone surrogate in an id: load_sources",
         lambda c: toolkit.load_sources(c.session, ids=["src_\ud800"], progress=False),
         InvalidInputError, "copy the id again"),
    Case("a lone surrogate in an id: save_ids",
         lambda c: toolkit.save_ids(["src_\ud800"], c.out / "ids.csv"),
         InvalidInputError, "copy the id again"),
    Case("show(None)",
         lambda c: toolkit.show(None),
         InvalidInputError, "DataFrame"),
    Case("sandbox --port -1",
         lambda c: c.cli("sandbox", "--port", "-1"),
         USAGE, "between 0 and 65535"),
    Case("sandbox --port 70000",
         lambda c: c.cli("sandbox", "--port", "70000"),
         USAGE, "between 0 and 65535"),
    Case("box.deposit of an unknown id",
         lambda c: c.sandbox.deposit("src_nope", 100),
         NotFoundError, "src_nope"),
    Case("box.bank_transfer to an unknown customer",
         lambda c: c.sandbox.bank_transfer("cus_nope", 100),
         NotFoundError, "cus_nope"),
    Case("box.migrate_customer of an unknown customer",
         lambda c: c.sandbox.migrate_customer("cus_nope"),
         NotFoundError, "cus_nope"),
    Case("SourceExplorer(None)",
         lambda c: __import__("toolkit.widgets").widgets.SourceExplorer(None),
         InvalidInputError, "needs a Session"),
    # -- datasets ------------------------------------------------------------------------------
    Case("read_dataset of an empty folder",
         lambda c: toolkit.read_dataset(c.folder("empty")),
         InvalidInputError, "export one with toolkit.export_sources"),
    Case("read_dataset of a folder that is no dataset",
         lambda c: toolkit.read_dataset(_junk_folder(c)),
         InvalidInputError, "not a dataset"),
    Case("read_dataset with a damaged checkpoint",
         lambda c: toolkit.read_dataset(_dataset(c, "{broken")),
         InvalidInputError, "replace=True"),
    Case("load_sources accounts=123",
         lambda c: toolkit.load_sources(c.session, accounts=123, progress=False),  # type: ignore[arg-type]
         InvalidInputError, "'all', a list of connected account ids"),
    Case("export_sources accounts=123",
         lambda c: toolkit.export_sources(c.session, c.out / "ds", accounts=123, progress=False),  # type: ignore[arg-type]
         InvalidInputError, "'all', a list of connected account ids"),
    # -- refresh -------------------------------------------------------------------------------
    Case("refresh of a list",
         lambda c: toolkit.refresh([1, 2], c.session, progress=False),
         InvalidInputError, "sources frame from toolkit.load_sources"),
    Case("refresh of a frame taken 'yesterday'",
         lambda c: toolkit.refresh(_stale_taken_at(c), c.session, progress=False),
         InvalidInputError, "ISO 8601"),
    # -- journals and plan files ---------------------------------------------------------------
    Case("apply journal= a user's CSV",
         lambda c: toolkit.apply(_plan(), c.session, journal=c.file("user.csv", "a,b\n1,2\n"),
                                 progress=False),
         InvalidInputError, "is not a journal"),
    Case("apply journal= a .jsonl that is no journal",
         lambda c: toolkit.apply(_plan(), c.session, journal=c.file("user.jsonl", '{"a": 1}\n'),
                                 progress=False),
         InvalidInputError, "nothing is appended"),
    Case("undo of a CSV",
         lambda c: toolkit.undo(c.file("user.csv", "a,b\n1,2\n"), c.session, progress=False),
         InvalidInputError, "not a journal"),
    Case("read_plan of a CSV",
         lambda c: toolkit.read_plan(c.file("user.csv", "a,b\n1,2\n")),
         InvalidInputError, "not a plan file"),
    # -- the read allowance --------------------------------------------------------------------
    Case("connect read_allowance='lots'",
         lambda c: toolkit.connect(api_base=c.sandbox.url, read_allowance="lots", quiet=True),
         toolkit.ConfigurationError, "None for no limit"),
    # -- amount, mandate, source_order and mixed updates (issue 25) ------------------------------
    Case("plan_amount with no amount",
         lambda c: toolkit.plan_amount(["src_1abc"]),
         InvalidInputError, "exactly one of amount="),
    Case("plan_amount amount='ten'",
         lambda c: toolkit.plan_amount(["src_1abc"], "ten"),
         InvalidInputError, "not a whole number"),
    Case("plan_amount amount_major='12,50'",
         lambda c: toolkit.plan_amount(["src_1abc"], amount_major="12,50"),
         InvalidInputError, "a number like '12.50'"),
    Case("plan_mandate status 'yes'",
         lambda c: toolkit.plan_mandate(["src_1abc"], {"acceptance.status": "yes"}),
         InvalidInputError, "must be one of accepted, pending, refused, revoked"),
    Case("plan_mandate offline without a contact email",
         lambda c: toolkit.plan_mandate(["src_1abc"], {"acceptance": {
             "status": "accepted", "date": 1, "type": "offline"}}),
         InvalidInputError, "mandate[acceptance][offline][contact_email] is required"),
    Case("plan_mandate date 'tomorrow'",
         lambda c: toolkit.plan_mandate(["src_1abc"], {"acceptance.status": "accepted",
                                                       "acceptance.date": "tomorrow"}),
         InvalidInputError, "a date like 2026-12-01"),
    Case("plan_mandate of a list",
         lambda c: toolkit.plan_mandate(["src_1abc"], ["accepted"]),  # type: ignore[arg-type]
         InvalidInputError, "{'acceptance.status': 'accepted'}"),
    Case("plan_source_order with an unknown field",
         lambda c: toolkit.plan_source_order(["src_1abc"], {"shipping.courier": "DHL"}),
         InvalidInputError, "shipping.carrier"),
    Case("plan_source_order items that are not JSON",
         lambda c: toolkit.plan_source_order(["src_1abc"], {"items": "two hats"}),
         InvalidInputError, "JSON list"),
    Case("plan_mandate_from_table with an unknown column",
         lambda c: toolkit.plan_mandate_from_table(c.file("m.csv", "id,mandate.colour\nsrc_1,x\n")),
         InvalidInputError, "mandate.acceptance.status"),
    Case("plan_amount_from_table with an unknown column",
         lambda c: toolkit.plan_amount_from_table(c.file("a.csv", "id,amt\nsrc_1,5\n")),
         InvalidInputError, "amount, amount_major"),
    Case("plan_update with an unknown column",
         lambda c: toolkit.plan_update(c.file("u.csv", "id,owner.colour\nsrc_1,x\n")),
         InvalidInputError, "owner.address.city"),
    Case("plan_update of a folder",
         lambda c: toolkit.plan_update(c.folder("changes.csv")),
         InvalidInputError, "is a folder"),
    Case("CLI plan update with an unknown column",
         lambda c: c.cli("plan", "update", "--table", str(c.file("u.csv", "id,colour\nsrc_1,x\n"))),
         USAGE, "metadata.<key>"),
]  # fmt: skip


def tally() -> dict[str, int]:
    """How many cases, in all and by what is expected (an error class, an exit code, shown)."""
    kinds = Counter(
        c.expect.__name__ if isinstance(c.expect, type) else f"exit {c.expect}"
        if isinstance(c.expect, int) else c.expect
        for c in CASES
    )  # fmt: skip
    return {"cases": len(CASES), **dict(sorted(kinds.items()))}


@pytest.fixture(scope="module")
def some_sources(session: toolkit.Session) -> pd.DataFrame:
    """The shared sandbox's sources (read only)."""
    return toolkit.load_sources(session, progress=False)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_every_bad_input_is_answered(
    case: Case,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctx = Ctx(tmp_path, monkeypatch, request)
    if isinstance(case.expect, type):
        with pytest.raises(toolkit.ToolkitError) as info:
            case.call(ctx)
        assert type(info.value) is case.expect, repr(info.value)
        assert case.fix in str(info.value), str(info.value)
    elif isinstance(case.expect, int):
        code = case.call(ctx)
        err = capsys.readouterr().err
        assert code == case.expect, err
        assert "Traceback" not in err
        last = err.strip().splitlines()[-1]
        assert last.startswith(("error:", "usage:", "python -m toolkit")) or "error:" in last, err
        assert case.fix in last, err
    else:
        shown = case.call(ctx)
        assert case.fix in shown, shown
    if ctx.out.exists():  # nothing half-written is left behind
        # an export's empty lock file stays by design (filelock: deleting it would race)
        left = [
            p
            for p in ctx.out.rglob("*")
            if p.is_file() and not (p.name == "_export.lock" and p.stat().st_size == 0)
        ]
        assert not left, left


def test_the_table_has_a_case_for_every_writer() -> None:
    assert tally()["cases"] == len(CASES) >= 50
    writers = {c.label.split(": ", 1)[1] for c in CASES if c.label.startswith("full disk: ")}
    assert {"save_snapshot", "write_sources_csv", "export_sources", "save_plan"} <= writers
    assert {"Audit.to_excel", "CLI export"} <= writers


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-31",
        " 2026-01-31 ",
        "2026-01-31T00:00",
        "2026-01-31 00:00:00",
        "2026-01-31T00:00:00Z",
        "2026-01-31t00:00:00z",
        "2026-01-31T01:00:00+01:00",
        "2026-01-31T00:00:00.000000000Z",
        "1769817600",
        1769817600,
        1769817600.0,
        dt.date(2026, 1, 31),
        dt.datetime(2026, 1, 31),
        dt.datetime(2026, 1, 31, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        pd.Timestamp("2026-01-31", tz="UTC"),
        np.datetime64("2026-01-31T00:00:00"),
    ],
)
def test_every_good_time_is_still_read(value: Any) -> None:
    """The stricter rule refuses guesses only: every form a time is documented in still reads."""
    assert to_time(value, "when") == pd.Timestamp("2026-01-31", tz="UTC")
    assert to_epoch(value, "start") == 1769817600


def test_an_output_error_is_one_line_with_the_system_reason() -> None:
    error = output_error("exports/a.csv", OSError(errno.ENOSPC, "No space left on device"))
    assert isinstance(error, OSError) and error.errno == errno.ENOSPC
    assert str(error).startswith("Could not write exports/a.csv: the disk is full")
    assert "\n" not in str(error) and "[Errno" not in str(error)
