"""The live-mode banner the change panels share (plans and outcomes render themselves, one look
everywhere: ``plan.to_html()``, ``outcome.to_html()``).

Example::

    banner.value = live_banner_html(session)  # "" unless the session uses a live key
"""

from __future__ import annotations

from toolkit.session import Session
from toolkit.widgets.style import banner_html

__all__ = ["live_banner_html"]


def live_banner_html(session: Session) -> str:
    """A red banner for a live session (and whether writes are allowed); "" otherwise."""
    if session.mode != "live":
        return ""
    if not session.allow_live:
        return banner_html(
            f"Account {session.account_label}: writes are refused. To change live data, "
            "reconnect with toolkit.connect(..., allow_live=True).",
            "danger",
            title="LIVE MODE.",
        )
    return banner_html(
        f"Account {session.account_label}: applying changes real customer data. "
        "Preview, dry-run, then confirm.",
        "danger",
        title="LIVE MODE.",
    )
