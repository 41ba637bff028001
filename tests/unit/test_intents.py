"""Reading what a reply means from its new text; the words come from rules/signoff.yaml."""

from __future__ import annotations

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
    "收到，我看完附件再回复。", "",
])
def test_not_confirmations(text: str) -> None:
    assert classify(text, KEYWORDS).kind in ("comment", "unclear")


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
