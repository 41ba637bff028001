"""The one small interface every mailbox backend implements (local, IMAP, EWS, Graph).

A backend does I/O only: it fetches raw messages after a resumable cursor, acknowledges
them once they are journaled, sends raw messages, and may offer a native calendar. It
knows nothing of requests, rules or records.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple, Protocol

from collabd.errors import CollabdError


class MailboxUnavailable(CollabdError):
    """The server cannot be reached or refused us; the daemon retries with backoff."""


class RetryPause:
    """A backend's pause after a failure: no new try for 1 s, 2 s, 4 s, ... up to
    `longest` (or longer, where the server asked for it); meanwhile a try is refused at
    once with the last error, so that a server in trouble, or one refusing a login, is
    not asked again and again."""

    def __init__(self, longest: float = 300.0) -> None:
        self.longest = longest
        self.failures = 0
        self.until = 0.0  # time.monotonic() before which nothing is tried
        self.error = ""

    def failed(self, exc: BaseException, *, at_least: float | None = None) -> None:
        self.failures += 1
        wait = min(2.0 ** (self.failures - 1), self.longest)
        self.until = time.monotonic() + max(wait, at_least or 0.0)
        self.error = str(exc)

    def check(self) -> None:
        """Raises MailboxUnavailable while the pause lasts."""
        if time.monotonic() < self.until:
            raise MailboxUnavailable(self.error)

    def worked(self) -> None:
        """A whole cycle worked: the next failure starts at 1 s again."""
        self.failures = 0

    def remaining(self) -> float:
        return max(0.0, self.until - time.monotonic())


class SendError(Exception):
    """Sending one message failed. `permanent` failures are not retried. `unreachable`
    means the server, not the message, is the trouble (refused or dropped connection,
    failed login, 421): the outbox pauses all sending and counts no attempt against the
    message."""

    def __init__(self, message: str, *, permanent: bool = False,
                 unreachable: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.unreachable = unreachable


# Put by a backend in front of the headers of a message it did not download because of
# its size ("<size> <limit>" in bytes); the classifier turns it into an "oversize" event.
OVERSIZE_HEADER = "X-Collabd-Oversize"
# Put by a backend with a native calendar in front of a meeting message it found in the
# mailbox (an attendee's answer as Exchange stores it): recorded, never answered; the
# answer itself is read from the calendar.
MEETING_ITEM_HEADER = "X-Collabd-Exchange-Item"


@dataclass(frozen=True)
class Fetched:
    ref: str  # the backend's handle to acknowledge this message (file name, UID, item id)
    raw: bytes


@dataclass(frozen=True)
class FetchBatch:
    messages: list[Fetched]
    # Opaque position after this batch; stored in state once the batch is journaled, and
    # handed back to `fetch` after a restart. None where the backend needs no cursor.
    cursor: str | None = None
    more: bool = False  # another fetch right away would return more


@dataclass(frozen=True)
class SendReceipt:
    # The Message-ID the server gave the message where it rewrites it (Exchange does);
    # None when the message went out with the Message-ID we set.
    server_message_id: str | None = None


@dataclass(frozen=True)
class Attendee:
    address: str
    name: str = ""
    required: bool = True


@dataclass(frozen=True)
class NativeMeeting:
    """A meeting as a native calendar stores it (EWS CalendarItem, Graph event)."""

    uid: str  # the iCalendar UID the workflow gave it: the key in both worlds
    subject: str
    start: dt.datetime
    end: dt.datetime
    location: str
    body_html: str
    attendees: Sequence[Attendee] = field(default_factory=tuple)
    sequence: int = 0  # the iCalendar SEQUENCE of the invite this was read from
    # A series: its RRULE (as iCalendar writes it), the occurrences skipped (EXDATE) and
    # moved (RECURRENCE-ID → new start, new end). One occurrence of a series: its
    # RECURRENCE-ID. A calendar that cannot keep these is not handed them (`accepts`).
    rrule: str | None = None
    exdates: Sequence[dt.datetime] = field(default_factory=tuple)
    moved: Sequence[tuple[dt.datetime, dt.datetime, dt.datetime]] = field(default_factory=tuple)
    recurrence_id: dt.datetime | None = None


class NativeAnswer(NamedTuple):
    partstat: str  # ACCEPTED, DECLINED, TENTATIVE
    at: dt.datetime | None  # when the attendee answered, where the server says


class NativeCalendar(Protocol):
    """Optional capability: meetings kept in the server's own calendar.

    Where a backend has it, the outbox sends the workflow's iMIP invites and
    cancellations through it instead (the server sends the invitations), answers are
    read back from it, and free/busy helps pick meeting times; the workflow does not
    know the difference. Failures raise SendError (unreachable or not, like sending).
    """

    # How often the daemon reads the attendees' answers; sooner when `answers_changed`
    # (a meeting message came in).
    poll_seconds: float
    answers_changed: bool

    def save_meeting(self, meeting: NativeMeeting, *, notify: Sequence[str]) -> str:
        """Create the meeting, or update the one with its UID; `notify` are the people
        this invite was written to. Returns the server's id for it."""
        ...

    def cancel_meeting(self, uid: str, *, reason: str,
                       occurrence: dt.datetime | None = None,
                       now_at: dt.datetime | None = None) -> None:
        """Cancel the meeting, or only its occurrence at `occurrence` (RECURRENCE-ID;
        `now_at`: where it is now, if it was moved). LookupError: not in the calendar
        (the outbox then sends the iMIP)."""
        ...

    def accepts(self, meeting: NativeMeeting) -> bool:
        """Can it keep this meeting as it is (a series, one of its occurrences)? If not,
        the invite goes out as iMIP mail."""
        ...

    def responses(self, uids: Sequence[str]) -> dict[str, dict[str, NativeAnswer]]:
        """UID → attendee address → their answer, for those who answered.
        Raises MailboxUnavailable."""
        ...

    def busy(self, addresses: Sequence[str], start: dt.datetime,
             end: dt.datetime) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
        """Each address's busy intervals in [start, end). Raises MailboxUnavailable."""
        ...


class Mailbox(ABC):
    kind: ClassVar[str]
    calendar: NativeCalendar | None = None

    @abstractmethod
    def start(self) -> None:
        """Connect (or start listening). Raises MailboxUnavailable."""

    @abstractmethod
    def stop(self) -> None:
        """Disconnect; safe to call twice."""

    @abstractmethod
    def fetch(self, cursor: str | None, limit: int = 100) -> FetchBatch:
        """Raw messages not yet acknowledged, after `cursor`, oldest first."""

    @abstractmethod
    def ack(self, refs: Sequence[str]) -> None:
        """The messages are journaled: take them out of the way of the next fetch."""

    @abstractmethod
    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SendReceipt:
        """Send one message exactly as given. Raises SendError."""

    def flush(self) -> None:
        """Make durable what `send` left to be made durable with the next ones (a
        backend that files sent mail itself shares one directory fsync per batch).
        Called before the batch is recorded as sent. Others send durably: nothing."""
        return None

    def wait(self, poll: float, until_next: float, stop: threading.Event) -> None:
        """Block until new mail may have come, or the daemon has other work due in
        `until_next` seconds, or `stop` is set. Polling backends sleep at most `poll`
        seconds; a backend told of new mail (IMAP IDLE) waits up to `until_next`."""
        stop.wait(min(poll, until_next))

    def check(self) -> list[tuple[bool, str]]:
        """What `collabd check` reports about the servers: (fine?, one line) each."""
        return []

    def describe(self) -> str:
        return self.kind
