"""Plans that attach sources to customers or detach them (detaching cannot be undone).

>>> plan = toolkit.plan_attach([("src_1abc", "cus_1abc"), ("src_2abc", "cust_9")])
>>> list(plan.df["status"])
['ready', 'invalid']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from toolkit.changes.attachment import ATTACHABLE_STATUSES, detach_refusal
from toolkit.changes.kinds import KINDS
from toolkit.changes.plan import Plan, make_plan
from toolkit.changes.rows import CUSTOMER_ID, PlanRow, duplicates, id_problem, refusal
from toolkit.changes.sources import (
    SourceState,
    rows_per_source,
    source_states,
    state_invalid,
    state_row,
)
from toolkit.errors import InvalidInputError

__all__ = ["plan_attach", "plan_detach"]


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
    pair_list = _pairs(pairs)
    known: dict[str, SourceState] | None = None
    if sources is not None:
        known = {s.id: s for s in source_states(sources) if isinstance(s.id, str)}
    repeats = duplicates([p[0] for p in pair_list])
    action = KINDS["attach"].action
    rows = []
    for index, (source_id, customer) in enumerate(pair_list):
        number = index + 1
        state = SourceState(id=source_id)
        customer_text = customer.strip() if isinstance(customer, str) else customer
        problem = refusal(source_id, index, repeats, customer_text)
        if problem:
            rows.append(state_invalid(number, state, action, problem))
            continue
        params = {"source": source_id}
        after_customer = customer_text
        if known is not None:
            if source_id not in known:
                reason = f"unknown id: {source_id} is not in the sources given"
                rows.append(state_invalid(number, state, action, reason))
                continue
            state = known[source_id]
        if not state.known:
            rows.append(
                state_row(
                    number,
                    state,
                    action,
                    params,
                    None,
                    {"customer": after_customer},
                    "ready",
                    "",
                    f"attach to {after_customer} (current state unknown)",
                    customer=after_customer,
                )
            )
            continue
        before = {"customer": state.customer, "status": state.status}
        after = {"customer": after_customer, "status": state.status}
        if state.customer == after_customer:
            rows.append(
                state_row(
                    number,
                    state,
                    action,
                    {},
                    before,
                    after,
                    "noop",
                    f"already attached to {after_customer}",
                    "no change",
                    customer=after_customer,
                )
            )
        elif state.status not in ATTACHABLE_STATUSES:
            reason = f"status is {state.status}: Stripe attaches only chargeable or pending sources"
            rows.append(state_row(number, state, action, {}, before, after, "invalid", reason, ""))
            rows[-1]["customer"] = after_customer
        elif state.customer:
            reason = (
                f"already attached to {state.customer}: a source belongs to one customer "
                "(detaching it would consume it)"
            )
            rows.append(state_row(number, state, action, {}, before, after, "invalid", reason, ""))
            rows[-1]["customer"] = after_customer
        else:
            rows.append(
                state_row(
                    number,
                    state,
                    action,
                    params,
                    before,
                    after,
                    "ready",
                    "",
                    f"attach to {after_customer}",
                    customer=after_customer,
                )
            )
    return make_plan("attach", rows)


def _detach_row(number: int, state: SourceState) -> PlanRow:
    """The plan row of one source for a detach (refused unless attached and not consumed)."""
    action = KINDS["detach"].action
    if not state.known:
        unknown = (
            "customer unknown: pass the frame from load_sources (with the customer column), "
            "not bare ids"
        )
        return state_invalid(number, state, action, unknown)
    before = {"customer": state.customer, "status": state.status}
    after = {"customer": None, "status": "consumed"}
    reason = detach_refusal(state.customer, state.status, state.unapplied) or id_problem(
        state.customer, CUSTOMER_ID, "customer", "cus_1AbC..."
    )
    if reason:
        return state_row(number, state, action, {}, before, before, "invalid", reason, "")
    change = f"detach from {state.customer} → consumed (cannot be undone)"
    return state_row(
        number, state, action, {"customer": state.customer}, before, after, "ready", "", change
    )


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
    rows = rows_per_source(sources, KINDS["detach"].action, _detach_row)
    return make_plan("detach", rows, sources=sources)
