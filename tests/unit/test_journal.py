"""The inbox journal: durable put, crash recovery, shunt and bad, Message-ID dedupe."""

from __future__ import annotations

from pathlib import Path

from collabd.config import Config
from collabd.store import Journal
from helpers import at, daemon_at, message


def test_put_then_take_then_done(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.put(b"one")
    journal.put(b"two")
    taken = list(journal)
    assert [e.read() for e in taken] == [b"one", b"two"]  # arrival order
    for entry in taken:
        journal.done(entry)
    assert journal.counts() == {"waiting": 0, "shunt": 0, "bad": 0}
    assert list((tmp_path / "in").iterdir()) == []


def test_interrupted_message_is_recovered_then_bad_after_three_crashes(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.put(b"poison")
    for crash in range(1, 4):
        entries = list(journal)  # taken; then the process "dies" before done()
        assert len(entries) == 1
        moved = Journal(tmp_path).recover()  # the next start
        assert len(moved) == 1
        if crash < 3:
            assert journal.counts()["waiting"] == 1
    assert journal.counts() == {"waiting": 0, "shunt": 0, "bad": 1}
    bad = next((tmp_path / "bad").glob("*.eml"))
    assert bad.read_bytes() == b"poison"
    assert "3 times" in bad.with_suffix(".error").read_text()


def test_processing_that_raises_is_shunted_and_daemon_goes_on(deployment: Config) -> None:
    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        calls = []
        original = daemon.workflow.on_event

        def flaky(event, view, now):  # type: ignore[no-untyped-def]
            calls.append(event.message.subject)
            if event.message.subject == "boom":
                raise ValueError("handler bug")
            return original(event, view, now)

        daemon.workflow.on_event = flaky  # type: ignore[method-assign]
        daemon.journal.put(message(subject="boom", message_id="<boom@x>"))
        daemon.journal.put(message(subject="fine", message_id="<fine@x>"))
        assert daemon.process_journal() == 2
        assert calls == ["boom", "fine"]
        assert daemon.view.message("<fine@x>") is not None
        assert daemon.view.message("<boom@x>") is None
        shunted = list(daemon.journal.shunt_dir.glob("*.eml"))
        assert len(shunted) == 1
        assert b"Subject: boom" in shunted[0].read_bytes()
        assert "ValueError: handler bug" in shunted[0].with_suffix(".error").read_text()
    finally:
        daemon.close()


def test_duplicate_message_id_changes_nothing(deployment: Config) -> None:
    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        raw = message(subject="第一次", message_id="<same@x>")
        daemon.journal.put(raw)
        daemon.process_journal()
        seq = daemon.store.seq
        before = daemon.view.message("<same@x>")
        daemon.journal.put(message(subject="again, same id", message_id="<same@x>"))
        daemon.journal.put(raw)
        assert daemon.process_journal() == 2
        assert daemon.store.seq == seq  # nothing committed
        assert daemon.view.message("<same@x>") == before
        assert daemon.journal.counts()["waiting"] == 0
    finally:
        daemon.close()


def test_message_without_message_id_is_deduplicated_by_content(deployment: Config) -> None:
    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        raw = message(subject="no id")
        daemon.journal.put(raw)
        daemon.journal.put(raw)
        daemon.process_journal()
        inbound = [m for m in daemon.store.values("messages") if m.get("dir") == "in"]
        assert len(inbound) == 1
    finally:
        daemon.close()
