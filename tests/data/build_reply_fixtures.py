"""Builds synthetic reply fixtures from the shapes in CLIENT_FORMATS.md (run once; the outputs are committed).

Every message in replies/ is a reply FROM a person in rules/org.yaml TO collab@example.com,
answering a message the daemon (跨部门协作秘书) sent. Each one imitates what
CLIENT_FORMATS.md (shared/corpus, beside this repository) records of one client: its
subject prefix, its quote header, whether it marks the quoted original with `>`, its
charset and transfer encoding, and the headers it writes. No text of the archives that
file summarises is reproduced; names, addresses and the daemon's wording are made up
here (the daemon's wording follows mail_templates/).

replies/EXPECTED.json maps each file name to what a quote stripper and intent classifier
must find in it:
  new_text  what the person newly wrote: no quote, no client signature such as
            发自我的iPhone, no signature block, no legal disclaimer; trimmed, lines "\n"
  intent    "confirm" | "reject" | "comment"
  reason    for a reject, the text after the rejection words; otherwise null
  client    a short description of the client imitated

Several quoted originals contain 确认, 不确认 or 驳回 on purpose, so that a keyword search
over the whole body gives the wrong answer.

Run: python tests/data/build_reply_fixtures.py
"""


from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import html
import json
import quopri
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "replies"
CST = timezone(timedelta(hours=8))

DAEMON_NAME = "跨部门协作秘书"
DAEMON_ADDR = "collab@example.com"
FOOTER = f"本邮件由{DAEMON_NAME}（{DAEMON_ADDR}）自动发送。回复本邮件即可，请保留主题中的编号。"

PEOPLE = {  # rules/org.yaml
    "王建国": "wang.jianguo@example.com",
    "李静": "li.jing@example.com",
    "张伟": "zhang.wei@example.com",
    "刘洋": "liu.yang@example.com",
    "陈晨": "chen.chen@example.com",
    "赵强": "zhao.qiang@example.com",
    "孙丽": "sun.li@example.com",
    "周杰": "zhou.jie@example.com",
    "吴敏": "wu.min@example.com",
    "郑浩": "zheng.hao@example.com",
    "黄磊": "huang.lei@example.com",
    "何芳": "he.fang@example.com",
    # the same people as a Big5 (traditional) client shows them
    "黃磊": "huang.lei@example.com",
    "跨部門協作秘書": DAEMON_ADDR,
    DAEMON_NAME: DAEMON_ADDR,
}

EXPECTED: dict[str, dict] = {}


# --------------------------------------------------------------------------- helpers

def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def seed(*parts: object) -> bytes:
    """Deterministic 'random' bytes, so a rebuild gives the same files."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).digest()


def encoded_words(text: str, charset: str, used: int = 0) -> list[str]:
    """RFC 2047 B-words split between characters; `used` is what already stands on the
    first line (the header name, ASCII words), so that no line passes 76 characters."""
    overhead = len(f"=?{charset}?B??=")
    room = min(75, 76 - used) - overhead
    words: list[str] = []
    chunk = ""
    for char in text:
        if chunk and len(base64.b64encode((chunk + char).encode(charset))) > room:
            words.append(chunk)
            chunk = ""
            room = 75 - overhead
        chunk += char
    if chunk:
        words.append(chunk)
    return [f"=?{charset}?B?{base64.b64encode(w.encode(charset)).decode()}?=" for w in words]


def ew(text: str, charset: str, used: int = 0, fold: str = "\n ") -> str:
    """A whole header value as encoded words, folded one word a line."""
    return fold.join(encoded_words(text, charset, used))


def ew_tail(text: str, charset: str, used: int = 0, fold: str = "\n ") -> str:
    """Leading ASCII words left as they are, the rest encoded (Gmail, Apple, Mutt, Thunderbird)."""
    words = text.split(" ")
    head = []
    while words and words[0].isascii():
        head.append(words.pop(0))
    tail = " ".join(words)
    prefix = " ".join(head) + " " if head else ""
    return prefix + (ew(tail, charset, used + len(prefix), fold) if tail else "")


def mailbox(name: str, charset: str, quoted: bool = False) -> str:
    word = " ".join(encoded_words(name, charset))
    return f'"{word}" <{PEOPLE[name]}>' if quoted else f"{word} <{PEOPLE[name]}>"


def mailboxes(names: list[str], charset: str, quoted: bool = False, fold: str = ",\n ") -> str:
    return fold.join(mailbox(n, charset, quoted) for n in names)


def b64(text: str, charset: str) -> str:
    return base64.encodebytes(crlf(text).encode(charset)).decode("ascii")


def qp(text: str, charset: str) -> str:
    return quopri.encodestring(text.encode(charset)).decode("ascii")


def part(content_type: str, cte: str, payload: str) -> str:
    return f"Content-Type: {content_type}\nContent-Transfer-Encoding: {cte}\n\n{payload.rstrip(chr(10))}\n"


def multipart(boundary: str, parts: list[str], preamble: str | None = None) -> str:
    out = f"{preamble}\n\n" if preamble else ""
    for p in parts:
        out += f"--{boundary}\n{p}\n"
    return out + f"--{boundary}--\n"


def rfc_date(dt: datetime) -> str:
    return format_datetime(dt)


def cn_date(dt: datetime) -> str:
    return f"{dt.year}年{dt.month}月{dt.day}日"


def who(names: list[str], sep: str = "; ") -> str:
    return sep.join(f"{n} <{PEOPLE[n]}>" for n in names)


def gt_quote(text: str, prefix: str = "> ", blank: str = ">") -> str:
    return "\n".join(prefix + line if line else blank for line in text.split("\n"))


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def filetime(dt: datetime) -> int:
    return int((dt.timestamp() + 11644473600) * 10**7)


def thread_index(dt: datetime, key: str) -> str:
    """Outlook's Thread-Index for a new conversation: FILETIME bytes and a GUID."""
    return base64.b64encode(filetime(dt).to_bytes(8, "big")[:6] + seed(key)[:16]).decode()


def outlook_ids(dt: datetime, key: str) -> tuple[str, str]:
    """Message-ID and multipart boundary the way Outlook (SMTP/IMAP account) makes them."""
    ft = filetime(dt)
    hi, lo = ft >> 32, ft & 0xFFFFFFFF
    rnd = seed(key)
    counter = rnd[0] % 0x40 + 1
    msgid = f"<{counter:04x}{hi:08x}${lo:08x}${rnd[1:5].hex()}$@example.com>"
    boundary = f"----=_NextPart_000_{counter + 1:04X}_{hi:08X}.{lo:08X}"
    return msgid, boundary


def expect(name: str, new_text: str, intent: str, reason: str | None, client: str) -> None:
    EXPECTED[name] = {"new_text": new_text, "intent": intent, "reason": reason, "client": client}


def write(name: str, head: str, body: str | bytes) -> None:
    data = body if isinstance(body, bytes) else crlf(body).encode("ascii")
    (OUT / name).write_bytes(crlf(head.strip("\n") + "\n\n").encode("ascii") + data)


# --------------------------------------------------------------------------- the daemon's messages

@dataclass
class Original:
    """A message the daemon sent, as the replying client quotes it."""

    ref: str                 # orig-<ref>@example.com
    subject: str
    to: list[str]
    cc: list[str]
    sent: datetime
    body: str                # the daemon's text/plain
    sender: str = DAEMON_NAME
    footer: str = FOOTER     # the line under the rule in the daemon's HTML layout

    @property
    def msgid(self) -> str:
        return f"<orig-{self.ref}@example.com>"

    def text(self, footer: bool = True) -> str:
        """The original as text; clients that quote the HTML part also carry its footer."""
        return self.body + (f"\n\n{self.footer}" if footer else "")

    def html(self) -> str:
        """The daemon's HTML body (mail_templates/_layout.html.j2) as a client embeds it."""
        paras = "".join(
            "<p>" + "<br>".join(esc(line) for line in para.split("\n")) + "</p>"
            for para in self.body.split("\n\n"))
        return ("<div style=\"font-family:'PingFang SC','Microsoft YaHei',SimSun,sans-serif;"
                "font-size:14px;line-height:1.6;color:#222\">" + paras +
                "<hr style=\"border:none;border-top:1px solid #ddd;margin-top:24px\">"
                f"<p style=\"color:#888;font-size:12px\">{esc(self.footer)}</p></div>")


