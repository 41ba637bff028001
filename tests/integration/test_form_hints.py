"""What a person is told when a form cannot be taken: the blank form's own hints are
never read as answers, example dates lie ahead, and someone the directory does not know
is told whom to ask."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from collabd.config import Config
from helpers import Harness, body_text, message

pytestmark = pytest.mark.integration


@pytest.fixture
def h(deployment: Config) -> Iterator[Harness]:
    harness = Harness(deployment, "2027-03-01 10:00")
    yield harness
    harness.close()


FILLED_BLANK = """《跨部门沟通需求表》
需求编号：（留空，由系统分配）
发起部门：市场部
发起人：刘洋
接收部门：财务部
接收人：
需求类型：□项目推进 ■资源支持 □问题解决 □信息同步 □其他
需求背景与目标：季度预算需要提前锁定。
具体需求内容：请财务部核定第二季度活动预算。
期望完成时间：（如 2027-03-15）
紧急程度：□紧急（3个工作日内响应） ■一般（5个工作日内） □不急（7个工作日内）
交付标准：预算表经财务部签字。
"""


def test_the_blank_forms_hints_are_not_answers(h: Harness) -> None:
    sent = h.at("2027-03-01 10:05", message(
        sender="刘洋 <liu.yang@example.com>", subject="跨部门沟通需求表：二季度预算",
        body=FILLED_BLANK))
    reply = next(m for m in sent if "信息不完整" in str(m["Subject"]))
    text = body_text(reply)
    # The hint left in 期望完成时间 is no date: it is asked for; the one in 需求编号 is no
    # reference of the sender's own.
    assert "期望完成时间" in text.split("原邮件")[0]
    assert not any(r.get("external_ref") for r in h.daemon.store.values("records"))
    # Every example date the reply gives lies ahead.
    for year, month, day in re.findall(r"(\d{4})-(\d{2})-(\d{2})", text):
        assert (int(year), int(month), int(day)) > (2027, 3, 1), text


def test_a_sender_the_directory_does_not_know_is_told_whom_to_ask(h: Harness) -> None:
    body = FILLED_BLANK.replace("发起部门：市场部\n发起人：刘洋\n", "").replace(
        "（如 2027-03-15）", "2027-03-15")
    sent = h.at("2027-03-01 10:05", message(
        sender="新同事 <new.colleague@example.com>", subject="跨部门沟通需求表：二季度预算",
        body=body))
    reply = next(m for m in sent if "信息不完整" in str(m["Subject"]))
    assert "请联系执行秘书 李静（li.jing@example.com）" in body_text(reply)
