"""The house rules, kept true by a test: wings with one-way arrows, one door to Stripe, no import
circles, no private names reached across modules. (A module is one concept; its length is no rule:
past about 600 lines, ask whether it holds two.)

Reads the code with :mod:`ast` (nothing is imported). Run ``pytest tests/test_layout.py -q``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "toolkit"
#: Modules allowed at the top of the package, beside the wings.
MAX_TOP_MODULES = 8
#: The base modules every wing may use.
BASE = {"errors", "money", "redact", "private_files", "progress", "display"}
#: Which wing may import which (besides itself and the base). Arrows go one way: down.
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "session": {"sandbox"},  # connect() starts the embedded sandbox
    "fetch": {"session"},
    "changes": {"session", "fetch"},
    # migration_run: one call that loads (through fetch) and audits; the covers read a change
    # run's journal for its maker and checker (changes)
    "audit": {"fetch", "session", "changes"},
    "cli": {"session", "fetch", "changes", "audit", "sandbox"},
    "widgets": {"session", "fetch", "changes", "audit"},
    "sandbox": set(),
    "__init__": {"session", "fetch", "changes", "audit"},
    "__main__": {"cli"},
}
#: The only wing that may import the stripe SDK.
SDK_DOOR = "session"


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def wing_of(module: str) -> str:
    """``toolkit.changes.run.applying`` -> "changes"; base modules -> "base"."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__"
    if parts[1] in BASE:
        return "base"
    return parts[1]


def imports_of(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names, line) for every import in a file, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, list[str], int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((base, [alias.name for alias in node.names], node.lineno))
    return found


def toolkit_target(name: str, known: dict[str, Path]) -> str | None:
    """The toolkit module an import refers to (the longest known prefix)."""
    if not name.startswith("toolkit"):
        return None
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in known:
            return candidate
        parts.pop()
    return None


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in known.items():
        for name, names, _ in imports_of(path, module):
            target = toolkit_target(name, known)
            if target is None:
                continue
            # ``from toolkit.changes import apply`` may name a submodule
            for item in names:
                sub = toolkit_target(f"{name}.{item}", known)
                if sub is not None and sub != target and sub.startswith(name + "."):
                    edges[module].add(sub)
            if target != module:
                edges[module].add(target)
    return edges


def test_at_most_eight_modules_at_the_top():
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top
    wings = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())
    assert wings == ["audit", "changes", "cli", "fetch", "sandbox", "session", "widgets"]


def test_no_import_circles():
    edges = graph()
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*stack[stack.index(nxt) :], nxt])
            elif state.get(nxt) is None:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(modules()):
        if state.get(node) is None:
            visit(node, [])
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles)


def test_arrows_between_wings_go_one_way():
    wrong = []
    for module, targets in graph().items():
        here = wing_of(module)
        for target in targets:
            there = wing_of(target)
            if there in (here, "base"):
                continue
            if here == "base" or there not in ALLOWED[here]:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "arrows against the layout: " + ", ".join(sorted(wrong))


def test_the_session_reaches_the_sandbox_only_to_start_it():
    """connect() starts the embedded sandbox; nothing else in the session knows it is one (its
    clock comes through the Date header, like any server's)."""
    known = modules()
    reaching = sorted(
        f"{module} -> {target}"
        for module, targets in graph().items()
        if wing_of(module) == "session" and module != "toolkit.session.connect"
        for target in targets
        if wing_of(target) == "sandbox"
    )
    assert "toolkit.session.connect" in known and not reaching, reaching


def test_only_the_session_imports_stripe():
    doors = []
    for module, path in modules().items():
        if wing_of(module) == SDK_DOOR:
            continue
        for name, _, line in imports_of(path, module):
            if name == "stripe" or name.startswith("stripe."):
                doors.append(f"{module}:{line}")
    assert not doors, f"stripe imported outside toolkit.session: {doors}"