def at(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, ss, tzinfo=CST)


def minutes(name: str, xq: str, meeting: str, held: str, items: list[str],
            tail: str = "逾期未回复的，将提醒您的部门负责人。") -> str:
    lines = [f"{name}，您好：", "", f"{meeting}（{xq}）已于{held}召开，会议纪要如下：", ""]
    lines += [f"{i}. {item}" for i, item in enumerate(items, 1)]
    lines += ["", "请在24小时内回复“确认”或“不确认 + 意见”。"]
    lines += [tail] if tail else []
    return "\n".join([*lines, "", DAEMON_NAME])


SALES_ITEMS = [
    "看板按区域、产品线展示周度指标，支持导出Excel。",
    "数据口径以财务月报为准，误差小于1%。",
    "研发部孙丽负责开发，12月15日前提交测试版本。",
    "市场部刘洋负责验收，验收标准见需求表“交付标准”。",
    "下次进度同步会定于12月8日 14:00。",
]
SALES_SUBJECT = "[XQ-2026-0001] 请确认会议纪要：销售数据看板需求评审会"

CLOUD_ITEMS = [
    "采购3台云服务器，租期一年，费用由研发部预算列支。",
    "财务部在12月4日前完成审批。",
    "研发部周杰负责开通与验收。",
]
CLOUD_SUBJECT = "[XQ-2026-0007] 请确认会议纪要：测试环境云资源采购评审会"

CHANNEL_ITEMS = [
    "研发部接入三个主要渠道的投放数据，每日9点前更新。",
    "数据口径由市场部刘洋确认，陈晨负责日常核对。",
    "研发部周杰负责开发，12月22日前完成。",
    "验收时由市场部抽查一周数据，与渠道后台核对。",
]
CHANNEL_SUBJECT = "[XQ-2026-0008] 请确认会议纪要：渠道数据接入需求评审会"


def channel_minutes(name: str) -> str:
    return minutes(name, "XQ-2026-0008", "渠道数据接入需求评审会", "2026年12月1日 09:30", CHANNEL_ITEMS)


# --------------------------------------------------------------------------- Outlook

OUTLOOK_WORD_HEAD = """<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head><meta http-equiv=Content-Type content="text/html; charset={charset}">
<meta name=Generator content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face
	{{font-family:{font};
	panose-1:2 1 6 0 3 1 1 1 1 1;}}
@font-face
	{{font-family:Calibri;
	panose-1:2 15 5 2 2 2 4 3 2 4;}}
/* Style Definitions */
p.MsoNormal, li.MsoNormal, div.MsoNormal
	{{margin:0cm;
	text-align:justify;
	text-justify:inter-ideograph;
	font-size:10.5pt;
	font-family:{font};}}
span.EmailStyle19
	{{mso-style-type:personal-reply;
	font-family:{font};
	color:windowtext;}}
.MsoChpDefault
	{{mso-style-type:export-only;
	font-size:10.0pt;}}
@page WordSection1
	{{size:612.0pt 792.0pt;
	margin:72.0pt 90.0pt 72.0pt 90.0pt;}}
div.WordSection1
	{{page:WordSection1;}}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--><!--[if gte mso 9]><xml>
<o:shapelayout v:ext="edit">
<o:idmap v:ext="edit" data="1" />
</o:shapelayout></xml><![endif]-->
</head>
<body lang={lang} link="#0563C1" vlink="#954F72" style='text-justify-trim:punctuation'>
<div class=WordSection1>
"""


def word_html(new_text: str, rows: list[tuple[str, str]], orig: Original, charset: str,
              lang: str, font: str) -> str:
    """Outlook desktop (Word) HTML: the reply, the border-top divider with the 发件人 block,
    the original re-rendered as MsoNormal paragraphs."""
    blank = "<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>\n"

    def para(line: str, style: str = "") -> str:
        if not line:
            return blank
        return f"<p class=MsoNormal><span lang={lang}{style}>{esc(line)}</span><span lang=EN-US><o:p></o:p></span></p>\n"

    out = OUTLOOK_WORD_HEAD.format(charset=charset, lang=lang, font=font)
    out += "".join(para(line) for line in new_text.split("\n")) + blank
    out += ("<div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm'>\n"
            "<p class=MsoNormal align=left style='text-align:left'>")
    out += "<br>\n".join(
        f"<b><span lang={lang} style='font-size:11.0pt'>{label}<span lang=EN-US>:</span></span></b>"
        f"<span lang=EN-US style='font-size:11.0pt'> {esc(value)}</span>" for label, value in rows)
    out += "<span lang=EN-US style='font-size:11.0pt'><o:p></o:p></span></p></div></div>\n" + blank
    out += "".join(para(line) for line in orig.body.split("\n")) + blank
    out += para(orig.footer, " style='font-size:9.0pt;color:#888888'")
    return out + "</div>\n</body>\n</html>\n"


def outlook_owa_reply_confirm() -> None:
    """Outlook zh-CN, newer style (OWA / new Outlook on Exchange): the reply, a line of
    underscores, 发件人:/发送时间:/收件人:/抄送:/主题: with ASCII colons; HTML quote opens
    with <hr> + <div id="divRplyFwdMsg">. gb2312, base64, multipart/alternative."""
    name = "outlook_zhcn_reply_confirm.eml"
    orig = Original("0101", SALES_SUBJECT, ["孙丽"], ["赵强", "刘洋"], at(1, 10, 5, 12),
                    minutes("孙丽", "XQ-2026-0001", "销售数据看板需求评审会", "2026年12月1日 09:00", SALES_ITEMS))
    new = "确认"
    sent = at(1, 10, 31, 7)
    rows = [("发件人", f"{DAEMON_NAME} <{DAEMON_ADDR}>"),
            ("发送时间", f"{cn_date(orig.sent)} {orig.sent:%H:%M:%S}"),
            ("收件人", who(orig.to)), ("抄送", who(orig.cc)), ("主题", orig.subject)]
    text = (f"{new}\n\n________________________________\n"
            + "\n".join(f"{k}: {v}" for k, v in rows) + "\n\n" + orig.text() + "\n")
    html_rows = "<br>\n".join(f"<b>{k}:</b> {esc(v)}" for k, v in rows)
    body_html = f"""<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<style type="text/css" style="display:none;"> P {{margin-top:0;margin-bottom:0;}} </style>
</head>
<body dir="ltr">
<div class="elementToProof" style="font-family: Aptos, Aptos_EmbeddedFont, Aptos_MSFontService, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">
{esc(new)}</div>
<div id="appendonsend"></div>
<hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000">{html_rows}</font>
<div>&nbsp;</div>
</div>
{orig.html()}
</body>
</html>
"""
    hexid = seed(name).hex()[:32]
    boundary = f"_000_{hexid}EXCH01examplecom_"
    head = f"""
Received: from EXCH01.example.com (10.1.1.20) by EXCH02.example.com
 (10.1.1.21) with Microsoft SMTP Server (version=TLS1_2,
 cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.1.2507.39; Tue, 1 Dec 2026
 10:31:08 +0800
From: {mailbox("孙丽", "gb2312")}
To: {mailbox(DAEMON_NAME, "gb2312")}
CC: {mailboxes(["赵强", "刘洋"], "gb2312")}
Subject: {ew("答复: " + orig.subject, "gb2312", 9)}
Thread-Topic: {ew(orig.subject, "gb2312", 14)}
Thread-Index: {thread_index(sent, name)}
Date: {rfc_date(sent)}
Message-ID: <{hexid}@EXCH01.example.com>
References: {orig.msgid}
In-Reply-To: {orig.msgid}
Accept-Language: zh-CN, en-US
Content-Language: zh-CN
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
x-ms-exchange-messagesentrepresentingtype: 1
x-ms-exchange-transport-fromentityheader: Hosted
x-originating-ip: [10.1.5.31]
Content-Type: multipart/alternative;
\tboundary="{boundary}"
MIME-Version: 1.0
"""
    body = multipart(boundary, [
        part('text/plain; charset="gb2312"', "base64", b64(text, "gb2312")),
        part('text/html; charset="gb2312"', "base64", b64(body_html, "gb2312")),
    ])
    write(name, head, body)
    expect(name, new, "confirm", None,
           "Outlook zh-CN (OWA/new Outlook): underscores line + 发件人/发送时间 block; "
           "HTML divRplyFwdMsg; gb2312 base64 multipart/alternative")


