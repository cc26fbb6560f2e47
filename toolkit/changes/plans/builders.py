"""The plan builders: each turns its arguments into what it asks of every source, and the kind
of change makes each source's row (:meth:`~toolkit.changes.kinds.base.ChangeKind.plan_row`, with
the rules its builder checks).

- the same change on every source: :func:`plan_metadata`, :func:`plan_owner`, :func:`plan_amount`,
  :func:`plan_mandate`, :func:`plan_source_order`, :func:`plan_detach` (one request for all:
  :func:`plan_each`);
- one row per source of an analyst's table: :func:`plan_metadata_from_table`,
  :func:`plan_amount_from_table`, :func:`plan_mandate_from_table`,
  :func:`plan_source_order_from_table`, and :func:`plan_update` for any mix of them in one table
  (any kind that reads tables: :func:`plan_table`);
- pairs of source and customer: :func:`plan_attach`;
- what ``python -m toolkit plan <kind>`` makes from its input file: :func:`plan_from_input`.

**Sources** may be the DataFrame from ``load_sources`` (columns ``id, customer, status, metadata,
owner_*``), a list of source dicts (as Stripe returns them), or a list of ids. With ids alone the
current state is unknown: the plan cannot show a diff or spot no-ops, and apply checks each row
against the live state just before writing.

>>> plan = toolkit.plan_owner(["src_1abc"], email="billing@example.com", address_country="us")
>>> plan.df.loc[0, "params"]
{'owner': {'email': 'billing@example.com', 'address': {'country': 'US'}}}
>>> toolkit.plan_owner(["src_1abc"], phone=None).df.loc[0, "status"]
'invalid'
>>> plan = toolkit.plan_attach([("src_1abc", "cus_1abc"), ("src_2abc", "cust_9")])
>>> list(plan.df["status"])
['ready', 'invalid']
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from toolkit.changes.kinds import KINDS, kind_of
from toolkit.changes.kinds.amount import amount_request
from toolkit.changes.kinds.base import ChangeKind, SourceState
from toolkit.changes.kinds.mandate import mandate_request
from toolkit.changes.kinds.metadata import metadata_request
from toolkit.changes.kinds.owner import owner_request
from toolkit.changes.kinds.source_order import order_request
from toolkit.changes.plans.plan import Plan, make_plan
from toolkit.changes.plans.sources import rows_per_source, source_states, whole_id
from toolkit.changes.plans.table import id_column, read_table
from toolkit.changes.rows import SOURCE_ID, duplicates, id_problem, refusal
from toolkit.changes.text import blank
from toolkit.errors import InvalidInputError

__all__ = [
    "plan_amount",
    "plan_amount_from_table",
    "plan_attach",
    "plan_detach",
    "plan_each",
    "plan_from_input",
    "plan_mandate",
    "plan_mandate_from_table",
    "plan_metadata",
    "plan_metadata_from_table",
    "plan_owner",
    "plan_source_order",
    "plan_source_order_from_table",
    "plan_table",
    "plan_update",
]


def plan_each(kind: ChangeKind, sources: Any, request: Any, notes: list[str] | None = None) -> Plan:
    """A plan of ``kind`` asking the same ``request`` of every source (refusing malformed and
    repeated ids), with the plan's ``notes``; it remembers the load of a sources frame."""
    rows = rows_per_source(
        sources, kind, lambda number, state: kind.plan_row(number, state, request)
    )
    return make_plan(kind.name, rows, notes, sources)


