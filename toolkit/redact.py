"""The one home of secret redaction: keys masked, URL credentials hidden, a source's own
``client_secret`` dropped by path (never a key name inside customer data).

>>> mask_key("sk_live_51Habcdefghijklmn1234")
'sk_live_…1234'
>>> mask_secrets("refused sk_test_51Habcdefghijklmn1234 at https://me:pw@example.com/v1")
'refused sk_test_…1234 at https://***@example.com/v1'
>>> drop_client_secret({"id": "src_1", "object": "source", "client_secret": "src_client_secret_x"})
{'id': 'src_1', 'object': 'source'}
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "drop_client_secret",
    "mask_key",
    "mask_secrets",
    "redact_source",
    "redact_url",
    "replace_values",
]

#: Anything shaped like a Stripe key or webhook secret, wherever it appears in a text.
KEY_SHAPE = re.compile(r"\b((?:sk|rk|pk)_(?:test|live)_|whsec_)([0-9A-Za-z]{4,})")
#: A source's client secret, wherever it appears in a text.
CLIENT_SECRET_SHAPE = re.compile(r"\bsrc_client_secret_[0-9A-Za-z_]+")
#: ``scheme://user:password@host`` (or ``scheme://user@host``) credentials in a URL.
URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
#: Text that none of the shapes above can match holds none of them (each needs one of these).
_SECRET_HINTS = ("_test_", "_live_", "whsec_", "src_client_secret_", "@")


def mask_key(key: str | None) -> str:
    """Show a key as its prefix and last four characters.

    >>> mask_key("rk_test_abcdefghijkl9876")
    'rk_test_…9876'
    >>> mask_key(None)
    '<none>'
    """
    if not key:
        return "<none>"
    match = re.match(r"^((?:sk|rk|pk)_(?:test|live)_|whsec_)", key)
    prefix = match.group(1) if match else ""
    tail = key[-4:] if len(key) >= 12 else ""
    return f"{prefix}…{tail}"


def redact_url(url: str) -> str:
    """A URL without the credentials in its user-info part.

    >>> redact_url("http://admin:hunter2@127.0.0.1:12111")
    'http://***@127.0.0.1:12111'
    """
    return URL_CREDENTIALS.sub(r"\1***@", url)


def mask_secrets(text: str) -> str:
    """``text`` with every key-shaped token masked, client secrets and URL credentials hidden.

    >>> mask_secrets("key sk_live_abcdefghijklmnop9999! src_client_secret_Ab12")
    'key sk_live_…9999! [client secret hidden]'
    """
    if not any(hint in text for hint in _SECRET_HINTS):  # most text: no pattern can match
        return text
    masked = KEY_SHAPE.sub(lambda m: m.group(1) + "…" + m.group(2)[-4:], text)
    masked = CLIENT_SECRET_SHAPE.sub("[client secret hidden]", masked)
    return redact_url(masked)


def replace_values(value: Any, secrets: Iterable[str]) -> Any:
    """A copy of ``value`` with each occurrence of a known secret (an API key) masked.

    >>> replace_values({"note": "key=sk_test_abcdefgh1234"}, ["sk_test_abcdefgh1234"])
    {'note': 'key=sk_test_…1234'}
    """
    known = [s for s in secrets if s]
    if not known:
        return value
    if isinstance(value, str):
        for secret in known:
            if secret in value:
                value = value.replace(secret, mask_key(secret))
        return value
    if isinstance(value, Mapping):
        return {k: replace_values(v, known) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [replace_values(v, known) for v in value]
    return value


def redact_source(source: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of a source without ``client_secret`` (nor the secret inside redirect URLs).

    >>> redact_source({"id": "src_1", "client_secret": "src_client_secret_x",
    ...                "redirect": {"url": "https://x/?client_secret=src_client_secret_x"}})
    {'id': 'src_1', 'redirect': {'url': 'https://x/?client_secret=[redacted]'}}
    """
    out = dict(source)
    secret = out.pop("client_secret", None)
    if isinstance(secret, str) and secret:
        for key in _SECRET_CARRIERS:
            value = out.get(key)
            if value is not None and not isinstance(value, bool | int):
                out[key] = _scrub(value, secret)
    return out


# Fields where Stripe may repeat the client secret (the redirect URL carries it as a parameter).
_SECRET_CARRIERS = ("redirect", "code_verification", "source_order", "three_d_secure")


def _scrub(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, "[redacted]") if secret in value else value
    if isinstance(value, dict):
        return {k: _scrub(v, secret) for k, v in value.items() if k != "client_secret"}
    if isinstance(value, list):
        return [_scrub(v, secret) for v in value]
    return value


def drop_client_secret(value: Any) -> Any:
    """A copy of ``value`` without the ``client_secret`` of any Stripe source object in it.

    Only a source's own top-level field goes (a dict whose ``object`` is ``"source"``, as Stripe
    sends it, see :func:`redact_source`); metadata is customer data and is never touched, so a
    metadata key that happens to be named ``client_secret`` stays.

    >>> drop_client_secret({"metadata": {"client_secret": "mine"}})
    {'metadata': {'client_secret': 'mine'}}
    """
    if isinstance(value, Mapping):
        out = redact_source(value) if value.get("object") == "source" else dict(value)
        return {k: (v if k == "metadata" else drop_client_secret(v)) for k, v in out.items()}
    if isinstance(value, list | tuple):
        return [drop_client_secret(v) for v in value]
    return value
