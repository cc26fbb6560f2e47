"""Money helpers: exponents per currency, exact Decimals, display."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from toolkit.errors import InvalidInputError
from toolkit.money import (
    currency_exponent,
    format_money,
    major_to_minor,
    minor_to_major,
    to_major,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("usd", 2), ("EUR", 2), ("jpy", 0), ("KRW", 0), ("xof", 0), ("kwd", 3), ("BHD", 3)],
)
def test_currency_exponent(currency: str, exponent: int) -> None:
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "major"),
    [
        (123456, "usd", Decimal("1234.56")),
        (5, "usd", Decimal("0.05")),
        (-250, "eur", Decimal("-2.50")),
        (500, "jpy", Decimal("500")),
        (1234, "kwd", Decimal("1.234")),
        (0, "usd", Decimal("0")),
    ],
)
def test_minor_to_major_is_exact(amount: int, currency: str, major: Decimal) -> None:
    assert minor_to_major(amount, currency) == major
    assert major_to_minor(major, currency) == amount


def test_missing_amounts_stay_missing() -> None:
    assert minor_to_major(None, "usd") is None
    assert minor_to_major(pd.NA, "usd") is None
    assert format_money(None, "usd") == ""
    assert format_money(pd.NA, "usd") == ""


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123456, "usd", "1,234.56 USD"),
        (-5, "usd", "-0.05 USD"),
        (1000000, "jpy", "1,000,000 JPY"),
        (1234, "kwd", "1.234 KWD"),
        (100, "chf", "1.00 CHF"),
    ],
)
def test_format_money(amount: int, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_format_money_with_symbols() -> None:
    assert format_money(123456, "usd", symbol=True) == "$1,234.56"
    assert format_money(-5, "usd", symbol=True) == "-$0.05"
    assert format_money(500, "jpy", symbol=True) == "¥500"
    assert format_money(100, "chf", symbol=True) == "1.00 CHF"  # no unambiguous symbol


def test_to_major_on_series() -> None:
    amounts = pd.array([100, None, 5], dtype="Int64")
    out = to_major(pd.Series(amounts), pd.Series(["usd", "usd", "jpy"]))
    assert out.tolist() == [Decimal("1.00"), None, Decimal("5")]
    assert to_major(pd.Series([250]), "eur").tolist() == [Decimal("2.50")]


@pytest.mark.parametrize("bad", [None, "", "us", "dollars", 12])
def test_bad_currency_is_a_clear_error(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="three-letter"):
        currency_exponent(bad)  # type: ignore[arg-type]


def test_bad_amounts_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        minor_to_major(1.5, "usd")
    with pytest.raises(InvalidInputError):
        minor_to_major("12x", "usd")
    with pytest.raises(InvalidInputError, match="decimals"):
        major_to_minor(Decimal("1.234"), "usd")
    assert minor_to_major(2.0, "usd") == Decimal("0.02")
