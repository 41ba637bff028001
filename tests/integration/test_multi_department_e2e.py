"""Seed 003's 《跨部门协作需求单》, with three departments ticked: one request led by the
first, each department notified and chased on its own, the requester told who answered."""

from __future__ import annotations

import json

import pytest

from helpers import DATA, Harness, body_text, collabd, reply_to

pytestmark = pytest.mark.integration

REQUEST = "XQ-2026-0001"



def test_the_003_form_is_read_with_every_field() -> None:
    result = collabd("parse", "--json", "--now", "2026-12-01T10:00",
                     str(DATA / "seed003_request.eml"))
    data = json.loads(result.stdout)
    assert data["kind"] == "request" and data["missing"] == [] and data["errors"] == []
    fields = data["fields"]
    assert fields["requester_dept"] == "市场部" and fields["requester"] == "刘洋"
    assert fields["title"] == "年終促銷活動" and fields["phone"] == "138-0000-0000"
    assert fields["receiver_dept"] == "研发部"  # the first ticked leads
    assert fields["cooperating_depts"] == ["财务部", "运营部"]  # the one list-valued field
    assert fields["due"] == "2026-12-20"  # the last of the 时间节点
    assert "去年同期" in fields["background"] and "活動頁開發" in fields["content"]


def test_three_departments_one_request_each_notified_and_chased(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", (DATA / "seed003_request.eml").read_bytes())
    records = [r for r in h.daemon.store.values("records") if r.get("kind") == "request"]
    assert [r["id"] for r in records] == [REQUEST]
    notices = [m for m in sent if "新的跨部门需求" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in notices) == [
        "何芳 <he.fang@example.com>", "孙丽 <sun.li@example.com>", "郑浩 <zheng.hao@example.com>"]
    finance = next(m for m in notices if "zheng.hao" in str(m["To"]))
    assert "需要贵部门配合（主责部门：研发部" in body_text(finance)
    lead = next(m for m in notices if "sun.li" in str(m["To"]))
    assert "贵部门为主责部门；配合部门：财务部、运营部" in body_text(lead)
    # The lead and 财务部 answer; 运营部 does not.
    h.at("2026-12-02 10:00", reply_to(lead, sender="孙丽 <sun.li@example.com>",
                                      text="收到，研发部负责活动页开发。"))
    told = h.at("2026-12-02 11:00", reply_to(finance, sender="郑浩 <zheng.hao@example.com>",
                                             text="财务部已收到，本周内核定预算。"))
    [answer] = [m for m in told if "已响应" in str(m["Subject"])]
    assert str(answer["Subject"]).startswith("[XQ-2026-0001] 财务部已响应")
    assert "各部门响应情况：研发部（主责）已响应；财务部已响应；运营部未响应" in body_text(answer)
    status = json.loads(collabd("status", "--json", "--now", "2026-12-02T12:00",
                                config=h.config).stdout)
    [open_request] = status["open"]
    assert "he.fang@example.com" in open_request["waiting_on"]
    assert "zheng.hao@example.com" not in open_request["waiting_on"]
    # Only 运营部 is chased (1 workday before the 一般 5-workday deadline, 12-08 18:00).
    reminders = [m for m in h.at("2026-12-07 18:00") + h.at("2026-12-08 09:00")
                 if "提醒" in str(m["Subject"])]
    assert [str(m["To"]) for m in reminders] == ["何芳 <he.fang@example.com>"]
    # And its head is told when it is overdue.
    overdue = [m for m in h.at("2026-12-09 09:00") if "已逾期" in str(m["Subject"])]
    assert [str(m["To"]) for m in overdue] == ["何芳 <he.fang@example.com>"]
    assert "huang.lei@example.com" in str(overdue[0]["Cc"])
