"""Replies and sign-off end to end: delivery, acceptance, rejection, forged and replayed
confirmations, progress — on the local backend through the operator's commands."""

from __future__ import annotations

import json

import pytest

from collabd.config import Config
from helpers import (
    DATA,
    body_text,
    collabd,
    find_sent,
    message,
    reply_to,
    sent_messages,
)

pytestmark = pytest.mark.integration

RECEIVER = "孙丽 <sun.li@example.com>"  # 研发部's liaison and the named receiver
REQUESTER = "张伟 <zhang.wei@example.com>"


def run(config: Config, now: str, *raws: bytes) -> None:
    for raw in raws:
        collabd("deliver", config=config, stdin=raw)
    collabd("run", "--once", "--now", now, config=config)


def show(config: Config, record: str = "XQ-2026-0001") -> dict:  # type: ignore[type-arg]
    return json.loads(collabd("show", record, "--json", config=config).stdout)[  # type: ignore[no-any-return]
        "record"]


def whats(config: Config) -> list[str]:
    return [a["what"] for a in show(config)["audit"]]


def start_request(config: Config) -> None:
    run(config, "2026-12-01T10:05", (DATA / "foxmail_gbk_request.eml").read_bytes())


DELIVERED = "已交付，看板地址 https://bi.example.com/sales"


def deliver(config: Config, now: str, text: str = DELIVERED) -> None:
    notify = find_sent(config.state_dir, subject="新的跨部门需求")
    run(config, now, reply_to(notify, sender=RECEIVER, text=text))


def test_deliverable_accepted_by_reply(deployment: Config) -> None:
    start_request(deployment)
    notify = find_sent(deployment.state_dir, subject="新的跨部门需求")
    run(deployment, "2026-12-01T11:00",
        reply_to(notify, sender=RECEIVER, text="收到，由周杰负责，计划12月15日完成。"))
    assert show(deployment)["status"] == "in_progress"
    responded = find_sent(deployment.state_dir, subject="研发部已响应")
    assert "由周杰负责" in body_text(responded)
    assert "zhang.wei@example.com" in responded["To"]

    deliver(deployment, "2026-12-15T16:00")
    ask = find_sent(deployment.state_dir, subject="请验收交付物")
    assert str(ask["To"]) == "张伟 <zhang.wei@example.com>"  # to the requester alone
    assert ask["Cc"] is None
    assert "https://bi.example.com/sales" in body_text(ask)
    assert show(deployment)["status"] == "delivered"

    run(deployment, "2026-12-15T17:00", reply_to(ask, sender=REQUESTER, text="确认"))
    record = show(deployment)
    assert record["status"] == "closed" and record["resolution"] == "accepted"
    [signed] = record["signoffs"]
    assert signed["by"] == "zhang.wei@example.com" and signed["decision"] == "accepted"
    assert signed["answers"] == ask["Message-ID"]
    done = find_sent(deployment.state_dir, subject="验收通过")
    everyone = str(done["To"]) + str(done["Cc"])
    for address in ("zhang.wei@example.com", "sun.li@example.com", "zhao.qiang@example.com"):
        assert address in everyone


def test_deliverable_rejected_then_accepted(deployment: Config) -> None:
    start_request(deployment)
    deliver(deployment, "2026-12-10T10:00")
    ask = find_sent(deployment.state_dir, subject="请验收交付物（第1次）")
    run(deployment, "2026-12-10T11:00", reply_to(
        ask, sender=REQUESTER,
        text="驳回：华东区的数据口径不对，请按财务月报口径修正，12月18日前重新交付。"))
    record = show(deployment)
    assert record["status"] == "in_progress"
    assert record["due_date"] == "2026-12-18"
    assert record["rework"][0]["reason"].startswith("华东区的数据口径不对")
    rejected = find_sent(deployment.state_dir, subject="验收未通过")
    assert "sun.li@example.com" in rejected["To"]
    assert "华东区的数据口径不对" in body_text(rejected)
    assert "2026年12月18日" in rejected["Subject"]

    # The receiver answers the rejection with the reworked deliverable.
    run(deployment, "2026-12-17T15:00", reply_to(
        rejected, sender=RECEIVER, text="已交付，已按财务口径修正：https://bi.example.com/sales?v=2"))
    second = find_sent(deployment.state_dir, subject="请验收交付物（第2次）")
    run(deployment, "2026-12-17T16:00", reply_to(second, sender=REQUESTER, text="確認，謝謝"))
    record = show(deployment)
    assert record["status"] == "closed"
    assert [(s["round"], s["decision"]) for s in record["signoffs"]] == [
        (1, "rejected"), (2, "accepted")]


def test_forged_confirm_on_the_right_thread_does_not_count(deployment: Config) -> None:
    start_request(deployment)
    deliver(deployment, "2026-12-10T10:00")
    ask = find_sent(deployment.state_dir, subject="请验收交付物")
    # The receiver tries to accept their own deliverable on the requester's thread.
    run(deployment, "2026-12-10T11:00", reply_to(ask, sender=RECEIVER, text="确认"))
    record = show(deployment)
    assert record["status"] == "delivered"
    assert record.get("signoffs", []) == []
    [entry] = [a for a in record["audit"] if a["what"] == "sign-off not counted"]
    assert entry["by"] == "sun.li@example.com" and entry["asked"] == "zhang.wei@example.com"
    notice = find_sent(deployment.state_dir, subject="您的回复未计为确认")
    assert "sun.li@example.com" in notice["To"]


