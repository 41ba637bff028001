"""The README's "Try it" examples work as written (on the test's own port)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest

from collabd.config import Config
from helpers import DaemonProcess, require_binary, sent_messages, wait_until

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def _try_it() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Try it"):text.index("## Commands")]


def _port(config: Config) -> str:
    local = config.settings.local
    return str(local.listen_port)


def _answer_to(config: Config, run: list[str], stdin: bytes | None, subject: str
               ) -> EmailMessage:
    """Run a README example against a real daemon; what the daemon answered."""
    daemon = DaemonProcess(config).start()
    try:
        subprocess.run(run, input=stdin, check=True, capture_output=True, timeout=30)
        return wait_until(lambda: next((m for m in sent_messages(config.state_dir)
                                        if subject in str(m["Subject"])), None),
                          message=f"an answer {subject!r}")  # type: ignore[no-any-return]
    finally:
        assert daemon.stop() == 0, daemon.log()


def test_the_readme_python_example_files_a_request(deployment: Config) -> None:
    found = re.search(r"\.venv/bin/python - <<'EOF'\n(.*?)\nEOF\n", _try_it(), re.S)
    assert found, "the README's Python example is gone"
    script = found.group(1).replace("2525", _port(deployment))
    ack = _answer_to(deployment, [sys.executable, "-"], script.encode(), "需求已受理")
    assert "zhang.wei@example.com" in str(ack["To"])


def test_the_readme_swaks_example_is_answered(deployment: Config) -> None:
    require_binary("swaks", why="the README's example sends with swaks")
    found = re.search(r"(swaks .*?)\s+# ", _try_it().replace("\\\n", " "), re.S)
    assert found, "the README's swaks example is gone"
    command = shlex.split(found.group(1).replace("2525", _port(deployment)))
    reply = _answer_to(deployment, command, None, "未能识别")
    assert "zhang.wei@example.com" in str(reply["To"])
