"""The store's contract, on both stores: the embedded one (TinyDB checkpoints and a
write-ahead log in the state directory) and PostgreSQL (a real server from initdb on a
loopback port). Whatever the workflow, the outbox and the commands rely on holds the
same on each: values as stored and copies when read, a commit all or nothing, the
indexes by kind and by record, the order of records, the message counts, and the state
there again after reopening. Two mailboxes in one database never mix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from collabd.store import Store, Txn
from servers import Postgres

pytestmark = pytest.mark.integration


@pytest.fixture(params=["tinydb", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """Opens (and reopens) one store of the kind asked for."""
    opened: list[Any] = []
    if request.param == "tinydb":
        def open_store(**kwargs: Any) -> Any:
            store = Store(tmp_path / "state", **kwargs).open()
            opened.append(store)
            return store
    else:
        from collabd.store.pg import PgStore

        server = request.getfixturevalue("postgres")
        space = f"{request.node.name}-{id(tmp_path)}"

        def open_store(**kwargs: Any) -> Any:
            store = PgStore(server.dsn, space=kwargs.pop("space", space), **kwargs).open()
            opened.append(store)
            return store
    yield open_store
    for store in opened:
        store.close()


def _request(rid: str, **more: Any) -> dict[str, Any]:
    return {"id": rid, "kind": "request", "status": "open", "title": f"需求 {rid}", **more}


def test_what_is_committed_is_read_back_as_a_copy(opener: Callable[..., Any]) -> None:
    store = opener()
    txn = Txn()
    txn.put("records", "XQ-2026-0001", _request("XQ-2026-0001", fields={"内容": "数据"}))
    txn.put("meta", "seq:XQ:2026", {"value": 1})
    position = store.commit(txn)
    record = store.get("records", "XQ-2026-0001")
    assert record["fields"] == {"内容": "数据"} and store.get("meta", "seq:XQ:2026") == {
        "value": 1}
    record["status"] = "changed behind the store's back"
    assert store.get("records", "XQ-2026-0001")["status"] == "open"
    assert store.commit(Txn()) == position  # nothing to commit: same position
    later = Txn()
    later.delete("meta", "seq:XQ:2026")
    assert store.commit(later) > position
    assert store.get("meta", "seq:XQ:2026") is None and store.get("records", "nope") is None


def test_indexes_by_kind_by_record_and_the_order_of_records(opener: Callable[..., Any]) -> None:
    store = opener()
    txn = Txn()
    for rid in ("XQ-2026-0002", "HY-2026-0001", "XQ-2026-0001"):
        kind = "meeting" if rid.startswith("HY") else "request"
        txn.put("records", rid, {"id": rid, "kind": kind})
    for mid, record in (("<a@x>", "XQ-2026-0001"), ("<b@x>", "XQ-2026-0002"),
                        ("<c@x>", "XQ-2026-0001")):
        txn.put("messages", mid, {"dir": "in", "record": record})
    store.commit(txn)
    assert store.keys_of_kind("request") == ["XQ-2026-0001", "XQ-2026-0002"]
    assert store.keys_of_kind("meeting") == ["HY-2026-0001"]
    assert sorted(store.group_keys("XQ-2026-0001")) == ["<a@x>", "<c@x>"]
    assert store.in_record_order(["XQ-2026-0001", "XQ-2026-0002", "gone"]) == [
        "XQ-2026-0002", "XQ-2026-0001"]  # as first stored
    assert store.count("records") == 3 and store.count("messages") == 3
    assert [k for k, _ in store.items("records")] == ["XQ-2026-0002", "HY-2026-0001",
                                                      "XQ-2026-0001"]


def test_a_commit_is_all_or_nothing(opener: Callable[..., Any]) -> None:
    store = opener()
    txn = Txn()
    txn.put("records", "XQ-2026-0001", _request("XQ-2026-0001"))
    txn.put("records", "XQ-2026-0002", {"id": "XQ-2026-0002", "bad": object()})  # not JSON
    with pytest.raises(TypeError):
        store.commit(txn)
    assert store.get("records", "XQ-2026-0001") is None and store.count("records") == 0


def test_message_counts_follow_the_index(opener: Callable[..., Any]) -> None:
    store = opener()
    txn = Txn()
    txn.put("messages", "<in@x>", {"dir": "in", "record": None})
    txn.put("messages", "<out@x>", {"dir": "out", "record": None})
    store.commit(txn)
    assert store.message_counts() == [1, 0]
    sent = Txn()
    sent.put("messages", "<out@x>", {"dir": "out", "record": None, "sent": "2026-12-01"})
    store.commit(sent)
    assert store.message_counts() == [1, 1]


def test_the_state_is_there_after_reopening(opener: Callable[..., Any]) -> None:
    store = opener()
    txn = Txn()
    txn.put("records", "XQ-2026-0001", _request("XQ-2026-0001"))
    txn.put("outbox", "<ack@x>", {"raw": "…", "attempts": 0})
    position = store.commit(txn)
    store.close()
    again = opener()
    assert again.get("records", "XQ-2026-0001")["title"] == "需求 XQ-2026-0001"
    assert [k for k, _ in again.items("outbox")] == ["<ack@x>"]
    assert again.seq == position
    reader = opener(readonly=True)
    with pytest.raises(RuntimeError, match="read-only"):
        reader.commit(txn)


def test_two_mailboxes_in_one_database_never_mix(postgres: Postgres) -> None:
    from collabd.store.pg import PgStore

    first = PgStore(postgres.dsn, space="collab@group.example").open()
    second = PgStore(postgres.dsn, space="collab@subsidiary.example").open()
    try:
        for store, title in ((first, "集团"), (second, "子公司")):
            txn = Txn()
            txn.put("records", "XQ-2026-0001", _request("XQ-2026-0001", title=title))
            store.commit(txn)
        assert first.get("records", "XQ-2026-0001")["title"] == "集团"
        assert second.get("records", "XQ-2026-0001")["title"] == "子公司"
        assert first.count("records") == second.count("records") == 1
    finally:
        first.close()
        second.close()


def test_the_schema_is_created_once_and_a_newer_one_refused(postgres: Postgres) -> None:
    import psycopg

    from collabd.store.errors import StateTooNew
    from collabd.store.pg import SCHEMA_VERSION, PgStore

    PgStore(postgres.dsn, space="a").open().close()
    PgStore(postgres.dsn, space="b").open().close()  # (migrated already: nothing again)
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM collabd_schema")]
        assert versions == list(range(1, SCHEMA_VERSION + 1))
        conn.execute("INSERT INTO collabd_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    try:
        with pytest.raises(StateTooNew, match="upgrade collabd"):
            PgStore(postgres.dsn, space="c").open()
    finally:
        with psycopg.connect(postgres.dsn, autocommit=True) as conn:
            conn.execute("DELETE FROM collabd_schema WHERE version > %s", (SCHEMA_VERSION,))


def test_one_leads_a_mailbox_a_standby_takes_over_and_the_old_leader_is_fenced(
        postgres: Postgres) -> None:
    import psycopg

    from collabd.store.errors import Fenced
    from collabd.store.pg import PgStore

    space = "collab@failover.example"
    leader = PgStore(postgres.dsn, space=space).open()
    standby = PgStore(postgres.dsn, space=space).open()
    other = PgStore(postgres.dsn, space="collab@another.example").open()
    try:
        assert leader.lead() and not standby.lead(wait=0.2, poll=0.1)
        assert other.lead()  # another mailbox is led on its own
        txn = Txn()
        txn.put("records", "XQ-2026-0001", _request("XQ-2026-0001"))
        leader.commit(txn)
        # The leader is cut off (its session ends: a dead machine, a lost network).
        with psycopg.connect(postgres.dsn, autocommit=True) as admin:
            pid = leader._conn.info.backend_pid
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert standby.lead(wait=15, poll=0.1)  # takes over, where the leader stopped
        assert standby.get("records", "XQ-2026-0001") is not None
        assert standby.seq == leader.seq
        # The old leader, if it goes on, writes nothing.
        late = Txn()
        late.put("records", "XQ-2026-0002", _request("XQ-2026-0002"))
        with pytest.raises(Fenced):
            leader.commit(late)
        assert standby.get("records", "XQ-2026-0002") is None
        assert not leader.leading
        # The new leader's own commits go on.
        standby.commit(late)
        assert standby.get("records", "XQ-2026-0002") is not None
    finally:
        for store in (leader, standby, other):
            store.close()


def test_a_leader_whose_lock_is_gone_is_fenced_inside_its_commit(postgres: Postgres) -> None:
    """Even on a live session: a commit checks the lock in its own transaction."""
    from collabd.store.errors import Fenced
    from collabd.store.pg import PgStore

    store = PgStore(postgres.dsn, space="collab@fence.example").open()
    try:
        assert store.lead()
        store._conn.execute("SELECT pg_advisory_unlock_all()")
        txn = Txn()
        txn.put("records", "XQ-2026-0001", _request("XQ-2026-0001"))
        with pytest.raises(Fenced):
            store.commit(txn)
        # Fenced for good: a `finally` that commits again is refused too, and so is a read.
        with pytest.raises(Fenced):
            store.commit(txn)
        with pytest.raises(Fenced):
            store.get("records", "XQ-2026-0001")
        reader = PgStore(postgres.dsn, space="collab@fence.example", readonly=True).open()
        assert reader.get("records", "XQ-2026-0001") is None
        reader.close()
    finally:
        store.close()


def test_a_whole_table_is_read_page_by_page_in_its_order(
        postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    """PostgreSQL reads a table a page at a time: every entry once, in the order they
    were first stored (a changed one keeps its place), across the pages' edges."""
    from collabd.store import pg

    monkeypatch.setattr(pg, "PAGE", 3)
    store = pg.PgStore(postgres.dsn, space="collab@pages.example").open()
    try:
        ids = [f"XQ-2026-{n:04d}" for n in (5, 1, 9, 2, 8, 3, 7, 4, 6, 10)]
        txn = Txn()
        for rid in ids:
            txn.put("records", rid, _request(rid, fields={"内容": "数据"}))
        store.commit(txn)
        later = Txn()
        later.put("records", ids[4], _request(ids[4], status="closed"))
        later.delete("records", ids[6])
        store.commit(later)
        kept = [rid for rid in ids if rid != ids[6]]
        assert [k for k, _ in store.items("records")] == kept
        assert [r["status"] for r in store.values("records")][4] == "closed"
        reader = pg.PgStore(postgres.dsn, space="collab@pages.example", readonly=True,
                            summary=True).open()
        summaries = list(reader.values("records"))
        reader.close()
        assert [s["id"] for s in summaries] == kept and "fields" not in summaries[0]
    finally:
        store.close()


