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
    flatten_owner_params,
    merge_metadata,
    metadata_params_problems,
    metadata_problems,
    owner_from_stripe,
    owner_params,
    owner_params_problems,
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
    """Change owner email, name, phone or address fields."""

    name = "owner"
    action = "update_owner"

    def state_of(self, obj: Mapping[str, Any]) -> dict[str, str | None]:
        return owner_from_stripe(obj.get("owner"))

    def touched(self, params: Mapping[str, Any]) -> dict[str, str | None]:
        flat = flatten_owner_params(params.get("owner", {}))
        return {k: (v if v != "" else None) for k, v in flat.items()}

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
        flat = flatten_owner_params(row["params"].get("owner", {}))
        return [("set", f"owner.{name}") for name in flat]

    def inverse(self, row: PlanRow, before: Any, after: Any) -> PlanRow | None:
        changes = self.touched(row["params"])
        names = [n for n in changes if before.get(n) != after.get(n)]
        if not names:
            return None
        empty = [n for n in names if before.get(n) in (None, "")]
        if empty:  # the change filled an empty field: Stripe cannot empty it again
            shown = ", ".join(f"owner.{n}" for n in empty)
            return {
                **row,
                "params": {},
                "before": after,
                "after": None,
                "status": "invalid",
                "reason": (
                    f"cannot be undone exactly: {shown} was empty before and Stripe cannot "
                    "clear owner fields (parameter_invalid_empty); set a value by hand if needed"
                ),
                "change": "",
            }
        flat = {n: before[n] for n in names}
        change = "; ".join(f"restore owner.{n}={before.get(n)!r}" for n in flat)
        return {
            **row,
            "params": {"owner": owner_params(flat)},
            "before": after,
            "after": {**after, **flat},
            "status": "ready",
            "reason": "",
            "change": change,
        }
