"""Raw bytes → the message every later step reads: headers decoded once, body on demand."""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from email import errors as email_errors
from email.message import Message
from email.parser import BytesParser

from collabd.inbound.decode import Body, decode_header_value, extract_body, raw_header

# A Message-ID is printable ASCII (RFC 5322); one with 8-bit or control bytes is not
# kept (it could not be written back into In-Reply-To), and the message is known by a
# digest of its bytes instead.
_MSGID = re.compile(r"<[!-;=?-~]{1,250}>")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")  # a field name: printable, no colon, no space

# compat32: headers stay as they came (encoded words and raw bytes intact), which is
# what the decoding here needs, and it parses several times faster than the default
# policy, which would decode every header with its declared (often wrong) charset.
_PARSER = BytesParser(policy=email.policy.compat32)


# The key of a message without a usable Message-ID (never written into a header).
SYNTHETIC_PREFIX = "sha256-"


def synthetic(key: str) -> bool:
    """Is `key` one collabd made up (the message had no Message-ID it could use)?"""
    return key.startswith("<" + SYNTHETIC_PREFIX) and key.endswith("@collabd>")

def message_ids(value: str | None) -> list[str]:
    """Message-IDs in a Message-ID / In-Reply-To / References header, in order."""
    if not value:
        return []
    return _MSGID.findall(str(value))


def _repair_headers(raw: bytes) -> bytes | None:
    """Drop lines in the header block that are not headers (some senders write them).

    Without this, the first such line ends the headers for the parser and everything
    after it, the real headers and the encoded body, is read as a plain-text body.
    """
    lines = raw.split(b"\n")
    end = next((i for i, line in enumerate(lines) if not line.strip(b"\r")), None)
    if end is None:
        return None
    kept = [ln for ln in lines[:end]
            if _HEADER_LINE.match(ln) or ln[:1] in (b" ", b"\t")]
    if len(kept) == end:
        return None
    return b"\n".join(kept + lines[end:])


@dataclass
class InboundMessage:
    raw: bytes
    msg: Message
    message_id: str  # the header's value, or a digest of the bytes when there is none
    has_message_id: bool
    sender: str  # bare address, lower-case
    sender_name: str
    subject: str
    date: dt.datetime | None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    headers_repaired: bool = False
    # Why the From header is not to be trusted for a sign-off (several addresses, an
    # address in the display name, no usable address): Chinese, for the record.
    sender_issues: list[str] = field(default_factory=list)
    sender_header: str | None = None  # the Sender header's address, when there is one
    too_deep: bool = False  # nested beyond MAX_MULTIPARTS: only the headers were read

    @property
    def key(self) -> str:
        """The identity used to recognise the same message delivered twice."""
        return self.message_id

    @functools.cached_property
    def body(self) -> Body:
        if self.too_deep:
            return Body(notes=[f"邮件的 MIME 嵌套超过 {MAX_MULTIPARTS} 层，正文未读取"])
        try:
            return extract_body(self.msg)
        except RecursionError:
            return Body(notes=["邮件结构嵌套过深，正文未读取"])

    @property
    def charset_repaired(self) -> bool:
        return self.headers_repaired or self.body.repaired

    @functools.cached_property
    def _raw_headers(self) -> dict[str, str]:
        first: dict[str, str] = {}
        for name, value in self.msg.raw_items():
            first.setdefault(name.lower(), str(value))
        return first

    def header(self, name: str) -> str:
        """A header decoded to text (RFC 2047, real charsets), '' when absent."""
        raw = self._raw_headers.get(name.lower())
        return decode_header_value(raw).text if raw is not None else ""

    def has_header(self, name: str) -> bool:
        return name.lower() in self._raw_headers

    def thread_ids(self) -> list[str]:
        """In-Reply-To first, then References newest first: the order to look them up."""
        out = list(self.in_reply_to)
        out += [r for r in reversed(self.references) if r not in out]
        return out


# More nested multiparts than any client writes: the parser recurses once per level, so
# such a message is read for its headers only (and its sender told it was not read).
MAX_MULTIPARTS = 64
_MULTIPART = re.compile(rb"multipart/", re.IGNORECASE)


# A message that is one text part is parsed up to this much of its body: the stdlib
# parser keeps every line as an object (25 MB of short lines cost over 300 MB), and only
# the first 2 MB of a text part are read anyway.
MAX_SINGLE_PART_BODY = 4 * 1024 * 1024
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_TOP_MULTIPART = re.compile(rb"^content-type:[ \t]*(?:\r?\n[ \t]+)*multipart/",
                            re.IGNORECASE | re.MULTILINE)


