"""One archive (资料归档) of a request or a project: every document in one .zip, named as
guide 003 says (协作事项+部门+日期) — the form or plan, the memo with who signed when, the
minutes of every meeting, the task table with actual dates, the deliverables (their
files where this machine keeps the mail that carried them, else their names and links),
the 复盘报告, and the whole audit trail as a readable HTML page.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collabd.clock import stored_day

if TYPE_CHECKING:
    from collabd.policy.org import Directory

# Records are read here as the JSON they are stored as (like report.py): an archive is
# made of whatever a record of any kind, of any version, holds.
Rec = dict[str, Any]
Lookup = Callable[[str], "Rec | None"]
_UNSAFE = re.compile(r"[\\/:*?\"<>|\s]+")


def bundle_name(record: Rec, today: dt.date) -> str:
    """协作事项+部门+日期: 年终促销系统上线_市场部_20270122."""
    fields = record
    dept = fields.get("lead_dept") or fields.get("requester_dept") or fields.get(
        "reporter_dept") or ""
    closed = str(fields.get("closed") or "")[:10]
    day = closed.replace("-", "") if closed else today.strftime("%Y%m%d")
    title = (fields.get("fields") or {}).get("title") or fields.get("title") or record["id"]
    parts = [str(title), str(dept), day]
    return "_".join(_UNSAFE.sub("-", p).strip("-") for p in parts if p)[:120]


def related(record: Rec, lookup: Lookup) -> list[Rec]:
    """The record and everything it holds: a project's tasks and meetings, a request's
    meetings and problems, the tasks of those meetings' minutes."""
    found: dict[str, Rec] = {record["id"]: record}
    queue: list[str] = []
    fields = record
    for key in ("tasks", "meetings", "problems", "requests"):
        queue += [str(i) for i in fields.get(key) or []]
    while queue:
        record_id = queue.pop(0)
        if record_id in found:
            continue
        other = lookup(record_id)
        if other is None:
            continue
        found[record_id] = other
        for key in ("tasks", "occurrences", "meetings"):
            queue += [str(i) for i in other.get(key) or []]
    return list(found.values())


def names_from(directory: Directory) -> Callable[[str], str]:
    """An address → the person's name and department (协作小组 for its officers), as
    the archive shows who signed; an address the directory does not know stays one."""
    def name_of(address: str) -> str:
        known = directory.by_address(address)
        return f"{known.name}（{known.department or '协作小组'}）" if known else address
    return name_of


def plan_status(task: Rec, today: dt.date) -> str:
    """A task's 状态 in 表2's words: 提前完成 / 已完成 / 待验收 / 阻塞 / 滞后 / 正常 / 未开始."""
    due = stored_day(task.get("due_date"))
    status = task.get("status")
    if status == "done":
        actual = stored_day(task.get("actual_finish"))
        return "提前完成" if actual and due and actual < due else "已完成"
    if status == "cancelled":
        return "已取消"
    if status == "delivered":
        return "待验收"
    if (task.get("progress") or {}).get("status") == "阻塞":
        return "阻塞"
    if task.get("risk") or (due is not None and due < today):
        return "滞后"
    start = stored_day(task.get("planned_start"))
    return "未开始" if start and start > today and not task.get("progress") else "正常"


