"""Builders of the sandbox's people-shaped data: ids, names, addresses, owners, customers
(sources, cards and transactions are :mod:`toolkit.sandbox.source_objects`).

>>> rand_id(random.Random(7), "cus_").startswith("cus_")
True
"""

from __future__ import annotations

import random
import string
from typing import Any

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"

RECEIVER_TYPES = frozenset({"ach_credit_transfer", "multibanco"})
REDIRECT_TYPES = frozenset(
    {"three_d_secure", "alipay", "bancontact", "ideal", "sofort", "giropay", "eps", "p24"}
)
SOURCE_TYPES = frozenset(
    RECEIVER_TYPES | REDIRECT_TYPES | {"card", "sepa_debit", "ach_debit", "wechat", "klarna"}
)
REUSABLE_TYPES = frozenset({"ach_credit_transfer", "card", "sepa_debit", "ach_debit"})

FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Frances",
    "John",
    "Radia",
    "Tim",
    "Hedy",
    "Edsger",
    "Joan",
    "Donald",
    "Sophie",
    "Guido",
    "Anita",
    "Niklaus",
    "Katherine",
    "Claude",
    "Lynn",
    "Brian",
    "Mary",
    "Yukihiro",
    "Jean",
    "Bjarne",
    "Karen",
    "Leslie",
    "Amara",
    "Chidi",
    "Mei",
    "Kenji",
    "Priya",
    "Ravi",
    "Olga",
    "Ines",
    "Mateo",
    "Lucia",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Liskov",
    "Thompson",
    "Hamilton",
    "Ritchie",
    "Allen",
    "Backus",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Dijkstra",
    "Clarke",
    "Knuth",
    "Wilson",
    "Rossum",
    "Borg",
    "Wirth",
    "Johnson",
    "Shannon",
    "Conway",
    "Kernighan",
    "Keller",
    "Matsumoto",
    "Bartik",
    "Stroustrup",
    "Jones",
    "Lamport",
    "Okafor",
    "Nwosu",
    "Chen",
    "Sato",
    "Patel",
    "Kumar",
    "Ivanova",
    "Garcia",
    "Rossi",
    "Novak",
]
CITIES = (
    ("San Francisco", "CA", "US", "94107"),
    ("New York", "NY", "US", "10001"),
    ("Austin", "TX", "US", "73301"),
    ("Chicago", "IL", "US", "60601"),
    ("Seattle", "WA", "US", "98101"),
    ("Berlin", None, "DE", "10115"),
    ("Paris", None, "FR", "75001"),
    ("Amsterdam", None, "NL", "1011"),
    ("Tokyo", None, "JP", "100-0001"),
    ("Manama", None, "BH", "317"),
)
STREETS = ("Market St", "Main St", "Elm St", "Oak Ave", "King St", "Harbor Rd", "Hauptstr.")
BRANDS = (("Visa", "4242"), ("MasterCard", "4444"), ("American Express", "8431"), ("Visa", "1881"))


_ALNUM_TABLE = bytes(ord(ALNUM[i % 62]) for i in range(256))
HEX_TABLE = bytes(ord(HEX[i % 16]) for i in range(256))
DIGIT_TABLE = bytes(ord(string.digits[i % 10]) for i in range(256))


def rand_str(rng: random.Random, n: int, table: bytes = _ALNUM_TABLE) -> str:
    """``n`` random letters and digits (or hex/digits with another table) drawn from ``rng``."""
    return rng.randbytes(n).translate(table).decode("ascii")


def rand_id(rng: random.Random, prefix: str, n: int = 24) -> str:
    """``prefix + n`` letters and digits drawn from ``rng``: ``src_Ab3...``."""
    return prefix + rng.randbytes(n).translate(_ALNUM_TABLE).decode("ascii")


def null_address() -> dict[str, Any]:
    """An address hash with every field null."""
    return {
        "city": None,
        "country": None,
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }


def random_address(rng: random.Random) -> dict[str, Any]:
    """A plausible postal address."""
    city, state, country, postal = rng.choice(CITIES)
    return {
        "city": city,
        "country": country,
        "line1": f"{rng.randint(1, 2400)} {rng.choice(STREETS)}",
        "line2": rng.choice((None, None, None, f"Suite {rng.randint(100, 999)}")),
        "postal_code": postal,
        "state": state,
    }


def make_owner(
    rng: random.Random, name: str | None, email: str | None, *, address: bool = True
) -> dict[str, Any]:
    """A source ``owner`` hash."""
    return {
        "address": random_address(rng) if address else None,
        "email": email,
        "name": name,
        "phone": rng.choice((None, None, f"+1415555{rng.randint(1000, 9999)}")),
        "verified_address": None,
        "verified_email": None,
        "verified_name": None,
        "verified_phone": None,
    }


def empty_owner() -> dict[str, Any]:
    """An owner with nothing set (what a fresh source has)."""
    return {
        "address": None,
        "email": None,
        "name": None,
        "phone": None,
        "verified_address": None,
        "verified_email": None,
        "verified_name": None,
        "verified_phone": None,
    }


def make_customer(
    customer_id: str,
    *,
    created: int,
    livemode: bool,
    name: str | None,
    email: str | None,
    metadata: dict[str, str],
    address: dict[str, Any] | None,
    currency: str | None,
) -> dict[str, Any]:
    """A customer as ``GET /v1/customers/{id}`` returns it (``sources`` not expanded)."""
    return {
        "id": customer_id,
        "object": "customer",
        "address": address,
        "balance": 0,
        "created": created,
        "currency": currency,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": email,
        "invoice_prefix": customer_id[4:12].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": livemode,
        "metadata": metadata,
        "name": name,
        "next_invoice_sequence": 1,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }
