"""A refresh campaign (issue 22): random sequences of attach, metadata update, deposit, detach and
customer deletion against the sandbox, most of them within one second (ties in the event list),
some refreshes under injected 500s and dropped connections; every time, the refreshed snapshot
equals a full load in every column, and a second round refreshes the refreshed frame on.

It prints trials, operations, missing and extra rows, like the fault campaign. About 30 s.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit
from tests.fetch.refresh_support import assert_same_frame, new_receiver
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

pytestmark = pytest.mark.slow

KEY = "sk_test_" + "Pr0p" * 6
OPS = ("attach", "update", "deposit", "detach", "delete_customer")
KEEP_CUSTOMERS = 20  # never delete below this many customers
REPORT: Counter[str] = Counter()

operations = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10**6)), max_size=7)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(seed=23, customers=90) as sandbox:
        yield sandbox
    line = ", ".join(f"{k} {REPORT[k]}" for k in ("trials", "operations", "missing", "extra"))
    print(f"\nrefresh campaign: {line}; {REPORT['faulted']} refreshes under faults")


def _pick(items: list[str], n: int, recent: list[str]) -> str | None:
    """Mostly one of the ``recent`` sources or customers that ``items`` holds (changes on one
    source in a row are where a refresh goes wrong), else any of ``items``."""
    near = [i for i in recent if i in set(items)]
    pool = near if near and n % 4 else items
    return pool[n % len(pool)] if pool else None


def _run(box: Sandbox, session: Session, op: str, n: int, recent: list[str]) -> None:
    """One operation on a target chosen by ``n`` from the sandbox's current state; what it
    touched goes to the front of ``recent``."""
    ds = box.store()
    customers = list(ds.order)
    attached = [pid for cid in customers for pid in ds.items.get(cid, []) if pid in ds.sources]
    free = [
        sid
        for sid, src in ds.sources.items()
        if not src.get("customer") and src["status"] in ("pending", "chargeable")
    ]
    client = session.client
    sid: str | None = None
    if op == "attach":
        sid = new_receiver(session) if not free or n % 3 == 0 else _pick(free, n, recent)
        cid = _pick(customers, n, recent)
        assert cid is not None and sid is not None
        client.v1.customers.payment_sources.create(cid, {"source": sid})
        recent.insert(0, str(cid))
    elif op == "update":
        sid = _pick(attached + free, n, recent)
        if sid is not None:
            client.v1.sources.update(sid, {"metadata": {"trial": str(n)}})
    elif op == "deposit":
        receivers = [s for s, src in ds.sources.items() if src["type"] == "ach_credit_transfer"]
        sid = _pick(receivers, n, recent)
        box.deposit(str(sid), 100 + n % 5_000)
    elif op == "detach":
        sid = _pick(attached, n, recent)
        if sid is not None:
            client.v1.customers.payment_sources.delete(ds.sources[sid]["customer"], sid)
    elif len(customers) > KEEP_CUSTOMERS:
        # Stripe refuses to delete a customer with any cash balance, even of 0
        deletable = [cid for cid in customers if not ds.cash.available.get(cid)]
        gone = _pick(deletable, n, recent)
        if gone is not None:
            client.v1.customers.delete(gone)
    if sid is not None:
        recent.insert(0, sid)
    REPORT["operations"] += 1


def _refreshed(box: Sandbox, session: Session, old: pd.DataFrame, faults: bool) -> pd.DataFrame:
    if faults:
        box.set_faults(error_rate=0.15, drop_rate=0.05, fault_method="GET")
        REPORT["faulted"] += 1
    try:
        return toolkit.refresh(old, session, progress=False)
    finally:
        box.faults_off()


def _check(new: pd.DataFrame, full: pd.DataFrame) -> None:
    REPORT["trials"] += 1
    REPORT["missing"] += len(set(full["id"]) - set(new["id"]))
    REPORT["extra"] += len(set(new["id"]) - set(full["id"]))
    assert_same_frame(new, full)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=operations, then=operations, faults=st.booleans())
def test_refresh_equals_a_full_load_after_any_changes(
    box: Sandbox, first: list[tuple[str, int]], then: list[tuple[str, int]], faults: bool
) -> None:
    session = connect(KEY, api_base=box.url, rate_limit=1000, quiet=True)
    old = toolkit.load_sources(session, progress=False)
    recent: list[str] = []
    for op, n in first:
        _run(box, session, op, n, recent)
    new = _refreshed(box, session, old, faults)
    _check(new, toolkit.load_sources(session, progress=False))
    for op, n in then:  # and on from the refreshed frame, from where its events stand
        _run(box, session, op, n, recent)
    again = _refreshed(box, session, new, faults=False)
    _check(again, toolkit.load_sources(session, progress=False))
