"""Raw bytes → the headers every later step needs, read once."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser

_MSGID = re.compile(r"<[^<>\s]+>")

_PARSER = BytesParser(policy=email.policy.default)


def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a Message-ID / In-Reply-To / References header, in order."""
    if not value:
        return []
    return _MSGID.findall(str(value))


def header_text(msg: EmailMessage, name: str) -> str:
    """A header as text; a malformed header never raises (it becomes its raw form)."""
    try:
        value = msg.get(name)
    except (ValueError, IndexError, AttributeError):
        raw = msg.get_all(name, failobj=[])
        return str(raw[0]) if raw else ""
    return "" if value is None else str(value)


@dataclass
class InboundMessage:
    raw: bytes
    msg: EmailMessage
    message_id: str  # the header's value, or a digest of the bytes when there is none
    has_message_id: bool
    sender: str  # bare address, lower-case
    sender_name: str
    subject: str
    date: dt.datetime | None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The identity used to recognise the same message delivered twice."""
        return self.message_id


def read_message(raw: bytes) -> InboundMessage:
    msg = _PARSER.parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    ids = message_ids(header_text(msg, "Message-ID"))
    has_id = bool(ids)
    message_id = ids[0] if ids else f"<sha256-{hashlib.sha256(raw).hexdigest()}@collabd>"
    name, address = email.utils.parseaddr(header_text(msg, "From"))
    date: dt.datetime | None = None
    date_text = header_text(msg, "Date")
    if date_text:
        try:
            date = email.utils.parsedate_to_datetime(date_text)
        except (TypeError, ValueError):
            date = None
        if date is not None and date.tzinfo is None:
            date = None  # "-0000": the sender's offset is unknown; not a moment we can use
    return InboundMessage(
        raw=raw,
        msg=msg,
        message_id=message_id,
        has_message_id=has_id,
        sender=address.strip().lower(),
        sender_name=name.strip(),
        subject=" ".join(header_text(msg, "Subject").split()),
        date=date,
        in_reply_to=message_ids(header_text(msg, "In-Reply-To")),
        references=message_ids(header_text(msg, "References")),
    )
