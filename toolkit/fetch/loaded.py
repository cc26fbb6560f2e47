"""What a load records about itself: when, from where, what it missed, what it cost.

A frame from :func:`~toolkit.load_sources` (or :func:`~toolkit.load_source_transactions`) carries
it in ``df.attrs["toolkit"]`` as plain JSON values, so that it survives snapshots;
:class:`LoadInfo` is the one way to read and write it.

>>> info = LoadInfo(taken_at="2026-11-01T00:00:00+00:00", account="sandbox", mode="sandbox")
>>> LoadInfo.from_attrs(info.to_attrs()) == info
True
>>> LoadInfo.from_attrs({}) is None
True
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from toolkit.errors import AccountWarning, NotFoundWarning

__all__ = ["ATTRS_KEY", "LoadInfo", "now_of", "with_reads"]

_LEFT_OUT = "Left out connected account"
#: The key of ``DataFrame.attrs`` the toolkit writes.
ATTRS_KEY = "toolkit"


@dataclass
class LoadInfo:
    """When and from where a frame was loaded, and what the load missed and cost.

    ``scope``: "account" (every customer), "created", "customers" or "ids"; ``customers``:
    customers listed; ``requests``: requests sent; ``reads``: the GET requests the load sent
    (retries included), what Stripe counts against the account's read allocation. ``missing_ids`` / ``missing_customers``: ids
    asked for that Stripe does not know; ``deleted_customers``: customers Stripe reports as
    deleted (asked for, or deleted while the load ran). ``test_clocks``: test clocks whose
    customers a test-mode account-wide load included (Stripe lists them apart);
    ``test_clocks_note`` says why they are not included when they could not be listed (a load
    carries on without them). ``api_version``: the ``Stripe-Version`` Stripe
    answered with. ``events_since``: the ``created`` of Stripe's newest event when the load
    began (Stripe's clock), where :func:`~toolkit.refresh` reads on from; ``events_seen`` that
    event's id (the newest of the types a refresh follows): the refresh stops there, since the
    load saw it and every event before it. A load across
    connected accounts keeps each account's own record in ``accounts`` (account -> its
    LoadInfo's values) and those it left out in ``refused_accounts`` (account, status, error).
    """

    taken_at: str | None = None
    account: str | None = None
    mode: str | None = None
    missing_ids: list[str] = field(default_factory=list)
    missing_customers: list[str] = field(default_factory=list)
    deleted_customers: list[str] | None = None
    scope: str | None = None
    customers: int | None = None
    requests: int | None = None
    reads: int | None = None
    test_clocks: int | None = None
    test_clocks_note: str | None = None
    api_version: str | None = None
    events_since: int | None = None
    events_seen: str | None = None
    accounts: dict[str, Any] | None = None
    refused_accounts: list[dict[str, str]] | None = None

    def to_attrs(self) -> dict[str, Any]:
        """Plain JSON values for ``df.attrs["toolkit"]`` (unset fields left out)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def attach(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Record this on ``frame`` (``frame.attrs["toolkit"]``), warn (:class:`NotFoundWarning`)
        when ids asked for are unknown to Stripe, so a typo never passes as "no rows"; returns
        the frame."""
        frame.attrs[ATTRS_KEY] = self.to_attrs()
        for line in self.not_found():
            kind = AccountWarning if line.startswith(_LEFT_OUT) else NotFoundWarning
            warnings.warn(kind(line), stacklevel=3)
        return frame

    def not_found(self) -> list[str]:
        """One sentence per kind of id asked for that Stripe does not know (none: ``[]``), as
        the warning, the widgets and the workbooks say it.

        >>> LoadInfo(missing_customers=["cus_typo123"]).not_found()[0][:48]
        'Stripe does not know 1 of the customers asked fo'
        >>> LoadInfo(deleted_customers=["cus_gone1"]).not_found()[0][:47]
        'Stripe reports 1 customer as deleted: cus_gone1'
        """
        lines = []
        for missing, what in (
            (self.missing_ids, "source ids"),
            (self.missing_customers, "customers"),
        ):
            if missing:
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                lines.append(
                    f"Stripe does not know {len(missing)} of the {what} asked for: "
                    f"{', '.join(missing[:5])}{more}. Their rows are missing; check for typos, or "
                    "for the other account or mode."
                )
        deleted = self.deleted_customers or []
        if deleted:
            more = f" and {len(deleted) - 5} more" if len(deleted) > 5 else ""
            lines.append(
                f"Stripe reports {len(deleted)} customer{'' if len(deleted) == 1 else 's'} as "
                f"deleted: {', '.join(deleted[:5])}"
                f"{more}. A deleted customer lists no sources; the sources it had were detached "
                "(load them with ids=[...])."
            )
        for item in self.refused_accounts or []:
            lines.append(
                f"{_LEFT_OUT} {item['account']}: {item['error']} Its rows are missing; the other "
                "accounts' rows are complete."
            )
        return lines

    @classmethod
    def from_attrs(cls, source: Any) -> LoadInfo | None:
        """The LoadInfo of a frame (or of its ``attrs["toolkit"]`` mapping); None if it has none."""
        attrs = source.attrs.get(ATTRS_KEY) if isinstance(source, pd.DataFrame) else source
        if not isinstance(attrs, dict) or not attrs:
            return None
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in attrs.items() if k in known}
        for name in ("missing_ids", "missing_customers"):
            values[name] = list(values.get(name) or [])
        return cls(**values)

    def covers_account(self, account: str | None) -> int | None:
        """How many customers the account has, when this is a whole-account load of
        ``account``; None otherwise (a load of some customers says nothing of the account)."""
        if self.scope != "account" or self.account != account:
            return None
        customers = self.customers
        return customers if isinstance(customers, int) and customers >= 0 else None


def with_reads(frame: pd.DataFrame, meter: Any) -> pd.DataFrame:
    """``frame`` with the reads its load sent (``meter.reads``) in its LoadInfo; returns it."""
    frame.attrs.setdefault(ATTRS_KEY, {})["reads"] = int(meter.reads)
    return frame


def now_of(session: Any) -> datetime:
    """The time a load is stamped with (the sandbox's data clock in sandbox mode)."""
    now = session.now
    return now() if callable(now) else datetime.now(tz=UTC)
