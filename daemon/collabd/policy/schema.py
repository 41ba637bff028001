"""The schema of every rules file; unknown keys and wrong types are errors."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from collabd.policy.durations import Duration, parse_duration


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    return parse_duration(value)


DurationField = Annotated[Duration, BeforeValidator(_duration), PlainSerializer(str)]

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def _time(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, int):  # YAML reads 09:00 unquoted as sexagesimal 540
        return dt.time(value // 60, value % 60)
    try:
        return dt.time.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a time of day like 09:00, found {value!r}") from None


TimeField = Annotated[dt.time, BeforeValidator(_time)]


def _weekday(value: Any) -> int:
    key = str(value).strip().lower()
    if key not in _WEEKDAYS:
        raise ValueError(f"expected a weekday such as friday or 周五, found {value!r}")
    return _WEEKDAYS[key]


# -- org.yaml ----------------------------------------------------------------------------

class PersonSpec(Strict):
    name: str
    address: str
    aliases: list[str] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _address(cls, value: str) -> str:
        if not _ADDRESS.match(value.strip()):
            raise ValueError(f"expected an e-mail address like name@example.com, found {value!r}")
        return value.strip().lower()


class DepartmentSpec(Strict):
    name: str
    aliases: list[str] = Field(default_factory=list)
    head: PersonSpec
    liaison: PersonSpec
    members: list[PersonSpec] = Field(default_factory=list)


class GroupSpec(Strict):
    leader: PersonSpec
    secretary: PersonSpec


class OrgFile(Strict):
    coordination_group: GroupSpec
    departments: list[DepartmentSpec] = Field(min_length=1)
    people: list[PersonSpec] = Field(default_factory=list)


# -- calendar.yaml -----------------------------------------------------------------------

class WorkingHours(Strict):
    start: TimeField = dt.time(9)
    end: TimeField = dt.time(18)
    lunch: str | None = None  # "12:00-13:30"

    @field_validator("lunch")
    @classmethod
    def _lunch(cls, value: str | None) -> str | None:
        if value is not None:
            parts = value.replace("–", "-").split("-")
            if len(parts) != 2:
                raise ValueError("expected a range like 12:00-13:30")
            for part in parts:
                _time(part)
        return value

    def lunch_range(self) -> tuple[dt.time, dt.time] | None:
        if self.lunch is None:
            return None
        a, b = self.lunch.replace("–", "-").split("-")
        return _time(a), _time(b)


def _days(value: Any) -> list[dt.date]:
    """Dates as written in calendar.yaml: 2027-02-06, or a range 2027-02-06..2027-02-12
    (also written with 至 or ~), both ends included."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("expected a list of dates like [2027-01-01, 2027-02-06..2027-02-12]")
    out: list[dt.date] = []
    for item in value:
        if isinstance(item, dt.date):
            out.append(item)
            continue
        text = str(item).strip()
        parts = [p.strip() for p in re.split(r"\.\.|至|~|～", text)]
        try:
            first = dt.date.fromisoformat(parts[0])
            last = dt.date.fromisoformat(parts[1]) if len(parts) == 2 else first
        except (ValueError, IndexError):
            raise ValueError(f"{text!r} is not a date (2027-02-06) or a range "
                             "(2027-02-06..2027-02-12)") from None
        if len(parts) > 2 or last < first:
            raise ValueError(f"{text!r}: a range runs from an earlier to a later date")
        out += [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    return out


DayList = Annotated[list[dt.date], BeforeValidator(_days)]


class YearDays(Strict):
    """A whole year's schedule as the State Council's notice gives it: every day off
    that would otherwise be a workday, and every weekend day that is a workday (调休).
    A year given here is used as given, whatever the `holidays` package says."""

    days_off: DayList = Field(default_factory=list)
    workdays: DayList = Field(default_factory=list)


class CalendarFile(Strict):
    timezone: str | None = None
    working_hours: WorkingHours = WorkingHours()
    holidays: str = "CN"  # country code for the `holidays` package
    extra_days_off: DayList = Field(default_factory=list)
    extra_workdays: DayList = Field(default_factory=list)
    years: dict[int, YearDays] = Field(default_factory=dict)

    @field_validator("years")
    @classmethod
    def _years_hold_their_days(cls, years: dict[int, YearDays]) -> dict[int, YearDays]:
        problems = []  # all of them at once, not one per try
        for year, days in years.items():
            for kind, listed in (("days_off", days.days_off), ("workdays", days.workdays)):
                problems += [f"{year}.{kind}: {d.isoformat()} is not in {year}"
                             for d in listed if d.year != year]
            problems += [f"{year}: {d.isoformat()} is both a day off and a workday"
                         for d in sorted(set(days.days_off) & set(days.workdays))]
        if problems:
            raise ValueError("; ".join(problems))
        return years


# -- sla.yaml ----------------------------------------------------------------------------

class ProblemSla(Strict):
    resolve_within: DurationField | None = None
    meeting_within: DurationField | None = None
    escalate_to_leader: bool = False


class LedgerSchedule(Strict):
    """When the weekly ledgers go out (before the weekly meeting); enabled: false stops
    them."""

    enabled: bool = True
    day: Annotated[int, BeforeValidator(_weekday)] = 4
    time: TimeField = dt.time(16)


class FiguresSchedule(Strict):
    """When the monthly department figures (部门协作绩效) go to the 组长 and the
    secretary: on the first working day of each month, for the month before."""

    enabled: bool = True
    time: TimeField = dt.time(9, 30)


class DigestSchedule(Strict):
    """The daily digest (每日待办提醒) on working days; anyone can stop theirs (退订)."""

    enabled: bool = True
    time: TimeField = dt.time(9)


class SlaFile(Strict):
    # 接收方响应时限, by urgency
    request_response: dict[str, DurationField] = Field(default_factory=lambda: {
        "紧急": parse_duration("3 workdays"),
        "一般": parse_duration("5 workdays"),
        "不急": parse_duration("7 workdays"),
    })
    minutes_due: DurationField = parse_duration("24h")
    confirmation_due: DurationField = parse_duration("24h")
    # A deadline stated in plain hours (24h) that ends outside working time (a
    # Saturday, the evening): moved to the next working moment, or kept as it is.
    after_hours: Literal["next_working_moment", "as_is"] = "next_working_moment"
    deliverable_acceptance: DurationField = parse_duration("3 workdays")
    # Each department head signs the project's 《跨部门协作备忘录》 within this.
    memo_signoff: DurationField = parse_duration("24h")
    # The weekly 《跨部门协作进度台账》 and 《问题台账》 to the secretary, the 组长 and heads.
    ledger: LedgerSchedule = LedgerSchedule()
    # The monthly department figures (部门协作绩效) to the 组长 and the secretary.
    figures: FiguresSchedule = FiguresSchedule()
    # The daily digest to each person with something waiting on them.
    digest: DigestSchedule = DigestSchedule()
    problem: dict[str, ProblemSla] = Field(default_factory=lambda: {
        "一般": ProblemSla(resolve_within=parse_duration("1 workday")),
        "重要": ProblemSla(meeting_within=parse_duration("3 workdays")),
        "重大": ProblemSla(escalate_to_leader=True, meeting_within=parse_duration("1 workday")),
    })


# -- forms.yaml --------------------------------------------------------------------------

class FormSpec(Strict):
    """One form: which words announce it, and the labels of each of its fields."""

    title_words: list[str]
    labels: dict[str, list[str]]
    required: list[str]


class ChoiceSpec(Strict):
    options: dict[str, list[str]]  # canonical option → synonyms
    default: str | None = None


class PlanSpec(Strict):
    """A project plan (seed 001's 表1 and 表2, a RACI matrix, the communication plan):
    the words that announce it, 表1's labels, and the column headings of its tables."""

    title_words: list[str]
    labels: dict[str, list[str]]
    required: list[str]
    task_columns: dict[str, list[str]]
    meeting_columns: dict[str, list[str]]
    # Who accepts (A) a task whose RACI names no A: the project lead, or the head of the
    # department responsible (R).
    default_accountable: Literal["lead", "r_head"] = "lead"


DEFAULT_PLAN = PlanSpec(
    title_words=["跨部门协作沟通计划与跟踪表", "协作沟通计划", "沟通计划与跟踪表", "项目计划",
                 "协作项目", "专项协作事项", "任务跟踪子表"],
    labels={
        "title": ["项目名称", "协作项目名称", "专项名称", "项目"],
        "lead_dept": ["项目发起部门", "项目牵头部门", "发起部门", "牵头部门", "主责部门"],
        "lead": ["项目负责人", "项目经理"],
        "departments": ["参与部门及对接人", "参与部门与对接人", "参与部门", "协作部门"],
        "goal": ["核心目标", "项目目标", "协作目标"],
    },
    required=["title", "lead", "goal"],
    task_columns={
        "name": ["任务名称", "任务", "工作任务"],
        "description": ["任务描述", "描述", "任务说明"],
        "dept": ["负责部门", "责任部门"],
        "owner": ["负责人", "责任人"],
        "start": ["计划开始", "计划开始时间", "计划开始日期", "开始时间", "开始日期"],
        "finish": ["计划完成", "计划完成时间", "计划完成日期", "完成时间", "截止时间",
                   "截止日期"],
        "actual": ["实际完成", "实际完成时间", "实际完成日期"],
        "status": ["状态", "任务状态"],
        "deliverable": ["产出物", "交付物", "输出物"],
        "issues": ["问题记录", "问题", "备注"],
        "milestone": ["关键节点", "里程碑"],
    },
    meeting_columns={
        "date": ["日期", "频率", "沟通频率"],
        "time": ["时间"],
        "topic": ["沟通主题", "会议主题", "主题", "沟通内容"],
        "participants": ["参与部门/人员", "参与部门", "参与人员", "参会人员", "参与方"],
        "way": ["沟通方式", "方式", "形式"],
    },
)


ArchivedKind = Literal["request", "project"]
_PROJECTS: tuple[ArchivedKind, ...] = ("project",)


class FormsFile(Strict):
    request: FormSpec
    problem: FormSpec
    # (a rules directory written before projects existed reads plans with these)
    project: PlanSpec = DEFAULT_PLAN
    # The kinds whose archive (资料归档, one .zip) is mailed to the secretary on closing.
    archive_on_close: list[ArchivedKind] = Field(default_factory=lambda: list(_PROJECTS))
    request_type: ChoiceSpec
    urgency: ChoiceSpec
    severity: ChoiceSpec
    checked_marks: list[str]
    unchecked_marks: list[str]
    # Words in a problem report that raise the default severity.
    severity_keywords: dict[str, list[str]] = Field(default_factory=dict)
    not_understood_per_day: int = Field(default=1, ge=0)
    # "The form was incomplete" replies to one sender in a day (a sender fixing a form
    # over several rounds is normal; a robot sending forms in a loop is not).
    incomplete_replies_per_day: int = Field(default=10, ge=0)


# -- signoff.yaml ------------------------------------------------------------------------

class Keywords(Strict):
    confirm: list[str]
    reject: list[str]
    negations: list[str] = Field(default_factory=list)
    delivered: list[str] = Field(default_factory=list)
    progress: list[str] = Field(default_factory=list)
    status: dict[str, list[str]] = Field(default_factory=dict)


class Authentication(Strict):
    require: bool = False
    authserv_id: str | None = None
    internal_domains: list[str] = Field(default_factory=list)


class SignoffFile(Strict):
    keywords: Keywords
    minutes_signers: Literal["all_attendees", "required_attendees"] = "all_attendees"
    deliverable_acceptor: Literal["requester"] = "requester"
    reject_after_confirm: Literal["new_round", "ignore"] = "new_round"
    authentication: Authentication = Authentication()


# -- meetings.yaml -----------------------------------------------------------------------

_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "周一": 0, "周二": 1, "周三": 2, "周四": 3, "周五": 4, "周六": 5, "周日": 6,
    "星期一": 0, "星期二": 1, "星期三": 2, "星期四": 3, "星期五": 4, "星期六": 5, "星期日": 6,
}


