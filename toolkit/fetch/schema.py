"""The DataFrame schema for sources and source transactions: stable columns, stable dtypes.

Every frame has the same columns in the same order with the same dtypes, whatever source types
are present, an empty frame included. Ids and free text are ``string``; low-cardinality text
(type, status, usage, flow, currency, refund attributes) is ``category`` with fixed categories, so
frames from different runs concatenate and compare cleanly; amounts are nullable ``Int64`` in the
currency's minor unit (see :mod:`toolkit.money`); ``created`` is a UTC datetime. ``metadata`` holds
the metadata dict, ``metadata.<key>`` one column per key (sorted), ``raw`` the whole object
without its ``client_secret``.

>>> FRAME_DTYPES["receiver_amount_received"]
'Int64'
>>> FRAME_COLUMNS[:3]
('id', 'customer', 'type')
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from toolkit.money import CURRENCIES

__all__ = [
    "FRAME_COLUMNS",
    "FRAME_DTYPES",
    "METADATA_PREFIX",
    "SCHEMA",
    "SOURCE_TYPES",
    "TRANSACTION_COLUMNS",
    "TRANSACTION_DTYPES",
    "TRANSACTION_SCHEMA",
    "categories",
    "frame_dtypes",
]

METADATA_PREFIX = "metadata."

SOURCE_TYPES = [
    "ach_credit_transfer",
    "ach_debit",
    "acss_debit",
    "alipay",
    "au_becs_debit",
    "bancontact",
    "card",
    "card_present",
    "eps",
    "giropay",
    "ideal",
    "klarna",
    "multibanco",
    "p24",
    "sepa_debit",
    "sofort",
    "three_d_secure",
    "wechat",
]
STATUSES = ["canceled", "chargeable", "consumed", "failed", "pending"]
USAGES = ["reusable", "single_use"]
FLOWS = ["code_verification", "none", "receiver", "redirect"]
REFUND_METHODS = ["email", "manual", "none"]
REFUND_STATUSES = ["available", "missing", "requested"]
TRANSACTION_STATUSES = ["failed", "pending", "succeeded"]
STRING = "string"
INT = "Int64"
BOOL = "boolean"
CREATED = "datetime64[us, UTC]"
OBJECT = "object"


def categories(values: list[str]) -> pd.CategoricalDtype:
    """A fixed, unordered category dtype of ``values``."""
    return pd.CategoricalDtype(pd.Index(values, dtype="str"), ordered=False)


# column -> (dtype, fixed categories or None)
SCHEMA: list[tuple[str, Any]] = [
    ("id", STRING),
    ("customer", STRING),
    ("type", categories(SOURCE_TYPES)),
    ("status", categories(STATUSES)),
    ("usage", categories(USAGES)),
    ("flow", categories(FLOWS)),
    ("currency", categories(CURRENCIES)),
    ("amount", INT),
    ("created", CREATED),
    ("livemode", BOOL),
    ("statement_descriptor", STRING),
    ("owner_email", STRING),
    ("owner_name", STRING),
    ("owner_phone", STRING),
    ("owner_address_line1", STRING),
    ("owner_address_line2", STRING),
    ("owner_address_city", STRING),
    ("owner_address_state", STRING),
    ("owner_address_postal_code", STRING),
    ("owner_address_country", STRING),
    ("receiver_address", STRING),
    ("receiver_amount_received", INT),
    ("receiver_amount_charged", INT),
    ("receiver_amount_returned", INT),
    ("receiver_refund_attributes_method", categories(REFUND_METHODS)),
    ("receiver_refund_attributes_status", categories(REFUND_STATUSES)),
    ("ach_credit_transfer_bank_name", STRING),
    ("ach_credit_transfer_routing_number", STRING),
    ("ach_credit_transfer_account_number", STRING),
    ("ach_credit_transfer_fingerprint", STRING),
    ("ach_credit_transfer_swift_code", STRING),
    ("card_brand", STRING),
    ("card_last4", STRING),
    ("card_exp_month", INT),
    ("card_exp_year", INT),
    ("sepa_debit_country", STRING),
    ("sepa_debit_last4", STRING),
    ("sepa_debit_mandate_reference", STRING),
    ("ach_debit_bank_name", STRING),
    ("ach_debit_last4", STRING),
    ("metadata", OBJECT),
    ("raw", OBJECT),
]

#: The fixed columns of a sources frame, in order (``metadata.<key>`` columns go before ``raw``).
FRAME_COLUMNS: tuple[str, ...] = tuple(name for name, _ in SCHEMA)
#: dtype of every fixed column of a sources frame (``metadata.<key>`` columns are ``string``).
FRAME_DTYPES: dict[str, Any] = dict(SCHEMA)

TRANSACTION_SCHEMA: list[tuple[str, Any]] = [
    ("id", STRING),
    ("source", STRING),
    ("customer", STRING),
    ("type", categories(SOURCE_TYPES)),
    ("status", categories(TRANSACTION_STATUSES)),
    ("currency", categories(CURRENCIES)),
    ("amount", INT),
    ("created", CREATED),
    ("livemode", BOOL),
    ("raw", OBJECT),
]
#: The columns of a source-transactions frame, in order.
TRANSACTION_COLUMNS: tuple[str, ...] = tuple(name for name, _ in TRANSACTION_SCHEMA)
#: dtype of every column of a source-transactions frame.
TRANSACTION_DTYPES: dict[str, Any] = dict(TRANSACTION_SCHEMA)


def frame_dtypes(df: pd.DataFrame) -> dict[str, str]:
    """Column -> dtype name, a compact way to compare two frames' schemas.

    Example: ``frame_dtypes(df_a) == frame_dtypes(df_b)``.
    """
    return {c: str(t) for c, t in df.dtypes.items()}
