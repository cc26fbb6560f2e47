"""The worker thread helper and the shared HTML helpers (no network)."""

from __future__ import annotations

import threading

import ipywidgets as widgets
import pandas as pd

from toolkit.errors import Cancelled, InvalidInputError, NotFoundError
from toolkit.widgets.style import error_text, json_html, safe_text, table_html
from toolkit.widgets.worker import Worker


def _worker() -> Worker:
    return Worker(widgets.IntProgress(), widgets.Label(), min_interval=0.0)


def test_worker_runs_reports_and_finishes() -> None:
    worker = _worker()
    seen: list[object] = []

    def job(report, cancel):
        for i in range(5):
            report(i + 1, 5, "rows")
        return "result"

    assert worker.start(job, on_done=seen.append, on_error=seen.append, label="Counting")
    assert worker.wait(5)
    assert seen == ["result"] and not worker.running
    assert worker.progress.value == 5 and worker.progress.max == 5
    assert worker.progress.bar_style == "success"
    assert worker.status.value == "Counting: 5 of 5 · rows"


def test_worker_cancel_and_one_job_at_a_time() -> None:
    worker = _worker()
    started, outcome = threading.Event(), list[object]()

    def job(report, cancel):
        started.set()
        if not cancel.wait(5):
            return "not canceled"
        return "canceled"

    assert worker.start(job, on_done=outcome.append, on_error=outcome.append)
    started.wait(5)
    assert worker.running
    assert worker.start(job, on_done=outcome.append, on_error=outcome.append) is False
    worker.cancel()
    assert worker.wait(5)
    assert outcome == ["canceled"] and worker.progress.bar_style == "warning"


def test_worker_errors_go_to_on_error_not_to_the_thread() -> None:
    worker = _worker()
    errors: list[BaseException] = []

    def job(report, cancel):
        raise InvalidInputError("bad input: fix it")

    worker.start(job, on_done=lambda _: None, on_error=errors.append)
    assert worker.wait(5)
    assert isinstance(errors[0], InvalidInputError)
    assert worker.status.value == "bad input: fix it" and worker.progress.bar_style == "danger"


def test_unknown_totals_and_throttling() -> None:
    worker = Worker(widgets.IntProgress(), widgets.Label(), min_interval=60.0)
    worker._label = "Loading"
    worker.report(10, None, "sources")
    assert worker.progress.value == 10 and worker.status.value == "Loading: 10 · sources"
    worker.report(20, None, "sources")  # within min_interval: skipped
    assert worker.progress.value == 10
    worker.report(30, 30, "sources")  # the final report always shows
    assert worker.progress.value == 30


def test_error_text_is_one_line_without_secrets() -> None:
    key = "sk_live_" + "A1b2C3d4" * 3
    assert error_text(Cancelled()) == "Canceled."
    text = error_text(RuntimeError(f"boom with {key}"))
    assert key not in text and "sk_live_…" in text and "RuntimeError" in text
    err = NotFoundError(
        "Retrieving src_x failed: HTTP 404", status=404, stripe_message="No such source: 'src_x'"
    )
    assert error_text(err).startswith("Stripe refused the request: No such source")
    assert "[client secret hidden]" in safe_text("src_client_secret_abcDEF123456")


def test_json_pane_and_tables_hide_secrets_and_escape() -> None:
    raw = {
        "id": "src_1",
        "client_secret": "src_client_secret_x",
        "nested": [{"object": "source", "client_secret": 1}],
        "metadata": {"client_secret_note": "customer data, shown"},
    }
    pane = json_html(raw)
    assert "src_client_secret_x" not in pane and "src_1" in pane and "nested" in pane
    assert '"client_secret": 1' not in pane and "customer data, shown" in pane
    df = pd.DataFrame({"status": ["invalid", "ready"], "x": ["<b>", {"a": 1}]})
    html_text = table_html(df, highlight={"invalid": "#fde8ea"}, status_column="status")
    assert "&lt;b&gt;" in html_text and "#fde8ea" in html_text and "{&quot;a&quot;: 1}" in html_text
    assert "1 more rows" in table_html(df, max_rows=1)


def test_widget_reprs_are_short_and_stable() -> None:
    from toolkit.fetch.frame import empty_frame
    from toolkit.widgets import AuditView, SourceExplorer

    assert repr(SourceExplorer(empty_frame())) == "SourceExplorer(0 sources, 0 selected)"
    assert repr(AuditView()) == "AuditView(no audit)"
