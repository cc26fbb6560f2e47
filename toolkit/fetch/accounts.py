"""Every connected account of a platform, side by side: one frame with an ``account`` column.

``load_sources(session, accounts="all")`` lists ``/v1/accounts`` (or takes a list of
``acct_...``) and loads each account through :meth:`~toolkit.Session.for_account`: a session
with the account's own limiter, since Stripe measures rate limits per account. Up to
:data:`SIDE_BY_SIDE` accounts load at once, each with its own progress. An account that refuses
access (its application access was revoked, say) or fails after retries is reported
(:class:`~toolkit.AccountWarning`, and the LoadInfo's ``refused_accounts``), never fatal: the
other accounts' rows are all there.

>>> df = toolkit.load_sources(session, accounts="all", progress=False)
>>> df["account"].nunique() >= 1, df.columns[:3].tolist()
(True, ['id', 'account', 'customer'])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from toolkit.errors import Cancelled, InvalidInputError, StripeRequestError
from toolkit.fetch.frame import SYSTEM_MEMORY, SourcesBuilder, joined_metadata_columns, paused_gc
from toolkit.fetch.lists import iter_list
from toolkit.fetch.loaded import LoadInfo, now_of
from toolkit.progress import Progress, ProgressArg
from toolkit.session.protocol import SessionLike
from toolkit.session.settings import ACCOUNT_PATTERN

__all__ = [
    "SIDE_BY_SIDE",
    "account_ids",
    "asks_all",
    "by_account",
    "load_accounts",
    "newest_first",
    "read_by_account",
    "taken",
    "with_account",
]

SIDE_BY_SIDE = 4  # accounts loaded at once (each under its own limits)


def asks_all(accounts: Any) -> bool:
    """Does ``accounts`` ask for every connected account (``"all"``)?

    >>> asks_all(" all"), asks_all(["acct_1Demo0000000"])
    (True, False)
    """
    return isinstance(accounts, str) and accounts.strip() == "all"


def account_ids(session: SessionLike, accounts: str | Sequence[str]) -> list[str]:
    """The accounts asked for: ``"all"`` lists the platform's connected accounts (newest first,
    as Stripe does); a list (or ``"acct_1,acct_2"``) is checked and kept in its order.

    >>> account_ids(session, ["acct_1Demo0000000"])
    ['acct_1Demo0000000']
    """
    if asks_all(accounts):
        return _listed_accounts(session)
    if isinstance(accounts, str):
        if "acct_" not in accounts:
            raise InvalidInputError(
                f"accounts must be 'all' or connected account ids (a list, or 'acct_1,acct_2'), "
                f"not {accounts!r}."
            )
        accounts = [a for a in accounts.split(",") if a.strip()]
    if isinstance(accounts, bytes | Mapping) or not isinstance(accounts, Iterable):
        raise InvalidInputError(
            f"accounts must be 'all', a list of connected account ids (acct_...) or None (the "
            f"session's own account), not {type(accounts).__name__} {accounts!r}."
        )
    given = list(accounts)
    not_text = [a for a in given if not isinstance(a, str)]
    if not_text or not given:
        raise InvalidInputError(
            "accounts must be 'all' or connected account ids as text, like "
            f"['acct_1A2b3C4d5E']; got {not_text[:5] if not_text else 'an empty list'}."
        )
    ids = [a.strip() for a in given]
    bad = [a for a in ids if not ACCOUNT_PATTERN.match(a)]
    if bad:
        raise InvalidInputError(
            f"Connected account ids look like 'acct_1A2b3C4d5E'; these do not: {bad[:5]}."
        )
    return list(dict.fromkeys(ids))


def _listed_accounts(session: SessionLike) -> list[str]:
    """Every connected account of the platform (``GET /v1/accounts``, page after page)."""
    return [str(a["id"]) for a in iter_list(session.list_accounts)]


def _progress_of(progress: ProgressArg, account: str) -> tuple[Progress, ProgressArg]:
    """A bar for one account, and the progress argument its load reports through."""
    bar = Progress(progress, None, f"Loading sources · {account}", unit="customers")
    if not progress:
        return bar, False

    def report(done: int, total: int | None, label: str) -> None:
        bar.update(done, f"{account}: {label}")

    return bar, report


def by_account(
    session: SessionLike,
    accounts: Sequence[str],
    work: Callable[[SessionLike, str], pd.DataFrame],
    cancel: threading.Event | None = None,
) -> tuple[dict[str, pd.DataFrame], list[dict[str, str]]]:
    """Run ``work(account_session, account)`` for each account, :data:`SIDE_BY_SIDE` at a
    time; returns the frames by account and the accounts refused (account, status, error)."""
    frames: dict[str, pd.DataFrame] = {}
    refused: list[dict[str, str]] = []

    def one(account: str) -> None:
        sub = session.for_account(account)
        try:
            frames[account] = work(sub, account)
        except Cancelled:
            raise
        except StripeRequestError as exc:
            refused.append({"account": account, "status": str(exc.status), "error": str(exc)})
        finally:
            sub.close()

    with ThreadPoolExecutor(max_workers=max(1, min(SIDE_BY_SIDE, len(accounts)))) as pool:
        futures = [pool.submit(one, a) for a in accounts]
        for future in futures:
            if cancel is not None and cancel.is_set():
                raise Cancelled("Canceled: stopped before every account was loaded.")
            future.result()
    return frames, sorted(refused, key=lambda r: accounts.index(r["account"]))


def newest_first(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s rows by ``created`` then ``id``, both descending (missing ones last), as
    ``sort_values`` would put them, at a fraction of its cost (Arrow sorts the two keys).

    >>> frame = pd.DataFrame({"id": ["a", "c", "b"], "created": [1, 2, 2]})
    >>> newest_first(frame)["id"].tolist()
    ['c', 'b', 'a']
    """
    keys = pa.table({"created": pa.array(frame["created"]), "id": pa.array(frame["id"])})
    order = pc.sort_indices(keys, sort_keys=[("created", "descending"), ("id", "descending")])
    return taken(frame, order)


