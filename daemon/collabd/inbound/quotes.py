"""What a person newly wrote in a reply: quoted originals, signatures and disclaimers cut.

Two sources of knowledge, used together:

- **What we sent.** A reply to the daemon's own message is read against that message:
  every line of the reply that comes from it (by fingerprints of its lines and
  sentences, kept in the message index, see `Original`) is quoted text, wherever it
  stands — top, bottom or between the person's own answers — whatever client quoted
  it and however it marked (or did not mark) the quote.
- **How clients quote** (../shared/corpus/CLIENT_FORMATS.md and the peers' suites):
  separator lines (`-----原始邮件-----`, `------------------ 原始邮件 ------------------`,
  `---- 回复的原邮件 ----`, `-----Original Message-----` and its translations, a line of
  underscores), header blocks (发件人/发送时间, 寄件者/寄件日期, From/Sent, Von/Gesendet,
  De/Envoyé, ...), attribution lines in every language and shape (`名字 <addr>
  于2026年12月1日周二 10:38写道：`, `在 2024/01/05 14:10, 名字 写道:`, `On … wrote:`
  wrapped over up to three lines, `Le … a écrit :`, `W dniu … napisał:`, old Gmail's
  `2017-11-24 16:32 GMT+08:00 Name <addr>:`, Zoho's `---- 在 … 撰写 ----`), and `>`.

A separator or header block ends the new text: what follows is the original, and
nobody answers inside an Outlook-style quote in plain text. `>`-quoted lines are the
original, and text *between* or *after* them is the person's (inline answers,
bottom-posting). Then the signature: phone and app signatures, a `-- ` line, legal
disclaimers, and a closing paragraph that is plainly a name card — never a paragraph
that carries a reason or a decision.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable

from bs4 import BeautifulSoup
from bs4.element import Tag

from collabd.inbound.decode import (
    MAX_HTML_CHARS,
    Body,
    html_to_text,
    plain_html_text,
    too_many_tags,
)
from collabd.textnorm import fold

_Q = r"(?:[>|]\s?)*"  # any depth of "> " quoting before a quote header
_LEAD_MARKS = re.compile(r"^\s*" + _Q)
# What a person writes in a reply, or a form, fits in this many characters; what is
# longer is read up to here (the quote and the rest of a huge body are not searched).
MAX_TEXT_CHARS = 100_000

# -- separators ------------------------------------------------------------------------

_SEPARATOR_WORDS = (
    r"原始邮件|邮件原件|原始郵件|郵件原件|原邮件|回复的原邮件|回覆的原郵件|转发邮件|转发的邮件|"
    r"轉寄郵件|原始信件|original message|original|reply message|forwarded message|"
    r"forwarded|ursprüngliche nachricht|antwort nachricht|originalnachricht|"
    r"weitergeleitete nachricht|message d'origine|message original|message transféré|"
    r"mensaje original|mensaje reenviado|mensagem original|mensagem encaminhada|"
    r"messaggio originale|messaggio inoltrato|oorspronkelijk bericht|origineel bericht|"
    r"doorgestuurd bericht|oprindelig meddelelse|videresendt meddelelse|"
    r"opprinnelig melding|ursprungligt meddelande|vidarebefordrat meddelande|"
    r"alkuperäinen viesti|wiadomość oryginalna|oryginalna wiadomość|původní zpráva|"
    r"исходное сообщение|пересылаемое сообщение|пересланное сообщение|元のメッセージ|"
    r"原文|轉寄的郵件"
)
_SEPARATOR = re.compile(
    r"^\s*" + _Q + r"(?:"
    r"[-=*~]{2,}\s*(?:" + _SEPARATOR_WORDS + r")\s*[-=*~]{2,}"
    r"|[-=]{2,}\s*(?:" + _SEPARATOR_WORDS + r")\s*:?"
    r"|_{10,}|-{20,}|={20,}|—{10,}"
    r"|begin forwarded message:|转发的邮件[:：]|下面是被转发的邮件[:：]?"
    r")\s*$",
    re.IGNORECASE,
)
# "---- 在 2023-01-01 10:00 张三 撰写 ----", "------On 12/29/1987 Julius wrote-----",
# "--- On Wed, 4/4/12, x wrote:": an attribution between dashes.
_DASHED_ATTRIBUTION = re.compile(r"^\s*" + _Q + r"[-=]{2,}\s*(.{3,200}?)\s*[-=]*\s*$")

# -- header blocks -----------------------------------------------------------------------

_FROM_LABELS = (
    r"发\s*件\s*人|發\s*件\s*人|寄\s*件\s*者|寄\s*件\s*人|差出人|from|von|de|da|fra|från|van|"
    r"od|от|lähettäjä|feladó|afzender|expéditeur|remitente|mittente|보낸\s*사람"
)
_OTHER_LABELS = (
    r"发送时间|發送時間|寄件日期|时\s*间|時\s*間|日\s*期|收\s*件\s*人|收\s*件\s*者|抄\s*送|副\s*本|"
    r"主\s*题|主\s*題|主\s*旨|密\s*送|送信日時|宛先|件名|sent|date|to|cc|bcc|subject|reply-to|"
    r"gesendet|an|betreff|datum|kopie|envoyé(?: le)?|à|a|objet|cc|copie à|message du|"
    r"inviato|oggetto|data|risposta|enviado(?: el)?|para|asunto|assunto|fecha|sendt|til|emne|"
    r"skickat|till|ämne|verzonden|aan|onderwerp|wysłano|do|temat|dw|отправлено|кому|тема|"
    r"копия|дата|lähetetty|vastaanottaja|aihe|받는\s*사람|날짜|제목"
)
_LABEL_LINE = (r"^\s*" + _Q.replace("{", "{{").replace("}", "}}")
               + r"[*_]{{0,2}}\s*(?:{labels})\s*[*_]{{0,2}}\s*[:：]")
_HEADER_START = re.compile(_LABEL_LINE.format(labels=_FROM_LABELS), re.IGNORECASE)
_HEADER_NEXT = re.compile(_LABEL_LINE.format(labels=_OTHER_LABELS), re.IGNORECASE)

# -- attribution lines -------------------------------------------------------------------

_WROTE_VERB = (
    r"写道|寫道|撰写|撰寫|来信|來信|wrote|writes|sent|schrieb|a écrit|escribió|escreveu|"
    r"ha scritto|schreef|het volgende geschreven|skrev|kirjoitti|napisał\(a\)|napisała?|"
    r"pisze|написал\(?а?\)?|написала?|пишет|đã viết|書きました|님이 작성"
)
_WROTE_END = re.compile(r"(?:" + _WROTE_VERB + r")\s*[:：]?\s*(?:-{2,})?\s*$", re.IGNORECASE)
_ENDS_COLON = re.compile(r"[:：]\s*$")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|mailto:|<[^<>\s]*@|\[mailto", re.IGNORECASE)
_DATE = re.compile(
    r"\d{4}\s*[-/年.]\s*\d{1,2}|\d{1,2}\s*月\s*\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|"
    r"\d{1,2}:\d{2}|\b(?:19|20)\d{2}\b", re.IGNORECASE)
_INTRO = re.compile(
    r"^\s*" + _Q + r"(?:在|于|於|on|am|le|el|em|il|op|den|på|w dniu|dnia|в|vào|at|"
    r"\d|\"|'|\S+\s*<)", re.IGNORECASE)
def _attribution(window: str) -> bool:
    """Is this (possibly joined) text a "… wrote:" line introducing a quote?"""
    text = window.strip()
    if not text or len(text) > 300:
        return False
    evidence = bool(_DATE.search(text) or _ADDRESS.search(text))
    if _WROTE_END.search(text):
        if evidence and not re.search(r"[。！？]", text):
            return True
        # "张三 写道：", "Bob wrote:": short, and nothing else on the line.
        return len(text) <= 40 and bool(re.search(
            r"(?:写道|寫道|撰写|wrote|schrieb|a écrit)\s*[:：]\s*$", text, re.IGNORECASE))
    if _ENDS_COLON.search(text) and _ADDRESS.search(text) and _DATE.search(text):
        return not re.search(r"[。！？，]", text)  # "30.09.2017, 18.30, "John" <j@x.com>:"
    return False


def _starts_attribution(line: str) -> bool:
    """Could a wrapped attribution start on this line?"""
    text = _LEAD_MARKS.sub("", line).strip()
    if re.search(r"[。！？!?]\s*$", text):
        return False
    return bool(_DATE.search(text) or _ADDRESS.search(text)) or (
        bool(_INTRO.search(text)) and len(text) <= 20)


def _gmail_old(line: str) -> bool:
    """Old Gmail: "2014-10-17 11:28 GMT+03:00 Name <addr>:" (also without the colon,
    and "2013/7/20 name <addr>")."""
    stripped = line.strip()
    if not re.match(r"^" + _Q + r"\d{4}[-/]\d{1,2}[-/]\d{1,2}\s", stripped):
        return False
    return bool(re.search(r"GMT[+-]\d|<[^<>]*@|<\s*$|\s[:：]?\s*$", stripped)) and (
        bool(re.search(r"GMT[+-]\d|@|<", stripped)))


# -- signatures ------------------------------------------------------------------------

_PHONE_SIGNATURE = re.compile(
    r"^\s*(?:"
    r"发自我的\s*\S{1,20}|發自我的\s*\S{1,20}|来自我的\s*\S{1,20}|從我的\s*\S{1,20}\s*傳送|"
    r"从我的\s*\S{1,20}\s*发送|发自\s*(?:网易邮箱|邮箱大师|手机QQ邮箱|QQ邮箱|腾讯企业邮|华为|"
    r"小米|vivo|OPPO|荣耀|Android|iPhone|iPad)\S{0,20}|发送自\s*\S{1,20}|發送自\s*\S{1,20}|"
    r"来自\s*(?:WeLink|企业微信|钉钉|飞书)\S{0,10}|"
    r"sent from my [\w -]{1,25}|sent from (?:mail|outlook|yahoo mail) for [\w -]{1,20}|"
    r"sent from outlook(?: mobile| for \w+)?(?:<[^>]*>)?|get outlook for \w+|"
    r"获取\s*outlook\s*for\s*\w+|sent with \w+(?: \(.*\))?|sent from (?:my )?\w+ \w+"
    r")\s*[.。]?\s*$",
    re.IGNORECASE)
_DISCLAIMER = re.compile(
    r"^\s*(?:【?(?:保密声明|免责声明|声明|保密提示|機密聲明|免責聲明|保密條款)】?\s*[:：]?|"
    r"本邮件(?:及其附件)?(?:含有|包含|可能包含)|此邮件(?:及其附件)?(?:含有|包含)|"
    r"本郵件(?:及其附件)?(?:含有|包含)|"
    r"(?:confidentiality(?: notice)?|disclaimer)\s*[:：]|this (?:e-?mail|message)"
    r"(?: and (?:its|any) attachments?)?(?: is| are| contains?| may contain)\b.{0,40}"
    r"(?:confidential|privileged|intended))",
    re.IGNORECASE)
_SIG_DELIMITER = re.compile(r"^(?:-- ?|--|—{2,}|__)\s*$")
_CONTACT = re.compile(
    r"(?:电话|電話|手机|手機|分机|分機|座机|座機|传真|傳真|邮箱|郵箱|地址|tel|mobile|phone|fax|"
    r"e-?mail|微信|wechat|qq)\s*(?:[:：]|\.?\s*[+\d(])"
    r"|\+?\d[\d\s()-]{6,}\d|[\w.+-]+@[\w-]+\.[\w.-]+|https?://|www\.", re.IGNORECASE)
# What a signature never says: a sentence, a reason, a decision, a request.
_NOT_A_SIGNATURE = re.compile(
    r"[。！？!?；;]|\w\s+\w+\s+\w+\s+\w+.*\.\s*$|原因|理由|意见|意見|因为|因為|所以|但是|不过|需要|请|請|麻烦|確認|确认|同意|驳回|"
    r"駁回|退回|修改|问题|問題|错|錯|不|没|沒|无法|無法|please|because|reason|confirm|"
    r"agree|reject|approve",
    re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^\s*(?:谢谢|謝謝|多谢|多謝|感谢|感謝|此致|敬礼|敬禮|祝好|顺祝|順祝|best|regards|cheers|thanks|"
    r"thank you|br|kind regards|best regards|sincerely|mit freundlichen grüßen|"
    r"mvh|hilsen|groeten|saludos|cordialement|pozdrawiam)[!！,，.。\s]*$",
    re.IGNORECASE)


# -- what we sent -----------------------------------------------------------------------

# Quotation marks stay in the comparable form: our instructions quote the answer words
# (- “确认”：验收通过；) and a person answering with those words does not (确认，验收通过),
# while a client quoting our text keeps them.
# (What is not a word character, or is "_", other than those marks.)
_NOT_TEXT = re.compile(r"(?:[^\w“”‘’「」『』\"']|_)+")
_PIECES = re.compile(r"[\n\t。！？!?；;]|[.:：,，](?=\s)")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _norm(text: str) -> str:
    """The comparable core of a piece of text: folded, without spaces or punctuation
    other than quotation marks."""
    return _NOT_TEXT.sub("", fold(text))


def _significant(norm: str) -> bool:
    """A sentence long enough to be told apart from what a person writes."""
    return len(norm) >= (6 if _CJK.search(norm) else 12)


# A short line that could be someone's whole answer is never taken for a quote, even if
# what we sent has it on a line of its own.
_ANSWER_WORDS = re.compile(r"确认|同意|驳回|通过|认可|收到|好的|可以|没问题|异议|ok|agree|approve|"
                           r"reject|lgtm|yes|no")


def _line_worthy(norm: str) -> bool:
    """Is a whole line worth a fingerprint? Any line but a blank or one that could be
    an answer on its own (确认, 不同意, OK)."""
    if len(norm) < (2 if _CJK.search(norm) else 4):
        return False
    return _significant(norm) or not _ANSWER_WORDS.search(norm)


def _fingerprint(norm: str) -> str:
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=5).hexdigest()


def _pieces(line: str) -> list[str]:
    return [n for n in (_norm(p) for p in _PIECES.split(line)) if _significant(n)]


@functools.lru_cache(maxsize=32768)
def _line_prints(line: str) -> tuple[str, tuple[str, ...]]:
    """A line's comparable form and its fingerprints (the line's and its sentences').
    Cached: most lines of what we send are the templates' own, sent again and again."""
    norm = _norm(line)
    prints = [_fingerprint(norm)] if _line_worthy(norm) else []
    if _PIECES.search(line) is None:  # one sentence: the line itself
        if _significant(norm) and not prints:
            prints.append(_fingerprint(norm))
        return norm, tuple(prints)
    prints += [_fingerprint(piece) for piece in _pieces(line)]
    return norm, tuple(dict.fromkeys(prints))


