"""Stripe's form encoding: bracket parameters into nested dicts, and checks against a spec.

The stripe SDK sends ``metadata[k]=v``, ``owner[address][city]=x``, ``expand[0]=a`` (and curl
users send ``expand[]=a``). Example::

    parse_form("limit=3&expand[0]=data.sources&metadata[k]=v")
    # {"limit": "3", "expand": {"0": "data.sources"}, "metadata": {"k": "v"}}
    validate(parsed, {"limit": INT, "expand": EXPAND, "metadata": METADATA})
    # {"limit": 3, "expand": ["data.sources"], "metadata": {"k": "v"}}
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from toolkit.sandbox.errors import ApiError

# Leaf kinds of a parameter spec; a dict spec is a hash of sub-parameters.
STR = "str"
INT = "int"
BOOL = "bool"
EXPAND = "expand"  # list of strings
METADATA = "metadata"  # hash of strings, or "" to clear
ANY = "any"  # accepted as sent (type-specific hashes)
LIST_OF = "list_of:"  # prefix: LIST_OF + key into NESTED for a list of hashes


def split_key(key: str) -> list[str]:
    """``owner[address][city]`` -> ``["owner", "address", "city"]``; ``a[]`` -> ``["a", ""]``.

    A malformed tail (``metadata[a]b]``) keeps everything inside the outer brackets as one
    segment, so that metadata key checks can see the stray bracket.
    """
    start = key.find("[")
    if start <= 0:
        return [key]
    parts = [key[:start]]
    rest = key[start:]
    while rest:
        if not rest.startswith("["):
            return [key[:start], key[start + 1 : -1] if key.endswith("]") else key[start:]]
        end = rest.find("]")
        if end < 0:
            return [key[:start], key[start + 1 :]]
        parts.append(rest[1:end])
        rest = rest[end + 1 :]
    return parts


def parse_pairs(raw: str) -> list[tuple[str, str]]:
    """Split ``a=1&b[c]=2`` into decoded ``(key, value)`` pairs, in order."""
    pairs = []
    for chunk in raw.split("&"):
        if not chunk:
            continue
        key, _, value = chunk.partition("=")
        pairs.append((unquote_plus(key), unquote_plus(value)))
    return pairs


def parse_form(raw: str) -> dict[str, Any]:
    """Nest decoded bracket pairs into dicts (``[]`` appends to a list).

    Raises ApiError(400) for shapes Stripe refuses, such as ``expand[][0]=x``.
    """
    out: dict[str, Any] = {}
    for key, value in parse_pairs(raw):
        segs = split_key(key)
        node: Any = out
        for i, seg in enumerate(segs[:-1]):
            nxt = segs[i + 1]
            if seg == "":
                raise ApiError.invalid(f"Invalid array: {key}", segs[0])
            child = node.get(seg)
            if child is None or isinstance(child, str):
                child = [] if nxt == "" else {}
                node[seg] = child
            elif (nxt == "") != isinstance(child, list):
                raise ApiError.invalid(f"Invalid hash: {key}", segs[0])
            node = child
        last = segs[-1]
        if isinstance(node, list):
            if last != "":
                raise ApiError.invalid(f"Invalid array: {key}", segs[0])
            node.append(value)
        elif last == "":
            raise ApiError.invalid(f"Invalid array: {key}", segs[0])
        elif isinstance(node.get(last), dict | list) and value == "":
            node[last] = ""  # metadata="" after metadata[k]=v: the clear wins, as sent last
        elif isinstance(node.get(last), dict | list):
            raise ApiError.invalid(f"Invalid hash: {key}", segs[0])
        else:
            node[last] = value
    return out


def _name(prefix: str, key: str) -> str:
    return f"{prefix}[{key}]" if prefix else key


def as_list(value: Any, name: str) -> list[Any]:
    """A sent array: ``a[]=x`` gives a list, ``a[0]=x`` a dict with index keys."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(k.isdigit() for k in value):
        return [value[k] for k in sorted(value, key=int)]
    raise ApiError.invalid(f"Invalid array: {name}", name)


def as_int(value: Any, name: str) -> int:
    """A sent integer, or Stripe's ``Invalid integer`` 400."""
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
    shown = value if isinstance(value, str) else "a hash"
    raise ApiError.invalid(f"Invalid integer: {shown}", name, code="parameter_invalid_integer")


def validate(
    params: dict[str, Any],
    spec: dict[str, Any],
    nested: dict[str, dict[str, Any]] | None = None,
    prefix: str = "",
) -> dict[str, Any]:
    """Check parsed params against a spec and convert leaves (ints, bools, lists).

    Unknown names raise Stripe's ``Received unknown parameter: owner[foo]``; ``""`` for a string
    or a hash raises Stripe's ``You passed an empty string`` (only ``metadata`` and ``ANY``
    parameters may be unset with ``""``, as in Stripe's spec).
    """
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = _name(prefix, key)
        if key not in spec:
            raise ApiError.unknown_param(name)
        kind = spec[key]
        if value == "" and (isinstance(kind, dict) or kind == STR):
            raise ApiError.cannot_unset(name)
        if isinstance(kind, dict):
            if not isinstance(value, dict):
                raise ApiError.invalid(f"Invalid hash: {name}", name)
            out[key] = validate(value, kind, nested, name)
        elif kind == STR:
            if not isinstance(value, str):
                raise ApiError.invalid(f"Invalid string: {name}", name)
            out[key] = value
        elif kind == INT:
            out[key] = as_int(value, name)
        elif kind == BOOL:
            if value not in ("true", "false"):
                raise ApiError.invalid(f"Invalid boolean: {value}", name)
            out[key] = value == "true"
        elif kind == EXPAND:
            items = as_list(value, name)
            if not all(isinstance(v, str) for v in items):
                raise ApiError.invalid(f"Invalid array: {name}", name)
            out[key] = items
        elif kind == METADATA:
            if value != "" and not isinstance(value, dict):
                raise ApiError.invalid(f"Invalid hash: {name}", name)
            out[key] = value
        elif isinstance(kind, str) and kind.startswith(LIST_OF):
            sub = (nested or {})[kind[len(LIST_OF) :]]
            items = as_list(value, name)
            checked = []
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise ApiError.invalid(f"Invalid hash: {name}[{i}]", f"{name}[{i}]")
                checked.append(validate(item, sub, nested, f"{name}[{i}]"))
            out[key] = checked
        else:
            out[key] = value
    return out
