"""Closed records leave the working set for the archive (归档) and can still be read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from collabd.app import Daemon
from collabd.config import Config
from collabd.workflow.outcome import Outcome, new_record
from helpers import at, collabd, daemon_at


def test_closed_records_are_archived_and_still_shown(deployment: Config) -> None:
    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        now = daemon.clock.now()
        closed = new_record("request", "XQ-2026-0001", now, status="closed",
                            closed=now.isoformat(), title="已验收的需求")
        still_open = new_record("request", "XQ-2026-0002", now, status="open", title="进行中")
        daemon.commit(Outcome(records=[closed, still_open]))
        daemon.tick()
        assert daemon.store.get("records", "XQ-2026-0001") is not None  # not old enough yet
        daemon.clock.advance(dt.timedelta(days=31))  # type: ignore[attr-defined]
        daemon.tick()
        assert daemon.store.get("records", "XQ-2026-0001") is None
        assert daemon.store.get("records", "XQ-2026-0002") is not None
        assert daemon.view.record("XQ-2026-0001")["title"] == "已验收的需求"  # type: ignore[index]
        assert [r["id"] for r in daemon.archive.search(status="closed")] == ["XQ-2026-0001"]
    finally:
        daemon.close()
    shown = collabd("show", "XQ-2026-0001", config=deployment)
    assert "[已归档]" in shown.stdout.decode()
    assert "已验收的需求" in shown.stdout.decode()


def test_archive_files_hold_a_thousand_and_old_year_files_are_still_read(tmp_path: Path) -> None:
    from tinydb.table import Document

    from collabd.store.archive import Archive
    from collabd.store.tinystore import AtomicJSONStorage, CollabdTinyDB

    archive = Archive(tmp_path)
    archive.put_many({"id": f"XQ-2026-{n:04d}", "status": "closed"} for n in range(1, 2501))
    names = archive.files()
    assert names == ["XQ-2026/0000", "XQ-2026/0001", "XQ-2026/0002"]
    before = {n: (tmp_path / "archive" / f"{n}.json").stat().st_mtime_ns for n in names}
    archive.put_many([{"id": "XQ-2026-2501", "status": "closed", "late": True}])
    after = {n: (tmp_path / "archive" / f"{n}.json").stat().st_mtime_ns for n in names}
    # Only the file of the record moved is rewritten.
    assert [n for n in names if before[n] != after[n]] == ["XQ-2026/0002"]
    assert archive.get("XQ-2026-2501") == {"id": "XQ-2026-2501", "status": "closed",
                                           "late": True}
    # An archive written by an earlier version (one file per year) is still read.
    legacy = CollabdTinyDB(tmp_path / "archive" / "2025.json", storage=AtomicJSONStorage)
    legacy.table("records").insert(Document({"id": "XQ-2025-0007", "status": "closed"},
                                            doc_id="XQ-2025-0007"))
    legacy.close()
    assert archive.get("XQ-2025-0007") == {"id": "XQ-2025-0007", "status": "closed"}
    assert sum(1 for _ in archive.search(status="closed")) == 2502


def test_an_archived_record_is_read_by_its_files_index_and_without_it_alike(
        tmp_path: Path) -> None:
    import json

    from tinydb import TinyDB

    from collabd.store.archive import Archive

    archive = Archive(tmp_path)
    records = [{"id": f"XQ-2026-{n:04d}", "status": "closed", "title": f"需求{n}\t\"引号\""}
               for n in range(1, 1201)]
    entries = {f"<m{n}.{k}@example.com>": {"dir": "in", "record": f"XQ-2026-{n:04d}", "k": k}
               for n in range(1, 1201) for k in range(3)}
    entries["<odd\tid@example.com>"] = {"dir": "out", "record": "XQ-2026-0007"}
    archive.put_many(records[:600], {m: e for m, e in entries.items()
                                     if e["record"] <= "XQ-2026-0600"})
    archive.put_many(records[600:], {m: e for m, e in entries.items()
                                     if e["record"] > "XQ-2026-0600"})
    # Appended to a file already holding records: still one piece, still indexed.
    archive.put_many([{"id": "XQ-2026-0005", "status": "closed", "late": True}],
                     {"<late@example.com>": {"dir": "in", "record": "XQ-2026-0005"}})

    def everything() -> dict[str, object]:
        return {rid: archive.get_with_messages(rid)
                for rid in ("XQ-2026-0005", "XQ-2026-0007", "XQ-2026-0999", "XQ-2026-1200",
                            "XQ-2026-1201", "XQ-2027-0001")}

    indexed = everything()
    assert indexed["XQ-2026-0005"] == (
        {"id": "XQ-2026-0005", "status": "closed", "late": True},
        {**{f"<m5.{k}@example.com>": {"dir": "in", "record": "XQ-2026-0005", "k": k}
            for k in range(3)}, "<late@example.com>": {"dir": "in", "record": "XQ-2026-0005"}})
    assert set(indexed["XQ-2026-0007"][1]) == {  # type: ignore[index]
        "<m7.0@example.com>", "<m7.1@example.com>", "<m7.2@example.com>",
        "<odd\tid@example.com>"}
    assert indexed["XQ-2026-1201"] == (None, {}) and indexed["XQ-2027-0001"] == (None, {})
    assert archive.message("<odd\tid@example.com>") == entries["<odd\tid@example.com>"]
    # Still an ordinary TinyDB file.
    file = tmp_path / "archive" / "XQ-2026" / "0000.json"
    with TinyDB(file) as db:
        assert db.table("records").get(doc_id="XQ-2026-0999")["status"] == "closed"  # type: ignore[index]
        assert len(db.table("messages")) == 999 * 3 + 2
    # An index that does not describe its file (a crash between the two writes, a file
    # put back from a copy) is not used: the file is decoded, with the same answers.
    data = json.loads(file.read_bytes())
    data["records"]["XQ-2026-0999"]["title"] = "改过"
    file.write_text(json.dumps(data, ensure_ascii=False))
    assert archive.get("XQ-2026-0999")["title"] == "改过"  # type: ignore[index]
    data["records"]["XQ-2026-0999"]["title"] = indexed["XQ-2026-0999"][0]["title"]  # type: ignore[index]
    file.write_text(json.dumps(data, ensure_ascii=False))
    (tmp_path / "archive" / "XQ-2026" / "0001.idx").unlink()
    assert everything() == indexed


def _close_one(daemon: Daemon) -> None:
    """XQ-2026-0001, closed now (archived once `archive_after_days` have passed)."""
    now = daemon.clock.now()
    daemon.commit(Outcome(records=[new_record(
        "request", "XQ-2026-0001", now, status="closed", closed=now.isoformat(),
        title="已验收的需求")]))


def test_an_archived_records_messages_leave_the_working_set_and_are_still_known(
        deployment: Config) -> None:
    from collabd.store import Txn
    from helpers import SHARED

    request = (
        "From: 张伟 <zhang.wei@example.com>\r\nTo: " + SHARED + "\r\n"
        "Subject: =?utf-8?b?6Leo6YOo6Zeo5rKf6YCa6ZyA5rGC6KGo?=\r\n"
        "Message-ID: <old-request@example.com>\r\n"
        "Date: Tue, 01 Dec 2026 10:00:00 +0800\r\n\r\nhello\r\n").encode()
    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        _close_one(daemon)
        txn = Txn()
        txn.put("messages", "<old-request@example.com>",
                {"dir": "in", "record": "XQ-2026-0001", "kind": "request", "at": "x"})
        txn.put("messages", "<our-ack@collab>",
                {"dir": "out", "record": "XQ-2026-0001", "purpose": "request_ack",
                 "to": ["zhang.wei@example.com"], "at": "y", "sent": "y"})
        daemon.store.commit(txn)
        processed_before = daemon.store.message_counts()
        daemon.clock.advance(dt.timedelta(days=31))  # type: ignore[attr-defined]
        daemon.tick()
        assert daemon.store.get("records", "XQ-2026-0001") is None
        # Out of the daemon's working set (and its memory) …
        assert daemon.store.get("messages", "<our-ack@collab>") is None
        assert daemon.store.group_keys("XQ-2026-0001") == []
        # … still known by id: a reply threads to the record, a resend is no new request.
        assert daemon.view.message("<our-ack@collab>")["purpose"] == "request_ack"  # type: ignore[index]
        assert daemon.view.message("<old-request@example.com>")["record"] == "XQ-2026-0001"  # type: ignore[index]
        assert daemon.view.message("<never-seen@example.com>") is None
        daemon.journal.put(request)
        daemon.process_journal()
        assert daemon.store.count("records") == 0  # the same message again changes nothing
        # Counted once, ever: archiving does not take it back.
        assert daemon.store.message_counts() == processed_before
    finally:
        daemon.close()
    shown = collabd("show", "XQ-2026-0001", config=deployment).stdout.decode()
    assert "[已归档]" in shown and "<our-ack@collab>" in shown
    assert "<old-request@example.com>" in shown


def test_an_archived_message_is_found_after_a_torn_append(tmp_path: Path) -> None:
    from collabd.store.archive import Archive

    archive = Archive(tmp_path)
    record = {"id": "XQ-2026-0001", "status": "closed"}
    entry = {"dir": "out", "record": "XQ-2026-0001", "purpose": "request_ack"}
    archive.put_many([record], {"<first@x>": entry})
    bucket = archive._bucket("<a@b>")
    with bucket.open("ab") as fh:  # a crash in the middle of appending its line
        fh.write(b"<a@b>\tXQ-20")
    archive.put_many([record], {"<a@b>": entry, "<first@x>": entry})  # the sweep again
    assert archive.message("<a@b>") == entry
    assert archive.message("<first@x>") == entry
    assert archive.message("<never@x>") is None


def test_a_record_whose_mail_is_still_queued_is_not_archived_yet(
        deployment: Config) -> None:
    from collabd.outbound.compose import Draft, Person
    from collabd.store import Txn

    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        _close_one(daemon)
        txn = Txn()
        queued = daemon.outbox.queue(txn, Draft(
            to=[Person("zhang.wei@example.com", "张伟")], subject="[XQ-2026-0001] 已关闭",
            text="已验收。", record="XQ-2026-0001"))
        daemon.store.commit(txn)
        daemon.clock.advance(dt.timedelta(days=31))  # type: ignore[attr-defined]
        daemon.tick()
        # Its notice is still to go: the record and the notice's index entry stay.
        assert daemon.store.get("records", "XQ-2026-0001") is not None
        assert daemon.store.get("messages", queued.message_id)["purpose"]  # type: ignore[index]
        daemon.outbox.send_due(daemon.mailbox)
        daemon.clock.advance(dt.timedelta(minutes=11))  # type: ignore[attr-defined]
        daemon.tick()
        assert daemon.store.get("records", "XQ-2026-0001") is None
        archived = daemon.view.message(queued.message_id)
        assert archived is not None and archived.get("sent")
    finally:
        daemon.close()
