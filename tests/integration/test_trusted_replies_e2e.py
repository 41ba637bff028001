"""Replies that can be trusted, end to end on the local backend: a sign-off counts only
when the person really signed. Unclear answers are asked back; quotes of what we sent
never speak for the person, whatever the client; forged senders never sign; the right
word on the wrong message is not lost; forwarded forms and partial corrections are read.
"""

from __future__ import annotations

import base64
import email.policy
import json
import uuid
from email.message import EmailMessage

import pytest

from collabd.config import Config
from helpers import (
    DATA,
    QUOTE_STYLES,
    Harness,
    body_text,
    collabd,
    edit_rules,
    message,
    no_lunch_break,
    reply_to,
    subjects,
)

pytestmark = pytest.mark.integration

REQUESTER = "张伟 <zhang.wei@example.com>"  # 市场部 head; accepts the deliverable
RECEIVER = "孙丽 <sun.li@example.com>"  # 研发部 liaison
REQUEST = "XQ-2026-0001"



def delivered(h: Harness) -> EmailMessage:
    """A request filed and delivered: the acceptance ask to the requester."""
    h.at("2026-12-01 10:05", (DATA / "foxmail_gbk_request.eml").read_bytes())
    h.at("2026-12-10 10:00", reply_to(h.sent("新的跨部门需求"), sender=RECEIVER,
                                      text="已交付，看板地址 https://bi.example.com/sales"))
    return h.sent("请验收交付物（第1次）")


def styled(original: EmailMessage, *, sender: str, text: str, header: str,
           marks: str = "", html: str | None = None) -> bytes:
    """A reply whose quote header is `header` (its own lines), followed by the original
    with `marks` in front of every line, as the client in question writes it."""
    quoted = "\n".join(marks + line if line.strip() else marks.rstrip()
                       for line in body_text(original).splitlines())
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = str(original["From"])
    msg["Subject"] = "回复：" + str(original["Subject"])
    msg["Date"] = "Thu, 10 Dec 2026 11:00:00 +0800"
    msg["Message-ID"] = f"<styled-{uuid.uuid4().hex[:12]}@example.com>"
    msg["In-Reply-To"] = msg["References"] = str(original["Message-ID"])
    msg.set_content(f"{text}\n\n{header}\n{quoted}\n")
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()


def signoffs(h: Harness) -> list[dict]:  # type: ignore[type-arg]
    return list(h.record(REQUEST).get("signoffs", []))


# -- a confirmation is never invented; unclear is asked back ---------------------------------

@pytest.mark.parametrize("text", [
    "好的，我回头细看再说", "可以，不过第4点要改", "确认？金额对不上", "先出测试报告再确认",
    "原则上同意，但预算要再核一遍", "收到", "已阅", "OK", "如果周五前能上线就确认",
    "确认前想问一下，附件是最终版吗？", "老王说他同意，我还没看。",
])
def test_an_unclear_answer_is_asked_back_and_signs_nothing(h: Harness, text: str) -> None:
    ask = delivered(h)
    sent = h.at("2026-12-10 11:00", reply_to(ask, sender=REQUESTER, text=text))
    record = h.record(REQUEST)
    assert record["status"] == "delivered" and signoffs(h) == []
    [entry] = [a for a in record["audit"] if a["what"] == "unclear answer, not counted"]
    assert entry["text"] == text and entry["message"].startswith("<reply-")
    [again] = [m for m in sent if "请明确答复" in str(m["Subject"])]
    assert str(again["To"]) == REQUESTER and again["Cc"] is None  # to that person alone
    body = body_text(again)
    assert text in body  # what was read, quoted back
    assert "“确认”" in body and "“驳回：整改意见”" in body  # exactly what to answer
    # The comment still reaches the other side.
    assert any("sun.li@example.com" in str(m["To"]) for m in sent if m is not again)
    # The ask stays open: answering the ask-back as its own words put it accepts the
    # deliverable (its instruction line “确认”：验收通过 is not taken for a quote of it).
    h.at("2026-12-10 12:00", reply_to(again, sender=REQUESTER, text="确认，验收通过"))
    assert h.record(REQUEST)["status"] == "closed"
    assert [s["answers"] for s in signoffs(h)] == [str(again["Message-ID"])]


