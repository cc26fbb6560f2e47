"""One read per customer, and its continuations, over given customer ids or every customer of
the account: what :func:`~toolkit.load_cash_balances` and
:func:`~toolkit.load_cash_balance_transactions` share (paced, cancellable, recording what they
missed).

>>> reads = PerCustomer(session, ["cus_NoSuchCustomer01"], session.retrieve_cash_balance,
...                     lambda _: None, None)
>>> [(cid, body) for cid, body, _ in reads.results()], reads.missing
([('cus_NoSuchCustomer01', None)], ['cus_NoSuchCustomer01'])
>>> reads.close()
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from toolkit.errors import Cancelled, NotFoundError
from toolkit.fetch.clocks import clocks_apply, clocks_left_out, clocks_params
from toolkit.fetch.inputs import in_order
from toolkit.fetch.lists import is_last, params_after
from toolkit.fetch.loaded import LoadInfo
from toolkit.fetch.pool import FIRST, MORE, PAGE, RequestPool, Task
from toolkit.fetch.windows import PAGE_SIZE
from toolkit.session.protocol import SessionLike

__all__ = ["PerCustomer"]


class PerCustomer:
    """One read per customer (and its continuations), over the given ids or every customer of
    the account (customer pages, and in test mode the test clocks' customers).

    A cursor that vanishes (Stripe's 400 ``resource_missing`` on ``starting_after``: a customer
    deleted mid-load) restarts its list where the cursor was, skipping what was seen; test
    clocks that cannot be listed are left out with a note (:func:`clocks_left_out`)."""

    def __init__(
        self,
        session: SessionLike,
        ids: list[str] | None,
        read: Callable[..., dict[str, Any]],
        params: Callable[[str | None], dict[str, Any] | None],
        cancel: threading.Event | None,
        embedded: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        expand: str | None = None,
    ) -> None:
        self.session, self.ids, self.read, self.params = session, ids, read, params
        # account-wide, the customer pages may carry the answer (``expand``): no read each
        self.embedded, self.expand = embedded, expand
        self.pool = RequestPool(session, cancel)
        self.asked: list[str] = list(ids or [])
        self.missing: list[str] = []
        self.listed = 0
        self.seen: set[str] = set()  # customers listed (a restarted page lists some again)
        self.clocks: int | None = None
        self.clocks_seen: set[str] = set()
        self.clocks_note: str | None = None

    def _customer(self, cid: str) -> None:
        self.pool.add(FIRST, "read", self.read, (cid,), self.params(None), cid)

    def _page(
        self,
        after: dict[str, Any] | None,
        clock: str | None = None,
        lte: int | None = None,
    ) -> None:
        """One customer page after the customer ``after`` (of the clock ``clock``, created at or
        before ``lte`` after a restart)."""
        params: dict[str, Any] = {"limit": PAGE_SIZE}
        if self.expand:
            params["expand"] = [self.expand]
        params = params_after(params, after["id"] if after else None)
        if clock:
            params["test_clock"] = clock
        if lte is not None:
            params["created"] = {"lte": lte}
        ref = (clock, lte, (after or {}).get("created"))
        self.pool.add(PAGE, "customers", self.session.list_customers, (), params, ref)

    def _clocks(self, after: str | None) -> None:
        read = self.session.list_test_clocks
        self.pool.add(PAGE, "clocks", read, (), clocks_params(after), None)

    def _failed(self, task: Task, exc: BaseException) -> bool:
        """Go on after a failed read (True), or not (False: the caller raises it)."""
        if isinstance(exc, NotFoundError) and exc.cursor_vanished:
            if task.kind == "customers":  # restart where the cursor was, at its created
                clock, lte, cursor_created = task.ref
                self._page(None, clock, cursor_created if cursor_created is not None else lte)
                return True
            if task.kind == "clocks":
                self._clocks(None)
                return True
            if task.kind == "read" and self.params(None) is not None:  # list it again
                self.pool.again(task, MORE, self.params(None))
                return True
        if task.kind == "clocks":
            note = clocks_left_out(exc)
            if note is not None:
                self.clocks, self.clocks_note = None, note
                return True
        return False

    def results(self) -> Iterator[tuple[str, dict[str, Any] | None, Task]]:
        """(customer, body or None when Stripe does not know it, task) for every read."""
        if self.ids is None:
            self._page(None)
            if clocks_apply(self.session.mode, "account"):
                self.clocks = 0
                self._clocks(None)
        else:  # fed in as the pool's queue drains
            ids = self.ids
            self.pool.feed(FIRST, "read", self.read, (((c,), self.params(None), c) for c in ids))
        for task, result in self.pool.results():
            if isinstance(result, BaseException):
                if isinstance(result, Cancelled):
                    raise Cancelled("Canceled: stopped before every cash balance was read.")
                if self._failed(task, result):
                    continue
                if isinstance(result, NotFoundError) and task.kind == "read":
                    self.missing.append(task.ref)
                    yield task.ref, None, task
                    continue
                raise result
            data = result.get("data") or []
            if task.kind == "clocks":
                for clock in data:
                    if clock["id"] not in self.clocks_seen:
                        self.clocks_seen.add(clock["id"])
                        self.clocks = (self.clocks or 0) + 1
                        self._page(None, clock["id"])
                if not is_last(result):
                    self._clocks(data[-1]["id"])
            elif task.kind == "customers":
                for cus in data:
                    if cus["id"] in self.seen:
                        continue
                    self.seen.add(cus["id"])
                    self.listed += 1
                    self.asked.append(cus["id"])
                    if self.embedded is not None:
                        yield cus["id"], self.embedded(cus), task
                    else:
                        self._customer(cus["id"])
                if not is_last(result):
                    clock, lte, _ = task.ref
                    self._page(data[-1], clock, lte)
            else:
                yield task.ref, result, task

    def again(self, task: Task, params: dict[str, Any]) -> None:
        """Read the same list again with ``params`` (its next page: :func:`~toolkit.fetch.lists.next_params`)."""
        self.pool.again(task, MORE, params)

    def close(self) -> None:
        self.pool.close()

    def info(self, session: SessionLike, taken_at: Any) -> LoadInfo:
        return LoadInfo(
            taken_at=taken_at.isoformat(),
            account=session.account_label,
            mode=session.mode,
            missing_customers=in_order(self.missing, self.asked),
            scope="account" if self.ids is None else "customers",
            customers=len(self.asked),
            requests=self.pool.requests,
            test_clocks=self.clocks,
            test_clocks_note=self.clocks_note,
            api_version=session.api_version,
        )
