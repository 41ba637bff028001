"""A form's raw fields → checked values: departments and people resolved, dates read.

Everything that is missing or wrong is collected (in Chinese, naming the field as the
form does), so that the sender gets one reply that lists all of it.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collabd.inbound.forms import FoundFields
from collabd.inbound.message import InboundMessage
from collabd.inbound.values import date_spans, parse_choice, parse_date, record_id, ticked
from collabd.policy.org import Department, Person
from collabd.policy.rules import Rules
from collabd.textnorm import fold

if TYPE_CHECKING:
    from collabd.inbound.plan import Plan

# What each of the five core answers asks (shown next to a missing field).
QUESTIONS = {
    "background": "为什么做",
    "content": "要做什么",
    "receiver_dept": "找哪个部门",
    "due": "什么时候完成",
    "acceptance": "交付什么、按什么标准验收",
    "description": "发生了什么问题",
    "title": "项目叫什么",
    "lead": "谁对项目负责",
    "goal": "项目要达成什么",
    "tasks": "有哪些任务、谁负责、何时完成",
}


@dataclass
class Reading:
    """One form, read and checked."""

    kind: str  # "request" | "problem"
    # The output: strings and ISO dates; cooperating_depts, the one list (department names)
    fields: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # accepted, but worth telling the sender
    people: dict[str, Person] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    cooperating: list[Department] = field(default_factory=list)  # besides receiver_dept
    due: dt.date | None = None
    source: str = "body"  # body | html | forwarded | attachment:<name>
    raw: dict[str, str] = field(default_factory=dict)  # the values as written, by field
    plan: Plan | None = None  # a project's tasks, meetings and departments (inbound/plan.py)
    # A colleague (the company's own mail domain) in no directory source, accepted as
    # the requester of the department they named (the secretary is told once).
    unlisted: Person | None = None

    @property
    def complete(self) -> bool:
        return not self.missing and not self.errors


def form_labels(rules: Rules, kind: str) -> dict[str, str]:
    """Each field of a form (request, problem, project) → its name as the form prints it."""
    forms = rules.forms
    spec = {"request": forms.request.labels, "problem": forms.problem.labels,
            "project": forms.project.labels}.get(kind, {})
    found = {name: label_of(rules, kind, name) for name in spec}
    if kind == "project":
        found.update({"start": "计划开始", "finish": "计划完成"})
    return found


def label_of(rules: Rules, kind: str, name: str) -> str:
    """The field's name as the form prints it: its first label."""
    if kind == "project":
        if name == "tasks":
            return "任务跟踪表（表2）"
        labels = rules.forms.project.labels.get(name)
    else:
        spec = rules.forms.request if kind == "request" else rules.forms.problem
        labels = spec.labels.get(name)
    return labels[0] if labels else name


def ask_secretary(rules: Rules, sep: str = "。") -> str:
    """Whom to ask about the directory: the executive secretary, named, with address."""
    secretary = rules.directory.secretary
    return (f"{sep}如需加入组织目录，请联系执行秘书 {secretary.name}"
            f"（{secretary.address}）")


def _department(reading: Reading, rules: Rules, kind: str, name: str, value: str) -> None:
    if not value:
        return
    dept = rules.directory.department(value)
    if dept is None:
        # "研发部 孙丽", "研发部（孙丽）": the department is the first word.
        head = value.replace("（", " ").replace("(", " ").replace("/", " ").split()[0]
        dept = rules.directory.department(head)
    if dept is None:
        reading.errors.append(
            f"{label_of(rules, kind, name)}「{value}」不在组织目录中（可选："
            f"{'、'.join(rules.directory.department_names())}）")
        return
    reading.departments[name] = dept
    reading.fields[name] = dept.name


def _person(reading: Reading, rules: Rules, kind: str, name: str, value: str) -> None:
    if not value:
        return
    person, problem = rules.directory.resolve(value)
    if person is None:
        reading.errors.append(f"{label_of(rules, kind, name)}{problem}"
                              + (ask_secretary(rules) if "不在组织目录中" in str(problem) else ""))
        return
    reading.people[name] = person
    reading.fields[name] = person.name


def _unlisted_colleague(r: Reading, rules: Rules, message: InboundMessage,
                        written: str) -> bool:
    """A sender of the company's own mail domain whom no directory source lists (new,
    or the directory not synced yet), naming their department: the requester, rather
    than a refusal they cannot act on. Only for themselves: a name that is someone
    else's is read as written."""
    sender = message.sender
    dept = r.departments.get("requester_dept")
    if (dept is None or not sender or message.sender_issues
            or rules.directory.by_address(sender) is not None
            or not rules.is_internal(sender)):
        return False
    if written and rules.directory.by_name(written):
        return False  # someone listed, written by name: resolved as usual
    name = written or message.sender_name or sender
    person = Person(name, sender.lower(), dept.name, frozenset({"unlisted"}))
    r.people["requester"] = person
    r.fields["requester"] = name
    r.unlisted = person
    return True