def outlook_2007_old_reply_reject() -> None:
    """Outlook zh-CN, older: plain text, -----原始邮件----- then the labels, the original
    below without > marks. gb2312 label, base64."""
    name = "outlook_zhcn_old_reply_reject.eml"
    orig = Original("0102", SALES_SUBJECT, ["刘洋"], ["张伟", "孙丽"], at(1, 10, 5, 12),
                    minutes("刘洋", "XQ-2026-0001", "销售数据看板需求评审会", "2026年12月1日 09:00", SALES_ITEMS))
    new = "不确认。\n第3条的截止时间应为12月20日，不是12月15日。"
    sent = at(1, 11, 12, 36)
    msgid, _ = outlook_ids(sent, name)
    text = (f"{new}\n\n-----原始邮件-----\n"
            f"发件人: {DAEMON_NAME} [mailto:{DAEMON_ADDR}] \n"
            f"发送时间: {cn_date(orig.sent)} {orig.sent:%H:%M}\n"
            f"收件人: 刘洋\n抄送: 张伟; 孙丽\n主题: {orig.subject}\n\n{orig.text()}\n")
    head = f"""
From: {mailbox("刘洋", "gb2312")}
To: {mailbox(DAEMON_NAME, "gb2312")}
Cc: {mailboxes(["张伟", "孙丽"], "gb2312")}
References: {orig.msgid}
In-Reply-To: {orig.msgid}
Subject: {ew("答复: " + orig.subject, "gb2312", 9)}
Date: {rfc_date(sent)}
Message-ID: {msgid}
MIME-Version: 1.0
Content-Type: text/plain;
\tcharset="gb2312"
Content-Transfer-Encoding: base64
X-Mailer: Microsoft Office Outlook 12.0
Thread-Index: {thread_index(sent, name)}
Content-Language: zh-cn
"""
    write(name, head, b64(text, "gb2312"))
    expect(name, new, "reject", "第3条的截止时间应为12月20日，不是12月15日。",
           "Outlook 2007 zh-CN, plain text: -----原始邮件----- separator; gb2312 base64")


def outlook_en_ui_reply_confirm() -> None:
    """Outlook with an English UI used by a Chinese sender: RE: prefix,
    -----Original Message----- then From: 名字 [mailto:addr] / Sent: / To: / Cc: / Subject:;
    body gb2312 (quoted-printable)."""
    name = "outlook_en_ui_reply_confirm.eml"
    body = "\n".join([
        "赵强，您好：", "",
        "需求 XQ-2026-0002「报销系统数据接口」的评审结论如下：", "",
        "评审结论：通过，按原计划排期",
        "负责人：研发部 周杰",
        "计划完成时间：2026年12月25日",
        "交付标准：接口文档与测试环境可用，财务部联调通过。", "",
        "作为研发部负责人，请在24小时内回复“确认”或“不确认 + 意见”。",
        "确认后，系统将按计划完成时间跟进进度。", "", DAEMON_NAME])
    orig = Original("0103", "[XQ-2026-0002] 请确认需求评审结论：报销系统数据接口",
                    ["赵强"], ["吴敏", "孙丽"], at(1, 10, 44, 3), body)
    new = "已确认，谢谢"
    sent = at(1, 11, 2, 19)
    msgid, _ = outlook_ids(sent, name)
    text = (f"{new}\n\n-----Original Message-----\n"
            f"From: {DAEMON_NAME} [mailto:{DAEMON_ADDR}] \n"
            f"Sent: Tuesday, December 1, 2026 10:44 AM\n"
            f"To: {who(orig.to)}\nCc: {who(orig.cc)}\nSubject: {orig.subject}\n\n{orig.text()}\n")
    head = f"""
From: {mailbox("赵强", "gb2312")}
To: {mailbox(DAEMON_NAME, "gb2312")}
Cc: {mailboxes(["吴敏", "孙丽"], "gb2312")}
References: {orig.msgid}
In-Reply-To: {orig.msgid}
Subject: {ew("RE: " + orig.subject, "gb2312", 9)}
Date: {rfc_date(sent)}
Message-ID: {msgid}
MIME-Version: 1.0
Content-Type: text/plain;
\tcharset="gb2312"
Content-Transfer-Encoding: quoted-printable
X-Mailer: Microsoft Outlook 15.0
Thread-Index: {thread_index(sent, name)}
Content-Language: en-us
"""
    write(name, head, qp(text, "gb2312"))
    expect(name, new, "confirm", None,
           "Outlook 2013, English UI, plain text: -----Original Message----- / From: [mailto:] / "
           "Sent:; gb2312 quoted-printable")


def outlook_desktop_reply_with_reject_words() -> None:
    """Outlook desktop zh-CN (Word HTML): the text part has the 发件人 block straight after
    the reply (no separator line); the HTML quote opens with the border-top divider. The
    original asks for 确认 and mentions 不确认 and 驳回. gb2312, base64 text, QP HTML."""
    name = "confirm_above_quote_with_reject_words.eml"
    # Shaped like mail_templates/acceptance_request.txt.j2: a second delivery, whose
    # note from the deliverer mentions the first round's 不确认, and the daemon's own
    # instruction to answer 驳回.
    body = "\n".join([
        "刘洋，您好：", "",
        "研发部的 周杰 已提交需求 XQ-2026-0008「渠道数据接入」的交付物（第2次）：", "",
        "已按上次验收“不确认”的意见修改：渠道后台的时区差已修正，日报改为每日8:30前更新。", "",
        "交付标准：每日9点前数据可查，抽查一周数据与渠道后台一致。", "",
        "请于 2026年12月23日（周三）18:00 前直接回复本邮件：",
        "- 回复“确认”表示验收通过；",
        "- 回复“驳回”并写明整改意见（可附新的完成日期，如“驳回：数据口径不对，12月25日前重新交付”）。", "",
        "只有您本人对本邮件的回复计为验收意见。", "", DAEMON_NAME])
    orig = Original("0119", "[XQ-2026-0008] 请验收交付物（第2次）：渠道数据接入", ["刘洋"], ["张伟"],
                    at(21, 15, 2, 40), body)
    new = "确认"
    sent = at(21, 16, 20, 5)
    msgid, boundary = outlook_ids(sent, name)
    rows = [("发件人", f"{DAEMON_NAME} <{DAEMON_ADDR}>"),
            ("发送时间", f"{cn_date(orig.sent)} {orig.sent:%H:%M}"),
            ("收件人", who(orig.to)), ("抄送", who(orig.cc)), ("主题", orig.subject)]
    text = f"{new}\n\n" + "\n".join(f"{k}: {v}" for k, v in rows) + "\n\n" + orig.text() + "\n"
    body_html = word_html(new, rows, orig, "gb2312", "ZH-CN", "等线")
    head = f"""
From: {mailbox("刘洋", "gb2312")}
To: {mailbox(DAEMON_NAME, "gb2312")}
Cc: {mailbox("张伟", "gb2312")}
References: {orig.msgid}
In-Reply-To: {orig.msgid}
Subject: {ew("答复: " + orig.subject, "gb2312", 9)}
Date: {rfc_date(sent)}
Message-ID: {msgid}
MIME-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="{boundary}"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: {thread_index(sent, name)}
Content-Language: zh-cn
"""
    body = multipart(boundary, [
        part('text/plain;\n\tcharset="gb2312"', "base64", b64(text, "gb2312")),
        part('text/html;\n\tcharset="gb2312"', "quoted-printable", qp(body_html, "gb2312")),
    ], preamble="This is a multipart message in MIME format.")
    write(name, head, body)
    expect(name, new, "confirm", None,
           "Outlook 2016+ desktop zh-CN (Word HTML): 发件人 block with no separator line, HTML "
           "border-top #E1E1E1 divider; gb2312; original contains 不确认 and 驳回")


