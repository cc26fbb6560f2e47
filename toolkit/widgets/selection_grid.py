"""The explorer's grid widget: an itables grid whose selection says which rows and selection
it was made on.

itables' grid tells the kernel the positions of the rows selected (``selected_rows``), and the
kernel maps them to source ids by the rows it last drew. While a load streams in, the kernel
draws the rows again each second and, at the end, newest first; each drawing also carries the
kernel's selection. A click the browser sent on one drawing reached the kernel after the next
had left, and was read against rows that had moved (another row selected), or the next drawing
put back the selection without it (the click lost). Positions alone cannot tell which drawing
they belong to.

So each time the kernel sends rows or a selection it numbers them (``revision``, in the same
message), and the browser stamps each selection it sends with the revision it was made on
(``seen_revision``, in the same message as ``selected_rows``: a few lines of JavaScript around
itables' own, which is loaded unchanged). The grid keeps the ids and the selection of its last
revisions, and :meth:`take_selection` reads a selection as the rows it added and removed on the
revision it was made on: a click is never read against rows it was not made on, nor undone by
a revision it had not seen. When the selection came from an older revision, the browser shows
rows or a selection the kernel has since replaced: the caller sends the selection again.

>>> grid = SelectionGrid(pd.DataFrame({"id": ["src_a"]}), ids=["src_a"], selected_rows=[])
>>> grid.redraw(pd.DataFrame({"id": ["src_b", "src_a"]}), ids=["src_b", "src_a"], selected_rows=[])
>>> grid.set_state({"seen_revision": 1, "selected_rows": [0]})  # the browser, on the first rows
>>> grid.take_selection(grid.selected_rows), grid.stale
(({'src_a'}, set()), True)
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import itables.widget
import pandas as pd
import traitlets
from itables.widget import ITable

__all__ = ["KEPT_REVISIONS", "SelectionGrid"]

#: Revisions whose rows and selection are kept: a selection made on an older one is not read
#: (the kernel's is sent again).
KEPT_REVISIONS = 8

_ITABLES_JS = Path(itables.widget.__file__).parent / "static" / "widget.js"

#: itables' module loaded as it is, its render given a model whose ``save_changes`` first
#: stamps the revision the selection was made on (so both go in one message).
_WRAPPER = """
const url = URL.createObjectURL(new Blob([ITABLES], { type: "text/javascript" }));
const itables = (await import(url)).default;
URL.revokeObjectURL(url);

function stamped(model) {
  return new Proxy(model, {
    get(target, name) {
      if (name === "save_changes") {
        return (...args) => {
          target.set("seen_revision", target.get("revision"));
          return target.save_changes(...args);
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export default { ...itables, render: (props) => itables.render({ ...props, model: stamped(props.model) }) };
"""


def _module_source() -> str:
    return f"const ITABLES = {json.dumps(_ITABLES_JS.read_text(encoding='utf-8'))};\n{_WRAPPER}"


class SelectionGrid(ITable):
    """itables' grid whose selection names the revision it was made on (see the module)."""

    _esm = _module_source()  # type: ignore[assignment]  # anywidget takes code or a path
    #: the number of the rows and selection the kernel sent last (kernel to browser)
    revision = traitlets.Int(1).tag(sync=True)
    #: the revision the browser's last selection was made on (browser to kernel; 0: unknown,
    #: a selection set in Python: the last revision)
    seen_revision = traitlets.Int(0).tag(sync=True, echo_update=False)
    #: itables' trait, not echoed: ipywidgets 8 sends a browser's change back to it, and an
    #: echo of a selection made on older rows, arriving after the kernel's newer revision,
    #: would select the same positions on other rows
    selected_rows = traitlets.List(traitlets.Int()).tag(sync=True, echo_update=False)

    def __init__(self, frame: pd.DataFrame, *, ids: Sequence[str], **options: Any) -> None:
        """The grid of ``frame``, whose rows are the sources ``ids`` (revision 1)."""
        super().__init__(frame, **options)
        chosen = set(self.selected_rows)
        self._sent: OrderedDict[int, tuple[list[str], set[int]]] = OrderedDict(
            {1: (list(ids), chosen)}
        )

    def redraw(
        self, frame: pd.DataFrame, *, ids: Sequence[str], selected_rows: list[int], **options: Any
    ) -> None:
        """Show ``frame`` (whose rows are the sources ``ids``) with these rows selected: the
        rows, the selection and the revision reach the browser in one message.

        Rows appended to those shown, with the selection the browser last sent, are no new
        revision: the browser keeps its own selection (and the clicks on their way)."""
        ids = list(ids)
        shown, browser = self._sent[self.revision]
        appended = ids[: len(shown)] == shown and set(selected_rows) == browser
        with self.hold_sync():
            self.update(frame, selected_rows=selected_rows, **options)
            if appended:
                self._sent[self.revision] = (ids, browser)
                self._states_to_send.discard("selected_rows")
            else:
                self._revise(ids, selected_rows)

    def select_rows(self, positions: list[int]) -> None:
        """Select ``positions`` of the rows shown, in the browser too (a new revision)."""
        with self.hold_sync():
            self.selected_rows = positions
            self._revise(self._sent[self.revision][0], positions)

    def _revise(self, ids: list[str], positions: list[int]) -> None:
        self.revision += 1
        self._sent[self.revision] = (ids, set(positions))
        while len(self._sent) > KEPT_REVISIONS:
            self._sent.popitem(last=False)
        # the selection goes with every revision, even when the kernel's value is already
        # that (the value the browser sent last): the browser may have moved on from it
        self._states_to_send.add("selected_rows")

    @property
    def stale(self) -> bool:
        """True when the browser's last selection was made on an older revision than the last:
        the browser shows what the kernel has since replaced until it is sent again."""
        return self.seen_revision not in (0, self.revision)

    def take_selection(self, positions: Sequence[int]) -> tuple[set[str], set[str]] | None:
        """The source ids the browser's selection ``positions`` added and removed, read on the
        revision it was made on; None when that revision is too old to be kept."""
        revision = self.seen_revision or self.revision
        if revision not in self._sent:
            return None
        ids, before = self._sent[revision]
        now = {i for i in positions if 0 <= i < len(ids)}
        self._sent[revision] = (ids, now)  # the browser's next selection on it starts here
        return {ids[i] for i in now - before}, {ids[i] for i in before - now}
