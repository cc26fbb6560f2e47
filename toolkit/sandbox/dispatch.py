"""One HTTP request in, one reply out: auth, faults, parameters, idempotency, the request log.

Example::

    reply = handle(box, "GET", "/v1/sources/src_1", headers, b"")
    reply.status, reply.body  # 200, b'{"id":"src_1",...}'
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from toolkit.sandbox.admin import handle_admin
from toolkit.sandbox.box import Box
from toolkit.sandbox.errors import ApiError, api_error, rate_limited, unrecognized_url
from toolkit.sandbox.forms import parse_form, parse_pairs, validate
from toolkit.sandbox.http import ACCOUNT_RE, KEY_RE, Reply, api_key_of
from toolkit.sandbox.idempotency import Saved
from toolkit.sandbox.log import RequestLogEntry
from toolkit.sandbox.routes import NESTED, match_route

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


def _mask(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    prefix = key[: key.find("_", 3) + 1] if key.count("_") >= 2 else key[:3]
    return prefix + "*" * max(4, len(key) - len(prefix) - 4) + key[-4:]


def authenticate(box: Box, headers: Mapping[str, str]) -> bool:
    """The key's livemode, or Stripe's 401 for a missing or malformed key."""
    key = api_key_of(headers)
    if key is None:
        raise ApiError(401, NO_KEY, saved=False)
    expected = box.api_key
    valid = key == expected if expected is not None else KEY_RE.fullmatch(key) is not None
    if not valid:
        raise ApiError(401, f"Invalid API Key provided: {_mask(key)}", saved=False)
    return key.split("_", 2)[1] == "live"


def check_account(account: str | None, livemode: bool) -> None:
    """Stripe's 403 for a Stripe-Account header that is not an account id."""
    if account is not None and not ACCOUNT_RE.fullmatch(account):
        mode = "live" if livemode else "test"
        raise ApiError(
            403,
            f"The provided key does not have access to account '{account}' (or that account "
            f"does not exist) in {mode} mode.",
            code="account_invalid",
            type="invalid_request_error",
            saved=False,
        )


def _log_params(raw: str) -> dict[str, Any]:
    try:
        return parse_form(raw)
    except ApiError:
        return {"_raw": raw}


def handle(
    box: Box, method: str, target: str, headers: Mapping[str, str], body: bytes
) -> Reply | None:
    """Serve one request; None means drop the connection without an answer."""
    path, _, query = target.partition("?")
    if path.startswith("/_sandbox/"):
        reply = handle_admin(box, method, path, query, headers, body)
        reply.headers.append(("Request-Id", box.next_request_id()))
        return reply
    arrived = time.time()
    request_id = box.next_request_id()
    idem_key = headers.get("Idempotency-Key") or None
    account = headers.get("Stripe-Account") or None
    raw = query
    if method == "POST":
        text = body.decode("utf-8", "replace")
        raw = f"{query}&{text}" if query else text
    livemode: bool | None = None
    replayed = False
    fault = None
    extra: list[tuple[str, str]] = [("Request-Id", request_id)]
    if idem_key and method == "POST":
        extra.append(("Idempotency-Key", idem_key))
    version = headers.get("Stripe-Version")
    if version:
        extra.append(("Stripe-Version", version))
    decision = box.faults.decide(method, path)
    if decision.delay:
        time.sleep(decision.delay)
    fault = decision.fault
    try:
        if fault == "drop":
            box.log_request(
                RequestLogEntry(
                    method,
                    path,
                    _log_params(raw),
                    0,
                    idem_key,
                    account,
                    None,
                    arrived,
                    request_id,
                    False,
                    "drop",
                )
            )
            return None
        if fault == "rate_limit":
            raise rate_limited()
        if fault == "error":
            raise api_error()
        livemode = authenticate(box, headers)
        check_account(account, livemode)
        route = match_route(method, path)
        if route is None:
            raise unrecognized_url(method, path)
        params = validate(parse_form(raw), route.spec, NESTED)
        ds = box.dataset(account, livemode)
        if idem_key and method == "POST":  # Stripe ignores keys on GET and DELETE
            request = (method, path, tuple(sorted(parse_pairs(raw))))
            with box.lock:
                now = box.clock()
                saved = ds.idempotency.get(idem_key, now=now)
                if saved is not None:
                    if not saved.matches(request):
                        raise ApiError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{idem_key}' if you meant to execute a different request.",
                            type="idempotency_error",
                            saved=False,
                        )
                    replayed = True
                    status, payload = saved.status, saved.body
                    extra.append(("Idempotent-Replayed", "true"))
                    extra.append(("Original-Request", saved.request_id))
                else:
                    try:
                        status, payload = 200, route.handler(ds, params, *route.args)
                    except ApiError as exc:
                        if not exc.saved:
                            raise
                        status, payload = exc.status, exc.body(request_id, livemode)
                    ds.idempotency.put(
                        idem_key, Saved.of(request, status, payload, request_id), now=now
                    )
        else:
            with box.lock:
                status, payload = 200, route.handler(ds, params, *route.args)
    except ApiError as exc:
        status, payload = exc.status, exc.body(request_id, bool(livemode))
        extra.extend(exc.headers.items())
    box.log_request(
        RequestLogEntry(
            method,
            path,
            _log_params(raw),
            status,
            idem_key,
            account,
            livemode,
            arrived,
            request_id,
            replayed,
            fault,
        )
    )
    if fault == "lost_reply":  # it was handled; the caller never hears of it
        return None
    return Reply(status, payload, extra)
