"""JupyterLab in headless chromium: explorer + metadata editor on a sandbox, end to end; and
the tabbed app as a new user reads it (issue 28).

The test starts ``python -m toolkit sandbox`` and JupyterLab (loopback, token) as subprocesses,
writes a notebook that builds the explorer and the metadata editor, then through the browser:
runs all cells, selects two rows of the grid, sets a key, previews, unticks dry run, applies, and
checks through the stripe SDK that the sandbox has the new metadata. It saves a screenshot.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from toolkit.widgets.grid import DEFAULT_COLUMNS as GRID_DEFAULT

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(150)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KEY = "sk_test_" + "Br0wser" * 4
META_KEY, META_VALUE = "browser_check", "set-in-jupyterlab"


@pytest.fixture(autouse=True)
def chromium() -> None:
    """Skip (outside CI) or fail (in CI) before starting anything when chromium is missing."""
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`."
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser test: " + message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing answered at {url} within {timeout} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _notebook(api_base: str) -> dict:
    cells = [
        "from toolkit.session import connect\n"
        "from toolkit.widgets import MetadataEditor, SourceExplorer\n"
        f"session = connect(api_base={api_base!r}, quiet=True)  # key: STRIPE_API_KEY",
        "explorer = SourceExplorer(session, page_length=10)\nexplorer",
        'editor = MetadataEditor(session, explorer, journal_folder="journals")\neditor',
    ]
    return {
        "cells": [
            {"cell_type": "code", "metadata": {}, "source": src, "outputs": [],
             "execution_count": None}
            for src in cells
        ],
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                           "language": "python"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }  # fmt: skip


@pytest.fixture
def sandbox_url(tmp_path: Path) -> Iterator[str]:
    """The sandbox as its own process (`python -m toolkit sandbox`), seeded small; yields its URL."""
    port = _free_port()
    log = (tmp_path / "sandbox.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "sandbox", "--port", str(port), "--customers", "40"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_http(url + "/v1/customers", proc, 20)
        yield url
    finally:
        _stop(proc)
        log.close()


@pytest.fixture
def lab(tmp_path: Path, sandbox_url: str) -> Iterator[tuple[str, Path]]:
    """JupyterLab on loopback with a token, config in tmp; yields (url of the notebook, folder)."""
    root = tmp_path / "work"
    root.mkdir()
    (root / "widgets.ipynb").write_text(json.dumps(_notebook(sandbox_url)), encoding="utf-8")
    config = tmp_path / "jupyter-config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "jupyter-workspaces"),
        "STRIPE_API_KEY": KEY,  # the kernel reads it; it must never reach the page
    }
    token = secrets.token_hex(16)
    port = _free_port()
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={token}",
        "--ServerApp.port_retries=0",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (tmp_path / "lab.log").open("wb")
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_http(f"{base}/api/status?token={token}", proc, 40)
        yield f"{base}/lab/tree/widgets.ipynb?token={token}", root
    finally:
        try:
            request = urllib.request.Request(
                f"{base}/api/shutdown", method="POST", headers={"Authorization": f"token {token}"}
            )
            urllib.request.urlopen(request, timeout=5).close()
            proc.wait(10)
        except Exception:
            pass
        _stop(proc)
        log.close()


def test_select_set_preview_apply_in_jupyterlab(
    lab: tuple[str, Path], sandbox_url: str, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, root = lab
    expect.set_options(timeout=45_000)  # a loaded 2-core CI box needs a while to import pandas
    shot = tmp_path / "jupyterlab-widgets.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2300})
            page.set_default_timeout(45_000)
            page.goto(url)
            # the kernel exists once the status bar says "... | Idle"
            page.get_by_text(re.compile(r"\| Idle$")).first.wait_for()
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator("li[data-command='runmenu:run-all']").click()

            rows = page.locator("table.dataTable tbody tr", has_text="src_")
            expect(rows.first).to_be_visible()
            # money sorts by amount, not as text: sort "received" (its order icon: itables lets
            # the header's text be selected) high to low, twice
            order = page.locator("table.dataTable thead th").nth(5).locator(".dt-column-order")
            order.click()
            order.click()
            cells = page.locator("table.dataTable tbody tr").evaluate_all(
                "rows => rows.map(r => r.children[5].innerText)"
            )
            amounts = [float(c.split()[0].replace(",", "")) for c in cells if c.strip()]
            assert len(amounts) > 3 and amounts == sorted(amounts, reverse=True), cells
            chosen = []
            for n in (0, 1):
                rows.nth(n).click()
                chosen.append(rows.nth(n).locator("td").first.inner_text().strip())
            expect(page.locator("table.dataTable tbody tr.selected")).to_have_count(2)
            assert all(c.startswith("src_") for c in chosen), chosen
            expect(page.get_by_text("2 sources selected")).to_be_visible()

            page.get_by_placeholder("key", exact=True).fill(META_KEY)
            page.get_by_placeholder("value", exact=True).fill(META_VALUE)
            page.get_by_role("button", name="Preview").click()
            expect(page.get_by_text(re.compile(r"2\s+ready"))).to_be_visible()

            page.get_by_text("Dry run (check against Stripe, change nothing)").click()
            apply_button = page.get_by_role("button", name=re.compile(r"Apply$"))
            expect(apply_button).to_be_enabled()
            apply_button.click()
            expect(
                page.locator(".toolkit-outcome td", has_text=re.compile(r"^\s*2\s+ok\s*$"))
            ).to_be_visible()
            expect(page.get_by_text("Journal:")).to_be_visible()
            expect(page.get_by_role("button", name=re.compile(r"Undo last apply$"))).to_be_enabled()
            page.screenshot(path=str(shot), full_page=True)
            content = page.content()
        except Exception:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
            raise
        finally:
            browser.close()
    print(f"screenshot: {shot}")

    assert KEY not in content
    assert "src_client_secret" not in content
    client = stripe.StripeClient(KEY, base_addresses={"api": sandbox_url})
    for source_id in chosen:
        source = client.v1.sources.retrieve(source_id)
        assert source.metadata is not None
        assert source.metadata.to_dict().get(META_KEY) == META_VALUE, source_id
    assert list((root / "journals").glob("plan_*.jsonl"))


def _app_notebook(api_base: str) -> dict:
    notebook = _notebook(api_base)
    notebook["cells"] = [
        notebook["cells"][0],
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "from toolkit.widgets import app\n"
                   "ui = app(session, journal_folder='journals', export_folder='exports')\nui"},
    ]  # fmt: skip
    return notebook


def _luminance(rgb: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@pytest.mark.timeout(300)
def test_the_app_reads_right_in_jupyterlab(
    lab: tuple[str, Path], sandbox_url: str, tmp_path: Path
) -> None:
    """Issue 28 in a real browser: the date fields say their format, a click on a column's name
    sorts, a filter hides selected rows without unselecting them, the Retirement tab shows no
    broken image and its findings keep the grid's width when filled in a hidden tab, and the
    dark theme darkens the tables. Screenshots: app-*.png in tmp_path."""
    from playwright.sync_api import expect, sync_playwright

    url, root = lab
    (root / "app.ipynb").write_text(json.dumps(_app_notebook(sandbox_url)), encoding="utf-8")
    url = url.replace("widgets.ipynb", "app.ipynb")
    expect.set_options(timeout=60_000)
    shots = {name: tmp_path / f"app-{name}.png" for name in ("explore", "retirement", "dark")}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.set_default_timeout(60_000)
        try:
            page.goto(url)
            page.get_by_text(re.compile(r"\| Idle$")).first.wait_for()
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator("li[data-command='runmenu:run-all']").click()
            grid = page.locator("table.dataTable:visible").first
            rows = grid.locator("tbody tr", has_text="src_")
            expect(rows.first).to_be_visible()
            # this test is about the loaded grid (clicks while rows stream in: the next test)
            expect(page.get_by_text(re.compile(r"^Loaded [\d,]+ sources")).first).to_be_visible()

            # item 4: the date field says which format it takes, and a refusal says it too
            created = page.get_by_placeholder("YYYY-MM-DD (UTC)").first
            expect(created).to_be_visible()
            created.fill("31/10/2026")
            created.press("Enter")
            expect(page.get_by_text("(YYYY-MM-DD)").first).to_be_visible()
            page.get_by_role("button", name="Clear filters").click()

            # item 3: a click on the column's name sorts (twice: high to low)
            title = grid.locator("thead th", has_text="unapplied").locator(".dt-column-title")
            title.click()
            title.click()
            column = GRID_DEFAULT.index("unapplied")
            cells = grid.locator("tbody tr").evaluate_all(
                f"rows => rows.map(r => r.children[{column}].innerText)"
            )
            amounts = [float(c.split()[0].replace(",", "")) for c in cells if c.strip()]
            assert len(amounts) > 3 and amounts == sorted(amounts, reverse=True), cells

            # item 5: filter away two of three selected rows: still three selected
            for n in range(3):
                rows.nth(n).click()
            expect(grid.locator("tbody tr.selected")).to_have_count(3)
            first = rows.nth(0).locator("td").first.inner_text().strip()
            search = page.get_by_placeholder("customer, email, name or src_ id")
            search.fill(first)
            search.press("Enter")
            expect(rows).to_have_count(1)
            hidden = re.compile(r"3 selected, 2 of them hidden by the filters")
            expect(page.get_by_text(hidden).first).to_be_visible()
            page.get_by_role("button", name="Clear filters").click()
            expect(page.get_by_text(re.compile(r"· 3 selected(?!,)")).first).to_be_visible()
            title.click()  # the grid was drawn anew: sort as before, the three on top again
            title.click()
            expect(grid.locator("tbody tr.selected")).to_have_count(3)
            page.screenshot(path=str(shots["explore"]), full_page=True)

            # item 10: no broken image before a run; findings filled while the tab is hidden
            page.get_by_role("tab", name="Retirement").click()
            retirement = page.locator(".lm-TabPanel-widget:visible").last
            assert retirement.locator("img:visible").count() == 0
            page.get_by_role("button", name="Run retirement audit").click()
            page.get_by_role("tab", name="Explore").click()
            page.wait_for_function(
                "() => [...document.querySelectorAll('.widget-label')]"
                ".some(l => /need action/.test(l.textContent))",
                timeout=120_000,
            )
            page.get_by_role("tab", name="Retirement").click()
            findings = page.locator("table.dataTable:visible").first
            expect(findings.locator("tbody tr").first).to_be_visible()
            width, room = findings.evaluate(
                "t => [t.getBoundingClientRect().width, t.closest('.dt-container').clientWidth]"
            )
            assert width >= 0.95 * room, (width, room)
            expect(page.locator("img:visible").first).to_be_visible()  # the chart, once run
            page.screenshot(path=str(shots["retirement"]), full_page=True)

            # dark theme: the tables follow it
            page.get_by_role("tab", name="Explore").click()
            page.locator(".lm-MenuBar-item", has_text="Settings").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Theme").first.hover()
            page.locator(".lm-Menu-itemLabel", has_text="JupyterLab Dark").first.click()
            head = page.locator("th", has_text="receivers").first
            expect(head).to_be_visible()
            page.wait_for_timeout(1500)
            assert _luminance(head.evaluate("h => getComputedStyle(h).backgroundColor")) < 0.4
            assert _luminance(head.evaluate("h => getComputedStyle(h).color")) > 0.6
            page.screenshot(path=str(shots["dark"]), full_page=True)
        except Exception:
            page.screenshot(path=str(tmp_path / "app-failure.png"), full_page=True)
            print(f"screenshot of the failure: {tmp_path / 'app-failure.png'}")
            raise
        finally:
            browser.close()
    for shot in shots.values():
        print(f"screenshot: {shot}")


def _streaming_notebook() -> dict:
    notebook = _notebook("")
    notebook["cells"] = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
         "source": "from toolkit.sandbox import Sandbox\n"
                   "from toolkit.session import connect\n"
                   "from toolkit.widgets import SourceExplorer\n"
                   "box = Sandbox(seed=3, customers=1500).start()\n"
                   "box.set_faults(latency=0.4)  # each answer 0.4 s late: a load of seconds\n"
                   "session = connect(api_base=box.url, quiet=True)\n"
                   "explorer = SourceExplorer(session, page_length=10)\nexplorer"},
    ]  # fmt: skip
    return notebook


def test_the_first_rows_show_long_before_the_load_ends(lab: tuple[str, Path]) -> None:
    """Issue 27: on a slow server the grid shows the first answer's rows while the load goes on."""
    from playwright.sync_api import expect, sync_playwright

    url, root = lab
    (root / "streaming.ipynb").write_text(json.dumps(_streaming_notebook()), encoding="utf-8")
    url = url.replace("widgets.ipynb", "streaming.ipynb")
    expect.set_options(timeout=60_000)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1200})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.get_by_text(re.compile(r"\| Idle$")).first.wait_for()
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator("li[data-command='runmenu:run-all']").click()
            page.get_by_text("Loading sources").first.wait_for()  # the explorer is on screen
            shown = time.monotonic()
            page.locator("table.dataTable tbody tr", has_text="src_").first.wait_for()
            first = time.monotonic() - shown
            loading = page.get_by_text(re.compile(r"loading: [\d,]+ sources so far"))
            still_loading = loading.count() > 0
            expect(page.get_by_text(re.compile(r"^Loaded [\d,]+ sources"))).to_be_visible()
            whole = time.monotonic() - shown
        finally:
            browser.close()
    print(f"first rows after {first:.1f} s, the whole load after {whole:.1f} s")
    assert still_loading, "the first rows came only when the load had ended"
    assert first < whole / 2, (first, whole)


