"""Reading what a reply means from its new text; the words come from rules/signoff.yaml."""

from __future__ import annotations

import json

import pytest

from collabd.inbound.intent import classify
from helpers import DATA, default_rules

KEYWORDS = default_rules().signoff.keywords


@pytest.mark.parametrize("text", [
    "确认", "確認", "确认！", "已确认", "确认无误", "同意。", "OK，确认", "ＯＫ，同意", "Confirmed",
    "好的，确认。", "没问题", "确认，辛苦了", "  确认  ",
])
def test_confirmations(text: str) -> None:
    assert classify(text, KEYWORDS).kind == "confirm"


@pytest.mark.parametrize(("text", "reason"), [
    ("不确认", None),
    ("不确认。第3条的截止时间应为12月20日。", "第3条的截止时间应为12月20日"),
    ("不同意，预算需要重新评估", "预算需要重新评估"),
    ("驳回：数据口径不对", "数据口径不对"),
    ("有异议：漏了财务部的意见", "漏了财务部的意见"),
    ("不通过", None),
    # A rejection that does not lead the text keeps all of it as the reason.
    ("確認前想說明：我不同意第二條", "確認前想說明：我不同意第二條"),
])
def test_rejections_keep_the_reason(text: str, reason: str | None) -> None:
    intent = classify(text, KEYWORDS)
    assert intent.kind == "reject"
    assert intent.reason == reason


@pytest.mark.parametrize("text", [
    "确认吗？", "请确认一下附件的版本", "还未确认，明天回复", "是否确认？", "尚未确认",
    "收到，我看完附件再回复。", "", "这个金额对吗 我记得是15万", "老王说他同意，我还没看。",
    "补充一下：财务那边也确认了这个差异",
])
def test_not_confirmations(text: str) -> None:
    assert classify(text, KEYWORDS).kind in ("comment", "unclear")


@pytest.mark.parametrize("text", [
    # deferrals, concessions, conditions, questions, receipts
    "好的，我回头细看再说", "可以，不过第4点要改", "确认？金额对不上", "先出测试报告再确认",
    "原则上同意，但预算要再核", "基本没问题", "如果周五前能上线就确认", "同意，前提是补齐发票",
    "确认前想问一下，附件是最终版吗？", "收到", "已阅", "好的",
    "OK", "👌", "同意不同意我这边都行", "驳回还是确认我都行，看领导意见", "暂时无法确认，资料没收齐",
    "不是不同意，只是第三条可以再讨论", "还在确认，下班前回复你",
    "第2项补上负责人的话可以确认", "ok but fix item 2", "确认，第3条不同意",
    # found by a reviewer trying to break it
    "👍🏻", "收到，确认下周一给意见", "确认才怪", "我要是确认就见鬼了", "Approved — NOT",
    "确认，除华东区外", "除第三条外确认", "確認。惟華東區數據仍缺", "确认（华东区数据待补）",
    "确认，第4点需要修改", "确认。华东区数据还差两天，补齐后发我",
    "I can confirm we received it, will review next week", "我不确定，确认吧",
    "我这边确认问题依旧存在，请尽快处理",
])
def test_unclear_replies_are_never_confirmations(text: str) -> None:
    assert classify(text, KEYWORDS).kind == "unclear"


@pytest.mark.parametrize("text", [
    "确认不下来，口径有出入", "不怎么同意", "不予认可", "恕难同意。", "Not OK for me", "not approved",
    "we cannot agree", "cannot confirm", "❌ 不通过", "确认个啥，时间都写错了", "唔確認，日期錯咗",
    "这个我不能签", "没法验收，东西还没到货", "不同意，其他都没问题", "NO，数据有误",
    "不是很认可这个版本，建议打回重做", "与会上讨论结果严重不符，请重新起草。",
    "I don't think I can approve this, the totals are off.", "I cannot really approve this",
    "我撤回刚才的确认，数据有错", "我收回之前的确认", "撤回确认", "确认作废", "确认个屁",
])
def test_clear_rejections(text: str) -> None:
    assert classify(text, KEYWORDS).kind == "reject"


