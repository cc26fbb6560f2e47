"""One self-contained HTML file of the audits, for people without Python or Excel: the receiver
audit and the retirement audit, each with its summary, its checks, its findings and its charts.

A thin front end over the audits' results, like the workbook writer: the tables are the audits'
own (money in the currency's main unit: the ``*_minor`` cents and the raw amounts beside a
``*_major`` column are left out), the charts the audits' own ``plot()`` as inline PNG (base64).
Nothing is fetched when it is opened: no script, no font, no stylesheet from the network. It
prints on A4 or Letter (print CSS: tables break between rows, headers repeat, each audit starts a
page), and opens in any browser.

Like every output, an existing file is never replaced unless ``force=True`` (the CLI's
``--force``); the file is written whole or not at all, readable by you only.

Example::

    toolkit.write_report("exports/month-end.html", receivers=audit, migration=migration)
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.private_files import new_outputs, write_private

__all__ = ["report_html", "write_report"]

#: Findings listed per audit at most (the workbook and the CSVs hold every one).
MAX_FINDINGS = 2_000

_CSS = """
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1a1a1a;
       margin: 2em auto; max-width: 1100px; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.3em; margin-top: 2em;
  border-bottom: 2px solid #333; } h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: .5em 0 1em; font-size: 12px; width: auto; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
