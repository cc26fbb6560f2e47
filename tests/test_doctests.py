"""Every ``>>>`` example in the toolkit's docstrings runs, against the sandbox.

Each module's examples run in a fresh working folder with these names at hand (besides the
module's own): ``toolkit``, ``pd``, ``session`` (a test-mode session on a sandbox of its own),
``sources`` (its sources), ``outcome`` (a two-row metadata plan applied there), ``audit`` (the
receiver audit of ``sources``), ``cash`` (every cash balance) and ``migration`` (the retirement
audit of ``sources`` and ``cash``). Only what a module's examples mention is built.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import os
from pathlib import Path

import pandas as pd
import pytest

import toolkit
from toolkit.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk_test_" + "D0ctest" * 4
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def module_names() -> list[str]:
    names = []
    for path in sorted((ROOT / "toolkit").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def examples(module: object) -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module) if t.examples]


def fixtures(box: Sandbox, wanted: str) -> dict[str, object]:
    """The names an example may use, built only when the examples mention them."""
    session = toolkit.connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)
    names: dict[str, object] = {"toolkit": toolkit, "pd": pd, "session": session}
    if any(name in wanted for name in ("sources", "audit", "outcome")):
        names["sources"] = toolkit.load_sources(session, progress=False)
    if "outcome" in wanted:
        chosen: pd.DataFrame = names["sources"]
        ids = chosen[chosen["customer"].notna() & chosen["status"].isin(["chargeable"])]
        plan = toolkit.plan_metadata(ids.head(2), set={"doctest": "yes"})
        names["outcome"] = toolkit.apply(plan, session, progress=False)
    if "audit" in wanted:
        names["audit"] = toolkit.audit_receivers(names["sources"])
    if "cash" in wanted or "migration" in wanted:
        if "sources" not in names:
            names["sources"] = toolkit.load_sources(session, progress=False)
        names["cash"] = toolkit.load_cash_balances(session, progress=False)
    if "migration" in wanted:
        names["migration"] = toolkit.audit_migration(names["sources"], names["cash"])
    return names


WITH_EXAMPLES = [n for n in module_names() if examples(importlib.import_module(n))]


def test_the_public_modules_have_examples():
    assert {"toolkit", "toolkit.changes.run.applying", "toolkit.fetch.load"} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_examples_run(name, tmp_path, monkeypatch):
    module = importlib.import_module(name)
    tests = examples(module)
    monkeypatch.chdir(tmp_path)
    for variable in ("STRIPE_API_KEY", "STRIPE_API_BASE", "STRIPE_ACCOUNT"):
        monkeypatch.delenv(variable, raising=False)
    wanted = "\n".join(example.source for test in tests for example in test.examples)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    with Sandbox(seed=7, customers=40) as box:
        extra = fixtures(box, wanted)
        for test in tests:
            test.globs = {**test.globs, **extra}
            runner.run(test, out=report.append)  # doctest captures stdout while it runs
    assert runner.failures == 0, "".join(report)


def test_every_public_function_shows_a_call_that_runs():
    """Each public function's docstring has a ``>>>`` example of its own."""
    missing = []
    for name in toolkit.__all__:
        obj = getattr(toolkit, name)
        if inspect.isfunction(obj):
            doc = inspect.getdoc(obj) or ""
            if ">>>" not in doc or f"{name}(" not in doc:
                missing.append(name)
    assert not missing, f"no >>> example in the docstring of {missing}"


def test_the_fixtures_leave_no_key_in_the_environment():
    assert "STRIPE_API_KEY" not in os.environ
