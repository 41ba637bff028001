"""Intake end to end on the local backend, through the commands an operator uses."""

from __future__ import annotations

import json
import re

import pytest

from collabd.config import Config
from helpers import (
    DATA,
    DaemonProcess,
    body_text,
    collabd,
    find_sent,
    message,
    sent_messages,
    smtp_send,
    wait_until,
)

pytestmark = pytest.mark.integration

NOW = "2026-12-01T10:05"


def deliver_and_run(config: Config, *names: str, now: str = NOW) -> None:
    for name in names:
        collabd("deliver", config=config, stdin=(DATA / name).read_bytes())
    collabd("run", "--once", "--now", now, config=config)


def addresses(value: object) -> list[str]:
    import email.utils

    return sorted(a for _, a in email.utils.getaddresses([str(value)])) if value else []


def test_request_is_acknowledged_with_both_heads_and_receiver_notified(
        deployment: Config) -> None:
    daemon = DaemonProcess(deployment).start()
    try:
        smtp_send(deployment, (DATA / "foxmail_gbk_request.eml").read_bytes())
        # Acknowledgement, notification, and (项目推进 needs one, per meetings.yaml) the
        # review meeting's invite.
        wait_until(lambda: len(sent_messages(deployment.state_dir)) == 3,
                   message="acknowledgement, notification and invite sent")
    finally:
        daemon.stop()
    sent = {m["X-Collabd-Record"] + ":" + m["To"]: m for m in sent_messages(deployment.state_dir)}
    ack = next(m for m in sent.values() if "需求已受理" in m["Subject"])
    notify = next(m for m in sent.values() if "新的跨部门需求" in m["Subject"])
    invite = next(m for m in sent.values() if "会议邀请" in m["Subject"])
    assert addresses(invite["To"]) == ["sun.li@example.com", "zhang.wei@example.com"]
    assert ack["Subject"].startswith("[XQ-2026-0001] ")
    assert notify["Subject"].startswith("[XQ-2026-0001] ")
    # To the sender; CC both department heads (市场部 张伟 is the sender himself, so
    # only 研发部's head 赵强 is left to copy).
    assert addresses(ack["To"]) == ["zhang.wei@example.com"]
    assert addresses(ack["Cc"]) == ["zhao.qiang@example.com"]
    assert ack["In-Reply-To"] == "<202612010941270361234@example.com>"
    # The receiving liaison, who is also the named receiver.
    assert addresses(notify["To"]) == ["sun.li@example.com"]
    text = body_text(notify)
    assert "王喆团队" in text  # the GBK-only character survived the whole way
    assert "XQ-2026-0001" in text
    # the deadline ends its line; the form's fields follow after a blank line
    assert re.search(r"前响应（紧急程度：[^）]+）。\n\n", text), text[:300]
    for msg in (ack, notify):
        assert msg["Auto-Submitted"] == "auto-generated"
    status = json.loads(collabd("status", "--json", config=deployment).stdout)
    [record] = [r for r in status["open"] if r["kind"] == "request"]
    assert record["id"] == "XQ-2026-0001" and record["waiting_on"] == ["sun.li@example.com"]
    shown = json.loads(collabd("show", "XQ-2026-0001", "--json", config=deployment).stdout)
    whats = [a["what"] for a in shown["record"]["audit"]]
    assert whats == ["request received", "acknowledged", "receiver notified",
                     "review meeting needed", "review meeting planned"]
    assert shown["record"]["fields"]["due"] == "2026-12-20"


def test_heads_copied_when_sender_is_not_a_head(deployment: Config) -> None:
    deliver_and_run(deployment, "qqmail_numbered_request.eml")
    ack = find_sent(deployment.state_dir, subject="需求已受理")
    notify = find_sent(deployment.state_dir, subject="新的跨部门需求")
    assert addresses(ack["To"]) == ["he.fang@example.com"]
    assert addresses(ack["Cc"]) == ["huang.lei@example.com", "wu.min@example.com"]
    # Liaison 郑浩 is also the named receiver: told once.
    assert addresses(notify["To"]) == ["zheng.hao@example.com"]
    # 紧急: the receiver has 3 workdays (Tue 1 Dec → Fri 4 Dec 18:00).
    assert "2026年12月4日（周五）" in notify["Subject"]


def test_incomplete_form_gets_one_precise_reply_and_nothing_is_stored(
        deployment: Config) -> None:
    deliver_and_run(deployment, "incomplete_request.eml")
    [reply] = sent_messages(deployment.state_dir)
    assert addresses(reply["To"]) == ["zhang.wei@example.com"]
    assert "信息不完整" in reply["Subject"]
    assert reply["In-Reply-To"] == "<incomplete_request@example.com>"
    text = body_text(reply)
    missing = text.split("缺少：")[1].split("改好后")[0]
    assert "需求背景与目标（为什么做）" in missing
    assert "期望完成时间（什么时候完成）" in missing
    assert "交付标准（交付什么、按什么标准验收）" in missing
    assert "具体需求内容" not in missing  # it was given
    assert "《跨部门沟通需求表》" in text and "需求类型：□项目推进" in text  # the blank form
    status = json.loads(collabd("status", "--json", config=deployment).stdout)
    assert status["open"] == []
    # Fixing and resending (as a reply to our message) creates the request.
    fixed = (DATA / "fixed_request.eml").read_bytes().replace(
        b"MIME-Version: 1.0", b"In-Reply-To: " + reply["Message-ID"].encode() +
        b"\r\nMIME-Version: 1.0", 1)
    collabd("deliver", config=deployment, stdin=fixed)
    collabd("run", "--once", "--now", "2026-12-01T11:00", config=deployment)
    status = json.loads(collabd("status", "--json", config=deployment).stdout)
    assert [r["id"] for r in status["open"] if r["kind"] == "request"] == ["XQ-2026-0001"]


