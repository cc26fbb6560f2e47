"""What a user configures, read and checked in one place: the key and the other settings from
the environment or ``./.env``, strict flags, rates and addresses. Every refusal names the fix and
never shows a secret.

>>> parse_flag("False", "dry_run")
False
>>> check_rate_limit(25)
25.0
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from toolkit.errors import ConfigurationError
from toolkit.redact import mask_secrets, redact_url
from toolkit.session.ratelimit import StripeLimits

__all__ = [
    "ACCOUNT_PATTERN",
    "ALLOWANCE_VARIABLE",
    "KEY_PATTERN",
    "allowance_setting",
    "check_account",
    "check_api_base",
    "check_bool",
    "check_budget",
    "check_limits",
    "check_rate_limit",
    "check_read_allowance",
    "parse_flag",
    "read_dotenv",
    "setting",
]

KEY_PATTERN = re.compile(r"^(sk|rk)_(test|live)_[0-9A-Za-z]{10,}$")
ACCOUNT_PATTERN = re.compile(r"^acct_[0-9A-Za-z]{6,}$")
ENDPOINT = re.compile(r"^(GET|POST|DELETE) /v1(/[a-z_]+|/\{id\})+$")


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is the boolean True or False, else :class:`ConfigurationError`.

    Strings are refused on purpose: ``"False"`` is truthy in Python, so
    ``connect(allow_live="False")`` must not open live writes.

    >>> check_bool(True, "allow_live")
    True
    """
    if value is True or value is False:
        return value
    raise ConfigurationError(
        f"{name} must be True or False (a boolean), got {mask_secrets(repr(value))}: "
        f"pass {name}=True or {name}=False."
    )


def parse_flag(value: Any, name: str) -> bool:
    """A runbook's boolean parameter, parsed strictly: True/False, or the text ``true``/``false``
    in any letter case (what ``papermill -r name False`` passes). Anything else is a
    :class:`ConfigurationError` that says how to pass it.

    ``allow_live = toolkit.parse_flag(allow_live, "allow_live")``

    >>> parse_flag("TRUE", "undo"), parse_flag(False, "undo")
    (True, False)
    """
    if value is True or value is False:
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConfigurationError(
        f"The parameter {name} must be True or False, got {mask_secrets(repr(value))}. "
        f"With papermill pass it as -p {name} True (or -p {name} False)."
    )


def check_rate_limit(value: Any) -> float | None:
    """Requests per second as a positive finite number (None: the default for the mode).

    >>> check_rate_limit(None) is None
    True
    """
    if value is None:
        return None
    return _rate(value, "rate_limit")


