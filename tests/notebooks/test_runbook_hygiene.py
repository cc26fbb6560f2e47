"""The stored runbooks are clean: no secrets, no widget state, parameters in place, fully run.

Fast checks on the .ipynb files themselves (no kernel): what nbval cannot see.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.notebooks.regenerate import (
    NOTEBOOKS_DIR,
    ROOT,
    RUNBOOK_NAMES,
    SANITIZE_FILE,
    SECRET_PATTERN,
    runbooks,
)

NAMES = RUNBOOK_NAMES
PARAMETER_LINES = [
    "api_key_env: Optional[str] = None",
    "stripe_account: Optional[str] = None",
    "dry_run: bool = True",
]


def load(name: str) -> dict:
    return json.loads((NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))


def test_the_five_runbooks_exist():
    assert [p.stem for p in runbooks()] == NAMES


def test_readme_lists_each_runbook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in NAMES:
        assert f"notebooks/{name}.ipynb" in readme


@pytest.mark.parametrize("name", NAMES)
def test_no_secret_and_no_widget_state(name):
    text = (NOTEBOOKS_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    assert not SECRET_PATTERN.search(text)
    assert "client_secret" not in text.replace("`client_secret`", "")
    nb = json.loads(text)
    assert "widgets" not in nb["metadata"]
    assert "application/vnd.jupyter.widget-state+json" not in text
    for cell in nb["cells"]:
        assert "execution" not in cell["metadata"]


@pytest.mark.parametrize("name", NAMES)
def test_parameters_cell(name):
    nb = load(name)
    cells = [c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(cells) == 1
    source = "".join(cells[0]["source"])
    for line in PARAMETER_LINES:
        assert line in source
    # every parameter is typed and commented
    for line in source.splitlines():
        if line and not line.startswith("#") and line != "from typing import Optional":
            assert re.match(r"^\w+: [^=]+ = .+  # .+", line), line
    assert nb["cells"][0]["cell_type"] == "markdown"


@pytest.mark.parametrize("name", NAMES)
def test_papermill_sees_every_parameter(name):
    """papermill's own parser (``--help-notebook``, unknown-parameter warnings) finds each one,
    with its type and its comment as help (it cannot read ``X | None``: hence ``Optional``)."""
    from papermill.translators import PythonTranslator

    nb = load(name)
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    source = "".join(cell["source"])
    declared = [line.split(":")[0] for line in source.splitlines() if re.match(r"^\w+: ", line)]
    found = PythonTranslator.inspect({"source": source})
    assert [p.name for p in found] == declared
    assert all(p.help and p.inferred_type_name != "None" for p in found)


@pytest.mark.parametrize("name", NAMES)
def test_stored_outputs_are_a_full_clean_run(name):
    nb = load(name)
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1)), (
        "regenerate with tests/notebooks/regenerate.py"
    )
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error"
            text = json.dumps(out)
            assert "Traceback" not in text
            assert "/work/" not in text and "/home/" not in text, "absolute path in an output"


@pytest.mark.parametrize("name", NAMES)
def test_strict_mode_only(name):
    nb = load(name)
    assert "nbval-lax" not in json.dumps(nb["metadata"])
    ignored = [c for c in nb["cells"] if "nbval-ignore-output" in c["metadata"].get("tags", [])]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(ignored) <= 2 < len(code), "ignore outputs only on the few cells that need it"
    for cell in code:
        assert "nbval-skip" not in cell["metadata"].get("tags", [])


def test_sanitize_file_compiles():
    lines = SANITIZE_FILE.read_text(encoding="utf-8").splitlines()
    regexes = [line.removeprefix("regex: ") for line in lines if line.startswith("regex: ")]
    replaces = [line for line in lines if line.startswith("replace: ")]
    assert regexes and len(regexes) == len(replaces)
    for regex in regexes:
        re.compile(regex)
