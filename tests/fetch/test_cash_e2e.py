"""Cash balances and their transactions through the real SDK over HTTP: every customer read
(test-clock customers too) from the customer pages, numbers equal to the sandbox's, minor and major units per currency,
missing and mistyped ids, cursors, pacing on their own endpoints, the live guard on funding
instructions, cancellation."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal

import pytest

import toolkit
from toolkit.errors import Cancelled, InvalidInputError, LiveModeRefused
from toolkit.fetch.cash import CASH_BALANCE_COLUMNS, CASH_TRANSACTION_COLUMNS
from toolkit.sandbox import Sandbox
from toolkit.session import Session, connect

TEST = "sk_test_" + "C4shL0ad" * 3


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with Sandbox(seed=7, customers=300) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def session(box: Sandbox) -> Session:
    return connect(TEST, api_base=box.url, rate_limit=1000, quiet=True)


@pytest.fixture(scope="module")
def cash(session: Session):
    return toolkit.load_cash_balances(session, progress=False)


def test_every_customer_is_read_once_per_currency(box, cash) -> None:
    ds = box.store()
    assert list(cash.columns) == list(CASH_BALANCE_COLUMNS)
    assert set(cash["customer"]) == set(ds.customers)  # test-clock customers included
    assert any(c.get("test_clock") for c in ds.customers.values())
    with_balance = cash[cash["currency"].notna()]
    expected = {(c, cur): v for c, bal in ds.cash.available.items() for cur, v in bal.items()}
    keys = zip(with_balance["customer"], with_balance["currency"], strict=True)
    got = dict(zip(keys, with_balance["available"].astype(int), strict=True))
    assert got == expected
    without = cash[cash["currency"].isna()]
    assert set(without["customer"]) == set(ds.customers) - set(ds.cash.available)
    assert without["available"].isna().all()
    info = toolkit.LoadInfo.from_attrs(cash)
    assert info is not None
    assert info.scope == "account" and info.customers == len(ds.customers)
    # the customer pages carry the balances (expand[]=data.cash_balance): no read per customer
    assert info.requests is not None and info.requests <= len(ds.customers) // 100 + 8


def test_major_units_follow_each_currencys_decimals(box, cash) -> None:
    jpy = cash[cash["currency"] == "jpy"].iloc[0]
    assert jpy["available_major"] == Decimal(int(jpy["available"]))  # zero-decimal
    usd = cash[(cash["currency"] == "usd") & (cash["available"] > 0)].iloc[0]
    assert usd["available_major"] == Decimal(int(usd["available"])) / 100
    modes = cash.set_index("customer")["reconciliation_mode"]
    manual = box.store().cash.planted["cash_multi"][0]
    assert set(modes[[manual]]) == {"manual"}
    assert not cash.loc[cash["customer"] == manual, "using_merchant_default"].any()


def test_chosen_customers_unknown_ids_and_typos(session, box) -> None:
    ds = box.store()
    chosen = ds.cash.planted["cash_multi"] + ["cus_NoSuchCustomer01"]
    with pytest.warns(toolkit.NotFoundWarning, match="cus_NoSuchCustomer01"):
        frame = toolkit.load_cash_balances(session, chosen, progress=False)
    assert set(frame["customer"]) == set(chosen[:2])
    load_info = toolkit.LoadInfo.from_attrs(frame)
    assert load_info is not None and load_info.missing_customers == ["cus_NoSuchCustomer01"]
    with pytest.raises(InvalidInputError, match="start with 'cus_'"):  # a typo, refused
        toolkit.load_cash_balances(session, ["cust_abc"], progress=False)
    with pytest.raises(InvalidInputError, match="customer"):
        toolkit.load_cash_balances(session, toolkit.load_sources(session, progress=False)[["id"]])


def test_transactions_equal_the_sandboxs(session, box, cash) -> None:
    ds = box.store()
    moves = toolkit.load_cash_balance_transactions(session, cash, progress=False)
    assert list(moves.columns) == list(CASH_TRANSACTION_COLUMNS)
    expected = {t["id"]: t for txns in ds.cash.txns.values() for t in txns}
    assert set(moves["id"]) == set(expected)
    for row in moves.head(50).itertuples():
        t = expected[row.id]
        got = (row.customer, row.type, int(row.net_amount), int(row.ending_balance))
        assert got == (t["customer"], t["type"], t["net_amount"], t["ending_balance"])
        assert row.created.timestamp() == t["created"]
    funded = moves[moves["type"] == "funded"]
    assert funded["network"].notna().any()
    # a bank transfer's own reference, or the source whose money Stripe's migration moved
    moved = funded[~funded["reference"].str.startswith("REF-")]
    assert len(moved) and moved["reference"].str.fullmatch(r"src_\w+").all()
    for sid, cid in zip(moved["reference"], moved["customer"], strict=True):
        assert ds.cash.fed_by[sid] == cid == ds.sources[sid]["customer"]
    assert moves["created"].is_monotonic_decreasing


def test_long_histories_page_with_cursors_on_their_own_endpoint() -> None:
    with Sandbox(seed=7, customers=40) as box:
        ds = box.store()
        cid = next(iter(ds.customers))
        for i in range(230):
            box.bank_transfer(cid, 100 + i)
        s = connect(TEST, api_base=box.url, rate_limit=1000, quiet=True)
        box.clear_log()
        moves = toolkit.load_cash_balance_transactions(s, [cid], progress=False)
        assert len(moves) == 230 and moves["id"].is_unique
        assert int(moves["ending_balance"].iloc[0]) == ds.cash.available[cid]["usd"]
        paths = [e.path for e in box.requests]
        assert sum("cash_balance_transactions" in p for p in paths) == 3  # 100 + 100 + 30


def test_funding_instructions_are_a_write_refused_in_live_mode(box) -> None:
    live = connect("sk_live_" + "C4shL0ad" * 3, api_base=box.url, rate_limit=1000, quiet=True)
    with pytest.raises(LiveModeRefused):
        toolkit.load_cash_balances(live, ["cus_x1"], funding_instructions=True, progress=False)


def test_funding_instructions_when_asked(session, box) -> None:
    migrated = box.store().cash.planted["migrated_clean"]
    frame = toolkit.load_cash_balances(session, migrated, funding_instructions=True, progress=False)
    assert frame["funding_account_number"].notna().all()
    assert set(frame["funding_routing_number"]) == {"110000000"}


def test_a_cancel_stops_the_read(session) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        toolkit.load_cash_balances(session, progress=False, cancel=stop)