_CLICK_ROW = """n => {
  const rows = [...document.querySelectorAll('table.dataTable tbody tr')]
    .filter(r => r.children.length > 1 && /^src_/.test(r.children[0].innerText.trim()));
  if (rows.length <= n) { return [null, false, false]; }
  const row = rows[n];
  const before = row.classList.contains('selected');
  row.children[1].click();
  return [row.children[0].innerText.trim(), before, row.classList.contains('selected')];
}"""


@pytest.mark.timeout(300)
def test_clicks_while_rows_stream_in_are_kept(lab: tuple[str, Path]) -> None:
    """Issue 27 item 4: a selection made before the load ends stays correct. Rows are clicked
    (each click toggles one) while they stream in and while the whole frame replaces them,
    newest first: a click the browser sent on one draw and the kernel read on the next was
    lost or taken for another row. The kernel's selection, saved by "Save selection", must be
    exactly the rows clicked, and the browser must show as many selected."""
    from playwright.sync_api import expect, sync_playwright

    url, root = lab
    (root / "streaming.ipynb").write_text(json.dumps(_streaming_notebook()), encoding="utf-8")
    url = url.replace("widgets.ipynb", "streaming.ipynb")
    expect.set_options(timeout=60_000)
    shot = root.parent / "streaming-clicks.png"
    expected: set[str] = set()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.set_default_timeout(60_000)
        try:
            page.goto(url)
            page.get_by_text(re.compile(r"\| Idle$")).first.wait_for()
            page.locator(".lm-MenuBar-item", has_text="Run").first.click()
            page.locator("li[data-command='runmenu:run-all']").click()
            rows = page.locator("table.dataTable tbody tr", has_text="src_")
            rows.first.wait_for()
            loaded = page.get_by_text(re.compile(r"^Loaded [\d,]+ sources"))
            clicks, after = 0, 0
            while after < 4 and clicks < 200:  # until a few clicks after the load ended
                done = loaded.count() > 0
                # one step of the page's own JavaScript: the row's id, its state before and
                # after the click (a kernel message cannot come between them)
                sid, before, now = page.evaluate(_CLICK_ROW, clicks % 7)
                clicks += 1
                if sid is None:  # the grid was being drawn anew: next one
                    page.wait_for_timeout(50)
                    continue
                assert before != now, f"a click on {sid} did not toggle it in the browser"
                expected ^= {sid}
                after += done
                page.wait_for_timeout(100)
            expect(loaded).to_be_visible()
            count = re.compile(rf"· {len(expected)} selected(?!,)")
            expect(page.get_by_text(count).first).to_be_visible()
            page.get_by_role("button", name="Save selection").click()
            expect(page.get_by_text(re.compile(r"^Saved [\d,]+ selected")).first).to_be_visible()
            page.screenshot(path=str(shot), full_page=True)
        except Exception:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
            raise
        finally:
            browser.close()
    saved = sorted(root.glob("exports/selection*.csv"))
    assert saved, list(root.rglob("*.csv"))
    kept = set(saved[-1].read_text().splitlines()[1:])
    kept = {line.split(",")[0] for line in kept}
    print(f"{clicks} clicks, {len(expected)} rows selected at the end")
    assert expected and kept == expected