class Original:
    """The text of a message the daemon sent, as fingerprints of its lines and of the
    sentences in them: enough to recognise any of it quoted in a reply (whatever the
    client did to the quote marks, spacing, width or script), without keeping the text.
    """

    def __init__(self, fingerprints: Iterable[str]) -> None:
        self._known = frozenset(fingerprints)

    @staticmethod
    def fingerprints(*texts: str | None, echo: str | None = None) -> str:
        """Space-separated fingerprints of `texts` (subject, text, HTML already turned
        into text), for the message index. `echo`: the person's own words quoted back
        to them (an ask again): theirs, not ours, and not fingerprinted."""
        found: dict[str, None] = {}
        echoed = {_norm(line) for line in (echo or "").splitlines()}
        for text in texts:
            for line in (text or "").splitlines():
                norm, prints = _line_prints(line)
                if norm in echoed:
                    continue
                for fingerprint in prints:
                    found.setdefault(fingerprint, None)
        return " ".join(found)

    @classmethod
    def of_message(cls, subject: str, text: str, html: str | None,
                   echo: str | None = None) -> str:
        """Fingerprints of a message we send: subject, text and the text of its HTML
        (read without a tree: a client quoting the HTML shows the same words)."""
        return cls.fingerprints(subject, text, plain_html_text(html) if html else None,
                                echo=echo)

    @classmethod
    def load(cls, stored: str | None) -> Original | None:
        return cls(stored.split()) if stored else None

    def knows(self, line: str) -> bool:
        """Does `line` (quote marks and all) come from the original?"""
        body = _LEAD_MARKS.sub("", line)
        norm = _norm(body)
        if not _line_worthy(norm):
            return False
        if _fingerprint(norm) in self._known:
            return True
        pieces = _pieces(body)
        return bool(pieces) and all(_fingerprint(p) in self._known for p in pieces)