def read_request(found: FoundFields, message: InboundMessage, rules: Rules,
                 now: dt.datetime) -> Reading:
    raw = found.values
    forms = rules.forms
    r = Reading("request", raw=dict(raw))
    for name in ("background", "content", "acceptance", "title", "phone", "filled_on"):
        if raw.get(name):
            r.fields[name] = raw[name]
    if raw.get("project"):
        project = record_id(raw["project"], "PJ")
        if project is None:
            r.errors.append(f"{label_of(rules, 'request', 'project')}「{raw['project']}」"
                            "不是项目编号（如 PJ-2026-0001）")
        else:
            r.fields["project"] = project
    given_id = raw.get("request_id", "")
    if given_id:
        canonical = record_id(given_id, "XQ")
        if canonical is not None:
            r.fields["request_id"] = canonical
        else:
            r.fields["external_ref"] = given_id
    _department(r, rules, "request", "requester_dept", raw.get("requester_dept", ""))
    _receiving_departments(r, rules, raw.get("receiver_dept", ""))
    if not _unlisted_colleague(r, rules, message, raw.get("requester", "")):
        _person(r, rules, "request", "requester", raw.get("requester", ""))
    _person(r, rules, "request", "receiver", raw.get("receiver", ""))

    if not _default_to_sender(r, rules, message, raw, "requester", "requester_dept"):
        if rules.directory.by_address(message.sender) is not None:
            # Listed (a directory source), but in none of the collaborating departments
            r.errors.append(f"{label_of(rules, 'request', 'requester_dept')} 未填写，发件人"
                            f" {message.sender} 在通讯录中的部门不是协作部门，无法确定发起部门"
                            f"（请填写发起部门，可选：{'、'.join(rules.directory.department_names())}）")
        else:
            r.errors.append(f"{label_of(rules, 'request', 'requester_dept')} 未填写，且发件人"
                            f" {message.sender} 不在组织目录中，无法确定发起部门（请填写发起部门"
                            f"{ask_secretary(rules, '；')}）")
    _not_in_someone_elses_name(r, rules, message, "request", "requester")
    receiver = r.people.get("receiver")
    if receiver is not None and "receiver_dept" in r.departments and receiver.department and (
            receiver.department != r.departments["receiver_dept"].name):
        r.notes.append(f"接收人 {receiver.name} 属于{receiver.department}，"
                       f"不是接收部门{r.departments['receiver_dept'].name}")

    for name, spec in (("type", forms.request_type), ("urgency", forms.urgency)):
        value = raw.get(name, "")
        if not value:
            if spec.default is not None:
                r.fields[name] = spec.default
            continue
        chosen, problem = parse_choice(value, spec, forms.checked_marks, forms.unchecked_marks)
        if chosen is None:
            r.errors.append(f"{label_of(rules, 'request', name)}{problem}")
        else:
            r.fields[name] = chosen

    due_text = raw.get("due", "")
    if due_text:
        today = now.astimezone(rules.calendar.tz).date()
        due, problem = _last_date(due_text, today)
        if due is None:
            r.errors.append(f"{label_of(rules, 'request', 'due')}{problem}")
        elif due < today:
            r.errors.append(f"{label_of(rules, 'request', 'due')} {due.isoformat()} 已经过去"
                            f"（今天是 {today.isoformat()}）")
        else:
            r.due = due
            r.fields["due"] = due.isoformat()
    for name in forms.request.required:
        if not raw.get(name):
            r.missing.append(name)
    return r


# Marks of the department that leads among several (研发部（主责）, 主责：研发部).
_LEAD = re.compile(r"[(（\[【]?\s*(主责|牵头|主办|主要负责)\s*[)）\]】]?\s*[:：]?")
_SPLIT = re.compile(r"[、,，;；/\s]+")


