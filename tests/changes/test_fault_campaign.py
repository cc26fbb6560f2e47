"""A fault campaign: SIGKILL at random moments during metadata, owner, detach, amount, mandate and
source_order applies (and during some undos), then resume and undo in a new process.

It prints trials, lost, duplicated, wrong final states, uncertain rows and broken journal chains,
and asserts 0 for each but uncertain rows; every journal a kill left, and every one after a
resume or an undo, must verify its chain. Eighteen trials, about a minute.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest
from stripe.params import SourceCreateParamsSourceOrderShipping

import toolkit
from tests.changes.changes_support import TEST_KEY, frame_of, held
from toolkit.changes.journal.reading import read_journal
from toolkit.sandbox import Sandbox
from toolkit.session import connect

# not `alone`: a busy machine slows a child, so a kill lands in its work more often, not less
pytestmark = pytest.mark.slow

#: A fixed number of trials, not a time budget: a busy machine makes the campaign slower, never
#: smaller (three of each kind; a test never passes or fails on the clock).
KINDS = ["metadata", "owner", "detach", "amount", "mandate", "source_order"]
#: A mandate cannot be undone, and Stripe shows none on a source: its trials count the requests.
NO_UNDO = ("detach", "mandate")
TRIALS = 18
ROWS = 10

CHILD = textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    import toolkit
    from toolkit.session import connect

    url, key, task_file = sys.argv[1:4]
    task = json.load(open(task_file))
    session = connect(key, api_base=url, rate_limit=1000, quiet=True)
    if task["what"] == "undo":
        print("GO", flush=True)
        toolkit.undo(task["journal"], session, progress=False)
    else:
        frame = pd.DataFrame(task["frame"])
        if task["kind"] == "metadata":
            plan = toolkit.plan_metadata(frame, set={"trial": task["value"]}, unset=["legacy"])
        elif task["kind"] == "owner":
            plan = toolkit.plan_owner(frame, email=task["value"] + "@example.com",
                                      address_city=task["value"])
        elif task["kind"] == "amount":
            plan = toolkit.plan_amount(frame, int(task["value"][1:]) + 1000)
        elif task["kind"] == "mandate":
            plan = toolkit.plan_mandate(frame, {"acceptance.status": "accepted",
                                                "acceptance.date": 1796083200,
                                                "notification_method": "manual"})
        elif task["kind"] == "source_order":
            plan = toolkit.plan_source_order(frame, {"shipping.carrier": task["value"]})
        else:
            plan = toolkit.plan_detach(frame)
        print("GO", flush=True)
        toolkit.apply(plan, session, journal=task["journal"], progress=False, max_workers=4)
    print("DONE", flush=True)
    """
)


