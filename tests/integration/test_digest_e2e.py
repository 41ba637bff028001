"""The daily digest (每日待办提醒), on as shipped: one morning mail on working days to each
person something waits on (nothing when nothing does, never twice a day), a head's
department overdue items, and 退订 / 订阅 by reply."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import (
    Harness,
    body_text,
    finance_request,
    make_deployment,
    message,
    no_review_meetings,
)

pytestmark = pytest.mark.integration

FORM = finance_request()


@pytest.fixture
def h(tmp_path: Path) -> Iterator[Harness]:
    config = make_deployment(tmp_path / "deploy", digest=True)
    no_review_meetings(config)
    harness = Harness(config, "2026-12-01 10:00")
    yield harness
    harness.close()


def digests(sent: list) -> list:  # type: ignore[type-arg]
    return [m for m in sent if str(m["Subject"]).startswith("每日待办提醒")]


def test_one_morning_mail_to_whoever_something_waits_on(h: Harness) -> None:
    h.at("2026-12-01 10:05", message(sender="刘洋 <liu.yang@example.com>",
                                     subject="需求表：折扣数据", body=FORM,
                                     message_id="<d-req@example.com>"))
    assert not digests(h.at("2026-12-02 08:55"))
    sent = digests(h.at("2026-12-02 09:00"))
    # 郑浩 (财务部's liaison) is waited on; the requester and everyone else are not
    assert [str(m["To"]) for m in sent] == ["郑浩 <zheng.hao@example.com>"]
    assert str(sent[0]["Subject"]) == "每日待办提醒 12月2日：待您处理 1 项"
    text = body_text(sent[0])
    assert "XQ-2026-0001「折扣数据」：待响应，期限 2026-12-08 18:00" in text
    assert "请直接回复系统于 2026-12-01 10:05 发给您的邮件（主题含 [XQ-2026-0001]）" in text
    assert "回复“退订”" in text
    assert not digests(h.at("2026-12-02 10:00") + h.at("2026-12-02 11:30"))  # once a day
    assert not digests(h.at("2026-12-05 09:30"))  # a Saturday
    # Past its deadline: overdue first for him, and 财务部's head hears of it too
    sent = digests(h.at("2026-12-09 09:30"))
    to = {str(m["To"]): m for m in sent}
    assert sorted(to) == ["吴敏 <wu.min@example.com>", "郑浩 <zheng.hao@example.com>"]
    assert "（已逾期）" in body_text(to["郑浩 <zheng.hao@example.com>"])
    head = to["吴敏 <wu.min@example.com>"]
    assert str(head["Subject"]) == "每日待办提醒 12月9日：待您处理 0 项，财务部逾期 1 项"
    assert "XQ-2026-0001「折扣数据」" in body_text(head) and "等待 郑浩" in body_text(head)


def test_a_morning_missed_is_not_made_up_in_the_afternoon(h: Harness) -> None:
    h.at("2026-12-01 10:05", message(sender="刘洋 <liu.yang@example.com>",
                                     subject="需求表：折扣数据", body=FORM,
                                     message_id="<d-req@example.com>"))
    assert not digests(h.at("2026-12-02 14:00"))  # the daemon was down all morning
    assert digests(h.at("2026-12-03 09:10"))


def test_unsubscribe_and_subscribe_by_reply(h: Harness) -> None:
    h.at("2026-12-01 10:05", message(sender="刘洋 <liu.yang@example.com>",
                                     subject="需求表：折扣数据", body=FORM,
                                     message_id="<d-req@example.com>"))
    digest = digests(h.at("2026-12-02 09:00"))[0]
    answer = h.at("2026-12-02 09:20", message(
        sender="郑浩 <zheng.hao@example.com>", subject=f"回复：{digest['Subject']}",
        body="退订\n\n> 您好：目前等待您处理的事项", message_id="<d-off@example.com>",
        headers={"In-Reply-To": digest["Message-ID"]}))
    assert [str(m["Subject"]) for m in answer] == ["已退订每日待办提醒"]
    assert answer[0]["In-Reply-To"] == "<d-off@example.com>"
    assert not digests(h.at("2026-12-03 09:00"))
    # Stopping the digest stops nothing else: the request's own reminder still comes
    assert not digests(h.at("2026-12-07 09:00"))
    assert [m for m in h.at("2026-12-08 09:30") if "XQ-2026-0001" in str(m["Subject"])
            and "zheng.hao" in str(m["To"])]
    answer = h.at("2026-12-08 10:00", message(
        sender="郑浩 <zheng.hao@example.com>", subject="訂閱", body="",
        message_id="<d-on@example.com>"))
    assert [str(m["Subject"]) for m in answer] == ["已订阅每日待办提醒"]
    assert "郑浩 <zheng.hao@example.com>" in [str(m["To"])
                                             for m in digests(h.at("2026-12-09 09:00"))]


def test_a_stranger_cannot_unsubscribe_anyone(h: Harness) -> None:
    h.at("2026-12-01 10:05", message(sender="刘洋 <liu.yang@example.com>",
                                     subject="需求表：折扣数据", body=FORM,
                                     message_id="<d-req@example.com>"))
    answer = h.at("2026-12-01 11:00", message(
        sender="zheng.hao@example.com.evil.test", subject="退订", body="退订",
        message_id="<d-evil@example.com>"))
    assert [str(m["Subject"]) for m in answer] == ["未能识别您的邮件：退订"]
    assert [str(m["To"]) for m in digests(h.at("2026-12-02 09:00"))] == [
        "郑浩 <zheng.hao@example.com>"]
