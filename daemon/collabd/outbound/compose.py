"""Drafts → raw RFC 5322 bytes: 7-bit clean, threaded, marked as automatic mail."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage

# The loop header: mail carrying it with our address came from us and is never answered.
LOOP_HEADER = "X-Collabd-Loop"

# SMTP policy: CRLF line ends, RFC 2047 encoded words for non-ASCII headers, lines
# folded at 78; with cte_type 7bit every body is base64 or quoted-printable, so the
# bytes survive any relay and can be stored as text in the outbox.
_POLICY = email.policy.SMTP.clone(cte_type="7bit", max_line_length=78)


@dataclass(frozen=True)
class Person:
    address: str
    name: str = ""

    def formatted(self) -> str:
        return email.utils.formataddr((clean_header(self.name), self.address))


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


@dataclass(frozen=True)
class CalendarPart:
    """A text/calendar alternative (iMIP, RFC 6047) and its .ics attachment."""

    ics: bytes
    method: str  # REQUEST, CANCEL, ...


@dataclass(frozen=True)
class Draft:
    """An outgoing message as the workflow wants it, before it has an identity."""

    to: Sequence[Person]
    subject: str
    text: str
    html: str | None = None
    cc: Sequence[Person] = ()
    record: str | None = None
    purpose: str = "notice"
    # The one person this message asks for something (a sign-off, progress): its
    # Message-ID then identifies both the record and the person (see threading).
    asks: str | None = None
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    attachments: Sequence[Attachment] = ()
    calendar: CalendarPart | None = None
    meta: dict[str, str] = field(default_factory=dict)

    def recipients(self) -> list[str]:
        seen: dict[str, None] = {}
        for person in (*self.to, *self.cc):
            seen.setdefault(person.address, None)
        return list(seen)


def clean_header(value: str) -> str:
    """Header values never carry CR/LF (header injection); other controls become spaces."""
    return " ".join("".join(c if c >= " " or c == "\t" else " " for c in value).split())


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def compose(draft: Draft, *, sender: Person, message_id: str, now: dt.datetime) -> bytes:
    """Build the message bytes exactly as they will be sent (and stored, and re-sent)."""
    msg = EmailMessage(policy=_POLICY)
    msg["Message-ID"] = message_id
    msg["Date"] = email.utils.format_datetime(now)
    msg["From"] = Address(clean_header(sender.name), addr_spec=sender.address)
    msg["To"] = [_address(p) for p in draft.to]
    if draft.cc:
        msg["Cc"] = [_address(p) for p in draft.cc]
    msg["Subject"] = clean_header(draft.subject)
    if draft.in_reply_to:
        msg["In-Reply-To"] = clean_header(draft.in_reply_to)
    refs = [clean_header(r) for r in draft.references if r]
    if draft.in_reply_to and draft.in_reply_to not in refs:
        refs.append(clean_header(draft.in_reply_to))
    if refs:
        msg["References"] = " ".join(refs)
    # RFC 3834: automatic mail, never to be auto-answered; Exchange honours the
    # suppression header (no out-of-office, no read receipts back to the daemon).
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg[LOOP_HEADER] = sender.address
    if draft.record:
        msg["X-Collabd-Record"] = clean_header(draft.record)

    msg.set_content(draft.text, charset="utf-8")
    if draft.html is not None:
        msg.add_alternative(draft.html, subtype="html", charset="utf-8")
    if draft.calendar is not None:
        cal = draft.calendar
        msg.add_alternative(cal.ics, maintype="text", subtype="calendar",
                            params={"method": cal.method, "charset": "UTF-8"})
    for att in draft.attachments:
        maintype, _, subtype = att.mime_type.partition("/")
        msg.add_attachment(att.content, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=att.filename)
    if draft.calendar is not None:
        msg.add_attachment(draft.calendar.ics, maintype="application", subtype="ics",
                           filename="invite.ics")
    return msg.as_bytes(policy=_POLICY)


def _address(person: Person) -> Address:
    return Address(clean_header(person.name), addr_spec=person.address)