@pytest.mark.parametrize("text", [
    "无任何异议", "没有不同意见", "不反对", "没有不同意的地方，确认。", "确认。附件里退回的那版已作废",
    "确认。之前驳回的那版请直接删掉", "Agree", "Approved", "LGTM", "👍 确认", "確認無誤，辛苦各位",
    "确任", "验收通过。虽然交付晚了两天，但质量没问题。", "老王说他不同意，我这边没问题，确认。",
    "确认。我之前说的不同意见已经在这版里改过来了。", "按要求回复：确认", "刚才看错了，确认。",
])
def test_clear_confirmations(text: str) -> None:
    assert classify(text, KEYWORDS).kind == "confirm"


def test_a_decision_word_in_quotation_marks_is_mentioned_not_said() -> None:
    assert classify("请回复“不确认”并写明意见", KEYWORDS).kind == "comment"
    assert classify("这次我回复“驳回”，理由：缺签字页", KEYWORDS).kind == "reject"


INTENTS = DATA / "intents"


@pytest.mark.parametrize("name", ["dev.jsonl", "heldout.jsonl", "heldout2.jsonl"])
def test_labelled_replies_no_false_confirm_and_no_reject_read_as_confirm(name: str) -> None:
    """The promise on replies labelled by people who never ran collabd (how many
    confirmations are recognised is measured by bench/intents.py, not asserted)."""
    for line in (INTENTS / name).read_text(encoding="utf-8").splitlines():
        case = json.loads(line)
        got = classify(case["text"], KEYWORDS).kind
        if case["label"] != "confirm":
            assert got != "confirm", case
        if case["label"] == "reject":
            assert got in ("reject", "unclear", "comment"), case


@pytest.mark.parametrize(("text", "percent", "status"), [
    ("进度 80%", 80, None),
    ("目前完成80%，按计划推进", 80, "正常"),
    ("状态：滞后，原因：测试环境排期冲突", None, "滞后"),
    ("阻塞：等待运维扩容", None, "阻塞"),
    ("进度：６０％，状态：延期", 60, "滞后"),
])
def test_progress(text: str, percent: int | None, status: str | None) -> None:
    intent = classify(text, KEYWORDS)
    assert (intent.kind, intent.percent, intent.status) == ("progress", percent, status)


def test_delivered_needs_an_attachment_or_a_link() -> None:
    linked = classify("已交付，地址 https://bi.example.com/a 请验收", KEYWORDS)
    assert linked.kind == "delivered" and linked.links == ["https://bi.example.com/a"]
    assert classify("已交付，见附件", KEYWORDS, has_attachment=True).kind == "delivered"
    assert classify("已交付", KEYWORDS).kind != "delivered"


def test_forms_and_authentication_results() -> None:
    from collabd.inbound.authres import verify_sender
    from collabd.inbound.message import read_message

    base = (b"From: Partner <pm@partner.example>\r\nTo: collab@example.com\r\n"
            b"Subject: x\r\n%s\r\nok\r\n")
    forged_only = read_message(base % (
        b"Authentication-Results: evil.example; dmarc=pass header.from=partner.example\r\n"))
    assert not verify_sender(forged_only, "mx.example.com", ["example.com"]).ok
    good = read_message(base % (
        b"Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=partner.example;\r\n"
        b" dkim=pass header.d=partner.example; dmarc=pass header.from=partner.example\r\n"))
    assert verify_sender(good, "mx.example.com", ["example.com"]).ok
    failing = read_message(base % (
        b"Authentication-Results: mx.example.com; dmarc=fail header.from=partner.example\r\n"))
    assert not verify_sender(failing, "mx.example.com", ["example.com"]).ok
    internal = read_message(base.replace(b"pm@partner.example", b"zhang.wei@example.com")
                            % b"")
    assert verify_sender(internal, "mx.example.com", ["example.com"]).ok


@pytest.mark.parametrize("name", ["talon_gmail_reply.eml", "talon_outlook_reply.eml",
                                  "talon_apple_mail_reply.eml", "talon_thunderbird_reply.eml",
                                  "talon_android_reply.eml", "talon_iphone_reply.eml"])
def test_western_clients_quotes_are_cut(name: str) -> None:
    from collabd.inbound.message import read_message
    from collabd.inbound.quotes import new_text

    assert new_text(read_message((DATA / name).read_bytes()).body) == "Hello"
