"""The sources CSV as a spreadsheet reads it (issue 28 item 9): dates a spreadsheet takes for
dates, money in major units beside ``_minor``, phone numbers as written, formulas escaped, and an
edited export still read back exactly by the plans."""

from __future__ import annotations

import csv
import re
from decimal import Decimal

import pandas as pd

import toolkit


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_dates_money_and_phones_as_a_spreadsheet_reads_them(session, tmp_path):
    sources = toolkit.load_sources(session, progress=False)
    sample = sources[sources["owner_phone"].notna() & sources["amount"].notna()].head(3)
    receivers = sources[sources["receiver_amount_received"].fillna(0) > 0].head(3)
    frame = pd.concat([sample, receivers], ignore_index=True)
    frame.attrs = sources.attrs
    rows = _rows(toolkit.write_sources_csv(frame, tmp_path / "sources.csv"))
    header = list(rows[0])
    assert header.index("amount_minor") == header.index("amount") + 1
    for row, (_, source) in zip(rows, frame.iterrows(), strict=True):
        # 2026-10-31 22:42:16 (UTC): not 2026-10-31 22:42:16+00:00, which stays text
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row["created"]), row["created"]
        assert row["created"] == source["created"].strftime("%Y-%m-%d %H:%M:%S")
        for name in ("amount", "receiver_amount_received"):
            minor = source[name]
            if pd.isna(minor):
                assert row[name] == row[f"{name}_minor"] == ""
                continue
            assert int(row[f"{name}_minor"]) == minor
            assert Decimal(row[name]) == toolkit.minor_to_major(minor, source["currency"])
    phones = [row["owner_phone"] for row in rows[:3]]
    assert phones == sample["owner_phone"].tolist() and phones[0].startswith("+1")


def test_formulas_escaped_numbers_kept_and_read_back_exactly(tmp_path):
    values = ["+14155552707", "+44 20 7946 0958", "-53.25", "=1+1", "+1+1", "-2+A1", "@SUM(A1)"]
    frame = pd.DataFrame(
        {"id": [f"src_{i}abc" for i in range(len(values))], "metadata.note": values}
    )
    path = toolkit.write_sources_csv(frame, tmp_path / "sources.csv")
    written = [row["metadata.note"] for row in _rows(path)]
    assert written == [*values[:3], *("'" + v for v in values[3:])]
    plan = toolkit.plan_metadata_from_table(path)
    assert [p["metadata"]["note"] for p in plan.df["params"]] == values