# -- reading ------------------------------------------------------------------------------

def _quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _blank(line: str) -> bool:
    return not line.strip() or line.strip() in (">", "|")


def _header_block(lines: list[str], i: int) -> bool:
    """Line i starts a quoted header block (From-like label, then another label)."""
    if _HEADER_START.match(lines[i]):
        following = [ln for ln in lines[i + 1:i + 7] if ln.strip()][:5]
        return any(_HEADER_NEXT.match(ln) for ln in following)
    if _HEADER_NEXT.match(lines[i]) and re.match(
            r"^\s*" + _Q + r"[*_]{0,2}\s*(?:date|datum|data|日\s*期|时\s*间|sent|message du|"
            r"发送时间)\s*[*_]{0,2}\s*[:：]", lines[i], re.IGNORECASE):
        # Date first ("Date: … / From: … / To: …").
        following = [ln for ln in lines[i + 1:i + 5] if ln.strip()][:3]
        return any(_HEADER_START.match(ln) for ln in following) and sum(
            1 for ln in following if _HEADER_NEXT.match(ln) or _HEADER_START.match(ln)) >= 2
    return False


def _quote_start(lines: list[str], i: int) -> int:
    """How many lines a quote header starting at line i takes (0: none here)."""
    line = lines[i]
    if _blank(line):
        return 0
    if _SEPARATOR.match(line):
        return 1
    dashed = _DASHED_ATTRIBUTION.match(line)
    if dashed and (_attribution(dashed.group(1)) or _WROTE_END.search(dashed.group(1))):
        return 1
    if _header_block(lines, i):
        return 1
    if _gmail_old(line):
        return 1
    # "… wrote:" on one line or wrapped over up to three.
    window = ""
    for span in range(4):
        if i + span >= len(lines) or (span and not lines[i + span].strip()):
            break
        if span == 1 and not _starts_attribution(line):
            break
        piece = _LEAD_MARKS.sub("", lines[i + span]).strip()
        window = f"{window} {piece}" if window else piece
        if _attribution(window):
            return span + 1
        inline = re.search(r"(?:^|\s|-{2,})(on\s.{6,150}?\swrote\s*:)\s*$", window,
                           re.IGNORECASE)
        if inline and span == 0 and _DATE.search(inline.group(1)):
            return span + 1
    return 0


