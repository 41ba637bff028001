"""`collabd check`: everything that can be validated before the daemon starts."""

from __future__ import annotations

from collabd.config import Config
from collabd.errors import CollabdError


def run_checks(config: Config, *, offline: bool = False) -> tuple[list[str], list[str]]:
    """Returns (problems, findings); each problem names file:line where there is one."""
    problems: list[str] = []
    findings: list[str] = [f"configuration {config.path}"]
    for label, path in (("rules", config.rules_dir), ("templates", config.templates_dir)):
        if not path.is_dir():
            problems.append(f"{config.path}: paths.{label}: directory {path} does not exist")
    if not offline:
        from collabd.app import make_mailbox

        try:
            mailbox = make_mailbox(config, listen=False)
            findings.extend(f"mailbox: {line}" for line in mailbox.check())
        except CollabdError as exc:
            problems.append(f"mailbox: {exc}")
    return problems, findings