def run_child(box: Sandbox, folder: Path, task: dict, kill_after: float | None) -> bool:
    """Run one child; SIGKILL it ``kill_after`` seconds after it starts its work. True if killed."""
    task_file = folder / f"task-{time.monotonic_ns()}.json"
    task_file.write_text(json.dumps(task))
    child = subprocess.Popen(
        [sys.executable, str(folder / "child.py"), box.url, TEST_KEY, str(task_file)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    assert child.stdout.readline().strip() == "GO", child.stderr.read()
    if kill_after is None:
        child.wait(timeout=60)
        assert child.returncode == 0, child.stderr.read()[-2000:]
        return False
    time.sleep(kill_after)
    killed = child.poll() is None
    child.kill()
    child.wait(timeout=10)
    return killed


def state_of(box: Sandbox, kind: str, sid: str):
    src = box.get_source(sid)
    if kind == "metadata":
        return dict(src["metadata"])
    if kind == "owner":
        owner = src.get("owner") or {}
        return (owner.get("email"), (owner.get("address") or {}).get("city"))
    if kind == "amount":
        return src["amount"]
    if kind == "source_order":
        return src["source_order"]["shipping"]["carrier"]
    if kind == "mandate":
        return src["status"]  # Stripe shows no mandate on a source
    return (src["status"], sid in box.store().items.get(src.get("customer") or "", []))


def writes_per_source(box: Sandbox, start: int) -> Counter[str]:
    """Effective (200, not replayed) POST/DELETE requests per source since log position ``start``."""
    counts: Counter[str] = Counter()
    for entry in box.requests[start:]:
        if entry.method in ("POST", "DELETE") and entry.status == 200 and not entry.replayed:
            counts[entry.path.rstrip("/").split("/")[-1]] += 1
    return counts


def test_sigkill_campaign(tmp_path):
    rng = random.Random(20261202)
    (tmp_path / "child.py").write_text(CHILD)
    report: Counter[str] = Counter()
    started = time.monotonic()
    with Sandbox(seed=13, customers=120) as box:
        box.set_faults(latency=0.02, jitter=0.05, fault_method="POST")
        session = connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)
        free = sorted(
            sid
            for sid, src in box.store().sources.items()
            if src.get("customer") and src["status"] in ("chargeable", "pending")
        )
        rng.shuffle(free)
        # a receiver holding money is never detached: detach trials take the others
        empty = [sid for sid in free if held(box.get_source(sid)) <= 0]
        # an amount goes on single-use sources that are not receivers
        priced = [
            sid
            for sid in free
            if box.get_source(sid)["usage"] == "single_use"
            and box.get_source(sid)["flow"] != "receiver"
            and box.get_source(sid)["amount"]
        ]
        debits = [
            sid
            for sid in free
            if box.get_source(sid)["type"] in ("sepa_debit", "ach_debit")
            and box.get_source(sid)["status"] == "chargeable"
        ]
        free = [sid for sid in free if sid not in priced and sid not in debits]
        empty = [sid for sid in empty if sid not in priced and sid not in debits]
        shipping: SourceCreateParamsSourceOrderShipping = {
            "name": "Ann",
            "address": {"line1": "1 Main St"},
        }
        ordered = [  # order-bearing sources: Klarna, created here (reachable by id)
            session.client.v1.sources.create(
                {"type": "klarna", "currency": "usd", "amount": 500,
                 "source_order": {"items": [{"amount": 500}], "shipping": shipping}}
            ).id
            for _ in range(3 * ROWS)
        ]  # fmt: skip
        while report["trials"] < TRIALS:
            trial = report["trials"]
            kind = KINDS[trial % len(KINDS)]
            if kind in ("amount", "mandate", "source_order"):
                pool = {"amount": priced, "mandate": debits, "source_order": ordered}[kind]
            else:
                pool = empty if kind == "detach" else [sid for sid in free if sid not in empty]
            ids = pool[-ROWS:]
            assert len(ids) == ROWS, f"only {len(ids)} sources left for {kind}"
            free = [sid for sid in free if sid not in ids]
            empty = [sid for sid in empty if sid not in ids]
            priced = [sid for sid in priced if sid not in ids]
            debits = [sid for sid in debits if sid not in ids]
            ordered = [sid for sid in ordered if sid not in ids]
            if kind == "metadata":  # one key to unset on some of them
                for sid in ids[::3]:
                    session.client.v1.sources.update(sid, {"metadata": {"legacy": "x"}})
            if kind == "owner":  # Stripe cannot clear an owner field: undo is exact only if set
                for sid in ids:
                    session.client.v1.sources.update(
                        sid,
                        {"owner": {"email": f"{sid}@old.example.com", "address": {"city": "Old"}}},
                    )
            before = {sid: state_of(box, kind, sid) for sid in ids}
            journal = tmp_path / f"trial-{trial}.jsonl"
            value = f"t{trial}"
            task = {
                "what": "apply",
                "kind": kind,
                "value": value,
                "journal": str(journal),
                "frame": frame_of(box, ids).to_dict("records"),
            }
            mark = len(box.requests)
            box.set_faults(
                latency=0.02, jitter=0.05, fault_method="DELETE" if kind == "detach" else "POST"
            )
            report["killed"] += run_child(box, tmp_path, task, kill_after=rng.uniform(0.0, 0.5))
            report["trials"] += 1
            # a new process: resume from the journal; killed before the plan was recorded (nothing
            # was sent), the journal says to run the same call again, which is what a user does
            try:
                plan = toolkit.load_plan(journal)
            except toolkit.InvalidInputError as exc:
                assert "holds no plan record" in str(exc)
                assert len(box.requests) == mark or all(
                    e.method == "GET" for e in box.requests[mark:]
                )
                report["killed before the plan"] += 1
                run_child(box, tmp_path, task, kill_after=None)
                plan = toolkit.load_plan(journal)
            killed = read_journal(journal)  # the chain of a killed run's journal verifies
            report["chains verified"] += killed.chained
            report["in flight"] += len(killed.unresolved)
            resumed = toolkit.apply(plan, session, resume=journal, progress=False)
            report["chains verified"] += read_journal(journal).chained
            report["uncertain"] += resumed.totals["uncertain"]
            writes = writes_per_source(box, mark)
            report["duplicated"] += sum(n - 1 for n in writes.values() if n > 1)
            for sid in ids:
                now = state_of(box, kind, sid)
                if kind == "metadata":
                    landed = now.get("trial") == value and "legacy" not in now
                elif kind == "owner":
                    landed = now == (f"{value}@example.com", value)
                elif kind == "amount":
                    landed = now == int(value[1:]) + 1000
                elif kind == "source_order":
                    landed = now == value
                elif kind == "mandate":  # Stripe's 200 is the only proof: one request landed
                    landed = writes[sid] == 1
                else:
                    landed = now == ("consumed", False)
                report["lost"] += not landed
            if kind in NO_UNDO:
                continue
            # undo, killed half of the time, then finished in another process
            if rng.random() < 0.5:
                report["undos killed"] += 1
                run_child(
                    box,
                    tmp_path,
                    {"what": "undo", "journal": str(journal)},
                    kill_after=rng.uniform(0.0, 0.3),
                )
            back = toolkit.undo(journal, session, progress=False)
            report["uncertain"] += back.totals["uncertain"]
            # the plan's journal (with the undo's records) and every undo's journal still chain
            undone = [journal, *tmp_path.glob(f"{plan.id}-undo-*.jsonl")]
            report["broken chains"] += sum(not read_journal(path).chained for path in undone)
            report["wrong final states"] += sum(
                state_of(box, kind, sid) != before[sid] for sid in ids
            )
    line = ", ".join(
        f"{name} {report[name]}"
        for name in (
            "trials",
            "lost",
            "duplicated",
            "wrong final states",
            "uncertain",
            "broken chains",
        )
    )
    line += (
        f"; {report['killed']} applies killed mid-run with {report['in flight']} requests in "
        f"flight, {report['undos killed']} undos killed"
    )
    line += f"; {report['chains verified']} journal chains verified after kills and resumes"
    print(f"\nfault campaign: {line} ({time.monotonic() - started:.0f} s)")
    assert report["trials"] == TRIALS and report["killed"] >= report["trials"] // 2
    assert report["chains verified"] == 2 * report["trials"] and report["broken chains"] == 0
    assert report["lost"] == 0 and report["duplicated"] == 0
    assert report["wrong final states"] == 0
