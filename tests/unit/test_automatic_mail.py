"""Auto-replies, out-of-office notices, bounces, lists and our own mail: never answered."""

from __future__ import annotations

import pytest

from collabd.inbound.classify import Classifier
from collabd.inbound.message import read_message
from helpers import at, classify_file, message

NOW = at("2026-12-01 12:00")

AUTO = {
    "rfc3834_vacation_auto_submitted.eml": "auto_reply",
    "exchange_en_automatic_reply.eml": "auto_reply",
    "exchange_en_automatic_reply_cp1252.eml": "auto_reply",
    "icloud_auto_reply.eml": "auto_reply",
    "qqmail_auto_reply.eml": "auto_reply",
    "exchange_zh_ooo.eml": "auto_reply",
    "outlook_recall.eml": "auto_reply",
    "postfix_dsn_bounce.eml": "bounce",
    "qq_mx_bounce.eml": "bounce",
    "gmail_plain_bounce.eml": "bounce",
    "aliyun_bounce.eml": "bounce",
}


@pytest.mark.parametrize("name", sorted(AUTO))
def test_automatic_mail_is_recognised(name: str) -> None:
    event = classify_file(name, NOW)
    assert event.kind == AUTO[name], event.auto_reason
    assert event.auto_reason


@pytest.mark.parametrize("headers", [
    {"Precedence": "bulk"},
    {"List-Id": "<all.example.com>"},
    {"Auto-Submitted": "auto-generated"},
    {"X-Collabd-Loop": "collab@example.com"},
])
def test_list_and_loop_headers(headers: dict[str, str]) -> None:
    from helpers import default_rules

    raw = message(subject="发起部门：市场部", headers=headers)
    event = Classifier(default_rules(), "collab@example.com").classify(read_message(raw), NOW)
    assert event.kind == "auto_reply"


def test_auto_submitted_no_is_a_person() -> None:
    from helpers import default_rules

    raw = message(subject="你好", headers={"Auto-Submitted": "no"})
    event = Classifier(default_rules(), "collab@example.com").classify(read_message(raw), NOW)
    assert event.kind == "unknown"