@pytest.mark.parametrize(("text", "decision"), [
    ("确认不下来，口径有出入", "rejected"),
    ("不予认可", "rejected"),
    ("Not OK for me, the totals are wrong", "rejected"),
    ("不怎么同意，华东区缺数据", "rejected"),
    ("無任何異議", "accepted"),
    ("确认。之前驳回的那版请直接删掉，避免混淆。", "accepted"),
    ("没有不同意见。", "accepted"),
    ("LGTM", "accepted"),
])
def test_negation_in_scope_decides(h: Harness, text: str, decision: str) -> None:
    ask = delivered(h)
    h.at("2026-12-10 11:00", reply_to(ask, sender=REQUESTER, text=text))
    [signed] = signoffs(h)
    assert signed["decision"] == decision and signed["text"] == text
    assert signed["read_as"]  # how it was read is on the record


def test_an_unclear_answer_is_asked_back_at_most_three_times(h: Harness) -> None:
    ask = delivered(h)
    for hour in (11, 12, 13, 14, 15):
        h.at(f"2026-12-10 {hour}:00", reply_to(ask, sender=REQUESTER, text="收到"))
    record = h.record(REQUEST)
    assert sum(a["what"] == "asked again" for a in record["audit"]) == 3
    assert sum(a["what"] == "not asked again (limit reached)" for a in record["audit"]) == 2


def test_minutes_answered_unclearly_are_asked_back(deployment: Config) -> None:
    no_lunch_break(deployment)
    h = Harness(deployment, "2026-12-01 10:00")
    try:
        h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
        ask_minutes = h.at("2026-12-02 10:30")[0]
        asks = h.at("2026-12-02 14:00", reply_to(ask_minutes, sender="何芳 <he.fang@example.com>",
                                                 text="会议纪要：\n1. 财务部本周完成预审。"))
        ask = next(m for m in asks if "zheng.hao" in str(m["To"]))
        sent = h.at("2026-12-02 15:00", reply_to(ask, sender="郑浩 <zheng.hao@example.com>",
                                                 text="基本没问题，第1条的时间我再核一下。"))
        assert subjects(sent) == [
            "[HY-2026-0001] 请明确答复：会议纪要确认 需求评审会：双十二活动预算"]
        assert "“不确认：意见”" in body_text(sent[0])
        meeting = h.record("HY-2026-0001")
        assert meeting.get("signoffs", []) == []
        assert any(p["person"] == "zheng.hao@example.com" for p in meeting["pending_signoffs"])
        h.at("2026-12-02 16:00", reply_to(sent[0], sender="郑浩 <zheng.hao@example.com>",
                                          text="无任何异议"))
        [signed] = h.record("HY-2026-0001")["signoffs"]
        assert (signed["by"], signed["decision"]) == ("zheng.hao@example.com", "confirmed")
    finally:
        h.close()


# -- quotes of what we sent never speak for the person ---------------------------------------

GOOD = "确认"
STYLES = {
    **QUOTE_STYLES,
    # A client nobody has catalogued: only knowing what we sent finds the quote.
    "unknown_client": ("====== 原信 ======\n发信人 | 跨部门协作秘书<collab@example.com>\n"
                       "日期 | 2026-12-10 10:00", ""),
    "quote_on_top": ("", ""),  # the original first, the answer below it, no header
}


@pytest.mark.parametrize("style", sorted(STYLES))
def test_a_quote_in_any_client_style_does_not_flip_a_confirm(h: Harness, style: str) -> None:
    ask = delivered(h)
    assert "驳回" in body_text(ask)  # the quoted ask itself says 驳回 and 确认
    header, marks = STYLES[style]
    if style == "quote_on_top":
        raw = styled(ask, sender=REQUESTER, text="", header="", marks="")
        raw = raw.replace(b"Content-Transfer-Encoding", b"X-Unused", 0)
        msg = email.message_from_bytes(raw, policy=email.policy.SMTP)
        assert isinstance(msg, EmailMessage)
        msg.set_content(body_text(ask) + "\n\n" + GOOD + "\n")
        raw = msg.as_bytes()
    else:
        raw = styled(ask, sender=REQUESTER, text=GOOD, header=header, marks=marks)
    h.at("2026-12-10 11:00", raw)
    [signed] = signoffs(h)
    assert (signed["decision"], signed["text"]) == ("accepted", GOOD)


