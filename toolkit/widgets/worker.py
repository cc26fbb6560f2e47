"""Run long work off the kernel's main thread, with a progress bar, a status line and Cancel.

The worker thread only assigns widget traits (``progress.value``, ``status.value``) and never
uses ``with out:``; this is what keeps other clicks (Cancel) alive while it runs. Example::

    worker = Worker(progress, status)
    worker.start(lambda report, cancel: apply(plan, session, progress=report, cancel=cancel),
                 on_done=show_outcome, on_error=show_error, label="Applying")
    worker.cancel(); worker.wait(5)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from toolkit.progress import ProgressCallback
from toolkit.widgets.style import error_text, safe_text

__all__ = ["Job", "Progress", "Worker"]

#: The report callback a job gets (the toolkit's one progress callback type).
Progress = ProgressCallback
Job = Callable[[Progress, threading.Event], Any]


class Worker:
    """One job at a time in a daemon thread; reports into ``progress`` and ``status``.

    ``on_done(result)`` / ``on_error(exc)`` run in the worker thread after the job: they too must
    only assign traits. Exceptions never escape the thread; they go to ``on_error``.
    """

    def __init__(
        self,
        progress: widgets.IntProgress,
        status: widgets.Label,
        *,
        min_interval: float = 0.1,
    ) -> None:
        self.progress = progress
        self.status = status
        self.min_interval = min_interval
        self.cancel_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self._busy = False
        self._last = 0.0
        self._label = ""

    @property
    def running(self) -> bool:
        """True while a job runs (False already while ``on_done``/``on_error`` run)."""
        return self._busy

    def report(self, done: int, total: int | None, label: str = "") -> None:
        """Progress callback for toolkit functions: ``(done, total, label)``; throttled."""
        now = time.monotonic()
        final = total is not None and done >= total
        if not final and now - self._last < self.min_interval:
            return
        self._last = now
        if total:
            if self.progress.max != total:
                self.progress.max = total
            self.progress.value = min(done, total)
            self.progress.bar_style = "info"
        else:
            # unknown total: show activity by growing the bar's max with the count
            self.progress.max = max(done * 2, 1)
            self.progress.value = done
        text = f"{self._label or label}: {done:,}" + (f" of {total:,}" if total else "")
        if label and self._label and label != self._label:
            text += f" · {label}"
        self.status.value = safe_text(text)

    def start(
        self,
        job: Job,
        *,
        on_done: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        label: str = "Working",
    ) -> bool:
        """Run ``job(report, cancel_event)`` in a thread; False if a job is already running."""
        if self.running:
            return False
        self.cancel_event = threading.Event()
        self.error = None
        self._label = label
        self._last = 0.0
        self.progress.value = 0
        self.progress.bar_style = "info"
        self.status.value = f"{label}…"
        event = self.cancel_event
        self._busy = True

        def run() -> None:
            try:
                result = job(self.report, event)
            except BaseException as exc:  # shown in the widget; a thread has nowhere else to go
                self._busy = False
                self.error = exc
                self.progress.bar_style = "danger"
                self.status.value = error_text(exc)
                try:
                    on_error(exc)
                except Exception as inner:  # pragma: no cover - last resort
                    self.status.value = error_text(inner)
                return
            self._busy = False
            self.progress.value = self.progress.max  # also when the total was unknown
            self.progress.bar_style = "warning" if event.is_set() else "success"
            try:
                on_done(result)
            except Exception as exc:
                self.error = exc
                self.status.value = error_text(exc)

        self.thread = threading.Thread(target=run, name=f"toolkit-widget-{label}", daemon=True)
        self.thread.start()
        return True

    def cancel(self) -> None:
        """Ask the running job to stop (it stops at its next check)."""
        if self.running:
            self.cancel_event.set()
            self.status.value = f"{self._label}: canceling…"

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (for tests and scripts); True when nothing is running."""
        thread = self.thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()