def _inline_header(line: str) -> int | None:
    """A reply written on the same line as the quote header ("reply On … wrote:"):
    the index where the header starts."""
    found = re.search(r"(?:-{2,}\s*)?\bon\s[^:]{6,150}?\swrote\s*:\s*$", line, re.IGNORECASE)
    if found and found.start() > 0 and _DATE.search(found.group(0)):
        return found.start()
    return None


def _mark(lines: list[str], original: Original | None) -> list[bool]:
    """For each line, whether it is quoted original (True) or the person's (False)."""
    quoted = [False] * len(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        if _blank(line):
            quoted[i] = _quoted(line)
            i += 1
            continue
        span = _quote_start(lines, i)
        if span:
            header_end = i + span
            following = [j for j in range(header_end, len(lines)) if not _blank(lines[j])]
            marked = following and _quoted(lines[following[0]])
            if marked and not _SEPARATOR.match(line) and not _header_block(lines, i):
                # "… wrote:" then "> " lines: the quote is the "> " lines; what follows
                # them unquoted is the person's again (inline answers, bottom-posting).
                for j in range(i, header_end):
                    quoted[j] = True
                i = header_end
                continue
            if not _has_text(lines[:i], quoted[:i]):
                # Nothing written above the header: the person wrote below the
                # original (bottom-posting); the original ends where "> " lines end, or
                # at the first line that is not from what we sent.
                end = _bottom_quote_end(lines, header_end, original)
                for j in range(i, end):
                    quoted[j] = True
                i = end
                continue
            for j in range(i, len(lines)):
                quoted[j] = True
            break
        if _quoted(line):
            quoted[i] = True
        i += 1
    _wrapped_quote_lines(lines, quoted)
    if original is not None:
        for j, line in enumerate(lines):
            if not quoted[j] and original.knows(line):
                quoted[j] = True
        _short_lines_inside_known(lines, quoted, original)
        _quote_headers_near_known(lines, quoted)
    return quoted


def _wrapped_quote_lines(lines: list[str], quoted: list[bool]) -> None:
    """A long "> " line that the client wrapped leaves its tail unmarked, between two
    quoted lines: it is quote, not an answer (an answer stands apart from the quote)."""
    for j in range(1, len(lines)):
        if quoted[j] or not lines[j].strip() or not _quoted(lines[j - 1]):
            continue
        above = re.sub(r"^\s*(?:>\s?)+", "", lines[j - 1])
        below = lines[j + 1] if j + 1 < len(lines) else ">"
        # A wrap breaks mid-sentence: a quoted line that ends a sentence is followed
        # by an answer, not by its own tail.
        mid_sentence = not re.search(r"[。！？.!?；;：:）)」”\"]\s*$", above)
        if (_width(above) >= 60 and mid_sentence and _quoted(below)
                and _width(lines[j].strip()) < 60):
            quoted[j] = True


def _width(text: str) -> int:
    """Columns on a screen (a Chinese character takes two): where clients wrap."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _has_text(lines: list[str], quoted: list[bool]) -> bool:
    return any(not q and line.strip() for line, q in zip(lines, quoted, strict=True))


def _bottom_quote_end(lines: list[str], start: int, original: Original | None) -> int:
    """Where the original that opens a bottom-posted reply ends: after its last "> "
    line when it is marked. Unmarked (Outlook, Foxmail and QQ quote without marks and
    never put the answer below the quote): after the last line known to be from what
    we sent, and without that knowledge at the very end — all of it is quote, and a
    reply that wrote nothing above it wrote nothing."""
    j = start
    while j < len(lines) and ((_blank(lines[j]) and not _quoted(lines[j]))
                              or _HEADER_NEXT.match(lines[j]) or _HEADER_START.match(lines[j])):
        j += 1
    if j < len(lines) and _quoted(lines[j]):
        while j < len(lines) and (_quoted(lines[j]) or not lines[j].strip()):
            j += 1
        return j
    if original is None:
        return len(lines)
    known = [k for k in range(j, len(lines)) if original.knows(lines[k])]
    return known[-1] + 1 if known else len(lines)


def _short_lines_inside_known(lines: list[str], quoted: list[bool],
                              original: Original) -> None:
    """A short unmarked line between two unmarked lines of ours (自测OK, 决议：通过) is
    too short to carry a fingerprint, and is part of the quote: taking it for the
    person's answer could sign for them."""
    known = [k for k, line in enumerate(lines) if quoted[k] and not _quoted(line)
             and original.knows(line)]
    if len(known) < 2:
        return
    for k in range(known[0] + 1, known[-1]):
        line = lines[k]
        if not quoted[k] and line.strip() and not _quoted(line) and not _significant(
                _norm(line)):
            quoted[k] = True


def _quote_headers_near_known(lines: list[str], quoted: list[bool]) -> None:
    """A quote header the heuristics did not know (a client's own separator or labels)
    stands right above lines from what we sent: a separator line there, or a block of
    short `label: value` lines that names an address and a date, is that header. (A
    person's own `进度：80%` above the quote names neither, and stays.)"""
    for j in range(len(lines)):
        if not quoted[j] or (j and quoted[j - 1]):
            continue
        k = j - 1
        while k >= 0 and _blank(lines[k]):
            k -= 1
        block_end = k
        while k >= 0 and not quoted[k] and lines[k].strip() and block_end - k < 8 and (
                _header_like(lines[k])):
            k -= 1
        block = [lines[m] for m in range(k + 1, block_end + 1)]
        if not block:
            continue
        separators = all(_separator_like(line) for line in block)
        labelled = (len(block) >= 2 and any(_ADDRESS.search(line) for line in block)
                    and any(_DATE.search(line) for line in block))
        if separators or labelled:
            for m in range(k + 1, block_end + 1):
                quoted[m] = True


def _separator_like(line: str) -> bool:
    text = line.strip()
    return bool(re.match(r"^[-_=*~—]{2,}.{0,40}[-_=*~—]{2,}$", text)
                or re.match(r"^[-_=—]{5,}$", text))


def _header_like(line: str) -> bool:
    text = line.strip()
    return bool(
        _separator_like(text)
        or re.match(r"^[*_|]{0,2}\s*[^\s:：|]{1,8}\s*[*_]{0,2}\s*[:：|]", text)
        or _attribution(text) or _WROTE_END.search(text))


# -- signatures --------------------------------------------------------------------------

def _cut_signature(lines: list[str]) -> list[str]:
    for i, line in enumerate(lines):
        signature = _SIG_DELIMITER.match(line) or _DISCLAIMER.match(line) or (
            _PHONE_SIGNATURE.match(line) and not _NOT_A_SIGNATURE.search(
                re.sub(r"^\s*(?:发自|發自|来自|來自|发送自|發送自|从|從)", "", line)
                .replace("发送", "").replace("傳送", "")))
        if signature and any(ln.strip() for ln in lines[:i]):
            return lines[:i]
    return lines


def _drop_signature_block(lines: list[str], names: tuple[str, ...]) -> list[str]:
    """Drop a closing paragraph that is a name card (name, title, department, phone,
    address), and a sign-off line above it. Never one that says anything: a sentence,
    a reason, a decision."""
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and lines[start - 1].strip():
        start -= 1
    block = [line.strip() for line in lines[start:end]]
    if not block or len(block) > 7 or any(len(line) > 60 for line in block):
        return lines
    if any(_NOT_A_SIGNATURE.search(line) for line in block if not _SIGN_OFF.match(line)):
        return lines
    named = any(name and len(name) >= 2 and line.startswith(name)
                for name in names for line in block)
    contact = any(_CONTACT.search(line) for line in block)
    if not (named or contact):
        return lines
    if start == 0:
        return lines  # the whole reply: keep what there is
    return lines[:start]


# -- entry points ----------------------------------------------------------------------

def _lines(text: str) -> list[str]:
    return unicodedata.normalize("NFC", text[:MAX_TEXT_CHARS]).replace("\r\n", "\n").replace(
        "\r", "\n").split("\n")


def strip_quotes(text: str, original: Original | None = None) -> list[str]:
    """The lines of a plain-text reply the person wrote (quotes removed, order kept)."""
    lines = _lines(text)
    # A reply written on the same line as the quote header.
    for i, line in enumerate(lines):
        cut = _inline_header(line)
        if cut is not None and any(_quoted(ln) for ln in lines[i + 1:i + 3]):
            lines = [*lines[:i], line[:cut].rstrip(" -"), line[cut:], *lines[i + 1:]]
            break
    quoted = _mark(lines, original)
    kept: list[str] = []
    for line, q in zip(lines, quoted, strict=True):
        if q:
            if kept and kept[-1].strip():
                kept.append("")  # a quote between two answers separates them
            continue
        kept.append(line)
    return kept


def strip_text(text: str, names: tuple[str, ...] = (),
               original: Original | None = None) -> str:
    """The new text of a plain-text reply. `names`: how the sender signs (to drop a
    closing signature paragraph); `original`: the message it answers, if ours."""
    new = strip_quotes(text, original)
    new = _drop_signature_block(_cut_signature(new), names)
    out: list[str] = []
    for line in new:
        line = line.rstrip()
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out).strip()