def test_inline_answers_between_quoted_lines_are_all_kept(h: Harness) -> None:
    ask = delivered(h)
    lines = [ln for ln in body_text(ask).splitlines() if ln.strip()]
    text = (f"> {lines[0]}\n> {lines[1]}\n同意这部分\n> {lines[2]}\n"
            "不同意：华东区的数据口径不对\n")
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"], msg["To"] = REQUESTER, "collab@example.com"
    msg["Subject"] = "Re: " + str(ask["Subject"])
    msg["Message-ID"] = "<inline@example.com>"
    msg["In-Reply-To"] = str(ask["Message-ID"])
    msg.set_content(text)
    h.at("2026-12-10 11:00", msg.as_bytes())
    record = h.record(REQUEST)
    [entry] = [a for a in record["audit"] if a["what"] == "unclear answer, not counted"]
    assert "同意这部分" in entry["text"] and "华东区的数据口径不对" in entry["text"]
    assert lines[0] not in entry["text"]
    assert record["status"] == "delivered"


def test_a_reason_that_mentions_an_address_is_kept(h: Harness) -> None:
    ask = delivered(h)
    h.at("2026-12-10 11:00", reply_to(
        ask, sender=REQUESTER, text="驳回\n\n原因：收货地址写错了，邮箱也不对"))
    [signed] = signoffs(h)
    assert signed["decision"] == "rejected"
    assert signed["reason"] == "原因：收货地址写错了，邮箱也不对"
    back = h.sent("验收未通过")
    assert "收货地址写错了" in body_text(back)


# -- who sent it -----------------------------------------------------------------------------

