"""What the read ledger says of a session's account: reads in the last 30 days, per day, the
allowance and what is left (:func:`read_usage`).

>>> usage = toolkit.read_usage(session)
>>> usage.reads >= 0, usage.allocation
(True, 'own')
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from toolkit.errors import InvalidInputError
from toolkit.session.client import Session
from toolkit.session.reads import CONNECTED, OWN

__all__ = ["ReadUsage", "read_usage"]


@dataclass
class ReadUsage:
    """Reads (GET requests) of one allocation over the last 30 days, as the ledger counts them.

    ``account``: the session's label; ``allocation``: ``own``, or ``connected`` (a platform's
    reads on behalf of its connected accounts: Stripe's separate allocation); ``reads`` in the
    last 30 days; ``allowance`` (None: no limit) and ``left``; ``by_day``: reads per UTC day;
    ``by_account``: a platform's reads per connected account; ``ledger``: the file (None: kept
    in memory, as the sandbox's are).
    """

    account: str
    mode: str
    allocation: str
    reads: int
    allowance: int | None
    by_day: dict[str, int] = field(default_factory=dict)
    by_account: dict[str, int] = field(default_factory=dict)
    ledger: str | None = None

    @property
    def left(self) -> int | None:
        """Reads left of the allowance (None: no allowance)."""
        return None if self.allowance is None else max(0, self.allowance - self.reads)

    def frame(self) -> pd.DataFrame:
        """Reads per day, as a frame (``day``, ``reads``): ``usage.frame()``."""
        return pd.DataFrame({"day": list(self.by_day), "reads": list(self.by_day.values())})

    def __repr__(self) -> str:
        whose = "read" if self.reads == 1 else "reads"
        if self.allocation == CONNECTED:
            whose += " for connected accounts"
        limit = (
            f" of an allowance of {self.allowance:,} ({self.left:,} left)"
            if self.allowance is not None
            else " (no allowance set)"
        )
        where = self.ledger or "this session only (in memory)"
        return (
            f"<ReadUsage {self.account}: {self.reads:,} {whose} in the last 30 days{limit}; "
            f"ledger: {where}>"
        )


def read_usage(session: Session, *, connected: bool = False) -> ReadUsage:
    """The reads the ledger counts for ``session``'s account in the last 30 days, the
    allowance and what is left; ``connected=True`` for a platform's reads on behalf of its
    connected accounts (a separate allocation).

    >>> toolkit.read_usage(session).allowance is None    # the sandbox: counted, not limited
    True
    """
    if not isinstance(session, Session):
        raise InvalidInputError(
            f"read_usage needs a session from toolkit.connect(), got {type(session).__name__}."
        )
    if connected is not True and connected is not False:
        raise InvalidInputError(f"connected must be True or False, got {connected!r}.")
    book = session.reads
    book.sync()
    allocation = CONNECTED if connected or session.stripe_account else OWN
    where = book.where(allocation)
    path = book.ledger.path
    return ReadUsage(
        account=str(session.account_label),
        mode=str(session.mode),
        allocation=allocation,
        reads=book.used(allocation),
        allowance=book.allowance,
        by_day=book.ledger.by_day(where),
        by_account=book.ledger.by_account(where) if allocation == CONNECTED else {},
        ledger=str(path) if path is not None else None,
    )
