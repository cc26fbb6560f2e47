"""Open a session on Stripe, or on the embedded sandbox when no key is set.

The key comes from the argument, else ``STRIPE_API_KEY`` in the environment, else a ``.env`` file
in the working folder. It is never printed: ``repr(session)`` shows its prefix and last four
characters.

>>> session = connect(quiet=True)      # no key anywhere: the seeded sandbox on loopback
>>> session.mode, session.account_label
('sandbox', 'sandbox')
>>> session.close()
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from toolkit.errors import ConfigurationError, InvalidKeyError
from toolkit.redact import mask_key, redact_url
from toolkit.session.client import Mode, Session
from toolkit.session.ratelimit import StripeLimits
from toolkit.session.read_ledger import ReadLedger, default_ledger_path, key_digest
from toolkit.session.reads import ReadBook, default_allowance
from toolkit.session.settings import (
    ALLOWANCE_VARIABLE,
    KEY_PATTERN,
    allowance_setting,
    check_account,
    check_api_base,
    check_bool,
    check_budget,
    check_limits,
    check_rate_limit,
    check_read_allowance,
    read_dotenv,
    setting,
)

__all__ = ["KEY_HELP", "SANDBOX_DEFAULTS", "SANDBOX_KEY", "connect", "key_from_variable"]

#: How the embedded sandbox runs unless ``sandbox_options`` say otherwise: with Stripe's
#: limiters for the key's mode (test: 25 requests/s, 25/s per endpoint), so a runbook that is
#: fast against the sandbox is as fast against Stripe.
SANDBOX_DEFAULTS: dict[str, Any] = {"limits": "auto"}

#: The key the toolkit uses against a sandbox. It is not a secret: it unlocks nothing real.
SANDBOX_KEY = "sk_test_sandbox0000000000000000"
KEY_HELP = (
    "A Stripe API key looks like sk_test_... or sk_live_... (secret keys) or rk_test_... / rk_live_... "
    "(restricted keys), followed by letters and digits. Copy one from the Stripe Dashboard under "
    "Developers > API keys, then set it with `export STRIPE_API_KEY=sk_test_...` or a line "
    "STRIPE_API_KEY=sk_test_... in a .env file next to your notebooks. Leave it unset to use the "
    "built-in sandbox."
)


def _key_mode(key: str) -> Literal["test", "live"]:
    if isinstance(key, str) and any(c.isspace() for c in key) and KEY_PATTERN.match(key.split()[0]):
        raise InvalidKeyError(
            f"The key {mask_key(key.split()[0])} has a space or a line break inside it (pasted "
            "across lines?): copy it again in one piece. " + KEY_HELP
        )
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        shown = mask_key(key) if isinstance(key, str) else type(key).__name__
        if isinstance(key, str) and key.startswith("pk_"):
            raise InvalidKeyError(
                f"{shown} is a publishable key, which cannot read sources. "
                "Use a secret (sk_...) or restricted (rk_...) key. " + KEY_HELP
            )
        raise InvalidKeyError(
            f"That is not a Stripe secret or restricted key ({shown}). " + KEY_HELP
        )
    return "live" if key.split("_")[1] == "live" else "test"


def _limits_of(sandbox: Any) -> StripeLimits:
    """The limits the embedded sandbox applies to the session's (test) key."""
    box = sandbox.limits
    return StripeLimits(box.global_rate_of(False), box.endpoint_rate, dict(box.endpoint_limits))


#: Set by ``python -m toolkit lab`` in every kernel it starts when they share its sandbox.
SHARED_SANDBOX_VARIABLE = "TOOLKIT_SHARED_SANDBOX"


def key_from_variable(api_key: str | None, name: str, dotenv: dict[str, str]) -> str:
    """The key held by the environment variable (or ``.env`` entry) ``name``."""
    if api_key is not None:
        raise ConfigurationError("Give api_key or api_key_env, not both.")
    if not isinstance(name, str) or not name.strip():
        raise ConfigurationError(
            f"api_key_env must be the NAME of an environment variable, got {name!r}."
        )
    value = setting(name.strip(), dotenv)
    if value is None:
        raise ConfigurationError(
            f"The environment variable {name} is not set (nor in ./.env): set it to your Stripe "
            "key (sk_... or rk_...), or use api_key_env = None for STRIPE_API_KEY or the sandbox."
        )
    return value


