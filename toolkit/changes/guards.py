"""Refusals made before anything is read or written: not a session, another account or mode.

>>> check_session("sk_test_" + "x" * 20, "apply()")
Traceback (most recent call last):
...
toolkit.errors.InvalidInputError: apply() needs a session from toolkit.connect(...), not str (that looks like an API key: pass session = toolkit.connect(key) instead).
"""

from __future__ import annotations

from typing import Any

from toolkit.errors import InvalidInputError

__all__ = ["check_same_account", "check_session"]

_SESSION_PARTS = ("require_write", "retrieve_source", "update_source", "mode")


def check_session(session: object, what: str) -> None:
    """Refuse anything but a Session (from :func:`toolkit.connect`) with a message naming the fix."""
    if isinstance(session, str | bytes) or not all(hasattr(session, a) for a in _SESSION_PARTS):
        hint = ""
        if isinstance(session, str) and session.startswith(("sk_", "rk_")):
            hint = " (that looks like an API key: pass session = toolkit.connect(key) instead)"
        raise InvalidInputError(
            f"{what} needs a session from toolkit.connect(...), not {type(session).__name__}{hint}."
        )


def check_same_account(account: Any, mode: Any, session: Any, what: str) -> None:
    """Refuse work recorded on one account or mode from running on another, naming both."""
    if account is None and mode is None:
        return
    here_account = getattr(session, "account_label", None)
    here_mode = getattr(session, "mode", None)
    if (account is not None and account != here_account) or (
        mode is not None and mode != here_mode
    ):
        raise InvalidInputError(
            f"{what} was made on {account} ({mode} mode) but this session is connected to "
            f"{here_account} ({here_mode} mode): connect to that account, or make a new plan "
            "from this account's sources (load_sources, then plan_...)."
        )