def outlook_zhtw_reply_confirm() -> None:
    """Outlook desktop zh-TW: 回覆: prefix, Big5 subject and body, 寄件者:/寄件日期:/收件者:/
    副本:/主旨:; Word HTML with the border-top divider. Big5 quoted-printable."""
    name = "outlook_zhtw_reply_confirm.eml"
    body = "\n".join([
        "黃磊，您好：", "",
        "門市報表欄位說明需求評審會（XQ-2026-0005）已於2026年12月1日 09:30召開，會議紀要如下：", "",
        "1. 研發部提供新欄位的定義與計算方式文件。",
        "2. 文件於12月15日前提交，由營運部確認。",
        "3. 報表團隊依文件自行維護，研發部提供一次培訓。", "",
        "請在24小時內回覆「確認」或「不確認 + 意見」。",
        "逾期未回覆的，將提醒您的部門負責人。", "",
        "跨部門協作秘書"])
    orig = Original("0116", "[XQ-2026-0005] 請確認會議紀要：門市報表欄位說明需求評審會",
                    ["黃磊"], ["何芳"], at(1, 10, 22, 30), body, sender="跨部門協作秘書",
                    footer="本郵件由跨部門協作秘書（collab@example.com）自動發送。回覆本郵件即可，請保留主旨中的編號。")
    new = "確認"
    sent = at(1, 10, 48, 30)
    msgid, boundary = outlook_ids(sent, name)
    rows = [("寄件者", f"{orig.sender} <{DAEMON_ADDR}>"),
            ("寄件日期", f"{cn_date(orig.sent)} 上午 {orig.sent:%I:%M}".replace(" 0", " ")),
            ("收件者", who(orig.to)), ("副本", who(orig.cc)), ("主旨", orig.subject)]
    text = f"{new}\n\n" + "\n".join(f"{k}: {v}" for k, v in rows) + "\n\n" + orig.text() + "\n"
    body_html = word_html(new, rows, orig, "big5", "ZH-TW", "新細明體")
    head = f"""
From: {mailbox("黃磊", "big5")}
To: {mailbox("跨部門協作秘書", "big5")}
Cc: {mailbox("何芳", "big5")}
References: {orig.msgid}
In-Reply-To: {orig.msgid}
Subject: {ew("回覆: " + orig.subject, "big5", 9)}
Date: {rfc_date(sent)}
Message-ID: {msgid}
MIME-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="{boundary}"
X-Mailer: Microsoft Outlook 16.0
Thread-Index: {thread_index(sent, name)}
Content-Language: zh-tw
"""
    body = multipart(boundary, [
        part('text/plain;\n\tcharset="big5"', "quoted-printable", qp(text, "big5")),
        part('text/html;\n\tcharset="big5"', "quoted-printable", qp(body_html, "big5")),
    ], preamble="This is a multipart message in MIME format.")
    write(name, head, body)
    expect(name, new, "confirm", None,
           "Outlook 2016+ desktop zh-TW: 寄件者/寄件日期/收件者/副本/主旨 block, Word HTML "
           "border-top divider; Big5 quoted-printable, Big5 encoded-word subject")


# --------------------------------------------------------------------------- Foxmail, QQ Mail

DISCLAIMER_ZH = ("【保密声明】本邮件及其附件含有本公司的保密信息，仅供上述收件人使用。未经授权，任何人不得以"
                 "任何形式使用、披露、复制或传播本邮件中的全部或部分内容。如果您误收了本邮件，请立即通过电话"
                 "或邮件通知发件人，并删除本邮件及其附件。")
DISCLAIMER_EN = ("This e-mail and its attachments contain confidential information from Example Co., "
                 "Ltd., which is intended only for the person or entity whose address is listed above. "
                 "Any use, disclosure, copying or distribution of the information contained herein, in "
                 "whole or in part, by anyone other than the intended recipient is prohibited. If you "
                 "have received this e-mail in error, please notify the sender by phone or e-mail "
                 "immediately and delete it together with its attachments.")


def foxmail_reply_confirm_disclaimer() -> None:
    """Foxmail 7.2 (cn): the reply, the signature block, the legal disclaimer, then the
    原始邮件 line and 发件人： 名字<mailto:addr> (full-width colon, space). gb2312 base64,
    multipart/alternative; quoted encoded words in From/To as Foxmail writes them."""
    name = "foxmail_reply_confirm_disclaimer.eml"
    body = minutes("吴敏", "XQ-2026-0002", "报销系统数据接口需求评审会", "2026年12月1日 09:30", [
        "研发部开放报销系统只读接口，按日推送已审批单据。",
        "接口文档由研发部周杰编写，12月10日前提交。",
        "财务部郑浩负责联调，测试环境由研发部提供。",
        "年底结账前完成上线，结账周期目标由5天缩短到3天。"])
    orig = Original("0104", "[XQ-2026-0002] 请确认会议纪要：报销系统数据接口需求评审会", ["吴敏"], ["郑浩"],
                    at(1, 10, 16, 40), body)
    new = "确认无误"
    sent = at(1, 10, 40, 18)
    signature = ["吴敏", "财务部  部门负责人", "电话：0755-8888 6021   手机：138 0013 8021"]
    header = [("发件人", f"{DAEMON_NAME}<mailto:{DAEMON_ADDR}>"),
              ("发送时间", f"{orig.sent:%Y-%m-%d %H:%M}"),
              ("收件人", "吴敏<mailto:wu.min@example.com>"),
              ("抄送", "郑浩<mailto:zheng.hao@example.com>"),
              ("主题", orig.subject)]
    text = (f"{new}\n\n\n\n" + "\n".join(signature) + "\n\n" + DISCLAIMER_ZH + "\n" + DISCLAIMER_EN
            + "\n \n------------------ 原始邮件 ------------------\n"
            + "\n".join(f"{k}： {v}" for k, v in header) + "\n \n" + orig.text() + "\n")
    html_header = "".join(
        f"<div><b>{k}：</b>&nbsp;{v}</div>" for k, v in [
            ("发件人", f'<a href="mailto:{DAEMON_ADDR}">{DAEMON_NAME}</a>'),
            ("发送时间", f"{orig.sent:%Y-%m-%d}&nbsp;{orig.sent:%H:%M}"),
            ("收件人", '<a href="mailto:wu.min@example.com">吴敏</a>'),
            ("抄送", '<a href="mailto:zheng.hao@example.com">郑浩</a>'),
            ("主题", esc(orig.subject))])
    body_html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=gb2312">'
        "<style>body { line-height: 1.5; }blockquote { margin-top: 0px; margin-bottom: 0px; "
        "margin-left: 0.5em; }body { font-size: 14px; font-family: 'Microsoft YaHei UI'; "
        "color: rgb(0, 0, 0); line-height: 1.5; }</style></head><body>\n"
        f"<div><span></span>{esc(new)}</div>\n<div><br></div>"
        '<hr style="width: 210px; height: 1px;" color="#b5c4df" size="1" align="left">\n'
        '<div><span><div style="MARGIN: 10px; FONT-FAMILY: verdana; FONT-SIZE: 10pt">'
        + "".join(f"<div>{esc(s)}</div>" for s in signature)
        + f'<div><br></div><div style="color: rgb(128, 128, 128); font-size: 12px;">{esc(DISCLAIMER_ZH)}'
        f"<br>{esc(DISCLAIMER_EN)}</div></div></span></div>\n"
        '<blockquote style="margin-Top: 0px; margin-Bottom: 0px; margin-Left: 0.5em; margin-Right: inherit">'
        '<div>&nbsp;</div><div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
        "------------------&nbsp;原始邮件&nbsp;------------------</div>"
        '<div style="border:none;border-top:solid #B5C4DF 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
        '<div style="PADDING-RIGHT: 8px; PADDING-LEFT: 8px; FONT-SIZE: 12px;FONT-FAMILY:tahoma;'
        'COLOR:#000000; BACKGROUND: #efefef; PADDING-BOTTOM: 8px; PADDING-TOP: 8px">'
        f"{html_header}</div></div><div><br></div>\n{orig.html()}</blockquote>\n</body></html>\n")
    boundary = "----=_001_NextPart" + str(int.from_bytes(seed(name)[:6], "big"))[:12] + "_=----"
    guid = str(uuid.UUID(bytes=seed(name, "guid")[:16], version=4)).upper()
    head = f"""
Date: {rfc_date(sent)}
From: {mailbox("吴敏", "gb2312", quoted=True)}
To: {mailbox(DAEMON_NAME, "gb2312", quoted=True)}
Cc: {mailbox("郑浩", "gb2312", quoted=True)}
Subject: {ew("回复: " + orig.subject, "gb2312", 9)}
References: {orig.msgid}
In-Reply-To: {orig.msgid}
X-Priority: 3
X-GUID: {guid}
X-Has-Attach: no
X-Mailer: Foxmail 7.2.25.228[cn]
Mime-Version: 1.0
Message-ID: <{sent:%Y%m%d%H%M%S}{int.from_bytes(seed(name)[6:9], "big") % 10**6:06d}@example.com>
Content-Type: multipart/alternative;
\tboundary="{boundary}"
"""
    body = multipart(boundary, [
        part('text/plain;\n\tcharset="gb2312"', "base64", b64(text, "gb2312")),
        part('text/html;\n\tcharset="gb2312"', "base64", b64(body_html, "gb2312")),
    ], preamble="This is a multi-part message in MIME format.")
    write(name, head, body)
    expect(name, new, "confirm", None,
           "Foxmail 7.2 (cn): signature + Chinese/English disclaimer before 原始邮件 line and "
           "发件人： 名字<mailto:addr> block; gb2312 base64 multipart/alternative")


