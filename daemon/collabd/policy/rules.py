"""Loading rules/: every file validated, cross-references checked, errors as file:line."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from collabd.policy.calendar import WorkCalendar
from collabd.policy.org import Department, Directory, Person
from collabd.policy.schema import (
    TARGETS,
    CalendarFile,
    DepartmentSpec,
    EscalationFile,
    FormsFile,
    MeetingsFile,
    OrgFile,
    PersonSpec,
    SignoffFile,
    SlaFile,
)
from collabd.yamlsrc import ConfigError, Loc, SourceMap, load_yaml, validate

# rules file → its schema; a file not listed here is a typo, and an error.
FILES: dict[str, type[BaseModel]] = {
    "org.yaml": OrgFile,
    "calendar.yaml": CalendarFile,
    "sla.yaml": SlaFile,
    "forms.yaml": FormsFile,
    "signoff.yaml": SignoffFile,
    "meetings.yaml": MeetingsFile,
    "escalation.yaml": EscalationFile,
}
# The org directory is the company's own; every other file has a shipped default that is
# used when a deployment does not have it (e.g. made by an older collabd).
REQUIRED = ("org.yaml",)


@dataclass
class Rules:
    directory: Directory
    calendar: WorkCalendar
    sla: SlaFile
    forms: FormsFile
    signoff: SignoffFile
    meetings: MeetingsFile
    escalation: EscalationFile
    sources: dict[str, SourceMap] = field(default_factory=dict)
    rules_dir: Path | None = None
    defaulted: list[str] = field(default_factory=list)

    @functools.cached_property
    def internal_domains(self) -> frozenset[str]:
        """The company's own mail domains: those signoff.yaml names, and those of the
        people in the org directory."""
        domains = {d.lower() for d in self.signoff.authentication.internal_domains}
        for person in self.directory.people():
            domains.add(person.address.rsplit("@", 1)[-1].lower())
        return frozenset(domains)

    def is_internal(self, address: str) -> bool:
        return "@" in address and address.rsplit("@", 1)[-1].lower() in self.internal_domains


def _person(spec: PersonSpec, department: str | None, role: str) -> Person:
    return Person(spec.name, spec.address, department, frozenset({role}), tuple(spec.aliases))


def build_directory(org: OrgFile) -> Directory:
    departments = []
    for d in org.departments:
        departments.append(Department(
            name=d.name,
            head=_person(d.head, d.name, "head"),
            liaison=_person(d.liaison, d.name, "liaison"),
            members=tuple(_person(m, d.name, "member") for m in d.members),
            aliases=tuple(d.aliases),
        ))
    group = org.coordination_group
    return Directory(
        departments=departments,
        leader=_person(group.leader, None, "leader"),
        secretary=_person(group.secretary, None, "secretary"),
        others=[_person(p, None, "other") for p in org.people],
    )


def _check_org(org: OrgFile, source: SourceMap) -> list[str]:
    problems: list[str] = []
    seen: dict[str, tuple[int, Loc]] = {}

    def dept_names(index: int, d: DepartmentSpec) -> list[tuple[str, Loc]]:
        out: list[tuple[str, Loc]] = [(d.name, ("departments", index, "name"))]
        out += [(a, ("departments", index, "aliases", j)) for j, a in enumerate(d.aliases)]
        return out

    from collabd.textnorm import key

    for index, dept in enumerate(org.departments):
        for name, loc in dept_names(index, dept):
            k = key(name)
            if k in seen and seen[k][0] != index:
                problems.append(f"{source.where(loc)}: {'.'.join(map(str, loc))}: the "
                                f"department name {name!r} is also used at line "
                                f"{source.line_of(seen[k][1])} for another department")
            seen.setdefault(k, (index, loc))
    names: dict[str, tuple[str, Loc]] = {}
    people: list[tuple[PersonSpec, Loc]] = [
        (org.coordination_group.leader, ("coordination_group", "leader")),
        (org.coordination_group.secretary, ("coordination_group", "secretary")),
    ]
    for index, dept in enumerate(org.departments):
        people += [(dept.head, ("departments", index, "head")),
                   (dept.liaison, ("departments", index, "liaison"))]
        people += [(m, ("departments", index, "members", j)) for j, m in enumerate(dept.members)]
    people += [(p, ("people", j)) for j, p in enumerate(org.people)]
    for spec, loc in people:
        other = names.get(spec.address)
        if other is not None and key(other[0]) != key(spec.name):
            problems.append(f"{source.where(loc)}: {'.'.join(map(str, loc))}.address: "
                            f"{spec.address} is also {other[0]!r} at line "
                            f"{source.line_of(other[1])}; one address is one person")
        names.setdefault(spec.address, (spec.name, loc))
    return problems


def _check_forms_sla(forms: FormsFile, sla: SlaFile, sources: dict[str, SourceMap]) -> list[str]:
    problems = []
    urgencies = set(forms.urgency.options)
    src = sources.get("sla.yaml")
    for name in sla.request_response:
        if name not in urgencies:
            where = src.where(("request_response", name)) if src else "sla.yaml"
            problems.append(f"{where}: request_response.{name}: not an urgency of forms.yaml "
                            f"(expected one of {', '.join(sorted(urgencies))})")
    for name in urgencies - set(sla.request_response):
        where = src.where(("request_response",)) if src else "sla.yaml"
        problems.append(f"{where}: request_response: no deadline for urgency {name!r}")
    severities = set(forms.severity.options)
    for name in sla.problem:
        if name not in severities:
            where = src.where(("problem", name)) if src else "sla.yaml"
            problems.append(f"{where}: problem.{name}: not a severity of forms.yaml")
    fsrc = sources["forms.yaml"]
    for choice in ("request_type", "urgency", "severity"):
        spec = getattr(forms, choice)
        if spec.default is not None and spec.default not in spec.options:
            problems.append(f"{fsrc.where((choice, 'default'))}: {choice}.default: "
                            f"{spec.default!r} is not one of its options")
    for form_name in ("request", "problem"):
        spec = getattr(forms, form_name)
        for req in spec.required:
            if req not in spec.labels:
                problems.append(f"{fsrc.where((form_name, 'required'))}: {form_name}.required:"
                                f" {req!r} has no labels in {form_name}.labels")
    return problems


ROLES_IN_MEETINGS = ("leader", "secretary")


def resolve_name(directory: Directory, name: str) -> Person | None:
    """A person or a department (its head) of the org directory, by name or address."""
    person, _ = directory.resolve(name)
    if person is not None and (person.department or "leader" in person.roles
                               or "secretary" in person.roles or "other" in person.roles):
        return person
    dept = directory.department(name)
    return dept.head if dept is not None else None


def _check_names(directory: Directory, escalation: EscalationFile, meetings: MeetingsFile,
                 sources: dict[str, SourceMap]) -> list[str]:
    problems = []
    src = sources.get("escalation.yaml")
    for ladder, steps in escalation.ladders.items():
        for index, step in enumerate(steps):
            for field_name in ("to", "cc"):
                for position, name in enumerate(getattr(step, field_name)):
                    if name in TARGETS or resolve_name(directory, name) is not None:
                        continue
                    loc: Loc = ("ladders", ladder, index, field_name, position)
                    where = src.where(loc) if src else "escalation.yaml"
                    problems.append(
                        f"{where}: ladders.{ladder}[{index}].{field_name}: {name!r} is neither "
                        f"a role ({', '.join(sorted(TARGETS))}) nor a person or department "
                        "in org.yaml")
    msrc = sources.get("meetings.yaml")
    for kind in ("review", "risk"):
        for position, name in enumerate(getattr(meetings, kind).extra_attendees):
            if name in ROLES_IN_MEETINGS or resolve_name(directory, name) is not None:
                continue
            loc = (kind, "extra_attendees", position)
            where = msrc.where(loc) if msrc else "meetings.yaml"
            problems.append(f"{where}: {kind}.extra_attendees: {name!r} is not a person or "
                            "department in org.yaml (nor leader / secretary)")
    return problems


def load_rules(rules_dir: Path, *, tz: ZoneInfo, defaults: Path | None = None) -> Rules:
    """Load and validate every rules file; ConfigError lists all problems as file:line."""
    problems: list[str] = []
    if not rules_dir.is_dir():
        raise ConfigError([f"{rules_dir}: rules directory not found"])
    for path in sorted(rules_dir.glob("*.y*ml")):
        if path.name not in FILES:
            problems.append(f"{path}:1: unknown rules file (expected one of "
                            f"{', '.join(FILES)})")
    models: dict[str, Any] = {}
    sources: dict[str, SourceMap] = {}
    defaulted: list[str] = []
    for name, model in FILES.items():
        path = rules_dir / name
        if not path.exists():
            if name in REQUIRED:
                problems.append(f"{path}: required rules file is missing")
                continue
            if defaults is None or not (defaults / name).exists():
                problems.append(f"{path}: rules file is missing (and no shipped default)")
                continue
            path = defaults / name
            defaulted.append(name)
        try:
            data, source = load_yaml(path)
            sources[name] = source
            if data is None or data == {}:
                data = {}
            if not isinstance(data, dict):
                raise ConfigError([f"{path}:1: expected a mapping of keys at the top"])
            models[name] = validate(model, data, source)
        except ConfigError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ConfigError(problems)
    org: OrgFile = models["org.yaml"]
    cal: CalendarFile = models["calendar.yaml"]
    sla: SlaFile = models["sla.yaml"]
    forms: FormsFile = models["forms.yaml"]
    signoff: SignoffFile = models["signoff.yaml"]
    meetings: MeetingsFile = models["meetings.yaml"]
    escalation: EscalationFile = models["escalation.yaml"]
    problems += _check_org(org, sources["org.yaml"])
    problems += _check_forms_sla(forms, sla, sources)
    directory = build_directory(org)
    problems += _check_names(directory, models["escalation.yaml"], models["meetings.yaml"],
                             sources)
    if cal.timezone is not None and cal.timezone != tz.key:
        src = sources["calendar.yaml"]
        problems.append(f"{src.where(('timezone',))}: timezone: {cal.timezone} differs from "
                        f"collabd.yaml's timezone {tz.key}; write the same zone in both")
    calendar = None
    try:
        calendar = WorkCalendar(
            tz, start=cal.working_hours.start, end=cal.working_hours.end,
            lunch=cal.working_hours.lunch_range(), country=cal.holidays,
            extra_days_off=cal.extra_days_off, extra_workdays=cal.extra_workdays,
            years={year: (days.days_off, days.workdays) for year, days in cal.years.items()},
        )
    except (ValueError, NotImplementedError, KeyError) as exc:
        cal_src = sources.get("calendar.yaml")
        where = cal_src.where(("holidays",)) if cal_src else str(rules_dir / "calendar.yaml")
        problems.append(f"{where}: {exc}")
    if problems:
        raise ConfigError(problems)
    assert calendar is not None
    return Rules(directory, calendar, sla, forms, signoff, meetings, escalation,
                 sources, rules_dir, defaulted)