def taken(frame: pd.DataFrame, order: pa.Array) -> pd.DataFrame:
    """``frame``'s rows at ``order`` (positions), index reset. Its Arrow-backed text columns are
    taken by Arrow into memory from the system allocator: Arrow's default one (mimalloc) pays
    each page it has never handed out, which made a process's first merge of three accounts
    (26 text columns, 14,000 rows) take 45 ms where later ones took 11 (the system's: 12 ms).

    >>> frame = pd.DataFrame({"id": pd.array(["a", "b"], dtype="string[pyarrow]"), "n": [1, 2]})
    >>> taken(frame, pa.array([1, 0])).to_dict("list")
    {'id': ['b', 'a'], 'n': [2, 1]}
    """
    positions = order.to_numpy()
    columns: dict[Any, Any] = {}
    for name, column in frame.items():
        if isinstance(column.array, pd.arrays.ArrowStringArray):
            text = pc.take(pa.array(column.array), order, memory_pool=SYSTEM_MEMORY)
            columns[name] = pd.arrays.ArrowStringArray(text)
        else:
            columns[name] = column.array.take(positions)
    out = pd.DataFrame(columns, index=pd.RangeIndex(len(positions)), copy=False)
    out.attrs = dict(frame.attrs)
    return out


def with_account(frame: pd.DataFrame, account: str) -> pd.DataFrame:
    """``frame`` with an ``account`` column after ``id``."""
    out = frame.copy()
    out.insert(
        1 if "id" in out.columns else 0, "account", pd.array([account] * len(out), dtype="string")
    )
    return out


def load_accounts(
    session: SessionLike,
    accounts: str | Sequence[str],
    load: Callable[[SessionLike, ProgressArg], pd.DataFrame],
    *,
    progress: ProgressArg,
    metadata_columns: bool,
    cancel: threading.Event | None,
) -> pd.DataFrame:
    """The sources of every account asked for, in one frame (see the module); ``load(session,
    progress)`` loads one account's sources (``load_sources`` with the caller's filters, each
    account making its ``metadata.<key>`` columns when ``metadata_columns``: they are joined)."""
    ids = account_ids(session, accounts)
    taken_at = now_of(session)  # after the list of accounts: its answer's Date, no request
    infos: dict[str, dict[str, Any]] = {}

    def work(sub: SessionLike, account: str) -> pd.DataFrame:
        bar, report = _progress_of(progress, account)
        try:
            frame = load(sub, report)
        finally:
            bar.close()
        infos[account] = frame.attrs.get("toolkit", {})
        return with_account(frame, account)

    frames, refused = by_account(session, ids, work, cancel)
    parts = [frames[a] for a in ids if a in frames]
    if parts:  # the client's work after the last answer: the collector paused, one sort
        with paused_gc():
            frame = newest_first(pd.concat(parts, ignore_index=True, sort=False))
            frame = joined_metadata_columns(frame) if metadata_columns else frame
    else:
        empty = SourcesBuilder(owned=True).finish(metadata_columns=metadata_columns, order="newest")
        frame = with_account(empty, "")
    first = LoadInfo.from_attrs(next(iter(infos.values()), {})) or LoadInfo()
    info = LoadInfo(
        taken_at=taken_at.isoformat(),
        account=f"{len(parts)} connected account(s)",
        mode=session.mode,
        scope=first.scope,
        customers=sum(int(i.get("customers") or 0) for i in infos.values()),
        requests=sum(int(i.get("requests") or 0) for i in infos.values()),
        api_version=session.api_version,
        accounts={a: infos[a] for a in ids if a in infos},
        refused_accounts=refused,
    )
    return info.attach(frame)


def read_by_account(
    session: SessionLike,
    sources: pd.DataFrame,
    load: Callable[[SessionLike, pd.DataFrame], pd.DataFrame],
    cancel: threading.Event | None,
) -> pd.DataFrame:
    """What ``load(account_session, that_account_rows)`` reads for the rows of a frame across
    accounts (source transactions, cash balances, ...), each account with its own session; the
    result has an ``account`` column and one LoadInfo (the missing ids and customers of all)."""
    taken_at = now_of(session)
    accounts = [str(a) for a in pd.unique(sources["account"].dropna()) if str(a)]

    def work(sub: SessionLike, account: str) -> pd.DataFrame:
        mine = sources[sources["account"] == account].drop(columns="account")
        return with_account(load(sub, mine), account)

    frames, refused = by_account(session, accounts, work, cancel)
    parts = [frames[a] for a in accounts if a in frames]
    if parts:
        frame = pd.concat(parts, ignore_index=True, sort=False)
        if {"created", "id"} <= set(frame.columns):
            frame = frame.sort_values(["created", "id"], ascending=False, kind="stable")
    else:
        frame = with_account(load(session, sources.iloc[0:0].drop(columns="account")), "")
    infos = [LoadInfo.from_attrs(p) or LoadInfo() for p in parts]
    info = LoadInfo(
        taken_at=taken_at.isoformat(),
        account=f"{len(parts)} connected account(s)",
        mode=session.mode,
        missing_ids=[m for i in infos for m in i.missing_ids],
        missing_customers=[m for i in infos for m in i.missing_customers],
        refused_accounts=refused,
    )
    return info.attach(frame.reset_index(drop=True))
