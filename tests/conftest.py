from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collabd.config import Config
from helpers import make_deployment


@pytest.fixture
def deployment(tmp_path: Path) -> Config:
    """A fresh deployment made by `collabd init` on a free loopback port."""
    return make_deployment(tmp_path / "deploy")