def _encoded(text: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="


@pytest.mark.parametrize("sender", [
    _encoded('"张伟 <zhang.wei@example.com>"') + " <attacker@evil.example>",
    "张伟 <zhang.wei@example.com>, 助理 <assistant@evil.example>",
    "张伟 <zhang.wei@example.com.evil.example>",
    "张伟 <zhang.wei@examp1e.com>",
    "\"zhang.wei@example.com\" <zhang.wei@evil.example>",
])
def test_a_forged_sender_never_signs(h: Harness, sender: str) -> None:
    ask = delivered(h)
    raw = reply_to(ask, sender="x <placeholder@example.org>", text="确认")
    raw = raw.replace(b"From: x <placeholder@example.org>", b"From: " + sender.encode(), 1)
    h.at("2026-12-10 11:00", raw)
    record = h.record(REQUEST)
    assert record["status"] == "delivered" and signoffs(h) == []
    assert "sign-off not counted" in [a["what"] for a in record["audit"]]


def test_sender_and_from_of_an_outside_domain_must_agree(h: Harness) -> None:
    edit_rules(h.config, "org.yaml", ("address: zhang.wei@example.com",
                                      "address: zhang.wei@example.com\n      aliases: "
                                      "[zhangwei@partner.example]"))
    h.daemon.reload()
    ask = delivered(h)
    raw = reply_to(ask, sender="张伟 <zhangwei@partner.example>", text="确认")
    forged = raw.replace(b"From:", b"Sender: bulk@mailer.example\r\nFrom:", 1)
    h.at("2026-12-10 11:00", forged)
    assert signoffs(h) == []
    [entry] = [a for a in h.record(REQUEST)["audit"] if a["what"] == "sign-off not counted"]
    assert "Sender 与 From 不一致" in entry["reason"]
    # The same person, from the alias, with no Sender of someone else's.
    h.at("2026-12-10 12:00", reply_to(ask, sender="张伟 <zhangwei@partner.example>",
                                      text="确认"))
    assert [s["decision"] for s in signoffs(h)] == ["accepted"]


def test_an_outside_alias_signs_only_with_our_servers_dmarc_pass(h: Harness) -> None:
    edit_rules(h.config, "signoff.yaml", ("  require: false", "  require: true"))
    h.daemon.reload()
    h.at("2026-12-01 10:05", (DATA / "foxmail_gbk_request.eml").read_bytes())
    # 孙丽's listed alias is outside the company's domain.
    plain = reply_to(h.sent("新的跨部门需求"), sender="孙丽 <sunli@example.net>",
                     text="已交付，https://bi.example.com/sales")
    h.at("2026-12-10 10:00", plain)
    assert h.record(REQUEST)["status"] == "delivered"  # delivering needs no signature
    ask = h.sent("请验收交付物")
    h.at("2026-12-10 11:00", reply_to(ask, sender="张伟 <zhang.wei@example.com>", text="确认"))
    assert [s["decision"] for s in signoffs(h)] == ["accepted"]  # internal: no check


def test_replies_to_outside_senders_are_limited_and_short(h: Harness) -> None:
    spam = "点击领取大奖 http://spam.example/" + "优惠" * 200
    sent = h.at("2026-12-01 11:00", *[message(
        sender=f"victim{n}@outside.example", subject=f"需求表 {spam}",
        body=f"发起部门：市场部\n接收部门：研发部\n具体需求内容：{spam}\n",
        message_id=f"<flood{n}@outside.example>") for n in range(40)])
    answers = [m for m in sent if "信息不完整" in str(m["Subject"])]
    assert len(answers) == 30  # the hourly limit for the whole world outside
    for answer in answers:
        assert len(str(answer["Subject"])) < 120
        assert "优惠" * 20 not in body_text(answer)
    # The same sender again the same day: at most the daily limit.
    sent = h.at("2026-12-01 12:00", *[message(
        sender="again@outside.example", subject="需求表",
        body="发起部门：市场部\n接收部门：研发部\n具体需求内容：试试\n",
        message_id=f"<again{n}@outside.example>") for n in range(12)])
    again = [m for m in sent if "again@outside.example" in str(m["To"])]
    assert len(again) == 10


# -- the right word on the wrong message is not lost -----------------------------------------

def test_a_confirm_on_the_wrong_message_gets_the_ask_again(h: Harness) -> None:
    delivered(h)
    ack = h.sent("需求已受理")
    sent = h.at("2026-12-10 11:00", reply_to(ack, sender=REQUESTER, text="确认，验收通过"))
    assert signoffs(h) == []
    [again] = [m for m in sent if "未计入" in str(m["Subject"])]
    assert str(again["To"]) == REQUESTER and again["Cc"] is None
    assert "不是发给您的确认请求邮件" in body_text(again)
    h.at("2026-12-10 12:00", reply_to(again, sender=REQUESTER, text="确认，验收通过"))
    assert h.record(REQUEST)["status"] == "closed"


def test_a_redelivery_mid_sentence_is_a_delivery(h: Harness) -> None:
    ask = delivered(h)
    h.at("2026-12-10 11:00", reply_to(ask, sender=REQUESTER, text="驳回：内存只有16G"))
    back = h.sent("验收未通过")
    h.at("2026-12-11 10:00", reply_to(back, sender=RECEIVER, text=(
        "已更换为32G内存的笔记本，已交付，新清单：https://it.example.com/list 请验收。")))
    second = h.sent("请验收交付物（第2次）")
    assert "32G" in body_text(second)
    # The requester answers the relay of it instead of the ask: not lost, asked again.
    h.at("2026-12-11 11:00", reply_to(back, sender=REQUESTER, text="确认，验收通过"))
    assert h.record(REQUEST)["status"] == "delivered"
    again = h.sent("您的回复未计入")
    h.at("2026-12-11 12:00", reply_to(again, sender=REQUESTER, text="确认，验收通过"))
    record = h.record(REQUEST)
    assert record["status"] == "closed"
    assert [(s["round"], s["decision"]) for s in record["signoffs"]] == [
        (1, "rejected"), (2, "accepted")]


# -- forms forwarded, forms corrected --------------------------------------------------------

FORM = ("发起部门：市场部\n发起人：刘洋\n接收部门：研发部\n需求类型：■项目推进\n"
        "需求背景与目标：渠道投放效果需要每日复盘。\n具体需求内容：接入三个渠道的投放数据。\n"
        "期望完成时间：2026-12-30\n紧急程度：一般\n交付标准：每日9点前数据可查。\n")


@pytest.mark.parametrize("separator", [
    "-----原始邮件-----\n发件人: 刘洋 <liu.yang@example.com>\n发送时间: 2026年12月1日 9:00\n"
    "收件人: 张伟 <zhang.wei@example.com>\n主题: 跨部门沟通需求表：渠道数据",
    "________________________________\n发件人: 刘洋 <liu.yang@example.com>\n"
    "发送时间: 2026年12月1日 9:00\n收件人: 张伟\n主题: 跨部门沟通需求表",
    "------------------ 原始邮件 ------------------\n发件人: \"刘洋\"<liu.yang@example.com>;\n"
    "发送时间: 2026年12月1日(星期二) 上午9:00\n收件人: \"张伟\"<zhang.wei@example.com>;\n"
    "主题: 跨部门沟通需求表",
])
def test_a_form_forwarded_inline_is_read(h: Harness, separator: str) -> None:
    sent = h.at("2026-12-01 10:05", message(
        sender=REQUESTER, subject="FW: 跨部门沟通需求表：渠道数据",
        body=f"请协助处理，谢谢。\n\n{separator}\n\n{FORM}", message_id="<fw@example.com>"))
    assert any("需求已受理" in s for s in subjects(sent))
    record = h.record(REQUEST)
    assert record["requester"]["address"] == "liu.yang@example.com"  # the form's 发起人
    assert record["submitted_by"]["address"] == "zhang.wei@example.com"  # the forwarder
    assert record["fields"]["content"] == "接入三个渠道的投放数据。"


def test_a_partial_correction_is_merged_with_the_first_form(h: Harness) -> None:
    incomplete = FORM.replace("交付标准：每日9点前数据可查。\n", "").replace(
        "需求背景与目标：渠道投放效果需要每日复盘。\n", "")
    sent = h.at("2026-12-01 10:05", message(sender="刘洋 <liu.yang@example.com>",
                                            subject="需求表：渠道数据", body=incomplete,
                                            message_id="<first@example.com>"))
    [notice] = sent
    assert str(notice["Subject"]) == "需求表信息不完整，请补充后重新发送：需求表：渠道数据"
    # Only the two missing answers, as the notice invites.
    sent = h.at("2026-12-01 10:30", reply_to(
        notice, sender="刘洋 <liu.yang@example.com>",
        text="需求背景与目标：渠道投放效果需要每日复盘。\n交付标准：每日9点前数据可查。"))
    assert any("需求已受理" in s for s in subjects(sent)), subjects(sent)
    fields = h.record(REQUEST)["fields"]
    assert fields["content"] == "接入三个渠道的投放数据。"
    assert fields["acceptance"] == "每日9点前数据可查。"
    assert fields["due"] == "2026-12-30"
    assert h.record(REQUEST)["title"] == "渠道数据"


def test_subjects_never_stack_prefixes(h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", message(sender="刘洋 <liu.yang@example.com>",
                                            subject="需求表：渠道数据",
                                            body="发起部门：市场部\n具体需求内容：接入数据\n",
                                            message_id="<one@example.com>"))
    for round_ in range(3):
        sent = h.at(f"2026-12-01 1{round_ + 1}:00", reply_to(
            sent[0], sender="刘洋 <liu.yang@example.com>", text="接收部门：研发部"))
    assert str(sent[0]["Subject"]) == "需求表信息不完整，请补充后重新发送：需求表：渠道数据"


