"""Metadata and owner changes: a row writes some fields of a source, and can be undone exactly.

>>> MetadataChange().inverse({"params": {"metadata": {"a": "2"}}}, {"a": "1"}, {"a": "2"})["params"]
{'metadata': {'a': '1'}}
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from toolkit.changes.kind_base import ChangeKind, Reread, Written, show
from toolkit.changes.rows import PlanRow
from toolkit.changes.rules import (
    ADDRESS_FIELDS,
    address_text,
    flatten_owner_params,
    merge_metadata,
    metadata_params_problems,
    metadata_problems,
    owner_from_stripe,
    owner_params,
    owner_params_problems,
    whole_address,
)
from toolkit.session import Session

__all__ = ["MetadataChange", "OwnerChange"]


class _FieldsChange(ChangeKind):
    """Metadata and owner: a row writes some fields (``touched``) and can be undone exactly."""

    def touched(self, params: Mapping[str, Any]) -> dict[str, str | None] | None:
        """Field -> value the row writes (None = removed); None for "all of them" (a clear)."""
        raise NotImplementedError

    def is_done(self, row: PlanRow, current: Any) -> bool:
        changes = self.touched(row["params"])
        if changes is None:
            return current == {}
        return all(current.get(k) == v for k, v in changes.items())

    def drift(self, row: PlanRow, current: Any) -> str | None:
        before = row["before"]
        if before is None:
            return None
        changes = self.touched(row["params"])
        names = sorted(set(before) | set(current)) if changes is None else list(changes)
        diffs = [
            f"{name} is {show(current.get(name))}, plan expected {show(before.get(name))}"
            for name in names
            if current.get(name) != before.get(name)
        ]
        return "; ".join(diffs) or None

    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        return {**(before or {}), **(self.touched(params) or {})}

    def write(
        self,
        session: Session,
        row: PlanRow,
        key: str,
        cancel: threading.Event,
        reread: Reread,
    ) -> Written:
        answer = session.update_source(
            str(row["source"]), dict(row["params"]), idempotency_key=key, cancel=cancel
        )
        return Written(self.state_of(answer.body), answer.request_id, "", answer.replayed)


class MetadataChange(_FieldsChange):
    """Set, unset or clear metadata keys."""

    name = "metadata"
    action = "update_metadata"

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, str]:
        return {str(k): str(v) for k, v in (obj.get("metadata") or {}).items()}

    def touched(self, params: Mapping[str, Any]) -> dict[str, str | None] | None:
        meta = params.get("metadata")
        if meta == "":
            return None
        return {k: (v if v != "" else None) for k, v in (meta or {}).items()}

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """The keys and values sent, then the metadata they leave (Stripe's limits)."""
        metadata = row["params"]["metadata"]
        problems = metadata_params_problems(metadata)
        problems += metadata_problems(merge_metadata(current, metadata))
        return "; ".join(dict.fromkeys(problems)) or None

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if (
            isinstance(params, Mapping)
            and set(params) == {"metadata"}
            and (params["metadata"] == "" or isinstance(params["metadata"], Mapping))
        ):
            return None
        return "a metadata row sends only metadata"

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        meta, before = row["params"].get("metadata"), row["before"]
        if meta == "":
            return [("clear all", "metadata")]
        ops = []
        for key, value in meta.items():
            if value == "":
                ops.append(("remove", key))
            elif before is None:
                ops.append(("set", key))
            else:
                ops.append(("change" if key in before else "add", key))
        return ops

    def expected_after(self, before: Any, params: dict[str, Any]) -> Any:
        return merge_metadata(before or {}, params.get("metadata", {}))

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        changes = self.touched(row["params"])
        names = sorted(set(before) | set(after)) if changes is None else list(changes)
        params = {n: before.get(n, "") for n in names if before.get(n) != after.get(n)}
        if not params:
            return None
        change = "; ".join(
            f"restore {n}={before[n]!r}" if n in before else f"unset {n}" for n in params
        )
        return {
            **row,
            "params": {"metadata": params},
            "before": after,
            "after": merge_metadata(after, params),
            "status": "ready",
            "reason": "",
            "change": change,
        }


class OwnerChange(_FieldsChange):
    """Change owner email, name, phone or address fields.

    Stripe replaces the owner's address whole on an update (a field not sent becomes null), so
    a row that changes any address field sends the whole address: the state read just before
    the write with the row's change applied (:meth:`to_send`). Done, drift and undo look at the
    whole address too.
    """

    name = "owner"
    action = "update_owner"

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, str | None]:
        return owner_from_stripe(obj.get("owner"))

    def touched(self, params: Mapping[str, Any]) -> dict[str, str | None]:
        """The fields sending ``params`` leaves: with an address, all of its fields (those not
        sent become null)."""
        owner = params.get("owner", {})
        flat = flatten_owner_params(owner)
        out = {k: (v if v != "" else None) for k, v in flat.items() if k not in ADDRESS_FIELDS}
        if "address" in owner:
            out.update({name: flat.get(name) or None for name in ADDRESS_FIELDS})
        return out

    def changes(self, row: PlanRow) -> dict[str, str | None]:
        """The fields a row changes: those it asks for when planned from bare ids (its before
        unknown), else those whose value its params change."""
        if row["before"] is None:
            flat = flatten_owner_params(row["params"].get("owner", {}))
            return {k: (v if v != "" else None) for k, v in flat.items()}
        return {k: v for k, v in self.touched(row["params"]).items() if row["before"].get(k) != v}

    def is_done(self, row: PlanRow, current: Any) -> bool:
        if row["before"] is None:  # only the fields asked for are known
            return all(current.get(k) == v for k, v in self.changes(row).items())
        return super().is_done(row, current)

    def to_send(self, row: PlanRow, current: Any) -> PlanRow:
        """A row that changes the address sends it whole: ``current`` with the change applied."""
        owner = row["params"].get("owner") or {}
        if "address" not in owner or not isinstance(current, Mapping):
            return row
        target = {**current, **self.changes(row)}
        rest = {k: v for k, v in owner.items() if k != "address"}
        params = {"owner": {**rest, "address": whole_address(target)}}
        return {**row, "params": params, "before": dict(current)}

    def params_problem(self, row: Mapping[str, Any]) -> str | None:
        params = row.get("params")
        if not (
            isinstance(params, Mapping)
            and set(params) == {"owner"}
            and isinstance(params["owner"], Mapping)
        ):
            return "an owner row sends only owner"
        empty = [k for k, v in flatten_owner_params(params["owner"]).items() if v in ("", None)]
        if empty:
            return f"Stripe cannot clear owner fields (owner.{', owner.'.join(sorted(empty))})"
        return None

    def precheck(self, row: PlanRow, current: Any) -> str | None:
        """The rules plan_owner checks: known fields, text Stripe takes, an email's shape, a
        two-letter country."""
        return "; ".join(owner_params_problems(row["params"]["owner"])) or None

    def operations(self, row: Mapping[str, Any]) -> list[tuple[str, str]]:
        owner = row["params"].get("owner", {})
        ops = [("set", f"owner.{name}") for name in owner if name != "address"]
        return ops + ([("set", "owner.address")] if "address" in owner else [])

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        names = [n for n in self.touched(row["params"]) if before.get(n) != after.get(n)]
        if not names:
            return None
        address = any(n in ADDRESS_FIELDS for n in names)
        empty = [
            f"owner.{n}" for n in names if n not in ADDRESS_FIELDS and before.get(n) in (None, "")
        ]
        if address and not whole_address(before):
            empty.append("owner.address")
        if empty:  # the change filled an empty field: Stripe cannot empty it again
            return {
                **row,
                "params": {},
                "before": after,
                "after": None,
                "status": "invalid",
                "reason": (
                    f"cannot be undone exactly: {', '.join(empty)} was empty before and Stripe "
                    "cannot clear owner fields (parameter_invalid_empty); set a value by hand if "
                    "needed"
                ),
                "change": "",
            }
        flat = {n: before[n] for n in names if n not in ADDRESS_FIELDS}
        told = [f"restore owner.{n}={before.get(n)!r}" for n in flat]
        params = owner_params(flat)
        if address:  # the whole address as it was: fields empty before are left out (null)
            params["address"] = whole_address(before)
            flat.update({n: before.get(n) for n in ADDRESS_FIELDS})
            told.append(f"restore owner.address={address_text(before)!r}")
        return {
            **row,
            "params": {"owner": params},
            "before": after,
            "after": {**after, **flat},
            "status": "ready",
            "reason": "",
            "change": "; ".join(told),
        }
