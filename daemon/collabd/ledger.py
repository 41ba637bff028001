"""The ledgers the secretary keeps (guides 002, 003): the weekly 《跨部门协作进度台账》 —
what changed this week, what is overdue and who holds it, risks, decisions waiting,
and every open or recently closed request, task and project in the guides' columns —
and the 《问题台账》 (severity, deadline, handled by, closed, days open). Built from the
records as they are stored; the HTML is rendered by the mail templates, the .xlsx here.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from typing import Any

from collabd.clock import stored_day, stored_moment
from collabd.report import KIND_LABELS, STATUS_LABELS, people_text, record_summary

Rec = dict[str, Any]
RECENT = dt.timedelta(days=7)


def concerns(record: Rec, dept: str | None) -> bool:
    """Does the record concern a department (one of its sides, or someone it waits on)?"""
    if not dept:
        return True
    names = {record.get(k) for k in ("requester_dept", "receiver_dept", "dept", "lead_dept",
                                     "reporter_dept", "target_dept")}
    names |= set(record.get("cooperating_depts") or [])
    names |= {d.get("dept") for d in record.get("departments") or [] if isinstance(d, dict)}
    names |= {p.get("dept") for p in record.get("waiting_people") or [] if isinstance(p, dict)}
    # people it names: a task's owner (an action item has no 负责部门), who asked,
    # a meeting's organizer and attendees
    names |= {p.get("dept") for k in ("owner", "requester", "organizer", "reporter")
              if isinstance(p := record.get(k), dict)}
    names |= {p.get("dept") for p in record.get("attendees") or [] if isinstance(p, dict)}
    return dept in names


def _people_in(record: Rec) -> Iterable[Rec]:
    for value in record.values():
        if isinstance(value, dict) and value.get("address"):
            yield value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, dict) and v.get("address"))


def _holder(record: Rec) -> str:
    return people_text(record.get("waiting_people") or []) or "—"


def weekly(records: Iterable[Rec], now: dt.datetime, calendar: Any = None, *,
           dept: str | None = None,
           summaries: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The week up to `now`: rows per kind (requests, tasks, projects: the 台账's sheets;
    problems have their own 问题台账), and what changed, is overdue, at risk, or waiting
    for a decision — of every kind, problems and meetings (minutes owed) included.
    `summaries`: record id → its summary at `now`, shared by the views of one run."""
    since = now - RECENT
    rows: dict[str, list[Rec]] = {"request": [], "task": [], "project": []}
    changed, overdue, risks, decisions = [], [], [], []
    for record in records:
        kind = record.get("kind")
        if kind not in KIND_LABELS or not concerns(record, dept):
            continue
        closed = stored_moment(record.get("closed"))
        if closed is not None and closed < since:
            continue  # closed before this week: not in this week's ledger
        summary = summaries.get(record["id"]) if summaries is not None else None
        if summary is None:
            summary = record_summary(record, now, calendar)
            if summaries is not None:
                summaries[record["id"]] = summary
        item = {"record": record, "summary": summary, "holder": _holder(record),
                "kind_label": KIND_LABELS.get(str(kind), str(kind)),
                "status_label": STATUS_LABELS.get(str(record.get("status")),
                                                  str(record.get("status")))}
        if kind in rows:
            rows[str(kind)].append(item)
        created = stored_moment(record.get("created"))
        if (created is not None and created >= since) or closed is not None:
            item["change"] = "新建" if created is not None and created >= since else "关闭"
            changed.append(item)
        if summary["overdue"]:
            overdue.append(item)
        if record.get("risk"):
            risks.append(item)
        if record.get("pending_signoffs") or record.get("status") in ("delivered", "memo"):
            decisions.append(item)
    for items in (*rows.values(), changed, overdue, risks, decisions):
        items.sort(key=lambda i: str(i["record"]["id"]))
    return {"at": now, "since": since, "dept": dept, "rows": rows, "changed": changed,
            "overdue": overdue, "risks": risks, "decisions": decisions}


def problems(records: Iterable[Rec], now: dt.datetime, *,
             dept: str | None = None) -> dict[str, Any]:
    """Every problem still open, and those closed this week (问题台账: 件件有回音)."""
    since = now - RECENT
    items: list[dict[str, Any]] = []
    records = list(records)
    # who answered, by name where a record names them (answered_by keeps addresses)
    names = {str(p["address"]).lower(): str(p["name"])
             for r in records for p in _people_in(r) if p.get("name")}
    for record in records:
        if record.get("kind") != "problem" or not concerns(record, dept):
            continue
        closed = stored_moment(record.get("closed"))
        if closed is not None and closed < since:
            continue
        created = stored_moment(record.get("created")) or now
        handled = "、".join(names.get(a.lower(), a) for a in record.get("answered_by") or []
                           ) or ((record.get("target_liaison") or {}).get("name") or "—")
        items.append({"record": record, "handled": handled,
                      # calendar days from the day it came in (opened and closed the
                      # next day: 1)
                      "days_open": ((closed or now).date() - created.date()).days,
                      "overdue": closed is None and record.get("status") != "resolved" and (
                          (due := stored_moment(record.get("response_due"))) is not None
                          and due < now),
                      "status_label": STATUS_LABELS.get(str(record.get("status")),
                                                        str(record.get("status")))})
    items.sort(key=lambda i: str(i["record"]["id"]))
    return {"at": now, "since": since, "dept": dept, "items": items}


