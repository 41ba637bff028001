"""What `collabd status` and `collabd show` print: stable JSON objects and readable text."""

from __future__ import annotations

import datetime as dt
import fcntl
import functools
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collabd.clock import isoformat
from collabd.store.lock import LOCK_NAME

if TYPE_CHECKING:
    from collabd.policy.calendar import WorkCalendar
    from collabd.policy.org import Directory
    from collabd.store.view import StateView

# What `status` and `show` print for each kind and status (JSON keeps the English keys).
KIND_LABELS = {"request": "需求", "meeting": "会议", "task": "待办", "problem": "问题",
               "project": "项目"}
STATUS_LABELS = {
    "open": "待响应", "in_progress": "处理中", "delivered": "待验收", "closed": "已关闭",
    "rejected": "已驳回", "scheduled": "已安排", "held": "已召开",
    "minutes_requested": "待交纪要", "minutes_revision": "纪要修改中",
    "minutes_distributed": "待确认纪要", "minutes_confirmed": "纪要已确认",
    "cancelled": "已取消", "done": "已完成", "resolved": "已解决",
    "kickoff": "待启动", "memo": "备忘录签署中", "running": "执行中", "retro": "复盘中",
    "change_review": "变更评审中", "resolution": "待组长签署决议",
}
# The status an escalation ladder's step gives a record (escalation.yaml `status`).
ESCALATION_LABELS = {"overdue": "已逾期通知", "escalated": "已升级"}
_KIND_BY_LABEL = {label: kind for kind, label in KIND_LABELS.items()}


def kind_of(text: str) -> str:
    """A kind as a person writes it: request or 需求, meeting or 会议 …"""
    text = text.strip()
    return _KIND_BY_LABEL.get(text, text.lower())


def daemon_state(state_dir: Path) -> dict[str, Any]:
    """Is a daemon running on this state directory? (Probes its lock without taking it.)"""
    path = state_dir / LOCK_NAME
    if not path.exists():
        return {"running": False, "pid": None}
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return {"running": True, "pid": int(text) if text.isdigit() else None}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return {"running": False, "pid": None}
    finally:
        os.close(fd)


DAEMON_CLOCK = "daemon-clock"


def set_daemon_clock(state_dir: Path, moment: dt.datetime | None) -> None:
    """Where a daemon run with a fixed clock (`run --now`) says what time it is."""
    path = state_dir / DAEMON_CLOCK
    if moment is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(isoformat(moment) + "\n", encoding="utf-8")


def daemon_clock(state_dir: Path, *, running: bool | None = None) -> str | None:
    """The fixed clock of the daemon running on `state_dir`, if it runs on one
    (`running`: whether one runs, when the caller knows: a leader on PostgreSQL)."""
    try:
        text = (state_dir / DAEMON_CLOCK).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    if running is None:
        running = bool(daemon_state(state_dir)["running"])
    return text if text and running else None


class LazyCalendar:
    """The working calendar, loaded (rules files, holidays) only if a record needs it:
    most of what `status` shows has its deadline as a timestamp already. `directory`:
    the org directory from the same rules (names and departments of who is waited on)."""

    def __init__(self, load: Callable[[], WorkCalendar | None],
                 directory: Callable[[], Directory | None] = lambda: None) -> None:
        self._load = load
        self._loaded = False
        self._calendar: WorkCalendar | None = None
        self._ends: dict[str, str] = {}
        self._directory_load = directory
        self._directory: Directory | None = None
        self._directory_loaded = False

    def get(self) -> WorkCalendar | None:
        if not self._loaded:
            self._calendar = self._load()
            self._loaded = True
        return self._calendar

    def directory(self) -> Directory | None:
        if not self._directory_loaded:
            self._directory = self._directory_load()
            self._directory_loaded = True
        return self._directory

    def day_end(self, day: str) -> str:
        end = self._ends.get(day)
        if end is None:
            end = self._ends[day] = day_end(self.get(), day)
        return end