def _percent(value: Any) -> float:
    text = str(value).strip().rstrip("%")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"expected a percentage such as 10%, found {value!r}") from None
    return number


class ReviewWhen(Strict):
    urgency: list[str] = Field(default_factory=list)
    type: list[str] = Field(default_factory=list)


class Room(Strict):
    """A meeting room (会议室): booked by the daemon, never twice at one time."""

    name: str
    capacity: int | None = Field(default=None, ge=1)  # people it seats; none: any number
    # An Exchange room mailbox: its free/busy is asked too (bookings made by others).
    calendar: str | None = None


class Place(Strict):
    room: str | None = None  # the room to book first
    rooms: list[str] = Field(default_factory=list)  # only these (default: every room)
    online: str | None = None
    # When no room is free at the earliest time everyone can come: held online only
    # (needs `online`) rather than later.
    online_only: bool = False

    @model_validator(mode="after")
    def _online_only_needs_a_link(self) -> Place:
        if self.online_only and not self.online:
            raise ValueError("online_only needs an online meeting link (online: https://…)")
        return self


class ReviewMeetings(Strict):
    when: ReviewWhen = ReviewWhen()
    # People always invited too: names or addresses from org.yaml, departments (their
    # head), or leader / secretary.
    extra_attendees: list[str] = Field(default_factory=list)
    # Words in the receiver's reply that ask for a review meeting.
    asked_by_words: list[str] = Field(default_factory=list)
    notice: DurationField = parse_duration("8 working hours")
    length: DurationField = parse_duration("60m")
    invite_heads: bool = False
    place: Place = Place()


