"""The daemon with its state in PostgreSQL (`store: postgresql`): the commands that read
and write the state, the journal and the archive in the database, leadership between
processes, and a database restarted under a running daemon."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from collabd.config import Config, load_config
from helpers import (
    Harness,
    collabd,
    finance_request,
    make_deployment,
    message,
    sent_messages,
)
from servers import Postgres

pytestmark = pytest.mark.integration


def pg_yaml(postgres: Postgres, space: str, *, takeover: float = 5.0) -> str:
    return (f"store: postgresql\npostgresql:\n  dsn: \"{postgres.dsn}\"\n"
            f"  space: {space}\n  takeover_seconds: {takeover}\n")


def on_postgres(config: Config, postgres: Postgres, space: str | None = None) -> Config:
    """The deployment switched to a fresh space of the test database."""
    with config.path.open("a", encoding="utf-8") as fh:
        fh.write(pg_yaml(postgres, space or f"t-{uuid.uuid4().hex[:12]}"))
    return load_config(config.path)


def request(n: int = 1) -> bytes:
    return message(sender="刘洋 <liu.yang@example.com>", subject=f"需求表：折扣数据 {n}",
                   body=finance_request(), message_id=f"<pg-{n}@example.com>")


def status(config: Config) -> dict:  # type: ignore[type-arg]
    return json.loads(collabd("status", "--json", config=config).stdout)  # type: ignore[no-any-return]


def test_requests_are_journaled_processed_and_shown_from_the_database(
        tmp_path: Path, postgres: Postgres) -> None:
    config = on_postgres(make_deployment(tmp_path / "d"), postgres)
    collabd("deliver", config=config, stdin=request())
    # Nothing of the state is kept in files: the journal is in the database.
    assert not (config.state_dir / "queue" / "in").exists() or not any(
        (config.state_dir / "queue" / "in").iterdir())
    before = status(config)
    assert before["journal"]["waiting"] == 1 and before["mail"]["processed"] == 0
    assert before["daemon"] == {"running": False, "pid": None, "leader": None, "standby": []}

    collabd("run", "--once", config=config)
    after = status(config)
    assert after["journal"] == {"waiting": 0, "shunt": 0, "bad": 0}
    assert after["mail"]["processed"] == 1
    [record] = after["open"]
    assert record["kind"] == "request"
    [ack] = [m for m in sent_messages(config.state_dir) if "已受理" in str(m["Subject"])]
    assert record["id"] in str(ack["Subject"])
    shown = json.loads(collabd("show", record["id"], "--json", config=config).stdout)
    assert shown["record"]["id"] == record["id"] and not shown["archived"]
    assert [m["dir"] for m in shown["messages"]][:1] == ["in"]
    assert not (config.state_dir / "db").exists()  # (no embedded store beside it)

    # The same message again (a client resending it) changes nothing.
    collabd("deliver", config=config, stdin=request())
    collabd("run", "--once", config=config)
    again = status(config)
    assert again["mail"]["processed"] == 1 and len(again["open"]) == 1


def test_a_message_set_aside_is_kept_listed_retried_and_dropped_in_the_database(
        tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    config = on_postgres(make_deployment(tmp_path / "d"), postgres)
    h = Harness(config, "2026-12-01 10:00")
    try:
        real = h.daemon.workflow.on_event

        def broken(event, view, now):  # type: ignore[no-untyped-def]
            if "毒" in event.message.subject:
                raise RuntimeError("a bug in this version")
            return real(event, view, now)

        monkeypatch.setattr(h.daemon.workflow, "on_event", broken)
        poison = message(sender="刘洋 <liu.yang@example.com>", subject="需求表：毒",
                         body=finance_request(), message_id="<poison@example.com>")
        told = h.at("2026-12-01 10:05", poison, message(subject="毒 2", message_id="<p2@x>"))
        assert any("未能自动处理" in str(m["Subject"]) for m in told)
        listed = json.loads(collabd("journal", "list", "--json", config=config).stdout)
        assert len(listed["set_aside"]) == 2 and listed["waiting"] == 0
        first, second = listed["set_aside"]
        assert first["subject"] == "需求表：毒" and "a bug in this version" in first["error"]
        shown = collabd("journal", "show", first["name"], config=config).stdout.decode()
        assert "RuntimeError: a bug in this version" in shown
        raw = collabd("journal", "show", first["name"], "--raw", config=config).stdout
        assert raw == poison
        # Fixed: retried, it is processed as any request.
        monkeypatch.setattr(h.daemon.workflow, "on_event", real)
        collabd("journal", "retry", first["name"][:20], config=config)
        assert any("需求已受理" in str(m["Subject"]) for m in h.at("2026-12-01 10:30"))
        collabd("journal", "drop", second["name"], config=config)
        assert json.loads(collabd("journal", "list", "--json", config=config).stdout)[
            "set_aside"] == []
        assert status(config)["journal"] == {"waiting": 0, "shunt": 0, "bad": 0}
    finally:
        h.close()
