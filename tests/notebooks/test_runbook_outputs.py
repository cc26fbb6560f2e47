"""Issue 28 item 7: a runbook never writes over a file an earlier run wrote (a plan signed off,
a snapshot, a workbook filed): every file it writes gets a fresh name (``toolkit.fresh_path``)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
#: Calls that write a file, and the position of their path argument.
WRITERS = {
    "to_csv": 0,
    "to_excel": 0,
    "plot": 0,
    "save_snapshot": 1,
    "write_sources_csv": 1,
    "save_ids": 1,
    "save_plan": 1,
}


def _name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_file_a_runbook_writes_is_a_new_one(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    writes = 0
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        for node in ast.walk(ast.parse("".join(cell["source"]))):
            if not isinstance(node, ast.Call) or _name(node.func) not in WRITERS:
                continue
            position = WRITERS[_name(node.func)]
            if len(node.args) <= position:
                continue  # audit.plot(): shown, not written
            path = node.args[position]
            writes += 1
            assert isinstance(path, ast.Call) and _name(path.func) == "fresh_path", (
                f"{notebook.name}: {ast.unparse(node)} may replace an earlier file: "
                "wrap the path in toolkit.fresh_path(...)"
            )
    if notebook.name.startswith(("01", "02", "03", "04", "05")):
        assert writes, f"{notebook.name} writes no file?"
