"""``import toolkit`` is light: what every papermill kernel and every CLI call pays first.

Charts (matplotlib), workbooks (xlsxwriter, openpyxl), widgets (ipywidgets, itables, IPython),
DuckDB and the stripe SDK load on first use; the CLI loads only the command asked for. Each check
runs in a fresh interpreter, so what the other tests imported does not count.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys

import pytest

#: Loaded on first use, never by ``import toolkit``.
HEAVY = {
    "matplotlib",
    "openpyxl",
    "xlsxwriter",
    "ipywidgets",
    "itables",
    "IPython",
    "duckdb",
    "stripe",
    "jsonschema",
}
#: ``import toolkit`` may cost at most this many times ``import pandas`` (the public API needs it).
MAX_RATIO = 1.5

#: One fresh interpreter: the modules it holds after ``import toolkit``, after ``--help``, and
#: after ``sandbox --help``.
PROBE = """
import json, sys
import toolkit
from toolkit.cli import main
seen = {"import": sorted(sys.modules)}
for name, argv in (("help", ["--help"]), ("sandbox", ["sandbox", "--help"])):
    try:
        main(argv)
    except SystemExit:
        pass
    seen[name] = sorted(sys.modules)
print(json.dumps(seen))
"""


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    return {step: set(modules) for step, modules in seen.items()}


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_import_toolkit_loads_no_heavy_library(loaded):
    assert "pandas" in top_level(loaded["import"])
    assert not top_level(loaded["import"]) & HEAVY, sorted(top_level(loaded["import"]) & HEAVY)


def test_the_help_loads_no_command(loaded):
    commands = {m for m in loaded["help"] if m.startswith(("toolkit.sandbox", "toolkit.widgets"))}
    commands |= {m for m in loaded["help"] if m.startswith("toolkit.cli.") and m.count(".") == 2}
    assert commands <= {"toolkit.cli.main", "toolkit.cli.output"}, sorted(commands)
    assert not top_level(loaded["help"]) & HEAVY


def test_a_command_loads_only_its_own_module(loaded):
    assert "toolkit.sandbox.cli" in loaded["sandbox"]
    assert not {"toolkit.cli.export", "toolkit.cli.audit", "toolkit.cli.lab"} & loaded["sandbox"]
    assert not top_level(loaded["sandbox"]) & HEAVY


def cpu_seconds(code: str) -> float:
    """CPU time (user + system) of a fresh interpreter running ``code``: unlike wall time it
    barely moves when other processes share the machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


@pytest.mark.slow
def test_import_toolkit_costs_little_more_than_import_pandas():
    pandas, toolkit = [], []
    for _ in range(3):  # interleaved, so a busy moment hits both alike
        pandas.append(cpu_seconds("import pandas"))
        toolkit.append(cpu_seconds("import toolkit"))
    ratio = statistics.median(toolkit) / statistics.median(pandas)
    assert ratio <= MAX_RATIO, f"import toolkit costs {ratio:.2f}x import pandas"


#: What ``toolkit.load_sources`` must not load: the other readers of the fetch wing and Parquet.
NOT_FOR_A_LOAD = {
    "pyarrow.parquet",
    "pyarrow.dataset",
    "toolkit.fetch.dataset",
    "toolkit.fetch.refresh",
    "toolkit.fetch.snapshot",
    "toolkit.fetch.ledger",
    "toolkit.fetch.cash",
}


def fresh_modules(code: str) -> set[str]:
    """The modules a fresh interpreter holds after ``code``."""
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_load_sources_loads_only_its_own_modules():
    # the first call of a process pays what resolving the name imports (0.03 s, 0.07 s with
    # every reader of the wing: bench/accounts.py's cold run)
    seen = fresh_modules("import toolkit\ntoolkit.load_sources")
    assert "toolkit.fetch.load" in seen
    assert not seen & NOT_FOR_A_LOAD, sorted(seen & NOT_FOR_A_LOAD)


def test_a_function_named_like_its_module_stays_the_function():
    # toolkit.fetch.refresh imports toolkit.fetch.reread: the package must still give functions
    code = (
        "import toolkit.fetch.refresh\nfrom toolkit.fetch import refresh, reread\nimport toolkit\n"
        "assert callable(refresh) and callable(reread), (refresh, reread)\n"
        "assert toolkit.refresh is refresh and toolkit.reread is reread\n"
        "assert toolkit.fetch.refresh is refresh"
    )
    fresh_modules(code)
