"""What the request handling needs of a sandbox (the :class:`RunningSandbox` protocol), so that the
dispatcher, the admin routes and the server depend on this and not on the Sandbox class.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from toolkit.sandbox.faults import Faults
from toolkit.sandbox.limits import Limits
from toolkit.sandbox.log import RequestLogEntry
from toolkit.sandbox.store import DataSet

__all__ = ["RunningSandbox"]


class RunningSandbox(Protocol):
    """A running sandbox as the handlers see it."""

    seed: int
    customers: int
    api_key: str | None
    faults: Faults
    limits: Limits
    connected_accounts: frozenset[str]
    restricted_keys: dict[str, dict[str, str]]
    lock: threading.RLock

    def object_lock(self, key: Hashable) -> AbstractContextManager[None]: ...

    @property
    def requests(self) -> list[RequestLogEntry]: ...

    def dataset(self, account: str | None, livemode: bool) -> DataSet: ...

    def log_request(self, entry: RequestLogEntry) -> None: ...

    def next_request_id(self) -> str: ...

    def clock(self) -> float: ...

    def date(self) -> int: ...

    def advance_clock(self, seconds: float) -> float: ...

    def deposit(
        self, source_id: str, amount: int, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]: ...

    def reverse(
        self, source_id: str, amount: int, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]: ...

    def bank_transfer(
        self,
        customer: str,
        amount: int,
        currency: str = "usd",
        *,
        account: str | None = None,
        livemode: bool = False,
    ) -> dict[str, Any]: ...

    def migrate_customer(
        self, customer: str, *, account: str | None = None, livemode: bool = False
    ) -> dict[str, Any]: ...

    def store(self, account: str | None = None, livemode: bool = False) -> DataSet: ...

    def set_faults(self, **settings: Any) -> None: ...

    def faults_off(self) -> None: ...

    def reset(self) -> None: ...

    def clear_log(self) -> None: ...