def qqmail_reply_reject() -> None:
    """QQ Mail web: stacked 回复：回复：, 原始邮件 line (&nbsp; in HTML), 发件人: "名字"<addr>;
    with ASCII colons and 发送时间: 2026年12月1日(星期二) 上午10:22. UTF-8 base64."""
    name = "qqmail_reply_reject.eml"
    body = "\n".join([
        "张伟，您好：", "",
        "您上一封回复中没有找到“确认”或“不确认”，系统暂未记录您的意见。",
        "需求 XQ-2026-0004「双十二活动投放」的预算方案如下：", "",
        "预算总额：50万元",
        "线上投放35万元，线下物料10万元，备用金5万元",
        "审批流程：市场部负责人确认后，报协作小组组长备案", "",
        "请直接回复“确认”，或回复“不确认”并写明调整建议。", "", DAEMON_NAME])
    # The daemon answered his earlier QQ Mail reply keeping its subject; QQ stacks another 回复：.
    orig = Original("0105", "回复：[XQ-2026-0004] 请确认预算方案：双十二活动投放", ["张伟"], ["吴敏"],
                    at(1, 10, 22, 6), body)
    new = "不同意，预算需要重新评估，下周一前给出新方案。"
    sent = at(1, 10, 47, 55)
    when = "2026年12月1日(星期二) 上午10:22"
    text = (f"{new}\n\n\n\n------------------ 原始邮件 ------------------\n"
            f'发件人: "{DAEMON_NAME}"<{DAEMON_ADDR}>;\n发送时间: {when}\n'
            f'收件人: "张伟"<zhang.wei@example.com>;\n抄送: "吴敏"<wu.min@example.com>;\n'
            f"主题: {orig.subject}\n\n\n\n{orig.text()}\n")
    body_html = (
        '<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
        f"<div>{esc(new)}</div><div><br></div><div><br></div>"
        '<div style="font-size: 12px;font-family: Arial Narrow;padding:2px 0 2px 0;">'
        "------------------&nbsp;原始邮件&nbsp;------------------</div>"
        '<div style="font-size: 12px;background:#efefef;padding:8px;">'
        f'<div><b>发件人:</b> "{DAEMON_NAME}"&lt;{DAEMON_ADDR}&gt;;</div>'
        f"<div><b>发送时间:</b>&nbsp;{when}</div>"
        '<div><b>收件人:</b>&nbsp;"张伟"&lt;zhang.wei@example.com&gt;;<wbr></div>'
        '<div><b>抄送:</b>&nbsp;"吴敏"&lt;wu.min@example.com&gt;;<wbr></div>'
        f"<div></div><div><b>主题:</b>&nbsp;{esc(orig.subject)}</div></div><div><br></div>"
        + orig.html())
    boundary = "----=_NextPart_" + "_".join(seed(name)[i:i + 4].hex().upper() for i in (0, 4, 8))
    head = f"""
X-QQ-mid: bizesmtp{int.from_bytes(seed(name)[:4], "big")}t1764557275t{seed(name)[4:6].hex()}
X-QQ-ORGSender: zhang.wei@example.com
From: {mailbox("张伟", "utf-8", quoted=True)}
To: {mailbox(DAEMON_NAME, "utf-8", quoted=True)}
Cc: {mailbox("吴敏", "utf-8", quoted=True)}
Subject: {ew("回复：" + orig.subject, "utf-8", 9)}
Mime-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="{boundary}"
Content-Transfer-Encoding: 8Bit
Date: {rfc_date(sent)}
X-Priority: 3
Message-ID: <tencent_{seed(name, "id").hex()[:24].upper()}@qq.com>
References: <orig-0095@example.com>
\t<tencent_{seed(name, "earlier").hex()[:24].upper()}@qq.com>
\t{orig.msgid}
In-Reply-To: {orig.msgid}
X-QQ-ReplyHash: {int.from_bytes(seed(name, "hash")[:4], "big")}
X-QQ-MIME: TCMime 1.0 by Tencent
X-Mailer: QQMail 2.x
X-QQ-Mailer: QQMail 2.x
"""
    body = multipart(boundary, [
        part('text/plain;\n\tcharset="utf-8"', "base64", b64(text, "utf-8")),
        part('text/html;\n\tcharset="utf-8"', "base64", b64(body_html, "utf-8")),
    ], preamble="This is a multi-part message in MIME format.")
    write(name, head, body)
    expect(name, new, "reject", "预算需要重新评估，下周一前给出新方案。",
           "QQ Mail web: stacked 回复：回复：, 原始邮件 line, 发件人: \"名字\"<addr>; block; "
           "UTF-8 base64 multipart/alternative")


# --------------------------------------------------------------------------- NetEase Coremail

def coremail_head(name: str, person: str, subject: str, orig: Original, sent: datetime,
                  content_type: str, charset: str) -> str:
    local = PEOPLE[person].replace("@", "$")
    return f"""
Received: from {local} ( [10.1.5.{40 + seed(name)[0] % 100}] ) by
 ajax-webmail-mail.example.com (Coremail) ; {rfc_date(sent)} (GMT+08:00)
X-Originating-IP: [10.1.5.{40 + seed(name)[0] % 100}]
Date: {rfc_date(sent)} (CST)
From: {mailbox(person, charset)}
To: {mailbox(DAEMON_NAME, charset)}
Subject: {ew(subject, charset, 9)}
X-Priority: 3
X-Mailer: Coremail Webmail Server Version XT5.0.14 build 20230109(dcb5de15)
 Copyright (c) 2002-2026 www.mailtech.cn example
In-Reply-To: {orig.msgid}
References: {orig.msgid}
{content_type}
MIME-Version: 1.0
Message-ID: <{seed(name).hex()[:8]}.{seed(name).hex()[8:12]}.{seed(name).hex()[12:23]}.Coremail.{PEOPLE[person]}>
X-Coremail-Locale: zh_CN
X-CM-TRANSID:{base64.b64encode(seed(name, "t")[:18]).decode()}
X-CM-SenderInfo: {base64.b32encode(PEOPLE[person].split("@")[0].encode()).decode().lower().rstrip("=")}
X-Coremail-Antispam: 1U5529EdanIXcx71UUUUU7vcSsGvfC2KfnxnUU==
"""


def netease_reply_confirm_gt() -> None:
    """NetEase Coremail webmail in plain-text mode: Re: prefix (no space), the reply, blank
    lines, At 2026-12-01 11:39:53, "名字" <addr> wrote: and the original behind >. GBK base64."""
    name = "netease_reply_confirm_gt.eml"
    body = minutes("何芳", "XQ-2026-0006", "会员积分规则说明需求评审会", "2026年12月1日 10:30", [
        "市场部出具积分规则说明与客服话术，12月9日前提交初稿。",
        "运营部何芳负责审核，并发布到客服知识库。",
        "发布前由市场部刘洋组织一次客服培训。"])
    orig = Original("0106", "[XQ-2026-0006] 请确认会议纪要：会员积分规则说明需求评审会", ["何芳"], [],
                    at(1, 11, 39, 53), body)
    new = "OK"
    sent = at(1, 11, 52, 31)
    text = (f"{new}\n\n\n\n\n\n\n"
            f'At {orig.sent:%Y-%m-%d %H:%M:%S}, "{DAEMON_NAME}" <{DAEMON_ADDR}> wrote:\n'
            + gt_quote(orig.text(footer=False), prefix=">") + "\n")
    head = coremail_head(name, "何芳", "Re:" + orig.subject, orig, sent,
                         "Content-Type: text/plain; charset=GBK\nContent-Transfer-Encoding: base64", "GBK")
    write(name, head, b64(text, "gbk"))
    expect(name, new, "unclear", None,
           "NetEase Coremail webmail, plain-text mode: At ..., \"名字\" <addr> wrote: with > "
           "quoting; GBK base64")


