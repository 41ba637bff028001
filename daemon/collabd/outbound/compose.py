"""Drafts → raw RFC 5322 bytes: 7-bit clean, threaded, marked as automatic mail."""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import re
import urllib.parse
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# The loop header: mail carrying it with our address came from us and is never answered.
LOOP_HEADER = "X-Collabd-Loop"

# The output is 7-bit: CRLF line ends, base64 bodies, RFC 2047 encoded words for every
# non-ASCII header. It survives any relay and is stored as text in the outbox.


@dataclass(frozen=True)
class Person:
    address: str
    name: str = ""

    def display(self) -> str:
        """For people to read (reports, logs): 名字 <addr>."""
        return f"{self.name} <{self.address}>" if self.name else self.address

    def formatted(self) -> str:
        name, address = clean_header(self.name), clean_header(self.address)
        if name.isascii():
            return email.utils.formataddr((name, address))
        return f"{encoded_words(name)} <{address}>"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


# What is passed on of what someone attached (a deliverable to its acceptor): the files
# up to this many bytes in all; the rest stay in the sender's mail.
MAX_FORWARDED_BYTES = 10 * 1024 * 1024


def forwarded(parts: Iterable[Any]) -> list[Attachment]:
    """Received attachments (filename, data, content_type) to send on, within
    MAX_FORWARDED_BYTES in all."""
    found: list[Attachment] = []
    size = 0
    for part in parts:
        size += len(part.data)
        if size <= MAX_FORWARDED_BYTES:
            found.append(Attachment(part.filename, part.data, part.content_type))
    return found


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
    meta: dict[str, Any] = field(default_factory=dict)  # kept in the message index

    def recipients(self) -> list[str]:
        seen: dict[str, None] = {}
        for person in (*self.to, *self.cc):
            seen.setdefault(person.address, None)
        return list(seen)


_CONTROLS = re.compile(r"[\x00-\x1f\x7f]+")


def clean_header(value: str) -> str:
    """Header values never carry CR/LF (header injection); other controls become spaces."""
    return " ".join(_CONTROLS.sub(" ", value).split())


def encoded_words(text: str) -> str:
    """RFC 2047 base64 encoded words, each at most 75 characters, split between
    characters (never inside one), separated by spaces."""
    words = []
    chunk: list[str] = []
    size = 0
    for ch in text:
        width = len(ch.encode("utf-8"))
        if size + width > 45:  # 45 bytes → 60 base64 characters + 12 of framing
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(ch)
        size += width
    if chunk:
        words.append("".join(chunk))
    return " ".join(
        f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words)


def new_message_id(domain: str) -> str:
    return f"<{uuid.uuid4().hex}@{domain}>"


def compose(draft: Draft, *, sender: Person, message_id: str, now: dt.datetime) -> bytes:
    """Build the message bytes exactly as they will be sent (and stored, and re-sent).

    The shapes are fixed (text + HTML [+ calendar] alternatives, optionally inside a
    multipart/mixed with attachments), so the MIME is written directly: the stdlib
    generators cost ten times as much, and two messages go out per request on the
    intake path. Headers use the stdlib's RFC 2047 encoder; every body is base64.
    """
    headers: list[tuple[str, str]] = [
        ("Message-ID", clean_header(message_id)),
        ("Date", email.utils.format_datetime(now)),
        ("From", sender.formatted()),
        ("To", ", ".join(p.formatted() for p in draft.to)),
    ]
    if draft.cc:
        headers.append(("Cc", ", ".join(p.formatted() for p in draft.cc)))
    headers.append(("Subject", _encode_subject(draft.subject)))
    if draft.in_reply_to:
        headers.append(("In-Reply-To", clean_header(draft.in_reply_to)))
    refs = [clean_header(r) for r in draft.references if r]
    if draft.in_reply_to and clean_header(draft.in_reply_to) not in refs:
        refs.append(clean_header(draft.in_reply_to))
    if refs:
        headers.append(("References", " ".join(refs)))
    # RFC 3834: automatic mail, never to be auto-answered; Exchange honours the
    # suppression header (no out-of-office, no read receipts back to the daemon).
    headers += [("Auto-Submitted", "auto-generated"), ("X-Auto-Response-Suppress", "All"),
                (LOOP_HEADER, sender.address)]
    if draft.record:
        headers.append(("X-Collabd-Record", clean_header(draft.record)))
    headers.append(("MIME-Version", "1.0"))

    alternatives = [_leaf("text/plain; charset=\"utf-8\"", draft.text.encode("utf-8"))]
    if draft.html is not None:
        alternatives.append(_leaf("text/html; charset=\"utf-8\"", draft.html.encode("utf-8")))
    if draft.calendar is not None:
        method = clean_header(draft.calendar.method)
        alternatives.append(_leaf(f"text/calendar; charset=\"utf-8\"; method={method}",
                                  draft.calendar.ics))
    body = _multipart("alternative", alternatives)
    files = list(draft.attachments)
    if draft.calendar is not None:
        files.append(Attachment("invite.ics", draft.calendar.ics, "application/ics"))
    if files:
        parts = [body] + [_leaf(_mime_type(a.mime_type), a.content, filename=a.filename)
                          for a in files]
        body = _multipart("mixed", parts)
    out = [_fold(name, value) for name, value in headers]
    return ("".join(out)).encode("ascii") + body


_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}")


def _mime_type(value: str) -> str:
    """An attachment's type as it came in, if it is a well-formed one."""
    value = value.strip().lower()
    return value if _MIME_TYPE.fullmatch(value) else "application/octet-stream"


def _fold(name: str, value: str) -> str:
    """One header field, folded at spaces to stay within 78 characters a line."""
    line = f"{name}: "
    lines: list[str] = []
    for word in value.split(" "):
        if len(line) + len(word) > 78 and line.strip() and not line.endswith(": "):
            lines.append(line.rstrip(" "))
            line = " "
        line += word + " "
    lines.append(line.rstrip(" "))
    return "\r\n".join(lines) + "\r\n"


def _base64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _leaf(content_type: str, data: bytes, *, filename: str | None = None) -> bytes:
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: base64\r\n"
    if filename is not None:
        name = clean_header(filename)
        if name.isascii() and '"' not in name and "\\" not in name:
            disposition = f'attachment; filename="{name}"'
        else:  # RFC 2231 for names that are not plain ASCII (Chinese file names)
            disposition = f"attachment; filename*=utf-8''{urllib.parse.quote(name, safe='')}"
        head += _fold("Content-Disposition", disposition)
    return head.encode("ascii") + b"\r\n" + _base64(data)


def _multipart(subtype: str, parts: Sequence[bytes]) -> bytes:
    boundary = f"=_collabd_{uuid.uuid4().hex}"
    head = f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n\r\n'
    delimiter = f"--{boundary}\r\n".encode("ascii")
    chunks = [head.encode("ascii")]
    for part in parts:
        chunks += [delimiter, part, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode("ascii"))
    return b"".join(chunks)


def _encode_subject(text: str) -> str:
    """The subject, with a leading ASCII tag ([XQ-2026-0001]) left readable on the wire
    (for server-side filters and `grep`) and the rest as RFC 2047 encoded words."""
    text = clean_header(text)
    if text.isascii():
        return text
    head = ""
    for ch in text:
        if not ch.isascii():
            break
        head += ch
    head = head[: head.rindex(" ") + 1] if " " in head else ""
    return head + encoded_words(text[len(head):])