def test_confirm_quoting_the_wrong_message_does_not_count(deployment: Config) -> None:
    start_request(deployment)
    deliver(deployment, "2026-12-10T10:00")
    ack = find_sent(deployment.state_dir, subject="需求已受理")
    # The requester replies 确认 to the acknowledgement, not to the acceptance request.
    run(deployment, "2026-12-10T11:00", reply_to(ack, sender=REQUESTER, text="确认"))
    record = show(deployment)
    assert record["status"] == "delivered"
    assert record.get("signoffs", []) == []
    [entry] = [a for a in record["audit"] if a["what"] == "sign-off not counted"]
    assert "不是发给您的确认请求邮件" in entry["reason"]


def test_replayed_and_repeated_confirms_change_nothing(deployment: Config) -> None:
    start_request(deployment)
    deliver(deployment, "2026-12-10T10:00")
    ask = find_sent(deployment.state_dir, subject="请验收交付物")
    confirm = reply_to(ask, sender=REQUESTER, text="确认", message_id="<once@example.com>")
    run(deployment, "2026-12-10T11:00", confirm)
    before = show(deployment)
    sent_before = len(sent_messages(deployment.state_dir))
    run(deployment, "2026-12-10T12:00", confirm)  # the very same message again
    assert show(deployment) == before
    run(deployment, "2026-12-10T13:00", reply_to(ask, sender=REQUESTER, text="确认无误"))
    after = show(deployment)
    assert len(after["signoffs"]) == 1 and after["status"] == "closed"
    assert len(sent_messages(deployment.state_dir)) == sent_before  # nobody told twice


def test_reject_quoted_below_a_confirm_is_a_confirm(deployment: Config) -> None:
    start_request(deployment)
    deliver(deployment, "2026-12-10T10:00")
    ask = find_sent(deployment.state_dir, subject="请验收交付物")
    # The quoted original (the acceptance request) itself contains 驳回 and 确认.
    assert "驳回" in body_text(ask)
    run(deployment, "2026-12-10T11:00", reply_to(ask, sender=REQUESTER, text="确认"))
    assert show(deployment)["status"] == "closed"


def test_progress_reply_is_visible_in_show(deployment: Config) -> None:
    start_request(deployment)
    notify = find_sent(deployment.state_dir, subject="新的跨部门需求")
    run(deployment, "2026-12-05T10:00",
        reply_to(notify, sender=RECEIVER, text="进度 60%，状态：滞后，原因：测试环境排期冲突。"))
    record = show(deployment)
    assert record["progress"]["percent"] == 60
    assert record["progress"]["status"] == "滞后"
    assert record["progress"]["reason"].startswith("测试环境排期冲突")
    assert record["risk"] is True
    text = collabd("show", "XQ-2026-0001", config=deployment).stdout.decode()
    assert "progress" in text and "滞后" in text


def test_comment_is_relayed_to_the_other_side(deployment: Config) -> None:
    start_request(deployment)
    notify = find_sent(deployment.state_dir, subject="新的跨部门需求")
    run(deployment, "2026-12-01T11:00", reply_to(notify, sender=RECEIVER, text="收到。"))
    responded = find_sent(deployment.state_dir, subject="研发部已响应")
    run(deployment, "2026-12-01T12:00", reply_to(
        responded, sender=REQUESTER, text="补充：华东区要单独一页。"))
    relayed = find_sent(deployment.state_dir, subject="张伟 留言")
    assert "sun.li@example.com" in relayed["To"]
    assert "华东区要单独一页" in body_text(relayed)


def test_reply_by_subject_tag_only_is_recorded_on_the_record(deployment: Config) -> None:
    start_request(deployment)
    raw = message(subject="回复：[XQ-2026-0001] 看板的问题", body="看板能否加一个导出按钮？",
                  sender="陈晨 <chen.chen@example.com>", message_id="<tagonly@example.com>")
    run(deployment, "2026-12-02T10:00", raw)
    comments = [a for a in show(deployment)["audit"] if a["what"] == "comment"]
    assert comments and comments[-1]["by"] == "chen.chen@example.com"


def test_authentication_results_required_for_outside_senders(deployment: Config) -> None:
    signoff = deployment.rules_dir / "signoff.yaml"
    text = signoff.read_text(encoding="utf-8")
    signoff.write_text(text.replace("  require: false", "  require: true").replace(
        "  internal_domains: [example.com]", "  internal_domains: []"), encoding="utf-8")
    start_request(deployment)
    deliver(deployment, "2026-12-10T10:00")
    ask = find_sent(deployment.state_dir, subject="请验收交付物")
    unverified = reply_to(ask, sender=REQUESTER, text="确认")
    run(deployment, "2026-12-10T11:00", unverified)
    record = show(deployment)
    assert record["status"] == "delivered"
    [entry] = [a for a in record["audit"] if a["what"] == "sign-off not counted"]
    assert "发件域名未通过验证" in entry["reason"]
    # A header from another server is not believed; our own server's pass is.
    forged = reply_to(ask, sender=REQUESTER, text="确认").replace(
        b"From:", b"Authentication-Results: evil.example; dmarc=pass "
                  b"header.from=example.com\r\nFrom:", 1)
    run(deployment, "2026-12-10T11:30", forged)
    assert show(deployment)["status"] == "delivered"
    verified = reply_to(ask, sender=REQUESTER, text="确认").replace(
        b"From:", b"Authentication-Results: mx.example.com; dkim=pass header.d=example.com;"
                  b"\r\n dmarc=pass header.from=example.com\r\nFrom:", 1)
    run(deployment, "2026-12-10T12:00", verified)
    assert show(deployment)["status"] == "closed"