def netease_reply_confirm_noquote_marks() -> None:
    """NetEase Coremail webmail, HTML compose: the text part (derived from the HTML) has
    在 2026-12-01 17:44:48，"名字" <addr> 写道： and then the original WITHOUT > marks; the
    HTML quotes it in <blockquote id="isReplyContent">. Re:Re: prefix. UTF-8 base64."""
    name = "netease_reply_confirm_noquote_marks.eml"
    body = "\n".join([
        "郑浩，您好：", "",
        "您的回复“收到”未能识别为“确认”或“不确认”，系统暂未记录您的意见。",
        "测试环境云资源采购评审会（XQ-2026-0007）纪要要点：", ""]
        + [f"{i}. {item}" for i, item in enumerate(CLOUD_ITEMS, 1)]
        + ["", "请回复“确认”；如有异议，请回复“不确认”并写明意见。", "", DAEMON_NAME])
    # He had answered 收到 from a phone (Re: ...); the daemon asked again keeping that subject.
    orig = Original("0107", "Re: " + CLOUD_SUBJECT, ["郑浩"], [], at(1, 17, 44, 48), body)
    new = "同意。"
    sent = at(1, 18, 2, 44)
    header = f'在 {orig.sent:%Y-%m-%d %H:%M:%S}，"{DAEMON_NAME}" <{DAEMON_ADDR}> 写道：'
    text = f"{new}\n\n\n\n\n{header}\n\n{orig.text()}\n"
    body_html = (
        '<div style="line-height:1.7;color:#000000;font-size:14px;font-family:Arial">'
        f'<p style="margin:0;">{esc(new)}</p><p style="margin:0;"><br></p>'
        '<p style="margin:0;"><br></p><div style="position:relative;zoom:1"></div>'
        '<div id="divNeteaseMailCard"></div><p style="margin:0;"><br></p>'
        f"<p>{esc(header)}</p>"
        '<blockquote id="isReplyContent" style="PADDING-LEFT: 1ex; MARGIN: 0px 0px 0px 0.8ex; '
        f'BORDER-LEFT: #ccc 1px solid">{orig.html()}</blockquote></div>')
    boundary = f"----=_Part_{int.from_bytes(seed(name)[:3], 'big')}_{int.from_bytes(seed(name)[3:7], 'big')}.1764583364221"
    head = coremail_head(name, "郑浩", "Re:" + orig.subject, orig, sent,
                         f'Content-Type: multipart/alternative; \n\tboundary="{boundary}"', "UTF-8")
    body = multipart(boundary, [
        part("text/plain; charset=UTF-8", "base64", b64(text, "utf-8")),
        part("text/html; charset=UTF-8", "base64", b64(body_html, "utf-8")),
    ])
    write(name, head, body)
    expect(name, new, "confirm", None,
           "NetEase Coremail webmail, HTML compose: 在 ...，\"名字\" <addr> 写道： then the original "
           "without > marks; Re:Re: subject; UTF-8 base64 multipart/alternative")


# --------------------------------------------------------------------------- Gmail

GMAIL_BLOCKQUOTE = ('<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
                    'border-left:1px solid rgb(204,204,204);padding-left:1ex">')


def gmail_id(name: str) -> str:
    raw = base64.urlsafe_b64encode(seed(name, "gmail")[:30]).decode().rstrip("=")
    return f"<CA{raw[:2]}{raw[2:].replace('-', '=')}@mail.gmail.com>"


def gmail_message(name: str, person: str, orig: Original, sent: datetime, new: str,
                  attr_text: str, attr_html: str, mobile: bool = False) -> None:
    """Gmail (web or Android app): text part quotes with > (blank lines >), HTML quote is
    div.gmail_quote > div.gmail_attr + blockquote.gmail_quote. UTF-8; base64 text, QP HTML."""
    text = f"{new}\n\n{attr_text}\n\n" + gt_quote(orig.text()) + "\n"
    if mobile:
        body_html = (f'<div dir="auto">{esc(new)}</div><br><div class="gmail_quote">'
                     f'<div dir="ltr" class="gmail_attr">{attr_html}<br></div>'
                     '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;'
                     f'padding-left:1ex">{orig.html()}</blockquote></div>\n')
    else:
        body_html = (f'<div dir="ltr">{esc(new)}</div><br><div class="gmail_quote gmail_quote_container">'
                     f'<div dir="ltr" class="gmail_attr">{attr_html}<br></div>'
                     f"{GMAIL_BLOCKQUOTE}{orig.html()}</blockquote></div>\n")
    boundary = "000000000000" + seed(name, "b").hex()[:16]
    head = f"""
MIME-Version: 1.0
References: {orig.msgid}
In-Reply-To: {orig.msgid}
From: {mailbox(person, "UTF-8")}
Date: {rfc_date(sent)}
Message-ID: {gmail_id(name)}
Subject: {ew_tail("Re: " + orig.subject, "UTF-8", 9)}
To: {mailbox(DAEMON_NAME, "UTF-8")}
Content-Type: multipart/alternative; boundary="{boundary}"
"""
    body = multipart(boundary, [
        part('text/plain; charset="UTF-8"', "base64", b64(text, "utf-8")),
        part('text/html; charset="UTF-8"', "quoted-printable", qp(body_html, "utf-8")),
    ])
    write(name, head, body)


def gmail_mailto(addr: str) -> str:
    return f'&lt;<a href="mailto:{addr}">{addr}</a>&gt;'


def gmail_zh_reply_confirm() -> None:
    """Gmail web, zh-CN UI: 名字 <addr> 于2026年12月1日周二 10:38写道："""
    name = "gmail_zh_reply_confirm.eml"
    orig = Original("0108", CHANNEL_SUBJECT, ["陈晨"], [], at(1, 10, 38, 11), channel_minutes("陈晨"))
    attr = "于2026年12月1日周二 10:38写道："
    gmail_message(name, "陈晨", orig, at(1, 10, 55, 21), "确认！",
                  f"{DAEMON_NAME} <{DAEMON_ADDR}> {attr}",
                  f"{DAEMON_NAME} {gmail_mailto(DAEMON_ADDR)} {attr}")
    expect(name, "确认！", "confirm", None,
           "Gmail web zh-CN: 名字 <addr> 于…周二 10:38写道： + > quote; HTML gmail_quote; UTF-8")


def gmail_zh_reply_wrapped_header() -> None:
    """Gmail web, zh-CN UI, the attribution wrapped in the text part: …于2026年12月1日周二
    on one line, 21:57写道： on the next."""
    name = "gmail_zh_reply_wrapped_header.eml"
    body = minutes("陈晨", "XQ-2026-0009", "双十二活动页面上线保障会", "2026年12月1日 20:30", [
        "活动页面12月10日 20:00冻结代码，12月11日完成压测。",
        "市场部陈晨负责活动文案终稿，12月8日前提交。",
        "研发部安排12日当晚值班，故障5分钟内响应。"], tail="")
    orig = Original("0109", "[XQ-2026-0009] 请确认会议纪要：双十二活动页面上线保障会", ["陈晨"], [],
                    at(1, 21, 57, 2), body)
    gmail_message(name, "陈晨", orig, at(1, 22, 6, 48), "確認",
                  f"{DAEMON_NAME} <{DAEMON_ADDR}> 于2026年12月1日周二\n21:57写道：",
                  f"{DAEMON_NAME} {gmail_mailto(DAEMON_ADDR)} 于2026年12月1日周二 21:57写道：")
    expect(name, "確認", "confirm", None,
           "Gmail web zh-CN: attribution wrapped over two lines (…周二 / 21:57写道：); new text in "
           "traditional characters; UTF-8")


