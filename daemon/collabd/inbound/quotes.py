"""What a person newly wrote in a reply: quoted originals, signatures and disclaimers cut.

Chinese clients quote in their own ways (recorded in ../shared/corpus/CLIENT_FORMATS.md):
Outlook's 发件人/发送时间 blocks under a line of underscores or -----原始邮件-----, Foxmail
and QQ Mail's `------------------ 原始邮件 ------------------`, Gmail's
`名字 <addr> 于2026年12月1日周二 10:38写道：` (sometimes wrapped over two lines), Apple Mail's
quoted `> 2026年12月1日 14:09，名字 <addr> 写道：`, Thunderbird's `在 2026/12/01 14:10, 名字 写道:`,
NetEase's `At … wrote:` or a `在 … 写道：` line followed by the original with no `>` at all,
Outlook zh-TW's 寄件者/寄件日期, WeLink's `抄 送：`/`时 间：`. The first line where any of
these starts ends the new text; a reply that starts with the quote (bottom-posting)
has its new text after it.
"""

from __future__ import annotations

import re
import unicodedata

from bs4 import BeautifulSoup
from bs4.element import Tag

from collabd.inbound.decode import Body, html_to_text

_Q = r"(?:>\s?)*"  # any depth of "> " quoting before a quote header

# Lines that separate the new text from a quoted or forwarded original.
_SEPARATOR = re.compile(
    r"^\s*" + _Q + r"(?:"
    r"-{2,}\s*(?:原始邮件|邮件原件|原始郵件|郵件原件|original message|转发邮件|"
    r"forwarded message)\s*-{2,}"
    r"|_{10,}"
    r"|begin forwarded message:"
    r")\s*$",
    re.IGNORECASE,
)

# The label that starts a quoted header block, and the labels that follow it.
_HEADER_START = re.compile(
    r"^\s*" + _Q + r"\**\s*(?:发\s*件\s*人|寄\s*件\s*者|寄件人|from)\s*\**\s*[:：]",
    re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*" + _Q + r"\**\s*(?:发送时间|寄件日期|时\s*间|日\s*期|收\s*件\s*人|收\s*件\s*者|抄\s*送|"
    r"副\s*本|主\s*题|主\s*旨|sent|date|to|cc|subject)\s*\**\s*[:：]",
    re.IGNORECASE)

# "… wrote:" lines in all the languages and shapes Chinese users' clients write them.
_WROTE = re.compile(r"(?:写道|寫道|wrote|schrieb|a écrit|escribió|написал\(?а?\)?)\s*[:：]\s*$",
                    re.IGNORECASE)
_DATE_TIME = re.compile(r"\d{1,4}\s*[-/年.]\s*\d{1,2}.*\d{1,2}:\d{2}")
_WROTE_EVIDENCE = re.compile(
    r"@|\d{4}\s*[-/年.]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}|\d{1,2}:\d{2}|"
    r"\b(?:on|at)\b|^\s*" + _Q + r"在", re.IGNORECASE)
# First half of a header that a client wrapped: "名字 <addr> 于2026年12月1日周二".
_WROTE_HEAD = re.compile(r"(?:于|於|在|\bon\b|\bat\b).{0,60}\d", re.IGNORECASE)

# Signatures added by phones and apps, and the start of legal disclaimers.
_SIGNATURE = re.compile(
    r"^\s*(?:--\s*$|—{2,}\s*$|"
    r"发自我的|發自我的|来自我的|從我的|从我的\s*\S+\s*发送|sent from my|sent from mail for|"
    r"get outlook for|获取\s*outlook|發送自|发自网易邮箱|发自\s*(?:邮箱大师|手机QQ邮箱|QQ邮箱|"
    r"腾讯企业邮|华为|小米|vivo|OPPO)|来自\s*(?:WeLink|企业微信|钉钉))",
    re.IGNORECASE)
_DISCLAIMER = re.compile(
    r"^\s*(?:【?(?:保密声明|免责声明|声明|保密提示|機密聲明|免責聲明)】?\s*[:：]?|"
    r"本邮件(?:及其附件)?(?:含有|包含|可能包含)|此邮件(?:及其附件)?(?:含有|包含)|"
    r"(?:confidentiality|disclaimer)\b|this (?:e-?mail|message)(?: and (?:its|any) attachments?)?"
    r" (?:is|are|contains?|may contain)\b)",
    re.IGNORECASE)


def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _cut_index(lines: list[str]) -> int | None:
    """The index of the first line that belongs to a quoted original."""
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _SEPARATOR.match(line):
            return i
        if _HEADER_START.match(line) and any(
                _HEADER_NEXT.match(following) for following in lines[i + 1:i + 5]):
            return i
        if _WROTE.search(line) and _WROTE_EVIDENCE.search(line):
            # A header wrapped before its address: the date is on the line above.
            if i and lines[i - 1].strip() and _DATE_TIME.search(lines[i - 1]):
                return i - 1
            return i
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if (_WROTE.search(nxt) and len(nxt.strip()) <= 30 and _WROTE_HEAD.search(line)
                and not _WROTE.search(line)):
            return i  # a wrapped "… 于2026年12月1日周二 / 21:57写道：" header
        if _quoted(line):
            # A run of "> " lines: a quote, unless it is the only thing written.
            return i
    return None


def _cut_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line) or _DISCLAIMER.match(line):
            return lines[:i]
    return lines


