"""Benchmark the audit workbook: xlsxwriter (what ``write_excel`` uses) against openpyxl.

Scenario: a sandbox of ``--customers`` customers (default 1,000, ~2,500 sources; loading is held to the test limits, so larger takes minutes), loaded and
audited once. Then the same audit's tables are written ``--repeat`` times each way:

- ``write_excel(audit, ...)``: xlsxwriter, styled tables, money formats, print set-up, cover;
- the baseline: the same finance frames (money in major units under plain headings) through
  ``pandas.DataFrame.to_excel(engine="openpyxl")``, one sheet per table, no styling at all.

The baseline does less work (no table styles, formats, cover or print set-up), so the ratio
understates xlsxwriter's lead. Prints the best time of each and openpyxl / xlsxwriter
(goal: >= 1.5x). Run: ``.venv/bin/python bench/workbook.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from goals import goal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _plain(column: pd.Series) -> pd.Series:
    """A column openpyxl accepts: text for objects (dicts, Decimals), naive UTC datetimes."""
    if hasattr(column, "dt") and getattr(column.dt, "tz", None) is not None:
        return column.dt.tz_localize(None)
    return column.astype(str) if column.dtype == object else column


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import toolkit
    from toolkit.audit.cells import finance_frame
    from toolkit.audit.receivers.export import SHEET_NAMES, write_excel
    from toolkit.sandbox import Sandbox

    with Sandbox(seed=5, customers=args.customers) as box:
        session = toolkit.connect("sk_test_" + "Bench" * 5, api_base=box.url, quiet=True)
        sources = toolkit.load_sources(session, progress=False)
        transactions = toolkit.load_source_transactions(session, sources, progress=False)
    audit = toolkit.audit_receivers(sources, transactions)
    tables = audit.tables()
    rows = sum(len(df) for df in tables.values())
    print(f"{len(sources):,} sources, {len(tables)} tables, {rows:,} rows in the workbook")

    def ours(folder: Path) -> None:
        write_excel(audit, folder / "ours.xlsx")

    def baseline(folder: Path) -> None:
        with pd.ExcelWriter(folder / "openpyxl.xlsx", engine="openpyxl") as writer:
            for name, df in tables.items():
                frame, _ = finance_frame(df)
                frame = frame.apply(_plain)  # what openpyxl accepts; only makes the baseline faster
                frame.to_excel(writer, sheet_name=SHEET_NAMES[name], index=False)

    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, fn in (("xlsxwriter", ours), ("openpyxl", baseline)):
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                fn(Path(tmp))
                times.append(time.perf_counter() - start)
            best[label] = min(times)
            print(f"{label:>10}: best of {args.repeat}: {best[label]:.2f} s")
    ratio = best["openpyxl"] / best["xlsxwriter"]
    print(f"openpyxl / xlsxwriter = {ratio:.2f}x (goal >= 1.5x)")
    goal("audit workbook: openpyxl time / ours", ratio, ">= 1.5")


if __name__ == "__main__":
    main()
