"""What every sandbox route shares at the HTTP level: a reply, the key a request carries.

>>> api_key_of({"Authorization": "Bearer sk_test_abc"})
'sk_test_abc'
>>> json_reply({"ok": True}).body
b'{"ok":true}'
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACCOUNT_RE", "KEY_RE", "Reply", "api_key_of", "json_reply"]

KEY_RE = re.compile(r"(sk|rk)_(test|live)_[A-Za-z0-9]+")
ACCOUNT_RE = re.compile(r"acct_[A-Za-z0-9]+")


@dataclass
class Reply:
    """Status, JSON body and extra headers of a response."""

    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_reply(obj: Any, status: int = 200) -> Reply:
    """A reply with ``obj`` as JSON."""
    return Reply(status, json.dumps(obj, separators=(",", ":")).encode())


def api_key_of(headers: Mapping[str, str]) -> str | None:
    """The key sent with Bearer or Basic auth (None if absent)."""
    auth = headers.get("Authorization") or ""
    scheme, _, value = auth.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip()).decode()
        except (ValueError, UnicodeDecodeError):
            return "?"
        return decoded.partition(":")[0] or None
    return None
