"""One rule for every money column of every file the toolkit writes for people (issue 28 item 1):
a money column is in the currency's major unit (in a workbook: with a money number format), or
it is named ``*_minor``. The workbooks' covers say so; a spreadsheet user cannot tell cents from
dollars any other way.

The files: the receiver audit (workbook and CSV folder), the retirement audit (workbook and CSV
folder), the sources CSV (runbook 01, the explorer's export, ``export --out x.csv``) and the plan
CSVs. Parquet snapshots and datasets are not here: they are the sources frame itself (reloaded by
``load_snapshot`` / ``read_dataset``), documented as minor units, not a file for spreadsheets.

Which columns are money is decided by name here (independently of the writers' own naming) and
every value is checked against the amount in the table that was written, whatever the writer
called it.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

import toolkit
from tests.audit.audit_frames import receiver, sources_frame, txn, txn_frame
from toolkit.audit.migration.export import MIGRATION_SHEETS
from toolkit.audit.migration.load import run_migration_audit
from toolkit.audit.receivers.export import SHEET_NAMES
from toolkit.money import currency_exponent

#: A column (its name without ``_minor``) that holds money.
MONEY_NAME = re.compile(
    r"amount|received|charged|returned|unapplied|_total$|available|money|balances$"
)
#: Columns whose names look like money but hold days, times, flags or id lists.
NOT_MONEY = re.compile(r"(_days|_at|_sources)$|^has_|^metadata\.")
#: The Summary items that are money: "Unapplied (USD)".
MONEY_ITEM = re.compile(r"^(?P<what>[A-Z][a-z]+) \((?P<currency>[A-Z]{3})\)$")


def is_money(name: str) -> bool:
    base = name.removesuffix("_minor")
    return bool(MONEY_NAME.search(base)) and not NOT_MONEY.search(base)


def _blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and pd.isna(value))


def minor_amounts(table: pd.DataFrame, name: str) -> list[int | None]:
    """The amounts (minor units) of the written table behind the exported column ``name``."""
    base = name.removesuffix("_minor")
    currencies = table["currency"].tolist()
    if f"{base}_major" in table.columns and base not in table.columns:
        majors = table[f"{base}_major"].tolist()
        return [
            None if _blank(m) else int(Decimal(str(m)).scaleb(currency_exponent(str(c))))
            for m, c in zip(majors, currencies, strict=True)
        ]
    assert base in table.columns, f"{name}: no column {base} in the table written"
    return [None if pd.isna(v) else int(v) for v in table[base].tolist()]


def expected(table: pd.DataFrame, name: str) -> list[Decimal | int | None]:
    """What the column ``name`` must hold: minor units if ``_minor``, else major units."""
    out: list[Decimal | int | None] = []
    for amount, currency in zip(minor_amounts(table, name), table["currency"], strict=True):
        if amount is None or not isinstance(currency, str) or not currency:
            out.append(None)
        elif name.endswith("_minor"):
            out.append(amount)
        else:
            out.append(Decimal(amount).scaleb(-currency_exponent(currency)))
    return out


def check_values(where: str, name: str, got: list[Any], want: list[Any]) -> None:
    assert len(got) == len(want), f"{where} {name}: {len(got)} rows, {len(want)} expected"
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        if w is None:
            continue  # no currency: nothing to say about the unit
        assert not _blank(g), f"{where} {name} row {i + 2}: blank, expected {w}"
        assert Decimal(str(g)) == w, (
            f"{where} {name} row {i + 2}: {g!r}, expected {w} "
            f"({'minor' if name.endswith('_minor') else 'major'} units)"
        )


def check_csv(path: Path, table: pd.DataFrame) -> int:
    """Every money column of one CSV file; returns how many were checked."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    checked = 0
    if header == ["item", "value"]:
        return check_summary_csv(path, body, table)
    for j, name in enumerate(header):
        if not is_money(name):
            continue
        check_values(path.name, name, [r[j] for r in body], expected(table, name))
        checked += 1
    return checked


def check_summary_csv(path: Path, body: list[list[str]], by_currency: pd.DataFrame) -> int:
    checked = 0
    for item, value in body:
        match = MONEY_ITEM.match(item)
        if match is None:
            continue
        row = by_currency[by_currency["currency"] == match["currency"].lower()]
        want = row[f"{match['what'].lower()}_major"].iloc[0]
        assert Decimal(value) == Decimal(str(want)), f"{path.name} {item}: {value!r}"
        checked += 1
    return checked


def _money_format(fmt: str, currency: str) -> bool:
    return f'"{currency.upper()}"' in fmt