def test_a_nul_character_in_a_key_or_a_value_is_kept(opener: Callable[..., Any]) -> None:
    """Hostile mail can carry NUL in a Message-ID or a subject: the commit must not fail
    (PostgreSQL's text refuses NUL: it keeps U+FFFD instead), and the entry is found
    again by the same key."""
    store = opener()
    key = "<evil\x00id@example.com>"
    txn = Txn()
    txn.put("messages", key, {"dir": "in", "record": "", "subject": "主题\x00尾"})
    store.commit(txn)
    found = store.get("messages", key)
    assert found is not None and found["subject"].replace("\ufffd", "\x00") == "主题\x00尾"
    assert store.message_counts()[0] == 1


def test_readers_create_a_missing_schema_but_never_migrate_one(postgres: Postgres) -> None:
    """`collabd status` on a new database shows an empty state (the schema is made), but
    never upgrades an older schema under the daemons that use it."""
    import psycopg

    from collabd.errors import CollabdError
    from collabd.store.pg import SCHEMA_VERSION, PgStore

    with psycopg.connect(postgres.dsn, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS collabd_fresh")
        admin.execute("CREATE DATABASE collabd_fresh")
    fresh = postgres.dsn.replace("dbname=postgres", "dbname=collabd_fresh")
    reader = PgStore(fresh, space="collab@fresh.example", readonly=True).open()
    assert reader.count("records") == 0 and list(reader.items("records")) == []
    reader.close()
    with psycopg.connect(fresh, autocommit=True) as older:  # as an older daemon left it
        older.execute("DELETE FROM collabd_schema WHERE version = %s", (SCHEMA_VERSION,))
    with pytest.raises(CollabdError, match="older than this collabd's"):
        PgStore(fresh, space="collab@fresh.example", readonly=True).open()
    writer = PgStore(fresh, space="collab@fresh.example").open()  # the daemon migrates
    writer.close()
    reader = PgStore(fresh, space="collab@fresh.example", readonly=True).open()
    reader.close()
