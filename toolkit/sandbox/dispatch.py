"""One HTTP request in, one reply out: faults, access, Stripe's limiters, parameters, object
locks, idempotency, Stripe's retry signals, the request log.

What a reply says about retrying follows Stripe: a saved (and replayed) 500 carries
``Stripe-Should-Retry: false`` (the idempotency layer would answer the same again), a 429
``lock_timeout`` and a 409 carry ``Stripe-Should-Retry: true``, an ``idempotency_error``
``false``. Every reply names the API version (``Stripe-Version``): the one asked for, else the
sandbox's.

Example::

    reply = handle(box, "GET", "/v1/sources/src_1", headers, b"")
    reply.status, reply.body  # 200, b'{"id":"src_1",...}'
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from toolkit.sandbox.access import authenticate, check_account, check_permission
from toolkit.sandbox.admin import handle_admin
from toolkit.sandbox.box import Box
from toolkit.sandbox.errors import ApiError, api_error, rate_limited, unrecognized_url
from toolkit.sandbox.forms import parse_form, parse_pairs, validate
from toolkit.sandbox.http import Reply
from toolkit.sandbox.idempotency import Saved
from toolkit.sandbox.log import RequestLogEntry
from toolkit.sandbox.routes import NESTED, Route, match_route
from toolkit.sandbox.store import DataSet

__all__ = ["API_VERSION", "handle"]

#: The API version the sandbox answers with when a request names none.
API_VERSION = "2024-06-20"


def _log_params(raw: str) -> dict[str, Any]:
    try:
        return parse_form(raw)
    except ApiError:
        return {"_raw": raw}


def _idempotency_conflict(key: str) -> ApiError:
    error = ApiError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
        type="idempotency_error",
        saved=False,
    )
    error.headers["Stripe-Should-Retry"] = "false"
    return error


class _Request:
    """The parts of one request the steps below need."""

    def __init__(self, box: Box, method: str, target: str, headers: Mapping[str, str], body: bytes):
        self.box = box
        self.method = method
        self.path, _, query = target.partition("?")
        self.headers = headers
        self.arrived = time.time()
        self.request_id = box.next_request_id()
        self.idem_key = headers.get("Idempotency-Key") or None
        self.account = headers.get("Stripe-Account") or None
        self.raw = query
        if method == "POST":
            text = body.decode("utf-8", "replace")
            self.raw = f"{query}&{text}" if query else text
        self.livemode: bool | None = None
        self.replayed = False
        self.fault: str | None = None
        version = headers.get("Stripe-Version") or API_VERSION
        self.extra: list[tuple[str, str]] = [
            ("Request-Id", self.request_id),
            ("Stripe-Version", version),
        ]
        if self.idem_key and method == "POST":
            self.extra.append(("Idempotency-Key", self.idem_key))

    def log(self, status: int, fault: str | None = None, limited: str | None = None) -> None:
        self.box.log_request(
            RequestLogEntry(
                self.method,
                self.path,
                _log_params(self.raw),
                status,
                self.idem_key,
                self.account,
                self.livemode,
                self.arrived,
                self.request_id,
                self.replayed,
                fault if fault is not None else self.fault,
                limited,
            )
        )

    def object_lock(self, route: Route) -> AbstractContextManager[Any]:
        """The lock of the object a write changes (a source, or a customer's list)."""
        if not route.write or not route.args:
            return nullcontext()
        return self.box.object_lock((self.account, bool(self.livemode), route.args[-1]))


def _run(req: _Request, route: Route, ds: DataSet, params: dict[str, Any]) -> tuple[int, bytes]:
    """Run the handler (with idempotency for keyed POSTs); an ``error_after`` fault answers 500
    after the handler ran: the write landed, and the 500 is what is saved under the key."""
    box = req.box

    def execute() -> tuple[int, bytes]:
        ds.events.request = {"id": req.request_id, "idempotency_key": req.idem_key}
        try:
            payload = route.handler(ds, params, *route.args)
        finally:
            ds.events.request = None
        if req.fault == "error_after":
            error = api_error()
            return error.status, error.body(req.request_id, bool(req.livemode))
        return 200, payload

    if not (req.idem_key and req.method == "POST"):  # Stripe ignores keys on GET and DELETE
        with box.lock:
            return execute()
    request = (req.method, req.path, tuple(sorted(parse_pairs(req.raw))))
    with box.lock:
        now = box.clock()
        saved = ds.idempotency.get(req.idem_key, now=now)
        if saved is not None:
            if not saved.matches(request):
                raise _idempotency_conflict(req.idem_key)
            req.replayed = True
            req.extra.append(("Idempotent-Replayed", "true"))
            req.extra.append(("Original-Request", saved.request_id))
            return saved.status, saved.body
        try:
            status, payload = execute()
        except ApiError as exc:
            if not exc.saved:
                raise
            status, payload = exc.status, exc.body(req.request_id, bool(req.livemode))
        ds.idempotency.put(
            req.idem_key, Saved.of(request, status, payload, req.request_id), now=now
        )
        return status, payload


def _serve(req: _Request, delay: float) -> tuple[int, bytes]:
    """Access, limits, the handler; returns (status, body) or raises ApiError."""
    box = req.box
    key, req.livemode = authenticate(req.headers, box.api_key, box.restricted_keys)
    check_account(key, req.account, req.livemode, box.connected_accounts)
    route = match_route(req.method, req.path)
    if route is None:
        raise unrecognized_url(req.method, req.path)
    check_permission(key, route.endpoint, req.account, box.restricted_keys)
    ticket = box.limits.admit(req.account, req.livemode, route.endpoint)
    try:
        params = validate(parse_form(req.raw), route.spec, NESTED)
        ds = box.dataset(req.account, req.livemode)
        with req.object_lock(route):
            if delay and route.write:  # a slow write holds its object: concurrent ones wait
                time.sleep(delay)
            status, payload = _run(req, route, ds, params)
        time.sleep(box.limits.latency(len(payload)))
    finally:
        ticket.release()
    if status >= 500:
        req.extra.append(("Stripe-Should-Retry", "false"))  # saved: a retry replays it
    return status, payload


def handle(
    box: Box, method: str, target: str, headers: Mapping[str, str], body: bytes
) -> Reply | None:
    """Serve one request; None means drop the connection without an answer."""
    path = target.partition("?")[0]
    if path.startswith("/_sandbox/"):
        reply = handle_admin(box, method, path, target.partition("?")[2], headers, body)
        reply.headers.append(("Request-Id", box.next_request_id()))
        return reply
    req = _Request(box, method, target, headers, body)
    decision = box.faults.decide(method, req.path)
    req.fault = decision.fault
    write = method != "GET"
    if decision.delay and not write:
        time.sleep(decision.delay)
    if req.fault == "drop":
        if decision.delay and write:
            time.sleep(decision.delay)
        req.log(0)
        return None
    limited = None
    try:
        if req.fault == "rate_limit":
            raise rate_limited()
        if req.fault == "error":
            raise api_error()
        status, payload = _serve(req, decision.delay if write else 0.0)
    except ApiError as exc:
        status, payload = exc.status, exc.body(req.request_id, bool(req.livemode))
        req.extra.extend(exc.headers.items())
        limited = exc.headers.get("Stripe-Rate-Limited-Reason")
    req.log(status, limited=limited)
    if req.fault == "lost_reply":  # it was handled; the caller never hears of it
        return None
    return Reply(status, payload, req.extra)