def gmail_mobile_zh_reply_comment() -> None:
    """Gmail Android app, zh: 在 2026年12月1日星期二，名字 <addr> 写道： (no time). The reply
    is a comment; the quote asks for 确认."""
    name = "gmail_mobile_zh_reply_comment.eml"
    body = "\n".join([
        "李静，您好：", "",
        "市场部刘洋已提交需求 XQ-2026-0010「季度复盘数据口径说明」的交付物"
        "（见附件《季度复盘数据口径说明.docx》），请验收：", "",
        "交付标准：口径说明经财务部、市场部共同确认，协作小组备案。",
        "提交时间：2026年12月1日 15:20", "",
        "请回复“确认”表示验收通过；如不通过，请回复“不确认”并写明原因。",
        "请于2026年12月3日 18:00前回复。", "", DAEMON_NAME])
    orig = Original("0110", "[XQ-2026-0010] 请确认交付物：季度复盘数据口径说明", ["李静"], [],
                    at(1, 15, 31, 9), body)
    attr = "在 2026年12月1日星期二，{}写道："
    gmail_message(name, "李静", orig, at(1, 16, 5, 12), "收到，我看完附件再回复。",
                  attr.format(f"{DAEMON_NAME} <{DAEMON_ADDR}> "),
                  attr.format(f"{DAEMON_NAME} {gmail_mailto(DAEMON_ADDR)} "), mobile=True)
    expect(name, "收到，我看完附件再回复。", "unclear", None,
           "Gmail Android app zh: 在 …星期二，名字 <addr> 写道： + > quote; a comment while the quote "
           "asks for 确认; UTF-8")


# --------------------------------------------------------------------------- Apple Mail

def apple_mail(name: str, person: str, orig: Original, sent: datetime, new: str, device: str,
               mailer: str, attr: str, text_cte: str) -> None:
    """iPhone/iPad Mail, zh: the reply, 发自我的… , the attribution line itself quoted with
    "> ", blank quoted lines "> ". multipart/alternative, UTF-8."""
    text = (f"{new}\n\n{device}\n\n"
            + gt_quote(f"{attr}\n\n{orig.text()}", prefix="> ", blank="> ") + "\n")
    new_html = "<br>".join(esc(line) for line in new.split("\n"))
    body_html = (
        '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
        f'<body dir="auto">{new_html}<div><br id="lineBreakAtBeginningOfSignature">'
        f'<div dir="ltr">{esc(device)}</div><div dir="ltr"><br><blockquote type="cite">'
        f"{esc(attr)}<br><br></blockquote></div><blockquote type=\"cite\"><div dir=\"ltr\">"
        f"{orig.html()}</div></blockquote></div></body></html>")
    boundary = "Apple-Mail-" + str(uuid.UUID(bytes=seed(name, "b")[:16], version=4)).upper()
    payload = b64(text, "utf-8") if text_cte == "base64" else qp(text, "utf-8")
    head = f"""
Content-Type: multipart/alternative; boundary={boundary}
Content-Transfer-Encoding: 7bit
From: {mailbox(person, "utf-8")}
Mime-Version: 1.0 (1.0)
Subject: {ew_tail("Re: " + orig.subject, "utf-8", 9)}
Date: {rfc_date(sent)}
Message-Id: <{str(uuid.UUID(bytes=seed(name, "id")[:16], version=4)).upper()}@example.com>
References: {orig.msgid}
In-Reply-To: {orig.msgid}
To: {mailbox(DAEMON_NAME, "utf-8")}
X-Mailer: {mailer}
"""
    body = multipart(boundary, [
        part("text/plain;\n\tcharset=utf-8", text_cte, payload),
        part("text/html;\n\tcharset=utf-8", "quoted-printable", qp(body_html, "utf-8")),
    ])
    write(name, head, body)


def apple_mail_zh_reply_confirm() -> None:
    name = "apple_mail_zh_reply_confirm.eml"
    body = minutes("张伟", "XQ-2026-0011", "官网改版需求评审会", "2026年12月1日 11:00", [
        "官网首页与产品页改版，设计稿12月11日前提交评审。",
        "市场部提供文案与素材，研发部负责前端实现。",
        "上线时间另行评估，不早于12月25日。"], tail="逾期未回复的，将提醒协作小组组长。")
    orig = Original("0111", "[XQ-2026-0011] 请确认会议纪要：官网改版需求评审会", ["张伟"], [],
                    at(1, 14, 9, 27), body)
    apple_mail(name, "张伟", orig, at(1, 14, 23, 10), "确认", "发自我的iPhone", "iPhone Mail (22B91)",
               f"2026年12月1日 14:09，{DAEMON_NAME} <{DAEMON_ADDR}> 写道：", "quoted-printable")
    expect(name, "确认", "confirm", None,
           "Apple iPhone Mail zh: 发自我的iPhone, quoted attribution > 2026年12月1日 14:09，… 写道：; "
           "UTF-8 QP")


def apple_ios_12h_reply_confirm() -> None:
    name = "apple_ios_12h_reply_confirm.eml"
    body = "\n".join([
        "王组长，您好：", "",
        "问题反馈 XQ-2026-0012「季度复盘数据口径不一致」的协调会已于今天18:30结束，结论如下：", "",
        "1. 月度销售额以财务部月报为准，市场部看板同步调整口径。",
        "2. 差异明细由财务部郑浩、市场部陈晨在12月4日前逐项核对。",
        "3. 对外对账单暂停发送，口径统一后重新发送。", "",
        "按协作规则，重大问题的协调结论需组长确认。",
        "请回复“确认”或“不确认 + 意见”。", "", DAEMON_NAME])
    orig = Original("0112", "[XQ-2026-0012] 请确认协调结论：季度复盘数据口径不一致", ["王建国"], ["李静"],
                    at(1, 20, 51, 40), body)
    apple_mail(name, "王建国", orig, at(1, 21, 3, 27), "好的，确认。", "发自我的iPhone",
               "iPhone Mail (22B91)", f"2026年12月1日 下午8:51，{DAEMON_NAME} <{DAEMON_ADDR}> 写道：", "base64")
    expect(name, "好的，确认。", "confirm", None,
           "Apple iPhone Mail zh, 12-hour clock: > 2026年12月1日 下午8:51，… 写道：; UTF-8 base64")


def apple_ipad_reply_reject() -> None:
    name = "apple_ipad_reply_reject.eml"
    body = minutes("吴敏", "XQ-2026-0004", "双十二活动投放协调会", "2026年12月1日 19:30", [
        "活动投放总预算50万元，市场部张伟负责执行。",
        "线上投放35万元，线下物料10万元，备用金5万元。",
        "运营部何芳负责活动期间的数据日报。"], tail="")
    orig = Original("0113", "[XQ-2026-0004] 请确认会议纪要：双十二活动投放协调会", ["吴敏"], [],
                    at(1, 21, 41, 15), body)
    apple_mail(name, "吴敏", orig, at(1, 21, 50, 2), "有异议：会议纪要漏了财务部的预算意见。", "发自我的 iPad",
               "iPad Mail (22C152)", f"在 2026年12月1日，21:41，{DAEMON_NAME} <{DAEMON_ADDR}> 写道：",
               "quoted-printable")
    expect(name, "有异议：会议纪要漏了财务部的预算意见。", "reject", "会议纪要漏了财务部的预算意见。",
           "Apple iPad Mail zh: 发自我的 iPad, > 在 2026年12月1日，21:41，… 写道：; UTF-8 QP")


# --------------------------------------------------------------------------- Thunderbird, Mutt

def thunderbird(name: str, orig: Original, sent: datetime, new: str, bottom: bool) -> None:
    """Thunderbird zh-CN (60.x): 在 2026/12/01 14:10, 名字 写道: (ASCII colon, no address),
    > quoting, text/plain; charset=gbk; format=flowed, 8bit."""
    quote = f"在 {orig.sent:%Y/%m/%d %H:%M}, {DAEMON_NAME} 写道:\n" + gt_quote(orig.text(footer=False))
    text = f"{quote}\n\n{new}\n\n" if bottom else f"{new}\n\n{quote}\n\n"
    head = f"""
Subject: {ew_tail("Re: " + orig.subject, "GBK", 9)}
To: {mailbox(DAEMON_NAME, "GBK")}
References: {orig.msgid}
From: {mailbox("周杰", "GBK")}
Message-ID: <{uuid.UUID(bytes=seed(name, "id")[:16], version=4)}@example.com>
Date: {rfc_date(sent)}
User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:60.0) Gecko/20100101
 Thunderbird/60.9.1
MIME-Version: 1.0
In-Reply-To: {orig.msgid}
Content-Type: text/plain; charset=gbk; format=flowed
Content-Language: zh-CN
Content-Transfer-Encoding: 8bit
"""
    write(name, head, crlf(text).encode("gbk"))


