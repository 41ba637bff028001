"""Fixtures the integration suites share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servers import Dovecot, Postgres, Submission


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot on loopback ports, from a throwaway configuration."""
    server = Dovecot().start()
    yield server
    server.cleanup()


@pytest.fixture
def submission(dovecot: Dovecot) -> Iterator[Submission]:
    """An SMTP submission server that delivers into that Dovecot."""
    server = Submission(dovecot).start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL from initdb on a loopback port, for the whole session (each
    test keeps its state under a space of its own)."""
    server = Postgres().start()
    yield server
    server.close()
