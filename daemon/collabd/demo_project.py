"""`collabd demo --project`: a cross-department project run by mail on a simulated clock
(seeds 001 and 002) — the plan mailed in as a workbook, the 启动会 and its minutes, the
memo each head signs (one late, reminded), tasks delivered and accepted by their A, the
lead's 反馈, the 复盘会 and its report, and the archive mailed to the secretary."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from collabd.demo import LIU, SUN, TZ, ZHAO, ZHENG, Run, Step, new_mail, person, reply_to

CHEN = person("陈晨", "chen.chen@example.com")
ZHANG = person("张伟", "zhang.wei@example.com")   # 市场部 head
WU = person("吴敏", "wu.min@example.com")          # 财务部 head
WANG = person("王建国", "wang.jianguo@example.com")  # 协作小组组长

PLAN_FIELDS = {
    "项目名称": "春节促销活动上线",
    "项目发起部门": "市场部",
    "项目负责人": "刘洋",
    "参与部门及对接人": "市场部（刘洋）、研发部（孙丽）、财务部（郑浩）",
    "核心目标": "2027年1月8日前上线春节促销活动页与预算方案",
}
# 任务名称, 任务描述, 负责部门, 负责人, 计划开始, 计划完成, then RACI by department.
PLAN_TASKS: list[tuple[Any, ...]] = [
    ("活动方案", "确定活动规则与商品清单", "市场部", "陈晨", dt.date(2026, 12, 28),
     dt.date(2026, 12, 31), {"市场部": "R", "研发部": "C", "财务部": "C"}),
    ("活动页开发", "活动页与下单流程", "研发部", "孙丽", dt.date(2026, 12, 29),
     dt.date(2027, 1, 6), {"市场部": "A", "研发部": "R", "财务部": "I"}),
    ("促销预算", "核定折扣与预算", "财务部", "郑浩", dt.date(2026, 12, 30),
     dt.date(2027, 1, 6), {"市场部": "C", "财务部": "R/A"}),
]
PLAN_MEETINGS = [("每周五", "15:00", "风险排查会", "三部门负责人", "会议"),
                 ("每日", "17:00", "进度同步", "三部门对接人", "邮件")]


def plan_workbook(run: Run) -> bytes:
    """The daemon's own blank plan, filled in as the lead would."""
    import openpyxl

    from collabd.outbound.plan_workbook import blank_plan

    book = openpyxl.load_workbook(io.BytesIO(blank_plan(run.daemon.rules)))
    overview = book["表1 总表"]
    header = 0
    for row in range(1, 30):
        label = overview.cell(row, 1).value
        if label in PLAN_FIELDS:
            overview.cell(row, 2, PLAN_FIELDS[str(label)])
        if overview.cell(row, 3).value == "沟通主题":
            header = row
    for index, meeting in enumerate(PLAN_MEETINGS, 1):
        for column, value in enumerate(meeting, 1):
            overview.cell(header + index, column, value)
    sheet = book["表2 任务跟踪子表"]
    headings = [c.value for c in sheet[1]]
    for index, (name, what, dept, owner, start, finish, raci) in enumerate(PLAN_TASKS, 2):
        for column, value in enumerate((name, what, dept, owner, start, finish), 1):
            sheet.cell(index, column, value)
        for where, letters in raci.items():
            sheet.cell(index, headings.index(where) + 1, letters)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _confirm_all(r: Run, subject: str) -> list[bytes]:
    return [reply_to(m, sender=str(m["To"]), text="确认") for m in r.all(subject)]