def day_end(calendar: WorkCalendar | LazyCalendar | None, day: str) -> str:
    """Close of business of a due date (a date means the end of that working day)."""
    if isinstance(calendar, LazyCalendar):
        return calendar.day_end(day)
    date = dt.date.fromisoformat(day)
    if calendar is not None:
        intervals = calendar.intervals(date)
        end = intervals[-1][1] if intervals else dt.datetime.combine(
            date, calendar.end, tzinfo=calendar.tz)
        return isoformat(end)
    return f"{day}T18:00:00+08:00"


def _due(record: Mapping[str, Any],
         calendar: WorkCalendar | LazyCalendar | None = None) -> str | None:
    """The deadline of what the record waits for now."""
    status = record.get("status")
    kind = record.get("kind")
    value: Any = None
    if kind == "request":
        if status == "open":
            value = record.get("response_due")
        elif status == "delivered":
            value = record.get("acceptance_due")
        elif status == "in_progress" and record.get("due_date"):
            value = day_end(calendar, record["due_date"])
    elif kind == "meeting":
        minutes = record.get("minutes") or {}
        if status in ("minutes_requested", "minutes_revision"):
            value = minutes.get("due")
        elif status == "minutes_distributed" and minutes.get("rounds"):
            value = minutes["rounds"][-1].get("confirm_due")
        elif status == "scheduled":
            value = record.get("start")
    elif kind == "task":
        value = day_end(calendar, record["due_date"]) if record.get("due_date") else None
    else:
        value = record.get("response_due")
    return str(value) if value else None


_NOT_OVERDUE = frozenset({"closed", "done", "scheduled"})


@functools.lru_cache(maxsize=4096)
def _instant(text: str) -> dt.datetime:
    """A deadline as a moment (cached: 100,000 records share a few thousand)."""
    return dt.datetime.fromisoformat(text)


def people_text(people: Iterable[Mapping[str, Any]]) -> str:
    """Who a record waits on, as the ledgers, the CSV and the board write it:
    张伟（市场部）、郑浩（财务部）; "" for nobody."""
    return "、".join(f"{p.get('name') or p.get('address')}"
                     + (f"（{p['dept']}）" if p.get("dept") else "") for p in people)