class WeeklyRisk(Strict):
    day: Annotated[int, BeforeValidator(_weekday)] = 4
    time: TimeField = dt.time(15)
    length: DurationField = parse_duration("60m")
    invite_before: DurationField = parse_duration("1 workday")


class RiskMeetings(Strict):
    weekly: WeeklyRisk = WeeklyRisk()
    extra_attendees: list[str] = Field(default_factory=list)
    deviation: Annotated[float, BeforeValidator(_percent)] = 10.0
    adhoc_within: DurationField = parse_duration("48h")
    adhoc_notice: DurationField = parse_duration("2 working hours")
    adhoc_length: DurationField = parse_duration("30m")
    place: Place = Place()


class KickoffMeetings(Strict):
    """A project's 启动会 (guide 002): every participating head and liaison."""

    notice: DurationField = parse_duration("1 workday")
    length: DurationField = parse_duration("60m")
    extra_attendees: list[str] = Field(default_factory=lambda: ["secretary"])
    place: Place = Place()


class RetroMeetings(Strict):
    """A project's 复盘会 when all its tasks are accepted (guides 000, 001): for a project
    with at least `min_tasks` tasks or `min_departments` departments (0: every one)."""

    min_tasks: int = Field(default=5, ge=0)
    min_departments: int = Field(default=3, ge=0)
    notice: DurationField = parse_duration("2 workdays")
    length: DurationField = parse_duration("90m")
    extra_attendees: list[str] = Field(default_factory=lambda: ["secretary"])
    place: Place = Place()