def plan_metadata(
    sources: Any,
    set: Mapping[str, Any] | None = None,
    unset: Iterable[str] | str | None = None,
    *,
    clear: bool = False,
) -> Plan:
    """Plan the same metadata change on every source: set keys, unset keys, or clear all.

    ``plan_metadata(df, set={"tier": "gold", "score": 5}, unset=["legacy"])``
    ``plan_metadata(df, clear=True)``  (remove every key; with ``set=`` only those keys remain)

    Numbers and booleans in ``set`` become text (``5`` -> ``"5"``, ``True`` -> ``"true"``) and
    the plan notes it; a value of None or ``""`` unsets the key (NaN is refused: it is usually an
    empty cell by mistake). Keys Stripe would refuse, values that are not text/number/boolean or
    not valid Unicode, and a key both set and unset raise
    :class:`~toolkit.errors.InvalidInputError`. Per source: more than 50 keys after the change,
    a malformed id or a repeated id make that row invalid; the other rows stay ready.

    >>> plan = toolkit.plan_metadata(["src_1abc"], set={"tier": "gold", "score": 5}, unset=["legacy"])
    >>> plan.df.loc[0, "params"]
    {'metadata': {'legacy': '', 'tier': 'gold', 'score': '5'}}
    >>> plan.notes
    ['score: converted int 5 to text']
    """
    request, notes = metadata_request(set, unset, clear)
    return plan_each(KINDS["metadata"], sources, request, notes)


