"""No silent wrong answers: an id of the wrong kind is refused before anything is sent, and an
id Stripe does not know warns (NotFoundWarning, naming it) instead of passing as "no rows"."""

from __future__ import annotations

import warnings

import pytest

import toolkit
from toolkit.errors import InvalidInputError
from toolkit.sandbox import Sandbox
from toolkit.session import Session


def test_an_unknown_customer_warns_and_names_itself(session: Session) -> None:
    with pytest.warns(toolkit.NotFoundWarning, match="cus_typo123") as caught:
        df = toolkit.load_sources(session, customers=["cus_typo123"], progress=False)
    assert len(df) == 0
    load_info = toolkit.LoadInfo.from_attrs(df)
    assert load_info is not None and load_info.missing_customers == ["cus_typo123"]
    assert caught[0].filename == __file__  # it points at the caller's line


def test_unknown_source_ids_warn_for_sources_and_transactions(session: Session) -> None:
    with pytest.warns(toolkit.NotFoundWarning, match="1 of the source ids"):
        toolkit.load_sources(session, ids=["src_1NoSuchSource0000"], progress=False)
    with pytest.warns(toolkit.NotFoundWarning, match="src_1NoSuchSource0000"):
        toolkit.load_source_transactions(session, ["src_1NoSuchSource0000"], progress=False)


def test_a_complete_load_does_not_warn(session: Session) -> None:
    known = toolkit.load_sources(session, progress=False)["customer"].dropna().iloc[:2].tolist()
    with warnings.catch_warnings():
        warnings.simplefilter("error", toolkit.NotFoundWarning)
        toolkit.load_sources(session, customers=known, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"customers": ["cust_abc"]}, "cust_abc"),
        ({"customers": ["src_1Ab"]}, "src_1Ab"),
        ({"ids": ["card_123"]}, "card_123"),
    ],
)
def test_an_id_of_the_wrong_kind_is_refused_before_any_request(
    sandbox: Sandbox, session: Session, kwargs: dict, bad: str
) -> None:
    before = len(sandbox.requests)
    with pytest.raises(InvalidInputError, match=f"'{bad}' is not an id of that kind"):
        toolkit.load_sources(session, progress=False, **kwargs)
    assert len(sandbox.requests) == before


def test_not_found_reaches_the_audit_cover_the_explorer_and_never_overwrites(
    session: Session, tmp_path
) -> None:
    import openpyxl

    from toolkit.widgets import AuditView, SourceExplorer

    with pytest.warns(toolkit.NotFoundWarning):
        df = toolkit.load_sources(session, customers=["cus_typo123"], progress=False)
    audit = toolkit.audit_receivers(df)
    assert any("cus_typo123" in note for note in audit.notes)
    cover = openpyxl.load_workbook(audit.to_excel(tmp_path / "a.xlsx"))["Cover"]
    assert any("cus_typo123" in str(c.value) for row in cover.iter_rows() for c in row)
    explorer = SourceExplorer(df)
    assert (
        "cus_typo123" in explorer.header.value and "Stripe does not know" in explorer.header.value
    )
    view = AuditView(audit, folder=tmp_path / "out")
    for _ in range(2):
        assert view.export_excel() and view.wait(30)
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert len(names) == 2 and names[0] != names[1]  # the second export did not replace the first
