"""JupyterLab in headless chromium: explorer + metadata editor on a sandbox, end to end.

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
        assert source.metadata.to_dict().get(META_KEY) == META_VALUE, source_id
    assert list((root / "journals").glob("plan_*.jsonl"))