class SeriesMeetings(Strict):
    """A project's communication plan as meetings (each recurring row a series)."""

    organizer: Literal["secretary", "lead"] = "secretary"  # 周例会: the secretary (guide 003)
    length: DurationField = parse_duration("60m")
    agenda_before: DurationField = parse_duration("2 working hours")
    # An occurrence on a non-working day: held on the next working day, or skipped. (A
    # daily one is skipped there.)
    on_holiday: Literal["next_workday", "skip"] = "next_workday"
    place: Place = Place()


class PushMeetings(Strict):
    """专项推进会 at a project's key nodes (guide 003): chaired by the lead department,
    its 决议 signed by the 组长. The 启动 node is the 启动会."""

    nodes: list[Literal["middle", "before_acceptance"]] = Field(
        default_factory=lambda: list(_PUSH_NODES))
    before_acceptance: DurationField = parse_duration("3 workdays")
    length: DurationField = parse_duration("60m")
    extra_attendees: list[str] = Field(default_factory=lambda: ["secretary"])
    place: Place = Place()


_PUSH_NODES: tuple[Literal["middle", "before_acceptance"], ...] = (
    "middle", "before_acceptance")


class MeetingsFile(Strict):
    review: ReviewMeetings = ReviewMeetings()
    risk: RiskMeetings = RiskMeetings()
    kickoff: KickoffMeetings = KickoffMeetings()
    retro: RetroMeetings = RetroMeetings()
    series: SeriesMeetings = SeriesMeetings()
    push: PushMeetings = PushMeetings()
    reminder_before: DurationField = parse_duration("15m")
    slot_step: DurationField = parse_duration("30m")
    rooms: list[Room] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rooms_known(self) -> MeetingsFile:
        names = [r.name for r in self.rooms]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rooms: {', '.join(twice)} listed twice")
        for kind, place in (("review", self.review.place), ("risk", self.risk.place),
                            ("kickoff", self.kickoff.place), ("retro", self.retro.place),
                            ("series", self.series.place), ("push", self.push.place)):
            unknown = [n for n in place.rooms if n not in names]
            if unknown:
                raise ValueError(f"{kind}.place.rooms: {', '.join(unknown)} not in rooms "
                                 f"({', '.join(names) or 'none listed'})")
        return self


