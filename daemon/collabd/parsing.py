"""`collabd parse`: one message classified and read, against the rules, touching nothing."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collabd.clock import DEFAULT_TZ, FixedClock, SystemClock, parse_instant
from collabd.config import Config, default_config_path, load_config
from collabd.inbound.classify import Classifier, MessageLookup, read_event
from collabd.inbound.message import read_message
from collabd.policy.rules import load_rules
from collabd.resources import skeleton_dir


def _config(config_path: Path | None) -> Config | None:
    if config_path is not None:
        return load_config(config_path)
    default = default_config_path()
    return load_config(default) if default.exists() else None


def parse_files(files: Sequence[Path], *, config_path: Path | None = None,
                now: str | None = None) -> Iterator[dict[str, Any]]:
    """Each file classified and read, in order (rules and state opened once). A file
    that cannot be read yields {"file", "error"} and the others go on."""
    config = _config(config_path)
    zone = config.tz if config else ZoneInfo(DEFAULT_TZ)
    rules = load_rules(config.rules_dir if config else skeleton_dir("rules"), tz=zone,
                       defaults=skeleton_dir("rules"))
    address = config.settings.mailbox.address if config else "collab@example.com"
    clock = FixedClock(parse_instant(now, zone), zone) if now else SystemClock(zone)
    lookup: MessageLookup = lambda _: None  # noqa: E731
    if config is not None and (config.settings.store == "postgresql"
                               or (config.state_dir / "db").exists()):
        from collabd.store.backend import read_view

        lookup = read_view(config).message

    classifier = Classifier(rules, address)
    for file in files:
        try:
            raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
        except OSError as exc:
            yield {"file": str(file), "error": f"cannot read: {exc.strerror or exc}"}
            continue
        event = read_event(classifier, read_message(raw), clock.now(), lookup)
        yield event.to_json()


def parse_file(file: Path, *, config_path: Path | None = None,
               now: str | None = None) -> dict[str, Any]:
    return next(parse_files([file], config_path=config_path, now=now))