def status_csv(data: dict[str, Any]) -> str:
    """The open records of a status report as CSV, in Chinese headings: 编号, 类型, 状态,
    名称, 所属项目, 期限, 是否逾期, 等待, 升级."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["编号", "类型", "状态", "名称", "所属项目", "期限", "是否逾期", "等待",
                     "升级"])
    for s in data["open"]:
        waiting = people_text(s.get("waiting_on_people", []))
        writer.writerow([
            s["id"], KIND_LABELS.get(str(s["kind"]), s["kind"]),
            STATUS_LABELS.get(str(s["status"]), s["status"]), s["title"], s.get("project") or "",
            (s["due"] or "")[:16].replace("T", " "), "是" if s["overdue"] else "", waiting,
            s.get("escalation") or ""])
    return out.getvalue()


def record_summary(record: Mapping[str, Any], now: dt.datetime,
                   calendar: WorkCalendar | LazyCalendar | None = None) -> dict[str, Any]:
    due = _due(record, calendar)
    overdue = bool(due and record.get("status") not in _NOT_OVERDUE
                   and _instant(due) < now)
    get = record.get
    return {
        "id": record["id"],
        "kind": get("kind"),
        "status": get("status"),
        "title": get("title", ""),
        "project": get("project"),  # a project's task, or a request filed under one
        "due": due,
        "overdue": overdue,
        "waiting_on": get("waiting_on") or [],  # shared, not copied: the report is read-only
        "escalation": get("escalation"),
        "risk": bool(get("risk")),
        "updated": get("updated"),
    }


def person_of(address: str, directory: Directory | None) -> dict[str, Any]:
    """Who an address is: name and department from the org directory, if listed."""
    known = directory.by_address(address) if directory is not None else None
    if known is None:
        return {"address": address, "name": None, "dept": None}
    return {"address": address, "name": known.name, "dept": known.department}


def _matches(summary: dict[str, Any], kind: str | None, person: str | None,
             dept: str | None) -> bool:
    if kind and summary["kind"] != kind_of(kind):
        return False
    people = summary["waiting_on_people"]
    if person:
        wanted = person.strip().lower()
        if not any(wanted in (p["address"].lower(), (p["name"] or "").lower())
                   for p in people):
            return False
    return not dept or any(p["dept"] == dept for p in people)


def nodes_state(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """On PostgreSQL: who leads the mailbox and who stands by (`PgStore.nodes`)."""
    leader = next((n for n in nodes if n["role"] == "leader"), None)
    return {"running": leader is not None, "pid": None,
            "leader": leader["node"] if leader else None,
            "standby": [n["node"] for n in nodes if n["role"] == "standby"]}


def status(view: StateView, journal: Any, state_dir: Path,
           now: dt.datetime,
           calendar: WorkCalendar | LazyCalendar | None = None, *,
           kind: str | None = None, person: str | None = None,
           dept: str | None = None, overdue: bool = False,
           daemon: dict[str, Any] | None = None) -> dict[str, Any]:
    """What is open (only what waits on `person`, on someone of `dept`, of `kind`,
    when given), overdue, waiting on whom; the queues in and out. `daemon`: whether
    one runs, when the caller has asked already (`nodes_state`)."""
    def directory() -> Directory | None:  # loaded only for records written without names
        return calendar.directory() if isinstance(calendar, LazyCalendar) else None

    if person and "@" in person:  # an alias address in org.yaml is the same person
        listed = directory()
        canonical = listed.by_address(person) if listed is not None else None
        person = canonical.address if canonical is not None else person
    if dept:  # 财务 is 财务部: the directory knows its aliases
        found = directory()
        department = found.department(dept) if found is not None else None
        dept = department.name if department is not None else dept.strip()
    open_records = sorted(view.open_records(), key=lambda r: r["id"])
    summaries = []
    people: dict[str, dict[str, Any]] = {}  # 100,000 records wait on a few hundred people
    for record in open_records:
        summary = record_summary(record, now, calendar)
        known = record.get("waiting_people")
        if isinstance(known, list) and [p.get("address") for p in known] == summary[
                "waiting_on"]:
            waiting = [{"address": p["address"], "name": p.get("name"), "dept": p.get("dept")}
                       for p in known]
        else:
            waiting = []
            for address in summary["waiting_on"]:
                who = people.get(address)
                if who is None:
                    who = people[address] = person_of(address, directory())
                waiting.append(who)
        summary["waiting_on_people"] = waiting
        if _matches(summary, kind, person, dept) and (summary["overdue"] or not overdue):
            summaries.append(summary)
    by_kind: dict[str, int] = {}
    for s in summaries:
        by_kind[str(s["kind"])] = by_kind.get(str(s["kind"]), 0) + 1
    outbox = list(view.store.values("outbox"))
    processed, sent = view.store.message_counts()
    return {
        "generated": isoformat(now),
        "filters": {k: v for k, v in (("kind", kind), ("person", person), ("dept", dept),
                                      ("overdue", overdue)) if v},
        "state_dir": view.store.describe(),
        "daemon": daemon or daemon_state(state_dir),
        "open": summaries,
        "counts": {
            "open": len(summaries),
            "by_kind": by_kind,
            "overdue": sum(1 for s in summaries if s["overdue"]),
        },
        "outbox": {
            "pending": sum(1 for e in outbox if not e.get("failed")),
            "failed": [
                {"message_id": mid, "record": e.get("record"), "error": e.get("last_error"),
                 "recipients": e.get("recipients")}
                for mid, e in view.store.items("outbox") if e.get("failed")
            ],
        },
        "journal": journal.counts(),
        "mail": {"processed": processed, "sent": sent},
    }


def daemon_line(daemon: dict[str, Any]) -> str:
    if "leader" not in daemon:  # embedded: the state directory's lock
        return f"running (pid {daemon['pid']})" if daemon["running"] else "not running"
    lead = f"{daemon['leader']} leads" if daemon["leader"] else "no process leads"
    standby = ", ".join(daemon["standby"]) or "none"
    return f"{lead}; standing by: {standby}"


def status_text(report: dict[str, Any]) -> str:
    daemon = report["daemon"]
    filters = report.get("filters") or {}
    lines = [
        f"collabd state {report['state_dir']}  (as of {report['generated']})",
        "daemon: " + daemon_line(daemon),
        ("open records" + (" (" + ", ".join(f"{k}={v}" for k, v in filters.items()) + ")"
                           if filters else "") + f": {report['counts']['open']}")
        + (f", {report['counts']['overdue']} overdue" if report["counts"]["overdue"] else ""),
    ]
    for s in report["open"]:
        flag = ("  【已逾期】" if s["overdue"] else "") + (
            f"  【{ESCALATION_LABELS.get(s['escalation'], s['escalation'])}】"
            if s.get("escalation") else "") + (
            "  【风险】" if s.get("risk") else "")
        people = s.get("waiting_on_people") or [
            {"address": a, "name": None, "dept": None} for a in s["waiting_on"]]
        waiting = ("  等待 " + "、".join(_named(p) for p in people)) if people else ""
        due = f"  期限 {_when(s['due'])}" if s["due"] else ""
        label = STATUS_LABELS.get(str(s["status"]), str(s["status"]))
        kind = KIND_LABELS.get(str(s["kind"]), str(s["kind"]))
        project = f"（{s['project']}）" if s.get("project") else ""
        lines.append(f"  {s['id']}  {kind} {label:<6} {s['title']}{project}{due}{waiting}{flag}")
    j = report["journal"]
    lines.append(f"inbound: {report['mail']['processed']} processed, {j['waiting']} waiting, "
                 f"{j['shunt']} shunted, {j['bad']} bad")
    o = report["outbox"]
    lines.append(f"outbound: {report['mail']['sent']} sent, {o['pending']} queued, "
                 f"{len(o['failed'])} failed")
    for f in o["failed"]:
        lines.append(f"  FAILED {f['message_id']} ({f['record']}) to "
                     f"{', '.join(f['recipients'] or [])}: {f['error']}")
    return "\n".join(lines)


def _named(person: dict[str, Any]) -> str:
    """张伟（市场部）, or the address of someone the directory does not list."""
    if not person.get("name"):
        return str(person["address"])
    return f"{person['name']}（{person['dept']}）" if person.get("dept") else str(person["name"])


def _when(value: str) -> str:
    """2026-12-04T18:00:00+08:00 → 2026-12-04 18:00."""
    return value[:16].replace("T", " ") if len(value) >= 16 and value[10:11] == "T" else value


def show(view: StateView, record_id: str) -> dict[str, Any] | None:
    """One record from a loaded state (the CLI reads slices instead: `show_record`)."""
    working = view.store.get("records", record_id)
    record = working if working is not None else view.archive.get(record_id)
    if record is None:
        return None
    by_record = getattr(view.store, "messages_of", None)
    entries = by_record(record_id) if by_record is not None else {
        mid: entry for mid, entry in view.store.items("messages")
        if entry.get("record") == record_id}
    if working is None:
        entries.update(view.archive.messages_of(record_id))
    return show_record(record, entries, archived=working is None)


def show_record(record: dict[str, Any], entries: dict[str, dict[str, Any]], *,
                archived: bool) -> dict[str, Any]:
    messages = [{"message_id": mid, **entry} for mid, entry in entries.items()]
    messages.sort(key=lambda m: str(m.get("at", "")))
    return {"record": record, "messages": messages, "archived": archived}


# What `show` calls a record's fields and its audit entries (JSON keeps the keys).
FIELD_LABELS = {
    "requester": "发起人", "requester_dept": "发起部门", "requester_head": "发起部门负责人",
    "receiver": "接收人", "receiver_dept": "接收部门", "receiver_liaison": "接收部门对接人",
    "receiver_head": "接收部门负责人", "cooperating_depts": "配合部门", "type": "需求类型",
    "urgency": "紧急程度", "background": "需求背景与目标", "content": "具体需求内容",
    "due_date": "期望完成时间", "acceptance": "交付标准", "response_due": "响应期限",
    "acceptance_due": "验收期限", "created": "创建时间", "updated": "更新时间",
    "closed": "关闭时间", "waiting_on": "等待", "escalation": "升级", "review": "评审会",
    "meetings": "会议", "start": "开始", "end": "结束", "location": "地点", "room": "会议室",
    "attendees": "参会人", "organizer": "组织者", "agenda": "议程", "minutes": "会议纪要",
    "owner": "负责人", "progress": "进度", "deliveries": "交付记录", "severity": "严重程度",
    "reporter": "反馈人", "reporter_dept": "反馈部门", "target_dept": "问题所属部门",
    "target_liaison": "问题部门对接人", "related_request": "关联需求", "risk": "风险",
    "risk_reason": "风险原因", "risk_since": "风险开始", "submitted_by": "提交人",
    "parent": "所属", "meeting_kind": "会议类型", "uid": "日历 UID", "sequence": "版本",
    "summary": "摘要", "external_ref": "对方编号", "pending_signoffs": "待确认",
    "problem": "问题描述", "impact": "影响范围", "tasks": "待办", "fired": "已执行的提醒",
    "fields": "表单原文", "source_message": "来源邮件", "source": "来源",
    "responded": "响应时间", "responded_by": "响应人", "resolution": "结果", "rework": "返工",
    "by": "由", "to": "收件人", "cc": "抄送", "message": "邮件", "reason": "原因",
    "text": "内容", "round": "轮次", "due": "期限", "meeting": "会议", "links": "链接",
    "at": "时间", "decision": "决定", "request_id": "需求编号", "new_due": "新期限",
    "attachments": "附件", "rule": "规则", "step": "步骤", "asked": "所问邮件",
    "read_as": "理解为", "rounds": "轮次记录", "requested": "请求时间",
    "problems": "关联问题", "answered_by": "已答复", "graded_by": "定级人",
    "goal": "核心目标", "lead": "项目负责人", "lead_dept": "项目发起部门",
    "departments": "参与部门", "comm_plan": "沟通计划", "finish": "计划完成",
    "kickoff": "启动会", "memo": "协作备忘录", "project": "所属项目", "description": "任务描述",
    "dept": "部门", "planned_start": "计划开始", "actual_finish": "实际完成",
    "plan_status": "计划中的状态", "deliverable": "产出物", "issues": "问题记录",
    "milestone": "关键节点", "raci": "RACI", "accountable": "验收人（A）",
    "owner_text": "负责人（原文）", "title": "名称", "objections": "意见", "signed": "签署完成",
    "sent": "发出时间", "topic": "主题", "when": "时间", "participants": "参与人员",
    "requests": "关联需求", "liaison": "对接人", "head": "负责人", "freq": "频率",
    "weekday": "星期", "monthday": "每月日期", "way": "方式", "date": "日期", "time": "时刻",
    "feedback_asked": "请求反馈时间", "feedback": "反馈", "retro": "复盘会",
    "retro_report": "协作复盘报告", "rrule": "重复规则", "until": "重复截止",
    "exdates": "跳过的日期", "moved": "顺延的日期", "occurrences_done": "已召开的场次",
    "agenda_sent": "已发议程的场次", "occurrences": "各场会议", "recurrence_id": "场次",
    "milestone_reports": "阶段性成果说明", "decision_at": "决定时间",
    "sync_sent": "进度同步邮件",
}
AUDIT_LABELS = {
    "request received": "收到需求", "acknowledged": "已回执",
    "project received": "收到项目计划", "created from the plan": "由项目计划生成",
    "kickoff planned": "启动会已安排", "tasks told": "已通知任务负责人",
    "memo sent to sign": "备忘录已发出待签署", "memo signed": "备忘录已签署",
    "memo objected (不签署)": "备忘录未签署（有意见）",
    "memo signed by every head": "备忘录全部签署", "asked which task": "已询问是哪项任务",
    "every task accepted": "全部任务已验收", "retro planned": "复盘会已安排",
    "feedback": "收到反馈", "closed": "已关闭", "archive sent": "归档已发执行秘书",
    "request linked": "关联了需求", "plan updated": "计划已更新", "plan changed": "计划有变更",
    "plan unchanged": "计划无变化", "milestone report": "收到阶段性成果说明",
    "milestone confirmed": "阶段性成果符合预期", "milestone not as expected": "阶段性成果尚需补充",
    "plan update not applied": "计划更新未生效", "cancelled by the plan": "已从计划中取消",
    "change review planned": "变更评审会已安排",
    "communication plan scheduled": "沟通计划已排入日历", "occurrence held": "一场会议已召开",
    "occurrence agenda sent": "本场议程已发出", "series ended": "系列会议已结束",
    "consulted": "已征求咨询方意见", "progress asked": "已请各负责人回复进度",
    "resolution sent to sign": "决议已发组长签署", "resolution signed": "决议已由组长签署",
    "resolution not signed": "决议未获组长签署", "occurrence cancelled": "一场会议已取消",
    "occurrence moved": "一场会议已改期", "time conflicts": "与已安排的会议时间冲突",
    "department joined": "新增参与部门", "series until changed": "系列会议截止日期已调整",
    "receiver notified": "已通知接收方",
    "receiver responded": "接收方已响应", "responded": "已响应", "progress": "进度更新",
    "delivered": "已交付", "acceptance requested": "请求验收", "accepted (验收通过)": "验收通过",
    "rejected (驳回)": "验收驳回", "review meeting needed": "需要评审会",
    "review meeting planned": "评审会已安排", "planned": "已安排", "invite sent": "邀请已发出",
    "attendee added": "增加参会人", "attendee not added": "未能增加参会人",
    "rescheduled": "已改期", "cancelled": "已取消", "held": "会议已召开",
    "minutes requested": "请提交纪要", "minutes received": "收到纪要",
    "minutes distributed": "纪要已分发", "minutes confirmed": "纪要已确认",
    "minutes rejected (不确认)": "纪要不确认", "minutes signed off": "纪要全员确认",
    "created from minutes": "由会议纪要生成", "done": "已完成", "became a risk": "成为风险项",
    "no longer a risk": "风险解除", "risk meeting planned": "风险排查会已安排",
    "rule fired": "提醒/升级已发出", "rule fired, nobody to tell": "提醒未发出（无人可通知）",
    "rule step superseded": "提醒已被后续步骤取代", "escalated to leader": "已上报组长",
    "problem reported": "收到问题反馈", "resolved (reporter confirmed)": "问题已解决（反馈人确认）",
    "routed": "已转交", "comment": "意见", "asked again": "已追问",
    "not asked again (limit reached)": "不再追问（已达上限）",
    "sign-off not counted": "确认未计入", "unclear answer, not counted": "答复不明确，未计入",
    "sign-off repeated, nothing changed": "重复确认，无变化",
    "sign-off for an old round, nothing changed": "对旧版本的确认，无变化",
    "automatic reply received": "收到自动回复", "calendar reply ignored": "日历回复未采用",
    "rsvp repeated": "重复答复", "new time proposed": "对方提议新时间",
    "command not understood": "指令未能识别", "delivery failed": "投递失败",
    "room changed": "会议室已更换", "later than the rules' limit": "晚于规则时限",
    "command not counted": "指令未执行", "graded": "已定级",
    "closed by the secretary": "执行秘书关闭",
    "problem meeting planned": "问题会议已安排", "department notified": "已通知配合部门",
    "department responded": "配合部门已响应", "told it is settled": "已告知处理结果",
    "minutes no longer needed": "无需再交纪要",
    "requester not in the directory": "发起人不在组织目录中（已按所填部门受理）",
}
_MESSAGE_WORDS = {"in": "收到", "out": "发出"}


def _readable(value: Any) -> str:
    """A stored value as a person reads it (never a Python repr)."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict):
        if "address" in value:
            name = value.get("name") or ""
            dept = f"（{value['dept']}）" if value.get("dept") else ""
            return f"{name}{dept} <{value['address']}>" if name else str(value["address"])
        return "；".join(f"{FIELD_LABELS.get(str(k), k)}：{_readable(v)}"
                        for k, v in value.items())
    if isinstance(value, list):
        return "、".join(_readable(v) for v in value)
    text = str(value)
    return _when(text) if len(text) in (25, 32) and text[10:11] == "T" else text