_CONTACT = re.compile(
    r"(?:电话|電話|手机|手機|分机|分機|座机|传真|邮箱|郵箱|地址|tel|mobile|phone|fax|e-?mail)"
    r"|\d{3,4}[-\s]?\d{4}|@", re.IGNORECASE)


def _drop_signature_block(lines: list[str], names: tuple[str, ...]) -> list[str]:
    """Drop a closing paragraph that is a personal signature (name, department, phone)."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip():
        start -= 1
    block = [line.strip() for line in lines[start:end]]
    if start == 0 or not block or len(block) > 6 or any(len(line) > 40 for line in block):
        return lines
    looks_like = any(_CONTACT.search(line) for line in block) or any(
        name and line.startswith(name) for name in names for line in block)
    return lines[:start] if looks_like else lines


def strip_text(text: str, names: tuple[str, ...] = ()) -> str:
    """The new text of a plain-text reply. `names`: how the sender signs (to drop a
    closing signature paragraph)."""
    lines = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace(
        "\r", "\n").split("\n")
    cut = _cut_index(lines)
    if cut is None:
        new = lines
    elif any(line.strip() for line in lines[:cut]):
        new = lines[:cut]
    else:
        # Bottom-posting: quote header and quote first, the new text below them.
        rest = lines[cut:]
        start = 0
        while start < len(rest) and (not rest[start].strip() or _quoted(rest[start])
                                     or start == 0 or _WROTE.search(rest[start])):
            start += 1
        below = rest[start:]
        again = _cut_index(below)
        new = below[:again] if again is not None else below
    new = _drop_signature_block(_cut_signature(new), names)
    return "\n".join(line.rstrip() for line in new).strip()


# HTML containers clients put the quoted original in.
_HTML_QUOTE_SELECTORS = (
    "blockquote", "div.gmail_quote", "div#divRplyFwdMsg", "div#appendonsend",
    "div.moz-cite-prefix", "div#mail-editor-reference-message-container",
    "div.yahoo_quoted", "div#isForwardContent", "div#isReplyContent",
    "div#origbody", "div.ne-quoted", "div#reply-content",
)
_OUTLOOK_DIVIDER = re.compile(r"border-top\s*:\s*solid\s+#?[0-9a-f]{3,6}\s+1(?:\.0)?pt",
                              re.IGNORECASE)


def strip_html(html: str, names: tuple[str, ...] = ()) -> str:
    """The new text of an HTML-only reply: quote containers removed, then the text rules."""
    soup = BeautifulSoup(html, "lxml")
    for selector in _HTML_QUOTE_SELECTORS:
        for node in soup.select(selector):
            _drop_from(node)
    for node in soup.find_all(style=_OUTLOOK_DIVIDER):
        if isinstance(node, Tag):
            _drop_from(node)
    return strip_text(html_to_text(str(soup)), names)


def _drop_from(node: Tag) -> None:
    """Remove `node` and everything after it in document order (the quoted tail)."""
    if node.decomposed:
        return
    current: Tag | None = node
    while current is not None and current.name not in ("body", "html", "[document]"):
        for sibling in list(current.next_siblings):
            sibling.extract()
        parent = current.parent
        if current is node:
            current.decompose()
        current = parent if isinstance(parent, Tag) else None


def new_text(body: Body, names: tuple[str, ...] = ()) -> str:
    """The new text of a reply, from its text part when there is one, else its HTML."""
    text = strip_text(body.text, names) if body.plain else ""
    if not text and body.html is not None:
        text = strip_html(body.html, names)
    return text
