"""A cross-department project run by mail (seeds 001 and 002): a plan with three
departments, six tasks, a RACI matrix and a communication plan comes in as an .xlsx or
as a table pasted into the mail; the project and its tasks exist, each R knows their
tasks, the 启动会 is planned; after its minutes are confirmed each head signs the
《跨部门协作备忘录》 alone, a late one is chased and escalated, and all are told when it
is signed."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest

from helpers import (
    Harness,
    body_text,
    calendar_part,
    collabd,
    default_rules,
    message,
    reply_to,
    subjects,
)
from plans import TASKS, plan_text, plan_xlsx, with_attachment

pytestmark = pytest.mark.integration

PROJECT = "PJ-2026-0001"
LEAD = "刘洋 <liu.yang@example.com>"
HEADS = ["吴敏 <wu.min@example.com>", "张伟 <zhang.wei@example.com>",
         "赵强 <zhao.qiang@example.com>"]


def _plan_mail(data: bytes | None = None, *, sender: str = LEAD,
               message_id: str = "<plan-1@example.com>") -> bytes:
    return with_attachment(sender=sender, subject="项目计划：年终促销系统上线",
                           body="李静您好，附件是项目计划，请建立项目。\n刘洋",
                           filename="年终促销-计划.xlsx",
                           data=data if data is not None else plan_xlsx(default_rules()),
                           message_id=message_id)


def _tasks(h: Harness) -> list[dict[str, object]]:
    return [h.record(t) for t in h.record(PROJECT)["tasks"]]


def test_a_plan_in_an_xlsx_makes_the_project_its_tasks_and_the_kickoff(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    project = h.record(PROJECT)
    assert project["status"] == "kickoff" and project["title"] == "年终促销系统上线"
    assert project["lead"]["name"] == "刘洋" and project["lead_dept"] == "市场部"
    assert [d["dept"] for d in project["departments"]] == ["市场部", "研发部", "财务部"]
    assert (project["start"], project["finish"]) == ("2026-12-02", "2027-01-22")
    assert [m["freq"] for m in project["comm_plan"]] == ["daily", "weekly", "once"]
    tasks = _tasks(h)
    assert [t["title"] for t in tasks] == [t[0] for t in TASKS]
    docs = tasks[1]
    assert docs["owner"]["name"] == "周杰" and docs["dept"] == "研发部"
    assert docs["raci"] == {"市场部": "A", "研发部": "R", "财务部": "C"}
    assert docs["accountable"]["name"] == "张伟"  # the A department's head
    assert (docs["planned_start"], docs["due_date"]) == ("2026-12-09", "2026-12-15")
    assert tasks[0]["accountable"]["name"] == "刘洋"  # no A: the project lead (rules)
    assert tasks[2]["raci"] == {"市场部": "C", "财务部": "RA"}  # R/A in one cell
    assert tasks[3]["milestone"] is True and tasks[0]["milestone"] is False
    # The lead is told (the secretary in copy), each R once with their own tasks.
    [ack] = [m for m in sent if "项目已建立" in str(m["Subject"])]
    assert str(ack["To"]) == LEAD and "li.jing@example.com" in str(ack["Cc"])
    assert str(ack["Subject"]).startswith(f"[{PROJECT}]")
    assert "RW-2026-0002 需求文档输出：研发部 周杰" in body_text(ack)
    told = {str(m["To"]): body_text(m) for m in sent if "您负责的项目任务" in str(m["Subject"])}
    assert sorted(told) == sorted([LEAD, "陈晨 <chen.chen@example.com>",
                                   "周杰 <zhou.jie@example.com>", "孙丽 <sun.li@example.com>",
                                   "郑浩 <zheng.hao@example.com>"])
    mine = told["周杰 <zhou.jie@example.com>"]
    assert "需求文档输出" in mine and "测试验收" in mine and "预算核定" not in mine
    # The 启动会: every head and liaison, the lead organizing, in a room, after notice.
    [invite] = [m for m in sent if "项目启动会" in str(m["Subject"])]
    ics = calendar_part(invite).decode()
    for address in ("zhang.wei", "zhao.qiang", "wu.min", "sun.li", "zheng.hao", "liu.yang",
                    "li.jing"):
        assert f"{address}@example.com" in ics
    meeting = h.record(project["kickoff"])
    assert meeting["meeting_kind"] == "kickoff" and meeting["parent"] == PROJECT
    assert meeting["organizer"]["name"] == "刘洋" and meeting["room"]
    assert meeting["start"] >= "2026-12-02T10:00"  # a working day's notice
    assert "二、角色与分工" in meeting["agenda"] and "活动页开发" in meeting["agenda"]


def test_the_same_plan_pasted_in_traditional_characters_reads_the_same(h: Harness) -> None:
    result = collabd("parse", "--json", "--now", "2026-12-01T10:00", "-", stdin=message(
        sender=LEAD, subject="專案計劃：年終促銷系統上線", body=plan_text()))
    data = json.loads(result.stdout)
    assert data["kind"] == "project" and data["errors"] == [] and data["missing"] == []
    assert data["fields"]["title"] == "年终促销系统上线"
    assert [t["name"] for t in data["tasks"]] == [t[0] for t in TASKS]
    assert data["tasks"][1]["raci"] == {"市场部": "A", "研发部": "R", "财务部": "C"}
    assert data["tasks"][3]["milestone"] is True
    assert data["tasks"][0]["actual"] is None and data["tasks"][0]["status"] == "未开始"
    assert [m["when"] for m in data["meetings"]] == ["每日 17:00", "每周五 15:00",
                                                      "2026-12-07 14:00"]
    h.at("2026-12-01 10:05", message(sender=LEAD, subject="專案計劃", body=plan_text(),
                                     message_id="<pasted@example.com>"))
    assert [t["title"] for t in _tasks(h)] == [t[0] for t in TASKS]


def test_what_is_wrong_in_a_plan_comes_back_in_one_reply_with_the_blank_plan(
        h: Harness) -> None:
    broken = [
        ("客户需求收集", "", "市场部", "陈晨", dt.date(2026, 12, 2), dt.date(2026, 12, 8), None,
         "", "", "", "", {"市场部": "C", "研发部": "I"}),  # nobody responsible (R)
        ("需求文档输出", "", "研发部", "周杰", dt.date(2026, 12, 9), dt.date(2026, 12, 15),
         None, "", "", "", "", {"市场部": "A", "研发部": "R", "财务部": "A"}),  # two A
        ("预算核定", "", "设计部", "郑浩", dt.date(2026, 12, 3), dt.date(2026, 12, 10), None,
         "", "", "", "", {}),  # a department not in the directory
        ("活动页开发", "", "研发部", "孙丽", dt.date(2027, 1, 8), dt.date(2026, 12, 16), None,
         "", "", "", "", {"研发部": "R"}),  # finishes before it starts
    ]
    sent = h.at("2026-12-01 10:05", _plan_mail(plan_xlsx(default_rules(), broken)))
    assert [r for r in h.daemon.store.values("records")] == []  # nothing half-made
    [reply] = sent
    assert "项目计划信息不完整" in str(reply["Subject"])
    text = body_text(reply)
    assert "任务「客户需求收集」在 RACI 矩阵中没有负责方（R）" in text
    assert "任务「需求文档输出」有 2 个审批方（A）：市场部、财务部，每项任务只能有一个" in text
    assert "任务「预算核定」的负责部门「设计部」不在组织目录中" in text
    assert "任务「活动页开发」的计划完成 2026-12-16 早于计划开始 2027-01-08" in text
    [blank] = [p for p in reply.iter_attachments()]
    assert blank.get_filename() == "跨部门协作沟通计划与跟踪表.xlsx"
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(blank.get_content()))
    headings = [c.value for c in book["表2 任务跟踪子表"][1]]
    assert headings[:3] == ["任务名称", "任务描述", "负责部门"]
    assert headings[-4:] == ["市场部", "研发部", "财务部", "运营部"]  # the directory's


def test_the_blank_plan_sent_back_unfilled_is_missing_everything_it_asks(h: Harness) -> None:
    from collabd.outbound.plan_workbook import blank_plan

    sent = h.at("2026-12-01 10:05", _plan_mail(blank_plan(default_rules())))
    [reply] = sent
    text = body_text(reply)
    for label in ("项目名称（项目叫什么）", "核心目标（项目要达成什么）",
                  "任务跟踪表（表2）（有哪些任务、谁负责、何时完成）"):
        assert f"- {label}" in text
    assert "- 项目负责人" not in text and "项目负责人：刘洋" in text  # blank: the sender leads


def test_a_plan_from_someone_outside_the_directory_makes_no_project(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail(sender="路人 <someone@elsewhere.example>"))
    assert list(h.daemon.store.values("records")) == []
    [reply] = sent
    assert "未能建立协作项目" in str(reply["Subject"])
    assert "只能由组织目录中的同事发起" in body_text(reply)
    assert "执行秘书 李静（li.jing@example.com）" in body_text(reply)  # whom to ask
    assert not list(reply.iter_attachments())  # the directory's departments stay inside


def _kickoff_confirmed(h: Harness) -> list:  # type: ignore[type-arg]
    """The plan in, the 启动会 held, its minutes sent and confirmed by every attendee:
    what that last pass sent."""
    h.at("2026-12-01 10:05", _plan_mail())
    asked = [m for m in h.at("2026-12-03 10:01") if "会议纪要" in str(m["Subject"])]
    [ask] = asked
    assert str(ask["To"]) == LEAD
    confirms = h.at("2026-12-03 14:00", reply_to(
        ask, sender=LEAD, text="启动会纪要：各部门确认分工与时间节点，无异议。"))
    last: list = []  # type: ignore[type-arg]
    for confirm in confirms:
        last = h.at("2026-12-03 15:00", reply_to(confirm, sender=str(confirm["To"]),
                                                 text="确认"))
    return last


def test_the_memo_is_signed_by_each_head_alone_and_a_late_one_is_escalated(
        h: Harness) -> None:
    sent = _kickoff_confirmed(h)
    memos = [m for m in sent if "请签署《跨部门协作备忘录》" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in memos) == HEADS  # each alone
    assert all(m["Cc"] is None for m in memos)
    finance = next(m for m in memos if "wu.min" in str(m["To"]))
    text = body_text(finance)
    assert "3. 财务部（负责人 吴敏，对接人 郑浩）" in text
    assert "负责：预算核定，2026-12-03 至 2026-12-10，交付：预算表" in text
    assert "请于 2026年12月4日（周五）15:00 前回复" in text
    assert h.record(PROJECT)["status"] == "memo"
    # Someone else answering a head's memo does not sign it.
    h.at("2026-12-03 15:30", reply_to(finance, sender="郑浩 <zheng.hao@example.com>",
                                      text="确认"))
    assert h.record(PROJECT)["status"] == "memo"
    assert "sign-off not counted" in h.whats(PROJECT)
    for memo in memos:
        if memo is not finance:
            h.at("2026-12-03 16:00", reply_to(memo, sender=str(memo["To"]), text="确认"))
    status = json.loads(collabd("status", "--json", "--now", "2026-12-03T16:30",
                                config=h.config).stdout)
    [open_project] = [r for r in status["open"] if r["id"] == PROJECT]
    assert open_project["waiting_on"] == ["wu.min@example.com"]
    # 吴敏 is late: reminded with the memo itself, then overdue, then the 组长.
    reminder = [m for m in h.at("2026-12-04 11:00") if "wu.min" in str(m["To"])]
    assert ["提醒" in str(m["Subject"]) for m in reminder] == [True]
    assert "待签署的《跨部门协作备忘录》（第1版）" in body_text(reminder[0])
    overdue = h.at("2026-12-04 15:00")
    assert any("已逾期" in str(m["Subject"]) and "wu.min" in str(m["To"]) for m in overdue)
    escalated = h.at("2026-12-08 09:30")  # 1 workday after: the end of Monday
    assert any("wang.jianguo" in str(m["To"]) for m in escalated), subjects(escalated)
    # Her 确认 on the reminder signs; everyone is told, with who signed when.
    done = h.at("2026-12-08 10:00", reply_to(reminder[0], sender=HEADS[0], text="确认"))
    [signed] = [m for m in done if "已由各部门负责人签署" in str(m["Subject"])]
    to = str(signed["To"]) + str(signed["Cc"])
    for address in ("zhang.wei", "zhao.qiang", "wu.min", "liu.yang", "sun.li", "zheng.hao",
                    "li.jing"):
        assert address in to
    assert "吴敏（财务部）：2026年12月8日（周二）10:00 回复“确认”" in body_text(signed)
    project = h.record(PROJECT)
    assert project["status"] == "running" and project["memo"]["signed"]
    assert project["waiting_on"] == []


def test_a_head_who_objects_reaches_the_lead_and_the_secretary(h: Harness) -> None:
    sent = _kickoff_confirmed(h)
    memo = next(m for m in sent if "请签署" in str(m["Subject"]) and "zhao.qiang" in str(m["To"]))
    told = h.at("2026-12-03 16:00", reply_to(
        memo, sender=str(memo["To"]), text="不确认，测试验收只有一周，时间不够，建议延到1月22日"))
    [objection] = [m for m in told if "提出意见" in str(m["Subject"])]
    assert str(objection["To"]) == LEAD and "li.jing" in str(objection["Cc"])
    assert "测试验收只有一周" in body_text(objection)
    project = h.record(PROJECT)
    assert project["status"] == "memo"
    assert project["memo"]["objections"][0]["by"] == "zhao.qiang@example.com"


def _told(sent: list, who: str) -> list:  # type: ignore[type-arg]
    return [m for m in sent if who in str(m["To"])]


def test_the_r_delivers_and_only_the_a_accepts(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    [zhou] = _told([m for m in sent if "您负责的项目任务" in str(m["Subject"])], "zhou.jie")
    # 周杰 has two tasks: a report naming neither is asked back, not guessed.
    asked = h.at("2026-12-10 10:00", reply_to(zhou, sender="周杰 <zhou.jie@example.com>",
                                               text="进度 50%"))
    [which] = [m for m in asked if "请写明是哪一项任务" in str(m["Subject"])]
    assert "RW-2026-0005 测试验收" in body_text(which)
    assert "progress" not in h.record("RW-2026-0002")
    h.at("2026-12-10 11:00", reply_to(zhou, sender="周杰 <zhou.jie@example.com>",
                                      text="RW-2026-0002 进度 60%"))
    assert h.record("RW-2026-0002")["progress"]["percent"] == 60
    delivered = h.at("2026-12-14 10:00", reply_to(
        zhou, sender="周杰 <zhou.jie@example.com>", text="RW-2026-0002 已交付，需求文档见附件。",
        attachments=[("需求文档V1.docx", b"PK-not-really-a-docx")]))
    [ask] = [m for m in delivered if "请验收任务交付物" in str(m["Subject"])]
    assert str(ask["To"]) == "张伟 <zhang.wei@example.com>" and ask["Cc"] is None  # the A
    # RACI: 财务部 is consulted (C): it sees the delivery and its comment reaches R and A.
    [consult] = [m for m in delivered if "征求意见" in str(m["Subject"])]
    assert str(consult["To"]) == "郑浩 <zheng.hao@example.com>"
    assert [p.get_filename() for p in consult.iter_attachments()] == ["需求文档V1.docx"]
    relayed = h.at("2026-12-14 10:30", reply_to(consult, sender="郑浩 <zheng.hao@example.com>",
                                                text="预算口径请按含税计算。"))
    [comment] = [m for m in relayed if "留言" in str(m["Subject"])]
    assert "zhou.jie" in str(comment["To"]) and "zhang.wei" in str(comment["To"])
    assert h.record("RW-2026-0002")["status"] == "delivered"  # a comment does not accept
    assert [p.get_filename() for p in ask.iter_attachments()] == ["需求文档V1.docx"]
    assert h.record("RW-2026-0002")["status"] == "delivered"
    # Someone else's 确认 on it does not accept; the A's 驳回 with a date sends it back.
    h.at("2026-12-14 11:00", reply_to(ask, sender="陈晨 <chen.chen@example.com>",
                                      text="确认"))
    assert h.record("RW-2026-0002")["status"] == "delivered"
    back = h.at("2026-12-14 14:00", reply_to(ask, sender="张伟 <zhang.wei@example.com>",
                                             text="驳回：缺少接口说明，12月17日前重新交付"))
    [rework] = [m for m in back if "未通过验收" in str(m["Subject"])]
    assert str(rework["To"]) == "周杰 <zhou.jie@example.com>"
    task = h.record("RW-2026-0002")
    assert task["status"] == "open" and task["due_date"] == "2026-12-17"
    again = h.at("2026-12-16 10:00", reply_to(rework, sender="周杰 <zhou.jie@example.com>",
                                              text="已交付，补充了接口说明：https://wiki.example.com/api"))
    [ask2] = [m for m in again if "请验收任务交付物（第2次）" in str(m["Subject"])]
    done = h.at("2026-12-16 11:00", reply_to(ask2, sender="张伟 <zhang.wei@example.com>",
                                             text="确认"))
    [accepted] = [m for m in done if "已验收通过" in str(m["Subject"])]
    assert "zhou.jie" in str(accepted["To"]) and "liu.yang" in str(accepted["Cc"])
    assert "zheng.hao" in str(accepted["Cc"])  # the consulted department hears the outcome
    task = h.record("RW-2026-0002")
    assert task["status"] == "done" and task["actual_finish"] == "2026-12-16"
    assert task["waiting_on"] == []
    # The archive, on demand, has the file that was delivered (from the mail that
    # forwarded it to the A) and the task table with its actual date.
    out = h.config.path.parent / "export.zip"
    collabd("archive", "export", PROJECT, "--out", str(out), config=h.config)
    files = _unzipped(out.read_bytes())
    [delivered_file] = [f for f in files if f.endswith("05_交付物/需求文档V1.docx")]
    assert files[delivered_file] == b"PK-not-really-a-docx"
    rows = {row[0]: row for row in _sheet(next(v for k, v in files.items()
                                               if k.endswith("02_任务跟踪表.xlsx")))}
    assert rows["RW-2026-0002"][7] == dt.datetime(2026, 12, 16)
    assert rows["RW-2026-0002"][11] == "市场部A、研发部R、财务部C"


def test_done_as_the_task_list_asks_it_asks_the_a(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    [chen] = _told([m for m in sent if "您负责的项目任务" in str(m["Subject"])], "chen.chen")
    asked = h.at("2026-12-08 10:00", reply_to(chen, sender="陈晨 <chen.chen@example.com>",
                                              text="RW-2026-0001 已完成，需求清单已整理好。"))
    [ask] = [m for m in asked if "请验收任务交付物" in str(m["Subject"])]
    assert str(ask["To"]) == LEAD  # 客户需求收集 has no A: the lead accepts
    assert h.record("RW-2026-0001")["status"] == "delivered"


def test_an_r_who_is_also_the_a_is_done_when_they_say_so(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    [liu] = _told([m for m in sent if "您负责的项目任务" in str(m["Subject"])], "liu.yang")
    h.at("2027-01-20 10:00", reply_to(liu, sender=LEAD, text="已完成，推广方案已上线。"))
    task = h.record("RW-2026-0006")  # 上线推广: R 市场部 (刘洋), no A: the lead, 刘洋
    assert task["status"] == "done" and task["actual_finish"] == "2027-01-20"
    assert "负责人即验收人" in json.dumps(task["audit"], ensure_ascii=False)


def test_all_accepted_asks_feedback_and_the_retro_report_closes_the_project(
        h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    lists = {str(m["To"]): m for m in sent if "您负责的项目任务" in str(m["Subject"])}
    closing: list = []  # type: ignore[type-arg]
    for number, (name, *_rest) in enumerate(TASKS, 1):
        task = h.record(f"RW-2026-{number:04d}")
        owner = f"{task['owner']['name']} <{task['owner']['address']}>"
        delivered = h.at(f"2026-12-21 10:{number * 2:02d}", reply_to(
            lists[owner], sender=owner,
            text=f"{task['id']} 已交付：https://files.example.com/{number}"))
        closing += delivered
        for ask in [m for m in delivered if "请验收任务交付物" in str(m["Subject"])]:
            closing += h.at(f"2026-12-21 10:{number * 2 + 1:02d}",
                            reply_to(ask, sender=str(ask["To"]), text="确认"))
        assert h.record(task["id"])["status"] == "done", name
    [ask_feedback] = [m for m in closing if "请反馈使用效果" in str(m["Subject"])]
    assert str(ask_feedback["To"]) == LEAD
    project = h.record(PROJECT)
    assert project["status"] == "retro"  # six tasks, three departments: a 复盘会
    retro = h.record(project["retro"])
    assert retro["meeting_kind"] == "retro" and retro["organizer"]["name"] == "刘洋"
    assert "二、计划与实际" in retro["agenda"]
    h.at("2026-12-21 14:00", reply_to(ask_feedback, sender=LEAD,
                                      text="活动页上线后首周销售增长12%，达到目标。"))
    assert h.record(PROJECT)["feedback"]["text"].startswith("活动页上线后首周销售增长12%")
    # The 复盘会 is held; its minutes are the 《协作复盘报告》, confirmed by everyone.
    end = dt.datetime.fromisoformat(retro["end"])
    after = h.at(end.strftime("%Y-%m-%d %H:%M"))
    [report_ask] = [m for m in after if "会议纪要" in str(m["Subject"])
                    and "项目复盘会" in str(m["Subject"])]
    assert "《协作复盘报告》" in body_text(report_ask)
    later = (end + dt.timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    confirms = h.at(later, reply_to(
        report_ask, sender=LEAD, text="协作复盘报告：一、需求评审及时；二、测试时间偏紧；"
                                      "三、今后测试预留两周。"))
    last: list = []  # type: ignore[type-arg]
    for confirm in confirms:
        last = h.at(later, reply_to(confirm, sender=str(confirm["To"]), text="确认"))
    [closed] = [m for m in last if "项目已关闭" in str(m["Subject"])]
    assert "今后测试预留两周" in body_text(closed)
    # The weekly series ends now: its UNTIL brought forward (its past occurrences stay in
    # people's calendars; a CANCEL of the series would take them out), and its past
    # occurrences stop waiting for minutes.
    [ended] = [m for m in last if "会议时间更新：风险排查会" in str(m["Subject"])]
    import vobject

    master = next(e for e in vobject.readOne(calendar_part(ended).decode()).vevent_list
                  if not hasattr(e, "recurrence_id"))
    held = [d for d in master.getrruleset()]
    assert held[-1] <= dt.datetime.fromisoformat(h.record(PROJECT)["closed"])
    assert held[0].replace(tzinfo=None) == dt.datetime(2026, 12, 4, 15, 0)
    occurrences = [r for r in h.daemon.store.values("records")
                   if r.get("meeting_kind") == "occurrence"]
    assert occurrences and all(r["status"] == "closed" for r in occurrences)
    project = h.record(PROJECT)
    assert project["status"] == "closed" and "测试时间偏紧" in project["retro_report"]
    # 资料归档: the secretary gets every document in one .zip, named 协作事项_部门_日期.
    [filed] = [m for m in last if "资料归档" in str(m["Subject"])]
    assert str(filed["To"]) == "李静 <li.jing@example.com>"
    [bundle] = list(filed.iter_attachments())
    day = project["closed"][:10].replace("-", "")
    assert bundle.get_filename() == f"年终促销系统上线_市场部_{day}.zip"
    files = _unzipped(bundle.get_content())
    base = f"年终促销系统上线_市场部_{day}/"
    assert "项目名称：年终促销系统上线" in files[base + "01_表单与计划.txt"].decode()
    assert "每周五 15:00　风险排查会" in files[base + "01_表单与计划.txt"].decode()
    sheet = _sheet(files[base + "02_任务跟踪表.xlsx"])
    assert sheet[0][:3] == ["编号", "任务名称", "任务描述"]
    assert [row[1] for row in sheet[1:]] == [t[0] for t in TASKS]
    assert all(row[7] == dt.datetime(2026, 12, 21) for row in sheet[1:])  # 实际完成
    status = {row[1]: row[8] for row in sheet[1:]}  # 表2's words
    assert status["需求文档输出"] == "已完成" and status["活动页开发"] == "提前完成"
    [retro_file] = [f for f in files if "项目复盘会" in f]
    assert "今后测试预留两周" in files[retro_file].decode()
    assert "张伟（市场部）：" in files[retro_file].decode()  # who confirmed, by name
    assert "https://files.example.com/4" in files[base + "05_交付物/交付记录.txt"].decode()
    assert "销售增长12%" in files[base + "06_反馈与复盘.txt"].decode()
    page = files[base + "07_全过程记录.html"].decode()
    assert "RW-2026-0006" in page and "由项目计划生成" in page


def _unzipped(data: bytes) -> dict[str, bytes]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _sheet(data: bytes) -> list[list[object]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    return [list(row) for row in book.active.iter_rows(values_only=True)]


def test_a_request_exports_too_and_an_unknown_id_is_a_clear_error(h: Harness) -> None:
    from helpers import DATA

    h.at("2026-12-01 10:05", (DATA / "seed003_request.eml").read_bytes())
    out = h.config.path.parent / "request.zip"
    collabd("archive", "export", "xq-2026-0001", "--out", str(out), config=h.config)
    files = _unzipped(out.read_bytes())
    [form] = [f for f in files if f.endswith("01_表单与计划.txt")]
    assert form.startswith("年終促銷活動_市场部_")  # 协作事项 as written, 部门, 日期
    text = files[form].decode()
    assert "所需配合部门" in text or "接收部门" in text
    failed = collabd("archive", "export", "XQ-2026-0099", config=h.config, check=False)
    assert failed.returncode != 0 and "no record XQ-2026-0099" in failed.stderr.decode()


def test_the_communication_plan_runs_itself_as_calendar_series(h: Harness) -> None:
    import vobject

    sent = h.at("2026-12-01 10:05", _plan_mail())
    invites = {str(m["Subject"]).split("：")[1]: m for m in sent
               if "会议邀请" in str(m["Subject"])}
    # 每周五 15:00 风险排查会 is one series; 2026-12-07 需求评审会 one meeting; the daily
    # 进度同步 by 邮件 is no meeting at all.
    assert sorted(invites) == ["专项推进会（中期）", "专项推进会（验收前）", "需求评审会",
                               "项目启动会", "风险排查会"]
    weekly = invites["风险排查会"]
    for head in ("zhang.wei", "zhao.qiang", "wu.min"):  # 三部门负责人
        assert head in str(weekly["To"])
    calendar = vobject.readOne(calendar_part(weekly).decode())
    master, *overrides = sorted(calendar.vevent_list,
                                key=lambda e: hasattr(e, "recurrence_id"))
    assert "FREQ=WEEKLY" in master.rrule.value and "BYDAY=FR" in master.rrule.value
    starts = [d.replace(tzinfo=None) for d in master.getrruleset()]
    assert starts[0] == dt.datetime(2026, 12, 4, 15, 0)
    assert starts[-1] == dt.datetime(2027, 1, 22, 15, 0)  # until the project's last day
    # 2027-01-01 is New Year's Day: that occurrence is held on the next working day.
    [moved] = overrides
    assert moved.recurrence_id.value.replace(tzinfo=None) == dt.datetime(2027, 1, 1, 15, 0)
    assert moved.dtstart.value.replace(tzinfo=None) == dt.datetime(2027, 1, 4, 15, 0)
    assert moved.uid.value == master.uid.value
    series = next(r for r in h.daemon.store.values("records")
                  if r.get("meeting_kind") == "series")
    assert series["organizer"]["name"] == "李静"  # 周例会: the secretary
    # Before an occurrence: its agenda, from the project as it stands.
    agenda = [m for m in h.at("2026-12-04 14:00") if "本次议程" in str(m["Subject"])]
    assert len(agenda) == 1 and "一、逾期任务" in body_text(agenda[0])
    assert "RW-2026-0001 客户需求收集：计划完成 2026-12-08" in body_text(agenda[0])
    # After it: a meeting of its own, whose minutes the organizer is asked for.
    after = h.at("2026-12-04 16:30")
    [ask] = [m for m in after if "提交会议纪要" in str(m["Subject"])]
    assert str(ask["To"]) == "李静 <li.jing@example.com>" and "12月4日" in str(ask["Subject"])
    occurrence = h.record(h.record(series["id"])["occurrences"][0])
    assert occurrence["meeting_kind"] == "occurrence" and occurrence["uid"] == series["uid"]
    assert occurrence["recurrence_id"].startswith("2026-12-04T15:00")
    confirms = h.at("2026-12-07 09:00", reply_to(
        ask, sender="李静 <li.jing@example.com>", text="风险排查会纪要：本周无新增风险。"))
    assert sum("请确认会议纪要" in str(m["Subject"]) for m in confirms) >= 3
    # The series itself is not "held": the next Friday gets its agenda too.
    assert h.record(series["id"])["status"] == "scheduled"
    nextweek = h.at("2026-12-11 14:00")
    assert any("本次议程" in str(m["Subject"]) for m in nextweek)


def test_an_updated_plan_is_applied_as_a_diff_and_a_signed_memo_is_reviewed(
        h: Harness) -> None:
    sent = _kickoff_confirmed(h)
    for memo in [m for m in sent if "请签署" in str(m["Subject"])]:
        h.at("2026-12-03 16:00", reply_to(memo, sender=str(memo["To"]), text="确认"))
    assert h.record(PROJECT)["status"] == "running"
    ack = h.first("项目已建立")
    updated = [list(t) for t in TASKS[:5]]
    updated[4][5] = dt.date(2027, 1, 20)  # 测试验收 finishes later
    updated[1][3] = "孙丽"  # 需求文档输出 changes hands
    updated.append(["数据复盘", "", "财务部", "郑浩", dt.date(2027, 1, 25),
                    dt.date(2027, 1, 29), None, "", "复盘数据", "", "",
                    {"市场部": "A", "财务部": "R"}])  # 上线推广 dropped, 数据复盘 added
    xlsx = plan_xlsx(default_rules(), [tuple(t) for t in updated])
    # Only the lead may change the plan.
    h.at("2026-12-07 10:00", with_attachment(
        sender="赵强 <zhao.qiang@example.com>", subject="答复: " + str(ack["Subject"]),
        body="改了计划", filename="计划v2.xlsx", data=xlsx, message_id="<v2-zhao@example.com>"))
    assert h.record("RW-2026-0005")["due_date"] == "2027-01-15"
    assert "plan update not applied" in h.whats(PROJECT)
    # Nor by the subject's tag alone: it must answer the project's mail.
    refused = h.at("2026-12-07 10:30", with_attachment(
        sender=LEAD, subject="答复: " + str(ack["Subject"]), body="计划第二版见附件",
        filename="计划v2.xlsx", data=xlsx, message_id="<v2-tag@example.com>"))
    assert h.record("RW-2026-0005")["due_date"] == "2027-01-15"
    assert any("没有执行" in body_text(m) for m in refused)
    told = h.at("2026-12-07 11:00", reply_to(ack, sender=LEAD, text="计划第二版见附件",
                                             attachments=[("计划v2.xlsx", xlsx)]))
    assert h.record("RW-2026-0005")["due_date"] == "2027-01-20"
    assert h.record("RW-2026-0002")["owner"]["name"] == "孙丽"
    assert h.record("RW-2026-0006")["status"] == "cancelled"
    [added] = [t for t in _tasks(h) if t["title"] == "数据复盘"]
    assert added["owner"]["name"] == "郑浩" and added["accountable"]["name"] == "张伟"
    updates = {str(m["To"]): body_text(m) for m in told if "项目计划已更新" in str(m["Subject"])}
    assert "计划完成 2027-01-15 → 2027-01-20" in updates["周杰 <zhou.jie@example.com>"]
    assert "负责人 周杰 → 孙丽" in updates["孙丽 <sun.li@example.com>"]
    assert "已从计划中取消" in updates[LEAD] or "取消：RW-2026-0006" in updates[LEAD]
    assert "新增任务" in updates["郑浩 <zheng.hao@example.com>"]
    # The memo was signed: a 变更评审, and after its minutes the memo is signed again.
    assert h.record(PROJECT)["status"] == "change_review"
    [invite] = [m for m in told if "会议邀请：变更评审会" in str(m["Subject"])]
    review = h.record(next(m for m in h.record(PROJECT)["meetings"]
                           if h.record(m).get("meeting_kind") == "change_review"))
    end = dt.datetime.fromisoformat(review["end"])
    [ask] = [m for m in h.at(end.strftime("%Y-%m-%d %H:%M"))
             if "提交会议纪要：变更评审会" in str(m["Subject"])]
    later = (end + dt.timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    last: list = []  # type: ignore[type-arg]
    for confirm in h.at(later, reply_to(ask, sender=LEAD, text="变更评审纪要：各部门同意变更。")):
        last = h.at(later, reply_to(confirm, sender=str(confirm["To"]), text="确认"))
    memos = [m for m in last if "请签署《跨部门协作备忘录》" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in memos) == HEADS
    memo = body_text(memos[0])
    assert "（第2版）" in memo and "数据复盘" in memo and "上线推广" not in memo
    assert "变更评审会" in str(invite["Subject"])


def test_a_plan_in_a_word_document_reads_the_same(h: Harness) -> None:
    from plans import plan_docx

    h.at("2026-12-01 10:05", with_attachment(
        sender=LEAD, subject="项目计划", body="见附件", filename="计划.docx",
        data=plan_docx(), message_id="<docx-plan@example.com>"))
    tasks = _tasks(h)
    assert [t["title"] for t in tasks] == [t[0] for t in TASKS]
    assert tasks[2]["raci"] == {"市场部": "C", "财务部": "RA"}
    assert tasks[0]["description"] == "整理近3个月客户反馈"  # empty cells kept in place
    assert h.record(PROJECT)["goal"].startswith("2027年1月22日前上线")


REQUEST_IN_PROJECT = """发起部门：市场部
发起人：刘洋
接收部门：财务部
需求背景与目标：促销预算需要财务部提供历史折扣数据。
具体需求内容：导出去年同期各渠道折扣与毛利数据。
期望完成时间：2026-12-10
交付标准：数据表经市场部确认。
关联项目：{project}
"""


def test_a_request_filed_under_a_project_shows_in_it_and_in_its_archive(
        h: Harness) -> None:
    h.at("2026-12-01 10:05", _plan_mail())
    wrong = h.at("2026-12-01 10:10", message(
        sender=LEAD, subject="跨部门沟通需求表：折扣数据", message_id="<r-wrong@example.com>",
        body=REQUEST_IN_PROJECT.format(project="PJ-2026-0009")))
    assert "关联项目 PJ-2026-0009 不存在" in body_text(wrong[0])
    h.at("2026-12-01 10:20", message(
        sender=LEAD, subject="跨部门沟通需求表：折扣数据", message_id="<r-ok@example.com>",
        body=REQUEST_IN_PROJECT.format(project="pj-2026-1")))
    request = h.record("XQ-2026-0001")
    assert request["project"] == PROJECT
    assert h.record(PROJECT)["requests"] == ["XQ-2026-0001"]
    out = h.config.path.parent / "with-request.zip"
    collabd("archive", "export", PROJECT, "--out", str(out), config=h.config)
    contents = next(v for k, v in _unzipped(out.read_bytes()).items() if k.endswith("00_目录.txt"))
    assert "XQ-2026-0001" in contents.decode()


def test_a_key_node_asks_its_r_for_a_stage_report_a_working_day_ahead(h: Harness) -> None:
    h.at("2026-12-01 10:05", _plan_mail())
    # 活动页开发 is the key node (关键节点：是), due 2027-01-08 (a Friday).
    assert not [m for m in h.at("2027-01-06 17:00") if "阶段性成果说明" in str(m["Subject"])]
    [ask] = [m for m in h.at("2027-01-07 09:30") if "阶段性成果说明" in str(m["Subject"])]
    assert str(ask["To"]) == "孙丽 <sun.li@example.com>" and ask["Cc"] is None
    asked = h.at("2027-01-07 11:00", reply_to(
        ask, sender="孙丽 <sun.li@example.com>", text="阶段性成果说明：活动页主流程完成，"
        "支付联调中，预计按期上线。"))
    [confirm] = [m for m in asked if "是否符合预期" in str(m["Subject"])]
    assert str(confirm["To"]) == "张伟 <zhang.wei@example.com>"  # the A, alone
    assert "支付联调中" in body_text(confirm)
    told = h.at("2027-01-07 14:00", reply_to(
        confirm, sender="张伟 <zhang.wei@example.com>", text="不确认，缺少移动端适配说明"))
    [answer] = [m for m in told if "尚需补充" in str(m["Subject"])]
    assert str(answer["To"]) == "孙丽 <sun.li@example.com>"
    assert "缺少移动端适配说明" in body_text(answer)
    task = h.record("RW-2026-0004")
    assert task["milestone_reports"][0]["decision"] == "rejected"
    assert task["status"] == "open"  # a stage report is not the delivery


def test_a_project_task_behind_its_plan_by_more_than_ten_percent_is_a_risk(
        h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    [chen] = _told([m for m in sent if "您负责的项目任务" in str(m["Subject"])], "chen.chen")
    # 客户需求收集 runs 12-02 to 12-08; on 12-04 the plan is near 40%, she reports 20%.
    risky = h.at("2026-12-04 10:00", reply_to(chen, sender="陈晨 <chen.chen@example.com>",
                                              text="进度 20%"))
    risky += h.at("2026-12-04 11:00")
    task = h.record("RW-2026-0001")
    assert task["risk"] and "进度落后计划" in task["risk_reason"]
    assert any("风险排查会：客户需求收集" in str(m["Subject"]) for m in risky)


def test_a_daily_sync_by_mail_asks_each_r_for_progress_once_a_day(h: Harness) -> None:
    h.at("2026-12-01 10:05", _plan_mail())
    assert not [m for m in h.at("2026-12-01 16:50") if "请回复今日进度" in str(m["Subject"])]
    asked = [m for m in h.at("2026-12-01 17:00") if "请回复今日进度" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in asked) == sorted([
        LEAD, "陈晨 <chen.chen@example.com>", "周杰 <zhou.jie@example.com>",
        "孙丽 <sun.li@example.com>", "郑浩 <zheng.hao@example.com>"])
    zhou = next(m for m in asked if "zhou.jie" in str(m["To"]))
    assert "RW-2026-0002 进度 60%" in body_text(zhou) and "RW-2026-0005" in body_text(zhou)
    assert not [m for m in h.at("2026-12-01 17:30") if "请回复今日进度" in str(m["Subject"])]
    h.at("2026-12-01 17:40", reply_to(zhou, sender="周杰 <zhou.jie@example.com>",
                                      text="RW-2026-0002 进度 30%"))
    assert h.record("RW-2026-0002")["progress"]["percent"] == 30
    again = [m for m in h.at("2026-12-02 17:05") if "请回复今日进度" in str(m["Subject"])]
    assert len(again) == 5  # the next working day, once more


def test_a_push_meeting_at_a_key_node_has_its_resolution_signed_by_the_leader(
        h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    titles = [str(m["Subject"]) for m in sent if "专项推进会" in str(m["Subject"])]
    assert len(titles) == 2  # 中期 and 验收前 (the 启动 node is the 启动会)
    meeting = next(r for r in h.daemon.store.values("records")
                   if r.get("meeting_kind") == "push" and "中期" in r["title"])
    assert meeting["organizer"]["name"] == "刘洋"  # the lead department chairs
    assert meeting["start"][:10] == "2026-12-28"  # the middle of 12-02 … 01-22 (a Monday)
    end = dt.datetime.fromisoformat(meeting["end"])
    [ask] = [m for m in h.at(end.strftime("%Y-%m-%d %H:%M"))
             if "提交会议纪要：专项推进会（中期）" in str(m["Subject"])]
    later = (end + dt.timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    last: list = []  # type: ignore[type-arg]
    for confirm in h.at(later, reply_to(ask, sender=LEAD, text=(
            "专项推进会纪要：测试提前一周介入。\n"
            "待办：测试用例评审 负责人：周杰 截止：2027-01-05"))):
        last += h.at(later, reply_to(confirm, sender=str(confirm["To"]), text="确认"))
    [sign] = [m for m in last if "请签署决议" in str(m["Subject"])]
    assert str(sign["To"]) == "王建国 <wang.jianguo@example.com>" and sign["Cc"] is None
    assert "测试提前一周介入" in body_text(sign)
    waiting = h.record(meeting["id"])
    assert waiting["status"] == "resolution"
    assert waiting["waiting_on"] == ["wang.jianguo@example.com"]  # chased until signed
    due = dt.datetime.fromisoformat(waiting["resolution_due"])
    soon = (due - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")  # (4h before: 06:30)
    reminded = [m for m in h.at(soon) if "wang.jianguo" in str(m["To"])]
    assert reminded and "签署专项推进会决议" in str(reminded[0]["Subject"])
    assert "测试提前一周介入" in body_text(reminded[0])  # the 决议 travels with it
    # Someone else's 确认 does not sign it; the leader's does, and everyone is told.
    h.at(soon, reply_to(sign, sender="李静 <li.jing@example.com>", text="确认"))
    assert "resolution signed" not in h.whats(meeting["id"])
    told = h.at(soon, reply_to(sign, sender="王建国 <wang.jianguo@example.com>", text="确认"))
    [signed] = [m for m in told if "决议已由组长签署" in str(m["Subject"])]
    assert "zhao.qiang" in str(signed["To"])
    assert h.record(meeting["id"])["status"] == "closed"


def test_a_tasks_plan_counts_working_time_not_the_weekend(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    [chen] = _told([m for m in sent if "您负责的项目任务" in str(m["Subject"])], "chen.chen")
    # 客户需求收集: Wed 12-02 to Tue 12-08, five working days. On Monday morning three
    # of them have passed: 60% planned (by the wall clock, 78%). 55% is within 10%.
    h.at("2026-12-07 09:00", reply_to(chen, sender="陈晨 <chen.chen@example.com>",
                                      text="进度 55%"))
    h.at("2026-12-07 10:30")
    assert not h.record("RW-2026-0001").get("risk")
    # By 11:30, 25 of its 37.5 working hours have passed: 67% planned, it is behind.
    h.at("2026-12-07 11:30")
    task = h.record("RW-2026-0001")
    assert task.get("risk") and "计划 67%" in task["risk_reason"]  # 25 of 37.5 hours


def test_the_organizer_calls_off_or_moves_one_occurrence_of_a_series(h: Harness) -> None:
    import vobject

    sent = h.at("2026-12-01 10:05", _plan_mail())
    [weekly] = [m for m in sent if "会议邀请：风险排查会" in str(m["Subject"])]
    secretary = "李静 <li.jing@example.com>"
    # One occurrence off: a CANCEL with its RECURRENCE-ID, and no agenda that Friday.
    off = h.at("2026-12-02 10:00", reply_to(weekly, sender=secretary, text="取消：12月11日"))
    [cancel] = [m for m in off if "会议取消" in str(m["Subject"])]
    event = vobject.readOne(calendar_part(cancel).decode()).vevent
    assert event.recurrence_id.value.replace(tzinfo=None) == dt.datetime(2026, 12, 11, 15, 0)
    assert "METHOD:CANCEL" in calendar_part(cancel).decode()
    assert not [m for m in h.at("2026-12-11 14:00") if "本次议程" in str(m["Subject"])]
    # One occurrence moved: the series again, with that occurrence overridden.
    moved = h.at("2026-12-14 10:00", reply_to(weekly, sender=secretary,
                                              text="改期：12月18日 改到 12月17日 10:00"))
    [update] = [m for m in moved if "会议时间更新：风险排查会" in str(m["Subject"])]
    calendar = vobject.readOne(calendar_part(update).decode())
    overrides = {e.recurrence_id.value.replace(tzinfo=None): e.dtstart.value.replace(tzinfo=None)
                 for e in calendar.vevent_list if hasattr(e, "recurrence_id")}
    assert overrides[dt.datetime(2026, 12, 18, 15, 0)] == dt.datetime(2026, 12, 17, 10, 0)
    assert any("本次议程" in str(m["Subject"]) for m in h.at("2026-12-17 08:30"))
    # A date with no occurrence is not guessed: the organizer is told.
    told = h.at("2026-12-17 11:30", reply_to(weekly, sender=secretary, text="取消：12月22日"))
    assert any("未能执行" in str(m["Subject"]) for m in told)


def test_a_plan_written_as_lines_in_the_mail_makes_the_project(h: Harness) -> None:
    body = ("项目名称：报销流程线上化\n项目负责人：何芳\n核心目标：1月底前报销全部线上审批\n"
            "任务：流程梳理；负责部门：运营部；计划开始：12月2日；计划完成：12月9日；"
            "RACI：运营部R、财务部C\n"
            "任务：系统配置；负责部门：研发部；负责人：周杰；计划开始：12月10日；"
            "计划完成：12月30日；RACI：运营部A、研发部R、财务部I\n")
    sent = h.at("2026-12-01 10:05", message(sender="何芳 <he.fang@example.com>",
                                            subject="项目：报销流程线上化", body=body,
                                            message_id="<lines-plan@example.com>"))
    assert any("项目已建立：报销流程线上化" in str(m["Subject"]) for m in sent)
    tasks = _tasks(h)
    assert [t["title"] for t in tasks] == ["流程梳理", "系统配置"]
    assert tasks[0]["owner"]["name"] == "何芳"  # no 负责人: the department's liaison
    assert tasks[1]["accountable"]["name"] == "黄磊"  # A: 运营部's head


def test_plan_meetings_at_a_time_their_people_are_taken_are_pointed_out(h: Harness) -> None:
    first = h.at("2026-12-01 10:05", _plan_mail())
    [ack] = [m for m in first if "项目已建立" in str(m["Subject"])]
    assert "另有会议" not in body_text(ack)
    # A second project with the same weekly 风险排查会 at the same hour, same heads.
    second = h.at("2026-12-01 10:10", _plan_mail(message_id="<plan-2@example.com>"))
    [ack2] = [m for m in second if "项目已建立" in str(m["Subject"])]
    text = body_text(ack2)
    assert "计划中的时间与已安排的会议冲突" in text
    assert "12月4日 15:00，" in text and "张伟" in text and "另有会议" in text


def _html_reply(original: object, *, sender: str, text: str) -> bytes:
    """A reply as an HTML client writes it: the new text, then the original quoted in
    full (its tables included)."""
    import email.policy
    from email.message import EmailMessage

    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = str(original["From"])  # type: ignore[index]
    msg["Subject"] = "回复: " + str(original["Subject"])  # type: ignore[index]
    msg["Message-ID"] = "<html-reply@example.com>"
    msg["In-Reply-To"] = str(original["Message-ID"])  # type: ignore[index]
    quoted = original.get_body(preferencelist=("html",)).get_content()  # type: ignore[attr-defined]
    msg.set_content(text)
    msg.add_alternative(f"<div>{text}</div><blockquote>{quoted}</blockquote>", subtype="html")
    return msg.as_bytes()


def test_replies_quoting_the_plan_are_replies_not_plan_updates(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    [ack] = [m for m in sent if "项目已建立" in str(m["Subject"])]
    told = h.at("2026-12-01 11:00", _html_reply(ack, sender=LEAD, text="收到，谢谢。"))
    assert not [m for m in told if "不完整" in str(m["Subject"])]
    assert "comment" in h.whats(PROJECT) and len(_tasks(h)) == 6


def test_a_request_form_with_a_task_table_stays_a_request(h: Harness) -> None:
    body = (REQUEST_IN_PROJECT.format(project="").replace("关联项目：\n", "")
            + "\n任务名称\t负责部门\t计划完成\n导出数据\t财务部\t2026-12-08\n")
    h.at("2026-12-01 10:05", message(sender=LEAD, subject="跨部门沟通需求表：折扣数据",
                                     body=body, message_id="<req-table@example.com>"))
    assert h.record("XQ-2026-0001")["receiver_dept"] == "财务部"


def test_one_reply_reporting_on_two_tasks_updates_both(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    [zhou] = _told([m for m in sent if "您负责的项目任务" in str(m["Subject"])], "zhou.jie")
    h.at("2026-12-10 10:00", reply_to(zhou, sender="周杰 <zhou.jie@example.com>",
                                      text="RW-2026-0002 进度 30%\nRW-2026-0005 进度 10%"))
    assert h.record("RW-2026-0002")["progress"]["percent"] == 30
    assert h.record("RW-2026-0005")["progress"]["percent"] == 10


def test_a_head_may_sign_after_objecting_but_not_after_the_project_moved_on(
        h: Harness) -> None:
    sent = _kickoff_confirmed(h)
    memos = {str(m["To"]): m for m in sent if "请签署" in str(m["Subject"])}
    zhao = memos["赵强 <zhao.qiang@example.com>"]
    h.at("2026-12-03 16:00", reply_to(zhao, sender=str(zhao["To"]), text="不确认，时间太紧"))
    h.at("2026-12-03 16:30", reply_to(zhao, sender=str(zhao["To"]), text="确认"))
    for to, memo in memos.items():
        if memo is not zhao:
            h.at("2026-12-03 17:00", reply_to(memo, sender=to, text="确认"))
    assert h.record(PROJECT)["status"] == "running"  # the objection was withdrawn
    # A 确认 on a memo no longer waiting changes nothing.
    h.at("2026-12-04 10:00", reply_to(zhao, sender=str(zhao["To"]), text="确认"))
    assert h.record(PROJECT)["status"] == "running"


def test_a_progress_mail_after_hours_goes_at_its_time(h: Harness) -> None:
    evening = [("每日", "18:30", "进度同步", "三部门对接人", "邮件")]
    h.at("2026-12-01 10:05", _plan_mail(plan_xlsx(default_rules(), meetings=evening)))
    asked = [m for m in h.at("2026-12-01 18:30") if "请回复今日进度" in str(m["Subject"])]
    assert len(asked) == 5


def test_an_updated_plan_brings_a_new_department_and_a_longer_series(h: Harness) -> None:
    import vobject

    sent = h.at("2026-12-01 10:05", _plan_mail())
    [ack] = [m for m in sent if "项目已建立" in str(m["Subject"])]
    longer = [*TASKS, ("运营推广", "", "运营部", "何芳", dt.date(2027, 1, 25),
                       dt.date(2027, 2, 5), None, "", "", "", "", {"运营部": "R"})]
    told = h.at("2026-12-02 10:00", reply_to(
        ack, sender=LEAD, text="第二版", attachments=[
            ("计划v2.xlsx", plan_xlsx(default_rules(), [tuple(t) for t in longer]))]))
    project = h.record(PROJECT)
    assert "运营部" in [d["dept"] for d in project["departments"]]
    assert project["finish"] == "2027-02-05"
    [update] = [m for m in told if "会议时间更新：风险排查会" in str(m["Subject"])]
    master = next(e for e in vobject.readOne(calendar_part(update).decode()).vevent_list
                  if not hasattr(e, "recurrence_id"))
    assert max(master.getrruleset()).replace(tzinfo=None) == dt.datetime(2027, 2, 5, 15, 0)


def test_the_kickoff_is_moved_not_called_off(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", _plan_mail())
    [invite] = [m for m in sent if "会议邀请：项目启动会" in str(m["Subject"])]
    told = h.at("2026-12-01 11:00", reply_to(invite, sender=LEAD, text="取消会议"))
    [refused] = [m for m in told if "未能执行" in str(m["Subject"])]
    assert "改期" in body_text(refused)
    kickoff = h.record(h.record(PROJECT)["kickoff"])
    assert kickoff["status"] == "scheduled"
    moved = h.at("2026-12-01 11:30", reply_to(invite, sender=LEAD,
                                              text="改期：2026-12-04 14:00"))
    assert any("会议时间更新：项目启动会" in str(m["Subject"]) for m in moved)
    assert h.record(kickoff["id"])["start"].startswith("2026-12-04T14:00")


def test_what_is_open_for_me_by_mail(h: Harness) -> None:
    h.at("2026-12-01 10:05", _plan_mail())
    # Two people ask: each gets what waits on them, with the message to answer.
    zhou = h.at("2026-12-01 11:00", message(sender="周杰 <zhou.jie@example.com>",
                                            subject="我的待办", body="",
                                            message_id="<q-zhou@example.com>"))
    [answer] = zhou
    text = body_text(answer)
    assert "您的待办（2 项）" in str(answer["Subject"])
    assert "RW-2026-0002「需求文档输出」" in text and "RW-2026-0005「测试验收」" in text
    assert "请直接回复系统于 2026-12-01 10:05 发给您的邮件" in text
    assert "RW-2026-0001" not in text  # 陈晨's
    chen = body_text(h.at("2026-12-01 11:05", message(
        sender="陈晨 <chen.chen@example.com>", subject="查询", body="",
        message_id="<q-chen@example.com>"))[0])
    assert "RW-2026-0001「客户需求收集」" in chen and "RW-2026-0002" not in chen
    # Written from an address org.yaml lists as one of 孙丽's aliases: still hers, each
    # with its deadline as the digest gives it
    sun = h.at("2026-12-01 11:06", message(sender="孙丽 <sunli@example.net>",
                                           subject="我的待辦", body="",
                                           message_id="<q-sun@example.com>"))
    [sun_answer] = sun
    assert "sun.li@example.com" in str(sun_answer["To"])
    assert "RW-2026-0004「活动页开发」：待响应，期限 2027-01-08 18:00" in body_text(sun_answer)
    # One record: for someone it names; not for someone it does not.
    mine = body_text(h.at("2026-12-01 11:10", message(
        sender="周杰 <zhou.jie@example.com>", subject="查询 RW-2026-0002", body="",
        message_id="<q-rec@example.com>"))[0])
    assert "RW-2026-0002「需求文档输出」：待响应" in mine
    progress = mine[mine.index("最近的进展"):].splitlines()[1:]
    assert progress and not any(re.search(r"[A-Za-z]{3}", line) for line in progress
                                if line.startswith("- ")), progress  # in Chinese
    other = body_text(h.at("2026-12-01 11:15", message(
        sender="何芳 <he.fang@example.com>", subject="查询 RW-2026-0002", body="",
        message_id="<q-other@example.com>"))[0])
    assert "您没有参与 RW-2026-0002" in other
    # A head asks for the department; a stranger is told nothing of the state.
    dept = body_text(h.at("2026-12-01 11:20", message(
        sender="赵强 <zhao.qiang@example.com>", subject="查询 部门", body="",
        message_id="<q-dept@example.com>"))[0])
    assert "目前等待研发部的事项" in dept and "RW-2026-0004" in dept
    stranger = h.at("2026-12-01 11:25", message(
        sender="someone <x@elsewhere.example>", subject="我的待办", body="",
        message_id="<q-stranger@example.com>"))
    assert all("待办（" not in str(m["Subject"]) for m in stranger)
    # Queries do not use up the day's one "not understood" reply.
    confused = h.at("2026-12-01 11:30", message(
        sender="周杰 <zhou.jie@example.com>", subject="你好", body="随便问问",
        message_id="<q-confused@example.com>"))
    assert any("未能识别" in str(m["Subject"]) or "未能处理" in body_text(m) for m in confused)


def test_a_form_titled_like_a_query_is_still_a_form(h: Harness) -> None:
    body = REQUEST_IN_PROJECT.format(project="").replace("关联项目：\n", "")
    h.at("2026-12-01 10:05", message(sender=LEAD, subject="查询系统优化需求", body=body,
                                     message_id="<query-titled@example.com>"))
    assert h.record("XQ-2026-0001")["receiver_dept"] == "财务部"