def add_sheet(book: Any, title: str, headings: list[str], rows: list[list[Any]]) -> None:
    """A sheet with a bold, frozen header row and filters; dates formatted as dates.
    Written in openpyxl's write-only mode: a ledger of 10,000 rows took twice as long
    (and all its cells in memory) the ordinary way."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    # Wide enough for the heading and for a date (Excel shows ##### in a narrow one).
    for index, text in enumerate(headings, start=1):
        dated = any(isinstance(r[index - 1], dt.date) for r in rows[:50] if len(r) >= index)
        sheet.column_dimensions[get_column_letter(index)].width = max(
            2 * len(text) + 4, 18 if dated else 10)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(1, len(headings)))}{len(rows) + 1}"
    bold = Font(bold=True)
    header = []
    for text in headings:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        out: list[Any] = []
        for value in row:
            if isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = ("yyyy-mm-dd hh:mm" if isinstance(value, dt.datetime)
                                      and value.time() != dt.time() else "yyyy-mm-dd")
                out.append(cell)
            else:
                out.append(value)
        sheet.append(out)


def new_book() -> Any:
    from openpyxl import Workbook

    return Workbook(write_only=True)


def book_bytes(book: Any) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def weekly_xlsx(data: dict[str, Any]) -> bytes:
    """One sheet per kind, in the columns of the guides' tables; dates as dates."""
    from collabd.bundle import plan_status

    book = new_book()
    today = data["at"].date()
    add_sheet(book, "需求", ["编号", "需求名称", "发起部门", "接收部门", "状态", "期望完成时间",
                        "响应时间", "关闭时间", "等待", "逾期", "问题记录"],
           [[i["record"]["id"], i["record"].get("title", ""),
             i["record"].get("requester_dept") or "", i["record"].get("receiver_dept") or "",
             i["status_label"], stored_day(i["record"].get("due_date")),
             stored_day(i["record"].get("responded")), stored_day(i["record"].get("closed")),
             i["holder"], "是" if i["summary"]["overdue"] else "",
             "、".join(i["record"].get("problems") or [])]
            for i in data["rows"]["request"]])
    add_sheet(book, "任务", ["编号", "任务名称", "所属项目", "负责部门", "负责人", "计划开始",
                        "计划完成", "实际完成", "状态", "产出物", "问题记录"],
           [[i["record"]["id"], i["record"].get("title", ""), i["record"].get("project") or "",
             i["record"].get("dept") or (i["record"].get("owner") or {}).get("dept") or "",
             (i["record"].get("owner") or {}).get("name") or i["record"].get("owner_text") or "",
             stored_day(i["record"].get("planned_start")), stored_day(i["record"].get("due_date")),
             stored_day(i["record"].get("actual_finish") or (
                 i["record"].get("closed") if i["record"].get("status") == "done" else None)),
             plan_status(i["record"], today),
             i["record"].get("deliverable", ""), i["record"].get("issues", "")]
            for i in data["rows"]["task"]])
    add_sheet(book, "项目", ["编号", "项目名称", "发起部门", "项目负责人", "计划开始", "计划完成",
                        "状态", "任务数", "关闭时间"],
           [[i["record"]["id"], i["record"].get("title", ""),
             i["record"].get("lead_dept") or "",
             (i["record"].get("lead") or {}).get("name") or "",
             stored_day(i["record"].get("start")), stored_day(i["record"].get("finish")),
             i["status_label"], len(i["record"].get("tasks") or []),
             stored_day(i["record"].get("closed"))]
            for i in data["rows"]["project"]])
    return book_bytes(book)


def problems_xlsx(data: dict[str, Any]) -> bytes:
    book = new_book()
    add_sheet(book, "问题台账", ["编号", "问题标题", "严重程度", "反馈部门", "涉及部门", "处理期限",
                          "处理人", "状态", "关闭时间", "已开天数", "关联需求"],
           [[i["record"]["id"], i["record"].get("title", ""), i["record"].get("severity", ""),
             i["record"].get("reporter_dept") or "", i["record"].get("target_dept") or "",
             stored_day(i["record"].get("response_due")), i["handled"], i["status_label"],
             stored_day(i["record"].get("closed")), i["days_open"],
             i["record"].get("related_request") or ""] for i in data["items"]])
    return book_bytes(book)
