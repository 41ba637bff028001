"""A project plan → a checked reading: 表1's fields, the communication plan, 表2's tasks
and the RACI matrix (seed 001), from the rows of a sheet, a Word table, a table pasted
from Word or Excel, or `标签：值` lines.

A table starts at a row of headings that names its columns (表2: 任务名称, 负责部门,
计划完成 …; the communication plan: 沟通主题 and 日期 or 时间; a RACI matrix: 任务 and
department names) and ends at an empty row. Department columns of 表2 are its RACI
columns. Everything else is read as 表1's `标签：值` lines. Everything missing or
inconsistent is collected in Chinese, naming the task, so that the sender gets one reply
listing all of it, as for request forms.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from collabd.inbound.forms import FoundFields, LabelSet, clean_value, find_fields
from collabd.inbound.interpret import Reading, ask_secretary
from collabd.inbound.values import parse_date
from collabd.policy.org import Department, Person
from collabd.policy.rules import Rules
from collabd.policy.schema import FormSpec, PlanSpec
from collabd.textnorm import fold, key

RACI_LETTERS = "RACI"
# 提前完成 / 正常 / 滞后 / 阻塞 as 表2 writes them, and what people write before work starts.
STATUSES = ("未开始", "进行中", "正常", "提前完成", "已完成", "滞后", "阻塞")
MAX_TASKS = 200
MAX_MEETINGS = 50
MONTH_END_TIME = dt.time(16, 0)

_HINT = re.compile(r"[(（][^()（）]*[)）]")  # 客服部(*对接人:) → 客服部; 计划开始(日期) → 计划开始
_STARS = re.compile(r"^[\s*＊]+|[\s*＊]+$")
_TIME = re.compile(r"(?P<half>上午|早上|中午|下午|晚上|傍晚)?\s*(?:"
                   r"(?<!\d)(?P<hour>[01]?\d|2[0-3])\s*(?:[:：]\s*(?P<minute>[0-5]\d)"
                   r"|[点點时時](?:\s*(?P<minute2>[0-5]?\d)分?|(?P<half_hour>半))?)"
                   r"|(?<![一二三四五六七八九十])(?P<cn>十[一二]?|[一二三四五六七八九十])\s*[点點时時]"
                   r"(?:\s*(?P<minute3>[0-5]?\d)分?|(?P<half_hour2>半))?)")
_HOUR_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
               "十": 10, "十一": 11, "十二": 12}
_AFTERNOON = ("下午", "晚上", "傍晚")


def _clock_of(text: str) -> dt.time | None:
    """15:00, 15点, 下午3:00, 下午三点半 → the time of day (None: no time written)."""
    found = _TIME.search(text)
    if found is None:
        return None
    hour_text = found.group("hour")
    hour = int(hour_text) if hour_text else _HOUR_WORDS[found.group("cn")]
    half = found.group("half")
    if (half in _AFTERNOON and hour < 12) or (half == "中午" and hour < 6):
        hour += 12
    minute = int(found.group("minute") or found.group("minute2") or found.group("minute3") or (
        30 if found.group("half_hour") or found.group("half_hour2") else 0))
    return dt.time(hour % 24, minute)
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKLY = re.compile(r"(?:每周|每星期|每个星期|每礼拜|週|周)([一二三四五六日天])")
_DAILY = re.compile(r"每(?:个)?(?:日|天|工作日)")
_MONTH_END = re.compile(r"每月(?:末|底|最后一(?:个工作)?[日天])")
_MONTH_DAY = re.compile(r"每月\s*(\d{1,2})\s*[日号]")
# A section's heading between 表1's lines and a table (沟通计划与跟踪, 表2：任务跟踪子表):
# not the continuation of the value above it.
_SECTION = re.compile(r"^\s*(?:表\s*\d|沟通计划|任务跟踪|项目基本信息|RACI|责任矩阵)",
                      re.IGNORECASE)
# A task written as a line: 任务：… (or 任务名称：…), perhaps numbered.
_TASK_LINE = re.compile(r"^\s*(?:\d{1,2}[.、)]\s*)?(?:任务名称|任务)\s*:")
# A department named among a meeting's participants (法务部负责人 → 法务部).
_DEPT_WORD = re.compile(r"[\u4e00-\u9fff]{1,8}?(?:部|中心|办公室)"
                        r"(?=负责人|对接人|专员|经理|[、,，/+和与及\s]|$)")
# Participants written for every department taking part (三部门对接人, 各部门负责人).
_EVERYONE = re.compile(r"[二三四五六七八九十两\d]+个?部门|各部门|全体|所有部门|全部|相关部门")


@dataclass
class PlanTask:
    """One row of 表2 (with its RACI row)."""

    row: int  # its place among the tasks, from 1
    name: str
    description: str = ""
    dept: Department | None = None  # 负责部门 (the R department)
    owner: Person | None = None  # 负责人 (else the R department's liaison)
    start: dt.date | None = None
    finish: dt.date | None = None
    actual: dt.date | None = None
    status: str = ""
    deliverable: str = ""
    issues: str = ""
    milestone: bool = False
    raci: dict[str, str] = field(default_factory=dict)  # department → letters (R, A, RA)
    accountable: Person | None = None  # who accepts its deliverable (A)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description,
            "dept": self.dept.name if self.dept else None,
            "owner": self.owner.name if self.owner else None,
            "start": self.start.isoformat() if self.start else None,
            "finish": self.finish.isoformat() if self.finish else None,
            "actual": self.actual.isoformat() if self.actual else None,
            "status": self.status, "deliverable": self.deliverable, "issues": self.issues,
            "milestone": self.milestone, "raci": dict(self.raci),
            "accountable": self.accountable.name if self.accountable else None,
        }


@dataclass
class CommRow:
    """One row of the communication plan (沟通计划): once on a date, or recurring."""

    topic: str
    when: str  # as written: 2026-12-07 17:00, 每周五 15:00, 每日17:00, 每月末
    freq: str  # once | daily | weekly | monthly
    time: dt.time | None = None
    date: dt.date | None = None  # once
    weekday: int | None = None  # weekly: Monday 0
    monthday: int | None = None  # monthly: the day, or -1 for the last working day
    participants: str = ""
    departments: list[str] = field(default_factory=list)
    way: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic, "when": self.when, "freq": self.freq,
            "time": self.time.strftime("%H:%M") if self.time else None,
            "date": self.date.isoformat() if self.date else None,
            "weekday": self.weekday, "monthday": self.monthday,
            "participants": self.participants, "departments": list(self.departments),
            "way": self.way,
        }


@dataclass
class Plan:
    tasks: list[PlanTask] = field(default_factory=list)
    meetings: list[CommRow] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)  # every one taking part
    liaisons: dict[str, Person] = field(default_factory=dict)  # as 参与部门及对接人 names them
    lead: Person | None = None
    lead_dept: Department | None = None


def _value(text: str) -> str:
    """A cell's value: a blank template's `*`, `*姓名` and `（如 每周五）` are no value."""
    text = " ".join(clean_value(text).split())
    if not _STARS.sub("", text) or text.startswith(("*", "＊")):
        return ""
    return text


def _heading(cell: str) -> str:
    return key(_HINT.sub("", cell).replace("*", ""))


class PlanReader:
    """Reads plans with one rules set (the labels compiled once)."""

    def __init__(self, rules: Rules) -> None:
        self.rules = rules
        self.spec: PlanSpec = rules.forms.project
        self.labels = LabelSet(FormSpec(title_words=self.spec.title_words,
                                        labels=self.spec.labels, required=self.spec.required))
        self.task_heads = {key(w): name for name, words in self.spec.task_columns.items()
                           for w in words}
        self.meeting_heads = {key(w): name for name, words in self.spec.meeting_columns.items()
                              for w in words}

    # -- finding one --------------------------------------------------------------------

    def task_header(self, cells: list[str]) -> dict[int, str] | None:
        """Column → 表2 field, when `cells` are 表2's headings (or a RACI matrix's)."""
        found = {i: self.task_heads[_heading(c)] for i, c in enumerate(cells)
                 if _heading(c) in self.task_heads}
        names = set(found.values())
        if "name" not in names:
            return None
        depts = sum(1 for i, c in enumerate(cells)
                    if i not in found and self.rules.directory.department(_heading(c)))
        if ({"dept", "owner"} & names and {"start", "finish"} & names) or depts >= 2:
            return found
        return None

    def looks_like_plan(self, lines: list[str], subject: str = "") -> bool:
        """表2's headings, or tasks written as lines (任务：…；负责部门：…), under a
        项目名称 or a subject with the plan's title words: a request form with a small
        task table in it is still a request."""
        head = lines[:2000]
        titled = any((hit := self.labels.match(line.strip())) is not None and hit[0] == "title"
                     for line in head) or any(fold(w) in fold(subject)
                                               for w in self.spec.title_words)
        if not titled:
            return False
        return any(self.task_header(line.split("\t")) is not None
                   or self.task_line(line) is not None for line in head)

    def task_line(self, line: str) -> tuple[dict[int, str], list[str], list[str]] | None:
        """A task written as one line, `任务：需求收集；负责部门：市场部；负责人：陈晨；
        计划开始：12月2日；计划完成：12月8日；RACI：市场部R、研发部C` → (header,
        headings, values) as a table row would give them."""
        if not _TASK_LINE.match(unicodedata.normalize("NFKC", line)):
            return None
        headings: list[str] = []
        values: list[str] = []
        for part in re.split(r"[；;]|\s{2,}", unicodedata.normalize("NFKC", line)):
            found = re.match(r"^\s*(?:\d{1,2}[.、)]\s*)?([^:]{1,12}?)\s*:\s*(.*)$", part)
            if found is None:
                continue
            label, value = found.group(1).strip(), found.group(2).strip()
            if key(label).upper() in ("RACI", "RACI矩阵", "职责", "分工"):
                for item in re.split(r"[、,，/\s]+", value):
                    letters = re.search(r"[RACIraci/]+$", item)
                    if letters and item[:letters.start()]:
                        headings.append(item[:letters.start()])
                        values.append(letters.group(0))
                continue
            headings.append(label)
            values.append(value)
        header = {i: self.task_heads[_heading(h)] for i, h in enumerate(headings)
                  if _heading(h) in self.task_heads}
        return (header, headings, values) if "name" in header.values() else None

    # -- reading one --------------------------------------------------------------------

    def rows(self, lines: list[str]) -> list[str]:
        """A workbook's or a document's rows, where each label's value is in its own row:
        a label left blank (a row of the label alone) is left out, so that it does not
        take the rows below it as its value."""
        return [line for line in lines if "\t" in line or not (
            (hit := self.labels.match(line.strip())) is not None and not hit[1])]

    def read(self, lines: list[str], today: dt.date, sender: str = "") -> Reading:
        """`sender`: who mailed it. Only someone in the org directory may file a project
        (it invites every head it names); when 项目负责人 is blank, the sender leads."""
        r = Reading("project")
        plan = Plan()
        r.plan = plan
        rest: list[str] = []  # lines outside the tables: 表1's 标签：值
        tasks_rows: list[tuple[dict[int, str], list[str], list[str]]] = []
        raci_rows: list[tuple[list[str], list[str]]] = []  # (headings, row)
        meeting_rows: list[tuple[dict[int, str], list[str]]] = []
        index = 0
        while index < len(lines):
            cells = lines[index].split("\t")
            index += 1
            header = self.task_header(cells)
            meeting = None if header is not None else self._meeting_header(cells)
            if header is None and meeting is None:
                written = self.task_line(lines[index - 1]) if len(cells) == 1 else None
                if written is not None:
                    tasks_rows.append(written)
                    continue
                if _SECTION.match(cells[0]):
                    rest.append("")  # a heading ends the value above it
                else:
                    rest.append("\t".join(cells))
                continue
            rest.append("")
            while index < len(lines) and lines[index].strip():
                row = lines[index].split("\t")
                if self.task_header(row) is not None or self._meeting_header(row) is not None:
                    break
                if len([c for c in row if c.strip()]) == 1 and (
                        self.labels.match(row[0].strip()) or len(row) == 1):
                    break  # a heading or a 表1 line after the table
                index += 1
                if header is not None:
                    names = set(header.values())
                    if {"dept", "owner", "start", "finish"} & names:
                        tasks_rows.append((header, cells, row))
                    else:
                        raci_rows.append((cells, row))
                elif meeting is not None:
                    meeting_rows.append((meeting, row))
        found = find_fields(rest, self.labels)
        self._fields(r, found, plan)
        known = self.rules.directory.by_address(sender) if sender else None
        if sender and known is None:
            r.errors.append(f"发件人 {sender} 不在组织目录中，不能建立协作项目"
                            + ask_secretary(self.rules, "（") + "）")
        elif known is not None and plan.lead is None and not found.values.get("lead"):
            plan.lead = known
            r.people["lead"] = known
            r.fields["lead"] = known.name
            if plan.lead_dept is None and known.department:
                plan.lead_dept = self.rules.directory.department(known.department)
                if plan.lead_dept is not None:
                    r.fields["lead_dept"] = plan.lead_dept.name
                    self._take_part(plan, plan.lead_dept)
        for header, headings, row in tasks_rows[:MAX_TASKS]:
            self._task(r, plan, header, headings, row, today)
        if len(tasks_rows) > MAX_TASKS:
            r.errors.append(f"任务超过 {MAX_TASKS} 项，请拆分为几个项目")
        for headings, row in raci_rows:
            self._raci_row(r, plan, headings, row)
        for header, row in meeting_rows[:MAX_MEETINGS]:
            self._meeting(r, plan, header, row, today)
        self._check(r, plan)
        r.errors = list(dict.fromkeys(r.errors))  # (a bad RACI column: once, not per task)
        return r

    def _meeting_header(self, cells: list[str]) -> dict[int, str] | None:
        found = {i: self.meeting_heads[_heading(c)] for i, c in enumerate(cells)
                 if _heading(c) in self.meeting_heads}
        names = set(found.values())
        if "topic" in names and {"date", "time"} & names:
            return found
        return None

    # -- 表1 --------------------------------------------------------------------------------

    def _fields(self, r: Reading, found: FoundFields, plan: Plan) -> None:
        raw = {k: _value(v) if "\n" not in v else v.strip() for k, v in found.values.items()}
        r.raw = {k: v for k, v in raw.items() if v}
        directory = self.rules.directory
        for name in ("title", "goal"):
            if raw.get(name):
                r.fields[name] = raw[name]
        if raw.get("lead"):
            person, problem = directory.resolve(raw["lead"])
            if person is None:
                r.errors.append(f"{self.label('lead')}{problem}")
            else:
                plan.lead = person
                r.people["lead"] = person
                r.fields["lead"] = person.name
        if raw.get("lead_dept"):
            dept = directory.department(raw["lead_dept"])
            if dept is None:
                r.errors.append(self._unknown_dept(self.label("lead_dept"), raw["lead_dept"]))
            else:
                plan.lead_dept = dept
        if plan.lead_dept is None and plan.lead is not None and plan.lead.department:
            plan.lead_dept = directory.department(plan.lead.department)
        if plan.lead_dept is not None:
            r.fields["lead_dept"] = plan.lead_dept.name
            self._take_part(plan, plan.lead_dept)
        for part in re.split(r"[、,，;；\n]+", raw.get("departments", "")):
            part = part.strip()
            if not part:
                continue
            inner = re.search(r"[(（]\s*(?:对接人\s*[:：])?\s*([^()（）]*?)\s*[)）]", part)
            name = _HINT.sub("", part).strip()
            dept = directory.department(name)
            if dept is None:
                r.errors.append(self._unknown_dept(self.label("departments"), name))
                continue
            self._take_part(plan, dept)
            liaison = _value(inner.group(1)) if inner else ""
            if liaison:
                person, problem = directory.resolve(liaison)
                if person is None:
                    r.errors.append(f"{self.label('departments')}：{dept.name}的对接人{problem}")
                else:
                    plan.liaisons[dept.name] = person

    def label(self, name: str) -> str:
        labels = self.spec.labels.get(name) or self.spec.task_columns.get(name)
        return labels[0] if labels else name

    def _unknown_dept(self, where: str, name: str) -> str:
        return (f"{where}「{name}」不在组织目录中（可选："
                f"{'、'.join(self.rules.directory.department_names())}）")

    @staticmethod
    def _take_part(plan: Plan, dept: Department) -> None:
        if dept not in plan.departments:
            plan.departments.append(dept)

    # -- 表2 and RACI ------------------------------------------------------------------------

    def _task(self, r: Reading, plan: Plan, header: dict[int, str], headings: list[str],
              row: list[str], today: dt.date) -> None:
        def cell(name: str) -> str:
            where = next((i for i, n in header.items() if n == name), None)
            return _value(row[where]) if where is not None and where < len(row) else ""

        name = cell("name")
        if not name:
            return
        task = PlanTask(row=len(plan.tasks) + 1, name=name, description=cell("description"),
                        status=cell("status"), deliverable=cell("deliverable"),
                        issues=cell("issues"))
        task.milestone = cell("milestone") not in ("", "否", "无", "no", "n")
        where = f"任务「{name}」"
        directory = self.rules.directory
        if cell("dept"):
            task.dept = directory.department(cell("dept"))
            if task.dept is None:
                r.errors.append(self._unknown_dept(f"{where}的{self.label('dept')}",
                                                   cell("dept")))
        if cell("owner"):
            task.owner, problem = directory.resolve(cell("owner"))
            if task.owner is None:
                r.errors.append(f"{where}的{self.label('owner')}{problem}")
        for attr in ("start", "finish", "actual"):
            text = cell(attr)
            if not text:
                continue
            day, problem = parse_date(text, today)
            if day is None:
                r.errors.append(f"{where}的{self.label(attr)}{problem}")
            setattr(task, attr, day)
        self._raci_cells(r, task, headings, row, set(header))
        plan.tasks.append(task)

    def _raci_cells(self, r: Reading, task: PlanTask, headings: list[str], row: list[str],
                    skip: set[int]) -> None:
        """The department columns of a row: R/A/C/I (or RA, R/A), blank for none."""
        for index, heading in enumerate(headings):
            if index in skip or index >= len(row) or not _value(row[index]):
                continue
            letters = re.sub(r"[\s/、,，+&]", "", unicodedata.normalize("NFKC", row[index]))
            letters = letters.upper()
            name = _HINT.sub("", heading).replace("*", "").strip()
            if not letters or any(ch not in RACI_LETTERS for ch in letters):
                r.errors.append(f"任务「{task.name}」在「{name}」一栏填的是「{row[index].strip()}」"
                                "（RACI 只能填 R、A、C、I）")
                continue
            dept = self.rules.directory.department(name)
            if dept is None:
                r.errors.append(self._unknown_dept("RACI 矩阵的部门", name))
                continue
            merged = task.raci.get(dept.name, "") + letters
            task.raci[dept.name] = "".join(ch for ch in RACI_LETTERS if ch in merged)

    def _raci_row(self, r: Reading, plan: Plan, headings: list[str], row: list[str]) -> None:
        """A row of a RACI matrix of its own (任务 × 部门): added to the task of that name."""
        first = next((i for i, h in enumerate(headings) if _heading(h) in self.task_heads
                      and self.task_heads[_heading(h)] == "name"), 0)
        name = _value(row[first]) if first < len(row) else ""
        if not name:
            return
        task = next((t for t in plan.tasks if key(t.name) == key(name)), None)
        if task is None and plan.tasks:
            r.errors.append(f"RACI 矩阵中的任务「{name}」不在任务跟踪表中")
            return
        if task is None:  # a RACI matrix without 表2: its rows are the tasks
            task = PlanTask(row=len(plan.tasks) + 1, name=name)
            plan.tasks.append(task)
        self._raci_cells(r, task, headings, row, {first})

    # -- the communication plan ------------------------------------------------------------

    def _meeting(self, r: Reading, plan: Plan, header: dict[int, str], row: list[str],
                 today: dt.date) -> None:
        def cell(name: str) -> str:
            where = next((i for i, n in header.items() if n == name), None)
            return _value(row[where]) if where is not None and where < len(row) else ""

        topic = cell("topic")
        if not topic:
            return
        when = " ".join(p for p in (cell("date"), cell("time")) if p)
        text = unicodedata.normalize("NFKC", when)
        moment = _clock_of(text)
        entry = CommRow(topic=topic, when=when, freq="once", time=moment,
                        participants=cell("participants"), way=cell("way"))
        where = f"沟通计划「{topic}」"
        weekly = _WEEKLY.search(text)
        month_day = _MONTH_DAY.search(text)
        if _DAILY.search(text):
            entry.freq = "daily"
        elif weekly:
            entry.freq, entry.weekday = "weekly", _WEEKDAYS[weekly.group(1)]
        elif _MONTH_END.search(text):
            entry.freq, entry.monthday = "monthly", -1
        elif month_day and 1 <= int(month_day.group(1)) <= 28:
            entry.freq, entry.monthday = "monthly", int(month_day.group(1))
        else:
            day, problem = parse_date(text, today) if text else (None, "未写日期或频率")
            if day is None:
                r.errors.append(f"{where}的时间「{when}」无法识别（请写日期，如 2026-12-07 17:00，"
                                "或频率，如 每周五 15:00、每日 17:00、每月末）"
                                if when else f"{where}{problem}")
                return
            entry.date = day
        if moment is None and entry.monthday == -1:
            # 每月末 alone (seed 001): in the afternoon of the month's last working day.
            entry.time = MONTH_END_TIME
            r.notes.append(f"{where}没有写时间，按 {MONTH_END_TIME:%H:%M} 安排")
        elif moment is None:
            r.errors.append(f"{where}没有写时间（如 15:00）")
            return
        entry.departments = [d.name for d in self.rules.directory.departments
                             if any(key(n) in key(entry.participants)
                                    for n in (d.name, *d.aliases))]
        for named in _DEPT_WORD.findall(entry.participants):
            if self.rules.directory.department(named) is None and not _EVERYONE.search(named):
                r.errors.append(self._unknown_dept(f"{where}的参与部门", named))
        plan.meetings.append(entry)

    # -- the whole ---------------------------------------------------------------------------

    def _check(self, r: Reading, plan: Plan) -> None:
        for name in self.spec.required:
            if not r.fields.get(name) and not any(self.label(name) in e for e in r.errors):
                r.missing.append(name)
        if not plan.tasks:
            r.missing.append("tasks")
        directory = self.rules.directory
        for task in plan.tasks:
            where = f"任务「{task.name}」"
            if task.dept is None and task.owner is not None and task.owner.department:
                task.dept = directory.department(task.owner.department)
            responsible = [d for d, letters in task.raci.items() if "R" in letters]
            if task.raci and not responsible:
                r.errors.append(f"{where}在 RACI 矩阵中没有负责方（R）")
            if task.dept is None and responsible:
                task.dept = directory.department(responsible[0])
            if task.dept is None:
                if not any(where in e for e in r.errors):
                    r.errors.append(f"{where}没有填写{self.label('dept')}")
                continue
            if not task.raci:
                task.raci = {task.dept.name: "R"}
            elif task.dept.name not in responsible and responsible:
                r.notes.append(f"{where}的负责部门是{task.dept.name}，RACI 矩阵中负责（R）的是"
                               f"{'、'.join(responsible)}")
            if task.owner is None:
                task.owner = plan.liaisons.get(task.dept.name) or task.dept.liaison
            approving = [d for d, letters in task.raci.items() if "A" in letters]
            if len(approving) > 1:
                r.errors.append(f"{where}有 {len(approving)} 个审批方（A）："
                                f"{'、'.join(approving)}，每项任务只能有一个")
            elif approving:
                approver = directory.department(approving[0])
                task.accountable = approver.head if approver is not None else None
            elif self.spec.default_accountable == "r_head" or plan.lead is None:
                task.accountable = task.dept.head
            else:
                task.accountable = plan.lead
            if task.finish is None and not any(where + "的" + self.label("finish") in e
                                               for e in r.errors):
                r.errors.append(f"{where}没有填写{self.label('finish')}")
            if task.start and task.finish and task.finish < task.start:
                r.errors.append(f"{where}的{self.label('finish')} {task.finish.isoformat()} 早于"
                                f"{self.label('start')} {task.start.isoformat()}")
            if task.status and task.status not in STATUSES:
                r.notes.append(f"{where}的状态「{task.status}」不是常用写法（"
                               f"{'、'.join(STATUSES)}）")
            for dept_name in task.raci:
                found = directory.department(dept_name)
                if found is not None:
                    self._take_part(plan, found)
            self._take_part(plan, task.dept)
        starts = [t.start or t.finish for t in plan.tasks if t.start or t.finish]
        finishes = [t.finish for t in plan.tasks if t.finish]
        if starts and finishes:
            r.fields["start"] = min(d for d in starts if d).isoformat()
            r.fields["finish"] = max(finishes).isoformat()
        r.fields["departments"] = [d.name for d in plan.departments]
        for meeting in plan.meetings:
            if not meeting.departments or _EVERYONE.search(meeting.participants):
                meeting.departments = [d.name for d in plan.departments]