def test_nobody_reaches_through_the_session_client():
    """``session.client.v1...`` and ``raw_request`` belong to the session's typed methods."""
    through = []
    for module, path in modules().items():
        if wing_of(module) == SDK_DOOR:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("v1", "raw_request"):
                through.append(f"{module}:{node.lineno} .{node.attr}")
    assert not through, f"SDK calls outside the session: {through}"


def test_no_private_name_is_imported_across_modules():
    known = modules()
    private: list[str] = []
    for module, path in known.items():
        for name, names, line in imports_of(path, module):
            if toolkit_target(name, known) is None:
                continue
            private.extend(
                f"{module}:{line} imports {item}"
                for item in names
                if item.startswith("_") and not item.startswith("__")
            )
    assert not private, private


def test_no_private_attribute_of_another_object():
    """``other._thing`` (not ``self._thing``) reaches into another object's insides."""
    reaching = []
    for module, path in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            attr = node.attr
            if not attr.startswith("_") or attr.startswith("__"):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and getattr(owner.func, "id", None) == "super":
                continue
            reaching.append(f"{module}:{node.lineno} .{attr}")
    assert not reaching, reaching


#: The one list layer: the only module that follows Stripe's cursor.
LIST_LAYER = "toolkit.fetch.lists"
#: Stripe's paging words, which only the list layer may use in code.
PAGING_WORDS = ("has_more", "starting_after")
#: Modules that name a paging word without walking a list, and why.
PAGING_EXEMPT = {
    # NotFoundError.cursor_vanished (public) tells a vanished cursor from an unknown id by the
    # error's ``param``; it walks no list (and the base may not import fetch)
    "toolkit.errors",
}


def paging_words_in(path: Path) -> list[str]:
    """Where a paging word appears in code: names, attributes, arguments and strings, not
    docstrings or comments (prose may explain Stripe's paging)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = "" if id(node) in docstrings else node.value
        elif isinstance(node, ast.Name):
            text = node.id
        elif isinstance(node, ast.Attribute):
            text = node.attr
        elif isinstance(node, ast.arg):
            text = node.arg
        elif isinstance(node, ast.keyword):
            text = node.arg or ""
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            text = node.name
        else:
            continue
        found.extend((node.lineno, word) for word in PAGING_WORDS if word in text)
    return [f"{line}: {word}" for line, word in sorted(found)]


def test_one_list_layer():
    """``has_more`` / ``starting_after`` loops live in toolkit/fetch/lists.py only: every other
    module walks a list with it (iter_pages, iter_list, next_params...). The sandbox, which
    implements Stripe's paging on the server's side, is exempt."""
    outside: list[str] = []
    for module, path in modules().items():
        if module == LIST_LAYER or module in PAGING_EXEMPT or wing_of(module) == "sandbox":
            continue
        outside.extend(f"{module}:{where}" for where in paging_words_in(path))
    assert not outside, f"Stripe's paging outside {LIST_LAYER}: {outside}"


def test_the_list_rule_sees_code_and_not_prose(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Pages while ``has_more``."""\n'
        "def walk(page, params):\n"
        '    """Follow ``starting_after``."""\n'
        "    # has_more in a comment\n"
        '    if page.get("has_more"):\n'
        '        params["starting_after"] = page["data"][-1]["id"]\n',
        encoding="utf-8",
    )
    assert paging_words_in(sample) == ["5: has_more", "6: starting_after"]


def test_the_wings_use_the_declared_session():
    """fetch, changes and audit are typed against the declared protocol (SessionLike), never the
    Session class, and read no session attribute by ``getattr`` with a default: what they need
    is declared, and mypy checks it (the widgets and the CLI pass a Session where SessionLike is
    asked for: mypy proves the Session implements it; so does the protocol module's doctest)."""
    offenders = []
    for wing in ("fetch", "changes", "audit"):
        for path in sorted((ROOT / "toolkit" / wing).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ImportFrom)
                    and node.module == "toolkit.session"
                    and any(alias.name == "Session" for alias in node.names)
                ):
                    offenders.append(f"{path.relative_to(ROOT)}: imports Session")
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in ("getattr", "hasattr")
                    and node.args
                    and "session" in ast.unparse(node.args[0])
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, offenders
