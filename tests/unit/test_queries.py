"""What people write to ask "what is open for me?" by mail."""

from __future__ import annotations

import pytest

from collabd.inbound.classify import read_query
from collabd.inbound.message import read_message
from helpers import message


@pytest.mark.parametrize(("subject", "body", "expected"), [
    ("我的待办", "", {"what": "mine"}),
    ("待办？", "", {"what": "mine"}),
    ("回复: 查询", "", {"what": "mine"}),
    ("查询 XQ-2026-0012", "", {"what": "record", "record": "XQ-2026-0012"}),
    ("查询：rw-2026-0003", "", {"what": "record", "record": "RW-2026-0003"}),
    ("查询 部门", "", {"what": "dept", "dept": ""}),
    ("查询 研发部", "", {"what": "dept", "dept": "研发部"}),
    ("查询一下我的需求进展", "", {"what": "mine"}),
    ("你好", "查詢\n谢谢", {"what": "mine"}),  # the first line, traditional
    ("我的待辦", "", {"what": "mine"}),  # traditional
    ("你好", "待辦事項\n谢谢", {"what": "mine"}),
    ("退訂", "", {"what": "unsubscribe"}),
    ("回复：每日待办提醒 12月2日", "订阅\n\n> 您好", {"what": "subscribe"}),
    ("看板", "", {"what": "board"}),
    ("进度看板需求", "开发一个看板", None),  # a subject about a board is not the command
    ("会议安排", "请问下周的会议", None),
    ("查询系统优化需求表", "发起部门：市场部", {"what": "mine"}),  # (forms are read first)
])
def test_queries_as_people_write_them(subject: str, body: str,
                                      expected: dict[str, str] | None) -> None:
    raw = message(sender="周杰 <zhou.jie@example.com>", subject=subject, body=body or " ")
    assert read_query(read_message(raw)) == expected
