"""How the toolkit's objects look in a notebook and in its widgets: scrollable HTML tables,
coloured banners, JSON panes; every text masked (keys, client secrets) before it is shown.

The one home of the look: plans, outcomes, audits and widgets all build on these.

>>> import pandas as pd
>>> "&lt;b&gt;" in table_html(pd.DataFrame({"x": ["<b>"]}))
True
>>> banner_html("Account sk_live_abcdefghijkl1234 refused", "danger").endswith(
...     "Account sk_live_…1234 refused</div>")
True
"""

from __future__ import annotations

import html
import json
import sys
from collections.abc import Mapping
from typing import Any

import pandas as pd

from toolkit.errors import Cancelled, InvalidInputError, StripeRequestError, ToolkitError
from toolkit.money import format_money
from toolkit.redact import drop_client_secret, mask_secrets, redact_source

__all__ = [
    "MUTED",
    "Table",
    "banner_html",
    "dry_run_notice",
    "error_text",
    "json_html",
    "notebook_errors",
    "readable_money",
    "safe_text",
    "show",
    "status_table_html",
    "table_html",
]

#: JupyterLab's theme colours (light and dark themes alike), with the light theme's as fallback
#: outside JupyterLab.
_HEAD_BG = "var(--jp-layout-color2, #f3f3f3)"
_TEXT = "var(--jp-ui-font-color1, #1a1a1a)"
#: Muted text that follows the JupyterLab theme (light and dark), grey outside it.
MUTED = "var(--jp-ui-font-color2, #555)"
_BORDER = "var(--jp-border-color2, #ddd)"
_PANE_BG = "var(--jp-layout-color1, #fafafa)"
#: Text on a highlighted (pastel) row: dark in every theme, or it would vanish in a dark one.
_ON_PASTEL = "#1a1a1a"

_COLORS = {
    "info": ("#0b5394", "#e8f0fb"),
    "ok": ("#1e6b30", "#e6f4ea"),
    "warn": ("#7a4f00", "#fff4d6"),
    "danger": ("#ffffff", "#b00020"),
    "error": ("#8a1020", "#fde8ea"),
}


def safe_text(text: object) -> str:
    """``str(text)`` with API keys masked and client secrets removed."""
    return mask_secrets(str(text))


def dry_run_notice(dry_run: bool, account: str) -> str:
    """The line a runbook prints before it does anything: whether this run writes.

    ``dry_run`` must be True or False: the text ``"False"`` (a papermill parameter) is refused,
    as a runbook's ``if dry_run:`` would read it as true while the notice said otherwise.

    >>> dry_run_notice(True, "acct_1 (test)")
    'Dry run: nothing is written to acct_1 (test). Set dry_run = False to write.'
    """
    if not isinstance(dry_run, bool):
        raise InvalidInputError(
            f"dry_run must be True or False, got {dry_run!r}: read a runbook parameter with "
            "dry_run = toolkit.parse_flag(dry_run, 'dry_run') first."
        )
    if dry_run:
        return f"Dry run: nothing is written to {account}. Set dry_run = False to write."
    return f"dry_run is False: this run WRITES to {account}."


def error_text(exc: BaseException) -> str:
    """One readable line for an error a user can meet (no traceback, secrets masked).

    >>> error_text(ToolkitError("No sources selected: select rows first."))
    'No sources selected: select rows first.'
    """
    if isinstance(exc, Cancelled):
        return "Canceled."
    if isinstance(exc, StripeRequestError):
        request = f" (request {exc.request_id})" if exc.request_id else ""
        return safe_text(f"Stripe refused the request: {exc.stripe_message or exc}{request}")
    if isinstance(exc, ToolkitError):
        return safe_text(exc)
    return safe_text(f"Unexpected error ({type(exc).__name__}): {exc}")


def _brief_traceback(
    shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None
) -> None:
    """IPython's custom exception handler: the toolkit's own errors as one line, in red."""
    shell.showtraceback((etype, value, tb), exception_only=True)