# -- what the operator sees ---------------------------------------------------------------------

def test_show_lists_what_was_signed_and_what_did_not_count(h: Harness) -> None:
    ask = delivered(h)
    h.at("2026-12-10 10:30", reply_to(ask, sender=RECEIVER, text="确认"))
    h.at("2026-12-10 11:00", reply_to(ask, sender=REQUESTER, text="确认，辛苦了"))
    h.close()
    text = collabd("show", REQUEST, config=h.config).stdout.decode()
    assert "确认记录：" in text and "交付物 第1轮：验收通过" in text
    assert "原话 “确认，辛苦了”" in text and str(ask["Message-ID"]) in text
    assert "未计入的答复：" in text and "sun.li@example.com" in text
    # Read by people: no Python reprs anywhere.
    assert "{'" not in text and "None" not in text and "True" not in text
    assert "不能代为确认" in text


def test_parse_reads_several_files_one_json_line_each(tmp_path: object) -> None:
    files = [DATA / "replies" / "qqmail_reply_reject.eml", DATA / "foxmail_gbk_request.eml"]
    out = collabd("parse", *map(str, files)).stdout.decode().splitlines()
    rows = [json.loads(line) for line in out]
    assert [r["file"] for r in rows] == [str(f) for f in files]
    assert [r["kind"] for r in rows] == ["reply", "request"]
    one = json.loads(collabd("parse", str(files[0])).stdout)
    assert "file" not in one and one["kind"] == "reply"


