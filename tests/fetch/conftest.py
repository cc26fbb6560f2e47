"""Helpers for the fetch tests: Stripe's example objects and variations of them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "fixtures-sources.json"


def _fixtures() -> dict[str, Any]:
    return json.loads(FIXTURES.read_text())


@pytest.fixture
def stripe_source() -> dict[str, Any]:
    """Stripe's own example source (an ach_credit_transfer receiver), with its client_secret."""
    return copy.deepcopy(_fixtures()["source"])


@pytest.fixture
def stripe_transaction() -> dict[str, Any]:
    """Stripe's own example source transaction."""
    return copy.deepcopy(_fixtures()["source_transaction"])


@pytest.fixture
def variety(stripe_source: dict[str, Any]) -> list[dict[str, Any]]:
    """Sources of several types built from Stripe's example."""
    ach = copy.deepcopy(stripe_source)
    ach["customer"] = "cus_A"
    ach["metadata"] = {"erp_id": "ERP-1", "region": "us-east"}
    card = copy.deepcopy(stripe_source)
    card.update(
        id="src_card1",
        type="card",
        flow="none",
        status="chargeable",
        customer="cus_B",
        currency="eur",
        amount=1999,
        metadata={"region": "eu"},
        card={"brand": "Visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
    )
    del card["ach_credit_transfer"], card["receiver"]
    sepa = copy.deepcopy(stripe_source)
    sepa.update(
        id="src_sepa1",
        type="sepa_debit",
        flow="none",
        status="consumed",
        customer="cus_B",
        currency="eur",
        usage="reusable",
        sepa_debit={"country": "DE", "last4": "3000", "mandate_reference": "MR1"},
        owner=None,
    )
    del sepa["ach_credit_transfer"], sepa["receiver"]
    redirect = copy.deepcopy(stripe_source)
    secret = redirect["client_secret"]
    redirect.update(
        id="src_3ds1",
        type="three_d_secure",
        flow="redirect",
        status="pending",
        usage="single_use",
        currency="usd",
        amount=500,
        redirect={
            "return_url": "https://example.com/back",
            "status": "pending",
            "url": f"https://hooks.stripe.com/redirect/authenticate/src_3ds1?client_secret={secret}",
        },
        three_d_secure={"card": "src_card1"},
    )
    del redirect["ach_credit_transfer"], redirect["receiver"]
    return [ach, card, sepa, redirect]
