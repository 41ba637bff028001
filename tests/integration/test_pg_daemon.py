"""The daemon with its state in PostgreSQL (`store: postgresql`): the commands that read
and write the state, the journal and the archive in the database, leadership between
processes, and a database restarted under a running daemon."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from collabd.config import Config, load_config
from collabd.store import Txn
from helpers import (
    Harness,
    bug_on,
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
        real = bug_on(monkeypatch, h.daemon)
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


def _lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]


def _twin(config: Config, name: str, extra: str) -> Config:
    """The same deployment (rules, templates, state directory) under another config file
    whose store is given by `extra`."""
    text = config.path.read_text(encoding="utf-8")
    path = config.path.with_name(name)
    path.write_text(text + extra, encoding="utf-8")
    return load_config(path)


def test_a_whole_state_moves_to_postgresql_and_back_unchanged(
        tmp_path: Path, postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_deployment(tmp_path / "d")
    h = Harness(config, "2026-12-01 10:00")
    bug_on(monkeypatch, h.daemon)
    h.at("2026-12-01 10:05", request(1), request(2),
         message(subject="需求表：毒", message_id="<poison@x>"))
    closed = {**h.record(h.daemon.store.keys_of_kind("request")[0]), "status": "closed",
              "closed": "2026-10-01T10:00:00+08:00"}
    h.daemon.archive.put_many([{**closed, "id": "XQ-2026-0900"}],
                              {"<old@x>": {"dir": "in", "record": "XQ-2026-0900"}})
    h.daemon.journal.put(request(3))  # waiting, not yet processed
    failed = Txn()  # a mail the server refused for good, as status lists it
    failed.put("outbox", "<refused@example.com>", {
        "raw": "Subject: x\r\n\r\nx\r\n", "envelope_from": "collab@example.com",
        "recipients": ["gone@example.com"], "record": closed["id"], "purpose": "ack",
        "queued": "2026-12-01T10:05:00+08:00", "attempts": 12,
        "next_attempt": "2026-12-01T10:05:00+08:00", "last_error": "550 no such user",
        "failed": True})
    h.daemon.store.commit(failed)
    h.close()

    first = tmp_path / "embedded.jsonl"
    collabd("store", "export", "--out", str(first), config=config)
    exported = _lines(first)
    tables = {line.get("t") for line in exported}
    assert {"records", "messages", "outbox", "meta", "archive", "archived_messages",
            "journal"} <= tables
    assert {line["state"] for line in exported if line.get("t") == "journal"} == {
        "in", "shunt"}

    pg = _twin(config, "pg.yaml", pg_yaml(postgres, f"t-{uuid.uuid4().hex[:12]}"))
    collabd("store", "import", str(first), config=pg)
    second = tmp_path / "postgresql.jsonl"
    collabd("store", "export", "--out", str(second), config=pg)
    assert _lines(second) == exported  # everything, in the same order

    back = make_deployment(tmp_path / "back")
    collabd("store", "import", str(second), config=back)
    third = tmp_path / "back.jsonl"
    collabd("store", "export", "--out", str(third), config=back)
    assert _lines(third) == exported

    # What people and operators see is the same on either store.
    def seen(c: Config) -> dict:  # type: ignore[type-arg]
        data = status(c)
        return {k: data[k] for k in ("open", "counts", "mail", "journal", "outbox")}
    assert seen(pg) == seen(config) == seen(back)
    archived = json.loads(collabd("show", "XQ-2026-0900", "--json", config=pg).stdout)
    assert archived["archived"] and archived["record"]["status"] == "closed"

    # The daemon goes on from the moved state: the waiting message gets the next number.
    numbers = sorted(r["id"] for r in seen(pg)["open"])
    collabd("run", "--once", "--now", "2026-12-01T11:00:00+08:00", config=pg)
    after = sorted(r["id"] for r in status(pg)["open"])
    [new] = set(after) - set(numbers)
    assert new > max(numbers)

    # Only into an empty store; a file cut short is refused before anything is written.
    refused = collabd("store", "import", str(first), config=pg, check=False)
    assert refused.returncode != 0 and b"already holds a state" in refused.stderr
    cut = tmp_path / "cut.jsonl"
    cut.write_text("".join(first.read_text(encoding="utf-8").splitlines(True)[:-3]),
                   encoding="utf-8")
    empty = _twin(config, "pg2.yaml", pg_yaml(postgres, f"t-{uuid.uuid4().hex[:12]}"))
    refused = collabd("store", "import", str(cut), config=empty, check=False)
    assert refused.returncode != 0 and b"cut short" in refused.stderr
    assert status(empty)["counts"]["open"] == 0 and status(empty)["journal"]["waiting"] == 0
    # A file that fails halfway (an archived record without its id) leaves PostgreSQL
    # as it was: all or nothing.
    lines = first.read_text(encoding="utf-8").splitlines(True)
    at = next(i for i, line in enumerate(lines) if line.startswith('{"t":"archive"'))
    entry = json.loads(lines[at])
    del entry["v"]["id"]
    lines[at] = json.dumps(entry, ensure_ascii=False) + "\n"
    broken = tmp_path / "broken.jsonl"
    broken.write_text("".join(lines), encoding="utf-8")
    refused = collabd("store", "import", str(broken), config=empty, check=False)
    assert refused.returncode != 0 and f"broken.jsonl:{at + 1}:".encode() in refused.stderr
    assert b"nothing was imported" in refused.stderr
    assert status(empty)["counts"]["open"] == 0 and status(empty)["mail"]["processed"] == 0
    # Repairs of the embedded store's files are refused on PostgreSQL, with why.
    refused = collabd("store", "accept-loss", config=pg, check=False)
    assert refused.returncode == 2 and b"PostgreSQL" in refused.stderr
