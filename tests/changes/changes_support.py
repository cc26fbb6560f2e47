"""Helpers for the changes tests: source frames straight from a sandbox, request-log counts,
journals rewritten as a crashed process would have left them."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from toolkit.changes.kinds.owner import OWNER_FIELDS
from toolkit.sandbox import Sandbox

TEST_KEY = "sk_test_" + "T3st" * 6


def frame_of(box: Sandbox, ids: list[str]) -> pd.DataFrame:
    """A sources frame (the columns plans read, as load_sources has them) for ``ids``."""
    rows = []
    for sid in ids:
        src = box.get_source(sid)
        owner = src.get("owner") or {}
        address = owner.get("address") or {}
        row: dict[str, Any] = {
            "id": sid,
            "customer": src.get("customer"),
            "status": src["status"],
            "metadata": dict(src.get("metadata") or {}),
        }
        for name in OWNER_FIELDS:
            column = "owner_" + name.replace(".", "_")
            if name.startswith("address."):
                row[column] = address.get(name.split(".", 1)[1])
            else:
                row[column] = owner.get(name)
        rows.append(row)
    return pd.DataFrame(rows)


def pick(box: Sandbox, n: int, *, statuses=("chargeable", "pending"), attached=True) -> list[str]:
    """``n`` source ids with one of ``statuses`` (attached to a customer or not), stable order."""
    out = []
    for sid, src in box.store().sources.items():
        if src["status"] in statuses and bool(src.get("customer")) == attached:
            out.append(sid)
    assert len(out) >= n, f"only {len(out)} sources match"
    return sorted(out)[:n]


def held(src: dict[str, Any]) -> int:
    """Money a receiver holds that its customer sent (received - charged - returned), else 0."""
    receiver = src.get("receiver") or {}
    return (
        receiver.get("amount_received", 0)
        - receiver.get("amount_charged", 0)
        - receiver.get("amount_returned", 0)
    )


def pick_detachable(box: Sandbox, n: int) -> list[str]:
    """``n`` attached chargeable sources holding no customer money (which a detach refuses)."""
    out = [
        sid
        for sid, src in box.store().sources.items()
        if src["status"] == "chargeable" and src.get("customer") and held(src) <= 0
    ]
    assert len(out) >= n, f"only {len(out)} sources match"
    return sorted(out)[:n]


def rewrite_journal(path: Path, keep: Callable[[dict[str, Any]], bool]) -> None:
    """Keep only the records ``keep`` accepts, chained again as the writer would have chained
    them: the journal a process that never wrote the others would have left (a crash, say)."""
    from toolkit.changes.journal.file import line_hash

    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    lines: list[str] = []
    for record in records:
        if not keep(record):
            continue
        if "prev" in record:
            record["prev"] = line_hash(lines[-1])
        lines.append(json.dumps(record, ensure_ascii=False))
    path.write_text("".join(line + "\n" for line in lines))


def effective_writes(box: Sandbox, method: str = "POST") -> Counter[str]:
    """Source id -> successful, non-replayed writes in the sandbox log (the effective ones)."""
    counts: Counter[str] = Counter()
    for entry in box.requests:
        if entry.method != method or entry.status != 200 or entry.replayed:
            continue
        last = entry.path.rstrip("/").split("/")[-1]
        counts[entry.params.get("source", last) if last == "sources" else last] += 1
    return counts


def requests_for(box: Sandbox, source: str, method: str | None = None) -> list[Any]:
    """Log entries whose path ends with ``source``."""
    return [
        e
        for e in box.requests
        if e.path.rstrip("/").endswith(source) and (method is None or e.method == method)
    ]


def customer_with_sources(box: Sandbox, n: int, skip: int = 0) -> tuple[str, list[str]]:
    """A customer with at least ``n`` attached chargeable/pending sources, and ``n`` of them."""
    store = box.store()
    found = 0
    for customer, items in sorted(store.items.items()):
        live = [
            sid
            for sid in items
            if sid in store.sources and store.sources[sid]["status"] in ("chargeable", "pending")
        ]
        if len(live) >= n and len(items) <= 100:  # one page of its list
            if found == skip:
                return customer, sorted(live)[:n]
            found += 1
    raise AssertionError(f"no customer with {n} live sources")
