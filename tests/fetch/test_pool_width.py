"""The read pool's width follows Little's law (issue 27): slow answers widen it, up to WIDEST,
so that each endpoint with work can be held at its pace; a width given is kept. Counted, not
timed: the width is computed from the answer times the pool has learnt."""

from __future__ import annotations

import toolkit
from toolkit.fetch.pool import FIRST, PAGE, WIDEST, RequestPool, Task

PAGES, MORE_SOURCES = "GET /v1/customers", "GET /v1/customers/{id}/sources"


def _queue(pool: RequestPool, endpoint: str, priority: int) -> None:
    read = pool.session.list_customers
    pool.queues.setdefault(endpoint, []).append(Task(priority, 0, "x", read, (), {}))


def test_slow_answers_widen_the_pool_and_its_page_slots() -> None:
    session = toolkit.connect(limits={"global": 100}, quiet=True)
    pool = RequestPool(session, None)
    try:
        assert (pool.width, pool.page_slots) == (8, 4)
        _queue(pool, PAGES, PAGE)
        _queue(pool, MORE_SOURCES, FIRST)
        pool.answer_time = {PAGES: 0.6, MORE_SOURCES: 0.12}
        page = Task(PAGE, 1, "page", session.list_customers, (), {}, started=1e-9)
        pool.learn(page)  # an answer long after it started: the mean moves toward it
        # 25/s x ~0.6 s + 25/s x 0.12 s = 18 in flight, + 25% headroom: capped at WIDEST
        assert pool.width == WIDEST and pool.page_slots == WIDEST // 2
        pool.answer_time = {PAGES: 0.05, MORE_SOURCES: 0.02}  # fast again: back to the base
        pool.learn(Task(FIRST, 2, "x", session.list_customers, (), {}))  # not started: ignored
        assert pool.wanted_width() == 8
    finally:
        pool.close()
        session.close()


def test_only_endpoints_with_work_count_and_the_global_pace_caps_them() -> None:
    session = toolkit.connect(limits={"global": 30}, quiet=True)
    pool = RequestPool(session, None)
    try:
        pool.answer_time = {PAGES: 0.6, MORE_SOURCES: 0.4}
        assert pool.wanted_width() == 8  # nothing queued, nothing in flight
        _queue(pool, MORE_SOURCES, FIRST)
        assert pool.wanted_width() == 13  # 25/s x 0.4 s = 10, + 25%
        _queue(pool, PAGES, PAGE)
        # 25 x 0.6 + 25 x 0.4 = 25, but the global 30/s holds both to 30 of their 50: 15, + 25%
        assert pool.wanted_width() == WIDEST
    finally:
        pool.close()
        session.close()


def test_a_width_given_is_kept_whatever_the_answers() -> None:
    session = toolkit.connect(limits={"global": 100}, quiet=True)
    pool = RequestPool(session, None, width=3)
    try:
        _queue(pool, PAGES, PAGE)
        pool.answer_time = {PAGES: 2.0}
        pool.learn(Task(PAGE, 1, "page", session.list_customers, (), {}, started=1e-9))
        assert (pool.width, pool.widest) == (3, 3)
    finally:
        pool.close()
        session.close()
