"""`pip install .` (not only an editable install) must carry the default rules and templates."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = pytest.mark.integration


def test_wheel_ships_every_default_rule_and_template(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path),
         str(REPO)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(tmp_path.glob("collabd-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("rules", "mail_templates"):
        for path in (REPO / folder).rglob("*"):
            if path.is_file():
                inside = f"collabd/_skeleton/{folder}/{path.relative_to(REPO / folder)}"
                assert inside in names, f"{inside} missing from the wheel"
    assert "collabd/cli.py" in names
