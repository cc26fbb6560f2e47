"""Stripe's error responses: one exception carries status, type, code, message and param.

Stripe's status for an id it does not know depends on where the id was: an object named in the
path is a **404** ``resource_missing`` (``param: "id"``), an id passed as a parameter (a
``starting_after`` cursor, ``source=``, ``test_clock=``) a **400** ``resource_missing`` naming
the parameter. A URL Stripe does not serve is a 404 with no ``code``.

Example::

    raise ApiError.missing("source", "src_123")  # 404 "No such source: 'src_123'"
    raise ApiError.missing_param("customer", "cus_1", "starting_after")  # 400, param named
"""

from __future__ import annotations

import json

DOCS = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """An error the sandbox answers with Stripe's error JSON.

    ``saved`` says whether an idempotency key keeps this result (errors raised while
    the request executes) or drops it (parameter validation, conflicts, injected faults).

    Example::

        raise ApiError(400, "Received unknown parameter: foo", param="foo", code="parameter_unknown")
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.saved = saved
        self.headers = headers or {}

    @classmethod
    def missing(cls, kind: str, object_id: str, param: str | None = "id") -> ApiError:
        """Stripe's 404 for an unknown object in the path: ``No such source: 'src_x'``."""
        return cls(
            404,
            f"No such {kind}: '{object_id}'",
            code="resource_missing",
            param=param,
        )

    @classmethod
    def missing_param(cls, kind: str, object_id: str, param: str) -> ApiError:
        """Stripe's 400 for an unknown id passed as the parameter ``param`` (a cursor
        included): ``No such customer: 'cus_x'`` with ``param: "starting_after"``."""
        return cls(
            400,
            f"No such {kind}: '{object_id}'",
            code="resource_missing",
            param=param,
        )

    @classmethod
    def invalid(cls, message: str, param: str | None, code: str | None = None) -> ApiError:
        """A 400 for a parameter with a bad value (not saved under an idempotency key)."""
        return cls(400, message, param=param, code=code, saved=False)

    @classmethod
    def unknown_param(cls, name: str) -> ApiError:
        """Stripe's 400 for a parameter the endpoint does not take."""
        return cls(
            400,
            f"Received unknown parameter: {name}",
            param=name,
            code="parameter_unknown",
            saved=False,
        )

    @classmethod
    def cannot_unset(cls, name: str) -> ApiError:
        """Stripe's 400 for ``""`` sent to a parameter that cannot be unset (only those its
        spec marks with ``enum: [""]``, such as ``metadata``, can)."""
        return cls(
            400,
            f"You passed an empty string for '{name}'. We assume empty values are an attempt to "
            f"unset a parameter; however '{name}' cannot be unset. You should remove '{name}' "
            "from your request or supply a non-empty value.",
            param=name,
            code="parameter_invalid_empty",
            saved=False,
        )

    def body(self, request_id: str | None = None, livemode: bool = False) -> bytes:
        """The JSON bytes of ``{"error": {...}}`` as Stripe sends them."""
        err: dict[str, str] = {}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = DOCS + self.code.replace("_", "-")
        err["message"] = self.message
        if self.param:
            err["param"] = self.param
        if request_id:
            mode = "" if livemode else "test/"
            err["request_log_url"] = f"https://dashboard.stripe.com/{mode}logs/{request_id}"
        err["type"] = self.type
        return json.dumps({"error": err}, separators=(",", ":")).encode()


def rate_limited() -> ApiError:
    """Stripe's 429 body for too many requests."""
    return ApiError(
        429,
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
        saved=False,
    )


def api_error() -> ApiError:
    """Stripe's 500 body (an injected server error)."""
    return ApiError(
        500,
        "An unknown error occurred, please try again. If the problem persists, "
        "contact support at https://support.stripe.com/contact.",
        type="api_error",
        saved=False,
    )


def unrecognized_url(method: str, path: str) -> ApiError:
    """Stripe's 404 for a path it does not serve: no ``code``, no ``param``, and for a path
    ending in ``/`` (an empty id) Stripe's hint about it.

    >>> unrecognized_url("GET", "/v1/nothing").message[:44]
    'Unrecognized request URL (GET: /v1/nothing).'
    """
    hint = (
        " If you are trying to list objects, remove the trailing slash. If you are trying to "
        "retrieve an object, make sure you passed a valid (non-empty) identifier in your code."
        if path.endswith("/")
        else ""
    )
    return ApiError(
        404,
        f"Unrecognized request URL ({method}: {path}).{hint} Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
        saved=False,
    )
