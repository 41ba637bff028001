"""Bytes → text without mojibake: charsets as they really arrive from Chinese clients.

Labels lie. `gb2312` bodies carry GBK-only characters; Big5 text arrives labelled
`us-ascii`; `ks_c_5601-1987` is put on Chinese mail by some Outlook versions; Big5
bytes get re-encoded as Latin-1 → UTF-8 on the way. Each label is widened to the
superset that real clients mean, decoded strictly, and where that fails or the label
cannot be right, the text is detected; `repaired` records that the label was not
trusted.
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass, field
from email.header import decode_header
from email.message import Message
from typing import Any

import charset_normalizer
from bs4 import BeautifulSoup
from bs4.element import NavigableString, Tag

# What a label really means: the superset its senders' software writes.
_SUPERSET = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
    "gb_2312-80": "gb18030", "euc-cn": "gb18030", "x-euc-cn": "gb18030", "csgb2312": "gb18030",
    "gb18030": "gb18030", "windows-936": "gb18030", "ms936": "gb18030",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs", "big5-hkscs": "big5hkscs",
    "csbig5": "big5hkscs", "ms950": "big5hkscs",
    "utf8": "utf-8", "utf-8": "utf-8", "unicode-1-1-utf-8": "utf-8",
    "iso-8859-1": "cp1252", "latin1": "cp1252", "us-ascii": "ascii", "ascii": "ascii",
}
# Labels that Chinese text is often wrongly sent under: never trusted for 8-bit bytes.
_SUSPECT = frozenset(codecs.lookup(name).name for name in (
    "ascii", "cp1252", "iso-8859-15", "ks_c_5601-1987", "euc-kr", "cp949", "shift_jis",
    "iso-2022-jp", "windows-1251", "euc-jp"))
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# The most frequent characters of Chinese business mail (simplified; their traditional
# forms are added below). Chinese bytes read under a Korean or Japanese label, or Big5
# read as GBK, still come out as CJK characters, but rarely as these: the share of them
# tells the real reading from a wrong one.
_COMMON_SIMPLIFIED = (
    "的一是不了人我在有他这为之大来以个中上们到说国和地也子时道出而要于就下得可你年生自会那后"
    "能对着事其里所去行过家十用发天如然作方成者多日都三小军二无同么经法当起与好看学进种将还分此"
    "心前面又定见只主没公从知已两些现样度部门需求确认会议完成请问题间工作项目计划进展内容标准交付"
    "验收负责协调沟通反馈情况安排通知回复收到谢同意准备数据系统开发测试线支持资源信息步他紧急般重"
    "影响范围描述期望结果本周月号今明天点半午晚早提供够已正目前由因但如果或者及并关根按照通实现处"
    "理解决确组织召参加席讨论意建修改调整更新布管服务客户用市场销售财运营研技术产品设质量安全预算"
    "费审批报采购合各位领导事大家您辛苦烦帮忙尽快务必注附件所示相具体详细说明文表格邮电话联系方式"
    "址名称编类型状态阶段度标背景原案措施风险阻塞滞延提"
)


@functools.cache
def _common_set() -> frozenset[str]:
    """The common characters, simplified and traditional (built on first use: loading
    OpenCC's s2t tables costs 70 ms, which `collabd parse` of clean mail need not pay)."""
    import opencc

    traditional = opencc.OpenCC("s2t").convert(_COMMON_SIMPLIFIED)
    return frozenset(_COMMON_SIMPLIFIED + traditional)


def _chinese_score(text: str, minimum: int = 4) -> float:
    """Share of CJK characters that are common Chinese ones; -1 without enough CJK."""
    cjk = _CJK.findall(text)
    if len(cjk) < minimum:
        return -1.0
    hangul = sum(1 for c in text if "\uac00" <= c <= "\ud7a3")
    common = _common_set()
    return sum(1 for c in cjk if c in common) / (len(cjk) + hangul)
_LATIN1_MOJIBAKE = re.compile(r"[\u00a0-\u00ff]")


@dataclass
class Decoded:
    text: str
    repaired: bool = False
    charset: str | None = None


# Decoding bytes can fail in more ways than UnicodeDecodeError: `idna` and `undefined`
# raise UnicodeError, a codec the platform lacks LookupError, odd labels ValueError.
_DECODE_ERRORS = (UnicodeError, LookupError, ValueError, TypeError)
# Codecs Python has that no mail is written in: bytes-to-bytes (base64, zlib, bz2, hex,
# uu, quopri) and str-to-str (rot13) ones are told apart by CodecInfo; these are text
# codecs in name only.
_NOT_MAIL = frozenset({"idna", "punycode", "undefined", "unicode_escape", "raw_unicode_escape",
                       "escape", "charmap", "mbcs", "oem", "palmos"})


def _codec(label: str | None) -> str | None:
    """The Python codec a charset label means, or None when it names none that text is
    written in (the text is then detected)."""
    if not label:
        return None
    name = label.strip().strip('"').lower()
    if not name or len(name) > 40 or not name.isascii() or not name.isprintable():
        return None
    name = _SUPERSET.get(name, name)
    try:
        info = codecs.lookup(name)
    except _DECODE_ERRORS:
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name.replace("-", "_") in _NOT_MAIL:
        return None
    return info.name


def _detect(data: bytes, label_codec: str | None = None) -> Decoded | None:
    try:
        return Decoded(data.decode("utf-8"), True, "utf-8")
    except _DECODE_ERRORS:
        pass
    # This is a tool for Chinese companies: first see whether one of the Chinese
    # readings (or the label's) is plainly Chinese text.
    # Judged on a sample (a codec that reads 64 KiB of it reads the rest), then decoded.
    sample = _sample(data)
    readings: list[tuple[float, str]] = []
    for candidate in dict.fromkeys(c for c in ("gb18030", "big5hkscs", label_codec) if c):
        try:
            text = sample.decode(candidate)
        except _DECODE_ERRORS:
            continue
        # A header or a name is a few characters: one common character is evidence.
        readings.append((_chinese_score(text, 1 if len(data) < 40 else 4), candidate))
    if readings:
        score, candidate = max(readings, key=lambda r: r[0])
        if score >= 0.35:
            try:
                return Decoded(data.decode(candidate), candidate != label_codec, candidate)
            except _DECODE_ERRORS:
                return Decoded(data.decode(candidate, errors="replace"), True, candidate)
    # GB18030 decodes almost any byte string without error, Big5 and Latin text
    # included, so it is not tried blindly: the detector weighs which reading is
    # coherent text.
    best = charset_normalizer.from_bytes(sample).best()
    if best is not None and best.encoding:
        enc = _codec(best.encoding) or best.encoding
        try:
            return Decoded(data.decode(enc), True, enc)
        except _DECODE_ERRORS:
            try:
                return Decoded(data.decode(enc, errors="replace"), True, enc)
            except _DECODE_ERRORS:
                pass
    try:
        return Decoded(data.decode("gb18030"), True, "gb18030")
    except _DECODE_ERRORS:
        return None


def _sample(data: bytes, size: int = 65536) -> bytes:
    """The start of `data`, cut at a line end (never inside a multibyte character)."""
    if len(data) <= size:
        return data
    cut = data.rfind(b"\n", 0, size)
    return data[:cut if cut > size // 2 else size]


# A text or HTML part is read up to this many bytes (with a note): what a person writes
# is far shorter, and decoding 25 MB of text costs hundreds of MB of memory.
MAX_PART_BYTES = 2 * 1024 * 1024


def _unmojibake(text: str) -> Decoded | None:
    """Chinese bytes that were decoded as Latin-1 and re-encoded as UTF-8 on the way."""
    if _CJK.search(text):
        return None
    odd = len(_LATIN1_MOJIBAKE.findall(text))
    if odd < 4 or odd < 0.2 * sum(1 for c in text if ord(c) > 127):
        return None
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        try:
            raw = text.encode("cp1252")
        except UnicodeEncodeError:
            return None
    for candidate in ("big5hkscs", "gb18030", "utf-8"):
        try:
            fixed = raw.decode(candidate)
        except _DECODE_ERRORS:
            continue
        if len(_CJK.findall(fixed)) >= 2:
            return Decoded(fixed, True, candidate)
    return None


def decode_bytes(data: bytes, label: str | None) -> Decoded:
    """Decode `data` declared as `label`; never raises, never returns replacement marks
    unless no encoding at all fits (then `repaired` is True)."""
    codec = _codec(label)
    eight_bit = any(b > 127 for b in data)
    wide = codec is not None and ("16" in codec or "32" in codec)  # UTF-16/32: NULs
    if not eight_bit and not wide:
        try:
            return Decoded(data.decode("ascii"), False, codec or "ascii")
        except _DECODE_ERRORS:
            pass
    if codec is not None and codec not in _SUSPECT:
        try:
            text = data.decode(codec)
        except _DECODE_ERRORS:
            pass
        else:
            fixed = _unmojibake(text) if codec == "utf-8" else None
            if fixed is not None:
                return fixed
            # Decoding a gb2312 label as gb18030 is what the label means; it counts as
            # a repair only when the label itself could not have decoded these bytes.
            return Decoded(text, not _label_decodes(data, label, text), codec)
    detected = _detect(data, codec)
    if detected is not None:
        if codec is not None and codec == detected.charset:
            detected.repaired = False
        return detected
    try:
        return Decoded(data.decode(codec or "utf-8", errors="replace"), True, codec)
    except _DECODE_ERRORS:
        return Decoded(data.decode("utf-8", errors="replace"), True, "utf-8")


def _label_decodes(data: bytes, label: str | None, expected: str) -> bool:
    if not label:
        return True
    name = label.strip().strip('"').lower()
    if _codec(name) is None:
        return False
    try:
        return data.decode(name) == expected
    except _DECODE_ERRORS:
        return False


# A header is read up to this many characters: the stdlib's encoded-word decoder is
# quadratic, and no real Subject or From is longer (RFC 5322 allows 998 a line).
MAX_HEADER_CHARS = 8192


def decode_header_value(raw: str) -> Decoded:
    """An RFC 2047 header value (or 8-bit raw bytes in a header) → text."""
    repaired = False
    if len(raw) > MAX_HEADER_CHARS:
        raw, repaired = raw[:MAX_HEADER_CHARS], True
    pieces: list[str] = []
    try:
        chunks = decode_header(raw)
    except Exception:  # malformed encoded words: keep the raw text
        chunks = [(raw, None)]
    for chunk, charset in chunks:
        data = chunk.encode("utf-8", "surrogateescape") if isinstance(chunk, str) else chunk
        decoded = decode_bytes(data, charset or ("utf-8" if any(b > 127 for b in data) else None))
        repaired = repaired or decoded.repaired
        pieces.append(decoded.text)
    text = "".join(pieces)
    return Decoded(" ".join(text.replace("\r", " ").replace("\n", " ").split()), repaired)


def raw_header(msg: Message, name: str) -> str | None:
    """The header as it was on the wire (encoded words intact), first occurrence.

    Messages are parsed with the compat32 policy, under which header values are the
    raw text (8-bit bytes kept as surrogate escapes).
    """
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


# -- bodies -------------------------------------------------------------------------------

@dataclass
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Body:
    text: str = ""  # the text/plain part, or the HTML's text when there is none
    html: str | None = None
    plain: bool = False  # a text/plain part exists
    repaired: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    calendars: list[bytes] = field(default_factory=list)
    report: str | None = None  # multipart/report's report-type (delivery-status, ...)
    reported_headers: str | None = None  # the bounced message's headers, if included
    notes: list[str] = field(default_factory=list)  # what was left unread, and why
    part_types: set[str] = field(default_factory=set)  # every content type in the message

    @property
    def documents(self) -> list[Attachment]:
        """The attachments a person sent (a calendar file is the client's, not theirs)."""
        return [a for a in self.attachments if not a.filename.lower().endswith(".ics")]


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _filename(part: Message) -> str | None:
    name = part.get_param("filename", header="content-disposition") or part.get_param("name")
    if name is None:
        return None
    if isinstance(name, tuple):  # RFC 2231: (charset, language, value)
        charset, _, value = name
        return decode_bytes(value.encode("latin-1", "surrogateescape")
                            if isinstance(value, str) else value, charset).text
    return decode_header_value(str(name)).text


def extract_body(msg: Message) -> Body:
    body = Body()
    texts: list[str] = []
    htmls: list[str] = []
    if msg.get_content_type() == "multipart/report":
        body.report = str(msg.get_param("report-type") or "unknown").lower()
    for part in msg.walk():
        body.part_types.add(part.get_content_type())
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = str(part.get("Content-Disposition", "")).split(";")[0].strip().lower()
        filename = _filename(part)
        if ctype in ("message/rfc822-headers", "text/rfc822-headers"):
            body.reported_headers = _payload(part).decode("utf-8", "replace")
            continue
        if ctype == "text/calendar" or (filename or "").lower().endswith(".ics"):
            body.calendars.append(_payload(part))
            if disposition != "attachment":
                continue
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            data = _payload(part)
            if len(data) > MAX_PART_BYTES:
                body.notes.append(f"正文超过 {MAX_PART_BYTES // (1024 * 1024)} MB，"
                                  "只读取了开头部分")
                data = _sample(data, MAX_PART_BYTES)
            decoded = decode_bytes(data, part.get_content_charset())
            body.repaired = body.repaired or decoded.repaired
            (texts if ctype == "text/plain" else htmls).append(decoded.text)
            continue
        if ctype == "message/delivery-status":
            continue
        data = _payload(part)
        if filename or disposition == "attachment":
            body.attachments.append(Attachment(filename or "attachment", ctype, data))
    if msg.get_content_type() == "multipart/report" and body.reported_headers is None:
        for part in msg.walk():
            if part.get_content_type() == "message/rfc822":
                inner = part.get_payload()
                if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                    body.reported_headers = "".join(
                        f"{k}: {v}\n" for k, v in inner[0].items())
    body.html = "\n".join(htmls) if htmls else None
    if texts:
        body.text = "\n".join(texts)
        body.plain = True
    elif body.html is not None:
        body.text = html_to_text(body.html)
    return body


# -- HTML → text ----------------------------------------------------------------------------

_BLOCK = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table",
          "blockquote", "pre", "ul", "ol", "section", "article", "header", "footer", "hr"}
_SKIP = {"style", "script", "head", "title", "xml", "o:p", "meta"}


MAX_HTML_CHARS = 1_000_000
# Beyond this many tags an HTML body is not a form or a reply someone typed (a mail
# merge, a generated report, an attack): its text is taken without building a tree,
# which costs seconds and memory at that size.
MAX_HTML_TAGS = 20_000
_TAG = re.compile(r"<[^<>]{0,2000}>")
_LINE_TAG = re.compile(r"<(?:br|/p|/div|/tr|/li|/h[1-6]|/table|hr)\b[^<>]{0,2000}>",
                       re.IGNORECASE)
_CELL_TAG = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_DROP = re.compile(r"<(style|script|head|title)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def too_many_tags(html: str) -> bool:
    return html.count("<", 0, MAX_HTML_CHARS) > MAX_HTML_TAGS


def plain_html_text(html: str) -> str:
    """The text of an HTML body without parsing it into a tree: linear, for bodies too
    large or too deep to parse (cells become tabs, block ends line breaks)."""
    import html as html_module

    text = _DROP.sub(" ", html[:MAX_HTML_CHARS])
    text = _CELL_TAG.sub("\t", _LINE_TAG.sub("\n", text))
    text = html_module.unescape(_TAG.sub("", text)).replace("\xa0", " ")
    lines = [" ".join(line.split()) if "\t" not in line else "\t".join(
        c.strip() for c in line.split("\t") if c.strip()) for line in text.split("\n")]
    return "\n".join(lines).strip()


def html_to_text(html: str, *, keep_empty: bool = False) -> str:
    """Readable text of an HTML body; each table row becomes one line of tab-separated
    cells, so a form pasted from Word or Excel reads like `标签\\t值` lines
    (`keep_empty`: a row keeps its empty cells, up to the last non-empty one)."""
    if len(html) > MAX_HTML_CHARS or too_many_tags(html):
        return plain_html_text(html)  # the rest is not read (a form or a reply is short)
    soup = BeautifulSoup(html, "lxml")
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = "".join(current)
        current.clear()
        if not text:
            return
        for line in text.split("\n"):
            lines.append(line.rstrip())

    def cell_text(cell: Tag) -> str:
        parts: list[str] = []
        for block in _walk_text(cell):
            parts.append(block)
        text = "".join(parts)
        # Paragraphs inside a cell stay on lines of their own, without blank lines
        # between them (a blank line ends a field's value in the form reader).
        return "\n".join(" ".join(seg.split()) for seg in text.split("\n") if seg.strip())

    # Depth-first, with a stack of our own: mail can nest tags deeper than Python's
    # recursion limit allows.
    end = object()
    stack: list[Any] = list(reversed(list((soup.body or soup).children)))
    while stack:
        child = stack.pop()
        if isinstance(child, tuple) and child[0] is end:
            flush()
            if child[1] == "table":
                lines.append("")  # what follows a table is not part of its last cell
            continue
        if isinstance(child, NavigableString):
            if child.__class__.__name__ in ("Comment", "Doctype", "CData",
                                            "ProcessingInstruction", "Declaration"):
                continue
            current.append(str(child).replace("\xa0", " ").replace("\r", "")
                           .replace("\n", " "))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name in _SKIP:
            continue
        if name == "tr":
            flush()
            cells = [cell_text(c) for c in child.find_all(["td", "th"], recursive=False)]
            if keep_empty:
                while cells and not cells[-1]:
                    cells.pop()
            else:
                cells = [c for c in cells if c]
            if cells:
                lines.append("\t".join(cells))
            continue
        if name == "br":
            current.append("\n")
            continue
        if name in _BLOCK:
            flush()
            stack.append((end, name))
        stack.extend(reversed(list(child.children)))

    flush()
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out and out[-1] == "":
                continue
            out.append("")
        else:
            out.append(line.strip(" "))
    return "\n".join(out).strip()


def _walk_text(node: Tag) -> list[str]:
    out: list[str] = []
    for child in node.descendants:
        if isinstance(child, NavigableString):
            if any(p.name and p.name.lower() in _SKIP for p in child.parents if isinstance(p, Tag)):
                continue
            if child.__class__.__name__ == "Comment":
                continue
            out.append(str(child).replace("\xa0", " ").replace("\n", " "))
        elif isinstance(child, Tag) and child.name.lower() in ("br", "p", "div", "li"):
            out.append("\n")
    return out
