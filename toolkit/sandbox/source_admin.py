"""The sandbox's admin side of sources: what was planted, money landing on a receiver or
reversed, a copy of a source as stored.

:class:`SourceAdmin` is mixed into :class:`~toolkit.sandbox.Sandbox` (and served at
``POST /_sandbox/deposit``). Example::

    box.deposit("src_...", 12_500)                 # USD 125.00 lands on the receiver
    box.get_source("src_...")["receiver"]["amount_received"]
"""

from __future__ import annotations

import copy
import threading
from typing import Any

from toolkit.errors import NotFoundError
from toolkit.sandbox.errors import ApiError
from toolkit.sandbox.store import DataSet

__all__ = ["SourceAdmin"]


class SourceAdmin:
    """Admin operations on the sources of a sandbox's data sets."""

    lock: threading.RLock

    def dataset(self, account: str | None, livemode: bool) -> DataSet:
        raise NotImplementedError

    @property
    def planted(self) -> dict[str, list[str]]:
        """Planted anomaly name -> source ids in the default data set (see toolkit.sandbox.seed)."""
        return copy.deepcopy(self.dataset(None, False).planted)

    @property
    def detached_ids(self) -> list[str]:
        """Sources detached before the sandbox started: consumed, reachable by id only."""
        return list(self.dataset(None, False).detached_ids)

    @property
    def unattached_ids(self) -> list[str]:
        """Sources never attached to a customer (pending, reachable by id only)."""
        return list(self.dataset(None, False).unattached_ids)

    @property
    def order_ids(self) -> list[str]:
        """Order-bearing (Klarna) sources whose order lacks its shipping details."""
        return list(self.dataset(None, False).order_ids)

    def get_source(
        self, source_id: str, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]:
        """A deep copy of a source as stored (it includes ``client_secret``); KeyError if unknown."""
        ds = self.dataset(account, livemode)
        with self.lock:
            if source_id not in ds.sources:
                raise KeyError(source_id)
            return copy.deepcopy(ds.sources[source_id])

    def _money(
        self, source_id: str, amount: int, account: str | None, livemode: bool
    ) -> dict[str, Any]:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount == 0:
            raise ValueError(f"amount must be a non-zero integer in minor units, not {amount!r}")
        ds = self.dataset(account, livemode)
        with self.lock:
            src = ds.sources.get(source_id)
            if src is None:
                where = f"account {account}, " if account else ""
                mode = "live" if livemode else "test"
                raise NotFoundError(
                    f"No such source: {source_id!r} in this sandbox ({where}{mode} mode). Pass "
                    "the id of one of its receivers, e.g. from toolkit.load_sources(session).",
                    status=404,
                    code="resource_missing",
                )
            try:
                return copy.deepcopy(ds.add_transaction(src, amount))
            except ApiError as exc:
                raise ValueError(exc.message) from exc

    def deposit(
        self, source_id: str, amount: int, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]:
        """Money lands in a receiver: a succeeded source_transaction, amount_received goes up
        (a pending receiver becomes chargeable). Returns the transaction. An unknown id is a
        :class:`~toolkit.errors.NotFoundError` naming it; a source that is no receiver, or an
        amount that is not a positive integer, a ``ValueError``.

        Example: ``box.deposit("src_...", 12_500)``
        """
        if amount <= 0:
            raise ValueError(f"a deposit must be positive, not {amount}")
        return self._money(source_id, amount, account, livemode)

    def reverse(
        self, source_id: str, amount: int, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]:
        """A reversal: a negative source_transaction of ``-amount``; amount_received goes down.

        Example: ``box.reverse("src_...", 2_500)``
        """
        if amount <= 0:
            raise ValueError(f"give the reversed amount as a positive number, not {amount}")
        return self._money(source_id, -amount, account, livemode)