def build(record: Rec, lookup: Lookup, messages: Callable[[str], dict[str, Any]],
          today: dt.date, *, labels: dict[str, str] | None = None,
          sent_dir: Path | None = None,
          name_of: Callable[[str], str] | None = None) -> tuple[str, bytes]:
    """(file name, .zip bytes). `messages`: a record's message-index entries by id;
    `labels`: the form's field → its label (forms.yaml); `sent_dir`: the Maildir of sent
    mail, where forwarded deliverables can be found; `name_of`: an address → the person's
    name (the org directory), for who signed."""
    who = name_of or (lambda address: address)
    from collabd import report

    name = bundle_name(record, today)
    records = related(record, lookup)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        def put(path: str, data: str | bytes) -> None:
            archive.writestr(f"{name}/{path}",
                             data.encode("utf-8") if isinstance(data, str) else data)

        put("00_目录.txt", _contents(record, records))
        put("01_表单与计划.txt", _form(record, labels or {}))
        tasks = [r for r in records if r["kind"] == "task"]
        if tasks:
            put("02_任务跟踪表.xlsx", _task_sheet(tasks, today))
        memo = record.get("memo")
        if memo:
            put("03_协作备忘录.txt", _memo(record, memo, who))
        for meeting in (r for r in records if r["kind"] == "meeting"):
            put(f"04_会议/{_UNSAFE.sub('-', str(meeting.get('title', meeting['id'])))}_"
                f"{str(meeting.get('start', ''))[:10]}.txt", _meeting(meeting, who))
        deliveries = _deliveries(records)
        if deliveries:
            put("05_交付物/交付记录.txt", deliveries)
            for filename, data in _delivered_files(records, messages, sent_dir):
                put(f"05_交付物/{filename}", data)
        retro = record.get("retro_report")
        feedback = record.get("feedback")
        if retro or feedback:
            put("06_反馈与复盘.txt", (f"反馈（{who(feedback['by'])}，{_when(feedback['at'])}）：\n"
                                     f"{feedback['text']}\n\n" if feedback else "")
                + (f"《协作复盘报告》（复盘会纪要）：\n{retro}\n" if retro else ""))
        pages = [report.show_text(report.show_record(r, messages(r["id"]), archived=False),
                                  whole=True) for r in records]
        put("07_全过程记录.html", _html_page(name, pages))
    return f"{name}.zip", out.getvalue()


def _contents(record: Rec, records: list[Rec]) -> str:
    from collabd.report import KIND_LABELS, STATUS_LABELS

    lines = [f"{record['id']} {record.get('title', '')}", "", "包含的记录："]
    for r in records:
        lines.append(f"- {r['id']}  {KIND_LABELS.get(r['kind'], r['kind'])}  "
                     f"{STATUS_LABELS.get(str(r.get('status')), str(r.get('status')))}  "
                     f"{r.get('title', '')}")
    return "\n".join(lines) + "\n"


def _form(record: Rec, labels: dict[str, str]) -> str:
    from collabd.report import FIELD_LABELS

    fields: dict[str, Any] = record.get("fields") or {}
    lines = [f"{labels.get(k) or FIELD_LABELS.get(k, k)}："
             f"{'、'.join(v) if isinstance(v, list) else v}" for k, v in fields.items() if v]
    plan = record.get("comm_plan") or []
    if plan:
        lines += ["", "沟通计划："]
        lines += [f"- {row.get('when', '')}　{row.get('topic', '')}"
                  f"（{row.get('participants', '')}）" for row in plan]
    return "\n".join(lines) + "\n"


def _task_sheet(tasks: list[Rec], today: dt.date) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "任务跟踪表"
    headings = ["编号", "任务名称", "任务描述", "负责部门", "负责人", "计划开始", "计划完成",
                "实际完成", "状态", "产出物", "问题记录", "RACI", "验收人（A）"]
    sheet.append(headings)
    for cell in sheet[1]:
        cell.font = Font(bold=True)

    for task in tasks:
        t = task
        sheet.append([
            t["id"], t.get("title", ""), t.get("description", ""), t.get("dept") or "",
            (t.get("owner") or {}).get("name") or t.get("owner_text") or "",
            stored_day(t.get("planned_start")), stored_day(t.get("due_date")),
            stored_day(t.get("actual_finish")),
            plan_status(t, today),
            t.get("deliverable", ""), t.get("issues", ""),
            "、".join(f"{d}{v}" for d, v in (t.get("raci") or {}).items()),
            (t.get("accountable") or {}).get("name") or "",
        ])
    for row in sheet.iter_rows(min_row=2, min_col=6, max_col=8):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _when(value: Any) -> str:
    return str(value or "")[:16].replace("T", " ")


def _memo(record: Rec, memo: dict[str, Any], who: Callable[[str], str]) -> str:
    signatures = [s for s in record.get("signoffs") or []
                  if s.get("kind") == "memo" and s.get("round") == memo.get("round")]
    lines = [str(memo.get("text", "")), "", "签署记录："]
    for s in signatures:
        said = ("确认" if s.get("decision") == "confirmed"
                else "不确认：" + str(s.get("reason") or ""))
        lines.append(f"- {who(str(s.get('by')))}：{_when(s.get('at'))} {said}")
    if memo.get("signed"):
        lines.append(f"全部签署：{str(memo['signed'])[:16].replace('T', ' ')}")
    return "\n".join(lines) + "\n"


