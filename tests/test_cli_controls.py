"""Issue 28, what a controller's team expects of the command line: the HTML report, errors as JSON
under ``--json``, shell completion, the schedule recipe's exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import toolkit
from toolkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
TEST_KEY = "sk_test_" + "C0ntr0ls" * 3


@pytest.fixture
def cli(fresh_sandbox, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("STRIPE_API_BASE", fresh_sandbox.url)
    monkeypatch.delenv("STRIPE_ACCOUNT", raising=False)
    return tmp_path


def _self_contained(text: str) -> None:
    assert text.startswith("<!DOCTYPE html>") and "</html>" in text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing from the network
    assert "<script" not in text and "@import" not in text
    assert "@media print" in text


def test_write_report_is_one_self_contained_file(session, tmp_path):
    sources = toolkit.load_sources(session, progress=False)
    audit = toolkit.audit_receivers(sources)
    path = toolkit.write_report(tmp_path / "r.html", receivers=audit)
    text = path.read_text(encoding="utf-8")
    _self_contained(text)
    assert text.count("data:image/png;base64,") == 1
    assert "Receiver balance audit" in text and "Findings (" in text
    assert "Sources retirement audit" not in text
    for finding in audit.exceptions["source"]:
        assert finding in text
    assert "_minor" not in text  # money in main units only
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(toolkit.InvalidInputError, match="force"):
        toolkit.write_report(path, receivers=audit)
    assert toolkit.write_report(path, receivers=audit, force=True) == path
    with pytest.raises(toolkit.InvalidInputError, match="needs an audit"):
        toolkit.write_report(tmp_path / "none.html")


@pytest.mark.slow
def test_report_command_writes_both_audits(cli, capsys):
    assert main(["report", "--out", "runs/month.html", "--json"]) in (0, 3)
    summary = json.loads(capsys.readouterr().out)
    text = Path(summary["written"]).read_text(encoding="utf-8")
    _self_contained(text)
    assert "Receiver balance audit" in text and "Sources retirement audit" in text
    assert text.count("data:image/png;base64,") == 2
    assert summary["migration"]["findings"] >= 0 and summary["receivers"]["audited"] > 0
    # an existing file is never replaced without --force: refused before any read
    assert main(["report", "--out", "runs/month.html", "--json"]) == 2
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])["error"]
    assert error["type"] == "InvalidInputError" and "--force" in error["message"]


def test_json_errors_are_one_object_on_stderr(cli, capsys):
    assert main(["apply", "no-such-plan.json", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    body = json.loads(err)["error"]
    assert body == {"type": "InvalidInputError", "message": body["message"], "exit_code": 2}
    assert "No plan file" in body["message"]
    with pytest.raises(SystemExit) as info:  # a usage error too
        main(["export", "--json", "--no-such-option"])
    assert info.value.code == 2
    body = json.loads(capsys.readouterr().err)["error"]
    assert body["type"] == "UsageError" and "--no-such-option" in body["message"]
    assert main(["apply", "no-such-plan.json"]) == 2  # without --json: the plain line
    assert capsys.readouterr().err.startswith("error: No plan file")


def test_every_exit_code_is_documented():
    from toolkit.cli.main import EXIT_CODES
    from toolkit.cli.main import __doc__ as doc

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for _kind, code in EXIT_CODES:
        assert f" {code} " in doc.replace("\n", " ") and f" {code} " in readme.replace("\n", " ")
    assert "9 approval required" in readme


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_script(shell, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "complete -o default -F _stripe_sources_complete stripe-sources" in script
    assert ("bashcompinit" in script) == (shell == "zsh")


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_completion_completes_in_bash(tmp_path, capsys):
    main(["completion", "bash"])
    script = tmp_path / "c.bash"
    script.write_text(capsys.readouterr().out)

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        done = subprocess.run(
            ["bash", "-c", f'source {script}; COMP_WORDS=(stripe-sources {line}); '
             f'COMP_CWORD={len(words)}; _stripe_sources_complete; echo "${{COMPREPLY[@]}}"'],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.split()

    assert {"approve", "apply", "audit"} <= set(complete("a"))
    assert complete("apply", "--no-a") == ["--no-approval"]
    assert set(complete("plan", "")) >= {"metadata", "detach", "--maker"}
    assert complete("report", "--fo") == ["--force"]


@pytest.mark.slow
def test_json_error_from_a_subprocess(tmp_path):
    env = {**os.environ, "STRIPE_API_KEY": TEST_KEY, "STRIPE_API_BASE": "http://127.0.0.1:9"}
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "approve", "missing.json", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and done.stdout == ""
    assert json.loads(done.stderr)["error"]["type"] == "InvalidInputError"


def _recipe() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Month-end on a schedule") :]
    found = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("sh") is None, reason="no sh")
def test_the_schedule_recipe_runs_and_keeps_each_run(fresh_sandbox, tmp_path):
    """The README's month-end script, as cron or systemd would run it: a folder per run with
    both workbooks, the report and each command's JSON; exit 0 (work left is not a failure);
    an unreachable Stripe fails the run with the CLI's exit code and says why."""
    script = tmp_path / "month-end.sh"
    script.write_text(_recipe())
    env = {**os.environ, "TOOLKIT_HOME": str(ROOT), "TOOLKIT_RUNS": str(tmp_path / "runs"),
           "STRIPE_API_KEY": TEST_KEY, "STRIPE_API_BASE": fresh_sandbox.url}  # fmt: skip
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    (run,) = (tmp_path / "runs").iterdir()
    names = {p.name for p in run.iterdir()}
    assert {"audit.xlsx", "migration.xlsx", "report.html", "audit.json", "report.json"} <= names
    assert "FAILED" not in names
    assert json.loads((run / "report.json").read_text())["written"].endswith("report.html")

    with socket.socket() as probe:  # a Stripe that cannot be reached
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    time.sleep(1.1)  # the next run's folder: the next second
    failed = subprocess.run(["sh", str(script)], env={**env, "STRIPE_API_BASE": closed},
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert failed.returncode == 6
    runs = sorted((tmp_path / "runs").iterdir())
    assert len(runs) == 2 and "audit: exit 6" in (runs[1] / "FAILED").read_text()
    last = (runs[1] / "audit.err").read_text().strip().splitlines()[-1]  # after progress lines
    assert json.loads(last)["error"]["exit_code"] == 6
