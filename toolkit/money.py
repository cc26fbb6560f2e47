"""Money helpers: Stripe amounts are integers in the currency's minor unit.

Most currencies have two decimals; Stripe's zero-decimal currencies (JPY, KRW, ...) have none and
its three-decimal currencies (BHD, KWD, ...) have three. Example::

    >>> minor_to_major(123456, "usd")
    Decimal('1234.56')
    >>> format_money(123456, "usd")
    '1,234.56 USD'
    >>> format_money(500, "jpy", symbol=True)
    '¥500'
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pandas as pd

from toolkit.errors import InvalidInputError

__all__ = [
    "CURRENCIES",
    "THREE_DECIMAL_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "currency_exponent",
    "finance_frame",
    "format_money",
    "major_to_minor",
    "minor_to_major",
    "to_major",
    "unapplied",
]

ZERO_DECIMAL_CURRENCIES: frozenset[str] = frozenset(
    [
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    ]
)
THREE_DECIMAL_CURRENCIES: frozenset[str] = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])

# Unambiguous symbols only; every other currency is shown with its ISO code.
_SYMBOLS: dict[str, str] = {
    "usd": "$",
    "eur": "€",
    "gbp": "£",
    "jpy": "¥",
    "inr": "₹",
    "krw": "₩",
    "ils": "₪",
    "vnd": "₫",
    "ngn": "₦",
    "php": "₱",
    "thb": "฿",
    "uah": "₴",
}


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _code(currency: Any) -> str:
    if _is_missing(currency) or not isinstance(currency, str) or not currency.strip():
        raise InvalidInputError(
            f"currency must be a three-letter ISO code such as 'usd', got {currency!r}"
        )
    code = currency.strip().lower()
    if len(code) != 3 or not code.isalpha():
        raise InvalidInputError(
            f"currency must be a three-letter ISO code such as 'usd', got {currency!r}"
        )
    if code not in _CODES:
        raise InvalidInputError(
            f"currency {currency!r} is not an ISO 4217 code Stripe supports: use one such as "
            "'usd', 'eur' or 'gbp' (the list: toolkit.money.CURRENCIES, or Stripe's page "
            "docs.stripe.com/currencies)."
        )
    return code


def currency_exponent(currency: str) -> int:
    """Number of decimals of the currency's minor unit as Stripe counts them.

    Example: ``currency_exponent("usd") == 2``, ``currency_exponent("JPY") == 0``,
    ``currency_exponent("kwd") == 3``.
    """
    code = _code(currency)
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def minor_to_major(amount: Any, currency: str) -> Decimal | None:
    """A minor-unit integer amount as an exact Decimal in major units (None stays None).

    Example: ``minor_to_major(123456, "usd") == Decimal("1234.56")``,
    ``minor_to_major(500, "jpy") == Decimal("500")``. A currency Stripe does not support (a
    typo such as ``"xyz"``) is refused, never read as two decimals.

    >>> toolkit.minor_to_major(500, "jpy"), toolkit.minor_to_major(1234, "bhd")
    (Decimal('500'), Decimal('1.234'))
    """
    if _is_missing(amount):
        return None
    if isinstance(amount, bool):
        raise InvalidInputError(f"amount must be an integer in minor units, got {amount!r}")
    if isinstance(amount, float):
        if not amount.is_integer():
            raise InvalidInputError(f"amount must be an integer in minor units, got {amount!r}")
        amount = int(amount)
    try:
        value = int(amount)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"amount must be an integer in minor units, got {amount!r}"
        ) from None
    if value != amount:
        raise InvalidInputError(f"amount must be an integer in minor units, got {amount!r}")
    return Decimal(value).scaleb(-currency_exponent(currency))


def major_to_minor(amount: Decimal | int | str, currency: str) -> int:
    """A major-unit amount as Stripe's minor-unit integer; refuses sub-minor precision.

    Example: ``major_to_minor(Decimal("12.34"), "usd") == 1234``.
    """
    try:
        value = Decimal(str(amount))
    except ArithmeticError:
        raise InvalidInputError(f"not an amount: {amount!r}") from None
    scaled = value.scaleb(currency_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise InvalidInputError(
            f"{amount} has more decimals than {currency.upper()} allows "
            f"({currency_exponent(currency)})"
        )
    return int(scaled)


def to_major(amounts: pd.Series, currencies: pd.Series | str) -> pd.Series:
    """A Series of minor-unit amounts as Decimal major units (object dtype, None where missing).

    Example: ``to_major(df["amount"], df["currency"])``.
    """
    cur = pd.Series(currencies, index=amounts.index) if isinstance(currencies, str) else currencies
    out = [
        None if _is_missing(a) or _is_missing(c) else minor_to_major(a, c)
        for a, c in zip(amounts.tolist(), cur.tolist(), strict=True)
    ]
    return pd.Series(out, index=amounts.index, dtype=object, name=amounts.name)


def finance_frame(df: pd.DataFrame) -> tuple[pd.DataFrame, set[str]]:
    """``df`` as a spreadsheet shows money, and which columns are money: ``X_major`` becomes
    ``X`` (major units, where the minor-unit ``X`` stood) and ``X`` becomes ``X_minor``, so a
    heading without ``_minor`` always holds major units (the rule of every file written)."""
    bases = {str(c): str(c)[: -len("_major")] for c in df.columns if str(c).endswith("_major")}
    bases = {major: base for major, base in bases.items() if base}
    names = {major: base for major, base in bases.items()}
    order = list(df.columns)
    for major, base in bases.items():  # the major column takes the plain column's place
        if base in df.columns:
            names[base] = f"{base}_minor"
            i, j = order.index(base), order.index(major)
            order[i], order[j] = order[j], order[i]
    return df[order].rename(columns=names), set(bases.values())


def format_money(amount_minor: Any, currency: str, *, symbol: bool = False) -> str:
    """A minor-unit amount for display: grouped digits, the currency's decimals, its code.

    ``symbol=True`` puts a symbol in front for currencies that have an unambiguous one.
    A missing amount gives ``""``. Example: ``format_money(123456, "usd") == "1,234.56 USD"``,
    ``format_money(-5, "usd", symbol=True) == "-$0.05"``, ``format_money(1234, "kwd") ==
    "1.234 KWD"``.

    >>> toolkit.format_money(123456, "usd")
    '1,234.56 USD'
    """
    if _is_missing(amount_minor):
        return ""
    code = _code(currency)
    major = minor_to_major(amount_minor, code)
    assert major is not None
    exp = currency_exponent(code)
    sign = "-" if major < 0 else ""
    digits = f"{abs(major):,.{exp}f}"
    if symbol and code in _SYMBOLS:
        return f"{sign}{_SYMBOLS[code]}{digits}"
    return f"{sign}{digits} {code.upper()}"


#: Currencies Stripe settles in (lowercase ISO 4217): the fixed categories of ``currency``.
CURRENCIES: list[str] = sorted(
    [
        "usd",
        "aed",
        "afn",
        "all",
        "amd",
        "ang",
        "aoa",
        "ars",
        "aud",
        "awg",
        "azn",
        "bam",
        "bbd",
        "bdt",
        "bgn",
        "bhd",
        "bif",
        "bmd",
        "bnd",
        "bob",
        "brl",
        "bsd",
        "bwp",
        "byn",
        "bzd",
        "cad",
        "cdf",
        "chf",
        "clp",
        "cny",
        "cop",
        "crc",
        "cve",
        "czk",
        "djf",
        "dkk",
        "dop",
        "dzd",
        "egp",
        "etb",
        "eur",
        "fjd",
        "fkp",
        "gbp",
        "gel",
        "gip",
        "gmd",
        "gnf",
        "gtq",
        "gyd",
        "hkd",
        "hnl",
        "htg",
        "huf",
        "idr",
        "ils",
        "inr",
        "isk",
        "jmd",
        "jod",
        "jpy",
        "kes",
        "kgs",
        "khr",
        "kmf",
        "krw",
        "kwd",
        "kyd",
        "kzt",
        "lak",
        "lbp",
        "lkr",
        "lrd",
        "lsl",
        "mad",
        "mdl",
        "mga",
        "mkd",
        "mmk",
        "mnt",
        "mop",
        "mur",
        "mvr",
        "mwk",
        "mxn",
        "myr",
        "mzn",
        "nad",
        "ngn",
        "nio",
        "nok",
        "npr",
        "nzd",
        "omr",
        "pab",
        "pen",
        "pgk",
        "php",
        "pkr",
        "pln",
        "pyg",
        "qar",
        "ron",
        "rsd",
        "rub",
        "rwf",
        "sar",
        "sbd",
        "scr",
        "sek",
        "sgd",
        "shp",
        "sle",
        "sll",
        "sos",
        "srd",
        "std",
        "szl",
        "thb",
        "tjs",
        "tnd",
        "top",
        "try",
        "ttd",
        "twd",
        "tzs",
        "uah",
        "ugx",
        "uyu",
        "uzs",
        "vnd",
        "vuv",
        "wst",
        "xaf",
        "xcd",
        "xof",
        "xpf",
        "yer",
        "zar",
        "zmw",
    ]
)


_CODES = frozenset(CURRENCIES)


def unapplied(received: Any, charged: Any, returned: Any) -> pd.Series:
    """Receiver money not yet used, in minor units (``Int64``): received - charged - returned.

    The one home of this rule: a receiver with any of the three amounts unknown has an unknown
    unapplied amount (``<NA>``), never a guess.

    >>> unapplied(pd.Series([500, 500]), pd.Series([100, None]), pd.Series([0, 0])).tolist()
    [400, <NA>]
    """

    def amounts(values: Any) -> pd.Series:
        return pd.to_numeric(pd.Series(values), errors="coerce").astype("Int64")

    return (amounts(received) - amounts(charged) - amounts(returned)).rename("unapplied")
