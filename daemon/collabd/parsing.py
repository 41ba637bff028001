"""`collabd parse`: one message classified and read, against the rules, touching nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collabd.clock import DEFAULT_TZ, FixedClock, SystemClock, parse_instant
from collabd.config import Config, default_config_path, load_config
from collabd.inbound.classify import Classifier, MessageLookup
from collabd.inbound.message import read_message
from collabd.policy.rules import load_rules
from collabd.resources import skeleton_dir


def _config(config_path: Path | None) -> Config | None:
    if config_path is not None:
        return load_config(config_path)
    default = default_config_path()
    return load_config(default) if default.exists() else None


def parse_file(file: Path, *, config_path: Path | None = None,
               now: str | None = None) -> dict[str, Any]:
    config = _config(config_path)
    zone = config.tz if config else ZoneInfo(DEFAULT_TZ)
    rules = load_rules(config.rules_dir if config else skeleton_dir("rules"), tz=zone,
                       defaults=skeleton_dir("rules"))
    address = config.settings.mailbox.address if config else "collab@example.com"
    clock = FixedClock(parse_instant(now, zone), zone) if now else SystemClock(zone)
    raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    lookup: MessageLookup = lambda _: None  # noqa: E731
    if config is not None and (config.state_dir / "db").exists():
        from collabd.store import Store

        store = Store(config.state_dir, readonly=True).open()

        def lookup(message_id: str) -> dict[str, Any] | None:
            entry = store.get("messages", message_id)
            return entry if isinstance(entry, dict) else None

    event = Classifier(rules, address).classify(read_message(raw), clock.now(), lookup)
    return event.to_json()
