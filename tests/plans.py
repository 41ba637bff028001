"""A realistic project plan (seed 001's 表1 and 表2 with a RACI matrix): three
departments, six tasks, three rows of the communication plan, one milestone — filled
into the daemon's own blank workbook, or written as a table pasted into a mail."""

from __future__ import annotations

import datetime as dt
import email.policy
import io
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from helpers import SHARED

FIELDS = {
    "项目名称": "年终促销系统上线",
    "项目发起部门": "市场部",
    "项目负责人": "刘洋",
    "参与部门及对接人": "市场部（刘洋）、研发部（孙丽）、财务部（郑浩）",
    "核心目标": "2027年1月22日前上线年终促销活动页，带动销售增长10%",
}
MEETINGS: list[tuple[Any, ...]] = [
    ("每日", "17:00", "进度同步", "三部门对接人", "邮件"),
    ("每周五", "15:00", "风险排查会", "市场部、研发部、财务部负责人", "会议"),
    (dt.date(2026, 12, 7), "14:00", "需求评审会", "三部门负责人+专员", "会议"),
]
# 任务名称, 任务描述, 负责部门, 负责人, 计划开始, 计划完成, 实际完成, 状态, 产出物, 问题记录,
# 关键节点, then RACI by department.
TASKS: list[tuple[Any, ...]] = [
    ("客户需求收集", "整理近3个月客户反馈", "市场部", "陈晨", dt.date(2026, 12, 2),
     dt.date(2026, 12, 8), None, "未开始", "需求清单", "", "否",
     {"市场部": "R", "研发部": "C", "财务部": "I"}),
    ("需求文档输出", "", "研发部", "周杰", dt.date(2026, 12, 9), dt.date(2026, 12, 15),
     None, "", "需求文档", "", "", {"市场部": "A", "研发部": "R", "财务部": "C"}),
    ("预算核定", "", "财务部", "郑浩", dt.date(2026, 12, 3), dt.date(2026, 12, 10), None,
     "", "预算表", "", "", {"市场部": "C", "财务部": "R/A"}),
    ("活动页开发", "", "研发部", "孙丽", dt.date(2026, 12, 16), dt.date(2027, 1, 8), None,
     "", "活动页", "", "是", {"市场部": "A", "研发部": "R", "财务部": "I"}),
    ("测试验收", "", "研发部", "周杰", dt.date(2027, 1, 11), dt.date(2027, 1, 15), None,
     "", "测试报告", "", "", {"市场部": "A", "研发部": "R"}),
    ("上线推广", "", "市场部", "刘洋", dt.date(2027, 1, 18), dt.date(2027, 1, 22), None,
     "", "推广方案", "", "", {"市场部": "R", "研发部": "C", "财务部": "I"}),
]


def plan_xlsx(rules: Any, tasks: Sequence[tuple[Any, ...]] = TASKS,
              fields: dict[str, str] | None = None,
              meetings: Sequence[tuple[Any, ...]] = MEETINGS) -> bytes:
    """The plan, filled into the blank workbook the daemon hands out."""
    import openpyxl

    from collabd.outbound.plan_workbook import blank_plan

    book = openpyxl.load_workbook(io.BytesIO(blank_plan(rules)))
    overview = book["表1 总表"]
    values = FIELDS if fields is None else fields
    header = 0
    for row in range(1, 30):
        label = overview.cell(row, 1).value
        if label in values:
            overview.cell(row, 2, values[label])
        if overview.cell(row, 3).value == "沟通主题":
            header = row
    for index, meeting in enumerate(meetings):
        for column, value in enumerate(meeting, 1):
            overview.cell(header + 1 + index, column, value)
    sheet = book["表2 任务跟踪子表"]
    headings = [c.value for c in sheet[1]]
    for index, task in enumerate(tasks):
        for column, value in enumerate(task[:11], 1):
            if value not in (None, ""):
                sheet.cell(2 + index, column, value)
        for dept, letters in task[11].items():
            sheet.cell(2 + index, headings.index(dept) + 1, letters)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def plan_text(tasks: Sequence[tuple[Any, ...]] = TASKS) -> str:
    """The plan as a mail body: 表1 as 标签：值 lines, then both tables pasted from
    Excel (tab-separated, empty cells kept), in traditional characters where a
    Taiwan or Hong Kong office would write them."""
    depts = ["市场部", "研发部", "财务部"]
    lines = [f"{label}：{value}" for label, value in FIELDS.items()]
    lines += ["", "溝通計劃與跟蹤", "日期\t時間\t溝通主題\t參與部門/人員"]
    lines += ["\t".join(str(v) for v in m[:4]) for m in MEETINGS]
    lines += ["", "表2：任務跟蹤子表",
              "任務名稱\t任務描述\t負責部門\t負責人\t計劃開始\t計劃完成\t實際完成\t狀態\t產出物\t"
              "問題記錄\t關鍵節點\t" + "\t".join(depts)]
    for task in tasks:
        cells = ["" if v is None else str(v) for v in task[:11]]
        cells += [task[11].get(d, "") for d in depts]
        lines.append("\t".join(cells))
    return "\n".join(lines) + "\n\n刘洋\n"


def with_attachment(*, sender: str, subject: str, body: str, filename: str, data: bytes,
                    message_id: str) -> bytes:
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = SHARED
    msg["Subject"] = subject
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 +0800"
    msg["Message-ID"] = message_id
    msg.set_content(body)
    maintype, subtype = ("application", "vnd.openxmlformats-officedocument."
                         "spreadsheetml.sheet") if filename.endswith(".xlsx") else (
        "application", "octet-stream")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def plan_docx(tasks: Sequence[tuple[Any, ...]] = TASKS) -> bytes:
    """The plan as a Word document: 表1 as a two-column table, the communication plan
    and 表2 (with its RACI columns) as tables, headings between them."""
    import docx

    depts = ["市场部", "研发部", "财务部"]
    document = docx.Document()
    document.add_paragraph("跨部门协作沟通计划与跟踪表")
    overview = document.add_table(rows=0, cols=2)
    for label, value in FIELDS.items():
        cells = overview.add_row().cells
        cells[0].text, cells[1].text = label, value
    document.add_paragraph("沟通计划与跟踪")
    plan = document.add_table(rows=1, cols=4)
    for cell, text in zip(plan.rows[0].cells, ["日期", "时间", "沟通主题", "参与部门/人员"],
                          strict=True):
        cell.text = text
    for meeting in MEETINGS:
        for cell, value in zip(plan.add_row().cells, meeting[:4], strict=True):
            cell.text = str(value)
    document.add_paragraph("表2：任务跟踪子表")
    headings = ["任务名称", "任务描述", "负责部门", "负责人", "计划开始", "计划完成", "实际完成",
                "状态", "产出物", "问题记录", "关键节点", *depts]
    table = document.add_table(rows=1, cols=len(headings))
    for cell, text in zip(table.rows[0].cells, headings, strict=True):
        cell.text = text
    for task in tasks:
        values = ["" if v is None else str(v) for v in task[:11]]
        values += [task[11].get(d, "") for d in depts]
        for cell, value in zip(table.add_row().cells, values, strict=True):
            cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
