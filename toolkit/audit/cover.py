"""The cover sheet both audit workbooks open with: a title, the facts, sections of figures (tables
in each row's currency, or lines of text), the checks, the notes, a sign-off block and a chart.

Example::

    with WorkbookWriter("exports/audit.xlsx", "Receiver balance audit") as book:
        write_cover(book, Cover("Receiver balance audit", facts=[("Account", "acct_1")],
                                sections=[("Checks", checks)], notes=["..."]))

>>> checks_table(pd.DataFrame({"title": ["t"], "ran": [False], "flagged": [0],
...     "explanation": ["e"]}), not_ran="no", flagged="rows flagged").columns.tolist()
['title', 'ran', 'rows flagged', 'what it means']
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from toolkit.audit.workbook import WorkbookWriter

__all__ = ["Cover", "change_facts", "checks_table", "write_cover"]


@dataclass
class Cover:
    """What a cover shows: ``facts`` (label, value), ``sections`` (heading, and a table or
    lines of text), ``notes`` (after the one every workbook carries), ``chart`` (a PNG)."""

    title: str
    facts: list[tuple[str, Any]] = field(default_factory=list)
    sections: list[tuple[str, pd.DataFrame | list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    chart: bytes | None = None


def change_facts(journal: str | os.PathLike[str] | None) -> list[tuple[str, Any]]:
    """The facts a cover shows of a change run when given its journal: the plan, its maker, its
    checker (or "waived ...", "not required ...") and the digest approved
    (:func:`~toolkit.changes.plans.approval.sign_off_facts`); none without a journal.

    >>> change_facts(None)
    []
    """
    if journal is None:
        return []
    from toolkit.changes.plans.approval import sign_off_facts

    return list(sign_off_facts(journal))


def checks_table(checks: pd.DataFrame, *, not_ran: str, flagged: str) -> pd.DataFrame:
    """The checks as the cover lists them: ``ran`` as yes / ``not_ran``, the count named
    ``flagged``, the explanation last as "what it means"."""
    table = checks.copy()
    table["ran"] = table["ran"].map({True: "yes", False: not_ran})
    return table.rename(columns={"flagged": flagged, "explanation": "what it means"})


def write_cover(book: WorkbookWriter, cover: Cover) -> None:
    """The "Cover" sheet (portrait) of ``book``: title, facts, each section under its heading,
    then the notes, the sign-off block and the chart."""
    ws = book.sheet("Cover", landscape=False)
    row = book.title(ws, cover.title)
    row = book.facts(ws, row, cover.facts)
    for heading, content in cover.sections:
        row = book.heading(ws, row + 1, heading)
        if isinstance(content, pd.DataFrame):
            row = book.table(ws, row, content)
        else:
            row = book.notes(ws, row, content)
    book.finish_cover(ws, row, cover.notes, cover.chart)
