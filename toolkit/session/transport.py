"""Stripe's answers and errors in the toolkit's terms (the one place errors are mapped); the
live guard in front of every request is :mod:`~toolkit.session.guarded_http`.

>>> import stripe
>>> error = stripe.InvalidRequestError("No such source: 'src_x'", "id", code="resource_missing",
...                                    http_status=404)
>>> mapped(error, "Retrieving src_x")
NotFoundError("Retrieving src_x failed: HTTP 404 resource_missing: No such source: 'src_x'")
>>> unknown = stripe.InvalidRequestError("Unrecognized request URL (GET: /v1/x).", None,
...                                      http_status=404)
>>> print(mapped(unknown, "Listing x", endpoint="GET /v1/x", server="http://127.0.0.1:9"))
Listing x failed: http://127.0.0.1:9 does not serve GET /v1/x (HTTP 404: Unrecognized ...).
Is api_base a Stripe API (https://api.stripe.com, or a Stripe-compatible server)?
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from toolkit.errors import NotFoundError, StripeRequestError

if TYPE_CHECKING:  # the SDK loads with the first Session (toolkit.session.guarded_http)
    import stripe

__all__ = ["Answer", "Reply", "error_code", "header", "mapped", "seg", "send_plain", "unreachable"]

#: What the HTTP library says when no connection could be made (nothing was sent), and how the
#: toolkit says it; the first that matches counts.
_UNREACHABLE = (
    ("Connection refused", "the connection was refused"),
    ("NameResolutionError", "its name could not be resolved: no network, or no DNS"),
    ("Failed to resolve", "its name could not be resolved: no network, or no DNS"),
    ("connect timeout=", "no connection within the connect timeout"),
    ("ConnectTimeout", "no connection within the connect timeout"),
    ("Network is unreachable", "the network is unreachable"),
    ("No route to host", "there is no route to it"),
    ("Failed to establish a new connection", "no connection could be made"),
)


def unreachable(exc: BaseException) -> str | None:
    """Why no connection could be made, when ``exc`` says so (the request never left: nothing
    was sent), else None; a connection dropped after sending is not this.

    >>> import stripe
    >>> unreachable(stripe.APIConnectionError("(Network error: ... [Errno 111] Connection refused)"))
    'the connection was refused'
    >>> unreachable(stripe.APIConnectionError("Connection aborted: RemoteDisconnected")) is None
    True
    """
    import stripe

    if not isinstance(exc, stripe.APIConnectionError):
        return None
    text = str(exc)
    return next((why for marker, why in _UNREACHABLE if marker in text), None)


class Answer(NamedTuple):
    """Stripe's answer to a write: the body (plain JSON), its request id, and whether Stripe
    replayed a saved answer for the idempotency key (``Idempotent-Replayed: true``)."""

    body: dict[str, Any]
    request_id: str | None
    replayed: bool


class Reply(NamedTuple):
    """Stripe's answer to one request: its JSON as plain dicts, its headers, its request id."""

    data: dict[str, Any]
    headers: Any
    request_id: str | None


def send_plain(
    client: stripe.StripeClient, method: str, path: str, params: dict[str, Any]
) -> Reply:
    """``client.raw_request(method, path, **params)``, with the answer's JSON as plain dicts.

    The SDK's ``raw_request`` parses every answer into ``OrderedDict``\\ s (json's
    ``object_pairs_hook``): about four times the CPU of plain dicts, most of a page of 100
    customers with their sources, and the toolkit wants plain dicts anyway. This sends the same
    request through the client's own requestor (its headers, options, retries and HTTP client,
    so the live guard and the read count) and parses a success once, as plain dicts. An error
    answer (or a body that is not a JSON object) goes through the SDK's own handling, which
    raises its ``StripeError`` as ``raw_request`` would. An SDK without that requestor: its
    ``raw_request``.
    """
    requestor = getattr(client, "_requestor", None)
    request_raw = getattr(requestor, "request_raw", None)
    interpret = getattr(requestor, "_interpret_response", None)
    sdk_only = not path.startswith("/v1/") or "base" in params or "usage" in params
    if request_raw is None or interpret is None or sdk_only:
        response = client.raw_request(method, path, **params)
        return Reply(response.data, response.headers, response.request_id)
    from stripe._request_options import extract_options_from_dict

    options, rest = extract_options_from_dict(params)
    body, code, headers = _request(requestor, request_raw, method, path, rest, options)
    if 200 <= code < 300:
        try:
            data = json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return Reply(data, headers, header(headers, "Request-Id"))
    response = interpret(body, code, headers, "V1")  # raises for an error answer
    return Reply(response.data, response.headers, response.request_id)


def _sdk_logs() -> bool:
    """Does the SDK log its requests (``stripe.log``, ``STRIPE_LOG``, or its ``stripe`` logger
    at INFO or below)?"""
    import logging

    import stripe
    from stripe._util import STRIPE_LOG  # the environment's, as the SDK read it

    if getattr(stripe, "log", None) in ("debug", "info") or STRIPE_LOG in ("debug", "info"):
        return True
    return logging.getLogger("stripe").isEnabledFor(logging.INFO)