def project_steps() -> list[Step]:
    return [
        Step("2026-12-28 09:10", "刘洋（市场部）", "发来填好的《跨部门协作沟通计划与跟踪表》",
             lambda r: [new_mail(LIU, "项目计划：春节促销活动上线", "李静您好，计划见附件。\n刘洋",
                                 attachments=[("春节促销-计划.xlsx", plan_workbook(r))])]),
        Step("2026-12-30 10:00", "陈晨（市场部）", "回复任务清单：进度 90%",
             lambda r: [reply_to(r.find("您负责的项目任务", "chen.chen"), sender=CHEN,
                                 text="进度 90%，活动规则已定，商品清单在整理。")]),
        Step("2026-12-30 11:00", "刘洋", "回复启动会纪要",
             lambda r: [reply_to(r.find("提交会议纪要：项目启动会"), sender=LIU,
                                 text="启动会纪要：各部门确认分工、时间节点与沟通机制，无异议。")]),
        Step("2026-12-30 14:00", "全体参会人", "确认启动会纪要",
             lambda r: _confirm_all(r, "请确认会议纪要：项目启动会")),
        Step("2026-12-30 16:00", "张伟、赵强（部门负责人）", "回复“确认”签署备忘录",
             lambda r: [reply_to(r.find("请签署《跨部门协作备忘录》", a), sender=p, text="确认")
                        for a, p in (("zhang.wei", ZHANG), ("zhao.qiang", ZHAO))]),
        Step("2026-12-31 11:30", "吴敏（财务部负责人）", "回复提醒邮件“确认”签署备忘录",
             lambda r: [reply_to(r.latest("签署协作备忘录"), sender=WU, text="确认")]),
        Step("2026-12-31 11:40", "刘洋", "回复专项推进会（验收前）纪要，含决议",
             lambda r: [reply_to(r.find("提交会议纪要：专项推进会"), sender=LIU, text=(
                 "专项推进会纪要：活动页1月6日前完成验收。\n"
                 "待办：准备上线检查清单 负责人：孙丽 截止：2027-01-06"))]),
        Step("2026-12-31 11:50", "全体参会人", "确认推进会纪要",
             lambda r: _confirm_all(r, "请确认会议纪要：专项推进会")),
        Step("2026-12-31 13:30", "陈晨", "交付活动方案",
             lambda r: [reply_to(r.find("您负责的项目任务", "chen.chen"), sender=CHEN,
                                 text="已交付：https://docs.example.com/spring-plan")]),
        Step("2026-12-31 13:45", "王建国（协作小组组长）", "回复“确认”签署决议",
             lambda r: [reply_to(r.find("请签署决议"), sender=WANG, text="确认")]),
        Step("2026-12-31 15:00", "刘洋（活动方案的审批方 A）", "验收：确认",
             lambda r: [reply_to(r.find("请验收任务交付物", "liu.yang"), sender=LIU,
                                 text="确认")]),
        Step("2027-01-05 10:00", "孙丽（研发部）", "交付活动页",
             lambda r: [reply_to(r.find("您负责的项目任务", "sun.li"), sender=SUN,
                                 text="已交付，活动页：https://www.example.com/spring")]),
        Step("2027-01-05 11:00", "张伟（活动页的审批方 A）", "驳回：缺少优惠券入口",
             lambda r: [reply_to(r.find("请验收任务交付物（第1次）：活动页开发"), sender=ZHANG,
                                 text="驳回：缺少优惠券入口，1月6日前补上。")]),
        Step("2027-01-06 09:30", "孙丽", "回复推进会待办：已完成",
             lambda r: [reply_to(r.find("新的待办事项：准备上线检查清单"), sender=SUN,
                                 text="已完成，上线检查清单已发各部门。")]),
        Step("2027-01-06 10:00", "孙丽", "整改后再次交付",
             lambda r: [reply_to(r.find("未通过验收"), sender=SUN,
                                 text="已交付，已加优惠券入口：https://www.example.com/spring?v=2")]),
        Step("2027-01-06 11:00", "张伟", "验收：确认",
             lambda r: [reply_to(r.find("请验收任务交付物（第2次）"), sender=ZHANG, text="确认")]),
        Step("2027-01-06 15:00", "郑浩（财务部）", "交付促销预算",
             lambda r: [reply_to(r.find("您负责的项目任务", "zheng.hao"), sender=ZHENG,
                                 text="已交付：https://docs.example.com/spring-budget")]),
        Step("2027-01-06 16:00", "吴敏（促销预算的审批方 A）", "验收：确认",
             lambda r: [reply_to(r.find("请验收任务交付物", "wu.min"), sender=WU, text="确认")]),
        Step("2027-01-07 10:00", "刘洋", "回复反馈：使用效果",
             lambda r: [reply_to(r.find("请反馈使用效果"), sender=LIU,
                                 text="活动页上线首日订单增长 15%，达到目标。")]),
        Step("2027-01-11 11:00", "刘洋", "回复《协作复盘报告》（复盘会纪要）",
             lambda r: [reply_to(r.find("提交会议纪要：项目复盘会"), sender=LIU, text=(
                 "协作复盘报告：一、分工清楚、验收及时；二、活动页返工一次，需求评审要更细；"
                 "三、今后启动会上就确认验收标准。"))]),
        Step("2027-01-11 14:00", "全体参会人", "确认复盘报告",
             lambda r: _confirm_all(r, "请确认会议纪要：项目复盘会")),
    ]


def play_project(run: Run) -> None:
    run.play(project_steps(), until=dt.datetime(2027, 1, 11, 18, 0, tzinfo=TZ),
             what="：一个跨部门协作项目")
