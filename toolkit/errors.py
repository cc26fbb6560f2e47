"""The toolkit's exceptions: catch :class:`ToolkitError` for all of them.

::

    ToolkitError(Exception)
    ├── ConfigurationError            bad option, bad api_base, bad environment
    │   └── InvalidKeyError           a key that is not a Stripe secret or restricted key
    ├── LiveModeRefused               a write against a live key without allow_live=True
    ├── ApprovalRequired              a live write of a plan no one but its maker approved
    ├── InvalidInputError(ValueError) bad user input: ids, metadata, plans, tables
    ├── StripeRequestError            a request that still failed after retries
    │   └── NotFoundError(LookupError)  Stripe does not know an id (``resource_missing``)
    ├── JournalError                  a journal in use by another process, or not writable
    ├── OutputError(OSError)          an output file that cannot be written: a full disk, no
    │                                 permission, a folder where the file should go
    ├── ReadAllowanceError            a read (GET) past the account's read allowance over 30
    │                                 days: refused before it was sent, or refused by Stripe
    └── Cancelled                     work stopped through its ``cancel`` event

    NotFoundWarning(UserWarning)      a load went on without ids Stripe does not know (the rows
                                      are missing; their ids are the LoadInfo's missing_ids)
    AccountWarning(UserWarning)       a load across connected accounts went on without an account
                                      that refused access (the LoadInfo's refused_accounts)

Every message is masked: anything shaped like a Stripe key shows as ``sk_live_…abcd`` and URL
credentials as ``***``, so printing an error (or its traceback) never shows a secret.

Example::

    try:
        session = toolkit.connect("pk_live_oops")
    except toolkit.InvalidKeyError as exc:
        print(exc)  # says what a key looks like and where to find one
"""

from __future__ import annotations

from typing import Any

from toolkit.redact import mask_secrets

__all__ = [
    "AccountWarning",
    "ApprovalRequired",
    "Cancelled",
    "ConfigurationError",
    "InvalidInputError",
    "InvalidKeyError",
    "JournalError",
    "LiveModeRefused",
    "NotFoundError",
    "NotFoundWarning",
    "OutputError",
    "ReadAllowanceError",
    "StripeRequestError",
    "ToolkitError",
]


class ToolkitError(Exception):
    """Base class of every error the toolkit raises on purpose; its text is always masked.

    >>> str(ToolkitError("bad key sk_live_abcdefghijklmnop1234"))
    'bad key sk_live_…1234'
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*(mask_secrets(a) if isinstance(a, str) else a for a in args))


class ConfigurationError(ToolkitError):
    """The toolkit is set up wrongly: an option, an address or the environment."""


class InvalidKeyError(ConfigurationError):
    """An API key that is missing its Stripe shape (``sk_test_...``, ``rk_live_...``)."""


class LiveModeRefused(ToolkitError):
    """A write was attempted against a live key without ``connect(..., allow_live=True)``."""


class ApprovalRequired(ToolkitError):
    """A write needs a plan approved by someone other than its maker, and it is not (never
    saved, changed since, or not approved): nothing was sent. The message names the fix
    (``python -m toolkit approve PLAN``, or a recorded waiver); the CLI exits with 9.
    See :mod:`toolkit.changes.plans.approval`."""


class InvalidInputError(ToolkitError, ValueError):
    """Input a user gave is not usable: the message says which and how to fix it."""


class StripeRequestError(ToolkitError):
    """A Stripe request failed after the toolkit's retries (mapped in one place from Stripe's own
    errors: :func:`toolkit.session.transport.mapped`).

    ``status``, ``code``, ``param``, ``request_id``, ``stripe_message`` and ``error_type`` come
    from Stripe's error body; ``detail`` is ``"HTTP 400 parameter_invalid: ..."``; ``uncertain``
    is True when the request may have landed all the same (a dropped connection, a 5xx, a key
    still in flight).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        stripe_message: str | None = None,
        error_type: str | None = None,
        detail: str | None = None,
        uncertain: bool = False,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.param = param
        self.request_id = request_id
        self.stripe_message = stripe_message
        self.error_type = error_type
        self.detail = mask_secrets(detail) if detail else str(self)
        self.uncertain = uncertain


