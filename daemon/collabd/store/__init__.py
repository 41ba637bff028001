"""Durable state: the record store, its write-ahead log, the inbox journal, the archive.

The names are imported on first use (PEP 562): `collabd show` and `collabd deliver`
read one file each and need not load the store's every module.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collabd.store.archive import Archive
    from collabd.store.errors import StateDamaged, StateTooNew
    from collabd.store.journal import Journal, JournalEntry
    from collabd.store.lock import StateLock, StateLocked
    from collabd.store.state import Store, Txn

_WHERE = {
    "Archive": "archive",
    "Journal": "journal",
    "JournalEntry": "journal",
    "StateDamaged": "errors",
    "StateLock": "lock",
    "StateLocked": "lock",
    "StateTooNew": "errors",
    "Store": "state",
    "Txn": "state",
}

__all__ = [
    "Archive",
    "Journal",
    "JournalEntry",
    "StateDamaged",
    "StateLock",
    "StateLocked",
    "StateTooNew",
    "Store",
    "Txn",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
