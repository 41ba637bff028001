"""Builds the synthetic client fixtures in this folder (run once; the outputs are committed).

Each message follows what CLIENT_FORMATS.md (../shared/corpus) records of the client it
imitates: its headers, its charset and transfer encoding, how it lays out a pasted table.
Run: python tests/data/build_fixtures.py
"""

from __future__ import annotations

import base64
import io
import quopri
from pathlib import Path

HERE = Path(__file__).resolve().parent


def b64_header(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def write(name: str, data: bytes) -> None:
    (HERE / name).write_bytes(data)


def crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


REQUEST_LINES = """需求编号：
发起部门：市场部
发起人：张伟
接收部门：研发部
接收人：孙丽
需求类型：■项目推进 □资源支持 □问题解决 □信息同步 □其他
需求背景与目标：季度复盘需要统一的数据口径，减少各区域手工汇总，王喆团队每周耗时约两天。
具体需求内容：开发销售数据看板，按区域、产品线展示周度指标，支持导出。
期望完成时间：2026年12月20日
紧急程度：□紧急 ■一般 □不急
交付标准：看板上线，数据与财务月报误差小于1%，通过市场部验收。"""


def foxmail_gbk() -> None:
    # Foxmail 7.2 on Windows: gb2312 label (body has GBK-only 喆), base64 body,
    # full-width colons, a signature after a blank line.
    body = "孙丽你好：\n\n请协助以下需求，谢谢！\n\n" + REQUEST_LINES + "\n\n张伟\n市场部 | 分机 8021\n"
    payload = base64.encodebytes(crlf(body).encode("gbk")).decode()
    head = f"""Return-Path: <zhang.wei@example.com>
Date: Tue, 1 Dec 2026 09:41:27 +0800
From: "{b64_header('张伟', 'gb2312')}" <zhang.wei@example.com>
To: "collab" <collab@example.com>
Subject: {b64_header('跨部门沟通需求表：销售数据看板', 'gb2312')}
X-Priority: 3
X-GUID: 7D5D7C5B-8E34-4C10-A1B6-2A4F1D7E9C01
X-Has-Attach: no
X-Mailer: Foxmail 7.2.25.228[cn]
Mime-Version: 1.0
Message-ID: <202612010941270361234@example.com>
Content-Type: text/plain;
\tcharset="gb2312"
Content-Transfer-Encoding: base64

"""
    write("foxmail_gbk_request.eml", crlf(head).encode("ascii") + crlf(payload).encode("ascii"))


def qqmail_numbered() -> None:
    # QQ Mail web: UTF-8, base64; numbered items, ASCII colon with spaces, a value on
    # the line after its label, the urgency as the chosen word alone.
    body = """各位好：

1. 需求编号 :
2. 发起部门 : 运营部
3. 接收部门 : 财务部
4. 接收人 : 郑浩
5. 需求类型 : 资源支持
6. 需求背景与目标 :
   双十二活动预算需要提前锁定，避免活动期间审批排队。
7. 具体需求内容 :
   请财务部在活动前完成 50 万元活动预算的预审，并开通紧急报销通道。
8. 期望完成时间 : 12月10日
9. 紧急程度 : 紧急
10. 交付标准 : 预算审批单签字完成，报销通道可用。

何芳
"""
    payload = base64.encodebytes(crlf(body).encode("utf-8")).decode()
    html = ('<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><div>'
            + body.replace("\n", "<br>") + "</div>")
    html_payload = base64.encodebytes(html.encode("utf-8")).decode()
    head = f"""X-QQ-mid: zzbgweb7t1733017283t7563208
X-QQ-ORGSender: he.fang@example.com
From: "{b64_header('何芳', 'utf-8')}" <he.fang@example.com>
To: "{b64_header('协作邮箱', 'utf-8')}" <collab@example.com>
Subject: {b64_header('需求表 双十二活动预算', 'utf-8')}
Mime-Version: 1.0
Content-Type: multipart/alternative;
\tboundary="----=_NextPart_674C1F43_0E2A3B58_1C6E2F41"
Content-Transfer-Encoding: 8Bit
Date: Tue, 1 Dec 2026 10:21:23 +0800
X-Priority: 3
Message-ID: <tencent_8F3E1C5A2B7D4E6F9A0B@qq.com>
X-QQ-MIME: TCMime 1.0 by Tencent
X-Mailer: QQMail 2.x
X-QQ-Mailer: QQMail 2.x

This is a multi-part message in MIME format.

------=_NextPart_674C1F43_0E2A3B58_1C6E2F41
Content-Type: text/plain;
\tcharset="utf-8"
Content-Transfer-Encoding: base64

{payload}
------=_NextPart_674C1F43_0E2A3B58_1C6E2F41
Content-Type: text/html;
\tcharset="utf-8"
Content-Transfer-Encoding: base64

{html_payload}
------=_NextPart_674C1F43_0E2A3B58_1C6E2F41--
"""
    write("qqmail_numbered_request.eml", crlf(head).encode("ascii"))


OUTLOOK_CELL = ("<td width={w} valign=top style='width:{pt}pt;border:solid windowtext 1.0pt;"
                "mso-border-alt:solid windowtext .5pt;padding:0cm 5.4pt 0cm 5.4pt'>"
                "<p class=MsoNormal><span lang=ZH-CN style='font-family:\u5b8b\u4f53;"
                "mso-ascii-font-family:Calibri;mso-hansi-font-family:Calibri'>{text}"
                "<span lang=EN-US><o:p></o:p></span></span></p></td>")


def outlook_table() -> None:
    # Outlook 2016 zh-CN, a table pasted from Word: HTML only, gb2312 quoted-printable,
    # mso- styles, label cell and value cell; the content's value split over two
    # cells and the background on two paragraphs in its cell.
    rows = [
        ("需求编号", [""]),
        ("发起部门", ["财务部"]),
        ("发起人", ["吴敏"]),
        ("接收部门", ["研发部"]),
        ("接收人", ["赵强"]),
        ("需求类型", ["□项目推进 ☑资源支持 □问题解决 □信息同步 □其他"]),
        ("需求背景与目标", ["年底结账需要报销系统的数据接口。</span></p><p class=MsoNormal>"
                          "<span lang=ZH-CN>目标：结账周期从5天缩短到3天。"]),
        ("具体需求内容", ["开放报销系统只读接口，", "按日推送已审批单据。"]),
        ("期望完成时间", ["2026/12/25"]),
        ("紧急程度", ["□紧急 □一般 ☑不急"]),
        ("交付标准", ["接口文档与测试环境可用，财务部联调通过。"]),
    ]
    trs = []
    for label, values in rows:
        cells = [OUTLOOK_CELL.format(w=142, pt=106.5, text=label + "&nbsp;")]
        cells += [OUTLOOK_CELL.format(w=411 // len(values), pt=308.3 / len(values), text=v)
                  for v in values]
        trs.append("<tr style='mso-yfti-irow:0'>" + "".join(cells) + "</tr>")
    html = f"""<html xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:w="urn:schemas-microsoft-com:office:word" xmlns:m="http://schemas.microsoft.com/office/2004/12/omml" xmlns="http://www.w3.org/TR/REC-html40">
<head><meta http-equiv=Content-Type content="text/html; charset=gb2312">
<meta name=Generator content="Microsoft Word 15 (filtered medium)">
<style><!--
/* Font Definitions */
@font-face {{font-family:\u5b8b\u4f53; panose-1:2 1 6 0 3 1 1 1 1 1;}}
p.MsoNormal, li.MsoNormal, div.MsoNormal {{margin:0cm; text-align:justify; text-justify:inter-ideograph; font-size:10.5pt; font-family:DengXian;}}
--></style><!--[if gte mso 9]><xml>
<o:shapedefaults v:ext="edit" spidmax="1026" />
</xml><![endif]--></head>
<body lang=ZH-CN link="#0563C1" vlink="#954F72" style='text-justify-trim:punctuation'>
<div class=WordSection1><p class=MsoNormal><span lang=ZH-CN>赵总，您好：</span><span lang=EN-US><o:p></o:p></span></p>
<p class=MsoNormal><span lang=ZH-CN>附上跨部门沟通需求表，请审阅。</span><span lang=EN-US><o:p>&nbsp;</o:p></span></p>
<table class=MsoTableGrid border=1 cellspacing=0 cellpadding=0 style='border-collapse:collapse;border:none;mso-border-alt:solid windowtext .5pt;mso-yfti-tbllook:1184;mso-padding-alt:0cm 5.4pt 0cm 5.4pt'>
{chr(10).join(trs)}
</table>
<p class=MsoNormal><span lang=EN-US><o:p>&nbsp;</o:p></span></p>
<p class=MsoNormal><span lang=ZH-CN>吴敏</span><span lang=EN-US><o:p></o:p></span></p>
<p class=MsoNormal><span lang=ZH-CN>财务部</span></p></div></body></html>
"""
    qp = quopri.encodestring(crlf(html).encode("gb18030")).decode("ascii")
    head = f"""Received: from EXCH01.example.com (10.1.1.20) by EXCH02.example.com
 (10.1.1.21) with Microsoft SMTP Server (version=TLS1_2) id 15.1.2507.39; Tue, 1
 Dec 2026 11:02:45 +0800
From: {b64_header('吴敏', 'gb2312')} <wu.min@example.com>
To: collab <collab@example.com>
Subject: {b64_header('需求表：报销系统数据接口', 'gb2312')}
Thread-Topic: {b64_header('需求表：报销系统数据接口', 'gb2312')}
Thread-Index: AdtDpK7x3kBvL2cRQ0GmR0y1Zq9Hbg==
Date: Tue, 1 Dec 2026 03:02:44 +0000
Message-ID: <3f6c9e2a8b7d4c1e9a5b0d2f4e6a8c1b@EXCH01.example.com>
Accept-Language: zh-CN, en-US
Content-Language: zh-CN
X-MS-Has-Attach:
X-MS-TNEF-Correlator:
x-originating-ip: [10.1.5.77]
Content-Type: text/html; charset="gb2312"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

"""
    write("outlook_zhcn_table_request.eml", crlf(head).encode("ascii") + qp.encode("ascii"))


def outlook_zhtw_big5() -> None:
    # Outlook zh-TW: traditional labels and values, Big5, plain text QP, 【】 labels.
    body = """各位好：

【需求單號】
【發起部門】運營部
【接收部門】研發部
【需求類型】資訊同步
【需求背景與目標】門市系統升級後，營運報表需要同步新欄位說明。
【具體需求內容】請研發部提供新欄位的定義與計算方式文件。
【期望完成時間】2026年12月18日
【緊急程度】緊急
【交付標準】文件經營運部確認，報表團隊可依文件自行維護。

黃磊
"""
    qp = quopri.encodestring(crlf(body).encode("big5")).decode("ascii")
    head = f"""From: {b64_header('黃磊', 'big5')} <huang.lei@example.com>
To: collab@example.com
Subject: {b64_header('需求單：門市報表欄位說明', 'big5')}
Date: Wed, 2 Dec 2026 09:15:00 +0800
Message-ID: <000d01db4c3a$5b2f1e40$118d5ac0$@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="big5"
Content-Transfer-Encoding: quoted-printable
X-Mailer: Microsoft Outlook 16.0
Content-Language: zh-tw
Thread-Index: AQGm4o0P8b1y7bJ3nY0U6XXm7mkbMQ==

"""
    write("outlook_zhtw_big5_request.eml", crlf(head).encode("ascii") + qp.encode("ascii"))


def excel_header_row() -> None:
    # A sheet pasted from Excel into Outlook: one row of labels, one row of values.
    labels = ["发起部门", "接收部门", "需求类型", "需求背景与目标", "具体需求内容", "期望完成时间",
              "紧急程度", "交付标准"]
    values = ["研发部", "运营部", "信息同步", "新版本上线需要运营配合公告。", "请运营部准备上线公告并安排推送。",
              "2026-12-15", "一般", "公告按时推送，用户反馈渠道可用。"]

    def row(cells: list[str]) -> str:
        return "<tr height=19 style='height:14.25pt'>" + "".join(
            f"<td class=xl65 style='border:.5pt solid windowtext'>{c}</td>" for c in cells) + "</tr>"

    html = ("<html><body><p>请见下表：</p><table border=0 cellpadding=0 cellspacing=0 "
            "style='border-collapse:collapse'>" + row(labels) + row(values) +
            "</table><p>赵强</p></body></html>")
    payload = base64.encodebytes(crlf(html).encode("utf-8")).decode()
    head = f"""From: {b64_header('赵强', 'utf-8')} <zhao.qiang@example.com>
To: collab@example.com
Subject: {b64_header('沟通需求表', 'utf-8')}
Date: Wed, 2 Dec 2026 14:00:00 +0800
Message-ID: <excel-paste-0001@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

"""
    write("excel_header_row_request.eml", crlf(head).encode("ascii") + crlf(payload).encode())


def attached(name: str, filename: str, data: bytes, mime: str, sender: str,
             sender_name: str) -> None:
    att = base64.encodebytes(data).decode()
    text = base64.encodebytes("您好，需求表见附件，请查收。\r\n".encode()).decode()
    head = f"""From: {b64_header(sender_name, 'utf-8')} <{sender}>
To: collab@example.com
Subject: {b64_header('跨部门沟通需求表（附件）', 'utf-8')}
Date: Thu, 3 Dec 2026 09:00:00 +0800
Message-ID: <{name}@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="=_att_boundary_7f3a"

--=_att_boundary_7f3a
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

{text}
--=_att_boundary_7f3a
Content-Type: {mime}; name="{b64_header(filename, 'utf-8')}"
Content-Disposition: attachment; filename="{b64_header(filename, 'utf-8')}"
Content-Transfer-Encoding: base64

{att}
--=_att_boundary_7f3a--
"""
    write(f"{name}.eml", crlf(head).encode("ascii"))


def docx_form() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("跨部门沟通需求表", level=1)
    table = document.add_table(rows=0, cols=4)
    pairs = [("需求编号", "", "紧急程度", "■紧急 □一般 □不急"),
             ("发起部门", "运营部", "发起人", "何芳"),
             ("接收部门", "市场部", "接收人", "刘洋")]
    for a, b, c, d in pairs:
        cells = table.add_row().cells
        for cell, text in zip(cells, (a, b, c, d), strict=True):
            cell.text = text
    for label, value in [("需求类型", "□项目推进 □资源支持 ☑问题解决 □信息同步 □其他"),
                         ("需求背景与目标", "会员积分规则调整后客诉上升，需要统一对外口径。"),
                         ("具体需求内容", "请市场部出具积分规则说明与客服话术。"),
                         ("期望完成时间", "2026年12月11日"),
                         ("交付标准", "说明与话术经运营部确认并发布到客服知识库。")]:
        cells = table.add_row().cells
        cells[0].text = label
        merged = cells[1].merge(cells[3])
        merged.text = value
    document.add_paragraph("填表说明：每项需求一张表。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def xlsx_form() -> bytes:
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "需求表"
    sheet.append(["跨部门沟通需求表"])
    for label, value in [("需求编号", None), ("发起部门", "研发部"), ("发起人", "周杰"),
                         ("接收部门", "财务部"), ("需求类型", "资源支持"),
                         ("需求背景与目标", "测试环境扩容需要采购云资源。"),
                         ("具体需求内容", "请财务部审批 3 台云服务器一年的费用。"),
                         ("期望完成时间", dt.datetime(2026, 12, 16)),
                         ("紧急程度", "一般"),
                         ("交付标准", "采购单审批完成，资源可开通。")]:
        sheet.append([label, value])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def gmail_html_only() -> None:
    # Gmail web (zh-CN UI) sending HTML only, fields in <div>s with <br>.
    html = ("<div dir=\"ltr\"><div>需求表</div><div><br></div>"
            "<div>发起部门：研发部</div><div>接收部门：运营部</div>"
            "<div>需求类型：■信息同步</div>"
            "<div>需求背景与目标：App 3.0 下周发布，需要同步发布时间线。</div>"
            "<div>具体需求内容：请运营部确认活动排期，避免与发布冲突。</div>"
            "<div>期望完成时间：2026-12-09</div><div>紧急程度：一般</div>"
            "<div>交付标准：双方确认的排期表。</div>"
            "<div><br></div><div>-- <br><div dir=\"ltr\" class=\"gmail_signature\">周杰<br>研发部</div></div></div>")
    payload = quopri.encodestring(html.encode("utf-8")).decode()
    head = f"""MIME-Version: 1.0
Date: Wed, 2 Dec 2026 16:40:12 +0800
Message-ID: <CAF7x2QkZp1n8yX9v3Lr0Gm5wQ8e7Ht1Jc4pB6s@mail.gmail.com>
Subject: =?UTF-8?B?{base64.b64encode('需求表：发布排期'.encode()).decode()}?=
From: =?UTF-8?B?{base64.b64encode('周杰'.encode()).decode()}?= <zhou.jie@example.com>
To: collab@example.com
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

"""
    write("gmail_html_only_request.eml", crlf(head).encode("ascii") + crlf(payload).encode())


def simple(name: str, sender: str, sender_name: str, subject: str, body: str,
           extra: str = "", charset: str = "utf-8") -> None:
    payload = base64.encodebytes(crlf(body).encode(charset)).decode()
    head = f"""From: {b64_header(sender_name, charset)} <{sender}>
To: collab@example.com
Subject: {b64_header(subject, charset)}
Date: Thu, 3 Dec 2026 10:00:00 +0800
Message-ID: <{name}@example.com>
MIME-Version: 1.0
{extra}Content-Type: text/plain; charset={charset}
Content-Transfer-Encoding: base64

"""
    write(f"{name}.eml", crlf(head).encode("ascii") + crlf(payload).encode("ascii"))


def auto_replies() -> None:
    # QQ Mail vacation reply: X-QQ-AUTO-REPLY and a 自动回复: subject, no Auto-Submitted.
    simple("qqmail_auto_reply", "sun.li@example.com", "孙丽",
           "自动回复: [XQ-2026-0001] 新的跨部门需求，请于2026年12月4日（周五）前响应",
           "您好，我正在休假，12月7日返回，紧急事务请联系周杰。\n",
           extra="X-QQ-AUTO-REPLY: true\nIn-Reply-To: <not-ours@example.com>\n")
    # Exchange out-of-office, zh-CN: 自动答复:, Auto-Submitted, suppression header.
    simple("exchange_zh_ooo", "zhao.qiang@example.com", "赵强", "自动答复: 需求表：报销系统数据接口",
           "我将于 12 月 8 日前不在办公室，期间邮件处理会有延迟。\n",
           extra="Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n"
                 "X-MS-Exchange-Inbox-Rules-Loop: zhao.qiang@example.com\n")
    # Alibaba Mail bounce: plain text, not multipart/report, labels with a space
    # before the colon.
    simple("aliyun_bounce", "postmaster@aliyun.com", "postmaster",
           "来自postmaster@aliyun.com的退信",
           "很抱歉您发送的邮件被退回，以下是该邮件的相关信息：\n\n发件人 : collab@example.com\n"
           "主题 : [XQ-2026-0001] 新的跨部门需求\n时间 : 2026-12-01 10:05:00\n\n"
           "退信原因 : 收件人不存在(user not found)\n",
           extra="Return-Path: <>\n")
    # Outlook recall: 撤回: subject, a request to withdraw, not a reply.
    simple("outlook_recall", "liu.yang@example.com", "刘洋", "撤回: 需求表：渠道数据",
           "刘洋 将撤回邮件“需求表：渠道数据”。\n")


def main() -> None:
    foxmail_gbk()
    qqmail_numbered()
    outlook_table()
    outlook_zhtw_big5()
    excel_header_row()
    gmail_html_only()
    attached("docx_attached_request", "跨部门沟通需求表.docx", docx_form(),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             "he.fang@example.com", "何芳")
    attached("xlsx_attached_request", "需求表.xlsx", xlsx_form(),
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "zhou.jie@example.com", "周杰")
    simple("incomplete_request", "zhang.wei@example.com", "张伟", "需求表：渠道数据",
           "发起部门：市场部\n接收部门：研发部\n需求类型：■项目推进\n具体需求内容：接入渠道数据。\n"
           "紧急程度：一般\n")
    simple("wrong_values_request", "zhang.wei@example.com", "张伟", "需求表：官网改版",
           "发起部门：市场部\n接收部门：设计部\n需求背景与目标：官网改版。\n具体需求内容：出设计稿。\n"
           "期望完成时间：下周五\n紧急程度：□紧急 □一般\n交付标准：设计稿通过评审。\n")
    simple("fixed_request", "zhang.wei@example.com", "张伟", "需求表：渠道数据",
           "发起部门：市场部\n接收部门：研发部\n需求类型：■项目推进\n"
           "需求背景与目标：渠道投放效果需要每日复盘。\n具体需求内容：接入渠道数据。\n"
           "期望完成时间：2026-12-30\n紧急程度：一般\n交付标准：每日 9 点前数据可查。\n")
    simple("problem_report_major", "liu.yang@example.com", "刘洋", "问题反馈单：活动页面宕机",
           "问题标题：双十二活动页面无法访问\n反馈部门：市场部\n关联需求编号：无\n涉及部门：研发部\n"
           "问题描述：12月3日上午9点起活动页面返回 502，持续中。\n影响范围：全部线上用户，活动无法进行。\n"
           "严重程度：■重大 □重要 □一般\n")
    simple("problem_report_default", "chen.chen@example.com", "陈晨", "问题反馈",
           "问题标题：报表口径不一致\n涉及部门：财务部\n"
           "问题描述：市场部与财务部的月度销售额相差 3%，客户投诉对账单有误。\n影响范围：月度复盘。\n")
    auto_replies()
    simple("unknown_question", "chen.chen@example.com", "陈晨", "请问年会在哪里开？",
           "大家好，请问今年年会的地点定了吗？\n")


if __name__ == "__main__":
    main()
