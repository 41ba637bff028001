"""Fixtures the integration suites share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servers import Dovecot


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A real Dovecot on loopback ports, from a throwaway configuration."""
    server = Dovecot().start()
    yield server
    server.cleanup()