def thunderbird_zh_reply_confirm() -> None:
    name = "thunderbird_zh_reply_confirm.eml"
    orig = Original("0114", CLOUD_SUBJECT, ["周杰"], ["郑浩"], at(1, 14, 10, 26),
                    minutes("周杰", "XQ-2026-0007", "测试环境云资源采购评审会", "2026年12月1日 13:30", CLOUD_ITEMS))
    thunderbird(name, orig, at(1, 14, 26, 40), "确认", bottom=False)
    expect(name, "确认", "confirm", None,
           "Thunderbird 60 zh-CN, top-posted: 在 2026/12/01 14:10, 名字 写道: + > quote; "
           "gbk format=flowed 8bit")


def thunderbird_bottom_post_confirm() -> None:
    name = "thunderbird_bottom_post_confirm.eml"
    orig = Original("0115", CHANNEL_SUBJECT, ["周杰"], [], at(1, 10, 38, 11), channel_minutes("周杰"))
    thunderbird(name, orig, at(1, 11, 15, 9), "确认", bottom=True)
    expect(name, "确认", "confirm", None,
           "Thunderbird 60 zh-CN, bottom-posted: attribution and > quote first, 确认 below; "
           "gbk format=flowed 8bit")


def mutt_reply_comment() -> None:
    """Mutt: On Tue, Dec 01, 2026 at 10:00:00AM +0800, 名字 wrote: and > quoting; UTF-8 8bit.
    The reply is a comment; the quote asks for 确认."""
    name = "gt_quoted_only_confirm_in_quote.eml"
    body = "\n".join([
        "孙丽，您好：", "",
        "需求 XQ-2026-0001「销售数据看板」已进入开发阶段，请确认以下交付计划：", "",
        "测试版本：2026年12月15日前提交",
        "正式上线：2026年12月20日",
        "验收人：市场部刘洋", "",
        "确认后，系统将在各节点前一天提醒您。",
        "请回复“确认”；如计划需要调整，请回复“不确认”并写明新的时间。", "", DAEMON_NAME])
    orig = Original("0118", "[XQ-2026-0001] 请确认交付计划：销售数据看板", ["孙丽"], [],
                    at(1, 10, 0, 0), body)
    new = "我需要再看一下。"
    sent = at(1, 10, 30, 12)
    text = (f"{new}\n\nOn Tue, Dec 01, 2026 at 10:00:00AM +0800, {DAEMON_NAME} wrote:\n"
            + gt_quote(orig.text(footer=False)) + "\n")
    head = f"""
Date: {rfc_date(sent)}
From: {mailbox("孙丽", "utf-8")}
To: {mailbox(DAEMON_NAME, "utf-8")}
Subject: {ew_tail("Re: " + orig.subject, "utf-8", 9)}
Message-ID: <{sent.astimezone(UTC):%Y%m%d%H%M%S}.GA24817@dev-sunli.example.com>
References: {orig.msgid}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Disposition: inline
Content-Transfer-Encoding: 8bit
In-Reply-To: {orig.msgid}
User-Agent: Mutt/2.2.12 (2023-09-09)
"""
    write(name, head, crlf(text).encode("utf-8"))
    expect(name, new, "comment", None,
           "Mutt: On <date>, 名字 wrote: + > quote; a comment while the quote asks for 确认; UTF-8 8bit")


# --------------------------------------------------------------------------- Huawei WeLink

def welink_reply_confirm() -> None:
    """Huawei WeLink: RE: prefix; no separator line; labels 发件人：/收件人：/抄 送：/主 题：/
    时 间： with full-width colons and inner spaces, an ideographic space between date and time.
    Plain text, UTF-8 base64."""
    name = "welink_reply_confirm.eml"
    body = "\n".join([
        "赵强，您好：", "",
        "需求 XQ-2026-0009「双十二活动页面」的上线方案已由研发部周杰提交，请作为研发部负责人审批：", "",
        "上线时间：2026年12月11日 22:00",
        "回滚方案：保留旧版页面，5分钟内可切回",
        "值班安排：周杰、孙丽轮值，12日全天", "",
        "请回复“确认”，或回复“不确认”并写明修改意见。", "", DAEMON_NAME])
    orig = Original("0117", "[XQ-2026-0009] 请确认上线方案：双十二活动页面", ["赵强"], ["孙丽", "周杰"],
                    at(1, 23, 54, 15), body)
    new = "确认"
    sent = at(2, 0, 8, 33)
    text = (f"{new}\n\n"
            f"发件人：{DAEMON_NAME} <{DAEMON_ADDR}>\n"
            f"收件人：{who(orig.to)}\n"
            f"抄 送：{who(orig.cc, ';')}\n"
            f"主 题：{orig.subject}\n"
            f"时 间：{orig.sent:%Y-%m-%d}\u3000{orig.sent:%H:%M:%S}\n\n"
            f"{orig.text()}\n")
    head = f"""
From: {mailbox("赵强", "utf-8")}
To: {mailbox(DAEMON_NAME, "utf-8")}
Cc: {mailboxes(["孙丽", "周杰"], "utf-8")}
Subject: {ew("RE: " + orig.subject, "utf-8", 9)}
Date: {rfc_date(sent)}
Message-ID: <{seed(name).hex()[:20]}.{seed(name).hex()[20:28]}@example.com>
In-Reply-To: {orig.msgid}
References: {orig.msgid}
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64
"""
    write(name, head, b64(text, "utf-8"))
    expect(name, new, "confirm", None,
           "Huawei WeLink: RE:, 发件人：/收件人：/抄 送：/主 题：/时 间：date\u3000time block, no separator; "
           "UTF-8 base64")


# --------------------------------------------------------------------------- checks

def check() -> None:
    """Every file parses without defects, has In-Reply-To, decodes to Chinese, and holds its
    expected new text in the text part."""
    for name, want in EXPECTED.items():
        data = (OUT / name).read_bytes()
        assert b"\n" not in data.replace(b"\r\n", b""), f"{name}: bare LF"
        msg = email.message_from_bytes(data, policy=email.policy.default)
        defects = [(p.get_content_type(), d) for p in msg.walk() for d in p.defects]
        assert not defects, f"{name}: {defects}"
        assert msg["In-Reply-To"], f"{name}: no In-Reply-To"
        plain = msg.get_body(("plain",))
        assert plain is not None, name
        text = plain.get_content().replace("\r\n", "\n")  # base64 text keeps its CRLFs
        assert "\ufffd" not in text and "您好" in text, f"{name}: text part not Chinese"
        assert want["new_text"] in text, f"{name}: new text not found"
        assert want["reason"] is None or want["reason"] in want["new_text"], name
        for p in msg.walk():
            if p.get_content_maintype() == "text":
                assert "\ufffd" not in p.get_content(), f"{name}: {p.get_content_type()} undecodable"
        assert "\ufffd" not in str(msg["Subject"]), name


def main() -> None:
    OUT.mkdir(exist_ok=True)
    outlook_owa_reply_confirm()
    outlook_2007_old_reply_reject()
    outlook_en_ui_reply_confirm()
    foxmail_reply_confirm_disclaimer()
    qqmail_reply_reject()
    netease_reply_confirm_gt()
    netease_reply_confirm_noquote_marks()
    gmail_zh_reply_confirm()
    gmail_zh_reply_wrapped_header()
    gmail_mobile_zh_reply_comment()
    apple_mail_zh_reply_confirm()
    apple_ios_12h_reply_confirm()
    apple_ipad_reply_reject()
    thunderbird_zh_reply_confirm()
    thunderbird_bottom_post_confirm()
    outlook_zhtw_reply_confirm()
    welink_reply_confirm()
    mutt_reply_comment()
    outlook_desktop_reply_with_reject_words()
    (OUT / "EXPECTED.json").write_text(
        json.dumps(EXPECTED, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    check()


if __name__ == "__main__":
    main()
