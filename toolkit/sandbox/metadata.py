"""Stripe's metadata rules: merge, ``""`` unsets a key, ``metadata=""`` clears all, limits.

Example::

    apply_metadata({"a": "1", "b": "2"}, {"a": "", "c": "3"})  # {"b": "2", "c": "3"}
    apply_metadata({"a": "1"}, "")                             # {}
"""

from __future__ import annotations

from typing import Any

from toolkit.sandbox.errors import ApiError

MAX_KEYS = 50
MAX_KEY_LENGTH = 40
MAX_VALUE_LENGTH = 500


def apply_metadata(current: dict[str, str] | None, update: dict[str, Any] | str) -> dict[str, str]:
    """The metadata after an update, or ApiError(400) naming the offending param."""
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise ApiError.invalid("Invalid hash: metadata", "metadata")
    merged = dict(current or {})
    for key, value in update.items():
        param = f"metadata[{key}]"
        if not isinstance(value, str) or "[" in key or "]" in key:
            raise ApiError.invalid(
                f"Invalid metadata key '{key}': keys cannot contain '[' or ']' "
                "and values must be strings.",
                param,
            )
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError.invalid(
                f"Metadata keys can have up to {MAX_KEY_LENGTH} characters. "
                f"You passed in a key that is {len(key)} characters.",
                param,
            )
        if value == "":
            merged.pop(key, None)
            continue
        if len(value) > MAX_VALUE_LENGTH:
            raise ApiError.invalid(
                f"Metadata values can have up to {MAX_VALUE_LENGTH} characters, but you passed "
                f"in a value that is {len(value)} characters.",
                param,
            )
        merged[key] = value
    if len(merged) > MAX_KEYS:
        raise ApiError.invalid(
            f"You can have at most {MAX_KEYS} keys in metadata; "
            f"this request would leave {len(merged)}.",
            "metadata",
        )
    return merged
