"""load_sources(accounts=...): every connected account side by side, each under its own limits,
an account that refuses access reported and never fatal; transactions, audits and refresh follow
the account column."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import toolkit
from toolkit.fetch.loaded import LoadInfo
from toolkit.sandbox import Sandbox
from toolkit.session import connect

TEST_KEY = "sk_test_" + "T3st" * 6

REVOKED = "acct_1Revoked0000"


def _every_account(session) -> pd.DataFrame:
    """Every connected account's sources (the revoked one's warning is another test's)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", toolkit.AccountWarning)
        return toolkit.load_sources(session, accounts="all", progress=False)


@pytest.fixture
def platform():
    with Sandbox(seed=11, customers=60, revoked_accounts=[REVOKED]) as box:
        yield box, connect(TEST_KEY, api_base=box.url, rate_limit=1000, quiet=True)


def test_every_account_side_by_side_and_a_refused_one_reported(platform) -> None:
    box, session = platform
    with pytest.warns(toolkit.AccountWarning, match=REVOKED):
        df = toolkit.load_sources(session, accounts="all", progress=False)
    assert df.columns[:3].tolist() == ["id", "account", "customer"]
    assert set(df["account"]) == set(box.connected_accounts)
    for account in box.connected_accounts:  # each account's rows are that account's sources
        alone = toolkit.load_sources(session.for_account(account), progress=False)
        assert set(df.loc[df["account"] == account, "id"]) == set(alone["id"])
    info = LoadInfo.from_attrs(df)
    assert info is not None and info.refused_accounts is not None
    assert [r["account"] for r in info.refused_accounts] == [REVOKED]
    assert info.refused_accounts[0]["status"] == "403"
    assert info.accounts is not None
    assert set(info.accounts) == set(box.connected_accounts)
    assert info.requests == sum(i["requests"] for i in info.accounts.values())
    # each account was read with its own Stripe-Account, none with the platform's
    listed = {e.account for e in box.requests if e.path == "/v1/customers"}
    assert listed == set(box.connected_accounts) | {REVOKED}
    created = df["created"].tolist()
    assert created == sorted(created, reverse=True)


def test_a_list_of_accounts_and_its_mistakes(platform) -> None:
    box, session = platform
    one = sorted(box.connected_accounts)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = toolkit.load_sources(session, accounts=[one], progress=False)
    assert set(df["account"]) == {one}
    with pytest.raises(toolkit.InvalidInputError, match="acct_1A2b3C4d5E"):
        toolkit.load_sources(session, accounts=["cus_123"], progress=False)
    with pytest.raises(toolkit.InvalidInputError, match="'all'"):
        toolkit.load_sources(session, accounts="every", progress=False)


def test_each_account_gets_its_own_limiter(platform) -> None:
    _, session = platform
    a, b = session.for_account("acct_1Aaaaaaaaaa"), session.for_account("acct_1Bbbbbbbbbb")
    assert a.limiter is not b.limiter and a.limiter is not session.limiter
    assert a.limiter.limits == session.limiter.limits and a.limiter.budget == session.limiter.budget
    assert a.stripe_account == "acct_1Aaaaaaaaaa" and session.stripe_account is None


def test_progress_per_account(platform) -> None:
    box, session = platform
    seen: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", toolkit.AccountWarning)
        toolkit.load_sources(
            session, accounts="all", progress=lambda d, t, label: seen.append(label)
        )
    for account in box.connected_accounts:
        assert any(label.startswith(account) for label in seen), account


