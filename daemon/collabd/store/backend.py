"""Which store a deployment keeps its state in (collabd.yaml `store:`), and its parts:
the record store, the inbound journal and the archive, embedded (files in the state
directory) or in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collabd.config import Config
    from collabd.store.pg import PgStore


def on_postgresql(config: Config) -> bool:
    return config.settings.store == "postgresql"


def space_of(config: Config) -> str:
    """The mailbox's space in the database: `postgresql.space`, or its address."""
    pg = config.settings.postgresql
    return (pg.space if pg and pg.space else config.settings.mailbox.address).lower()


def pg_store(config: Config, *, readonly: bool = False, summary: bool = False) -> PgStore:
    """The deployment's PostgreSQL store, not yet opened."""
    from collabd.store.pg import PgStore

    pg = config.settings.postgresql
    assert pg is not None  # the schema says so
    password = pg.auth.resolve(config.base_dir) if pg.auth else None
    return PgStore(pg.dsn, space=space_of(config), readonly=readonly, node=pg.node,
                   password=password, summary=summary)


@dataclass
class Parts:
    store: Any  # Store | PgStore
    journal: Any  # Journal | PgJournal
    archive: Any  # Archive | PgArchive


def daemon_parts(config: Config) -> Parts:
    """The store, journal and archive the daemon writes (none opened yet)."""
    if on_postgresql(config):
        from collabd.store.pg_archive import PgArchive
        from collabd.store.pg_journal import PgJournal

        store = pg_store(config)
        return Parts(store, PgJournal(store), PgArchive(store))
    from collabd.store import Archive, Journal, Store

    embedded = Store(config.state_dir)
    return Parts(embedded, Journal(config.state_dir / "queue"), Archive(embedded.db_dir))


def journal_for(config: Config) -> Any:
    """The inbound journal, for `collabd deliver` and `collabd journal` (opened: close
    `.store` when done, if it has one)."""
    if on_postgresql(config):
        from collabd.store.pg_journal import PgJournal

        return PgJournal(pg_store(config, readonly=False).open())
    from collabd.store import Journal

    return Journal(config.state_dir / "queue")


def read_view(config: Config, *, summary: bool = False) -> Any:
    """The state as a read-only StateView (with the mailbox's id prefix)."""
    from collabd.store.view import StateView

    parts = read_parts(config, summary=summary)
    return StateView(parts.store, parts.archive,
                     id_prefix=config.settings.mailbox.id_prefix or "")


def read_parts(config: Config, *, summary: bool = False) -> Parts:
    """The state, opened read-only, for the commands that show it."""
    if on_postgresql(config):
        from collabd.store.pg_archive import PgArchive
        from collabd.store.pg_journal import PgJournal

        store = pg_store(config, readonly=True, summary=summary).open()
        return Parts(store, PgJournal(store), PgArchive(store))
    from collabd.store import Archive, Journal, Store
    from collabd.store.derived import Unavailable

    try:
        embedded = Store(config.state_dir, readonly=True, summary=summary).open()
    except Unavailable:
        embedded = Store(config.state_dir, readonly=True).open()
    return Parts(embedded, Journal(config.state_dir / "queue"), Archive(embedded.db_dir))