_FORWARD_HINT = re.compile(
    r"-{3,}|_{10,}|={5,}|写道|寫道|wrote|撰写|schrieb|escribi|napisa|^[\s>]*[*]*(?:发\s*件\s*人|"
    r"寄件者|from|von|de|da|fra|från|van|od|от)[*]*\s*[:：]", re.IGNORECASE | re.MULTILINE)


def forwarded_texts(text: str) -> list[str]:
    """The originals quoted or forwarded inline in a message, each without its quote
    header (separator, 发件人/发送时间 block or "… 写道："), outermost first: a form
    forwarded from Outlook, QQ Mail or Foxmail is read from here."""
    if not _FORWARD_HINT.search(text):
        return []  # no separator, no header, no attribution: nothing forwarded
    lines = _lines(text)
    found: list[str] = []
    i = 0
    while i < len(lines) and len(found) < 5:
        span = _quote_start(lines, i) if not _blank(lines[i]) else 0
        if not span:
            i += 1
            continue
        j = i + span
        # The header block: labelled lines (and what they wrap onto) up to a blank line.
        while j < len(lines) and lines[j].strip():
            labelled = _HEADER_START.match(lines[j]) or _HEADER_NEXT.match(lines[j])
            following = lines[j + 1] if j + 1 < len(lines) else ""
            # A header value wrapped onto a line of its own, between two labelled lines.
            wrapped = _HEADER_START.match(following) or _HEADER_NEXT.match(following)
            if not (labelled or wrapped):
                break
            j += 1
        body = [re.sub(r"^\s*(?:>\s?)+", "", ln) for ln in lines[j:]]
        if any(ln.strip() for ln in body):
            found.append("\n".join(body).strip())
        i = j
    return found