@pytest.mark.slow
def test_transactions_audit_and_refresh_across_accounts(platform, tmp_path) -> None:
    box, session = platform
    df = _every_account(session)
    txns = toolkit.load_source_transactions(session, df, progress=False)
    assert len(txns) and set(txns["account"]) <= set(box.connected_accounts)
    load_info = LoadInfo.from_attrs(txns)
    assert load_info is not None and not load_info.missing_ids  # each read on its own account
    audit = toolkit.audit_receivers(df, txns)
    by_account = audit.by_account
    assert set(by_account["account"]) == set(df.loc[df["flow"] == "receiver", "account"])
    for currency, rows in by_account.groupby("currency"):
        total = audit.by_currency.set_index("currency").at[currency, "unapplied"]
        assert rows["unapplied"].sum() == total  # the accounts add up to the whole
    assert "by_account" in audit.tables()
    assert audit.to_excel(tmp_path / "audit.xlsx").exists()
    # a change on one account is seen by a refresh of the whole frame
    account = sorted(box.connected_accounts)[1]
    sid = str(df.loc[df["account"] == account, "id"].iloc[0])
    session.client.v1.sources.update(
        sid, {"metadata": {"z": "1"}}, options={"stripe_account": account}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", toolkit.AccountWarning)
        new = toolkit.refresh(df, session, progress=False)
    full = _every_account(session)
    assert new.attrs["refresh"]["changed"] == [sid]
    assert list(new.columns) == list(full.columns)
    cols = ["id", "account", "status", "customer"]
    pd.testing.assert_frame_equal(
        new[cols].sort_values("id").reset_index(drop=True),
        full[cols].sort_values("id").reset_index(drop=True),
    )


def test_the_retirement_audit_across_accounts(platform, tmp_path) -> None:
    box, session = platform
    df = _every_account(session)
    cash = toolkit.load_cash_balances(session, df, progress=False)
    assert set(cash["account"]) == set(box.connected_accounts)
    load_info = LoadInfo.from_attrs(cash)
    assert load_info is not None and not load_info.missing_customers  # each read on its own account
    moves = toolkit.load_cash_balance_transactions(session, cash, progress=False)
    assert len(moves) and set(moves["account"]) <= set(box.connected_accounts)
    migration = toolkit.audit_migration(df, cash, moves)
    rolled = migration.by_account.groupby("currency")[["customers", "cash_available"]].sum()
    whole = migration.by_currency.set_index("currency")[["customers", "cash_available"]]
    pd.testing.assert_frame_equal(rolled.sort_index(), whole.sort_index(), check_dtype=False)
    assert migration.customers["account"].notna().all()
    assert "by_account" in migration.tables()
    assert migration.to_excel(tmp_path / "retirement.xlsx").exists()


def test_newest_first_orders_as_sort_values_did() -> None:
    """The merge of the accounts' frames: created then id, both descending, missing last, as
    ``sort_values(["created", "id"], ascending=False)`` (which it replaced: slower) did."""
    from toolkit.fetch.accounts import newest_first

    created = pd.to_datetime([3, 1, None, 3, 2, 1, None], unit="s", utc=True)
    frame = pd.DataFrame(
        {
            "id": pd.array(list("baxcdew"), dtype="string"),
            "created": created,
            "raw": [{"n": i} for i in range(7)],
        }
    )
    expected = frame.sort_values(["created", "id"], ascending=False, kind="stable")
    pd.testing.assert_frame_equal(newest_first(frame), expected.reset_index(drop=True))


def test_the_merge_takes_every_column_as_pandas_would() -> None:
    """``taken`` (Arrow takes the text columns into the system allocator's memory) gives the
    frame, dtypes, missing values and attrs ``DataFrame.take`` gives, from chunked columns too."""
    import pyarrow as pa

    from toolkit.fetch.accounts import taken

    def part(ids: str, start: int) -> pd.DataFrame:
        n = len(ids)
        return pd.DataFrame(
            {
                "id": pd.array(list(ids), dtype="string"),
                "status": pd.Categorical(["a", "b"] * (n // 2) + ["a"] * (n % 2)),
                "amount": pd.array([start + i if i % 2 else None for i in range(n)], dtype="Int64"),
                "name": pd.array([None if i == 1 else f"n{i}" for i in range(n)], dtype="string"),
                "live": pd.array([True, None, False][:n], dtype="boolean"),
                "raw": [{"n": start + i} for i in range(n)],
            }
        )

    frame = pd.concat([part("abc", 0), part("de", 10)], ignore_index=True)  # two chunks each
    frame.attrs = {"toolkit": {"mode": "test"}}
    order = pa.array([4, 0, 3, 2, 1])
    out = taken(frame, order)
    pd.testing.assert_frame_equal(out, frame.take([4, 0, 3, 2, 1]).reset_index(drop=True))
    assert out.attrs == frame.attrs


def test_each_account_makes_its_metadata_columns_and_the_merge_joins_them(platform) -> None:
    """The accounts' own ``metadata.<key>`` columns, joined, are the columns the whole frame's
    metadata dicts make: every key, sorted, before ``raw``, text, missing where an account's
    rows lack the key (one source of one account is given a key of its own)."""
    from toolkit.fetch.frame import with_metadata_columns

    box, session = platform
    account = sorted(box.connected_accounts)[0]
    sid = str(_every_account(session).query("account == @account")["id"].iloc[0])
    session.client.v1.sources.update(
        sid, {"metadata": {"only_here": "yes"}}, options={"stripe_account": account}
    )
    df = _every_account(session)
    assert df.loc[df["id"] == sid, "metadata.only_here"].tolist() == ["yes"]
    assert df["metadata.only_here"].isna().sum() == len(df) - 1
    pd.testing.assert_frame_equal(df, with_metadata_columns(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", toolkit.AccountWarning)
        plain = toolkit.load_sources(
            session, accounts="all", progress=False, metadata_columns=False
        )
    assert not [c for c in plain.columns if c.startswith("metadata.")]
