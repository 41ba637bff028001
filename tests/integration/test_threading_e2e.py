"""One conversation per record: every message the daemon sends about a request answers
the request's latest message and references its first one, so that Outlook, Foxmail
and Gmail show the request, its acknowledgement, notice, reminders, escalations and
relayed answers as one thread."""

from __future__ import annotations

import datetime as dt

import pytest

from collabd.outbound.compose import Draft, Person
from collabd.outbound.outbox import THREAD_REFERENCES, Outbox
from collabd.store import Store, Txn
from helpers import DATA, Harness, reply_to, sent_messages

pytestmark = pytest.mark.integration

REQUEST = "XQ-2026-0001"
REQUEST_MID = "<tencent_8F3E1C5A2B7D4E6F9A0B@qq.com>"



def test_every_follow_up_of_a_request_is_in_the_requests_thread(h: Harness) -> None:
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    h.at("2026-12-04 09:00")  # the receiver is reminded
    h.at("2026-12-07 09:00")  # and the matter is overdue: the head in CC
    notify = h.sent("新的跨部门需求")
    h.at("2026-12-07 10:00", reply_to(notify, sender="郑浩 <zheng.hao@example.com>",
                                      text="收到，已安排专人处理，预计12月15日完成。",
                                      message_id="<answer-1@example.com>"))
    about = [m for m in sent_messages(h.config.state_dir)
             if str(m["X-Collabd-Record"]) == REQUEST]
    assert len(about) >= 4, [str(m["Subject"]) for m in about]
    ours: list[str] = []
    for message in about:
        references = str(message["References"]).split()
        # Every one reaches back to the request itself, first …
        assert references[0] == REQUEST_MID, (str(message["Subject"]), references)
        # … and answers the latest message of the thread before it.
        assert str(message["In-Reply-To"]) == references[-1]
        # Everything the daemon sent about the request before is named (a short thread).
        assert set(ours) <= set(references), str(message["Subject"])
        ours.append(str(message["Message-ID"]))
    # What followed the receiver's answer answers it.
    after = [m for m in about if "<answer-1@example.com>" in str(m["References"])]
    assert after and str(after[0]["In-Reply-To"]) == "<answer-1@example.com>"


def test_a_long_threads_references_keep_its_first_and_latest_messages(
        tmp_path: pytest.TempPathFactory) -> None:
    from zoneinfo import ZoneInfo

    from collabd.clock import FixedClock

    store = Store(tmp_path).open()  # type: ignore[arg-type]
    txn = Txn()
    for n in range(40):
        txn.put("messages", f"<m{n}@example.com>", {"dir": "in" if n % 2 else "out",
                                                     "record": REQUEST, "at": str(n)})
    txn.put("messages", "<other@example.com>", {"dir": "in", "record": "XQ-2026-0002"})
    store.commit(txn)
    tz = ZoneInfo("Asia/Shanghai")
    outbox = Outbox(store, FixedClock(dt.datetime(2026, 12, 1, 10, tzinfo=tz), tz),
                    sender=Person("collab@example.com", "协作秘书"),
                    envelope_from="collab@example.com")
    queued = outbox.queue(Txn(), Draft(to=[Person("a@example.com", "甲")], subject="提醒",
                                       text="请处理。", record=REQUEST, purpose="reminder"))
    head = queued.raw.split(b"\r\n\r\n", 1)[0].decode()
    unfolded = head.replace("\r\n ", " ")
    references = next(line for line in unfolded.splitlines()
                      if line.startswith("References: ")).split()[1:]
    assert len(references) == THREAD_REFERENCES
    assert references[0] == "<m0@example.com>" and references[-1] == "<m39@example.com>"
    assert "<other@example.com>" not in references
    assert "In-Reply-To: <m39@example.com>" in unfolded
    store.close()
