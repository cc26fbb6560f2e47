"""Sandbox control routes outside ``/v1`` (no key needed, never faulted, not logged).

- ``POST /_sandbox/deposit``  source, amount [, account, livemode]: money lands in a receiver
- ``POST /_sandbox/reverse``  source, amount [, account, livemode]: a reversal (negative)
- ``GET /_sandbox/requests``  the request log; ``DELETE`` clears it
- ``GET /_sandbox/faults``    the fault settings; ``POST`` changes some (``""`` resets one)
- ``POST /_sandbox/faults/off``
- ``POST /_sandbox/reset``    reseed every data set, clear the log and idempotency keys
- ``GET /_sandbox/planted``   planted anomalies, detached and never-attached source ids
- ``GET /_sandbox/clock``     the sandbox's clock; ``POST`` with ``advance`` (seconds) moves it on
  (past the 15th of a month: Stripe's sweep of old money on sources, see ``Sandbox.advance_clock``)
- ``GET /_sandbox/health``

The data set is chosen by ``account``/``livemode`` params, else by the Stripe-Account header
and the key's mode when sent, else the default (test mode, no connected account). Example::

    curl -X POST http://127.0.0.1:12111/_sandbox/deposit -d source=src_... -d amount=5000
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from toolkit.sandbox.errors import ApiError, unrecognized_url
from toolkit.sandbox.faults import FAULT_FIELDS
from toolkit.sandbox.forms import as_int, parse_form
from toolkit.sandbox.http import KEY_RE, Reply, api_key_of, json_reply
from toolkit.sandbox.running import RunningSandbox


def _params(query: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", "replace")
    if (headers.get("Content-Type") or "").startswith("application/json") and text.strip():
        try:
            loaded = json.loads(text)
        except ValueError as exc:
            raise ApiError.invalid(f"Invalid JSON body: {exc}", None) from exc
        if not isinstance(loaded, dict):
            raise ApiError.invalid("Expected a JSON object.", None)
        params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in loaded.items()}
        return {**parse_form(query), **params}
    return parse_form(f"{query}&{text}" if query else text)


def _target(params: dict[str, Any], headers: Mapping[str, str]) -> tuple[str | None, bool]:
    account = params.get("account") or headers.get("Stripe-Account") or None
    if "livemode" in params:
        return account, str(params["livemode"]).lower() in ("true", "1")
    key = api_key_of(headers)
    livemode = bool(key and KEY_RE.fullmatch(key) and key.split("_", 2)[1] == "live")
    return account, livemode


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError.invalid(f"Missing required param: {name}.", name)
    return value


def _fault_value(name: str, value: str) -> Any:
    if name in ("fault_method", "fault_path"):
        return value or None
    if name == "rate_limit":
        return float(value) if value not in ("", "null", "None") else None
    return float(value or 0)


def handle_admin(
    box: RunningSandbox,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
) -> Reply:
    """Serve one ``/_sandbox/...`` request."""
    try:
        params = _params(query, headers, body)
        route = (method, path.rstrip("/"))
        if route == ("GET", "/_sandbox/health"):
            return json_reply({"ok": True, "seed": box.seed, "customers": box.customers})
        if route in (("POST", "/_sandbox/deposit"), ("POST", "/_sandbox/reverse")):
            account, livemode = _target(params, headers)
            source = _required(params, "source")
            amount = as_int(params.get("amount", ""), "amount")
            act = box.deposit if path.endswith("deposit") else box.reverse
            try:
                txn = act(source, amount, account=account, livemode=livemode)
            except LookupError as exc:  # NotFoundError
                raise ApiError.missing("source", source, "source") from exc
            except ValueError as exc:
                raise ApiError.invalid(str(exc), "amount") from exc
            return json_reply(txn)
        if route == ("POST", "/_sandbox/bank_transfer"):
            account, livemode = _target(params, headers)
            customer = _required(params, "customer")
            amount = as_int(params.get("amount", ""), "amount")
            try:
                txn = box.bank_transfer(
                    customer, amount, params.get("currency", "usd"), account=account,
                    livemode=livemode,
                )  # fmt: skip
            except LookupError as exc:  # NotFoundError
                raise ApiError.missing("customer", customer, "customer") from exc
            except ValueError as exc:
                raise ApiError.invalid(str(exc), "amount") from exc
            return json_reply(txn)
        if route == ("POST", "/_sandbox/migrate"):
            account, livemode = _target(params, headers)
            customer = _required(params, "customer")
            try:
                return json_reply(
                    box.migrate_customer(customer, account=account, livemode=livemode)
                )
            except LookupError as exc:  # NotFoundError
                raise ApiError.missing("customer", customer, "customer") from exc
        if route == ("GET", "/_sandbox/requests"):
            data = [entry.to_dict() for entry in list(box.requests)]
            return json_reply({"object": "list", "data": data, "has_more": False})
        if route == ("DELETE", "/_sandbox/requests"):
            count = len(box.requests)
            box.clear_log()
            return json_reply({"deleted": count})
        if route == ("GET", "/_sandbox/faults"):
            return json_reply(box.faults.settings())
        if route == ("POST", "/_sandbox/faults"):
            changes = {}
            for name, value in params.items():
                if name not in FAULT_FIELDS:
                    raise ApiError.unknown_param(name)
                try:
                    changes[name] = _fault_value(name, value)
                except (TypeError, ValueError) as exc:
                    raise ApiError.invalid(f"Invalid {name}: {value}", name) from exc
            try:
                box.set_faults(**changes)
            except (TypeError, ValueError) as exc:
                raise ApiError.invalid(str(exc), None) from exc
            return json_reply(box.faults.settings())
        if route == ("POST", "/_sandbox/faults/off"):
            box.faults_off()
            return json_reply(box.faults.settings())
        if route == ("POST", "/_sandbox/reset"):
            box.reset()
            return json_reply({"ok": True})
        if route == ("GET", "/_sandbox/clock"):
            return json_reply({"now": box.clock()})
        if route == ("POST", "/_sandbox/clock"):
            try:
                seconds = float(params.get("advance", "0"))
                return json_reply({"now": box.advance_clock(seconds)})
            except ValueError as exc:
                raise ApiError.invalid(f"Invalid advance: {exc}", "advance") from exc
        if route == ("GET", "/_sandbox/planted"):
            account, livemode = _target(params, headers)
            ds = box.store(account, livemode)
            return json_reply(
                {
                    "planted": ds.planted,
                    "detached_ids": ds.detached_ids,
                    "unattached_ids": ds.unattached_ids,
                    "cash_planted": ds.cash.planted,
                }
            )
        raise unrecognized_url(method, path)
    except ApiError as exc:
        return Reply(exc.status, exc.body())
