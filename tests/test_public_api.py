"""The public surface: ``toolkit.__all__`` equals the README's reference, and every name is documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import toolkit

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_reference() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## API reference", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Za-z_]+)` \|", section, flags=re.MULTILINE)


def test_all_equals_the_readme_reference():
    documented = readme_reference()
    assert len(documented) == len(set(documented)), "a name is listed twice in the README"
    assert sorted(documented) == sorted(toolkit.__all__)


def test_every_public_name_resolves():
    for name in toolkit.__all__:
        assert getattr(toolkit, name) is not None, name


def test_public_functions_are_typed_and_show_a_call():
    for name in toolkit.__all__:
        obj = getattr(toolkit, name)
        if not inspect.isfunction(obj):
            continue
        doc = inspect.getdoc(obj) or ""
        assert doc, f"{name} has no docstring"
        assert f"{name}(" in doc, f"{name}'s docstring shows no call"
        signature = inspect.signature(obj)
        assert signature.return_annotation is not inspect.Signature.empty, (
            f"{name} has no return type"
        )


def test_errors_form_one_tree():
    for name in toolkit.__all__:
        obj = getattr(toolkit, name)
        if inspect.isclass(obj) and issubclass(obj, Warning):
            assert obj.__doc__ and name in (toolkit.errors.__doc__ or ""), name  # drawn there too
        elif inspect.isclass(obj) and issubclass(obj, Exception):
            assert issubclass(obj, toolkit.ToolkitError), name
    assert issubclass(toolkit.InvalidKeyError, toolkit.ConfigurationError)
    assert issubclass(toolkit.InvalidInputError, ValueError)


def test_apply_is_the_function_not_the_module():
    import importlib

    import pytest

    import toolkit.changes

    importlib.import_module("toolkit.changes.run.applying")  # apply's module, named otherwise
    for name in ("apply", "undo"):  # no module shadows the function, or is shadowed by it
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(f"toolkit.changes.{name}")
        assert getattr(toolkit.changes, name) is getattr(toolkit, name)
    assert callable(toolkit.apply) and toolkit.apply.__name__ == "apply"


def runbook_code() -> str:
    import json

    cells = []
    for path in sorted((README.parent / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells += ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    return "\n".join(cells)


def test_every_name_the_runbooks_use_is_public():
    """Runbooks use ``toolkit.<name>`` from ``toolkit.__all__`` and the widgets' public names."""
    import ast

    import toolkit.widgets

    public = {"toolkit": set(toolkit.__all__), "toolkit.widgets": set(toolkit.widgets.__all__)}
    used: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(runbook_code())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("toolkit"):
            used += [(node.module or "", alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            used += [(a.name, "") for a in node.names if a.name.startswith("toolkit.")]
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "toolkit"
        ):
            used.append(("toolkit", node.attr))
    assert used
    private = [f"{module}.{name}" for module, name in used if name not in public.get(module, ())]
    assert not private, f"runbooks reach past the public API: {sorted(set(private))}"