# -- escalation.yaml ---------------------------------------------------------------------

# The waits the daemon knows; a ladder is named after one of them.
# (what has gone wrong when the deadline passes, what the person is asked to do)
WAITS = {
    "receiver_response": "接收方未在时限内响应需求",
    "minutes_not_sent": "会后未按时提交会议纪要",
    "attendee_not_confirmed": "参会人未在24小时内确认会议纪要",
    "deliverable_overdue": "交付物未按期交付",
    "acceptance_pending": "发起人未按时验收交付物",
    "problem_open": "问题反馈未在时限内处理",
    "task_overdue": "待办事项未按期完成",
    "task_at_risk": "任务滞后或阻塞",
    "memo_not_signed": "部门负责人未在时限内签署协作备忘录",
    "milestone_report": "关键节点临近，需提交阶段性成果说明",
    "resolution_not_signed": "组长未在时限内签署专项推进会决议",
}
WAIT_TASKS = {
    "receiver_response": "响应需求",
    "minutes_not_sent": "提交会议纪要",
    "attendee_not_confirmed": "确认会议纪要",
    "deliverable_overdue": "交付",
    "acceptance_pending": "验收交付物",
    "problem_open": "处理问题反馈",
    "task_overdue": "完成待办事项",
    "task_at_risk": "说明风险与应对措施",
    "memo_not_signed": "签署协作备忘录",
    "milestone_report": "提交《阶段性成果说明》",
    "resolution_not_signed": "签署专项推进会决议",
}
# Whom a step may address; resolved through the org directory for each record.
TARGETS = {
    "waited", "waited_head", "requester", "requester_head", "receiver", "receiver_liaison",
    "receiver_head", "organizer", "owner", "reporter", "target_liaison", "target_head",
    "leader", "secretary",
}

_WHEN = re.compile(r"^\s*(?:at\s+deadline|(.+?)\s+(before|after))\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class When:
    """`1 workday before`, `at deadline`, `4h after` → a signed offset from the deadline."""

    offset: Duration | None
    after: bool

    def __str__(self) -> str:
        if self.offset is None:
            return "at deadline"
        return f"{self.offset} {'after' if self.after else 'before'}"


def _when(value: Any) -> When:
    if isinstance(value, When):
        return value
    found = _WHEN.match(str(value))
    if found is None:
        raise ValueError(f"expected 'at deadline', '<duration> before' or '<duration> after', "
                         f"found {value!r}")
    if found.group(1) is None:
        return When(offset=None, after=True)
    return When(offset=parse_duration(found.group(1)), after=found.group(2).lower() == "after")


WhenField = Annotated[When, BeforeValidator(_when), PlainSerializer(str)]


class Step(Strict):
    when: WhenField
    to: list[str]
    template: str
    cc: list[str] = Field(default_factory=list)
    status: str | None = None

    # A recipient is a role (TARGETS), or a person or department of org.yaml by name or
    # address (checked against the directory when the rules are loaded).


class EscalationFile(Strict):
    ladders: dict[str, list[Step]]

    @field_validator("ladders")
    @classmethod
    def _known(cls, value: dict[str, list[Step]]) -> dict[str, list[Step]]:
        unknown = [k for k in value if k not in WAITS]
        if unknown:
            raise ValueError(f"unknown wait {', '.join(unknown)} (expected one of "
                             f"{', '.join(WAITS)})")
        return value
