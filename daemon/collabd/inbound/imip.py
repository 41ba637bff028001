"""Calendar replies (iTIP REPLY / COUNTER over iMIP) from Outlook, Google, Apple, Thunderbird.

Only the calendar part is believed for what someone answered; the subject (已接受:,
Accepted:, 暂定:, 拒绝:) is a client's rendering of it. Outlook adds X-MICROSOFT-CDO-*
properties, Google a COMMENT, Thunderbird DELEGATED-TO; all are read, none required.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import icalendar

PARTSTATS = {"ACCEPTED", "DECLINED", "TENTATIVE", "DELEGATED", "NEEDS-ACTION"}


@dataclass
class Answer:
    address: str
    partstat: str
    name: str = ""
    delegated_to: list[str] = field(default_factory=list)
    delegated_from: list[str] = field(default_factory=list)


@dataclass
class CalendarReply:
    method: str
    uid: str
    sequence: int
    answers: list[Answer]
    comment: str | None = None
    proposed_start: dt.datetime | None = None  # COUNTER: the time proposed
    proposed_end: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        first = self.answers[0] if self.answers else None
        out: dict[str, Any] = {
            "method": self.method,
            "uid": self.uid,
            "sequence": self.sequence,
            "attendee": first.address if first else None,
            "partstat": first.partstat if first else None,
        }
        if first and first.delegated_to:
            out["delegated_to"] = first.delegated_to
        if self.comment:
            out["comment"] = self.comment
        if self.proposed_start is not None:
            out["proposed_start"] = self.proposed_start.isoformat()
            out["proposed_end"] = (self.proposed_end.isoformat()
                                   if self.proposed_end is not None else None)
        return out


def _mailto(value: Any) -> str:
    text = str(value).strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return text.strip().lower()


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _param_addresses(value: Any) -> list[str]:
    if not value:
        return []
    parts = value if isinstance(value, list) else str(value).split(",")
    return [_mailto(p.strip().strip('"')) for p in parts if str(p).strip()]


def _moment(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    moment = value.dt if hasattr(value, "dt") else value
    if isinstance(moment, dt.datetime):
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return None


class UnreadableCalendar(Exception):
    """A text/calendar part icalendar cannot make sense of."""


def parse(data: bytes) -> CalendarReply | None:
    """The reply in one text/calendar part, or None when it is not a REPLY/COUNTER.
    Raises UnreadableCalendar for a part that cannot be read at all."""
    try:
        return _parse(data)
    except RecursionError as exc:
        raise UnreadableCalendar("nested too deep") from exc
    except Exception as exc:  # icalendar raises all sorts on broken input
        raise UnreadableCalendar(f"{type(exc).__name__}: {exc}"[:200]) from exc


def _parse(data: bytes) -> CalendarReply | None:
    calendar = icalendar.Calendar.from_ical(data[:1_000_000])
    method = str(calendar.get("method", "")).strip().upper()
    if method not in ("REPLY", "COUNTER"):
        return None
    for event in calendar.walk("VEVENT"):
        uid = str(event.get("uid", "")).strip()
        if not uid:
            continue
        try:
            sequence = int(event.get("sequence", 0))
        except (TypeError, ValueError):
            sequence = 0
        answers = []
        for value in _list(event.get("attendee")):
            params = getattr(value, "params", {})
            partstat = str(params.get("PARTSTAT", "NEEDS-ACTION")).upper()
            answers.append(Answer(
                address=_mailto(value),
                partstat=partstat if partstat in PARTSTATS else "NEEDS-ACTION",
                name=str(params.get("CN", "")),
                delegated_to=_param_addresses(params.get("DELEGATED-TO")),
                delegated_from=_param_addresses(params.get("DELEGATED-FROM")),
            ))
        comment = event.get("comment")
        reply = CalendarReply(method, uid, sequence, answers,
                              comment=str(comment).strip() if comment else None)
        if method == "COUNTER":
            reply.proposed_start = _moment(event.get("dtstart"))
            reply.proposed_end = _moment(event.get("dtend"))
        return reply
    return None


def find(calendars: list[bytes]) -> CalendarReply | None:
    """The first calendar reply among the parts; UnreadableCalendar when no part could
    be read and at least one could not."""
    broken: UnreadableCalendar | None = None
    for data in calendars:
        try:
            reply = parse(data)
        except UnreadableCalendar as exc:
            broken = exc
            continue
        if reply is not None:
            return reply
    if broken is not None:
        raise broken
    return None
