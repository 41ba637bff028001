"""The record store: atomic replace, the lock, damaged files refused, crash replay."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from collabd.store import StateDamaged, StateLock, StateLocked, StateTooNew, Store, Txn
from collabd.store.fsutil import atomic_write
from collabd.store.tinystore import AtomicJSONStorage, CollabdTinyDB


def _put(store: Store, key: str, **value: object) -> int:
    txn = Txn()
    txn.put("records", key, {"id": key, **value})
    return store.commit(txn)


def test_commit_survives_without_checkpoint(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    _put(store, "XQ-2026-0001", status="open")
    _put(store, "XQ-2026-0002", status="open")
    # Simulate a crash: no close(), no checkpoint; only the write-ahead log has them.
    store.wal.close()
    again = Store(tmp_path).open()
    assert again.get("records", "XQ-2026-0001") == {"id": "XQ-2026-0001", "status": "open"}
    assert again.count("records") == 2


def test_replay_is_idempotent_after_checkpoint(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    _put(store, "XQ-2026-0001", n=1)
    store.checkpoint()
    _put(store, "XQ-2026-0001", n=2)
    txn = Txn()
    txn.delete("records", "XQ-2026-0001")
    txn.put("records", "XQ-2026-0003", {"id": "XQ-2026-0003"})
    store.commit(txn)
    store.wal.close()
    for _ in range(2):  # opening twice replays nothing twice
        again = Store(tmp_path).open()
        assert again.get("records", "XQ-2026-0001") is None
        assert again.get("records", "XQ-2026-0003") == {"id": "XQ-2026-0003"}
        again.wal.close()


def test_checkpoint_files_are_tinydb_files(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    _put(store, "XQ-2026-0001", title="采购系统需求")
    store.close()
    db = CollabdTinyDB(tmp_path / "db" / "records.json", storage=AtomicJSONStorage)
    doc = db.table("records").get(doc_id="XQ-2026-0001")
    assert doc is not None and doc["title"] == "采购系统需求"


def test_torn_last_log_line_is_cut_not_fatal(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    _put(store, "A", v=1)
    store.wal.close()
    segment = sorted((tmp_path / "db" / "wal").iterdir())[-1]
    with segment.open("ab") as fh:
        fh.write(b'0badc0de {"seq": 99, "ops": [["put","rec')  # a crash mid-append
    again = Store(tmp_path).open()
    assert again.get("records", "A") == {"id": "A", "v": 1}
    _put(again, "B", v=2)  # and the log is usable afterwards
    again.wal.close()
    third = Store(tmp_path).open()
    assert third.get("records", "B") == {"id": "B", "v": 2}


def test_damage_in_the_middle_of_the_log_stops_start(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    _put(store, "A", v=1)
    _put(store, "B", v=2)
    store.wal.close()
    segment = sorted((tmp_path / "db" / "wal").iterdir())[-1]
    data = bytearray(segment.read_bytes())
    data[20] ^= 0x01  # flip a bit inside the first line
    segment.write_bytes(bytes(data))
    with pytest.raises(StateDamaged, match="line 1 of the write-ahead log is damaged"):
        Store(tmp_path).open()


@pytest.mark.parametrize("damage", [b"", b'{"records": {"XQ-2026-0001": {"id": "XQ'])
def test_damaged_table_file_is_refused_with_recovery(tmp_path: Path, damage: bytes) -> None:
    store = Store(tmp_path).open()
    _put(store, "XQ-2026-0001", v=1)
    store.checkpoint()
    _put(store, "XQ-2026-0002", v=2)
    store.checkpoint()  # the previous records.json is now a kept copy
    store.close()
    target = tmp_path / "db" / "records.json"
    target.write_bytes(damage)
    with pytest.raises(StateDamaged) as info:
        Store(tmp_path).open()
    text = str(info.value)
    assert str(target) in text
    assert "will not start" in text and "cp " in text
    # The file was not silently re-initialised.
    assert target.read_bytes() == damage
    # Following the advice restores everything: the kept copy plus the log.
    command = next(line for line in text.splitlines() if line.strip().startswith("cp "))
    _, source, dest = command.split()
    Path(dest).write_bytes(Path(source).read_bytes())
    recovered = Store(tmp_path).open()
    assert recovered.get("records", "XQ-2026-0001") == {"id": "XQ-2026-0001", "v": 1}
    assert recovered.get("records", "XQ-2026-0002") == {"id": "XQ-2026-0002", "v": 2}


def test_missing_table_file_is_damage_not_a_fresh_start(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    _put(store, "A", v=1)
    store.close()
    (tmp_path / "db" / "records.json").unlink()
    with pytest.raises(StateDamaged, match="missing"):
        Store(tmp_path).open()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    store.close()
    path = tmp_path / "db" / "records.json"
    data = json.loads(path.read_text())
    data["_checkpoint"]["checkpoint"]["schema"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(StateTooNew, match="schema 99"):
        Store(tmp_path).open()


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "f.json"
    atomic_write(target, b"old")

    def boom(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="power cut"):
        atomic_write(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_stale_temp_files_are_removed_on_start(tmp_path: Path) -> None:
    Store(tmp_path).open().close()
    stale = tmp_path / "db" / ".records.json.abcdef012345.tmp"
    stale.write_bytes(b'{"half": ')
    Store(tmp_path).open().close()
    assert not stale.exists()


def test_second_daemon_is_refused(tmp_path: Path) -> None:
    with StateLock(tmp_path):
        with pytest.raises(StateLocked) as info:
            StateLock(tmp_path).acquire()
        assert f"pid {os.getpid()}" in str(info.value)
        assert "already running" in str(info.value)
    # Released: the next one gets it.
    with StateLock(tmp_path):
        pass


def test_readonly_reader_sees_uncheckpointed_commits(tmp_path: Path) -> None:
    writer = Store(tmp_path).open()
    _put(writer, "XQ-2026-0001", status="open")
    reader = Store(tmp_path, readonly=True).open()
    assert reader.get("records", "XQ-2026-0001") == {"id": "XQ-2026-0001", "status": "open"}
    writer.close()


def test_old_log_segments_are_dropped_but_kept_copies_stay_restorable(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    for round_ in range(12):
        _put(store, f"R{round_}", v=round_)
        store.checkpoint()
    segments = list((tmp_path / "db" / "wal").iterdir())
    assert len(segments) <= 7  # not one per checkpoint forever
    store.close()
    storage = store.storage("records")
    oldest = storage.backups()[-1]
    (tmp_path / "db" / "records.json").write_bytes(oldest.read_bytes())
    restored = Store(tmp_path).open()
    assert restored.count("records") == 12


def test_record_values_are_not_shared_with_the_caller(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    value = {"id": "A", "tags": ["x"]}
    txn = Txn()
    txn.put("records", "A", value)
    store.commit(txn)
    value["tags"].append("changed after commit")
    assert store.get("records", "A") == {"id": "A", "tags": ["x"]}
    store.close()


def _crash(store: Store) -> None:
    """The process dies: nothing is checkpointed or closed cleanly."""
    store.wal.close()


@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_a_log_that_lost_committed_entries_is_refused_with_what_is_lost(
        tmp_path: Path, how: str) -> None:
    store = Store(tmp_path).open()
    for n in range(3):
        _put(store, f"XQ-2026-{n:04d}", v=n)
    store.checkpoint()  # entries 1-3 are in the table files
    for n in range(3, 13):
        _put(store, f"XQ-2026-{n:04d}", v=n)  # entries 4-13 only in the log
    _crash(store)
    segment = sorted((tmp_path / "db" / "wal").glob("*.wal"))[-1]
    if how == "emptied":
        segment.write_bytes(b"")
    else:
        segment.unlink()
    with pytest.raises(StateDamaged) as info:
        Store(tmp_path).open()
    text = str(info.value)
    assert "ends at entry 3, but entry 13 was committed" in text
    assert "entries 4 to 13" in text and "collabd store accept-loss" in text
    # Accepting the loss knowingly, as the message says, lets it start from entry 3.
    assert Store(tmp_path).accept_loss() == (3, 13)
    recovered = Store(tmp_path).open()
    assert recovered.count("records") == 3


def test_a_table_file_rewritten_as_valid_json_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    _put(store, "XQ-2026-0001", v=1)
    store.checkpoint()
    _put(store, "XQ-2026-0002", v=2)
    store.close()
    target = tmp_path / "db" / "records.json"
    data = json.loads(target.read_bytes())
    data["records"] = {}  # valid JSON, the same checkpoint position, nothing in it
    target.write_bytes(json.dumps(data).encode())
    with pytest.raises(StateDamaged) as info:
        Store(tmp_path).open()
    text = str(info.value)
    assert "does not match the checksum recorded when it was written" in text
    command = next(line for line in text.splitlines() if line.strip().startswith("cp "))
    _, source, dest = command.split()
    Path(dest).write_bytes(Path(source).read_bytes())
    recovered = Store(tmp_path).open()
    assert recovered.count("records") == 2


def test_mid_log_damage_says_exactly_what_cutting_drops_and_cutting_does_that(
        tmp_path: Path) -> None:
    from collabd.store.wal import truncate_at

    store = Store(tmp_path).open()
    for key in "ABCDE":
        _put(store, key, v=key)
    _crash(store)
    segment = sorted((tmp_path / "db" / "wal").glob("*.wal"))[-1]
    lines = segment.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"C"', b'"X"')  # damage entry 3 of 5
    segment.write_bytes(b"\n".join(lines))
    with pytest.raises(StateDamaged) as info:
        Store(tmp_path).open()
    text = str(info.value)
    assert f"collabd store truncate-log {segment.name}:3" in text
    assert "keeps the 2 entries before it (through entry 2)" in text
    assert "drops line 3 and the 2 line(s) after it" in text
    assert truncate_at(segment, 3) == (2, 3)
    assert segment.with_name(segment.name + ".damaged").exists()
    Store(tmp_path).accept_loss()  # entries 3-5 were committed: cutting them is accepted
    recovered = Store(tmp_path).open()
    assert sorted(k for k, _ in recovered.items("records")) == ["A", "B"]
