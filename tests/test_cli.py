"""``python -m toolkit``: every subcommand has help, and ``lab`` serves JupyterLab on loopback with a token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from toolkit.cli import build_parser, main
from toolkit.cli.lab import refresh_working_copy
from toolkit.cli.main import COMMANDS
from toolkit.session.connect import SANDBOX_KEY

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(tmp_path: Path, port: int, token: str | None) -> subprocess.Popen:
    """``python -m toolkit lab`` on ``port`` with Jupyter's folders in ``tmp_path`` (and the
    given ``JUPYTER_TOKEN``, or none so that it makes one)."""
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    env.pop("JUPYTER_TOKEN", None)
    env.pop("STRIPE_API_KEY", None)
    if token is not None:
        env["JUPYTER_TOKEN"] = token
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "toolkit", "lab", "--port", str(port)),
            *("--workdir", str(tmp_path / "work")),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(proc: subprocess.Popen, prefix: str, timeout: float = 90) -> str:
    """The launcher's output up to its first line starting with ``prefix`` (JupyterLab's log
    lines come in between)."""
    deadline, lines = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.startswith(prefix):
            return "".join(lines)
    raise AssertionError(f"no line starting with {prefix!r}:\n{''.join(lines)}")


@pytest.mark.parametrize("command", ["sandbox", "export", "audit", "migration", "lab"])
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert "usage: python -m toolkit " + command in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_lab_refuses_a_missing_folder(tmp_path, capsys):
    assert main(["lab", "--notebooks", str(tmp_path / "nope")]) == 2
    assert "--notebooks" in capsys.readouterr().err


def test_the_working_copy_keeps_edits_and_follows_unedited_runbooks(tmp_path):
    tracked, work = tmp_path / "notebooks", tmp_path / "work"
    tracked.mkdir()
    (tracked / "01_a.ipynb").write_text("v1")
    (tracked / "02_b.ipynb").write_text("v1")
    assert refresh_working_copy(tracked, work) == []
    (work / "02_b.ipynb").write_text("my edits")  # the user ran and saved it
    (tracked / "01_a.ipynb").write_text("v2")  # upstream changed both
    (tracked / "02_b.ipynb").write_text("v2")
    notes = refresh_working_copy(tracked, work)
    assert (work / "01_a.ipynb").read_text() == "v2"  # an unedited copy follows
    assert (work / "02_b.ipynb").read_text() == "my edits"  # edits are never overwritten
    assert len(notes) == 1 and "02_b.ipynb has cells you edited" in notes[0]
    # the advice keeps the edits: rename the copy (deleting it would lose them)
    assert "rename your copy (e.g. to 02_b-mine.ipynb)" in notes[0] and "delete" not in notes[0]
    assert (tracked / "02_b.ipynb").read_text() == "v2"  # the tracked file is never written


def _notebook(*sources: str, outputs: bool = False) -> str:
    import json

    cells = [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "metadata": {"tags": ["ran"]} if outputs else {},
            "execution_count": i + 1 if outputs else None,
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["hi\n"]}]
            if outputs
            else [],
            "source": source.splitlines(keepends=True),
        }
        for i, source in enumerate(sources)
    ]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def test_running_a_runbook_is_not_editing_it(tmp_path):
    """Issue 28 item 11: a copy that was only run (outputs, execution counts, metadata) follows
    its runbook; one whose cells were edited is kept, and the advice never loses the edits."""
    tracked, work = tmp_path / "notebooks", tmp_path / "work"
    tracked.mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb"):
        (tracked / name).write_text(_notebook("x = 1\n", "print(x)"))
    assert refresh_working_copy(tracked, work) == []
    (work / "01_a.ipynb").write_text(_notebook("x = 1\n", "print(x)", outputs=True))  # ran
    (work / "02_b.ipynb").write_text(_notebook("x = 2\n", "print(x)", outputs=True))  # edited
    assert refresh_working_copy(tracked, work) == []  # nothing changed upstream: no notes
    assert "hi" in (work / "01_a.ipynb").read_text()  # the run's outputs are kept
    for name in ("01_a.ipynb", "02_b.ipynb"):
        (tracked / name).write_text(_notebook("x = 1\n", "print(x + 1)"))  # upstream changed
    notes = refresh_working_copy(tracked, work)
    assert (work / "01_a.ipynb").read_text() == (tracked / "01_a.ipynb").read_text()
    assert "x = 2" in (work / "02_b.ipynb").read_text()
    assert len(notes) == 1 and "02_b.ipynb has cells you edited" in notes[0]
    assert "delete" not in notes[0]


@pytest.mark.slow
def test_lab_serves_the_runbooks_on_loopback_with_a_token(tmp_path):
    port = free_port()
    proc = start_lab(tmp_path, port, "t0ken" * 4)
    try:
        first = read_until(proc, "Open: ")
        assert "built-in sandbox at http://127.0.0.1:" in first and "shared by every" in first
        assert f"Open: http://127.0.0.1:{port}/lab?reset&token={'t0ken' * 4}" in first
        # every kernel gets the one sandbox: it answers at the address the launcher printed
        sandbox_url = first.split("sandbox at ", 1)[1].split(",")[0]
        request = urllib.request.Request(
            f"{sandbox_url}/v1/customers?limit=1",
            headers={"Authorization": f"Bearer {SANDBOX_KEY}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/api/contents?token={'t0ken' * 4}"
                with urllib.request.urlopen(url, timeout=2) as response:
                    status = response.status
                    listing = response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert status == 200, "JupyterLab did not answer within 60 s"
        assert ".ipynb" in listing  # it opened on the working copy of the runbooks
        copies = sorted(p.name for p in (tmp_path / "work").glob("*.ipynb"))
        assert copies == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
        # without the token it refuses
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5)
        assert info.value.code == 403
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_lab_on_a_taken_port_prints_the_url_it_listens_on(tmp_path):
    """Issue 28 item 2: JupyterLab moves to the next port when the one asked for is taken; the
    printed URL is the one it listens on, and the launcher says the port moved."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    proc = start_lab(tmp_path, port, "m0ved" * 4)
    try:
        out = read_until(proc, "Open: ")
        assert f"note: port {port} is taken" in out
        url = out.split("Open: ", 1)[1].split()[0]
        moved = int(url.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
        assert moved != port and f"listens on port {moved}" in out
        assert url == f"http://127.0.0.1:{moved}/lab?reset&token={'m0ved' * 4}"
        status = f"http://127.0.0.1:{moved}/api/status?token={'m0ved' * 4}"
        with urllib.request.urlopen(status, timeout=5) as response:  # it answers: it listens
            assert response.status == 200
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        taken.close()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        return ""


@pytest.mark.slow
def test_lab_stops_on_sigterm_and_keeps_its_token_out_of_ps(tmp_path):
    """SIGTERM to ``python -m toolkit lab`` stops JupyterLab too; the token is not in argv."""
    import signal

    port = free_port()
    proc = start_lab(tmp_path, port, None)
    try:
        lines = read_until(proc, "Open: ")
        token = lines.split("Open: ", 1)[1].split("token=", 1)[1].split()[0]
        sandbox_port = int(lines.split("sandbox at http://127.0.0.1:", 1)[1].split(",")[0])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/api/status?token={token}"
                with urllib.request.urlopen(url, timeout=2) as response:
                    assert response.status == 200
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            raise AssertionError("JupyterLab did not answer within 60 s")
        # the token is nowhere in the command lines of this process tree
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True
        ).stdout.split()
        for pid in [proc.pid, *map(int, children)]:
            assert token not in _cmdline(pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        for pid in map(int, children):
            assert not _cmdline(pid), f"pid {pid} outlived SIGTERM: {_cmdline(pid)}"
        for used in (port, sandbox_port):  # JupyterLab and the shared sandbox both stopped
            with socket.socket() as sock:
                assert sock.connect_ex(("127.0.0.1", used)) != 0, f"port {used} still answers"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_version_has_one_source(capsys):
    import tomllib

    import toolkit

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"python -m toolkit {toolkit.__version__}"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (ROOT / "CHANGELOG.md").exists()


def test_lab_finds_the_runbooks_of_an_installed_wheel(monkeypatch, tmp_path):
    from toolkit.cli import lab

    monkeypatch.setattr(lab, "_REPO_NOTEBOOKS", tmp_path / "no-repository")
    monkeypatch.chdir(tmp_path)
    folder, work = lab.find_runbooks(None)
    assert folder == lab.INSTALLED_NOTEBOOKS and work == tmp_path / "work"


@pytest.mark.slow
def test_the_wheel_ships_the_runbooks(tmp_path):
    import zipfile

    uv = Path(sys.executable).parent / "uv"  # installed by make's install step
    subprocess.run(
        [str(uv), "build", "--wheel", "-q", "-o", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = sorted(
        n.rsplit("/", 1)[1] for n in names if "/share/stripe-sources-toolkit/notebooks/" in n
    )
    assert shipped == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert any(n.endswith("LICENSE") for n in names)


def test_no_output_is_replaced_without_force(session, tmp_path, capsys):
    """Issue 28 item 7: one rule for every output: a filed workbook, CSV or chart is never
    replaced without ``--force``, and the refusal comes before any work."""
    from toolkit.fetch import load_sources, save_snapshot

    snap = str(save_snapshot(load_sources(session, progress=False).head(300), tmp_path / "s.pq"))
    out = tmp_path / "audit.xlsx"
    assert main(["audit", "--snapshot", snap, "--out", str(out)]) == 0
    filed = out.read_bytes()
    assert main(["audit", "--snapshot", snap, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} exists: name a new file, or pass --force to replace it." in err
    assert out.read_bytes() == filed  # the filed workbook is as it was
    csv_folder, png = tmp_path / "csv", tmp_path / "chart.png"
    args = ["audit", "--snapshot", snap, "--csv", str(csv_folder), "--png", str(png)]
    assert main([*args, "--out", str(tmp_path / "b.xlsx")]) == 0
    assert main([*args, "--out", str(tmp_path / "c.xlsx")]) == 2
    assert "--force" in capsys.readouterr().err and not (tmp_path / "c.xlsx").exists()
    out.write_bytes(b"an old workbook")
    assert main([*args, "--out", str(out), "--force"]) == 0
    assert out.read_bytes().startswith(b"PK")  # replaced: it was asked for
    # the retirement audit refuses before it reads anything from Stripe
    filed_migration = tmp_path / "migration.xlsx"
    filed_migration.write_bytes(b"filed")
    assert main(["migration", "--out", str(filed_migration)]) == 2
    assert "--force" in capsys.readouterr().err and filed_migration.read_bytes() == b"filed"


def test_every_default_folder_of_customer_data_is_git_ignored(tmp_path):
    """Issue 28 item 8: what the commands write by default (exports/, journals/, snapshots/,
    plans/, the lab's work/) never lands in a commit: they hold customer ids and metadata."""
    from toolkit.cli import export

    parser = build_parser()
    defaults = {
        Path(export.DEFAULT_OUT).parts[0],
        parser.parse_args(["plan", "detach", "--ids", "x"]).folder,
        "journals",
        "snapshots",
        "work",
    }
    assert "plans" in defaults
    probes = [f"{folder}/x.csv" for folder in sorted(defaults)]
    probes += [f"notebooks/{folder}/x.csv" for folder in ("exports", "journals", "plans")]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *probes], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert sorted(ignored) == sorted(probes)
    # and never the code: a new module under toolkit/changes/plans/ was silently left out of a
    # commit by an unanchored "plans/" rule
    code = ["toolkit/changes/plans/new_module.py", "toolkit/changes/journal/new_module.py"]
    kept = subprocess.run(
        ["git", "check-ignore", "--no-index", *code], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert kept == []


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_is_plain_text_and_a_wrong_option_shows_the_commands_usage(command, capsys):
    """Issue 28: ``--help`` without reST markup; an unknown option is an error of the command
    (its usage), not of the program (the list of commands)."""
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    for markup in ("``", ":func:", ":class:", "**", "::\n"):
        assert markup not in text, f"{command} --help shows {markup!r}"
    positional = {
        "apply": ["p.json"],
        "approve": ["p.json"],
        "completion": ["bash"],
        "plan": ["detach"],
        "refresh": ["s.pq"],
        "undo": ["j.jsonl"],
    }
    with pytest.raises(SystemExit) as info:
        main([command, *positional.get(command, []), "--no-such-option"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: python -m toolkit {command}"), err
    assert "unrecognized arguments: --no-such-option" in err


def test_audit_messages_speak_command_line(session, tmp_path, capsys):
    """The CLI's notes name its options, not Python calls."""
    from toolkit.fetch import load_sources, save_snapshot

    snap = save_snapshot(load_sources(session, progress=False).head(100), tmp_path / "s.pq")
    assert main(["audit", "--snapshot", str(snap), "--out", str(tmp_path / "a.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "audit without --snapshot to run them" in out
    assert "(...)" not in out and "load_source_transactions" not in out
    (tmp_path / "other.parquet").write_bytes(b"not parquet")
    assert main(["audit", "--snapshot", str(tmp_path / "other.parquet")]) == 2
    err = capsys.readouterr().err
    assert "python -m toolkit export --out" in err and "toolkit.save_snapshot" not in err


def test_the_readme_points_at_the_selection_where_the_lab_writes_it():
    """The explorer's Save selection writes into the folder the lab opens (work/): the README's
    command for it names that file."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "plan detach --ids work/exports/selection.csv" in readme
    assert "--ids exports/selection.csv" not in readme