def show_text(data: dict[str, Any], *, whole: bool = False) -> str:
    """A record as a person reads it: what it is, its fields, a timeline, its mail.
    `whole`: long values in full (the archive), not cut at 200 characters."""
    short = _readable if whole else (lambda value: _short(_readable(value)))
    record = data["record"]
    kind = KIND_LABELS.get(str(record.get("kind")), str(record.get("kind")))
    status = STATUS_LABELS.get(str(record.get("status")), str(record.get("status")))
    lines = [f"{record['id']}  {kind} · {status}" + ("  [已归档]" if data["archived"] else "")]
    if record.get("title"):
        lines.append(f"  {record['title']}")
    skip = {"id", "kind", "status", "title", "audit", "schema", "signoffs", "fired",
            "settled_told", "waiting_people"}
    for key, value in record.items():
        if key in skip:
            continue
        if key == "waiting_on" and isinstance(record.get("waiting_people"), list):
            value = record["waiting_people"]  # the same people, with names
        lines.append(f"  {FIELD_LABELS.get(key, key)}：{short(value)}")
    lines += _signoff_lines(record)
    lines.append("时间线：")
    for entry in record.get("audit", []):
        what = AUDIT_LABELS.get(str(entry.get("what")), str(entry.get("what")))
        detail = "，".join(f"{FIELD_LABELS.get(k, k)}：{short(v)}"
                          for k, v in entry.items() if k not in {"at", "what"})
        lines.append(f"  {_when(str(entry.get('at', '')))}  {what}"
                     + (f"（{detail}）" if detail else ""))
    if data["messages"]:
        lines.append("邮件：")
        for m in data["messages"]:
            arrow = "→" if m.get("dir") == "out" else "←"
            who = "、".join(m.get("to", [])) if m.get("dir") == "out" else m.get("from", "")
            word = _MESSAGE_WORDS.get(str(m.get("dir")), "")
            lines.append(f"  {_when(str(m.get('at', '')))}  {arrow} {word} "
                         f"{m.get('purpose') or m.get('kind', '')}  {who}  {m['message_id']}")
    return "\n".join(lines)


