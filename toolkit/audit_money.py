"""TEMPORARY: money helpers for the audit until toolkit.money lands (then this file goes away)."""

from __future__ import annotations

from decimal import Decimal

try:  # pragma: no cover - depends on the fetch helper's progress
    from toolkit.money import currency_exponent, format_money, minor_to_major
except ImportError:  # pragma: no cover
    _ZERO = set(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "JPY",
            "KMF",
            "KRW",
            "MGA",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ]
    )
    _THREE = set(["BHD", "JOD", "KWD", "OMR", "TND"])

    def currency_exponent(currency: str) -> int:
        c = (currency or "").upper()
        return 0 if c in _ZERO else 3 if c in _THREE else 2

    def minor_to_major(amount: int, currency: str) -> Decimal:
        return Decimal(int(amount)).scaleb(-currency_exponent(currency))

    def format_money(amount_minor: int, currency: str) -> str:
        e = currency_exponent(currency)
        return f"{minor_to_major(amount_minor, currency):,.{e}f} {(currency or '').upper()}"


__all__ = ["currency_exponent", "format_money", "minor_to_major"]
