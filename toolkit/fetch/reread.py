"""Read some rows of a loaded frame again, so every view shows what Stripe holds after a write.

After an apply, undo or detach the frame the widgets show is stale for the sources written:
:func:`reread` reads just those ids again and puts the new rows in their place (same order; a
source Stripe no longer knows is dropped), leaving every other row as it was.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import pandas as pd

from toolkit.errors import NotFoundWarning
from toolkit.fetch.frame import empty_frame
from toolkit.fetch.load import load_sources
from toolkit.progress import ProgressArg
from toolkit.session.protocol import SessionLike

__all__ = ["patch_rows", "reread", "reread_frame"]


def patch_rows(frame: pd.DataFrame, fresh: pd.DataFrame, ids: Sequence[str]) -> pd.DataFrame:
    """``frame`` with the rows of ``ids`` replaced by ``fresh``'s rows of the same id.

    Rows of ``ids`` missing from ``fresh`` are dropped (Stripe no longer has them); rows of
    ``fresh`` not in ``frame`` are left out (they were never shown). Order, columns, category
    dtypes and ``attrs`` are the frame's.

    >>> old = pd.DataFrame({"id": ["a", "b", "c"], "n": [1, 2, 3]})
    >>> patch_rows(old, pd.DataFrame({"id": ["b"], "n": [20]}), ["b", "c"])["n"].tolist()
    [1, 20]
    """
    wanted = set(ids)
    keep = ~frame["id"].isin(wanted) | frame["id"].isin(fresh["id"])
    out = frame[keep]
    hit = out["id"].isin(wanted).to_numpy()
    if not hit.any():
        result = out.reset_index(drop=True)
        result.attrs = dict(frame.attrs)
        return result
    by_id = fresh.drop_duplicates("id").set_index("id", drop=False)
    replacement = by_id.loc[out["id"][hit]].reset_index(drop=True)
    order = pd.Series(range(len(out)))
    pieces = [
        out[~hit].assign(_order=order[~hit].to_numpy()),
        replacement.assign(_order=order[hit].to_numpy()),
    ]
    merged = pd.concat(pieces, ignore_index=True, sort=False).sort_values("_order", kind="stable")
    merged = merged.drop(columns="_order").reset_index(drop=True)
    columns = [*frame.columns, *(c for c in merged.columns if c not in frame.columns)]
    merged = merged[columns]
    for name, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype) and merged[name].dtype != dtype:
            seen = merged[name].dropna().astype(str).unique().tolist()
            extra = sorted(v for v in seen if v not in set(dtype.categories))
            merged[name] = merged[name].astype(
                pd.CategoricalDtype([*dtype.categories, *extra], ordered=dtype.ordered)
            )
    merged.attrs = dict(frame.attrs)
    return merged


def reread(
    frame: pd.DataFrame, session: SessionLike, *, ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """``frame`` with the sources ``ids`` (default: every row) read again from Stripe.

    One retrieve per id, under the session's limits; sources Stripe no longer knows leave the
    frame (without the :class:`~toolkit.NotFoundWarning` a load would raise: after a write
    that is the expected answer).

    >>> fresh = toolkit.reread(sources, session, ids=[sources["id"].iloc[0]])
    >>> list(fresh["id"]) == list(sources["id"])
    True
    """
    wanted = [str(i) for i in (frame["id"] if ids is None else ids)]
    if not wanted:
        return frame
    return patch_rows(frame, reread_frame(session, wanted, False), wanted)


def reread_frame(session: SessionLike, ids: Sequence[str], progress: ProgressArg) -> pd.DataFrame:
    """The sources ``ids`` read again, as a frame (those Stripe no longer knows left out,
    without a warning: after a write that is an expected answer).

    >>> reread_frame(session, [], False).empty
    True
    """
    if not ids:
        return empty_frame()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotFoundWarning)
        return load_sources(session, ids=list(ids), progress=progress)