_NOT_COUNTED = ("sign-off not counted", "unclear answer, not counted")


def _said(text: str | None) -> str:
    """What someone wrote, verbatim, on one line (line breaks shown as ⏎)."""
    return "“" + _short((text or "").replace("\r", "").replace("\n", " ⏎ ")) + "”"


def _signoff_lines(record: dict[str, Any]) -> list[str]:
    """Every sign-off and every answer that did not count, with what was written, the
    message it came in and why it counted or not: for a person to read."""
    lines: list[str] = []
    signoffs = record.get("signoffs", [])
    if signoffs:
        lines.append("确认记录：")
        for s in signoffs:
            what = {"minutes": "会议纪要", "deliverable": "交付物", "memo": "协作备忘录",
                    "milestone": "阶段性成果"}.get(s.get("kind"),
                                                                   s.get("kind"))
            decision = {"confirmed": "确认", "accepted": "验收通过", "rejected": "不确认/驳回"
                        }.get(str(s.get("decision")), s.get("decision"))
            lines.append(f"  {_when(str(s.get('at')))}  {s.get('by')}  {what} 第{s.get('round')}"
                         f"轮：{decision}")
            lines.append(f"      原话 {_said(s.get('text'))}")
            detail = f"邮件 {s.get('message')}，答复 {s.get('answers')}"
            if s.get("read_as"):
                detail += f"；理解为：{s['read_as']}"
            if s.get("reason"):
                detail += f"；原因：{_short(s['reason'])}"
            lines.append(f"      （{detail}）")
    refused = [e for e in record.get("audit", []) if e.get("what") in _NOT_COUNTED]
    if refused:
        lines.append("未计入的答复：")
        for e in refused:
            why = e.get("reason") or e.get("read_as") or ""
            what = AUDIT_LABELS.get(str(e["what"]), str(e["what"]))
            lines.append(f"  {_when(str(e.get('at')))}  {e.get('by')}  "
                         f"（所问邮件：{e.get('asked')}）  {what}：{why}")
            lines.append(f"      原话 {_said(e.get('text'))}  （邮件 {e.get('message')}）")
    return lines


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."