def connect(
    api_key: str | None = None,
    *,
    api_key_env: str | None = None,
    stripe_account: str | None = None,
    allow_live: bool = False,
    api_base: str | None = None,
    budget: float | None = None,
    limits: StripeLimits | dict[str, float] | None = None,
    rate_limit: float | None = None,
    max_workers: int | None = None,
    timeout: float = 30.0,
    max_retries: int = 5,
    sandbox_options: dict[str, Any] | None = None,
    quiet: bool = False,
    read_allowance: int | str | None = "auto",
    read_ledger: str | os.PathLike[str] | None = None,
) -> Session:
    """Open a :class:`Session`: your account with a key, else the seeded sandbox on loopback.

    >>> session = toolkit.connect(quiet=True)
    >>> session
    <Session mode='sandbox' key='sk_test_…0000' api_base='http://127.0.0.1:...'>
    >>> session.close()

    or ``toolkit.connect("sk_test_...", stripe_account="acct_1")``.

    Key: ``api_key``, else the variable named ``api_key_env`` (a runbook's way to pick a key
    without pasting it: ``connect(api_key_env="STRIPE_KEY_EU")``; unset is an error that says
    so), else ``STRIPE_API_KEY`` (environment, then ``./.env``). With no key and no
    ``api_base`` the embedded sandbox starts on 127.0.0.1 and one line says so. ``api_base`` (or
    ``STRIPE_API_BASE``) points at another Stripe-compatible server. Writes with a live key need
    ``allow_live=True``.

    Pacing (:mod:`toolkit.session.ratelimit`): ``limits`` are the account's (default Stripe's:
    global 100/s live, 25/s test; 25/s per endpoint; the embedded sandbox's own); pass
    ``{"global": 200, "POST /v1/sources/{id}": 50}`` for an account Stripe has raised.
    ``budget`` is the share of them the session uses: default 0.5 in live mode (the account's
    own payments share those limits), 1.0 in test mode and the sandbox. ``rate_limit=X`` caps
    everything at one X requests/s instead (a server that is not Stripe).

    Reads (:mod:`toolkit.session.reads`): every GET is counted in the read ledger (a private
    file: ``$TOOLKIT_READS_LEDGER``, else ``~/.local/share/stripe-sources-toolkit/reads.jsonl``;
    the sandbox's in memory; ``read_ledger`` picks another file). ``read_allowance`` is the
    most the session sends over 30 days, per allocation (its own, and a platform's reads for
    connected accounts): ``"auto"`` is Stripe's floor of 10,000 for a live key (raise it to what
    Stripe allows you: 500 per transaction) and no limit for test keys and the sandbox; None
    never limits (``TOOLKIT_READ_ALLOWANCE=50000``, or ``none``, in the environment or ``.env``
    sets it for the CLI and runbooks). Past it, reads raise :class:`~toolkit.ReadAllowanceError`.
    """
    dotenv = read_dotenv(Path.cwd() / ".env")
    if api_key_env is not None:
        api_key = key_from_variable(api_key, api_key_env, dotenv)
    key = api_key if api_key is not None else setting("STRIPE_API_KEY", dotenv)
    if isinstance(key, str):
        key = key.strip()  # a key pasted with spaces or a newline around it
    base = api_base if api_base is not None else setting("STRIPE_API_BASE", dotenv)
    account = stripe_account if stripe_account is not None else setting("STRIPE_ACCOUNT", dotenv)
    check_account(account)
    check_api_base(base)
    check_bool(allow_live, "allow_live")
    rate_limit = check_rate_limit(rate_limit)
    budget = check_budget(budget)
    if read_ledger is not None and not isinstance(read_ledger, str | os.PathLike):
        raise ConfigurationError(
            f"read_ledger must be a file path, got {type(read_ledger).__name__}."
        )
    workers = max_workers if max_workers is not None else 8
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigurationError(
            f"max_workers must be a whole number of at least 1, got {workers!r}."
        )

    sandbox = None
    owns_sandbox = False
    if key is None:
        mode: Mode = "sandbox"
        key = SANDBOX_KEY
        if base is None:
            from toolkit.sandbox import Sandbox

            sandbox = Sandbox(**{**SANDBOX_DEFAULTS, **(sandbox_options or {})})
            sandbox.start()
            owns_sandbox = True
            base = sandbox.url
            message = (
                f"No STRIPE_API_KEY set: using the built-in sandbox with demo data at {base}. "
                "Set STRIPE_API_KEY to work on your own account."
            )
        elif os.environ.get(SHARED_SANDBOX_VARIABLE):
            message = (
                f"No STRIPE_API_KEY set: using the lab's shared sandbox with demo data at {base}: "
                "every runbook of this lab sees the same data. Set STRIPE_API_KEY to work on your "
                "own account."
            )
        else:
            message = (
                f"No STRIPE_API_KEY set: using the Stripe-compatible server at {redact_url(base)} "
                "as a sandbox."
            )
        if not quiet:  # information, not an error: stdout (a notebook shows stderr in red)
            print(message, flush=True)
    else:
        mode = _key_mode(key)
        if sandbox_options:
            raise ConfigurationError(
                "sandbox_options only apply when no key is set (sandbox mode)."
            )

    if rate_limit is not None:
        if limits is not None:
            raise ConfigurationError("Pass limits or rate_limit, not both.")
        paced = StripeLimits.single(rate_limit)
    elif sandbox is not None:
        paced = check_limits(limits, _limits_of(sandbox))
    else:
        paced = check_limits(limits, StripeLimits.of_mode(mode))
    session = Session(
        api_key=key,
        mode=mode,
        api_base=base or "https://api.stripe.com",
        stripe_account=account,
        allow_live=allow_live,
        limits=paced,
        budget=budget,
        max_workers=workers,
        timeout=timeout,
        max_retries=max_retries,
        sandbox=sandbox,
        owns_sandbox=owns_sandbox,
    )
    try:
        if isinstance(read_allowance, str) and read_allowance.strip().lower() == "auto":
            read_allowance = allowance_setting(setting(ALLOWANCE_VARIABLE, dotenv))
        allowance = check_read_allowance(read_allowance, default_allowance(mode))
        if read_ledger is not None:
            ledger = ReadLedger(read_ledger)
        else:
            ledger = ReadLedger(None if mode == "sandbox" else default_ledger_path())
    except BaseException:
        session.close()
        raise
    session.reads = ReadBook(
        ledger, key_digest(key, session.api_base), mode, allowance, session.account_label
    )
    return session