def _bounded(raw: bytes) -> bytes:
    if len(raw) <= MAX_SINGLE_PART_BODY:
        return raw
    end = _HEAD_END.search(raw, 0, 1_000_000)
    if end is None or _TOP_MULTIPART.search(raw, 0, end.start()):
        return raw
    cut = raw.rfind(b"\n", end.end(), end.end() + MAX_SINGLE_PART_BODY)
    return raw[:cut + 1] if cut > 0 else raw[:end.end() + MAX_SINGLE_PART_BODY]


def _parse(raw: bytes) -> tuple[Message, bool]:
    """The parsed message, and whether its body had to be left out."""
    raw = _bounded(raw)
    if len(_MULTIPART.findall(raw[:2_000_000])) > MAX_MULTIPARTS:
        return _PARSER.parsebytes(raw, headersonly=True), True
    try:
        return _PARSER.parsebytes(raw), False
    except RecursionError:
        return _PARSER.parsebytes(raw, headersonly=True), True


def read_message(raw: bytes) -> InboundMessage:
    msg, too_deep = _parse(raw)
    repaired = False
    if any(isinstance(d, email_errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        fixed = _repair_headers(raw)
        if fixed is not None:
            msg, too_deep = _parse(fixed)
            repaired = True
    ids = message_ids(raw_header(msg, "Message-ID"))
    message_id = ids[0] if ids else f"<{SYNTHETIC_PREFIX}{hashlib.sha256(raw).hexdigest()}@collabd>"
    from_raw = raw_header(msg, "From") or ""
    address, name, from_repaired, issues = read_from(from_raw)
    from_headers = sum(1 for key, _ in msg.raw_items() if key.lower() == "from")
    if from_headers > 1:
        issues.append(f"邮件有 {from_headers} 个发件人（From）字段")
    sender_raw = raw_header(msg, "Sender")
    sender_header = None
    if sender_raw:
        found = [a for _, a in email.utils.getaddresses([sender_raw]) if _ADDRESS.match(a)]
        sender_header = found[0].lower() if found else None
    subject = decode_header_value(raw_header(msg, "Subject") or "")
    date: dt.datetime | None = None
    date_text = raw_header(msg, "Date")
    if date_text:
        try:
            date = email.utils.parsedate_to_datetime(date_text.strip())
        except (TypeError, ValueError, IndexError):
            date = None
        if date is not None and date.tzinfo is None:
            date = None  # "-0000": the sender's offset is unknown; not a moment we can use
    return InboundMessage(
        raw=raw,
        msg=msg,
        message_id=message_id,
        has_message_id=bool(ids),
        sender=address,
        sender_name=name,
        subject=subject.text,
        date=date,
        in_reply_to=message_ids(raw_header(msg, "In-Reply-To")),
        references=message_ids(raw_header(msg, "References")),
        headers_repaired=repaired or from_repaired or subject.repaired,
        sender_issues=issues,
        sender_header=sender_header,
        too_deep=too_deep,
    )


_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\[\]\\]+@[^@\s<>\"(),;:\[\]\\]+\.[^@\s<>\"(),;:\[\]\\]+$")


def read_from(raw: str) -> tuple[str, str, bool, list[str]]:
    """The From header → (address, display name, charset repaired, issues).

    The address is taken from the header as it came, before anything is decoded: an
    encoded word in the display name can hold any text, "张伟 <zhang.wei@…>" included,
    and must never supply the address. What would make the sender doubtful for a
    sign-off is returned as issues.
    """
    issues: list[str] = []
    pairs = [(n, a.strip()) for n, a in email.utils.getaddresses([raw]) if a.strip()]
    valid = [(n, a) for n, a in pairs if _ADDRESS.match(a)]
    if not valid:
        if raw.strip():
            issues.append("发件人（From）中没有可用的邮件地址")
        return "", "", False, issues
    if len(pairs) > 1:
        issues.append(f"发件人（From）中有 {len(pairs)} 个地址")
    name_raw, address = valid[0]
    decoded = decode_header_value(name_raw) if name_raw else None
    name = decoded.text.strip().strip('"').strip() if decoded else ""
    folded = unicodedata.normalize("NFKC", name).lower()
    named = re.findall(r"[^\s<>\"'@]+@[^\s<>\"'@]+", folded)
    # Outlook writes the address itself as the name when there is none: that is fine.
    if any(n.strip(".,;:()[]") != address.lower() for n in named) or (
            not named and ("<" in folded or ">" in folded or "@" in folded)):
        issues.append(f"发件人显示名「{name[:60]}」中含有邮件地址或尖括号，"
                      f"与实际地址 {address} 不符")
    return address.lower(), name, bool(decoded and decoded.repaired), issues
