"""`status` and `show` read what the daemon keeps for them, and agree with the whole state.

`status` reads the summary written at each checkpoint plus the log after it; `show` reads
one record's slice of the table files plus the log entries that name it. Whatever the
mix of checkpointed and uncheckpointed changes, both must say exactly what loading the
whole state says, and fall back to loading it when what they read cannot serve.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from collabd import report
from collabd.config import Config
from collabd.store import Archive, Journal, Store, Txn, derived
from collabd.store.view import StateView
from collabd.workflow.outcome import Outcome, new_record
from helpers import at, collabd, daemon_at

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def _request(n: int, status: str = "open", **extra: object) -> dict[str, object]:
    rid = f"XQ-2026-{n:04d}"
    return {"id": rid, "kind": "request", "status": status, "title": f"需求{n}",
            "response_due": f"2026-11-{10 + n % 20:02d}T18:00:00+08:00",
            "waiting_on": [f"p{n}@example.com"], "audit": [{"at": "x", "what": "y"}] * 3,
            "fields": {"content": "很长的内容" * 20}, **extra}


def _history(state: Path) -> Store:
    """A store with checkpointed and uncheckpointed changes of every kind, left open."""
    store = Store(state).open()
    txn = Txn()
    for n in range(1, 41):
        txn.put("records", f"XQ-2026-{n:04d}", _request(n))
        txn.put("messages", f"<in-{n}@example.com>", {"dir": "in", "record": f"XQ-2026-{n:04d}"})
        txn.put("messages", f"<out-{n}@collab>", {"dir": "out", "record": f"XQ-2026-{n:04d}"})
    txn.put("messages", "<noise@example.com>", {"dir": "in"})
    store.commit(txn)
    store.checkpoint()
    # After the checkpoint: changes, a new record, a deletion, sends, an Exchange alias.
    after = Txn()
    after.put("records", "XQ-2026-0003", _request(3, "delivered",
                                                  acceptance_due="2026-11-01T18:00:00+08:00"))
    after.put("records", "XQ-2026-0041", _request(41, risk={"level": "high"}))
    after.delete("records", "XQ-2026-0005")
    after.put("records", "XQ-2026-0006", _request(6, "closed"))
    for n in (1, 2, 3):
        after.put("messages", f"<out-{n}@collab>",
                  {"dir": "out", "record": f"XQ-2026-{n:04d}", "sent": "2026-12-01T09:00"})
    after.put("messages", "<exchange-1@server>",
              {"dir": "out", "record": "XQ-2026-0001", "sent": "x", "alias_of": "<out-1@collab>"})
    after.delete("messages", "<in-4@example.com>")
    after.put("messages", "<in-41@example.com>", {"dir": "in", "record": "XQ-2026-0041"})
    store.commit(after)
    return store


def _full_status(state: Path) -> dict[str, object]:
    full = Store(state, readonly=True).open()
    return report.status(StateView(full, Archive(full.db_dir)), Journal(state / "queue"),
                         state, NOW)


def test_status_from_the_summary_is_the_status_of_the_whole_state(tmp_path: Path) -> None:
    store = _history(tmp_path)
    try:
        summary = Store(tmp_path, readonly=True, summary=True).open()
        assert summary.count("messages") == 0  # the message index was not loaded
        quick = report.status(StateView(summary, Archive(summary.db_dir)),
                              Journal(tmp_path / "queue"), tmp_path, NOW)
        full = _full_status(tmp_path)
        assert quick == full
        ids = [s["id"] for s in quick["open"]]  # type: ignore[index, union-attr]
        assert "XQ-2026-0041" in ids and "XQ-2026-0005" not in ids and "XQ-2026-0006" not in ids
        # Counted ever (<in-4> was deleted, still counted); an alias is not sent twice.
        assert quick["mail"] == {"processed": 42, "sent": 3}
        listed = quick["open"]
        overdue = {s["id"] for s in listed if s["overdue"]}  # type: ignore[index, union-attr]
        assert "XQ-2026-0003" in overdue  # its acceptance is due, read from the log tail
    finally:
        store.close()
    # After the next checkpoint (the summary rewritten), still the same.
    summary = Store(tmp_path, readonly=True, summary=True).open()
    assert report.status(StateView(summary, Archive(summary.db_dir)),
                         Journal(tmp_path / "queue"), tmp_path, NOW) == _full_status(tmp_path)


def test_status_falls_back_to_the_whole_state_without_a_usable_summary(tmp_path: Path) -> None:
    store = _history(tmp_path)
    store.close()
    (tmp_path / "db" / derived.SUMMARY).write_bytes(b"{not json")
    with pytest.raises(derived.Unavailable):
        Store(tmp_path, readonly=True, summary=True).open()
    (tmp_path / "db" / derived.SUMMARY).unlink()
    with pytest.raises(derived.Unavailable):
        Store(tmp_path, readonly=True, summary=True).open()
    # The daemon writes it again when it next opens the state.
    Store(tmp_path).open().close()
    summary = Store(tmp_path, readonly=True, summary=True).open()
    assert summary.count("records") == 40  # 41 put, 1 deleted (a closed one stays)


def test_the_commands_answer_the_same_when_what_they_read_is_damaged(
        deployment: Config) -> None:
    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        now = daemon.clock.now()
        daemon.commit(Outcome(records=[
            new_record("request", "XQ-2026-0001", now, status="open", title="数据看板"),
            new_record("request", "XQ-2026-0002", now, status="open", title="预算支持")]))
    finally:
        daemon.close()
    before = (collabd("status", "--json", "--now", "2026-12-01T10:00:00+08:00",
                      config=deployment).stdout,
              collabd("show", "XQ-2026-0002", config=deployment).stdout)
    assert "预算支持" in before[1].decode()
    db = deployment.state_dir / "db"
    for name in (derived.SUMMARY, "records.idx.json", "messages.idx.json"):
        (db / name).write_bytes(b"damaged")
    after = (collabd("status", "--json", "--now", "2026-12-01T10:00:00+08:00",
                     config=deployment).stdout,
             collabd("show", "XQ-2026-0002", config=deployment).stdout)
    assert after == before


def _full_show(state: Path, record_id: str) -> dict[str, object] | None:
    full = Store(state, readonly=True).open()
    return report.show(StateView(full, Archive(full.db_dir)), record_id)


def _quick_show(state: Path, record_id: str) -> dict[str, object] | None:
    record, messages = derived.read_one(state / "db", record_id)
    if record is None:
        return None
    return report.show_record(record, messages, archived=False)


@pytest.mark.parametrize("record_id", ["XQ-2026-0001", "XQ-2026-0003", "XQ-2026-0004",
                                       "XQ-2026-0005", "XQ-2026-0010", "XQ-2026-0041"])
def test_show_from_slices_is_show_of_the_whole_state(tmp_path: Path, record_id: str) -> None:
    store = _history(tmp_path)
    try:
        assert _quick_show(tmp_path, record_id) == _full_show(tmp_path, record_id)
    finally:
        store.close()
    assert _quick_show(tmp_path, record_id) == _full_show(tmp_path, record_id)


def test_show_refuses_a_slice_of_a_table_file_its_index_does_not_describe(
        tmp_path: Path) -> None:
    store = _history(tmp_path)
    store.close()
    index = derived.index_path(tmp_path / "db", "records").read_bytes()
    store = Store(tmp_path).open()
    txn = Txn()
    txn.put("records", "XQ-2026-0001", _request(1, "in_progress"))
    store.commit(txn)
    store.checkpoint()
    store.close()
    # A reader that read the index just before the daemon rewrote the table file.
    derived.index_path(tmp_path / "db", "records").write_bytes(index)
    with pytest.raises(derived.Unavailable):
        derived.read_one(tmp_path / "db", "XQ-2026-0001")


def test_the_table_files_stay_ordinary_tinydb_files(tmp_path: Path) -> None:
    from collabd.store.tinystore import AtomicJSONStorage, CollabdTinyDB

    store = _history(tmp_path)
    store.close()
    with CollabdTinyDB(tmp_path / "db" / "records.json", storage=AtomicJSONStorage) as db:
        assert db.table("records").get(doc_id="XQ-2026-0041")["risk"] == {"level": "high"}
        assert len(db.table("records")) == 40
    with CollabdTinyDB(tmp_path / "db" / "messages.json", storage=AtomicJSONStorage) as db:
        assert len(db.table("messages")) == 82  # 81 + alias + in-41 - in-4
        assert db.table("messages").get(doc_id="<noise@example.com>") == {"dir": "in"}


def _everything(store: Store) -> dict[str, object]:
    return {t: dict(store.items(t)) for t in ("records", "messages", "outbox", "meta")}


def _kinds(store: Store) -> dict[str, list[str]]:
    return {k: store.keys_of_kind(k) for k in ("request", "meeting")}


def test_the_daemon_reads_its_files_as_slices_and_finds_what_decoding_finds(
        tmp_path: Path) -> None:
    _history(tmp_path).close()
    expected = _everything(Store(tmp_path, readonly=True).open())
    assert len(expected["records"]) == 40 and len(expected["messages"]) == 82  # type: ignore[arg-type]
    store = Store(tmp_path).open()
    assert _everything(store) == expected
    assert _kinds(store)["request"] == sorted(expected["records"])  # type: ignore[arg-type]
    assert store.group_keys("XQ-2026-0001") == ["<in-1@example.com>", "<out-1@collab>",
                                                "<exchange-1@server>"]
    store.close()
    db = tmp_path / "db"
    # Indexes that do not fit the files (a reader of the wrong version, a disk error):
    # the daemon decodes the files instead, and finds the same.
    for index in (derived.index_path(db, "records"), derived.keys_index_path(db, "messages")):
        lines = index.read_bytes().split(b"\n")
        lines[3], lines[4] = lines[4], lines[3]
        index.write_bytes(b"\n".join(lines))
    (db / derived.SUMMARY).write_bytes(b"{}")
    store = Store(tmp_path).open()
    assert _everything(store) == expected
    assert _kinds(store)["request"] == sorted(expected["records"])  # type: ignore[arg-type]
    # A change committed now is read back either way after a crash (no checkpoint).
    txn = Txn()
    txn.put("records", "XQ-2026-0042", _request(42))
    txn.put("messages", "<out-1@collab>", {"dir": "out", "record": "XQ-2026-0042"})
    store.commit(txn)
    store.wal.close()
    again = Store(tmp_path).open()
    assert again.get("records", "XQ-2026-0042") == _request(42)
    assert again.group_keys("XQ-2026-0042") == ["<out-1@collab>"]
    assert "<out-1@collab>" not in again.group_keys("XQ-2026-0001")
    assert _everything(again) == _everything(Store(tmp_path, readonly=True).open())
    again.close()
    # What did not serve was written anew: the summary serves `status` again.
    assert Store(tmp_path, readonly=True, summary=True).open().count("records") == 41
    assert derived.read_one(db, "XQ-2026-0042")[0] == _request(42)


def test_a_state_written_before_the_indexes_is_read_and_rewritten(tmp_path: Path) -> None:
    from collabd.store.tinystore import AtomicJSONStorage

    _history(tmp_path).close()
    expected = _everything(Store(tmp_path, readonly=True).open())
    db = tmp_path / "db"
    for table in ("records", "messages"):  # as the previous version wrote them
        storage = AtomicJSONStorage(db / f"{table}.json")
        data = storage.read()
        assert data is not None
        storage.write_checked(data)
    for leftover in (*db.glob("*.idx.json"), db / derived.SUMMARY):
        leftover.unlink()
    manifest = json.loads((db / "checkpoint.json").read_text())
    for table in ("records", "messages"):
        manifest["tables"][table]["sha256"] = hashlib.sha256(
            (db / f"{table}.json").read_bytes()).hexdigest()
        manifest["tables"][table].pop("summary_sha256", None)
    (db / "checkpoint.json").write_text(json.dumps(manifest))
    store = Store(tmp_path).open()
    assert _everything(store) == expected
    store.close()
    assert (db / derived.SUMMARY).exists() and derived.index_path(db, "records").exists()
    assert derived.read_one(db, "XQ-2026-0003")[0] == expected["records"]["XQ-2026-0003"]  # type: ignore[index]


@pytest.mark.parametrize("completed", [True, False])
def test_commits_go_on_while_a_checkpoint_is_written_and_a_crash_loses_none(
        tmp_path: Path, completed: bool) -> None:
    store = _history(tmp_path)
    store.checkpoint(background=True)
    # Committed while the files are being written: not in them, in the log.
    txn = Txn()
    txn.put("records", "XQ-2026-0043", _request(43))
    txn.delete("records", "XQ-2026-0002")
    txn.put("messages", "<in-43@example.com>", {"dir": "in", "record": "XQ-2026-0043"})
    store.commit(txn)
    assert not store.checkpoint_due()  # one at a time
    job = store._in_flight
    assert job is not None
    job.join()
    if completed:
        store.poll_checkpoint()
        assert store._in_flight is None
    expected = _everything(store)
    # Crash: no close(); with `completed` False, before the manifest was written.
    store.wal.close()
    again = Store(tmp_path).open()
    assert _everything(again) == expected
    assert again.get("records", "XQ-2026-0002") is None
    assert again.group_keys("XQ-2026-0043") == ["<in-43@example.com>"]
    again.close()
    assert _everything(Store(tmp_path).open()) == expected


def test_keys_with_tabs_and_newlines_are_indexed_like_any_other(tmp_path: Path) -> None:
    from collabd.store import Archive

    odd = "<odd\tid\nwith\\both@example.com>"
    store = Store(tmp_path).open()
    txn = Txn()
    txn.put("records", "XQ-2026-0001", _request(1))
    txn.put("messages", odd, {"dir": "in", "record": "XQ-2026-0001"})
    store.commit(txn)
    store.close()
    again = Store(tmp_path).open()
    assert "messages" not in again._dirty  # loaded from its index, not decoded
    assert again.get("messages", odd) == {"dir": "in", "record": "XQ-2026-0001"}
    again.close()
    assert odd in derived.read_one(tmp_path / "db", "XQ-2026-0001")[1]
    archive = Archive(tmp_path / "db")
    archive.put_many([_request(1, "closed")], {odd: {"dir": "in", "record": "XQ-2026-0001"}})
    assert archive.message(odd) == {"dir": "in", "record": "XQ-2026-0001"}


def test_what_a_checkpoint_wrote_is_read_from_its_file_not_kept_in_memory(
        tmp_path: Path) -> None:
    import shutil
    import tracemalloc

    big = "很长的内容" * 1000  # 15 KB a record: 300 records are 4.5 MB on disk
    store = Store(tmp_path).open()
    txn = Txn()
    for n in range(1, 301):
        txn.put("records", f"XQ-2026-{n:04d}", _request(n, fields={"content": big}))
        txn.put("messages", f"<in-{n}@example.com>",
                {"dir": "in", "record": f"XQ-2026-{n:04d}", "quote": [big[:300]] * 10})
    store.commit(txn)
    store.close()
    expected = _everything(Store(tmp_path, readonly=True).open())

    tracemalloc.start()
    try:
        store = Store(tmp_path).open()
        held = tracemalloc.get_traced_memory()[0]
        assert held < 1_500_000, f"the open store holds {held} bytes"
        assert _everything(store) == expected
        # Changed since: held until the next checkpoint, which a commit overtakes.
        txn = Txn()
        txn.put("records", "XQ-2026-0007", _request(7, "closed"))
        txn.put("messages", "<in-9@example.com>", {"dir": "in", "record": "XQ-2026-0010"})
        store.commit(txn)
        store.checkpoint(force=True, background=True)
        during = Txn()
        during.put("records", "XQ-2026-0008", _request(8, "delivered"))
        during.delete("records", "XQ-2026-0009")
        store.commit(during)
        store.finish_checkpoint()
        # The files the values were first read from are gone (kept copies dropped):
        # every value is read from where the last checkpoint put it.
        shutil.rmtree(tmp_path / "db" / "backups")
        expected["records"]["XQ-2026-0007"] = _request(7, "closed")  # type: ignore[index]
        expected["records"]["XQ-2026-0008"] = _request(8, "delivered")  # type: ignore[index]
        del expected["records"]["XQ-2026-0009"]  # type: ignore[attr-defined]
        expected["messages"]["<in-9@example.com>"] = {  # type: ignore[index]
            "dir": "in", "record": "XQ-2026-0010"}
        assert _everything(store) == expected
        assert store.group_keys("XQ-2026-0010") == ["<in-10@example.com>", "<in-9@example.com>"]
        store.checkpoint()
        assert tracemalloc.get_traced_memory()[0] < 1_500_000
        assert _everything(store) == expected
        store.close()
    finally:
        tracemalloc.stop()
    assert _everything(Store(tmp_path).open()) == expected


@pytest.mark.parametrize("background", [False, True])
def test_a_checkpoint_that_fails_holds_no_file_and_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, background: bool) -> None:
    import errno
    import os

    from collabd.store import state

    store = _history(tmp_path)
    store.checkpoint()
    expected = _everything(store)
    fds = len(os.listdir("/proc/self/fd"))
    real = state.atomic_write

    def full_disk(path: Path, data: bytes, **kwargs: object) -> None:
        if path.name.endswith(".idx.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(state, "atomic_write", full_disk)
    for _ in range(3):  # the daemon tries again at every checkpoint while the disk is full
        with pytest.raises(OSError, match="No space"):
            store.checkpoint(force=True, background=background)
            store.finish_checkpoint()
    assert len(os.listdir("/proc/self/fd")) == fds  # no table file kept open
    assert _everything(store) == expected
    monkeypatch.setattr(state, "atomic_write", real)
    store.checkpoint(force=True)
    assert _everything(store) == expected
    store.close()
    assert _everything(Store(tmp_path).open()) == expected
