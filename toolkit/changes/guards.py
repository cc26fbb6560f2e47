"""Refusals made before anything is read or written: not a session, another account or mode.

>>> check_session("sk_test_" + "x" * 20, "apply()")
Traceback (most recent call last):
...
toolkit.errors.InvalidInputError: apply() needs a session from toolkit.connect(...), not str (that looks like an API key: pass session = toolkit.connect(key) instead).
"""

from __future__ import annotations

from typing import Any

from toolkit.errors import InvalidInputError

__all__ = ["check_confirmation", "check_same_account", "check_session", "confirmation_matches"]

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


def confirmation_matches(plan: Any, typed: object) -> bool:
    """True when ``typed`` is the number of sources the plan would change (and that is > 0).

    The one confirmation of an irreversible write (detach), in the runbook and the panel alike:

    >>> from types import SimpleNamespace
    >>> plan = SimpleNamespace(counts={"ready": 12}, irreversible=True)
    >>> confirmation_matches(plan, " 12 "), confirmation_matches(plan, "DETACH")
    (True, False)
    """
    ready = int(plan.counts["ready"])
    return ready > 0 and str("" if typed is None else typed).strip() == str(ready)


def check_confirmation(plan: Any, typed: object) -> None:
    """Refuse a real irreversible write unless ``typed`` is its number of sources.

    >>> from types import SimpleNamespace
    >>> check_confirmation(SimpleNamespace(counts={"ready": 2}, irreversible=True), "DETACH")
    Traceback (most recent call last):
    ...
    toolkit.errors.InvalidInputError: To detach for real, confirm with the number of sources the plan detaches: 2 (given: 'DETACH'). Nothing was detached.
    """
    if not getattr(plan, "irreversible", False) or confirmation_matches(plan, typed):
        return
    ready = int(plan.counts["ready"])
    if ready == 0:
        return  # nothing would be written
    text = str("" if typed is None else typed).strip()
    given = f" (given: {text!r})" if text else " (nothing given)"
    if getattr(plan, "action", "detach") != "detach":
        raise InvalidInputError(
            "This plan cannot be undone: to apply it for real, confirm with the number of "
            f"sources it changes: {ready}{given}. Nothing was sent."
        )
    raise InvalidInputError(
        "To detach for real, confirm with the number of sources the plan detaches: "
        f"{ready}{given}. Nothing was detached."
    )
