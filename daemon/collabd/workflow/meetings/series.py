"""A project's communication plan, run by itself: each recurring row (每周五 15:00, 每日
17:00, 每月末) becomes one calendar series — one UID with an RRULE, an occurrence on a
non-working day moved to the next working day (RECURRENCE-ID) or skipped (EXDATE) as
the rules say — and a row with a date becomes one meeting.

Before each occurrence its attendees get an agenda built from the project as it stands
(overdue tasks, risks, what waits for acceptance or signature); after it, the occurrence
is a meeting of its own (same UID, its RECURRENCE-ID) whose minutes are asked of the
organizer and confirmed as for any meeting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from dateutil.rrule import rrulestr

from collabd.clock import isoformat
from collabd.model import Attendee, CommPlanRow, Meeting, Project, Task
from collabd.workflow import rooms
from collabd.workflow.context import Context
from collabd.workflow.meetings.create import _attendee, _dedupe, _new_meeting, _send_invite
from collabd.workflow.meetings.minutes import ask_for_minutes
from collabd.workflow.meetings.slots import _clock
from collabd.workflow.outcome import Outcome, audit, changed

_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_OCCURRENCES = 400


def rule_of(row: CommPlanRow) -> str | None:
    """The RRULE of a row of the communication plan (None: a row with a date)."""
    freq = row.get("freq")
    if freq == "daily":
        return "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"  # every working day
    if freq == "weekly" and row.get("weekday") is not None:
        return f"FREQ=WEEKLY;BYDAY={_DAYS[int(row['weekday'] or 0)]}"
    if freq == "monthly" and row.get("monthday") == -1:
        return "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"  # the last weekday
    if freq == "monthly" and row.get("monthday"):
        return f"FREQ=MONTHLY;BYMONTHDAY={int(row['monthday'] or 1)}"
    return None


def occurrences(meeting: Meeting) -> Iterator[tuple[dt.datetime, dt.datetime]]:
    """(as the rule has it, when it is held) for every occurrence not skipped."""
    first = dt.datetime.fromisoformat(meeting["start"])
    until = dt.datetime.fromisoformat(meeting.get("until") or meeting["start"])
    skipped = set(meeting.get("exdates", []))
    moved = meeting.get("moved", {})
    rule = rrulestr(meeting.get("rrule", ""), dtstart=first)
    for count, original in enumerate(rule.between(first, until, inc=True)):
        if count >= MAX_OCCURRENCES:
            return
        key = isoformat(original)
        if key in skipped:
            continue
        yield original, dt.datetime.fromisoformat(moved.get(key, key))


def _place_occurrences(meeting: Meeting, ctx: Context) -> None:
    """Skip or move the occurrences that fall on a non-working day (rules: meetings.
    series.on_holiday; a daily one is always skipped there, not doubled), those not
    placed already."""
    calendar = ctx.rules.calendar
    daily = "BYDAY=MO,TU,WE,TH,FR" in meeting.get("rrule", "") and "MONTHLY" not in (
        meeting.get("rrule", ""))
    meeting.setdefault("exdates", [])  # (what the organizer already changed stays)
    meeting.setdefault("moved", {})
    for original, _ in occurrences(meeting):
        key = isoformat(original)
        if calendar.is_workday(original.astimezone(calendar.tz).date()) or (
                key in meeting["moved"]):
            continue
        if daily or ctx.rules.meetings.series.on_holiday == "skip":
            meeting["exdates"].append(key)
            continue
        day = calendar.next_workday(original.astimezone(calendar.tz).date())
        meeting["moved"][key] = isoformat(dt.datetime.combine(
            day, original.astimezone(calendar.tz).time(), tzinfo=calendar.tz))


def _people(project: Project, row: CommPlanRow, ctx: Context) -> list[Attendee]:
    """Whom a row names: the heads (负责人), the liaisons (对接人, 专员), or both, of its
    departments; the project lead always."""
    text = row.get("participants", "")
    heads = "负责人" in text
    liaisons = any(w in text for w in ("对接人", "专员", "接口人")) or not heads
    depts = set(row.get("departments") or [d["dept"] for d in project.get("departments", [])])
    people: list[Attendee | None] = [_attendee(project.get("lead"), "项目负责人")]
    for entry in project.get("departments", []):
        if entry["dept"] not in depts:
            continue
        if heads:
            people.append(_attendee(entry.get("head"), f"{entry['dept']}负责人"))
        if liaisons:
            people.append(_attendee(entry.get("liaison"), f"{entry['dept']}对接人"))
    return _dedupe(people)


def conflicts(meeting: Meeting, ctx: Context, pending: list[Meeting]) -> list[str]:
    """The times (the next few weeks) at which some of a plan meeting's attendees are in
    another meeting: a plan fixes its times, so they are told rather than moved."""
    found: list[str] = []
    length = dt.datetime.fromisoformat(meeting["end"]) - dt.datetime.fromisoformat(
        meeting["start"])
    others = [m for m in pending if m["id"] != meeting["id"]]
    horizon = ctx.now + dt.timedelta(weeks=6)
    spans = [(actual, actual + length) for _, actual in occurrences(meeting)
             if actual <= horizon] if meeting.get("rrule") else [
        (dt.datetime.fromisoformat(meeting["start"]), dt.datetime.fromisoformat(meeting["end"]))]
    for start, end in spans[:30]:
        busy = []
        for person in meeting.get("attendees", []):
            theirs = list(ctx.attending().get(person["address"], []))
            theirs += [span for m in others if person["address"] in
                       {a["address"] for a in m.get("attendees", [])} for span in ctx.spans(m)]
            if any(s < end and e > start for s, e in theirs):
                busy.append(person.get("name") or person["address"])
        if busy:
            found.append(f"{meeting.get('title', '')}：{start.month}月{start.day}日 "
                         f"{start:%H:%M}，{'、'.join(busy)} 另有会议")
    return found


def plan_series(project: Project, ctx: Context, out: Outcome,
                notes: list[str] | None = None) -> list[Meeting]:
    """The meetings of the communication plan: a series per recurring row, a meeting per
    dated row still ahead; rows held by mail (沟通方式：邮件) are left to mail. The plan
    fixes their times: attendees already in another meeting then are added to `notes`."""
    rules = ctx.rules.meetings.series
    calendar = ctx.rules.calendar
    secretary = ctx.person(ctx.rules.directory.secretary)
    organizer = secretary if rules.organizer == "secretary" else project.get("lead")
    finish = project.get("finish")
    last_day = dt.date.fromisoformat(finish) if finish else (
        ctx.now.date() + dt.timedelta(days=90))
    first_day = max(dt.date.fromisoformat(project.get("start") or ctx.now.date().isoformat()),
                    ctx.now.astimezone(calendar.tz).date())
    length = _clock(ctx, rules.length)
    made: list[Meeting] = []
    for row in project.get("comm_plan", []):
        if "邮件" in row.get("way", "") or not row.get("time"):
            continue
        clock = dt.time.fromisoformat(str(row.get("time")))
        attendees = _dedupe([*_people(project, row, ctx), _attendee(secretary, "执行秘书")])
        rule = rule_of(row)
        if rule is None:
            day = dt.date.fromisoformat(str(row.get("date")))
            start = dt.datetime.combine(day, clock, tzinfo=calendar.tz)
            if start <= ctx.now:
                continue
            until = start
        else:
            start = dt.datetime.combine(first_day, clock, tzinfo=calendar.tz)
            until = dt.datetime.combine(last_day, clock, tzinfo=calendar.tz)
            if start <= ctx.now:
                start += dt.timedelta(days=1)
            rrule = rrulestr(rule, dtstart=start)
            found = rrule.after(start, inc=True)
            if found is None or found > until:
                continue
            start = found
        room = rooms.free_room(ctx, rooms.candidates(ctx, rules.place, len(attendees)), start,
                               start + length, out.meetings())
        meeting = _new_meeting(
            ctx, out, kind="series" if rule else "plan",
            title=f"{row.get('topic', '')}：{project.get('title', '')}",
            start=start, length=length, place=rules.place,
            room=room.name if room is not None else None, organizer=organizer,
            attendees=attendees, parent=project["id"],
            agenda=ctx.templates.render_text("agenda_series", project=project, row=row,
                                             attendees=attendees))
        if rule:
            meeting["rrule"] = rule
            meeting["until"] = isoformat(until)
            meeting["occurrences_done"] = []
            meeting["agenda_sent"] = []
            _place_occurrences(meeting, ctx)
        audit(meeting, ctx.now, "planned", reason="沟通计划", parent=project["id"],
              rule=rule)
        clashes = conflicts(meeting, ctx, out.meetings())
        if clashes:
            audit(meeting, ctx.now, "time conflicts", conflicts=clashes)
            if notes is not None:
                notes += clashes
        _send_invite(meeting, ctx, out, to=meeting["attendees"], purpose="meeting_invite")
        out.put(meeting)
        project.setdefault("meetings", []).append(meeting["id"])
        made.append(meeting)
    if made:
        audit(project, ctx.now, "communication plan scheduled",
              meetings=[m["id"] for m in made])
    return made


# -- as time passes ----------------------------------------------------------------------------

def next_moment(meeting: Meeting, ctx: Context) -> dt.datetime | None:
    """When a series next needs the tick: an agenda to send, an occurrence ended."""
    before = _clock(ctx, ctx.rules.meetings.series.agenda_before)
    length = dt.datetime.fromisoformat(meeting["end"]) - dt.datetime.fromisoformat(
        meeting["start"])
    done = set(meeting.get("occurrences_done", []))
    sent = set(meeting.get("agenda_sent", []))
    for original, actual in occurrences(meeting):
        key = isoformat(original)
        if key in done:
            continue
        return actual - before if key not in sent else actual + length
    return dt.datetime.fromisoformat(meeting.get("until") or meeting["end"])


def on_tick(stored: Meeting, ctx: Context, out: Outcome, working: bool) -> Meeting | None:
    """Agendas before occurrences, minutes after them, the series closed after its last.
    Returns the changed series (None: nothing to do now)."""
    before = _clock(ctx, ctx.rules.meetings.series.agenda_before)
    length = dt.datetime.fromisoformat(stored["end"]) - dt.datetime.fromisoformat(
        stored["start"])
    meeting: Meeting | None = None
    remaining = 0
    for original, actual in occurrences(stored):
        key = isoformat(original)
        if key in stored.get("occurrences_done", []):
            continue
        remaining += 1
        if actual - before > ctx.now:
            break
        if actual + length <= ctx.now:
            if not working:
                break  # (minutes are asked in working hours, like every reminder)
            meeting = meeting or changed(stored)
            _held(meeting, original, actual, length, ctx, out)
            remaining -= 1
            continue
        if key not in stored.get("agenda_sent", []):
            meeting = meeting or changed(stored)
            _agenda(meeting, original, actual, length, ctx, out)
    else:
        if remaining == 0:
            meeting = meeting or changed(stored)
            meeting["status"] = "closed"
            meeting["closed"] = isoformat(ctx.now)
            audit(meeting, ctx.now, "series ended")
    return meeting


def _project_state(project_id: str | None, ctx: Context) -> dict[str, list[Task]]:
    project = ctx.view.project(project_id) if project_id else None
    tasks: list[Task] = []
    for task_id in project.get("tasks", []) if project is not None else []:
        found = ctx.view.record(task_id)
        if found is not None and found["kind"] == "task":
            tasks.append(found)
    today = ctx.now.astimezone(ctx.rules.calendar.tz).date().isoformat()
    week = (ctx.now.astimezone(ctx.rules.calendar.tz).date()
            + dt.timedelta(days=7)).isoformat()
    open_ = [t for t in tasks if t.get("status") == "open"]
    return {
        "overdue": [t for t in open_ if (t.get("due_date") or "9999") < today],
        "risks": [t for t in open_ if t.get("risk")],
        "due_soon": [t for t in open_ if today <= (t.get("due_date") or "9999") <= week],
        "to_accept": [t for t in tasks if t.get("status") == "delivered"],
        "done": [t for t in tasks if t.get("status") == "done"],
    }


def _agenda(meeting: Meeting, original: dt.datetime, actual: dt.datetime,
            length: dt.timedelta, ctx: Context, out: Outcome) -> None:
    state: dict[str, Any] = dict(_project_state(meeting.get("parent"), ctx))
    project = ctx.view.project(meeting.get("parent") or "")
    out.send(ctx.draft(
        "series_agenda", to=meeting["attendees"], record=meeting["id"],
        purpose="series_agenda", meeting=meeting, project=project, start=actual,
        end=actual + length, **state))
    meeting.setdefault("agenda_sent", []).append(isoformat(original))
    audit(meeting, ctx.now, "occurrence agenda sent", occurrence=isoformat(actual))


def _held(series: Meeting, original: dt.datetime, actual: dt.datetime,
          length: dt.timedelta, ctx: Context, out: Outcome) -> None:
    """An occurrence ended: a meeting of its own, whose minutes are asked for."""
    from collabd.workflow.context import next_id

    occurrence_id, counter, number = next_id(ctx.view, "HY", ctx.now, out.meta)
    out.meta[counter] = number
    from collabd.workflow.outcome import new_record

    occurrence = new_record(
        "meeting", occurrence_id, ctx.now, meeting_kind="occurrence", status="held",
        title=f"{series.get('title', '')}（{actual.month}月{actual.day}日）",
        summary=series.get("summary", ""), uid=series["uid"],
        recurrence_id=isoformat(original), sequence=series.get("sequence", 0),
        start=isoformat(actual), end=isoformat(actual + length),
        location=series.get("location", ""), room=series.get("room"),
        organizer=series.get("organizer"),
        attendees=[a.copy() for a in series.get("attendees", [])], parent=series["id"],
        agenda=series.get("agenda", ""), minutes={"rounds": []})
    audit(occurrence, ctx.now, "held", start=occurrence["start"], series=series["id"])
    ask_for_minutes(occurrence, ctx, out)
    out.put(occurrence)
    series.setdefault("occurrences_done", []).append(isoformat(original))
    series.setdefault("occurrences", []).append(occurrence_id)
    audit(series, ctx.now, "occurrence held", occurrence=occurrence_id, start=isoformat(actual))


# -- the organizer changes one occurrence -------------------------------------------------------

def _occurrence_on(meeting: Meeting, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
    for original, actual in occurrences(meeting):
        if actual.date() == day or original.date() == day:
            return original, actual
    return None


def occurrence_command(meeting: Meeting, line: str, ctx: Context, out: Outcome, *,
                       by: str) -> bool:
    """`取消：1月8日` calls off one occurrence (`取消会议` alone, the whole series);
    `改期：1月8日 改到 1月11日 15:00` moves one. A series is not moved whole (its plan is
    changed instead). What cannot be done is recorded and the organizer told."""
    from collabd.inbound.values import date_spans, parse_date
    from collabd.outbound.compose import CalendarPart
    from collabd.outbound.invites import cancel_occurrence_ics
    from collabd.workflow.meetings.commands import _CANCEL, _TIME
    from collabd.workflow.meetings.create import cancel

    calendar = ctx.rules.calendar
    today = ctx.now.astimezone(calendar.tz).date()
    dates: list[dt.date] = []
    for span in date_spans(line):
        day, _ = parse_date(span.group(0), today)
        if day is not None:
            dates.append(day)
    cancelling = _CANCEL.match(line) is not None
    if cancelling and not dates:
        cancel(meeting, ctx, out, by=by, reason="系列会议取消")
        return True

    def refuse(reason: str) -> bool:
        audit(meeting, ctx.now, "command not understood", by=by, text=line, reason=reason)
        out.send(ctx.draft("command_refused", to=[meeting.get("organizer")],
                           record=meeting["id"], purpose="command_refused",
                           meeting=meeting, command=line, reason=reason))
        return True

    found = _occurrence_on(meeting, dates[0]) if dates else None
    if found is None:
        return refuse("没有找到这一场：请写明要调整的那一场的日期，如“取消：1月8日”或"
                      "“改期：1月8日 改到 1月11日 15:00”（整个系列请在项目计划中修改）")
    original, actual = found
    key = isoformat(original)
    if actual <= ctx.now:
        return refuse(f"{actual.month}月{actual.day}日这一场已经过去")
    if cancelling:
        meeting.setdefault("exdates", []).append(key)
        meeting.get("moved", {}).pop(key, None)
        meeting["sequence"] = int(meeting.get("sequence", 0)) + 1  # (RFC 5546 §2.1.4)
        ics = cancel_occurrence_ics(
            meeting, original, actual, organizer=(ctx.identity.address,
                                                  ctx.identity.display_name),
            stamp=ctx.now, tz=calendar.tz)
        out.send(ctx.draft(
            "meeting_cancel", to=meeting["attendees"], record=meeting["id"],
            purpose="meeting_cancel", calendar=CalendarPart(ics, "CANCEL"), meeting=meeting,
            start=actual, reason=f"{actual.month}月{actual.day}日这一场取消"))
        audit(meeting, ctx.now, "occurrence cancelled", by=by, occurrence=isoformat(actual))
        return True
    hour = _TIME.search(line.split("改到", 1)[-1]) if len(dates) > 1 else None
    if len(dates) < 2 or hour is None:
        return refuse("改期需要写明哪一场和改到何时，如“改期：1月8日 改到 1月11日 15:00”")
    new_start = dt.datetime(dates[1].year, dates[1].month, dates[1].day,
                            int(hour.group(1)), int(hour.group(2) or 0), tzinfo=calendar.tz)
    meeting.setdefault("moved", {})[key] = isoformat(new_start)
    meeting["sequence"] = int(meeting.get("sequence", 0)) + 1
    audit(meeting, ctx.now, "occurrence moved", by=by, occurrence=isoformat(actual),
          to=isoformat(new_start))
    _send_invite(meeting, ctx, out, to=meeting["attendees"], purpose="meeting_update")
    return True


def end_series(meeting: Meeting, ctx: Context, out: Outcome, *, reason: str) -> None:
    """A series some of whose occurrences were held ends now: its RRULE's UNTIL is
    brought forward (a CANCEL of the UID would take its past out of people's calendars
    too), and what was still ahead is gone."""
    until = ctx.now
    meeting["until"] = isoformat(until)
    meeting["moved"] = {k: v for k, v in meeting.get("moved", {}).items()
                        if dt.datetime.fromisoformat(k) <= until}
    meeting["exdates"] = [k for k in meeting.get("exdates", [])
                          if dt.datetime.fromisoformat(k) <= until]
    meeting["sequence"] = int(meeting.get("sequence", 0)) + 1
    meeting["status"] = "closed"
    meeting["closed"] = isoformat(ctx.now)
    audit(meeting, ctx.now, "series ended", reason=reason)
    _send_invite(meeting, ctx, out, to=meeting["attendees"], purpose="meeting_update")
