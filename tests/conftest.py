from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

# Every tick in every test is also run over every open record and compared with the
# agenda's (collabd/app.py): the agenda may visit too much, never too little. Set
# before collabd is imported, and inherited by the daemons the tests start.
os.environ.setdefault("COLLABD_CHECK_AGENDA", "1")

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collabd.config import Config
from helpers import Harness, make_deployment, no_review_meetings


@pytest.fixture
def deployment(tmp_path: Path) -> Config:
    """A fresh deployment made by `collabd init` on a free loopback port."""
    return make_deployment(tmp_path / "deploy")


@pytest.fixture
def h(deployment: Config) -> Iterator[Harness]:
    """The request flows' harness: Tuesday 1 Dec 2026 10:00, review meetings off (the
    flows under test are others). A module that needs another start or other rules
    defines its own `h`, which takes precedence."""
    no_review_meetings(deployment)
    harness = Harness(deployment, "2026-12-01 10:00")
    yield harness
    harness.close()
