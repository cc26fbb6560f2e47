"""The fetch wing: every source of an account (or of chosen customers, or given ids) into one
typed DataFrame, the receivers' transactions, snapshots and diffs, filters, CSV.

- :mod:`~toolkit.fetch.load` pages sources (``iter_sources``, ``load_sources``), with
  :mod:`~toolkit.fetch.pool` (reads side by side), :mod:`~toolkit.fetch.windows` (``created``
  windows) and :mod:`~toolkit.fetch.inputs` (arguments checked);
- :mod:`~toolkit.fetch.transactions` lists source transactions; :mod:`~toolkit.fetch.cash`
  reads customer cash balances and their transactions (where Bank Transfers money lands);
  :mod:`~toolkit.fetch.payment_methods`, :mod:`~toolkit.fetch.invoices` and
  :mod:`~toolkit.fetch.ledger` read what replaces sources, the bills still wired to them, and the
  charges, refunds, sweeps and payouts behind receivers;
- :mod:`~toolkit.fetch.schema` and :mod:`~toolkit.fetch.frame`: the frame's columns and dtypes,
  and how it is built;
- :mod:`~toolkit.fetch.loaded`: what a load records (:class:`LoadInfo`);
- :mod:`~toolkit.fetch.snapshot`, :mod:`~toolkit.fetch.select`,
  :mod:`~toolkit.fetch.sources_csv`: Parquet snapshots and diffs, filters and totals, CSV;
- :mod:`~toolkit.fetch.refresh`: a snapshot brought up to date from Stripe's events;
- :mod:`~toolkit.fetch.accounts`: every connected account side by side;
- :mod:`~toolkit.fetch.dataset`: a streamed, resumable Parquet dataset export.

It reads Stripe only through the session's typed methods.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and editors: at run time each name loads on first use
    from toolkit.fetch.cash import load_cash_balance_transactions, load_cash_balances
    from toolkit.fetch.dataset import ExportInfo, export_sources, read_dataset
    from toolkit.fetch.id_files import read_ids, save_ids
    from toolkit.fetch.invoices import load_invoices, load_subscriptions
    from toolkit.fetch.ledger import ledger_reads, load_ledger
    from toolkit.fetch.load import iter_sources, load_sources
    from toolkit.fetch.loaded import LoadInfo
    from toolkit.fetch.payment_methods import load_payment_methods
    from toolkit.fetch.refresh import RefreshInfo, refresh
    from toolkit.fetch.reread import reread
    from toolkit.fetch.select import filter_sources, totals_by_currency
    from toolkit.fetch.snapshot import diff_snapshots, load_snapshot, save_snapshot
    from toolkit.fetch.sources_csv import write_sources_csv
    from toolkit.fetch.transactions import load_source_transactions

#: Where each public name lives: loaded on first use (PEP 562), so that ``load_sources`` costs
#: its own modules only (not the Parquet dataset's, the refresh's, the ledger's, ...).
_LAZY = {
    "load_cash_balance_transactions": "toolkit.fetch.cash",
    "load_cash_balances": "toolkit.fetch.cash",
    "ExportInfo": "toolkit.fetch.dataset",
    "export_sources": "toolkit.fetch.dataset",
    "read_dataset": "toolkit.fetch.dataset",
    "read_ids": "toolkit.fetch.id_files",
    "save_ids": "toolkit.fetch.id_files",
    "load_invoices": "toolkit.fetch.invoices",
    "load_subscriptions": "toolkit.fetch.invoices",
    "ledger_reads": "toolkit.fetch.ledger",
    "load_ledger": "toolkit.fetch.ledger",
    "iter_sources": "toolkit.fetch.load",
    "load_sources": "toolkit.fetch.load",
    "LoadInfo": "toolkit.fetch.loaded",
    "load_payment_methods": "toolkit.fetch.payment_methods",
    "RefreshInfo": "toolkit.fetch.refresh",
    "refresh": "toolkit.fetch.refresh",
    "reread": "toolkit.fetch.reread",
    "filter_sources": "toolkit.fetch.select",
    "totals_by_currency": "toolkit.fetch.select",
    "diff_snapshots": "toolkit.fetch.snapshot",
    "load_snapshot": "toolkit.fetch.snapshot",
    "save_snapshot": "toolkit.fetch.snapshot",
    "write_sources_csv": "toolkit.fetch.sources_csv",
    "load_source_transactions": "toolkit.fetch.transactions",
}

__all__ = [
    "ExportInfo",
    "LoadInfo",
    "RefreshInfo",
    "diff_snapshots",
    "export_sources",
    "filter_sources",
    "iter_sources",
    "ledger_reads",
    "load_cash_balance_transactions",
    "load_cash_balances",
    "load_invoices",
    "load_ledger",
    "load_payment_methods",
    "load_snapshot",
    "load_source_transactions",
    "load_sources",
    "load_subscriptions",
    "read_dataset",
    "read_ids",
    "refresh",
    "reread",
    "save_ids",
    "save_snapshot",
    "totals_by_currency",
    "write_sources_csv",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # the next access is a plain attribute
        return value
    raise AttributeError(f"module 'toolkit.fetch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Wing(types.ModuleType):
    """The package, on which a function named like its module (``refresh``, ``reread``) stays
    the function when that module is imported first by another path (the import system binds
    a module on its package under its name: ``from toolkit.fetch import reread`` would then
    give the module)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == value.__name__:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Wing
