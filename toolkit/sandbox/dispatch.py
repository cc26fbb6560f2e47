"""One HTTP request in, one reply out: faults, access, Stripe's limiters, parameters, object
locks, idempotency, Stripe's retry signals, the request log.

What a reply says about retrying follows Stripe: a saved (and replayed) 500 carries
``Stripe-Should-Retry: false`` (the idempotency layer would answer the same again), a 429
``lock_timeout`` and a 409 carry ``Stripe-Should-Retry: true``, an ``idempotency_error``
``false``. Every reply names the API version (``Stripe-Version``): the one asked for, else the
sandbox's.

Idempotency keys (POST only: Stripe ignores them on GET and DELETE) are 1 to 255 characters,
else Stripe's 400 ``idempotency_error``. A key is claimed when its request is admitted and
released once its answer is saved: a second request with a key still in flight answers Stripe's
409 ``idempotency_key_in_use`` (``Stripe-Should-Retry: true``: once the first finishes, a retry
gets its saved answer), whatever its parameters.

Example::

    reply = handle(box, "GET", "/v1/sources/src_1", headers, b"")
    reply.status, reply.body  # 200, b'{"id":"src_1",...}'
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from toolkit.sandbox.access import (
    authenticate,
    check_account,
    check_client_secret,
    check_permission,
    check_publishable,
)
from toolkit.sandbox.admin import handle_admin
from toolkit.sandbox.errors import ApiError, api_error, rate_limited, unrecognized_url
from toolkit.sandbox.forms import parse_form, parse_pairs, validate
from toolkit.sandbox.http import Reply
from toolkit.sandbox.idempotency import Saved
from toolkit.sandbox.log import RequestLogEntry
from toolkit.sandbox.routes import NESTED, Route, match_route
from toolkit.sandbox.running import RunningSandbox
from toolkit.sandbox.store import DataSet

__all__ = ["API_VERSION", "handle"]

#: The API version the sandbox answers with when a request names none.
API_VERSION = "2024-06-20"


def _log_params(raw: str) -> dict[str, Any]:
    try:
        return parse_form(raw)
    except ApiError:
        return {"_raw": raw}


#: The longest idempotency key Stripe takes ("up to 255 characters long").
MAX_KEY_LENGTH = 255


def _bad_key_length(key: str) -> ApiError:
    """Stripe's 400 for a key that is empty or longer than 255 characters."""
    error = ApiError(
        400,
        f"Idempotent key length is {len(key)} characters long, which is outside accepted "
        "lengths. Idempotent Keys must be 1-255 characters long. If you're looking for a "
        "decent generator, try using a UUID defined by IETF RFC 4122.",
        type="idempotency_error",
        saved=False,
    )
    error.headers["Stripe-Should-Retry"] = "false"
    return error


def _key_in_use(key: str) -> ApiError:
    """Stripe's 409 for a key whose first request is still being handled."""
    error = ApiError(
        409,
        "There is currently another in-progress request using this Idempotent Key (that "
        f"probably means you submitted twice, and the other request is still going through): "
        f"{key}. Please try again later.",
        code="idempotency_key_in_use",
        saved=False,
    )
    error.headers["Stripe-Should-Retry"] = "true"
    return error


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

    def __init__(
        self, box: RunningSandbox, method: str, target: str, headers: Mapping[str, str], body: bytes
    ):
        self.box = box
        self.method = method
        self.path, _, query = target.partition("?")
        self.headers = headers
        self.arrived = time.time()
        self.request_id = box.next_request_id()
        self.key_header = headers.get("Idempotency-Key")
        self.idem_key = self.key_header or None
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
        #: The key this request claims (a POST with an Idempotency-Key header).
        self.keyed = self.key_header is not None and method == "POST"
        if self.idem_key and self.keyed:
            self.extra.append(("Idempotency-Key", self.idem_key))

    @property
    def fingerprint(self) -> tuple[Any, ...]:
        """What tells this request from another under one idempotency key."""
        return (self.method, self.path, tuple(sorted(parse_pairs(self.raw))))

    def log(
        self, status: int, fault: str | None = None, limited: str | None = None, size: int = 0
    ) -> None:
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
                size,
                time.time() - self.arrived,
            )
        )

    def object_lock(self, route: Route) -> AbstractContextManager[Any]:
        """The lock of the object a write changes (a source, or a customer's list)."""
        if not route.write or not route.args:
            return nullcontext()
        return self.box.object_lock((self.account, bool(self.livemode), route.args[-1]))


