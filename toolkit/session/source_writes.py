"""The session's writes on sources, mixed into :class:`~toolkit.session.Session`: update,
attach, detach, each with the row's idempotency key where Stripe takes one.

>>> answer = session.update_source(
...     sources["id"].iloc[0], {"metadata": {"doc": "1"}}, idempotency_key="doc-writes-1"
... )
>>> answer.body["metadata"]["doc"]
'1'
"""

from __future__ import annotations

import threading
from typing import Any

import toolkit.session.endpoints as ep
from toolkit.session.calls import SessionCalls
from toolkit.session.transport import Answer, seg

__all__ = ["SourceWrites"]


class SourceWrites(SessionCalls):
    """``update_source``, ``attach_source``, ``detach_source``: refused in live mode unless the
    session allows live writes, paced on their own endpoints."""

    @ep.names(ep.UPDATE_SOURCE)
    def update_source(
        self,
        source: str,
        params: dict[str, Any],
        *,
        idempotency_key: str,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """``POST /v1/sources/{id}`` (metadata, owner) with the row's idempotency key."""
        path = f"/v1/sources/{seg(source)}"
        what = f"Updating {source}"
        return self._write(ep.UPDATE_SOURCE, "post", path, params, idempotency_key, cancel, what)

    @ep.names(ep.ATTACH_SOURCE)
    def attach_source(
        self,
        customer: str,
        source: str,
        *,
        idempotency_key: str,
        cancel: threading.Event | None = None,
    ) -> Answer:
        """``POST /v1/customers/{id}/sources source=src_...``: attach a source."""
        path = f"/v1/customers/{seg(customer)}/sources"
        params = {"source": source}
        what = f"Attaching {source}"
        return self._write(ep.ATTACH_SOURCE, "post", path, params, idempotency_key, cancel, what)

    @ep.names(ep.DETACH_SOURCE)
    def detach_source(
        self, customer: str, source: str, *, cancel: threading.Event | None = None
    ) -> Answer:
        """``DELETE /v1/customers/{id}/sources/{id}``: the source becomes consumed (no key:
        Stripe takes none on DELETE, so it is never retried blindly)."""
        path = f"/v1/customers/{seg(customer)}/sources/{seg(source)}"
        what = f"Detaching {source}"
        return self._write(ep.DETACH_SOURCE, "delete", path, {}, None, cancel, what)