def check_sheet(where: str, ws: Any, table: pd.DataFrame) -> int:
    """Every money column of a sheet holding one table from row 1."""
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2, max_row=1 + len(table)))
    checked = 0
    for j, name in enumerate(header):
        if name is None or not is_money(str(name)):
            continue
        cells = [r[j] for r in rows]
        check_values(f"{where}", str(name), [c.value for c in cells], expected(table, str(name)))
        for cell, currency in zip(cells, table["currency"], strict=True):
            if _blank(cell.value) or not isinstance(currency, str) or not currency:
                continue
            if str(name).endswith("_minor"):
                assert cell.number_format in ("#,##0", "General", "0"), (where, name)
            else:
                assert _money_format(cell.number_format, currency), (
                    f"{where} {cell.coordinate} ({name}): format {cell.number_format!r} is "
                    f"not a {currency.upper()} money format"
                )
        checked += 1
    return checked


def check_summary_sheet(where: str, ws: Any) -> int:
    checked = 0
    for item, value in ws.iter_rows(min_row=2, max_col=2):
        match = MONEY_ITEM.match(str(item.value))
        if match is None:
            continue
        assert isinstance(value.value, int | float), f"{where} {item.value}: {value.value!r}"
        assert _money_format(value.number_format, match["currency"]), (where, item.value)
        checked += 1
    return checked


def check_cover(where: str, ws: Any) -> int:
    """The cover's tables: every number under a money heading has a money format."""
    checked = 0
    for table in ws.tables.values():
        (first, last) = table.ref.split(":")
        cells = list(ws[first:last])
        header = [c.value for c in cells[0]]
        currency_col = header.index("currency") if "currency" in header else None
        for j, name in enumerate(header):
            if not is_money(str(name)) or str(name).endswith("_minor"):
                continue
            for row in cells[1:]:
                cell = row[j]
                if isinstance(cell.value, int | float) and currency_col is not None:
                    currency = str(row[currency_col].value)
                    assert _money_format(cell.number_format, currency), (where, name)
                    checked += 1
    return checked


def check_workbook(path: Path, tables: dict[str, pd.DataFrame], sheets: dict[str, str]) -> int:
    book = openpyxl.load_workbook(path)
    checked = check_cover(f"{path.name} Cover", book["Cover"])
    for name, table in tables.items():
        ws = book[sheets[name]]
        where = f"{path.name} {ws.title}"
        if name == "summary":
            checked += check_summary_sheet(where, ws)
        else:
            checked += check_sheet(where, ws, table)
    return checked


@pytest.fixture(scope="module")
def written(session, tmp_path_factory) -> dict[str, Any]:
    """Every file the toolkit writes for people, from the seeded sandbox and a hand-built audit
    with transactions of unknown sources (the Unmatched transactions sheet) and 0- and
    3-decimal currencies."""
    folder = tmp_path_factory.mktemp("money")
    sources = toolkit.load_sources(session, progress=False)
    receivers = sources[sources["flow"] == "receiver"]
    txns = toolkit.load_source_transactions(session, receivers, progress=False)
    audit = toolkit.audit_receivers(sources, txns)
    assert (audit.sources["reversals_total"].fillna(0) != 0).any(), "the seed has reversals"
    hand = toolkit.audit_receivers(
        sources_frame(
            [
                receiver("src_usd", received=90400, charged=0),
                receiver("src_jpy", received=1500, charged=500, currency="jpy"),
                receiver("src_kwd", received=12345, currency="kwd", customer="cus_K"),
            ]
        ),
        txn_frame(
            [
                txn("t1", "src_usd", 95725),
                txn("t2", "src_usd", -5325),
                txn("t3", "src_jpy", 1500, currency="jpy"),
                txn("t4", "src_gone", 4200),
            ]
        ),
    )
    assert len(hand.unmatched_transactions)
    migration = run_migration_audit(
        session, payment_methods=True, bills=True, ledger=True, progress=False
    )  # every part asked for: their sheets (Wired to Sources, Tie-out, Receivable) are checked
    return {
        "folder": folder,
        "sources": sources,
        "audits": {"seeded": audit, "hand": hand},
        "migration": migration,
    }


def test_every_money_column_is_major_with_a_money_format_or_named_minor(written):
    folder: Path = written["folder"]
    checked = 0
    for label, audit in written["audits"].items():
        book = audit.to_excel(folder / f"{label}.xlsx")
        checked += check_workbook(book, audit.tables(), SHEET_NAMES)
        tables = audit.tables()
        for name, path in audit.to_csv(folder / f"{label}-csv").items():
            table = audit.by_currency if name == "summary" else tables[name]
            checked += check_csv(path, table)
    migration = written["migration"]
    book = migration.to_excel(folder / "retirement.xlsx")
    checked += check_workbook(book, migration.tables(), MIGRATION_SHEETS)
    for name, path in migration.to_csv(folder / "retirement-csv").items():
        checked += check_csv(path, migration.tables()[name])
    sources = written["sources"]
    path = toolkit.write_sources_csv(sources, folder / "sources.csv")
    checked += check_csv(path, sources)
    for plan in (
        toolkit.plan_detach(sources.head(20)),
        toolkit.plan_metadata(sources.head(5), set={"a": "b"}),
    ):
        checked += check_csv(plan.to_csv(folder / f"{plan.kind}-plan.csv"), plan.df)
    assert checked > 100, checked
