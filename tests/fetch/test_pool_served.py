"""fetch's RequestPool served from a thread of its own (what apply's reads go through): reads
called from other threads come back as the session answers them, paced by the one scheduler;
a canceled run answers every waiting read with Cancelled and leaves no thread behind."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from toolkit.errors import Cancelled, NotFoundError
from toolkit.fetch.lists import iter_list
from toolkit.fetch.pool import FIRST, PAGE, RequestPool


def pool_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("toolkit-fetch")]


def test_reads_called_from_many_threads_get_their_own_answers(fresh_session):
    session = fresh_session
    customers = list(iter_list(session.list_customers))
    with RequestPool.serving(session, None, width=4) as reads:

        def one(cid: str) -> str:
            return reads.call(FIRST, session.retrieve_customer, cid)["id"]

        with ThreadPoolExecutor(8) as callers:
            got = list(callers.map(one, [c["id"] for c in customers]))
        assert got == [c["id"] for c in customers]
        assert reads.requests == len(customers)
        # what a read raises reaches its caller
        with pytest.raises(NotFoundError):
            reads.call(FIRST, session.retrieve_source, "src_1NoSuchSource0000")
        # a list walked through the pool: the same objects as walked directly
        walked = iter_list(
            lambda params, cancel=None: reads.call(PAGE, session.list_customers, params)
        )
        assert [c["id"] for c in walked] == [c["id"] for c in customers]
    assert not pool_threads()


def test_a_canceled_run_answers_every_waiting_read_with_cancelled(fresh_session):
    session = fresh_session
    stop = threading.Event()
    with RequestPool.serving(session, stop, width=1) as reads:
        assert reads.call(PAGE, session.list_customers, {"limit": 1})["data"]
        stop.set()
        with pytest.raises(Cancelled):
            reads.call(FIRST, session.list_customers, {"limit": 1})
    assert not pool_threads()
