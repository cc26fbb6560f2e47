"""One page of an account-wide list (charges, invoices, payouts, ...): objects newest first, a
``created`` filter, the endpoint's own filters, Stripe's cursors.

>>> objs = {"a": {"created": 1}, "b": {"created": 3}, "c": {"created": 2}}
>>> newest_first(objs)
['b', 'c', 'a']
>>> page(objs, newest_first(objs), {"limit": 2}, "charge")
(['b', 'c'], True)
>>> page(objs, newest_first(objs), {"created": {"lte": "2"}}, "charge")
(['c', 'a'], False)
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.pagination import in_created, paginate
from toolkit.sandbox.params import created_of, cursors_of, limit_of

__all__ = ["newest_first", "one_of", "page"]


def newest_first(objects: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The ids of ``objects`` newest first (ties by id, as the other lists of the sandbox)."""
    return sorted(objects, key=lambda i: (objects[i]["created"], i), reverse=True)


def page(
    objects: Mapping[str, Mapping[str, Any]],
    order: Sequence[str],
    params: dict[str, Any],
    kind: str,
    match: Callable[[str], bool] | None = None,
) -> tuple[list[str], bool]:
    """One page of ``order`` (ids of ``objects``, newest first) for the list ``params``
    (``limit``, cursors, ``created``), keeping only the ids ``match`` accepts. A cursor that is
    not in the list is Stripe's 400 ``resource_missing`` naming ``kind``."""
    created = created_of(params)
    keep = match
    if created:

        def keep(oid: str) -> bool:
            return in_created(objects[oid]["created"], created) and (match is None or match(oid))

    positions = {oid: i for i, oid in enumerate(order)}
    after, before = cursors_of(params)
    return paginate(
        order, 0, len(order), positions.get, limit_of(params), after, before, kind, keep
    )


def one_of(params: dict[str, Any], name: str, allowed: Collection[str]) -> str | None:
    """The value of the enum parameter ``name``, or Stripe's 400 for one it does not know.

    >>> one_of({"status": "open"}, "status", ("open", "paid"))
    'open'
    """
    value = params.get(name)
    if value is not None and value not in allowed:
        shown = ", ".join(sorted(allowed)) if len(allowed) <= 12 else "a documented value"
        raise ApiError.invalid(f"Invalid {name}: must be one of {shown}", name)
    return value
