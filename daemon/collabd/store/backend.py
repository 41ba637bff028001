"""Which store a deployment keeps its state in (collabd.yaml `store:`), and its parts:
the record store, the inbound journal and the archive, embedded (files in the state
directory) or in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
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

    def view(self, config: Config | None = None) -> Any:
        """The state as a StateView (with the mailbox's id prefix, given its config)."""
        from collabd.store.view import StateView

        prefix = config.settings.mailbox.id_prefix if config is not None else None
        return StateView(self.store, self.archive, id_prefix=prefix or "")


def _parts(store: Any, state_dir: Path) -> Parts:
    """A store with the journal and the archive that go with it."""
    from collabd.store.pg import PgStore

    if isinstance(store, PgStore):
        from collabd.store.pg_archive import PgArchive
        from collabd.store.pg_journal import PgJournal

        return Parts(store, PgJournal(store), PgArchive(store))
    from collabd.store import Archive, Journal

    return Parts(store, Journal(state_dir / "queue"), Archive(store.db_dir))


def daemon_parts(config: Config) -> Parts:
    """The store, journal and archive the daemon writes (none opened yet)."""
    if on_postgresql(config):
        return _parts(pg_store(config), config.state_dir)
    from collabd.store import Store

    return _parts(Store(config.state_dir), config.state_dir)


def journal_for(config: Config) -> Any:
    """The inbound journal, for `collabd deliver` and `collabd journal` (opened: close
    `.store` when done, if it has one)."""
    if on_postgresql(config):
        return _parts(pg_store(config).open(), config.state_dir).journal
    from collabd.store import Journal

    return Journal(config.state_dir / "queue")


def read_view(config: Config, *, summary: bool = False) -> Any:
    """The state as a read-only StateView (with the mailbox's id prefix)."""
    return read_parts(config, summary=summary).view(config)


def read_parts(config: Config, *, summary: bool = False) -> Parts:
    """The state, opened read-only, for the commands that show it."""
    if on_postgresql(config):
        return _parts(pg_store(config, readonly=True, summary=summary).open(),
                      config.state_dir)
    return read_embedded(config.state_dir, summary=summary)


def read_embedded(state_dir: Path, *, summary: bool = False) -> Parts:
    """An embedded state, read-only; `summary`: only what `status` shows (the summary
    the daemon keeps), unless that summary cannot serve."""
    from collabd.store import Store
    from collabd.store.derived import Unavailable

    try:
        store = Store(state_dir, readonly=True, summary=summary).open()
    except Unavailable:
        store = Store(state_dir, readonly=True).open()
    return _parts(store, state_dir)
