"""Choosing how apply() re-reads a plan's sources, and the account listing that reads them in bulk.

Reads and writes share the session's one rate limiter, so reads are made by the cheapest route
(each read is a call to fetch's scheduler, :class:`~toolkit.fetch.pool.RequestPool`; the walk of
customer pages and their sources is :mod:`toolkit.fetch.customer_sources`'):

- **by listing the account** when the plan touches many customers: customer pages of 100 with
  their sources embedded (continued for a customer only while two or more of its planned rows
  are missing), run ahead of the writes in a pipeline: each planned source goes to a writer as
  soon as its page is read. A plan made from the whole-account frame of load_sources (or a
  selection of it) carries the account's size (``plan.loaded``), so apply lists only when that
  takes fewer requests than reading by customer; without that hint it tries when reading by
  customer would take 16 requests or more, and stops once its pages have cost as much as
  reading the rest by customer. In test mode Stripe leaves customers on a test clock out of
  the customer list: when planned rows are still missing once the list ends, it lists the
  test clocks and pages each clock's customers (:mod:`toolkit.fetch.clocks`, as an
  account-wide load does) when that takes fewer requests than reading those rows by customer;
- **by customer**: rows of one customer, up to 8 at a time, with one request to its source list;
- **by id**: one GET per source; always for sources without a customer, for a customer's only
  planned row, and for every source the other routes did not return (detached or moved since
  the plan).

>>> by_customer_cost(Counter({"cus_1": 9, "cus_2": 1}))
3
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from toolkit.changes.kinds.base import ChangeKind
from toolkit.changes.rows import PlanRow
from toolkit.changes.run.runner import Runner
from toolkit.errors import Cancelled, ReadAllowanceError, StripeRequestError
from toolkit.fetch.clocks import clock_page_params, clocks_apply, clocks_left_out, clocks_params
from toolkit.fetch.customer_sources import (
    customer_page_params,
    embedded_sources,
    iter_customer_sources,
)
from toolkit.fetch.lists import iter_pages
from toolkit.fetch.loaded import LoadInfo
from toolkit.fetch.pool import MORE, PAGE
from toolkit.session.protocol import SessionLike

__all__ = [
    "CHUNK_ROWS",
    "LISTING_MIN_REQUESTS",
    "LISTING_PAGE",
    "LOOKAHEAD_PER_WORKER",
    "Listing",
    "account_clocks",
    "account_customers",
    "by_customer_cost",
    "chunks",
    "least_reads",
    "listable",
    "use_listing",
]


#: Rows of one customer re-read together with one list request (then written one by one).
CHUNK_ROWS = 8
#: Without a size hint the account listing is tried only when re-reading by customer would
#: take at least this many requests.
LISTING_MIN_REQUESTS = 16
#: Rows the account listing hands to the writers ahead of them, per worker (the pipeline depth).
LOOKAHEAD_PER_WORKER = 8
#: Customers per page of the account listing (Stripe's largest page).
LISTING_PAGE = 100


def by_customer_cost(rows: Any) -> int:
    """Requests re-reading rows by customer takes: one list per chunk of CHUNK_ROWS rows of a
    customer (a lone row: one GET). ``rows``: (index, row) pairs, or a customer -> rows Counter."""
    counts = rows if isinstance(rows, Counter) else Counter(str(r["customer"]) for _, r in rows)
    return sum(-(-n // CHUNK_ROWS) for n in counts.values() if n > 0)


def account_customers(hint: Any, session: SessionLike) -> int | None:
    """How many customers the account has, from a whole-account load_sources frame (or its
    :class:`~toolkit.LoadInfo`) of the same account; None when the hint does not say."""
    info = hint if isinstance(hint, LoadInfo) else LoadInfo.from_attrs(hint)
    if info is None:
        return None
    return info.covers_account(session.account_label)


def account_clocks(hint: Any, session: SessionLike) -> int | None:
    """How many test clocks the account has, from a whole-account load_sources frame (or its
    :class:`~toolkit.LoadInfo`) of the same account; None when the hint does not say (no
    hint, live mode, or the load could not list them)."""
    info = hint if isinstance(hint, LoadInfo) else LoadInfo.from_attrs(hint)
    if info is None or info.covers_account(session.account_label) is None:
        return None
    clocks = info.test_clocks
    return clocks if isinstance(clocks, int) and clocks >= 0 else None


def use_listing(cost: int, customers: int | None) -> bool:
    """Re-read by listing the account? Yes when its pages take fewer requests than re-reading by
    customer (``cost``); without a size hint, try it when ``cost`` is big enough (it stops early
    when it turns out dearer, see :class:`_Listing`)."""
    if customers is None:
        return cost >= LISTING_MIN_REQUESTS
    return -(-customers // LISTING_PAGE) < cost


def least_reads(change: ChangeKind, tasks: list[tuple[int, PlanRow]], customers: int | None) -> int:
    """The fewest reads re-reading ``tasks`` can take, for the read allowance's check before a
    run: a GET per row that cannot be read with its customer's list, and for the others the
    cheaper of re-reading by customer and listing the account (at least one page).

    >>> from toolkit.changes.kinds import kind_of
    >>> least_reads(kind_of("metadata"), [(1, {"customer": "cus_1"}), (2, {"customer": None})], None)
    2
    """
    listed = [item for item in tasks if listable(change, item[1])]
    alone = len(tasks) - len(listed)
    if not listed:
        return alone
    by_customer = by_customer_cost(listed)
    if not use_listing(by_customer, customers):
        return alone + by_customer
    pages = -(-customers // LISTING_PAGE) if customers is not None else 1
    return alone + max(1, min(by_customer, pages))


class Listing:
    """Re-read the plan's sources by listing the account's customers, 100 a page with their
    first 10 sources embedded, and hand each planned source to a writer as soon as it is read.

    - A customer whose embedded list has more is continued only while at least two of its
      planned rows are still missing, and for at most as many pages as re-reading them by
      customer would take; a lone missing row is read by id.
    - At most ``lookahead`` rows wait for a writer, so reads run ahead of the writes by about
      that many rows plus one response; once that many wait, the listing goes on when half of
      them are written (it wakes once per half a lookahead of writes, not once per write).
    - It stops once every planned source is found, or when the next customer page is not worth
      it: with the account's size known (``customers``, from a load_sources frame), when the
      pages left would cost as many requests as re-reading the customers not listed yet by
      customer; without it, once the pages already read cost that much (so it never costs more
      than about twice the by-customer re-read).
    - Once the customer list ends with planned rows still missing, in test mode (customers on
      a test clock are listed only by their clock): it lists the test clocks, then each clock's
      customers the same way, while the least that is left of that (a page per clock not
      listed yet) costs fewer requests than re-reading the missing rows by customer.
      ``clocks``, the account's test clocks as a load_sources frame says, spares the list of
      clocks when there are none, or too many to be worth it. A failure to list the clocks (a
      restricted key) is noted (``clocks_note``) and the rows are read by customer.

    Rows it did not hand over (detached or moved since the plan, or not reached) are then
    re-read by customer or by id as usual.
    """

    def __init__(
        self,
        runner: Runner,
        rows: list[tuple[int, PlanRow]],
        *,
        submit: Callable[..., Future[list[tuple[int, dict[str, Any]]]]],
        lookahead: int,
        customers: int | None,
        clocks: int | None = None,
    ) -> None:
        self.runner = runner
        self.session = runner.session
        self.stop = runner.stop
        self.submit = submit
        self.customers = customers
        self.clocks = clocks
        self.wanted = {str(row["source"]): (index, row) for index, row in rows}
        self.open: Counter[str] = Counter(str(row["customer"]) for _, row in rows)
        self.unlisted: Counter[str] = Counter(self.open)  # open rows of customers not listed yet
        self.listed = 0  # customers listed
        #: rows handed to the writers and not finished yet: at most ``lookahead``; once full, the
        #: listing waits until half of them are done, so it wakes once per half a lookahead of
        #: writes, not once per write (each wake of a thread costs CPU the writes then lack)
        self.lookahead = max(1, lookahead)
        self.ahead = 0
        self._room = threading.Condition()
        self.requests = 0
        self.pages = 0
        self.clock_reads = 0  # pages of test clocks and of their customers
        self.clocks_note: str | None = None  # why the test clocks' customers were not listed
        self.handed = 0  # rows found by the listing and handed to a writer
        self.error: BaseException | None = None

    def run(self) -> None:
        """List, hand over, then send what was not found the usual way (a thread's target)."""
        try:
            self._list()
        except Cancelled:
            return
        except ReadAllowanceError as exc:
            self.runner.refuse_reads(exc)
            return
        except Exception as exc:  # the rest is re-read by customer or by id
            self.error = exc
        if self.stop.is_set():
            return
        rest = sorted(self.wanted.values(), key=lambda item: item[0])
        self.wanted = {}
        for chunk in chunks(self.runner.change, rest):
            self.submit(chunk, self.runner.run_chunk, chunk)

    def _next_page_worth_it(self) -> bool:
        remaining = by_customer_cost(self.unlisted)
        if remaining == 0 or self.stop.is_set():
            return False
        customers = self.customers
        if customers is not None and self.listed < customers:  # pages left, as the hint says
            return -(-(customers - self.listed) // LISTING_PAGE) < remaining
        return self.pages < remaining  # no hint, or more customers than it said

    def _customers(self, params: dict[str, Any], cancel: Any = None) -> dict[str, Any]:
        self.requests += 1
        page: dict[str, Any] = self.runner.reader(PAGE, self.session.list_customers)(params)
        return page

    def _sources_of(self, customer: str, params: dict[str, Any], cancel: Any = None) -> Any:
        self.requests += 1
        return self.runner.reader(MORE, self.session.list_customer_sources)(customer, params)

    def _test_clocks(self, params: dict[str, Any], cancel: Any = None) -> dict[str, Any]:
        self.requests += 1
        self.clock_reads += 1
        page: dict[str, Any] = self.runner.reader(PAGE, self.session.list_test_clocks)(params)
        return page

    def _clock_customers(self, params: dict[str, Any], cancel: Any = None) -> dict[str, Any]:
        self.clock_reads += 1
        return self._customers(params)

    def _list(self) -> None:
        pages = iter_pages(self._customers, params=customer_page_params())
        while self.wanted and self._next_page_worth_it():
            read_at = time.monotonic()
            data = next(pages, None)
            if data is None:  # the list ended: the customers it leaves out are on test clocks
                self._list_clocks()
                return
            self.pages += 1
            self._page(data, read_at)

    def _page(self, data: list[dict[str, Any]], read_at: float) -> None:
        """Hand over the planned sources of one page of customers (read at ``read_at``)."""
        for cus in data:
            cid = cus.get("id")
            if not isinstance(cid, str):
                continue
            self.listed += 1
            self.unlisted.pop(cid, None)
            found, more = embedded_sources(cus)
            for obj in found:
                self._hand(obj, cid, read_at)
            if more is not None:
                self._customer(cid, more)

    def _clocks_worth_it(self, least: int) -> bool:
        """Is a route of at least ``least`` more requests cheaper than re-reading the rows
        still missing by customer?"""
        return (
            bool(self.wanted) and not self.stop.is_set() and least < by_customer_cost(self.unlisted)
        )

    def _list_clocks(self) -> None:
        """In test mode, list the test clocks and page their customers while that is cheaper
        than re-reading the rows still missing by customer (see the class docstring)."""
        if not clocks_apply(self.session.mode, "account") or self.clocks == 0:
            return
        if not self._clocks_worth_it(1 + (self.clocks or 1)):  # the list + a page per clock
            return
        clocks: list[str] = []
        try:
            for found in iter_pages(self._test_clocks, params=clocks_params(None)):
                clocks.extend(c["id"] for c in found if isinstance(c.get("id"), str))
        except StripeRequestError as exc:
            self.clocks_note = clocks_left_out(exc)
            if self.clocks_note is None:
                raise
            return
        for n, clock in enumerate(clocks):
            params = clock_page_params(clock, None, None, None)
            pages = iter_pages(self._clock_customers, params=params)
            # before each page: the least left is this page and one per clock not begun
            while self._clocks_worth_it(len(clocks) - n):
                read_at = time.monotonic()
                data = next(pages, None)
                if data is None:
                    break
                self._page(data, read_at)

    def _customer(self, cid: str, params: dict[str, Any]) -> None:
        """Continue one customer's source list (``params``: where its embedded list ended)
        while two or more of its planned rows are missing, for at most as many pages as
        re-reading them by customer would take."""
        pages = iter_customer_sources(self._sources_of, cid, params)
        budget = -(-self.open.get(cid, 0) // CHUNK_ROWS)
        while self.open.get(cid, 0) >= 2 and budget > 0 and not self.stop.is_set():
            budget -= 1
            read_at = time.monotonic()
            data = next(pages, None)
            if data is None:
                return
            for obj in data:
                self._hand(obj, cid, read_at)

    def _hand(self, obj: dict[str, Any], cid: str, read_at: float) -> None:
        item = self.wanted.pop(str(obj.get("id")), None)
        if item is None:
            return
        index, row = item
        self.open[str(row["customer"])] -= 1
        if self.unlisted.get(str(row["customer"])):  # listed under another customer
            self.unlisted[str(row["customer"])] -= 1
        if not obj.get("customer"):
            obj = {**obj, "customer": cid}
        with self._room:
            if self.ahead >= self.lookahead:
                low = self.lookahead // 2
                while self.ahead > low:
                    if self.stop.is_set():
                        raise Cancelled()
                    self._room.wait(0.1)
            self.ahead += 1
        future = self.submit([item], self.runner.run_one, index, row, obj, read_at)
        self.handed += 1
        future.add_done_callback(self._done)

    def _done(self, _future: Any) -> None:
        """A handed row finished (a writer's thread): wake the listing once half are done."""
        with self._room:
            self.ahead -= 1
            if self.ahead == self.lookahead // 2:
                self._room.notify()


def chunks(change: ChangeKind, tasks: list[tuple[int, PlanRow]]) -> list[list[tuple[int, PlanRow]]]:
    """Split the rows to run into work items: rows of the same customer in chunks of up to
    CHUNK_ROWS (read with one list request), every other row on its own; in plan order."""
    by_customer: dict[str, list[tuple[int, PlanRow]]] = {}
    out: list[list[tuple[int, PlanRow]]] = []
    for index, row in tasks:
        if listable(change, row):
            by_customer.setdefault(str(row["customer"]), []).append((index, row))
        else:
            out.append([(index, row)])
    for items in by_customer.values():
        out.extend(items[i : i + CHUNK_ROWS] for i in range(0, len(items), CHUNK_ROWS))
    out.sort(key=lambda chunk: chunk[0][0])
    return out


def listable(change: ChangeKind, row: PlanRow) -> bool:
    """Can this row's source be re-read with its customer's list (it is attached to one)?"""
    customer = row.get("customer")
    return change.reads_by_customer and isinstance(customer, str) and bool(customer)
