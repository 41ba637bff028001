"""Where a deployment's config is, and the two settings an MTA pipe needs, read fast.

`collabd deliver` runs once per message (an MTA pipe): it needs the state directory and
the size limit, not the validated settings, whose models cost a tenth of a second to
import. A config it cannot read this way is loaded the full way, for the error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CONFIG_ENV = "COLLABD_CONFIG"
CONFIG_NAME = "collabd.yaml"
DEFAULT_MAX_MESSAGE_BYTES = 25 * 1024 * 1024


def default_config_path() -> Path:
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else Path(CONFIG_NAME)


def _plain(path: Path | None) -> tuple[Path, dict[str, Any]] | None:
    """The config file's path and its YAML as plain data, or None when it does not
    read as a mapping (then the caller loads it properly and reports why)."""
    import yaml

    path = (path or default_config_path()).absolute()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, UnicodeError, yaml.YAMLError):
        return None
    return (path, data) if isinstance(data, dict) else None


def _resolve(path: Path, value: str) -> Path:
    return Path(value) if Path(value).is_absolute() else path.parent / value


def quick_paths(path: Path | None) -> tuple[Path, Path, str] | None:
    """(state directory, rules directory, timezone name) for the read-only commands, or
    None when the file does not read as plain settings (then loaded properly)."""
    plain = _plain(path)
    if plain is None:
        return None
    path, data = plain
    paths = data.get("paths") or {}
    if not isinstance(paths, dict) or data.get("store", "embedded") != "embedded" or (
            "mailboxes" in data):
        return None  # (a state in PostgreSQL: the settings say where)
    state, rules = paths.get("state", "state"), paths.get("rules", "rules")
    timezone = data.get("timezone", "Asia/Shanghai")
    if not all(isinstance(v, str) for v in (state, rules, timezone)):
        return None
    return _resolve(path, state), _resolve(path, rules), timezone


def quick_settings(path: Path | None) -> tuple[Path, int] | None:
    """(state directory, local.max_message_bytes), or None when the file does not read
    as plain settings (then the caller loads it properly and reports why)."""
    plain = _plain(path)
    if plain is None:
        return None
    path, data = plain
    paths = data.get("paths") or {}
    local = data.get("local") or {}
    if not isinstance(paths, dict) or not isinstance(local, dict):
        return None
    mailbox = data.get("mailbox")
    if data.get("store", "embedded") != "embedded" or "mailboxes" in data or (
            isinstance(mailbox, dict) and mailbox.get("id_prefix")):
        return None  # (a state in PostgreSQL, several mailboxes, an id prefix: loaded)
    state = paths.get("state", "state")
    limit = local.get("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES)
    if not isinstance(state, str) or not isinstance(limit, int) or isinstance(limit, bool):
        return None
    return _resolve(path, state), limit


def rough_layout(path: Path | None) -> tuple[Path, Path, Any, Path] | None:
    """(rules directory, templates directory, time zone, config path) as an invalid
    config file still names them — or the defaults beside it — so that `check` can
    report the rules and templates too; None when the file cannot be read at all."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    plain = _plain(path)
    if plain is None:
        return None
    path, data = plain
    if "mailboxes" in data:
        return None  # (each mailbox names its own rules: nothing to guess from the top)
    paths = data.get("paths")
    if not isinstance(paths, dict):
        paths = {}
    rules, templates = paths.get("rules", "rules"), paths.get("templates", "mail_templates")
    if not isinstance(rules, str):
        rules = "rules"
    if not isinstance(templates, str):
        templates = "mail_templates"
    try:
        tz = ZoneInfo(str(data.get("timezone") or "Asia/Shanghai"))
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("Asia/Shanghai")
    return _resolve(path, rules), _resolve(path, templates), tz, path