# -- found by trying to break it ---------------------------------------------------------------

def test_an_empty_reply_over_an_unmarked_quote_signs_nothing(h: Harness) -> None:
    h.at("2026-12-01 10:05", (DATA / "foxmail_gbk_request.eml").read_bytes())
    # The delivery text has a short line of its own that could read as a confirmation.
    h.at("2026-12-10 10:00", reply_to(h.sent("新的跨部门需求"), sender=RECEIVER,
                                      text="已交付，看板地址 https://bi.example.com/sales\n自测没问题"))
    ask = h.sent("请验收交付物")
    assert "自测没问题" in body_text(ask)
    for header in ("________________________________\n发件人: 跨部门协作秘书 <collab@example.com>\n"
                   "发送时间: 2026年12月10日 10:00\n主题: 请验收",
                   "------------------ 原始邮件 ------------------\n"
                   "发件人: \"跨部门协作秘书\"<collab@example.com>;"):
        h.at("2026-12-10 11:00", styled(ask, sender=REQUESTER, text="", header=header))
    record = h.record(REQUEST)
    assert record["status"] == "delivered" and signoffs(h) == []
    assert [a["text"] for a in record["audit"]
            if a["what"] == "unclear answer, not counted"] == ["", ""]


def test_two_from_headers_never_sign(h: Harness) -> None:
    ask = delivered(h)
    raw = reply_to(ask, sender=REQUESTER, text="确认")
    raw = raw.replace(b"\nTo:", b"\nFrom: attacker@evil.example\r\nTo:", 1)
    h.at("2026-12-10 11:00", raw)
    assert signoffs(h) == []
    [entry] = [a for a in h.record(REQUEST)["audit"] if a["what"] == "sign-off not counted"]
    assert "2 个发件人" in entry["reason"]


def test_our_servers_dmarc_fail_stops_even_an_internal_sender(h: Harness) -> None:
    edit_rules(h.config, "signoff.yaml", ("  require: false", "  require: true"))
    h.daemon.reload()
    ask = delivered(h)
    forged = reply_to(ask, sender=REQUESTER, text="确认").replace(
        b"From:", b"Authentication-Results: mx.example.com; spf=fail smtp.mailfrom=example.com;"
                  b"\r\n dmarc=fail header.from=example.com\r\nFrom:", 1)
    h.at("2026-12-10 11:00", forged)
    assert signoffs(h) == []
    h.at("2026-12-10 12:00", reply_to(ask, sender=REQUESTER, text="确认"))  # no verdict: ours
    assert [s["decision"] for s in signoffs(h)] == ["accepted"]


def test_an_answer_to_an_old_round_is_told_and_asked_the_current_one(h: Harness) -> None:
    first = delivered(h)
    h.at("2026-12-10 11:00", reply_to(first, sender=REQUESTER, text="驳回：缺华东区"))
    h.at("2026-12-11 10:00", reply_to(h.sent("验收未通过"), sender=RECEIVER,
                                      text="已交付，已补华东区 https://bi.example.com/v2"))
    sent = h.at("2026-12-11 11:00", reply_to(first, sender=REQUESTER, text="确认"))
    assert h.record(REQUEST)["status"] == "delivered"
    [again] = [m for m in sent if "未计入" in str(m["Subject"])]
    assert "第1次交付" in body_text(again) and "v2" in body_text(again)
    h.at("2026-12-11 12:00", reply_to(again, sender=REQUESTER, text="确认"))
    assert [(s["round"], s["decision"]) for s in signoffs(h)] == [
        (1, "rejected"), (2, "accepted")]