# HTML containers clients put the quoted original in.
_HTML_QUOTE_SELECTORS = (
    "blockquote", "div.gmail_quote", "div#divRplyFwdMsg", "div#appendonsend",
    "div.moz-cite-prefix", "div#mail-editor-reference-message-container",
    "div.yahoo_quoted", "div#isForwardContent", "div#isReplyContent",
    "div#origbody", "div.ne-quoted", "div#reply-content", "div.zmail_extra",
    "div#ntes-pcmail-quote", "div#ntes-pcmac-signature-quote", "div.qmbox_quote",
    "div#QQMailSignature", "div.protonmail_quote", "div#Zm-_Id_-Sgn",
)
_OUTLOOK_DIVIDER = re.compile(r"border-top\s*:\s*solid\s+#?[0-9a-f]{3,6}\s+1(?:\.0)?pt",
                              re.IGNORECASE)


def strip_html(html: str, names: tuple[str, ...] = (),
               original: Original | None = None) -> str:
    """The new text of an HTML-only reply: quote containers removed, then the text rules."""
    if len(html) > MAX_HTML_CHARS or too_many_tags(html):
        return strip_text(plain_html_text(html), names, original)
    soup = BeautifulSoup(html, "lxml")
    for selector in _HTML_QUOTE_SELECTORS:
        for node in soup.select(selector):
            if selector == "blockquote" and _inline_blockquote(node):
                node.decompose()  # an inline answer follows: only the quote goes
            else:
                _drop_from(node)
    for node in soup.find_all(style=_OUTLOOK_DIVIDER):
        if isinstance(node, Tag):
            _drop_from(node)
    return strip_text(html_to_text(str(soup)), names, original)


def _inline_blockquote(node: Tag) -> bool:
    """A blockquote with the person's own text after it (an answer below a quote)."""
    if node.decomposed:
        return False
    for sibling in node.next_siblings:
        if isinstance(sibling, Tag):
            if sibling.name == "blockquote" or sibling.select_one("blockquote"):
                return True
            if sibling.get_text(strip=True):
                return True
        elif str(sibling).strip():
            return True
    return False


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


def new_text(body: Body, names: tuple[str, ...] = (),
             original: Original | None = None) -> str:
    """The new text of a reply, from its text part when there is one, else its HTML."""
    text = strip_text(body.text, names, original) if body.plain else ""
    if not text and body.html is not None:
        text = strip_html(body.html, names, original)
    return text
