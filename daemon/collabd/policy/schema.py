"""The schema of every rules file; unknown keys and wrong types are errors."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
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


class CalendarFile(Strict):
    timezone: str | None = None
    working_hours: WorkingHours = WorkingHours()
    holidays: str = "CN"  # country code for the `holidays` package
    extra_days_off: list[dt.date] = Field(default_factory=list)
    extra_workdays: list[dt.date] = Field(default_factory=list)


# -- sla.yaml ----------------------------------------------------------------------------

class ProblemSla(Strict):
    resolve_within: DurationField | None = None
    meeting_within: DurationField | None = None
    escalate_to_leader: bool = False


class SlaFile(Strict):
    # 接收方响应时限, by urgency
    request_response: dict[str, DurationField] = Field(default_factory=lambda: {
        "紧急": parse_duration("3 workdays"),
        "一般": parse_duration("5 workdays"),
        "不急": parse_duration("7 workdays"),
    })
    minutes_due: DurationField = parse_duration("24h")
    confirmation_due: DurationField = parse_duration("24h")
    deliverable_acceptance: DurationField = parse_duration("3 workdays")
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


class FormsFile(Strict):
    request: FormSpec
    problem: FormSpec
    request_type: ChoiceSpec
    urgency: ChoiceSpec
    severity: ChoiceSpec
    checked_marks: list[str]
    unchecked_marks: list[str]
    # Words in a problem report that raise the default severity.
    severity_keywords: dict[str, list[str]] = Field(default_factory=dict)
    not_understood_per_day: int = Field(default=1, ge=0)


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
