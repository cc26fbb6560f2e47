"""Issue 28, operations: the ``toolkit`` logger (silent by default) says what a run did: requests
summarised, retries, 429s, journal events; never a key, and no customer data above DEBUG."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys

import pytest

import toolkit
from toolkit.session import connect

KEY = "sk_test_" + "L0gg1ng" * 4
SECRET = re.compile(r"\b(sk|pk|rk)_(test|live)_")


def test_the_toolkit_logger_is_silent_by_default():
    handlers = logging.getLogger("toolkit").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_an_apply_logs_requests_retries_429s_and_journal_events_without_secrets(
    fresh_sandbox, tmp_path, monkeypatch, caplog
):
    monkeypatch.chdir(tmp_path)
    session = connect(KEY, api_base=fresh_sandbox.url, rate_limit=1000, quiet=True)
    sources = toolkit.load_sources(session, progress=False)
    owned = sources[sources["customer"].notna() & sources["status"].eq("chargeable")].head(3)
    people = [("Grace Hopper", "grace.h@example.org")]
    pairs = zip(owned["owner_name"].fillna(""), owned["owner_email"].fillna(""), strict=True)
    people += [(n, e) for n, e in pairs if n and e]
    plan = toolkit.plan_owner(owned, name="Grace Hopper", email="grace.h@example.org")
    assert plan.counts["ready"] == 3
    fresh_sandbox.set_faults(error_rate=0.5, fault_method="POST")  # 500s: retried
    caplog.set_level(logging.DEBUG, logger="toolkit")
    outcome = toolkit.apply(plan, session, progress=False)
    fresh_sandbox.faults_off()
    fresh_sandbox.set_faults(rate_limit=2, fault_path=r"^/v1/sources/")  # 429s
    toolkit.reread(owned, session)
    fresh_sandbox.faults_off()
    session.close()
    assert outcome.ok, outcome.df

    records = [r for r in caplog.records if r.name.startswith("toolkit")]
    text = {level: "\n".join(r.getMessage() for r in records if r.levelno >= level)
            for level in (logging.DEBUG, logging.INFO)}  # fmt: skip
    info = text[logging.INFO]
    assert re.search(r"requests \(.*GET.*POST.*\), \d+ retries, \d+ rate limited", info), info
    assert "retrying POST /v1/sources/{id}" in info and "after HTTP 500" in info
    assert "rate limited (HTTP 429" in info
    assert f"plan {plan.id}" in info and "run run_" in info and "approval not_required" in info
    debug = text[logging.DEBUG]
    assert re.search(r"GET /v1/\S+ -> 200 in \d+ ms", debug)
    assert "journal " in debug and " end row " in debug
    # never a key, at any level; no customer data above DEBUG
    assert not SECRET.search(debug), SECRET.search(debug)
    assert len(people) > 1
    for name, email in people:  # the new owner, and the owners before
        assert name not in info and email not in info
        assert name.split()[0] not in info and email.split("@")[0] not in info
    assert "grace.h@example.org" not in debug  # what a row sends is never logged


@pytest.mark.slow
def test_toolkit_log_makes_the_cli_log_to_stderr(fresh_sandbox, tmp_path):
    env = {**os.environ, "STRIPE_API_KEY": KEY, "STRIPE_API_BASE": fresh_sandbox.url,
           "TOOLKIT_LOG": "info"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "export", "--out", "s.csv", "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert re.search(r"INFO toolkit\.session\.client: session on ", done.stderr), done.stderr
    assert KEY not in done.stderr and KEY[8:] not in done.stderr
    quiet = subprocess.run(
        [sys.executable, "-m", "toolkit", "export", "--out", "t.csv", "--quiet"],
        cwd=tmp_path, env={**env, "TOOLKIT_LOG": ""}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "INFO" not in quiet.stderr