def _receiving_departments(r: Reading, rules: Rules, value: str) -> None:
    """接收部门 / 所需配合部门: one department, several (研发部、财务部), or ticked boxes
    (■研发部 □销售部 ■财务部, or 研发部(√) 销售部( )). The one marked 主责/牵头, else
    the first, is the receiving department; the others cooperate (cooperating_depts)."""
    if not value:
        return
    forms = rules.forms
    boxes = ticked(value, forms.checked_marks, forms.unchecked_marks)
    text = unicodedata.normalize("NFKC", value) if boxes is None else "、".join(boxes)
    names: list[str] = []
    lead: str | None = None
    for part in _SPLIT.split(text):
        part = part.strip()
        if not part:
            continue
        marked = _LEAD.search(part)
        name = _LEAD.sub("", part).strip()
        if not name:
            continue
        names.append(name)
        if marked and lead is None:
            lead = name
    if not names:
        return
    found: list[Department] = []
    for name in dict.fromkeys(names):
        dept = rules.directory.department(name)
        if dept is None:
            r.errors.append(
                f"{label_of(rules, 'request', 'receiver_dept')}「{name}」不在组织目录中（可选："
                f"{'、'.join(rules.directory.department_names())}）")
        elif dept not in found:
            found.append(dept)
    if not found:
        return
    first = next((d for d in found if lead is not None and
                  rules.directory.department(lead) is d), found[0])
    r.departments["receiver_dept"] = first
    r.fields["receiver_dept"] = first.name
    r.cooperating = [d for d in found if d is not first]
    if r.cooperating:
        r.fields["cooperating_depts"] = [d.name for d in r.cooperating]


def _last_date(text: str, today: dt.date) -> tuple[dt.date | None, str | None]:
    """The due date: the date written, or the last of several (时间节点: 12月10日方案，
    12月20日上线 → 12月20日)."""
    found = [d for d, _ in (parse_date(m.group(0), today) for m in date_spans(text))
             if d is not None]
    if len(found) > 1:
        return max(found), None
    return parse_date(text, today)


def _default_to_sender(r: Reading, rules: Rules, message: InboundMessage,
                       raw: dict[str, str], person_field: str, dept_field: str) -> bool:
    """The person left blank is the sender, and the department left blank is that
    person's. False when the department is blank and cannot be told that way."""
    if person_field not in r.people and not raw.get(person_field):
        r.people[person_field] = rules.directory.by_address(message.sender) or Person(
            message.sender_name or message.sender, message.sender)
        r.fields[person_field] = r.people[person_field].name
    if dept_field in r.departments or raw.get(dept_field):
        return True
    person = r.people.get(person_field)
    dept = rules.directory.department(person.department) if (
        person and person.department) else None
    if dept is None:
        return False
    r.departments[dept_field] = dept
    r.fields[dept_field] = dept.name
    return True


def read_problem(found: FoundFields, message: InboundMessage, rules: Rules,
                 now: dt.datetime) -> Reading:
    raw = found.values
    forms = rules.forms
    r = Reading("problem", raw=dict(raw))
    for name in ("title", "description", "impact"):
        if raw.get(name):
            r.fields[name] = raw[name]
    if "title" not in r.fields:
        r.fields["title"] = message.subject.strip() or (raw.get("description", "")[:30])
    related = raw.get("related_request", "")
    if related:
        canonical = record_id(related, "XQ")
        if canonical is None:
            r.errors.append(f"{label_of(rules, 'problem', 'related_request')}「{related}」"
                            "不是需求编号（格式 XQ-2026-0001）")
        else:
            r.fields["related_request"] = canonical
    _department(r, rules, "problem", "reporter_dept", raw.get("reporter_dept", ""))
    _department(r, rules, "problem", "target_dept", raw.get("target_dept", ""))
    _person(r, rules, "problem", "reporter", raw.get("reporter", ""))
    _default_to_sender(r, rules, message, raw, "reporter", "reporter_dept")
    severity = raw.get("severity", "")
    if severity:
        chosen, problem = parse_choice(severity, forms.severity, forms.checked_marks,
                                       forms.unchecked_marks)
        if chosen is None:
            r.errors.append(f"{label_of(rules, 'problem', 'severity')}{problem}")
        else:
            r.fields["severity"] = chosen
    else:
        r.fields["severity"] = default_severity(rules, " ".join(raw.values()))
        r.notes.append(f"未填写严重程度，按规则定为「{r.fields['severity']}」")
    for name in forms.problem.required:
        if not raw.get(name):
            r.missing.append(name)
    _not_in_someone_elses_name(r, rules, message, "problem", "reporter")
    return r


def _not_in_someone_elses_name(r: Reading, rules: Rules, message: InboundMessage,
                               kind: str, field_name: str) -> None:
    """From outside the company, a form in a listed colleague's name is refused: anyone
    can write any name, and that person's 确认 is what closes it."""
    person = r.people.get(field_name)
    if (person is not None and message.sender and not rules.is_internal(message.sender)
            and not rules.directory.same_person(person.address, message.sender)):
        r.errors.append(f"{label_of(rules, kind, field_name)}「{person.name}」与发件人"
                        f" {message.sender} 不符：须由本人从公司邮箱提交")


def default_severity(rules: Rules, text: str) -> str:
    folded = fold(text)
    for level, words in rules.forms.severity_keywords.items():
        if any(fold(w) in folded for w in words):
            return level
    return rules.forms.severity.default or next(iter(rules.forms.severity.options))
