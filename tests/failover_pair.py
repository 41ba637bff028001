"""Two daemons on one shared mailbox with their state in one PostgreSQL (issue 18): the
pieces the failover test and bench/failover.py share — the deployments, a view of who
leads, and the check that every message was processed once and acknowledged once."""

from __future__ import annotations

import signal
import uuid
from email.message import EmailMessage
from pathlib import Path

import psycopg

from collabd.config import Config, load_config
from collabd.store.pg import PgStore
from helpers import SHARED, DaemonProcess, message, parse, wait_until
from servers import Dovecot, Postgres, Submission, imap_deployment

PROCESSED = "collabd.processed"  # (Dovecot's "." separator)
REQUESTERS = ("liu.yang@example.com", "zhang.wei@example.com")


def request(n: int) -> bytes:
    sender = ("刘洋 <liu.yang@example.com>", "张伟 <zhang.wei@example.com>")[n % 2]
    dept = ("市场部", "财务部")[n % 2]
    body = (f"发起部门：{dept}\n接收部门：研发部\n需求背景与目标：第{n}号需求的背景。\n"
            f"具体需求内容：第{n}号需求的内容。\n期望完成时间：2099-12-30\n"
            "交付标准：通过验收。\n")
    return message(sender=sender, subject=f"需求表：第{n}号", body=body,
                   message_id=f"<failover-{n}@example.com>")


def deployment(root: Path, dovecot: Dovecot, submission: Submission, postgres: Postgres,
               space: str, node: str, takeover: float = 3.0) -> Config:
    config = imap_deployment(root, dovecot, submission)
    with config.path.open("a", encoding="utf-8") as fh:
        fh.write(f"store: postgresql\npostgresql:\n  dsn: \"{postgres.dsn}\"\n"
                 f"  space: {space}\n  takeover_seconds: {takeover}\n  node: {node}\n")
    return load_config(config.path)


class Pair:
    """Two daemon processes, a and b, and a read-only view of who leads."""

    def __init__(self, tmp_path: Path, dovecot: Dovecot, submission: Submission,
                 postgres: Postgres, *, takeover: float = 3.0) -> None:
        self.space = f"failover-{uuid.uuid4().hex[:10]}"
        self.postgres = postgres
        self.daemons = {name: DaemonProcess(deployment(tmp_path / name, dovecot, submission,
                                                       postgres, self.space, name, takeover))
                        for name in ("a", "b")}
        # (the schema made now, as a first start would: readers never make it)
        PgStore(postgres.dsn, space=self.space).open().close()
        self.watch = PgStore(postgres.dsn, space=self.space, readonly=True).open()

    def start(self, name: str) -> None:
        self.daemons[name].start(timeout=30, until=(b"started on", b"standing by"))

    def leader(self) -> str | None:
        try:
            nodes = self.watch.nodes()
        except psycopg.OperationalError:
            self.reconnect()
            return None
        return next((n["node"] for n in nodes if n["role"] == "leader"), None)

    def reconnect(self) -> None:
        self.watch.close()
        self.watch = PgStore(self.postgres.dsn, space=self.space, readonly=True).open()

    def processed(self) -> int:
        counts = self.watch.get("meta", "_message_counts") or {}
        return int(counts.get("processed", 0))

    def journal(self) -> dict[str, int]:
        from collabd.store.pg_journal import PgJournal

        return PgJournal(self.watch).counts()

    def close(self) -> None:
        for daemon in self.daemons.values():
            if daemon.proc is not None and daemon.proc.poll() is None:
                daemon.stop(signal.SIGTERM, timeout=30)
        self.watch.close()


def acknowledgements(dovecot: Dovecot) -> list[EmailMessage]:
    return [m for user in REQUESTERS for m in map(parse, dovecot.messages(user))
            if "需求已受理" in str(m["Subject"])]


def assert_each_processed_once_and_acknowledged(pair: Pair, dovecot: Dovecot,
                                                total: int, timeout: float = 120) -> None:
    """Every request became exactly one record, was acknowledged (a resend within the
    documented window has the same Message-ID), and left the inbox."""
    wait_until(lambda: pair.processed() >= total, timeout=timeout,
               message=f"all {total} messages processed")
    wait_until(lambda: dovecot.count(SHARED) == 0, timeout=60, message="INBOX emptied")
    try:
        wait_until(lambda: pair.watch.count("outbox") == 0, timeout=timeout,
                   message="everything queued was sent")
    except AssertionError:
        left = [(k, v.get("failed"), v.get("attempts"), v.get("last_error"),
                 v.get("next_attempt")) for k, v in pair.watch.items("outbox")]
        raise AssertionError(f"{len(left)} still queued to send: {left[:5]}") from None
    assert pair.processed() == total  # counted once each: none processed twice
    records = [r for r in pair.watch.values("records") if r["kind"] == "request"]
    assert len(records) == total, f"{len(records)} records for {total} requests"
    inbound = {k for k, v in pair.watch.items("messages") if v.get("dir") == "in"}
    assert {f"<failover-{n}@example.com>" for n in range(total)} <= inbound
    acks = acknowledgements(dovecot)
    by_record: dict[str, set[str]] = {}
    for ack in acks:
        subject = str(ack["Subject"])
        by_record.setdefault(subject[1:subject.index("]")], set()).add(str(ack["Message-ID"]))
    assert set(by_record) == {r["id"] for r in records}
    assert all(len(ids) == 1 for ids in by_record.values()), "a second, different ack"
    assert pair.journal() == {"waiting": 0, "shunt": 0, "bad": 0}
    assert dovecot.count(SHARED, PROCESSED) == total


