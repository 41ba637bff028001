"""What every workflow step is given: the rules, the templates, the clock's now, the state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from collabd.clock import isoformat
from collabd.model import Meeting, PersonRef
from collabd.outbound.compose import Attachment, CalendarPart, Draft
from collabd.outbound.compose import Person as Recipient
from collabd.outbound.templates import Templates
from collabd.policy.org import Person
from collabd.policy.rules import Rules
from collabd.store.view import StateView
from collabd.web.links import BoardLinks

PersonDict = PersonRef
# How far ahead a room's bookings on the mail server are asked for.
BOOKING_WINDOW = dt.timedelta(days=90)
Interval = tuple[dt.datetime, dt.datetime]


def merge_intervals(spans: Iterable[Interval]) -> list[Interval]:
    """Sorted intervals with overlapping and touching ones merged (`spans` sorted)."""
    merged: list[Interval] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class Identity:
    """Who the daemon is: the shared mailbox it reads and writes as, and where its board
    (进度看板) is, when it has one: what mints the personal links mailed on `看板`."""

    address: str
    display_name: str
    board: BoardLinks | None = None


# Addresses and a time window → when any of them is busy there, from the mail server's
# calendar (Exchange free/busy); [] when it does not know.
BusyLookup = Callable[[Sequence[str], dt.datetime, dt.datetime],
                      list[tuple[dt.datetime, dt.datetime]]]


@dataclass
class Context:
    rules: Rules
    templates: Templates
    identity: Identity
    view: StateView
    now: dt.datetime
    busy: BusyLookup | None = None
    # Who is in which of our scheduled meetings, built once per pass (planning many
    # meetings in one tick must not rescan every meeting for each of them).
    _attending: dict[str, list[tuple[dt.datetime, dt.datetime]]] | None = field(
        default=None, repr=False)
    _together: dict[frozenset[str], list[tuple[dt.datetime, dt.datetime]]] = field(
        default_factory=dict, repr=False)
    _rooms: dict[str, list[tuple[dt.datetime, dt.datetime, str]]] | None = field(
        default=None, repr=False)
    _server_busy: dict[str, list[tuple[dt.datetime, dt.datetime]]] = field(
        default_factory=dict, repr=False)
    # (people, earliest, length) → the slot found and the pending meetings it saw
    # (workflow/meetings/slots.py), for this pass.
    slot_memo: dict[tuple[frozenset[str], dt.datetime, dt.timedelta],
                    tuple[dt.datetime, frozenset[str]]] = field(default_factory=dict,
                                                                repr=False)

    def attending(self) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
        """address → (start, end) of the scheduled meetings it attends, as stored."""
        if self._attending is None:
            index: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
            for meeting in self.view.records("meeting"):
                if meeting.get("status") != "scheduled":
                    continue
                spans = self.spans(meeting)
                for address in {a["address"] for a in meeting.get("attendees", [])}:
                    index.setdefault(address, []).extend(spans)
            self._attending = index
        return self._attending

    def busy_together(self, people: frozenset[str]) -> list[tuple[dt.datetime, dt.datetime]]:
        """When any of `people` is in one of our scheduled meetings, as sorted disjoint
        intervals (overlapping and touching ones merged); built once per pass for each
        set of people (a tick plans many meetings for the same few heads)."""
        found = self._together.get(people)
        if found is None:
            attending = self.attending()
            found = merge_intervals(sorted(  # (a meeting ending before it starts: none)
                span for person in people for span in attending.get(person, ())
                if span[1] >= span[0]))
            self._together[people] = found
        return found

    def room_bookings(self, room_of: Callable[[Meeting], str | None]
                      ) -> dict[str, list[tuple[dt.datetime, dt.datetime, str]]]:
        """room → (start, end, meeting id) of our scheduled meetings holding it that end
        after now, sorted; built once per pass (workflow/rooms.py)."""
        if self._rooms is None:
            index: dict[str, list[tuple[dt.datetime, dt.datetime, str]]] = {}
            for meeting in self.view.records("meeting"):
                room = room_of(meeting) if meeting.get("status") == "scheduled" else None
                if room is None:
                    continue
                for start, end in self.spans(meeting):
                    if end > self.now:
                        index.setdefault(room, []).append((start, end, meeting["id"]))
            for bookings in index.values():
                bookings.sort()
            self._rooms = index
        return self._rooms

    def spans(self, meeting: Meeting) -> list[Interval]:
        """When a meeting is held: its time, or each occurrence of a series in the coming
        weeks (a series holds its room and its people every time)."""
        start = dt.datetime.fromisoformat(meeting["start"])
        end = dt.datetime.fromisoformat(meeting["end"])
        if meeting.get("meeting_kind") != "series":
            return [(start, end)]
        from collabd.workflow.meetings.series import occurrences

        length, horizon = end - start, self.now + BOOKING_WINDOW
        found = []
        for _, actual in occurrences(meeting):
            if actual > horizon:
                break
            found.append((actual, actual + length))
        return found

    def server_busy(self, address: str) -> list[tuple[dt.datetime, dt.datetime]]:
        """When the mail server's calendar has `address` (a room mailbox) busy in the
        coming weeks; asked once per pass."""
        found = self._server_busy.get(address)
        if found is None:
            found = self.busy([address], self.now, self.now + BOOKING_WINDOW) if (
                self.busy is not None) else []
            self._server_busy[address] = found
        return found

    @property
    def stamp(self) -> str:
        return isoformat(self.now)

    # -- people ------------------------------------------------------------------------

    @staticmethod
    def person(p: Person | None) -> PersonDict | None:
        if p is None:
            return None
        return {"name": p.name, "address": p.address, "dept": p.department}

    def person_by_address(self, address: str) -> PersonDict:
        known = self.rules.directory.by_address(address)
        return self.person(known) or {"name": address, "address": address, "dept": None}

    # -- messages ----------------------------------------------------------------------

    def draft(self, template: str, *, to: Sequence[PersonDict | None],
              cc: Sequence[PersonDict | None] = (),
              record: str | None, purpose: str, asks: str | None = None,
              in_reply_to: str | None = None, references: Sequence[str] = (),
              attachments: Sequence[Attachment] = (), meta: dict[str, Any] | None = None,
              calendar: CalendarPart | None = None, **context: Any) -> Draft:
        """Render `template` into a draft addressed to `to` (and `cc`), deduplicated."""
        to_list = _unique(to)
        to_addresses = {p["address"] for p in to_list}
        cc_list = [p for p in _unique(cc) if p["address"] not in to_addresses
                   and p["address"] != self.identity.address]
        if asks is not None and (cc_list or [p["address"] for p in to_list] != [asks]):
            # Whoever else could read an ask could answer it in the asked one's name.
            raise ValueError(f"a message asking {asks} to sign must go to them alone, "
                             f"not to {sorted(to_addresses)} cc {[p['address'] for p in cc_list]}")
        rendered = self.templates.render(
            template, now=self.now, mailbox=self.identity.address,
            secretary_name=self.identity.display_name, **context)
        return Draft(
            to=[Recipient(p["address"], p.get("name") or "") for p in to_list],
            cc=[Recipient(p["address"], p.get("name") or "") for p in cc_list],
            subject=rendered.subject, text=rendered.text, html=rendered.html,
            record=record, purpose=purpose, asks=asks, in_reply_to=in_reply_to,
            references=tuple(references), attachments=tuple(attachments),
            calendar=calendar, meta=dict(meta or {}),
        )


def _unique(people: Iterable[PersonDict | None]) -> list[PersonDict]:
    seen: dict[str, PersonDict] = {}
    for p in people:
        if p and p.get("address"):
            seen.setdefault(p["address"].lower(), p)
    return list(seen.values())


def next_id(view: StateView, prefix: str, now: dt.datetime,
            pending: dict[str, Any]) -> tuple[str, str, int]:
    """The next free `<prefix>-<year>-NNNN` (after the mailbox's own prefix, if it has
    one: `view.id_prefix`); returns (id, counter key, counter value)."""
    year = now.year
    if view.id_prefix:
        prefix = f"{view.id_prefix}-{prefix}"
    counter_key = f"seq:{prefix}:{year}"
    current = int(pending.get(counter_key, view.meta(counter_key, 0)))
    number = current + 1
    # An id given by hand in a form may have taken this one. (The working set is
    # enough: hand-given ids are recent, and reading the archive here would put a
    # file read on every intake.)
    while view.store.get("records", f"{prefix}-{year}-{number:04d}") is not None:
        number += 1
    return f"{prefix}-{year}-{number:04d}", counter_key, number