def _cell_is_empty(value: Any) -> bool:
    if blank(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def plan_table(kind: ChangeKind, table: Any, sources: Any = None) -> Plan:
    """A plan of ``kind`` with one row per row of an analyst's table (a DataFrame, CSV/Excel
    path, CSV bytes): an ``id`` column (or ``source``/``source_id``), and the columns the kind
    reads (:meth:`~toolkit.changes.kinds.base.ChangeKind.table_columns`). An empty cell (or one
    holding only spaces) asks nothing; a row whose cells ask nothing is a no-op.

    With ``sources`` (the frame from ``load_sources``), ids not in it are refused as unknown and
    the plan shows before/after; without it, apply checks each row against the live state.
    Ids that appear more than once are refused on every row they appear.
    """
    frame = read_table(table)
    ids_at = id_column(frame)
    fields, notes = kind.table_columns([c for c in frame.columns if c != ids_at])

    known: dict[str, SourceState] | None = None
    if sources is not None:
        known = {}
        for state in source_states(sources, kind):
            if isinstance(state.id, str):
                known.setdefault(state.id, state)

    ids = [whole_id(v.strip()) if isinstance(v, str) else v for v in frame[ids_at]]
    counts = Counter(v for v in ids if not blank(v))
    positions: dict[Any, list[int]] = {}
    for index, value in enumerate(ids):
        positions.setdefault(value, []).append(index + 1)

    rows = []
    converted = 0
    for index, record in enumerate(frame.to_dict("records")):
        number = index + 1
        source_id = ids[index]
        state = SourceState(id=source_id)
        problem = id_problem(source_id, SOURCE_ID, "source", "src_1AbC...")
        if problem:
            rows.append(kind.refused(number, state, problem))
            continue
        if counts[source_id] > 1:
            where = ", ".join(str(p) for p in positions[source_id])
            rows.append(
                kind.refused(number, state, f"duplicate id: {source_id} is in rows {where}")
            )
            continue
        if known is not None:
            if source_id not in known:
                reason = f"unknown id: {source_id} is not in the sources given"
                rows.append(kind.refused(number, state, reason))
                continue
            state = known[source_id]
        cells = {c: record[c] for c in fields if not _cell_is_empty(record[c])}
        asked = kind.table_request(cells, fields)
        if asked.problems:
            rows.append(kind.refused(number, state, "; ".join(asked.problems)))
            continue
        if asked.request is None:
            before = state.before
            rows.append(
                kind.row(number, state, {}, before, before, "noop", "empty row", "no change")
            )
            continue
        converted += len(asked.notes)
        rows.append(kind.plan_row(number, state, asked.request))
    if converted:
        notes.append(f"{converted} cells were numbers or booleans, converted to text (see change)")
    return make_plan(kind.name, rows, notes, sources)


def plan_metadata_from_table(table: Any, sources: Any = None) -> Plan:
    """Plan per-source metadata from an analyst's table (a DataFrame, CSV/Excel path, CSV bytes).

    ``plan_metadata_from_table("segments.csv", sources=df)``

    The table has an ``id`` column (or ``source``/``source_id``) and one column per key; if any
    column is named ``metadata.<key>`` only those columns are read (so an edited export of the
    sources frame works) and the rest are ignored. Per cell: **empty = leave the key unchanged**,
    ``<unset>`` = remove the key, anything else = the new value (CSV cells are read as text exactly
    as written; numbers/booleans in a DataFrame are converted and the plan says so).

    With ``sources`` (the frame from ``load_sources``), ids not in it are refused as unknown and
    the plan shows before/after; without it, apply checks each row against the live state.
    Ids that appear more than once are refused on every row they appear.

    >>> table = pd.DataFrame({"id": ["src_1abc"], "tier": ["gold"], "legacy": ["<unset>"]})
    >>> toolkit.plan_metadata_from_table(table).df.loc[0, "params"]
    {'metadata': {'legacy': '', 'tier': 'gold'}}
    """
    return plan_table(KINDS["metadata"], table, sources)


def plan_owner(sources: Any, **fields: Any) -> Plan:
    """Plan the same owner change on every source: email, name, phone and address fields.

    ``plan_owner(df, email="billing@example.com", address_country="US")``
    ``plan_owner(df, address={"city": "Berlin", "line2": None})``

    Field names: ``email, name, phone, address_line1, address_line2, address_city, address_state,
    address_postal_code, address_country`` (or ``address={...}``). Numbers are converted to text
    (noted); other types and unknown fields raise :class:`~toolkit.errors.InvalidInputError`.

    None or ``""`` would clear a field, which Stripe refuses for owner fields: a source where that
    field has a value gets an ``invalid`` row saying so (nothing is sent), one where it is already
    empty a ``noop``.

    Stripe replaces the owner's address whole on an update (a field not sent becomes null), so a
    change to any address field sends the whole address, and the plan shows the address as one
    value, before and after. apply builds it again from the state read just before the write,
    with the change applied (for sources given as bare ids, whose address is unknown when
    planning, too).

    >>> toolkit.plan_owner(["src_1abc"], email="billing@example.com").counts["ready"]
    1
    """
    request = owner_request(fields)
    return plan_each(KINDS["owner"], sources, request, request.notes)


def plan_amount(sources: Any, amount: Any = None, *, amount_major: Any = None) -> Plan:
    """Plan the same amount on every source: ``amount`` in minor units (``1250`` is 12.50 EUR),
    or ``amount_major`` (``"12.50"``) converted with each source's currency (which needs the
    sources frame). Undone by sending the amount from before.

    Refused rows: receivers (their amount is set by the money that lands), sources consumed,
    canceled or failed (a choice where Stripe is silent: they can no longer be charged), an
    amount below 1 or with more decimals than the currency has.

    >>> toolkit.plan_amount(["src_1abc"], 1250).df.loc[0, "params"]
    {'amount': 1250}
    """
    request = amount_request(amount, amount_major)
    return plan_each(KINDS["amount"], sources, request)


def plan_amount_from_table(table: Any, sources: Any = None) -> Plan:
    """Plan per-source amounts from a table: an id column and ``amount`` (minor units) or
    ``amount_major``; an empty cell leaves the amount alone.

    >>> table = pd.DataFrame({"id": ["src_1abc"], "amount": ["990"]})
    >>> toolkit.plan_amount_from_table(table).df.loc[0, "params"]
    {'amount': 990}
    """
    return plan_table(KINDS["amount"], table, sources)


def plan_mandate(sources: Any, mandate: Mapping[str, Any]) -> Plan:
    """Plan recording the same mandate on every debit source. **Cannot be undone**: a mandate
    acceptance cannot be taken back (``plan.irreversible`` is True; the CLI asks for
    ``--confirm N``).

    ``mandate`` is a nested hash or flat dotted fields: ``acceptance.status`` (required: accepted,
    pending, refused, revoked), ``acceptance.date`` (a Unix time or ``2026-12-01``, required when
    accepted or refused), ``acceptance.type`` (offline needs ``acceptance.offline.contact_email``,
    at most 800 characters; online needs ``acceptance.online.date``, ``.ip``, ``.user_agent``),
    ``acceptance.ip``, ``acceptance.user_agent``, ``amount``, ``currency`` (the source's),
    ``interval``, ``notification_method``. It is sent whole. Rows for sources that take no
    mandate (not a debit source, or consumed, canceled, failed) or whose currency differs are
    refused.

    >>> plan = toolkit.plan_mandate(["src_1abc"], {"acceptance.status": "accepted",
    ...     "acceptance.date": 1796083200, "acceptance.type": "offline",
    ...     "acceptance.offline.contact_email": "ops@example.com"})
    >>> plan.irreversible, plan.df.loc[0, "params"]["mandate"]["acceptance"]["type"]
    (True, 'offline')
    """
    return plan_each(KINDS["mandate"], sources, mandate_request(mandate))


def plan_mandate_from_table(table: Any, sources: Any = None) -> Plan:
    """Plan per-source mandates from a table: an id column and ``mandate.<field>`` columns
    (``mandate.acceptance.status``, ``mandate.acceptance.date``, ...). An unknown column is
    refused with the list of known ones; an empty cell sends nothing for that field.
    **Cannot be undone.**

    >>> table = pd.DataFrame({"id": ["src_1abc"], "mandate.acceptance.status": ["pending"]})
    >>> toolkit.plan_mandate_from_table(table).df.loc[0, "params"]
    {'mandate': {'acceptance': {'status': 'pending'}}}
    """
    return plan_table(KINDS["mandate"], table, sources)


def plan_source_order(sources: Any, source_order: Mapping[str, Any]) -> Plan:
    """Plan the same change to the order of order-bearing (Klarna) sources: flat or nested
    shipping fields (``shipping.carrier``, ``shipping.address.city``, ...) and ``items`` (the whole
    list). The whole order is sent: the source's order with the change applied, as read when
    planning (source dicts) or just before the write. Undone by sending the previous order.

    >>> plan = toolkit.plan_source_order(["src_1abc"], {"shipping.carrier": "DHL"})
    >>> plan.df.loc[0, "params"]
    {'source_order': {'shipping': {'carrier': 'DHL'}}}
    """
    return plan_each(KINDS["source_order"], sources, order_request(source_order))


def plan_source_order_from_table(table: Any, sources: Any = None) -> Plan:
    """Plan per-source order changes from a table: an id column and ``source_order.<field>``
    columns (``source_order.shipping.tracking_number``, ``source_order.items`` as JSON...).

    >>> table = pd.DataFrame({"id": ["src_1abc"], "source_order.shipping.carrier": ["UPS"]})
    >>> toolkit.plan_source_order_from_table(table).df.loc[0, "params"]
    {'source_order': {'shipping': {'carrier': 'UPS'}}}
    """
    return plan_table(KINDS["source_order"], table, sources)


def plan_update(table: Any, sources: Any = None) -> Plan:
    """Plan any mix of changes from one table: one row per source, one request per row.

    ``plan_update("changes.csv", sources=df)``

    The table has an id column and one column per field in dotted form: ``amount`` (minor
    units) or ``amount_major`` (converted with the row's currency), ``owner.email``,
    ``owner.address.city``, ``metadata.<key>``, ``mandate.acceptance.status``,
    ``mandate.notification_method``, ``source_order.shipping.carrier``... Each plan row shows
    every field it changes. An unknown column is refused, and the error lists the columns it
    knows. An empty cell leaves its field alone; ``<unset>`` is taken only where Stripe takes an
    unset (a metadata key, ``mandate.amount`` for a mandate of any amount). Each part keeps its
    kind's rules (an owner address and an order are sent whole). A plan with a mandate cannot be
    undone as a whole (``plan.irreversible``): undo restores the other fields and says so.

    >>> table = pd.DataFrame({"id": ["src_1abc"], "amount": ["990"], "metadata.team": ["ar"]})
    >>> toolkit.plan_update(table).df.loc[0, "params"]
    {'metadata': {'team': 'ar'}, 'amount': 990}
    """
    return plan_table(KINDS["update"], table, sources)


def _pairs(pairs: Any) -> list[tuple[Any, Any]]:
    if pairs is None or isinstance(pairs, str | bytes) or not isinstance(pairs, Iterable):
        raise InvalidInputError(
            "plan_attach needs pairs of (source id, customer id): a list like "
            "[('src_1...', 'cus_9...')], a dict {'src_1...': 'cus_9...'} or a DataFrame with "
            f"'source' and 'customer' columns, not {type(pairs).__name__}."
        )
    if isinstance(pairs, pd.DataFrame):
        src = next((c for c in ("source", "id", "source_id") if c in pairs.columns), None)
        if src is None or "customer" not in pairs.columns:
            raise InvalidInputError(
                "The pairs frame needs a 'source' (or 'id') column and a 'customer' column."
            )
        return list(zip(pairs[src], pairs["customer"], strict=True))
    if isinstance(pairs, Mapping):
        return list(pairs.items())
    out = []
    for item in pairs:
        if isinstance(item, Mapping):
            out.append((item.get("source", item.get("id")), item.get("customer")))
        elif isinstance(item, list | tuple) and len(item) == 2:
            out.append((item[0], item[1]))
        else:
            raise InvalidInputError(
                f"Each pair must be (source_id, customer_id), got {item!r}: "
                "e.g. plan_attach([('src_1...', 'cus_1...')])."
            )
    return out


def plan_attach(pairs: Any, sources: Any = None) -> Plan:
    """Plan attaching sources to customers.

    ``plan_attach([("src_1...", "cus_9...")], sources=df)`` or ``plan_attach({"src_1": "cus_9"})``
    or a DataFrame with ``source`` and ``customer`` columns.

    Refused rows: malformed ids, repeated sources, sources not in ``sources`` (when given), status
    other than chargeable or pending, already attached to another customer. Already attached to
    that customer is a no-op.

    >>> toolkit.plan_attach({"src_1abc": "cus_1abc"}).df.loc[0, "change"]
    'attach to cus_1abc (current state unknown)'
    """
    kind = KINDS["attach"]
    pair_list = _pairs(pairs)
    known: dict[str, SourceState] | None = None
    if sources is not None:
        known = {s.id: s for s in source_states(sources, kind) if isinstance(s.id, str)}
    repeats = duplicates([p[0] for p in pair_list])
    rows = []
    for index, (source_id, customer) in enumerate(pair_list):
        number = index + 1
        state = SourceState(id=source_id)
        customer_text = customer.strip() if isinstance(customer, str) else customer
        problem = refusal(source_id, index, repeats, customer_text)
        if problem:
            rows.append(kind.refused(number, state, problem))
            continue
        if known is not None:
            if source_id not in known:
                reason = f"unknown id: {source_id} is not in the sources given"
                rows.append(kind.refused(number, state, reason))
                continue
            state = known[source_id]
        rows.append(kind.plan_row(number, state, customer_text))
    return make_plan(kind.name, rows)


def plan_detach(sources: Any) -> Plan:
    """Plan detaching sources from their customers. **Cannot be undone.**

    ``plan = plan_detach(df[df.status == "chargeable"])``; ``plan.irreversible`` is True.

    Needs the customer of each source: pass the frame from ``load_sources`` (or source dicts).
    Rows not attached to a customer, already consumed, receivers still holding customer money
    (refund it first), repeated or with malformed ids are refused with a reason.

    >>> cards = sources[(sources["type"] == "card") & (sources["status"] == "chargeable")]
    >>> attached = cards[cards["customer"].notna()]
    >>> plan = toolkit.plan_detach(attached.head(2))
    >>> plan.irreversible, plan.counts["ready"]
    (True, 2)
    """
    return plan_each(KINDS["detach"], sources, None)


def plan_from_input(kind: str, path: str | os.PathLike[str], sources: Any) -> Plan:
    """The plan ``python -m toolkit plan <kind>`` makes from its input file (what the kind's
    :attr:`~toolkit.changes.kinds.base.ChangeKind.plan_input` says it reads) and the sources
    that file names, as load_sources read them."""
    change = kind_of(kind)
    if change.plan_input == "table":
        return plan_table(change, path, sources)
    if change.plan_input == "ids":
        return plan_each(change, sources, None)
    raise InvalidInputError(f"There is no command-line plan for {kind} changes.")