td.id { word-break: break-all; min-width: 7em; } td.text { min-width: 14em; }
table.wide { width: 100%; font-size: 11px; }
th { background: #eee; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.facts td:first-child { font-weight: 600; } .note { color: #555; }
img.chart { max-width: 100%; height: auto; border: 1px solid #ddd; }
.signoff td { width: 14em; height: 2.2em; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  h2 { break-before: page; } h2.first { break-before: auto; }
  table { page-break-inside: auto; } tr { break-inside: avoid; }
  thead { display: table-header-group; } img.chart { break-inside: avoid; max-height: 95vh; }
  a { color: inherit; text-decoration: none; }
}
@page { margin: 14mm; }
"""


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as the report shows it: money in main units only, under its plain name (no
    cents columns; ``received_major`` is shown as ``received``, in the row's currency)."""
    drop = [c for c in frame.columns if str(c).endswith("_minor") or f"{c}_major" in frame.columns]
    if "title" in frame.columns:
        drop.append("check")  # the check's internal name: its title says it
    shown = frame.drop(columns=[c for c in drop if c in frame.columns])
    return shown.rename(columns={c: str(c)[: -len("_major")] for c in shown.columns
                                 if str(c).endswith("_major")})  # fmt: skip


def _cell(value: Any) -> tuple[str, bool]:
    """A value as the report writes it, and whether it is a number (right-aligned): money
    and counts with thousands separators, missing values blank."""
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return "", False
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if isinstance(value, Decimal | float):
        return f"{value:,}", True
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d %H:%M:%S"), False
    return str(value), False


def _table(frame: pd.DataFrame, *, limit: int | None = None, css: str = "") -> str:
    if frame is None or not len(frame.columns):
        return "<p class='note'>Not part of this run.</p>"
    if not len(frame):
        return "<p class='note'>None.</p>"
    rows = frame if limit is None else frame.head(limit)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows.columns)
    body = []
    for values in rows.itertuples(index=False):
        cells = []
        for value in values:
            text, number = _cell(value)
            kind = "num" if number else ("id" if len(text) > 14 and " " not in text else "")
            kind = kind or ("text" if len(text) > 60 else "")
            cells.append(f"<td{f' class={kind}' if kind else ''}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and len(frame) > limit:
        more = (
            f"<p class='note'>The first {limit:,} of {len(frame):,} rows: the workbook and the "
            "CSVs hold every one.</p>"
        )
    return (
        f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody>"
        f"</table>{more}"
    )


def _chart(audit: Any) -> str:
    try:
        png = audit.plot().png()
    except Exception as exc:  # a chart that cannot be drawn must not lose the report
        return f"<p class='note'>The chart could not be drawn: {html.escape(str(exc))}</p>"
    data = base64.b64encode(png).decode("ascii")
    return f"<img class='chart' alt='charts of the audit' src='data:image/png;base64,{data}'>"


def _section(title: str, audit: Any, findings: pd.DataFrame, first: bool) -> str:
    checks = audit.checks[["title", "ran", "flagged", "explanation"]].copy()
    checks["ran"] = checks["ran"].map({True: "yes", False: "did not run"})
    checks = checks.rename(columns={"flagged": "rows flagged", "explanation": "what it means"})
    notes = "".join(f"<li>{html.escape(str(n))}</li>" for n in audit.notes)
    return "\n".join(
        [
            f"<h2{' class=first' if first else ''}>{html.escape(title)}</h2>",
            "<h3>Summary</h3>",
            _table(audit.summary, css="facts"),
            "<h3>Charts</h3>",
            _chart(audit),
            "<h3>Checks</h3>",
            _table(checks, css="wide"),
            f"<h3>Findings ({len(findings):,})</h3>",
            _table(_shown(findings), limit=MAX_FINDINGS, css="wide"),
            f"<h3>Notes</h3><ul>{notes}</ul>" if notes else "",
        ]
    )


def report_html(
    receivers: Any = None,
    migration: Any = None,
    *,
    title: str = "Month-end audit report",
    facts: Sequence[tuple[str, Any]] = (),
) -> str:
    """The report as one HTML document (``receivers``: an :class:`~toolkit.Audit`,
    ``migration``: a :class:`~toolkit.MigrationAudit`; at least one). ``facts`` are extra
    (label, value) lines for its head (a run's maker, checker and digest, say)."""
    if receivers is None and migration is None:
        raise InvalidInputError("A report needs an audit: receivers=..., migration=... or both.")
    made = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    head: list[tuple[str, Any]] = [("Written", made)]
    for audit in (receivers, migration):
        if audit is not None:
            head += [("Account", audit.account), ("Mode", audit.mode)]
            head.append(
                ("As of (UTC)", audit.as_of.isoformat() if audit.as_of is not None else "unknown")
            )
            break
    head += list(facts)
    sections = []
    if receivers is not None:
        sections.append(_section("Receiver balance audit", receivers, receivers.exceptions, True))
    if migration is not None:
        sections.append(
            _section("Sources retirement audit", migration, migration.exceptions, not sections)
        )
    fact_rows = "".join(
        f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in head
    )
    sign = "".join(
        f"<tr><td>{who}</td><td></td><td></td></tr>" for who in ("Prepared by", "Reviewed by")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<table class="facts"><tbody>{fact_rows}</tbody></table>
<p class="note">Money is in each currency's main unit (dollars, euros); times are UTC. This file
needs no network: its charts are inside it.</p>
{"".join(sections)}
<h3>Sign-off</h3>
<table class="signoff"><thead><tr><th></th><th>Name</th><th>Date</th></tr></thead>
<tbody>{sign}</tbody></table>
</body></html>
"""


def write_report(
    path: str | os.PathLike[str],
    *,
    receivers: Any = None,
    migration: Any = None,
    force: bool = False,
    title: str = "Month-end audit report",
    facts: Sequence[tuple[str, Any]] = (),
    journal: str | os.PathLike[str] | None = None,
) -> Path:
    """Write the audits as one self-contained HTML file (:func:`report_html`); returns the path.
    An existing file is refused unless ``force``; ``.html`` is added when missing. With a change
    run's ``journal`` its head shows the run's maker, checker (or the waiver) and digest.

    >>> import tempfile
    >>> path = toolkit.write_report(Path(tempfile.mkdtemp()) / "r.html", receivers=audit)
    >>> path.read_text().count("data:image/png;base64,")
    1
    """
    target = Path(path)
    if target.suffix.lower() not in (".html", ".htm"):
        target = target.with_name(target.name + ".html")
    new_outputs([target], force=force, how="pass force=True (the CLI's --force)")
    from toolkit.audit.cover import change_facts  # it loads the workbook writer

    facts = [*facts, *change_facts(journal)]
    text = report_html(receivers, migration, title=title, facts=facts)
    write_private(target, lambda handle: handle.write(text))
    return target