def _meeting(meeting: Rec, who: Callable[[str], str]) -> str:
    m = meeting
    lines = [str(m.get("title", "")), f"时间：{str(m.get('start', ''))[:16].replace('T', ' ')}",
             f"地点：{m.get('location', '')}", "参会人："]
    answers = {"ACCEPTED": "已接受", "DECLINED": "已拒绝", "TENTATIVE": "暂定",
               "NEEDS-ACTION": "未答复", "DELEGATED": "已委托他人"}
    for a in m.get("attendees") or []:
        where = "，".join(p for p in (a.get("dept"), a.get("role")) if p)
        lines.append(f"- {a.get('name')}（{where}）：{answers.get(a.get('partstat'), '')}")
    lines += ["", "议程：", str(m.get("agenda", ""))]
    rounds = (m.get("minutes") or {}).get("rounds") or []
    for r in rounds:
        state = {"signed_off": "已全员确认", "distributed": "确认中", "rejected": "未获确认"}.get(
            str(r.get("status")), str(r.get("status", "")))
        lines += ["", f"会议纪要（第{r.get('round')}版，{state}）：", str(r.get("text", ""))]
    confirmed = [s for s in m.get("signoffs") or [] if s.get("kind") == "minutes"]
    if confirmed:
        lines += ["", "确认记录："]
        lines += [f"- {who(str(s.get('by')))}：{_when(s.get('at'))} "
                  f"{'确认' if s.get('decision') == 'confirmed' else '不确认'}" for s in confirmed]
    return "\n".join(lines) + "\n"


def _deliveries(records: Iterable[Rec]) -> str:
    lines = []
    for r in records:
        for d in r.get("deliveries") or []:
            decided = {"accepted": "验收通过", "rejected": "驳回"}.get(
                str(d.get("decision")), "待验收")
            lines.append(f"{r['id']} {r.get('title', '')} 第{d.get('round')}次"
                         f"（{d.get('by')}，{_when(d.get('at'))}，{decided}）")
            if d.get("text"):
                lines.append(f"  {d['text']}")
            for link in d.get("links") or []:
                lines.append(f"  链接：{link}")
            for name in d.get("attachments") or []:
                lines.append(f"  附件：{name}")
    return "\n".join(lines) + ("\n" if lines else "")


def _delivered_files(records: Iterable[Rec], messages: Callable[[str], dict[str, Any]],
                     sent_dir: Path | None) -> list[tuple[str, bytes]]:
    """The files delivered, from the acceptance asks that forwarded them (kept in the
    sent Maildir on the embedded backend; elsewhere they stay in the mail thread)."""
    if sent_dir is None or not sent_dir.is_dir():
        return []
    wanted: set[str] = set()
    for r in records:
        for message_id, entry in messages(r["id"]).items():
            if entry.get("dir") == "out" and entry.get("purpose") == "acceptance_request":
                wanted.add(message_id)
    found: list[tuple[str, bytes]] = []
    if not wanted:
        return found
    for folder in ("cur", "new"):
        for path in sorted((sent_dir / folder).glob("*")) if (sent_dir / folder).is_dir() else []:
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if str(msg.get("Message-ID", "")).strip() not in wanted:
                continue
            for part in msg.iter_attachments():
                filename = part.get_filename()
                data = part.get_payload(decode=True)
                if filename and isinstance(data, bytes) and not filename.lower().endswith(
                        ".ics"):
                    found.append((_UNSAFE.sub("-", filename), data))
    return found


def _html_page(title: str, pages: list[str]) -> str:
    body = "\n".join(f"<section><pre>{html.escape(p)}</pre></section>" for p in pages)
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>body{{font-family:sans-serif;"
            "max-width:960px;margin:2em auto}pre{white-space:pre-wrap;border-top:1px solid "
            "#ccc;padding-top:1em}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{body}</body></html>")
