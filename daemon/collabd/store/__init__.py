"""Durable state: the record store, its write-ahead log, the inbox journal, the archive."""

from collabd.store.archive import Archive
from collabd.store.errors import StateDamaged, StateTooNew
from collabd.store.journal import Journal, JournalEntry
from collabd.store.lock import StateLock, StateLocked
from collabd.store.state import Store, Txn

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