def notebook_errors(shell: Any = None) -> bool:
    """Show the toolkit's own errors in a notebook as their message and fix, no traceback.

    ``import toolkit`` calls it in an IPython kernel; the cell still fails (Run All, papermill
    and nbval stop there), only the 40 lines of traceback before the message go. Other errors
    keep their traceback. Returns True when a shell was set up.
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    shell.set_custom_exc((ToolkitError,), _brief_traceback)
    return True


def banner_html(text: str, kind: str = "info", *, title: str | None = None) -> str:
    """A coloured box: ``kind`` is info, ok, warn, danger or error."""
    fg, bg = _COLORS.get(kind, _COLORS["info"])
    head = f"<b>{html.escape(title)}</b> " if title else ""
    return (
        f"<div style='color:{fg};background:{bg};padding:6px 10px;border-radius:4px;"
        f"margin:4px 0;line-height:1.4'>{head}{html.escape(safe_text(text))}</div>"
    )


def _hidden(value: Any) -> Any:
    """A source (or a row of the sources frame) as shown: without its ``client_secret``, nor that
    of any source object inside it; metadata is shown as it is."""
    if isinstance(value, Mapping) and ("id" in value or value.get("object") == "source"):
        value = redact_source(value)
    return drop_client_secret(value)


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and value != value:
        return ""
    if isinstance(value, Mapping | list):
        return json.dumps(_hidden(value), ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def table_html(
    df: pd.DataFrame,
    *,
    max_rows: int = 200,
    columns: list[str] | None = None,
    highlight: Mapping[str, str] | None = None,
    status_column: str | None = None,
    max_height: str = "320px",
) -> str:
    """A scrollable HTML table of the first ``max_rows`` rows, with a note on what is hidden.

    ``highlight`` maps values of ``status_column`` to background colours (e.g. invalid rows red).
    """
    shown = df if columns is None else df[[c for c in columns if c in df.columns]]
    head = "".join(
        f"<th style='text-align:left;padding:2px 6px;position:sticky;top:0;"
        f"background:{_HEAD_BG};color:{_TEXT}'>"
        f"{html.escape(str(c))}</th>"
        for c in shown.columns
    )
    body = []
    for position, (_, row) in enumerate(shown.head(max_rows).iterrows()):
        colour = ""
        if highlight and status_column is not None and status_column in df.columns:
            colour = highlight.get(str(df[status_column].iloc[position]), "")
        style = f" style='background:{colour};color:{_ON_PASTEL}'" if colour else ""
        cells = "".join(
            f"<td style='padding:2px 6px;vertical-align:top;text-align:left'>"
            f"{html.escape(safe_text(_cell(v)))}</td>"
            for v in row
        )
        body.append(f"<tr{style}>{cells}</tr>")
    more = ""
    if len(shown) > max_rows:
        more = f"<div style='color:{MUTED}'>… {len(shown) - max_rows} more rows not shown</div>"
    return (
        f"<div style='max-height:{max_height};overflow:auto;border:1px solid {_BORDER}'>"
        # auto layout: JupyterLab's fixed layout gives every column the same width, and a long id
        # then runs over the next column
        "<table style='border-collapse:collapse;font-size:12px;width:100%;table-layout:auto'>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>{more}"
    )


def status_table_html(
    df: pd.DataFrame,
    status_column: str,
    *,
    order: Mapping[str, int],
    colours: Mapping[str, str],
    columns: list[str],
    max_rows: int = 300,
) -> str:
    """:func:`table_html` of ``df`` with the rows that need a look first (``order`` ranks the
    values of ``status_column``, unranked last) and highlighted (``colours``)."""
    rank = df[status_column].astype(str).map(lambda v: order.get(v, 9))
    rows = df.assign(_rank=rank).sort_values("_rank", kind="stable")
    return table_html(
        rows,
        columns=columns,
        max_rows=max_rows,
        highlight=colours,
        status_column=status_column,
    )


def json_html(value: Any, *, max_height: str = "360px") -> str:
    """A pretty-printed JSON pane; a source's ``client_secret`` is dropped first."""
    text = json.dumps(_hidden(value), indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return (
        f"<pre style='max-height:{max_height};overflow:auto;font-size:12px;margin:0;"
        f"background:{_PANE_BG};color:{_TEXT};border:1px solid {_BORDER};padding:6px'>"
        f"{html.escape(safe_text(text))}</pre>"
    )


def readable_money(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each money pair (minor ``X`` and major ``X_major``, with a ``currency`` column)
    shown once, as ``X``: text in the row's currency (``1,234.56 USD``)."""
    if "currency" not in df.columns:
        return df
    out = df.copy()
    currencies = out["currency"].astype("object").tolist()
    for major in [c for c in df.columns if str(c).endswith("_major")]:
        base = str(major)[: -len("_major")]
        if base in df.columns:
            out[base] = [
                format_money(a, str(c)) if isinstance(c, str) and c else ""
                for a, c in zip(out[base].tolist(), currencies, strict=True)
            ]
            out = out.drop(columns=major)
    return out


class Table:
    """A frame as a reader sees it in a notebook: left-aligned text, no 0..N index, blank cells
    for missing values, money once in its currency, secrets masked (``toolkit.show(df)``)."""

    def __init__(self, df: pd.DataFrame, *, max_rows: int = 50) -> None:
        self.df = readable_money(df)
        self.max_rows = max_rows

    def _repr_html_(self) -> str:
        # the whole table, never a box that cuts the last rows in half: max_rows bounds it
        return table_html(self.df, max_rows=self.max_rows, max_height="none")

    def __repr__(self) -> str:
        shown = self.df.head(self.max_rows).map(_cell)
        text = "\n".join(
            line.rstrip() for line in shown.to_string(index=False, justify="left").splitlines()
        )
        more = len(self.df) - len(shown)
        return text + (f"\n… {more} more rows not shown" if more > 0 else "")


def show(df: pd.DataFrame | pd.Series, *, max_rows: int = 50) -> Table:
    """Show ``df`` for reading: ``toolkit.show(sources[["id", "status"]])`` as a cell's last line.

    >>> print(repr(show(pd.DataFrame({"id": ["src_1", "src_2"], "email": ["a@x.io", None]}))))
    id    email
    src_1 a@x.io
    src_2
    >>> money = pd.DataFrame({"currency": ["usd"], "unapplied": [120000], "unapplied_major": [1200]})
    >>> print(repr(show(money)))
    currency unapplied
    usd      1,200.00 USD
    """
    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(
            f"show needs a DataFrame (or a Series), got {type(df).__name__}: "
            "e.g. toolkit.show(sources.head())."
        )
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise InvalidInputError(f"max_rows must be a whole number >= 1, not {max_rows!r}.")
    return Table(df, max_rows=max_rows)
