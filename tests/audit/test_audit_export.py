"""The audit's Excel workbook, CSV folder and charts."""

from __future__ import annotations

import csv
import stat
from datetime import datetime
from decimal import Decimal

import matplotlib
import openpyxl
import pytest

from tests.audit.audit_frames import card, receiver, sources_frame, txn, txn_frame
from toolkit.audit import audit_receivers
from toolkit.audit.cells import finance_frame
from toolkit.audit.receivers.export import SHEET_NAMES, money_format

matplotlib.use("Agg")


@pytest.fixture
def audit():
    rows = [
        receiver("src_usd_ok", received=123456, charged=3456, days_old=5, customer="cus_A"),
        receiver("src_usd_consumed", received=5000, charged=4000, status="consumed", days_old=75),
        receiver("src_jpy", received=1500, charged=500, currency="jpy", days_old=100),
        receiver("src_kwd", received=12345, currency="kwd", customer="cus_K", days_old=40),
        receiver("src_nohash", received=None, charged=None, returned=None, customer=None),
        card("src_card"),
    ]
    txns = [
        txn("t1", "src_usd_ok", 123456),
        txn("t2", "src_usd_consumed", 5100),
        txn("t3", "src_usd_consumed", -100),
        txn("t4", "src_jpy", 1500, currency="jpy"),
        txn("t5", "src_kwd", 12345, currency="kwd"),
        txn("t6", "src_gone", 42),
    ]
    return audit_receivers(sources_frame(rows), txn_frame(txns))


def _header(ws):
    return [c.value for c in ws[1]]


def _col(ws, name):
    return _header(ws).index(name) + 1


def test_money_format_per_currency():
    assert money_format("usd") == '#,##0.00 "USD"'
    assert money_format("jpy") == '#,##0 "JPY"'
    assert money_format("KWD") == '#,##0.000 "KWD"'
    assert money_format("") == "#,##0.00"


def test_excel_sheets_formats_and_totals(audit, tmp_path):
    path = audit.to_excel(tmp_path / "out" / "audit.xlsx")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == [
        "Cover",
        "Summary",
        "Checks",
        "Exceptions",
        "Sources",
        "By currency",
        "By customer",
        "By status",
        "Aging",
        "Unmatched transactions",
    ]
    # one sheet per table, one row per table row
    for name, table in audit.tables().items():
        ws = wb[SHEET_NAMES[name]]
        assert _header(ws) == list(finance_frame(table)[0].columns)
        assert ws.max_row == len(table) + 1
        # a heading without _minor holds major units; minor units only under _minor names
        for name in _header(ws):
            if f"{name}_major" in table.columns:
                assert f"{name}_minor" in _header(ws)

    ws = wb["Sources"]
    ids = [c.value for c in ws["A"][1:]]
    major = _col(ws, "unapplied")
    minor = _col(ws, "unapplied_minor")
    created = _col(ws, "created")
    cells = {ids[i]: ws.cell(row=i + 2, column=major) for i in range(len(ids))}
    assert cells["src_usd_ok"].number_format == '#,##0.00 "USD"'
    assert cells["src_usd_ok"].value == pytest.approx(1200.00)
    assert cells["src_jpy"].number_format == '#,##0 "JPY"'
    assert cells["src_jpy"].value == 1000
    assert cells["src_kwd"].number_format == '#,##0.000 "KWD"'
    assert cells["src_kwd"].value == pytest.approx(12.345)
    assert cells["src_nohash"].value is None
    row_usd = ids.index("src_usd_ok") + 2
    assert ws.cell(row=row_usd, column=minor).value == 120000
    assert ws.cell(row=row_usd, column=minor).number_format == "#,##0"
    assert isinstance(ws.cell(row=row_usd, column=created).value, datetime)
    assert ws.cell(row=row_usd, column=created).number_format == "yyyy-mm-dd hh:mm:ss"

    # By currency sheet: totals per currency, formatted per currency
    ws = wb["By currency"]
    got = {
        ws.cell(row=r, column=1).value: ws.cell(row=r, column=_col(ws, "unapplied"))
        for r in range(2, ws.max_row + 1)
    }
    assert set(got) == {"jpy", "kwd", "usd"}
    assert got["usd"].value == pytest.approx(1210.00)
    assert got["usd"].number_format == '#,##0.00 "USD"'
    assert got["jpy"].number_format == '#,##0 "JPY"'

    # Exceptions: one row per finding
    ws = wb["Exceptions"]
    checks = [ws.cell(row=r, column=_col(ws, "check")).value for r in range(2, ws.max_row + 1)]
    assert sorted(checks) == sorted(audit.exceptions["check"])