def _request(
    requestor: Any,
    request_raw: Callable[..., Any],
    method: str,
    path: str,
    params: dict[str, Any],
    options: Any,
) -> tuple[Any, int, Any]:
    """The SDK's ``request_raw`` without its log lines when no one reads them: it formats four
    per request whatever the log level, one of them the whole answer's body (``repr`` of a page
    of customers: a fifth of the CPU its read costs). The request is built and sent by the
    SDK's own requestor and HTTP client as ``request_raw`` would (its headers, options and
    encoding); when the SDK logs, or its requestor has not those parts, ``request_raw`` itself."""
    build = getattr(requestor, "_args_for_request_with_retries", None)
    http = getattr(requestor, "_get_http_client", None)
    if build is None or http is None or _sdk_logs():
        return request_raw(  # type: ignore[no-any-return]
            method, path, params=params, options=options, base_address="api", api_mode="V1",
            usage=["raw_request"],
        )  # fmt: skip
    method, url, headers, post_data, retries, usage, _, _ = build(
        method, path, params, options, base_address="api", api_mode="V1", usage=["raw_request"]
    )
    return http().request_with_retries(  # type: ignore[no-any-return]
        method, url, headers, post_data, max_network_retries=retries, _usage=usage
    )


def header(headers: Any, name: str) -> str | None:
    """One header of a reply, whatever the case of its name (None when absent).

    >>> header({"stripe-version": "2024-06-20"}, "Stripe-Version")
    '2024-06-20'
    """
    if not headers:
        return None
    value = headers.get(name)
    # requests' and urllib3's header dicts find any case already: absent is absent
    if value is None and not hasattr(headers, "lower_items") and not hasattr(headers, "getlist"):
        lowered = name.lower()
        value = next((v for k, v in dict(headers).items() if str(k).lower() == lowered), None)
    return None if value is None else str(value)


def error_code(exc: stripe.StripeError) -> str | None:
    """Stripe's error ``code`` (the SDK leaves it off some exception classes, such as 429s)."""
    code = getattr(exc, "code", None)
    if code:
        return str(code)
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return str(code) if code else None


def mapped(
    exc: stripe.StripeError,
    what: str,
    *,
    endpoint: str | None = None,
    server: str | None = None,
) -> StripeRequestError:
    """The toolkit's error for a Stripe error (the one place they are mapped).

    ``NotFoundError`` only for Stripe's ``resource_missing`` (a 404 for the object in the path,
    a 400 naming the parameter for an id passed as one, a cursor included). A 404 without a code
    is a URL the server does not serve (Stripe's "Unrecognized request URL", or a server that is
    not Stripe at all): an error that says so, naming ``endpoint`` and ``server``, never "not
    found". ``uncertain`` is True when the request may have landed (a dropped connection, a 5xx,
    a 409 for its idempotency key still in flight).
    """
    import stripe  # loaded already: ``exc`` is one of its errors

    why = unreachable(exc)
    if why is not None:  # the request never left: say so, and what to check
        place = server or "Stripe"
        return StripeRequestError(
            f"{what} failed: could not connect to {place} ({why}). Check the network "
            "connection (and the proxy, HTTPS_PROXY, if you use one), or api_base / "
            f"STRIPE_API_BASE if {place} is not the server you meant. Nothing was sent.",
            detail=f"no connection: {why}",
            error_type="connection_error",
        )
    status = exc.http_status
    error = getattr(exc, "error", None)
    message = (getattr(error, "message", None) or exc.user_message or str(exc) or "").strip()
    code = error_code(exc)
    detail = f"HTTP {status}" if status else type(exc).__name__
    if code:
        detail += f" {code}"
    fields: dict[str, Any] = {
        "status": status,
        "code": code,
        "param": getattr(error, "param", None) or getattr(exc, "param", None),
        "request_id": exc.request_id,
        "stripe_message": message,
        "error_type": getattr(error, "type", None),
        "uncertain": (
            isinstance(exc, stripe.APIConnectionError)
            or (status or 0) >= 500
            or code == "idempotency_key_in_use"
        ),
    }
    if status == 404 and code is None:
        short = message if len(message) <= 200 else message[:200] + "…"
        detail += f": {short}"
        return StripeRequestError(
            f"{what} failed: {server or 'this server'} does not serve "
            f"{endpoint or 'this request'} ({detail}). Is api_base a Stripe API "
            "(https://api.stripe.com, or a Stripe-compatible server)?",
            detail=detail,
            **fields,
        )
    detail += f": {message}"
    kind = NotFoundError if code == "resource_missing" else StripeRequestError
    return kind(f"{what} failed: {detail}", detail=detail, **fields)


def seg(value: str) -> str:
    """An id as one URL path segment (user input never reaches another endpoint)."""
    return quote(str(value), safe="")