def _rate(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigurationError(f"{what} must be a number of requests per second, got {value!r}.")
    if value <= 0:
        raise ConfigurationError(
            f"{what} must be a positive number of requests per second, got {value}."
        )
    return float(value)


def check_budget(value: Any) -> float | None:
    """The share of Stripe's limits a session may use: above 0, at most 1 (None: by mode).

    >>> check_budget(0.5)
    0.5
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigurationError(
            f"budget must be a share of Stripe's rate limits above 0 and at most 1 (0.5 uses "
            f"half), got {mask_secrets(repr(value))}."
        )
    return float(value)


def check_read_allowance(value: Any, default: int | None) -> int | None:
    """The reads a session may send over 30 days: a whole number, None (no limit), or
    ``"auto"`` (``default``: 10,000 for a live key, no limit otherwise).

    >>> check_read_allowance(50_000, 10_000), check_read_allowance("auto", 10_000)
    (50000, 10000)
    """
    if isinstance(value, str) and value.strip().lower() == "auto":
        return default
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            "read_allowance must be a whole number of reads over 30 days (Stripe allows an "
            "average of 500 per transaction, at least 10,000), None for no limit, or 'auto', "
            f"got {mask_secrets(repr(value))}."
        )
    return value


#: The setting (environment or ``.env``) of the read allowance when ``connect`` is not given one.
ALLOWANCE_VARIABLE = "TOOLKIT_READ_ALLOWANCE"


def allowance_setting(text: str | None) -> int | str | None:
    """The read allowance a ``TOOLKIT_READ_ALLOWANCE`` setting asks for: a whole number, or
    ``none`` (no limit); unset is ``"auto"``.

    >>> allowance_setting("50_000"), allowance_setting("none"), allowance_setting(None)
    (50000, None, 'auto')
    """
    if text is None or not text.strip():
        return "auto"
    if text.strip().lower() in ("none", "auto"):
        return None if text.strip().lower() == "none" else "auto"
    try:
        return int(text.strip())
    except ValueError:
        raise ConfigurationError(
            f"{ALLOWANCE_VARIABLE} must be a whole number of reads over 30 days (like 50000), "
            f"or none for no limit, got {mask_secrets(repr(text))}."
        ) from None


def check_limits(value: Any, default: StripeLimits) -> StripeLimits:
    """An account's limits: a :class:`StripeLimits`, or a dict ``{"global": 200, "endpoint": 25,
    "POST /v1/sources/{id}": 50}`` (keys left out keep ``default``, Stripe's for the mode).

    >>> test = StripeLimits.of_mode("test")
    >>> limits = check_limits({"POST /v1/sources/{id}": 50}, test)
    >>> limits.global_rate, limits.rate_of("POST /v1/sources/{id}"), limits.rate_of("GET /v1/customers")
    (25.0, 50.0, 25.0)
    """
    if value is None:
        return default
    if isinstance(value, StripeLimits):
        return value
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "limits must be a dict like {'global': 100, 'endpoint': 25, "
            f"'POST /v1/sources/{{id}}': 50}}, got {type(value).__name__}."
        )
    rates: dict[str, float] = {}
    for name, rate in value.items():
        known = name in ("global", "endpoint") or ENDPOINT.match(str(name))
        if not isinstance(name, str) or not known:
            raise ConfigurationError(
                f"limits: {name!r} is neither 'global', 'endpoint' nor an endpoint like "
                "'GET /v1/customers/{id}/sources' (method, space, path template)."
            )
        rates[name] = _rate(rate, f"limits[{name!r}]")
    return StripeLimits(
        rates.pop("global", default.global_rate),
        rates.pop("endpoint", default.endpoint_rate),
        {**default.endpoints, **rates},
    )


def check_account(account: str | None) -> str | None:
    """A connected account id ``acct_...`` (or None)."""
    if account is not None and (not isinstance(account, str) or not ACCOUNT_PATTERN.match(account)):
        raise ConfigurationError(
            "stripe_account (or STRIPE_ACCOUNT) must be a connected account id like "
            f"'acct_1A2b3C4d5E', got {mask_secrets(repr(account))}."
        )
    return account


def check_api_base(base: str | None) -> str | None:
    """An ``http(s)://host[:port]`` address (or None); shown without its credentials."""
    if base is not None and (not isinstance(base, str) or not re.match(r"^https?://[^\s/]+", base)):
        shown = mask_secrets(redact_url(repr(base)))
        raise ConfigurationError(
            "api_base (or STRIPE_API_BASE) must be an http(s) address like "
            f"'http://127.0.0.1:12111', got {shown}."
        )
    return base


def read_dotenv(path: Path) -> dict[str, str]:
    r"""The values of a .env file, read by python-dotenv as every tool reads them: quotes,
    ``export``, and comments (also after a value: ``KEY=sk_test_... # mine``) handled; a file
    that cannot be read gives nothing.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     env = Path(folder) / ".env"
    ...     _ = env.write_text("STRIPE_API_KEY=sk_test_abc  # my key\nexport A='b c'\n")
    ...     read_dotenv(env)
    {'STRIPE_API_KEY': 'sk_test_abc', 'A': 'b c'}
    """
    try:
        if not path.is_file():
            return {}
        path.read_text(encoding="utf-8")  # unreadable or not text: as if there were none
    except (PermissionError, UnicodeDecodeError, OSError):
        return {}
    return {k: v for k, v in dotenv_values(path, encoding="utf-8").items() if v is not None}


def setting(name: str, dotenv: dict[str, str]) -> str | None:
    """A setting from the environment, else from the .env values; empty means unset."""
    value = os.environ.get(name)
    if value is None:
        value = dotenv.get(name)
    return value or None
