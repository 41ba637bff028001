"""The blank project plan (seed 001's 表1 and 表2, with the RACI matrix as department
columns of 表2), as an .xlsx people fill in and mail back: built from the rules, so its
headings are the ones the daemon reads and its department columns and lists are the
org directory's."""

from __future__ import annotations

import io

from collabd.policy.rules import Rules

FILENAME = "跨部门协作沟通计划与跟踪表.xlsx"
TASK_ROWS = 30
MEETING_ROWS = 8
_NOTES = [
    "填写说明",
    "在「表1 总表」填写项目基本信息（项目名称、项目负责人、核心目标等）和沟通计划。",
    "沟通计划每行一次沟通：日期可写具体日期（2026-12-07），"
    "也可写频率（每日、每周五、每月末），时间写 15:00。",
    "在「表2 任务跟踪子表」每行填写一项任务；计划开始、计划完成写日期。",
    "表2 右侧每个部门一栏，就是 RACI 矩阵：R 负责、A 审批（验收）、C 咨询、I 知情。",
    "每项任务至少一个 R，最多一个 A；不填 A 时由项目负责人验收。",
    "关键节点一栏填“是”的任务，会在完成前一个工作日收到阶段性成果说明的提醒。",
    "填好后作为附件发给协作秘书邮箱即可；也可以把两张表直接粘贴在邮件正文里。",
]


def blank_plan(rules: Rules) -> bytes:
    """The blank plan workbook for this deployment."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    spec = rules.forms.project
    departments = [d.name for d in rules.directory.departments]
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    book = Workbook()

    overview = book.active
    overview.title = "表1 总表"
    row = 1
    overview.cell(row, 1, "项目基本信息").font = bold
    for name in ("title", "lead_dept", "lead", "departments", "goal"):
        row += 1
        overview.cell(row, 1, spec.labels[name][0]).font = bold
    overview.cell(row + 1, 2, "").alignment = Alignment(wrap_text=True)
    row += 2
    overview.cell(row, 1, "沟通计划与跟踪").font = bold
    row += 1
    for column, name in enumerate(("date", "time", "topic", "participants", "way"), 1):
        cell = overview.cell(row, column, spec.meeting_columns[name][0])
        cell.font, cell.fill = bold, fill
    for letter, width in zip("ABCDE", (22, 40, 24, 30, 14), strict=True):
        overview.column_dimensions[letter].width = width

    tasks = book.create_sheet("表2 任务跟踪子表")
    headings = [spec.task_columns[name][0] for name in (
        "name", "description", "dept", "owner", "start", "finish", "actual", "status",
        "deliverable", "issues", "milestone")] + departments
    for column, heading in enumerate(headings, 1):
        cell = tasks.cell(1, column, heading)
        cell.font, cell.fill = bold, fill
    tasks.freeze_panes = "B2"
    last = TASK_ROWS + 1
    lists = [
        ('"' + ",".join(departments) + '"', "C"),
        ('"未开始,进行中,正常,提前完成,已完成,滞后,阻塞"', "H"),
        ('"是,否"', "K"),
    ]
    if len(",".join(departments)) <= 250:  # (Excel's limit for a list typed in)
        for formula, letter in lists:
            check = DataValidation(type="list", formula1=formula, allow_blank=True)
            tasks.add_data_validation(check)
            check.add(f"{letter}2:{letter}{last}")
    raci = DataValidation(type="list", formula1='"R,A,C,I,R/A"', allow_blank=True)
    tasks.add_data_validation(raci)
    first = len(headings) - len(departments) + 1
    from openpyxl.utils import get_column_letter

    if departments:
        raci.add(f"{get_column_letter(first)}2:{get_column_letter(len(headings))}{last}")
    for letter in ("E", "F", "G"):
        for index in range(2, last + 1):
            tasks[f"{letter}{index}"].number_format = "yyyy-mm-dd"
    for index, width in enumerate((20, 30, 12, 10, 12, 12, 12, 10, 20, 20, 10), 1):
        tasks.column_dimensions[get_column_letter(index)].width = width

    notes = book.create_sheet("说明")
    for index, text in enumerate(_NOTES, 1):
        notes.cell(index, 1, text).font = bold if index == 1 else Font()
    notes.column_dimensions["A"].width = 100

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