def _execute(req: _Request, route: Route, ds: DataSet, params: dict[str, Any]) -> tuple[int, bytes]:
    """Run the handler under the sandbox lock; an ``error_after`` fault answers 500 after the
    handler ran: the write landed, and the 500 is what is saved under the key."""
    with req.box.lock:
        ds.events.request = {"id": req.request_id, "idempotency_key": req.idem_key}
        try:
            payload = route.handler(ds, params, *route.args)
        finally:
            ds.events.request = None
    if req.fault == "error_after":
        error = api_error()
        return error.status, error.body(req.request_id, bool(req.livemode))
    return 200, payload


def _claim(req: _Request, ds: DataSet) -> tuple[int, bytes] | None:
    """For a keyed POST: the saved answer to replay, else None with the key claimed (Stripe's
    409 if another request holds it, its 400 if the parameters differ from the first)."""
    key = req.key_header or ""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise _bad_key_length(key)
    with req.box.lock:
        saved = ds.idempotency.get(key, now=req.box.clock())
        if saved is not None:
            if not saved.matches(req.fingerprint):
                raise _idempotency_conflict(key)
            req.replayed = True
            req.extra.append(("Idempotent-Replayed", "true"))
            req.extra.append(("Original-Request", saved.request_id))
            return saved.status, saved.body
        if not ds.idempotency.claim(key):
            raise _key_in_use(key)
    return None


def _run(
    req: _Request, route: Route, ds: DataSet, params: dict[str, Any], delay: float
) -> tuple[int, bytes]:
    """Run the handler once its object is free (a slow write, ``delay`` seconds, holds its
    object: concurrent ones wait); a keyed POST saves its answer (or an error the endpoint
    raised) under its key, then releases the key."""
    if not req.keyed:
        with req.object_lock(route):
            time.sleep(delay if route.write else 0.0)
            return _execute(req, route, ds, params)
    key = str(req.key_header)
    try:
        with req.object_lock(route):
            time.sleep(delay if route.write else 0.0)
            try:
                status, payload = _execute(req, route, ds, params)
            except ApiError as exc:
                if not exc.saved:
                    raise
                status, payload = exc.status, exc.body(req.request_id, bool(req.livemode))
        with req.box.lock:
            saved = Saved.of(req.fingerprint, status, payload, req.request_id)
            ds.idempotency.put(key, saved, now=req.box.clock())
        return status, payload
    finally:
        with req.box.lock:
            ds.idempotency.release(key)


def _serve(req: _Request, delay: float) -> tuple[int, bytes]:
    """Access, limits, the handler; returns (status, body) or raises ApiError."""
    box = req.box
    key, req.livemode = authenticate(req.headers, box.api_key, box.restricted_keys)
    check_account(key, req.account, req.livemode, box.connected_accounts)
    route = match_route(req.method, req.path)
    if route is None:
        raise unrecognized_url(req.method, req.path)
    check_permission(key, route.endpoint, req.account, box.restricted_keys)
    check_publishable(key, route.endpoint)
    resource = route.args[-1] if route.args else None
    ticket = box.limits.admit(req.account, req.livemode, route.endpoint, resource)
    try:
        params = validate(parse_form(req.raw), route.spec, NESTED)
        ds = box.dataset(req.account, req.livemode)
        if key.startswith("pk_") and resource is not None:
            with box.lock:
                stored = (ds.sources.get(resource) or {}).get("client_secret")
            check_client_secret(key, resource, params.get("client_secret"), stored)
        replay = _claim(req, ds) if req.keyed else None
        if replay is not None:
            status, payload = replay
        else:
            status, payload = _run(req, route, ds, params, delay)
        time.sleep(box.limits.latency(len(payload)))
    finally:
        ticket.release()
    if status >= 500:
        req.extra.append(("Stripe-Should-Retry", "false"))  # saved: a retry replays it
    return status, payload


def handle(
    box: RunningSandbox, method: str, target: str, headers: Mapping[str, str], body: bytes
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
    req.log(status, limited=limited, size=len(payload))
    if req.fault == "lost_reply":  # it was handled; the caller never hears of it
        return None
    return Reply(status, payload, req.extra)
