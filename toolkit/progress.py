"""Progress of long work, one way for every job: a tqdm.auto bar (a widget in Jupyter, text in a
terminal), a callback ``progress(done, total, label)``, or nothing.

>>> seen = []
>>> bar = Progress(lambda done, total, label: seen.append((done, total, label)), 2, "rows")
>>> bar.step(); bar.step(); bar.close()
>>> seen
[(0, 2, 'rows'), (1, 2, 'rows'), (2, 2, 'rows')]

Given a read meter (``session.reading(...)``, anything with ``describe()``), the bar's note says
what the work has read so far: ``"926 sources · 25 reads (this account: 4,830 in 30 days)"``
(a callback gets the note alone, as always).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Progress", "ProgressArg", "ProgressCallback"]

#: A progress callback: ``progress(done, total, label)`` (total None when unknown).
ProgressCallback = Callable[[int, int | None, str], Any]
#: What a ``progress=`` argument may be: True (a bar), False/None, or a :data:`ProgressCallback`.
ProgressArg = bool | ProgressCallback | None


class Progress:
    """Report ``done`` out of ``total`` (None when unknown) for one job called ``label``.

    ``unit`` names what is counted on the bar; ``note`` (see :meth:`update`) is shown beside it
    and passed to a callback as its label; ``reads`` (a read meter) adds the reads sent so far to
    the bar's note.
    """

    def __init__(
        self,
        progress: ProgressArg,
        total: int | None,
        label: str,
        *,
        unit: str = "row",
        reads: Any = None,
    ) -> None:
        self.total, self.label, self.done = total, label, 0
        self.reads = reads
        self.callback: ProgressCallback | None = None
        self.bar: Any = None
        if callable(progress) and not isinstance(progress, bool):
            self.callback = progress
            progress(0, total, label)
        elif progress is True and total != 0:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=label, unit=f" {unit}", leave=True)

    def step(self) -> None:
        """One more item done."""
        self.update(self.done + 1)

    def update(self, done: int, note: str | None = None) -> None:
        """``done`` items done so far; ``note`` (e.g. ``"1,234 sources"``) replaces the label."""
        self.done = done
        if self.callback is not None:
            self.callback(done, self.total, note or self.label)
        if self.bar is not None:
            if self.reads is not None:
                note = f"{note or self.label} · {self.reads.describe()}"
            if note:
                self.bar.set_postfix_str(note, refresh=False)
            self.bar.update(done - self.bar.n)  # redraws at most every tqdm mininterval

    def close(self) -> None:
        """Finish the bar (a callback gets nothing more)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
