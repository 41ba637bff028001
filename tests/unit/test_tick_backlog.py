"""After a backlog, the ticks plan review meetings 50 at a time, in arrival order, and
leave the rest unread — exactly as ticks that visit every open record would."""

from __future__ import annotations

import logging

import pytest

from collabd.config import Config
from collabd.store import Txn
from collabd.workflow import ticks
from helpers import at, daemon_at, message

PEOPLE = [("张伟", "zhang.wei@example.com", "市场部"), ("孙丽", "sun.li@example.com", "研发部")]


def _urgent_request(n: int) -> bytes:
    name, address, dept = PEOPLE[n % 2]
    return message(
        sender=f"{name} <{address}>", subject=f"跨部门沟通需求表：第{n}号",
        message_id=f"<backlog-{n}@example.com>",
        body=(f"发起部门：{dept}\n发起人：{name}\n接收部门：{PEOPLE[(n + 1) % 2][2]}\n"
              "需求类型：■项目推进\n需求背景与目标：季度复盘需要统一的数据口径。\n"
              f"具体需求内容：开发销售数据看板第{n}期。\n期望完成时间：2026年12月20日\n"
              "紧急程度：紧急\n交付标准：看板上线并通过验收。\n"))


def test_a_backlog_of_reviews_is_planned_in_bounded_ticks_that_read_only_what_they_plan(
        deployment: Config, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
        ) -> None:
    count = 2 * ticks.MEETINGS_PER_TICK + 20
    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        for n in range(count):
            daemon.journal.put(_urgent_request(n))
        daemon.process_journal()
        waiting = [r["id"] for r in daemon.store.values("records")
                   if (r.get("review") or {}).get("status") == "pending"]
        assert len(waiting) == count
        # One of the last to arrive is also overdue for its answer: its reminder is
        # due now, whatever the review planning has reached.
        late = daemon.store.get("records", waiting[-3])
        assert late is not None
        late["response_due"] = "2026-11-30T18:00:00+08:00"
        txn = Txn()
        txn.put("records", late["id"], late)
        daemon.store.commit(txn)
        daemon._plan([late], daemon.clock.now())

        reads: list[str] = []
        get = daemon.store.get

        def counting_get(table: str, key: str):  # type: ignore[no-untyped-def]
            if table == "records":
                reads.append(key)
            return get(table, key)

        planned_per_tick = []
        with caplog.at_level(logging.ERROR):
            for _ in range(4):
                before = {r["id"] for r in daemon.store.values("records")
                          if r.get("kind") == "meeting"}
                reads.clear()
                monkeypatch.setattr(daemon.store, "get", counting_get)
                daemon.tick()  # compared with a full tick each time (tests/conftest.py)
                monkeypatch.setattr(daemon.store, "get", get)
                meetings = [r for r in daemon.store.values("records")
                            if r.get("kind") == "meeting" and r["id"] not in before]
                planned_per_tick.append([m["parent"] for m in meetings])
                if len(planned_per_tick) == 1:
                    first_reads = set(reads)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        per = ticks.MEETINGS_PER_TICK
        assert [len(p) for p in planned_per_tick] == [per, per, 20, 0]
        # In the order the requests came: the first tick planned the first fifty.
        assert sorted(planned_per_tick[0]) == sorted(waiting[:per])
        assert sorted(p for tick in planned_per_tick for p in tick) == sorted(waiting)
        # The first tick read the fifty it planned and the overdue one, not the other 69.
        assert set(waiting[:per]) | {late["id"]} <= first_reads
        assert not first_reads & set(waiting[per:-3])
        reminded = [m for m in daemon.store.values("messages")
                    if m.get("record") == late["id"] and m.get("dir") == "out"
                    and m.get("purpose") not in ("request_ack", "request_notify",
                                                 "meeting_invite")]
        assert reminded, "the overdue request was not reminded while its review waited"
    finally:
        daemon.close()