def test_a_reject_after_closing_is_told_and_passed_on(h: Harness) -> None:
    ask = delivered(h)
    h.at("2026-12-10 11:00", reply_to(ask, sender=REQUESTER, text="确认"))
    done = h.sent("验收通过")
    sent = h.at("2026-12-11 09:00", reply_to(
        done, sender=REQUESTER, text="驳回，刚发现华东区数据缺失，请补齐后重新交付"))
    assert h.record(REQUEST)["status"] == "closed"
    told = [m for m in sent if str(m["To"]) == REQUESTER]
    assert told and "验收关闭" in body_text(told[0])
    assert any("sun.li@example.com" in str(m["To"]) and "华东区数据缺失" in body_text(m)
               for m in sent)


PROBLEM = ("问题标题：看板数据缺失\n反馈部门：市场部\n涉及部门：研发部\n"
           "问题描述：华东区数据缺失。\n影响范围：周报。\n严重程度：一般\n")


def test_a_problem_closes_only_on_a_real_reply_and_the_handlers_are_told(h: Harness) -> None:
    h.at("2026-12-01 10:05", message(sender="陈晨 <chen.chen@example.com>",
                                     subject="问题反馈单：看板数据缺失", body=PROBLEM,
                                     message_id="<p1@example.com>"))
    ack = h.sent("问题反馈已登记")
    problem = "WT-2026-0001"
    # By the subject tag alone, or with two senders: not counted.
    h.at("2026-12-01 11:00", message(sender="陈晨 <chen.chen@example.com>",
                                     subject=f"Re: [{problem}] 看板数据缺失", body="确认，已解决",
                                     message_id="<p2@example.com>"))
    h.at("2026-12-01 11:30", message(
        sender="陈晨 <chen.chen@example.com>, x <attacker@evil.example>",
        subject=f"Re: [{problem}] 看板数据缺失", body="确认，已解决",
        message_id="<p3@example.com>", headers={"In-Reply-To": str(ack["Message-ID"])}))
    # "The problem is still there" is not a confirmation either.
    h.at("2026-12-01 12:00", reply_to(ack, sender="陈晨 <chen.chen@example.com>",
                                      text="我这边确认问题依旧存在，请尽快处理"))
    assert h.record(problem)["status"] != "closed"
    sent = h.at("2026-12-02 10:00", reply_to(ack, sender="陈晨 <chen.chen@example.com>",
                                             text="确认，已恢复正常"))
    assert h.record(problem)["status"] == "closed"
    [closed] = [m for m in sent if "问题已关闭" in str(m["Subject"])]
    assert "sun.li@example.com" in str(closed["To"]) and "已恢复正常" in body_text(closed)


def test_a_reply_to_our_notice_is_not_answered_again(h: Harness) -> None:
    [notice] = h.at("2026-12-01 10:05", message(sender="helpdesk@example.com", subject="你好",
                                                body="请问怎么用", message_id="<hd1@example.com>"))
    assert "未能识别" in str(notice["Subject"])
    robot = reply_to(notice, sender="helpdesk+2@example.com", text="[Ticket #1002] 已收到您的邮件")
    assert h.at("2026-12-01 10:10", robot) == []


def test_outside_text_is_not_reflected_with_its_links(h: Harness) -> None:
    [notice] = h.at("2026-12-01 10:05", message(
        sender="x@outside.example", subject="【紧急】邮箱账户验证 http://phish.test/login",
        body="发起部门：市场部\n接收部门：研发部\n具体需求内容：请登录 http://phish.test/login 验证\n",
        message_id="<ph@outside.example>"))
    assert "phish.test" not in str(notice["Subject"]) and "phish.test" not in body_text(notice)


def test_the_acceptance_reminder_carries_the_delivery_and_answering_it_counts(
        h: Harness) -> None:
    delivered(h)
    # 3 workdays from Thursday 10 Dec: due Tuesday 15 Dec 18:00; the reminder at the
    # deadline goes out at the first working minute after it.
    reminders = [m for m in h.at("2026-12-16 09:00") if "提醒" in str(m["Subject"])]
    assert [str(m["To"]) for m in reminders] == [REQUESTER]
    text = body_text(reminders[0])
    assert "待验收的交付（第1次）" in text and "https://bi.example.com/sales" in text
    assert "直接回复本邮件“确认”" in text
    h.at("2026-12-16 10:00", reply_to(reminders[0], sender=REQUESTER, text="确认"))
    assert h.record(REQUEST)["status"] == "closed"