class NotFoundError(StripeRequestError, LookupError):
    """Stripe does not know an id (``code: resource_missing``): the object in the path (a 404,
    ``param`` ``"id"``) or an id passed as the parameter ``param`` (a 400), such as a
    ``starting_after`` cursor whose object was deleted or detached meanwhile.

    >>> NotFoundError("gone", status=400, param="starting_after").cursor_vanished
    True
    """

    @property
    def cursor_vanished(self) -> bool:
        """Is the unknown id a list's cursor (``starting_after``/``ending_before``), not the
        object asked for? Then the list can be restarted; nothing is missing."""
        return self.param in ("starting_after", "ending_before")


class JournalError(ToolkitError):
    """A journal cannot be used: another process holds it, or it could not be written (a full
    disk). ``outcome`` is the :class:`~toolkit.Outcome` so far (or None) and ``resume`` the exact
    call that continues the work once the cause is fixed."""

    def __init__(self, message: str, *, outcome: Any = None, resume: str | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.resume = resume


class OutputError(ToolkitError, OSError):
    """A file the toolkit writes (a snapshot, an export, a plan, a workbook) could not be written:
    the disk is full, the folder is not writable, or the path names a folder. Nothing was left
    behind (files are written to a temporary file first); the message says what to change.
    ``errno`` and ``filename`` are those of the operating system's error.

    >>> isinstance(OutputError("Could not write a.csv: the disk is full."), OSError)
    True
    """

    def __str__(self) -> str:
        # the message, not OSError's "[Errno 28] ...: 'a.csv'" once errno and filename are set
        return str(self.args[0]) if self.args else ""


class ReadAllowanceError(ToolkitError):
    """A read (GET) would pass the read allowance of the account over 30 days, so it was not
    sent; or Stripe refused one for its read request allocation (a 429 that says so: retrying
    soon does not help). Stripe allows an average of 500 reads per transaction over a rolling 30
    days, at least 10,000 a month; writes are not counted (docs.stripe.com/rate-limits).

    ``operation`` is what was reading (``"load ids"``), ``cost`` its known cost when it was
    refused before sending anything (None: it stopped at the limit part-way), ``reads`` what it
    sent before it stopped, ``used`` and ``allowance`` the reads in the last 30 days and the
    limit, ``left`` what remains. ``partial`` is what a load read before it stopped (a frame),
    when it keeps that. ``status``, ``request_id`` and ``stripe_message`` are Stripe's when
    Stripe refused.

    >>> error = ReadAllowanceError("over", cost=120, used=9_950, allowance=10_000)
    >>> error.left, error.cost
    (50, 120)
    """

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        cost: int | None = None,
        reads: int = 0,
        used: int | None = None,
        allowance: int | None = None,
        partial: Any = None,
        status: int | None = None,
        request_id: str | None = None,
        stripe_message: str | None = None,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.cost = cost
        self.reads = reads
        self.used = used
        self.allowance = allowance
        self.partial = partial
        self.status = status
        self.request_id = request_id
        self.stripe_message = stripe_message

    def keeping(self, partial: Any, note: str) -> ReadAllowanceError:
        """This error with ``partial`` (what was read before it stopped), ``note`` saying so."""
        error = ReadAllowanceError(
            f"{self} {note}", operation=self.operation, cost=self.cost, reads=self.reads,
            used=self.used, allowance=self.allowance, partial=partial, status=self.status,
            request_id=self.request_id, stripe_message=self.stripe_message,
        )  # fmt: skip
        return error

    @property
    def left(self) -> int | None:
        """Reads left of the allowance (None: no allowance is known)."""
        if self.allowance is None or self.used is None:
            return None
        return max(0, self.allowance - self.used)


class Cancelled(ToolkitError):
    """Work was stopped because its ``cancel`` event was set (a Cancel button, for example)."""


class NotFoundWarning(UserWarning):
    """Some ids or customers a load asked for are unknown to Stripe: the load returned the others.

    The ids are in the load's :class:`~toolkit.LoadInfo` (``missing_ids``, ``missing_customers``).
    Turn it into an error with ``warnings.simplefilter("error", toolkit.NotFoundWarning)``.
    """


class AccountWarning(UserWarning):
    """A load across connected accounts left out an account that refused access or failed; the
    other accounts' rows are complete. ``LoadInfo.from_attrs(df).refused_accounts`` lists them.

    >>> issubclass(AccountWarning, UserWarning)
    True
    """
