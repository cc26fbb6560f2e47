"""One data set of the sandbox (test or live mode, platform or connected account): the objects,
their order, cursor pagination, writes, and a cache of each object's JSON bytes.

Writes drop the cached bytes of what they touch; list responses are assembled from cached
fragments, so a hot page costs a join, not a serialization. The caller holds the sandbox lock.

Example::

    ds = DataSet(livemode=False, account=None, rng_seed="7:runtime")
    body = ds.list_json(ids, has_more=False, url="/v1/customers")
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Sequence
from typing import Any

from toolkit.sandbox.billing import Billing
from toolkit.sandbox.cash import CashBalances
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.events import EventLog
from toolkit.sandbox.idempotency import IdempotencyStore
from toolkit.sandbox.ledger import Ledger
from toolkit.sandbox.metadata import apply_metadata
from toolkit.sandbox.objects import rand_id
from toolkit.sandbox.pagination import created_bounds, in_created, list_index, paginate
from toolkit.sandbox.payment_methods import PaymentMethodBook
from toolkit.sandbox.source_objects import make_transaction
from toolkit.sandbox.source_updates import make_order, merge_owner
from toolkit.sandbox.update_checks import check_amount, check_mandate, check_order

SANDBOX_NOW = 1793491200  # 2026-11-01T00:00:00Z: the data clock, never the wall clock
EMBEDDED_SOURCES = 10  # payment sources embedded per customer by expand[]=data.sources
ATTACHABLE = ("chargeable", "pending")


def dumps(obj: Any) -> bytes:
    """Compact JSON bytes."""
    return json.dumps(obj, separators=(",", ":")).encode()


class DataSet:
    """Customers, payment sources, sources and source transactions of one account and mode.

    Attributes are read-only for callers (write through the methods so caches stay right):
    ``customers``, ``sources``, ``cards`` (cards and bank accounts), ``items`` (customer id ->
    payment source ids, newest first), ``transactions`` (source id -> transactions, newest first),
    ``planted``, ``detached_ids``, ``unattached_ids``, ``deleted_customers`` (ids of customers
    deleted through the API: Stripe still retrieves them as ``{"deleted": true}``),
    ``created_at`` (payment source id -> when it was added: cards carry no ``created``).

    Past Sources: ``cash`` (cash balances, toolkit.sandbox.cash), ``payment_methods``
    (toolkit.sandbox.payment_methods), ``billing`` (invoices and subscriptions,
    toolkit.sandbox.billing) and ``ledger`` (charges, refunds, balance transactions, payouts and
    the expected tie-out, toolkit.sandbox.ledger).
    """

    def __init__(self, *, livemode: bool, account: str | None, rng_seed: str) -> None:
        self.livemode = livemode
        self.account = account
        self.rng = random.Random(rng_seed)
        self.customers: dict[str, dict[str, Any]] = {}
        self.sources: dict[str, dict[str, Any]] = {}
        self.cards: dict[str, dict[str, Any]] = {}
        self.items: dict[str, list[str]] = {}
        self.transactions: dict[str, list[dict[str, Any]]] = {}
        self.planted: dict[str, list[str]] = {}
        self.detached_ids: list[str] = []
        self.unattached_ids: list[str] = []
        #: Klarna sources with an order to complete (toolkit.sandbox.seed_orders).
        self.order_ids: list[str] = []
        self.deleted_customers: set[str] = set()
        self.idempotency = IdempotencyStore()
        self.created_at: dict[str, int] = {}
        self.cash = CashBalances(livemode=livemode, rng=random.Random(rng_seed + ":cash"))
        self.payment_methods = PaymentMethodBook(
            livemode=livemode, rng=random.Random(rng_seed + ":payment_methods")
        )
        self.billing = Billing()
        self.ledger = Ledger(
            livemode=livemode,
            rng=random.Random(rng_seed + ":ledger"),
            sources=self.sources,
            customers=self.customers,
            cash=self.cash,
        )
        self.ledger.balance_method = self._balance_method
        self.cash.on_record = self.ledger.cash_moved
        #: The platform's connected accounts (``GET /v1/accounts``), set by the sandbox.
        self.connected: list[dict[str, Any]] = []
        #: ``GET /v1/events``; the sandbox sets ``events.now`` to its clock.
        self.events = EventLog(
            now=lambda: float(self._clock), seed=rng_seed, account=account, livemode=livemode
        )
        #: The "Sources switched off" profile: retired source types can be neither created nor
        #: attached (see toolkit.sandbox.retired).
        self.sources_retired = False
        self.order: list[str] = []  # customers newest first, without test-clock customers
        self.test_clocks: dict[str, dict[str, Any]] = {}
        self._clock_orders: dict[str, list[str]] = {}
        self._neg_created: list[int] = []
        self._pos: dict[str, int] = {}
        self._txn_source: dict[str, str] = {}
        self._json: dict[str, bytes] = {}
        self._embedded: dict[str, bytes] = {}
        self._clock = SANDBOX_NOW

    # -- building ---------------------------------------------------------------------------

    def index(self) -> None:
        """Sort customers newest first (ties by id) and index positions; call after seeding."""
        newest = sorted(
            self.customers, key=lambda c: (self.customers[c]["created"], c), reverse=True
        )
        self.order = [c for c in newest if not self.customers[c].get("test_clock")]
        self._clock_orders = {clock: [] for clock in self.test_clocks}
        for cid in newest:
            clock = self.customers[cid].get("test_clock")
            if clock:
                self._clock_orders.setdefault(clock, []).append(cid)
        self._neg_created = [-self.customers[c]["created"] for c in self.order]
        self._pos = {c: i for i, c in enumerate(self.order)}
        for sid, txns in self.transactions.items():
            for txn in txns:
                self._txn_source[txn["id"]] = sid
        self._json.clear()
        self._embedded.clear()

    def _balance_method(self, cid: str, when: int) -> str:
        """The customer's ``customer_balance`` payment method, created when missing."""
        found = self.payment_methods.of_type(cid, "customer_balance")
        if found:
            return str(found[0]["id"])
        return str(self.payment_methods.add("customer_balance", customer=cid, created=when)["id"])

    def idempotency_count(self) -> int:
        """How many idempotency keys are remembered (keys expire after 24 hours)."""
        return len(self.idempotency)

    def idempotency_bytes(self) -> int:
        """About how many bytes the remembered responses hold."""
        return self.idempotency.nbytes

    def tick(self) -> int:
        """A ``created`` for an object made now: SANDBOX_NOW plus a counter."""
        self._clock += 1
        return self._clock

    # -- JSON -------------------------------------------------------------------------------

    def obj_json(self, obj: dict[str, Any]) -> bytes:
        """Cached JSON bytes of a source, card, bank account or transaction."""
        oid = obj["id"]
        cached = self._json.get(oid)
        if cached is None:
            cached = self._json[oid] = dumps(obj)
        return cached

    def payment_source(self, pid: str) -> dict[str, Any]:
        """A source, card or bank account by id (KeyError if there is none)."""
        found = self.sources.get(pid) or self.cards.get(pid)
        if found is None:
            raise KeyError(pid)
        return found

    def customer_json(self, cid: str, *, expand_sources: bool = False) -> bytes:
        """A customer's JSON, with its 10 most recent payment sources embedded if asked."""
        if not expand_sources:
            return self.obj_json(self.customers[cid])
        cached = self._embedded.get(cid)
        if cached is None:
            items = self.items.get(cid, [])
            head = [self.obj_json(self.payment_source(p)) for p in items[:EMBEDDED_SOURCES]]
            embedded = self.list_json(
                head, len(items) > EMBEDDED_SOURCES, f"/v1/customers/{cid}/sources"
            )
            base = self.obj_json(self.customers[cid])
            cached = self._embedded[cid] = base[:-1] + b',"sources":' + embedded + b"}"
        return cached

    @staticmethod
    def list_json(fragments: Sequence[bytes], has_more: bool, url: str) -> bytes:
        """Stripe's list envelope around already-serialized objects."""
        return b"".join(
            (
                b'{"object":"list","data":[',
                b",".join(fragments),
                b'],"has_more":',
                b"true" if has_more else b"false",
                b',"url":"',
                url.encode(),
                b'"}',
            )
        )

    def touch_source(self, src: dict[str, Any]) -> None:
        """Forget cached bytes after a write to ``src`` (and its customer's embedded list)."""
        self._json.pop(src["id"], None)
        cid = src.get("customer")
        if cid:
            self._embedded.pop(cid, None)

    def forget_json(self, oid: str) -> None:
        """Forget one object's cached bytes (it was deleted)."""
        self._json.pop(oid, None)

    def remove_customer(self, cid: str) -> None:
        """Take a deleted customer out of the lists (its payment sources already handled); it
        is remembered in ``deleted_customers``."""
        if self.customers.pop(cid, None) is not None:
            self.deleted_customers.add(cid)
        if cid in self._pos:
            self.order.remove(cid)
            self._neg_created = [-self.customers[c]["created"] for c in self.order]
            self._pos = {c: i for i, c in enumerate(self.order)}
        for clocked in self._clock_orders.values():
            if cid in clocked:
                clocked.remove(cid)
        self.touch_customer(cid)

    def touch_customer(self, cid: str) -> None:
        """Forget a customer's cached bytes."""
        self._json.pop(cid, None)
        self._embedded.pop(cid, None)

    # -- reads ------------------------------------------------------------------------------

    def get_customer(self, cid: str, param: str | None = "id") -> dict[str, Any]:
        """A customer, or Stripe's 404 (a deleted customer too: only ``GET /v1/customers/{id}``
        still answers for it, see ``deleted_customers``)."""
        cus = self.customers.get(cid)
        if cus is None:
            raise ApiError.missing("customer", cid, param)
        return cus

    def get_source(self, sid: str, param: str | None = "id") -> dict[str, Any]:
        """A source, or Stripe's 404."""
        src = self.sources.get(sid)
        if src is None:
            raise ApiError.missing("source", sid, param)
        return src

    def page_customers(
        self,
        limit: int,
        starting_after: str | None,
        ending_before: str | None,
        created: dict[str, int],
        email: str | None,
        test_clock: str | None = None,
    ) -> tuple[list[str], bool]:
        """One page of customer ids, newest first, and has_more. As in Stripe, customers on a
        test clock are listed only when their ``test_clock`` is asked for."""
        if test_clock is not None:
            clocked = [
                cid
                for cid in self._clock_orders.get(test_clock, [])
                if in_created(self.customers[cid]["created"], created)
            ]
            return paginate(
                clocked, 0, len(clocked), list_index(clocked), limit, starting_after,
                ending_before, "customer", None,
            )  # fmt: skip
        lo, hi = created_bounds(self._neg_created, created)
        match = None
        if email is not None:
            customers = self.customers

            def match(cid: str) -> bool:
                return customers[cid]["email"] == email

        return paginate(
            self.order,
            lo,
            hi,
            self._pos.get,
            limit,
            starting_after,
            ending_before,
            "customer",
            match,
        )

    def page_items(
        self,
        cid: str,
        kind: str | None,
        limit: int,
        starting_after: str | None,
        ending_before: str | None,
    ) -> tuple[list[str], bool]:
        """One page of a customer's payment source ids (optionally one object kind)."""
        items = self.items.get(cid, [])
        match = None
        if kind is not None:

            def match(pid: str) -> bool:
                return self.payment_source(pid)["object"] == kind

        return paginate(
            items,
            0,
            len(items),
            list_index(items),
            limit,
            starting_after,
            ending_before,
            "source",
            match,
        )

    def page_transactions(
        self, sid: str, limit: int, starting_after: str | None, ending_before: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of a source's transactions, newest first."""
        txns = self.transactions.get(sid, [])
        ids = [t["id"] for t in txns]
        page, more = paginate(
            ids,
            0,
            len(ids),
            list_index(ids),
            limit,
            starting_after,
            ending_before,
            "source_transaction",
            None,
        )
        by_id = {t["id"]: t for t in txns}
        return [by_id[i] for i in page], more

    # -- writes -----------------------------------------------------------------------------

    def update_source(self, src: dict[str, Any], params: dict[str, Any]) -> None:
        """POST /v1/sources/{id}: amount, metadata, owner, source_order, mandate (accepted and
        not shown: a Source has no mandate field). The rules: :mod:`toolkit.sandbox.update_checks`."""
        if "metadata" in params:
            new_meta = apply_metadata(src["metadata"], params["metadata"])
        else:
            new_meta = src["metadata"]
        if "amount" in params:
            check_amount(src, params["amount"])
        if "mandate" in params:
            check_mandate(src, params["mandate"])
        if "source_order" in params:
            check_order(src, params["source_order"])
        if "owner" in params:
            owner = params["owner"]
            if owner == "":
                raise ApiError.invalid("Invalid hash: owner", "owner")
        # All checks passed: write.
        before = {k: copy.deepcopy(src.get(k)) for k in ("metadata", "owner", "amount")}
        src["metadata"] = new_meta
        if "amount" in params:
            src["amount"] = params["amount"]
        if "owner" in params:
            src["owner"] = merge_owner(src["owner"], params["owner"])
        if "source_order" in params:
            src["source_order"] = make_order(src, params["source_order"])
        self.touch_source(src)
        if self.is_attached(src):  # Stripe has no event for an unattached source's update
            changed = {k: v for k, v in before.items() if src.get(k) != v}
            self.events.emit("customer.source.updated", src, changed)

    def is_attached(self, src: dict[str, Any]) -> bool:
        """Is ``src`` in its customer's list of payment sources?"""
        cid = src.get("customer")
        return bool(cid) and src["id"] in self.items.get(str(cid), ())

    def add_transaction(self, src: dict[str, Any], amount: int) -> dict[str, Any]:
        """A deposit (amount > 0) or a reversal (amount < 0) on a receiver."""
        if src["flow"] != "receiver":
            raise ApiError.invalid(f"Source {src['id']} is not a receiver.", "source")
        receiver = src["receiver"]
        if amount < 0 and receiver["amount_received"] + amount < 0:
            raise ApiError.invalid(
                f"Cannot reverse {-amount}: source {src['id']} has received only "
                f"{receiver['amount_received']}.",
                "amount",
            )
        txn = make_transaction(self.rng, src, amount, created=self.tick())
        receiver["amount_received"] += amount
        became_chargeable = amount > 0 and src["status"] == "pending"
        if became_chargeable:
            src["status"] = "chargeable"
        self.transactions.setdefault(src["id"], []).insert(0, txn)
        self._txn_source[txn["id"]] = src["id"]
        self.touch_source(src)
        self.events.emit("source.transaction.created", txn)
        if became_chargeable:
            self.events.emit("source.chargeable", src)
        return txn

    def new_id(self, prefix: str) -> str:
        """A fresh id for an object created at run time (deterministic for the request order)."""
        return rand_id(self.rng, prefix)