def test_wrong_values_are_listed_in_the_reply(deployment: Config) -> None:
    deliver_and_run(deployment, "wrong_values_request.eml")
    [reply] = sent_messages(deployment.state_dir)
    text = body_text(reply)
    assert "接收部门「设计部」不在组织目录中" in text
    assert "「下周五」无法识别为日期" in text
    assert "紧急程度「□紧急 □一般」没有勾选任何一项" in text


@pytest.mark.parametrize("name", ["exchange_zh_ooo.eml", "qqmail_auto_reply.eml",
                                  "postfix_dsn_bounce.eml", "aliyun_bounce.eml",
                                  "outlook_recall.eml"])
def test_automatic_mail_is_recorded_and_never_answered(deployment: Config, name: str) -> None:
    deliver_and_run(deployment, name)
    assert sent_messages(deployment.state_dir) == []
    status = json.loads(collabd("status", "--json", config=deployment).stdout)
    assert status["mail"]["processed"] == 1


def test_problem_report_is_routed_by_severity(deployment: Config) -> None:
    deliver_and_run(deployment, "problem_report_major.eml")
    sent = sent_messages(deployment.state_dir)
    ack = next(m for m in sent if "已登记" in m["Subject"])
    notify = next(m for m in sent if "重大问题上报" in m["Subject"])
    assert ack["Subject"].startswith("[WT-2026-0001] ")
    # 重大: straight to the coordination group leader (and the secretary), heads in CC.
    assert addresses(notify["To"]) == ["li.jing@example.com", "wang.jianguo@example.com"]
    assert addresses(notify["Cc"]) == ["zhang.wei@example.com", "zhao.qiang@example.com"]
    shown = json.loads(collabd("show", "WT-2026-0001", "--json", config=deployment).stdout)
    assert "escalated to leader" in [a["what"] for a in shown["record"]["audit"]]


def test_not_understood_reply_at_most_once_a_day(deployment: Config) -> None:
    for n in range(3):
        collabd("deliver", config=deployment,
                stdin=message(subject=f"请问年会在哪里？{n}", message_id=f"<q{n}@example.com>",
                              sender="陈晨 <chen.chen@example.com>"))
    collabd("run", "--once", "--now", NOW, config=deployment)
    [reply] = sent_messages(deployment.state_dir)
    assert "未能识别" in reply["Subject"]
    collabd("deliver", config=deployment,
            stdin=message(subject="明天再问", message_id="<q9@example.com>",
                          sender="陈晨 <chen.chen@example.com>"))
    collabd("run", "--once", "--now", "2026-12-02T10:00", config=deployment)
    assert len(sent_messages(deployment.state_dir)) == 2


def test_form_content_reaches_templates_only_as_data(deployment: Config) -> None:
    body = ("发起部门：市场部\n接收部门：研发部\n需求背景与目标：{{7*7}} {% raw %}\n"
            "具体需求内容：<script>alert('x')</script>\n期望完成时间：2026-12-30\n"
            "交付标准：<b>粗体</b>\n")
    import base64

    # An encoded-word subject that decodes to a line break and a header.
    evil = base64.b64encode("需求表\r\nBcc: evil@example.net".encode()).decode()
    raw = message(subject="placeholder", body=body, message_id="<inject@example.com>")
    raw = raw.replace(b"Subject: placeholder", f"Subject: =?UTF-8?B?{evil}?=".encode())
    collabd("deliver", config=deployment, stdin=raw)
    collabd("run", "--once", "--now", NOW, config=deployment)
    ack = next(m for m in sent_messages(deployment.state_dir) if "已受理" in m["Subject"])
    assert "{{7*7}} {% raw %}" in body_text(ack)  # literally, not 49
    html_part = ack.get_body(preferencelist=("html",))
    assert html_part is not None
    html = html_part.get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;粗体&lt;/b&gt;" in html
    assert ack["Bcc"] is None


def test_parse_prints_the_documented_keys(deployment: Config) -> None:
    out = collabd("parse", str(DATA / "outlook_zhtw_big5_request.eml"), "--json", "--now", NOW,
                  config=deployment)
    data = json.loads(out.stdout)
    for key in ("kind", "fields", "missing", "errors", "thread", "charset_repaired"):
        assert key in data
    assert data["kind"] == "request" and data["fields"]["urgency"] == "紧急"
    assert not (deployment.state_dir / "db").exists()  # parse touched no state