def test_excel_cover_has_totals_as_of_account_mode_and_checks(audit, tmp_path):
    wb = openpyxl.load_workbook(audit.to_excel(tmp_path / "audit.xlsx"))
    ws = wb["Cover"]
    assert ws["A1"].value == "Receiver balance audit"
    facts = {
        ws.cell(row=r, column=1).value: ws.cell(row=r, column=2).value
        for r in range(3, ws.max_row + 1)
    }
    assert facts["As of (UTC)"] == datetime(2026, 11, 1)
    assert facts["Account"] == "sandbox"
    assert facts["Mode"] == "sandbox"
    assert facts["Receiver sources audited"] == 5
    assert facts["Findings"] == len(audit.exceptions)
    # the checks by their titles (listed below), never by their internal names
    assert facts["Checks run"] == f"{len(audit.checks)} of {len(audit.checks)} (listed below)"
    # the totals table: find its header row
    col_a = [ws.cell(row=r, column=1).value for r in range(1, ws.max_row + 1)]
    header = col_a.index("currency") + 1
    assert [c.value for c in ws[header]][:7] == [
        "currency",
        "receivers",
        "flagged",
        "received",
        "charged",
        "returned",
        "unapplied",
    ]
    totals = {}
    for r in range(header + 1, header + 4):
        cur = ws.cell(row=r, column=1).value
        totals[cur] = ws.cell(row=r, column=7)
    assert set(totals) == {"JPY", "KWD", "USD"}
    by_cur = audit.by_currency.set_index("currency")
    assert totals["USD"].value == pytest.approx(float(by_cur.loc["usd", "unapplied_major"]))
    assert totals["USD"].number_format == '#,##0.00 "USD"'
    assert totals["JPY"].value == 1000 and totals["JPY"].number_format == '#,##0 "JPY"'
    assert totals["KWD"].number_format == '#,##0.000 "KWD"'
    # every check is listed with its plain-language explanation
    titles = set(col_a)
    for title in audit.checks["title"]:
        assert title in titles
    text = " ".join(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    assert "belongs to the customer" in text
    assert "not in this table" in text  # the note about the unmatched transaction


def test_excel_without_transactions_says_checks_did_not_run(tmp_path):
    audit = audit_receivers(sources_frame([receiver("src_a", received=100)]))
    wb = openpyxl.load_workbook(audit.to_excel(tmp_path / "a.xlsx"))
    assert "Unmatched transactions" not in wb.sheetnames
    text = [c.value for row in wb["Cover"].iter_rows() for c in row]
    assert "no (needs transactions)" in text


def test_csv_folder(audit, tmp_path):
    written = audit.to_csv(tmp_path / "csv")
    assert set(written) == set(audit.tables())
    for path in written.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with written["sources"].open() as fh:
        rows = {r["source"]: r for r in csv.DictReader(fh)}
    assert rows["src_usd_ok"]["unapplied_minor"] == "120000"
    assert rows["src_usd_ok"]["unapplied"] == "1200.00"
    assert rows["src_jpy"]["unapplied"] == "1000"
    assert rows["src_kwd"]["unapplied"] == "12.345"
    assert rows["src_usd_ok"]["created"] == "2026-10-27 00:00:00"  # a date Excel reads
    assert rows["src_nohash"]["unapplied"] == ""
    with written["by_currency"].open() as fh:
        totals = {r["currency"]: Decimal(r["unapplied"]) for r in csv.DictReader(fh)}
    assert totals == {"jpy": Decimal(1000), "kwd": Decimal("12.345"), "usd": Decimal("1210.00")}


@pytest.mark.slow
def test_plot_renders_and_saves_png_without_pyplot(audit, tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = audit.plot(tmp_path / "charts" / "audit.png")
    assert plt.get_fignums() == before  # no global pyplot figure left behind
    png = (tmp_path / "charts" / "audit.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert stat.S_IMODE((tmp_path / "charts" / "audit.png").stat().st_mode) == 0o600
    assert fig._repr_png_().startswith(b"\x89PNG")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "Unapplied funds by age of source (JPY)",
        "Unapplied funds by age of source (KWD)",
        "Unapplied funds by age of source (USD)",
        "Receivers flagged per check",
    ]
    usd = fig.axes[2]
    heights = [p.get_height() for p in usd.patches]
    assert heights == pytest.approx([1200.0, 0.0, 10.0, 0.0])


def test_workbook_is_filed_as_finance_expects(audit, tmp_path):
    wb = openpyxl.load_workbook(audit.to_excel(tmp_path / "audit.xlsx"))
    # the Summary sheet holds money as numbers in the currency's format, not as text
    summary = {r[0].value: r[1] for r in wb["Summary"].iter_rows(min_row=2)}
    usd = summary["Unapplied (USD)"]
    assert isinstance(usd.value, int | float) and usd.value == pytest.approx(1210.00)
    assert usd.number_format == '#,##0.00 "USD"'
    assert summary["Unapplied (JPY)"].number_format == '#,##0 "JPY"'
    # the cover: a sign-off block and the charts embedded
    cover = wb["Cover"]
    labels = [c.value for c in cover["A"]]
    assert {"Sign-off", "Prepared by", "Reviewed by", "Date"} <= set(labels)
    assert len(cover._images) == 1
    # every data sheet: a styled table, header frozen and repeated, landscape, one page wide
    for name in ("Sources", "Exceptions", "By currency"):
        ws = wb[name]
        assert len(ws.tables) == 1
        assert ws.freeze_panes == "A2" and ws.print_title_rows == "$1:$1"
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToHeight == 0
    # text that looks like a formula stays text
    assert all(c.data_type != "f" for row in wb["Sources"].iter_rows() for c in row)


def test_workbook_speaks_to_a_reader_and_filters_every_sheet(audit, tmp_path):
    """Issue 28: the Summary's "As of" is a date, the cover names checks by their titles, every
    data sheet has filter buttons (an empty one too), no jargon."""
    wb = openpyxl.load_workbook(audit.to_excel(tmp_path / "audit.xlsx"))
    summary = {r[0].value: r[1] for r in wb["Summary"].iter_rows(min_row=2)}
    assert summary["As of (UTC)"].value == datetime(2026, 11, 1)
    assert summary["As of (UTC)"].number_format == "yyyy-mm-dd hh:mm:ss"
    cover = " ".join(str(c.value) for row in wb["Cover"].iter_rows() for c in row if c.value)
    for name in audit.checks["name"]:
        assert name not in cover, f"internal check name {name} on the cover"
    for title in audit.checks["title"]:
        assert title in cover
    empty = audit_receivers(sources_frame([receiver("src_fine", received=0)]))
    assert not len(empty.exceptions)
    for book in (wb, openpyxl.load_workbook(empty.to_excel(tmp_path / "empty.xlsx"))):
        for ws in book.worksheets[1:]:
            filtered = [t.autoFilter for t in ws.tables.values()] + [ws.auto_filter.ref]
            assert any(filtered), f"{ws.title}: no filter buttons on the header"
        words = " ".join(
            str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row
        )
        assert "funding" not in words.lower()
