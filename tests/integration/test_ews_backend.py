"""The Exchange (EWS) backend through exchangelib's real code, answered with real EWS XML.

No Exchange server can run here: tests/ews_fake.py intercepts exchangelib's HTTP and
answers with the recorded EWS responses in tests/data/ews/, so every request is built
and every answer parsed by exchangelib as against a server. A test against a live
server is in test_ews_live.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import email
import email.policy
import json
import logging
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from collabd.app import Daemon
from collabd.clock import FixedClock
from collabd.config import Config, EwsServer, Secret, load_config
from collabd.deployment import init_deployment
from collabd.errors import CollabdError
from collabd.mailbox.base import MailboxUnavailable, SendError
from collabd.mailbox.ews import EwsMailbox
from ews_fake import URL, FakeExchange, M, T
from helpers import (
    DATA,
    SHARED,
    TZ,
    apply_test_defaults,
    at,
    free_port,
    message,
    no_lunch_break,
    reply_to,
)

pytestmark = pytest.mark.integration

PASSWORD = "svc-password"


def settings(**changes: Any) -> EwsServer:
    values: dict[str, Any] = {
        "service_endpoint": URL, "auth_type": "basic", "username": "CORP\\svc-collab",
        "auth": Secret(password_env="UNUSED"), "version": "15.1"}
    values.update(changes)
    return EwsServer(**values)


def backend(**changes: Any) -> EwsMailbox:
    return EwsMailbox(settings(**changes), address=SHARED, tz=TZ, secret=lambda: PASSWORD,
                      client_secret=None, base_dir=Path("."))


@pytest.fixture
def exchange() -> Iterator[FakeExchange]:
    from exchangelib.protocol import Protocol

    Protocol.clear_cache()  # exchangelib keeps one Protocol per endpoint and credentials
    with FakeExchange() as fake:
        yield fake


def _text(element: etree._Element, path: str) -> str | None:
    return element.findtext(path, namespaces={"m": M, "t": T})


# -- receiving ---------------------------------------------------------------------------------

def test_sync_pages_and_the_state_saved_between_them(exchange: FakeExchange) -> None:
    raws = [message(subject=f"第{n}封", message_id=f"<in{n}@example.com>") for n in range(3)]
    for raw in raws:
        exchange.deliver(raw)
    mailbox = backend()
    mailbox.start()
    first = mailbox.fetch(None, limit=2)
    assert [m.raw for m in first.messages] == raws[:2]  # the MIME, byte for byte
    assert first.more
    request = exchange.calls("SyncFolderItems")[0]
    assert _text(request, "m:SyncState") is None and _text(request, "m:MaxChangesReturned") == "2"
    # The shared mailbox is addressed explicitly (delegate access by the service account).
    assert _text(request, ".//t:EmailAddress") == SHARED
    state = json.loads(first.cursor or "")["sync_state"]

    second = mailbox.fetch(first.cursor, limit=2)  # as after a restart, from the cursor
    assert _text(exchange.calls("SyncFolderItems")[1], "m:SyncState") == state
    assert [m.raw for m in second.messages] == raws[2:] and not second.more
    # The MIME is asked for, nothing else.
    fields = {e.get("FieldURI") for e in exchange.calls("GetItem")[0].iter(f"{{{T}}}FieldURI")}
    assert fields == {"item:MimeContent"}


def test_processed_items_move_to_a_folder_created_once(exchange: FakeExchange) -> None:
    exchange.deliver(message(subject="要归档", message_id="<move1@example.com>"))
    mailbox = backend()
    mailbox.start()
    created = [_text(c, ".//t:DisplayName") for c in exchange.calls("CreateFolder")]
    assert created == ["collabd", "processed", "oversize", "failed"]
    batch = mailbox.fetch(None)
    mailbox.ack([m.ref for m in batch.messages])
    assert [i.raw for i in exchange.in_folder("processed")] == [batch.messages[0].raw]
    assert exchange.in_folder("F-inbox") == []
    again = backend()  # the next start finds the folders
    again.start()
    assert len(exchange.calls("CreateFolder")) == 4


def test_a_move_lost_with_the_connection_is_done_after_reconnecting(
        exchange: FakeExchange) -> None:
    exchange.deliver(message(subject="一", message_id="<lost1@example.com>"))
    mailbox = backend()
    mailbox.start()
    batch = mailbox.fetch(None)
    exchange.fail_next("MoveItem", "ErrorServerBusy_soapfault_BackOffMilliseconds.xml")
    with pytest.raises(MailboxUnavailable, match="pause of 298 s"):
        mailbox.ack([m.ref for m in batch.messages])
    # The daemon stored the cursor before the ack; a restart reads it.
    restarted = backend()
    restarted.start()
    assert restarted.fetch(batch.cursor).messages == []
    assert exchange.ops()[-2:] == ["MoveItem", "SyncFolderItems"]  # the move first
    assert len(exchange.in_folder("processed")) == 1


def test_an_expired_sync_state_reads_the_folder_again(
        exchange: FakeExchange, caplog: pytest.LogCaptureFixture) -> None:
    exchange.deliver(message(subject="还在", message_id="<stay@example.com>"))
    exchange.expired_states.add("H4sI:0")
    mailbox = backend()
    mailbox.start()
    reset = mailbox.fetch(json.dumps({"sync_state": "H4sI:0"}))
    assert reset.messages == [] and reset.more
    assert "no longer valid" in caplog.text
    again = mailbox.fetch(reset.cursor)
    assert [parse(m.raw)["Subject"] for m in again.messages] == ["还在"]
    assert _text(exchange.calls("SyncFolderItems")[-1], "m:SyncState") is None


def test_short_throttling_is_waited_out_inside_the_call(
        exchange: FakeExchange, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[Any] = []
    monkeypatch.setattr("exchangelib.util._back_off_if_needed", waits.append)
    exchange.deliver(message(subject="忙", message_id="<busy@example.com>"))
    mailbox = backend()
    mailbox.start()
    exchange.fail_next("SyncFolderItems", "ErrorServerBusy_soapfault_BackOff1500ms.xml")
    batch = mailbox.fetch(None)
    assert [parse(m.raw)["Subject"] for m in batch.messages] == ["忙"]
    assert exchange.ops().count("SyncFolderItems") == 2  # asked again after the back-off
    assert "throttling (ErrorServerBusy); waiting 1.5 s" in caplog.text
    assert any(w is not None for w in waits)  # exchangelib's own back-off was set


def test_long_throttling_pauses_the_backend_without_blocking(exchange: FakeExchange) -> None:
    mailbox = backend()
    mailbox.start()
    exchange.fail_next("SyncFolderItems", "ErrorServerBusy_soapfault_BackOffMilliseconds.xml")
    with pytest.raises(MailboxUnavailable, match="pause of 298 s"):
        mailbox.fetch(None)
    asked = len(exchange.requests)
    with pytest.raises(MailboxUnavailable):
        mailbox.fetch(None)  # still paused: not even a request
    assert len(exchange.requests) == asked


def test_without_sync_a_received_time_cursor_is_used(exchange: FakeExchange) -> None:
    moment = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    for n, offset in enumerate((0, 0, 60)):  # two at the same second, then one later
        exchange.deliver(message(subject=f"按时间{n}", message_id=f"<t{n}@example.com>"),
                         received=moment + dt.timedelta(seconds=offset))
    mailbox = backend(sync="received")
    mailbox.start()
    first = mailbox.fetch(None, limit=2)
    assert [parse(m.raw)["Subject"] for m in first.messages] == ["按时间0", "按时间1"]
    assert first.more
    # Not moved yet (as after a crash before the move): the cursor still skips them.
    second = mailbox.fetch(first.cursor, limit=2)
    assert [parse(m.raw)["Subject"] for m in second.messages] == ["按时间2"]
    assert not second.more
    assert "SyncFolderItems" not in exchange.ops()


def test_oversized_item_is_not_downloaded(exchange: FakeExchange) -> None:
    big = message(subject="大附件", message_id="<big@example.com>",
                  body="附件" + "x" * 3000)
    exchange.deliver(big)
    mailbox = backend(max_message_bytes=1024)
    mailbox.start()
    batch = mailbox.fetch(None)
    head = parse(batch.messages[0].raw)
    assert head["X-Collabd-Oversize"] == f"{len(big)} 1024"
    assert head["Subject"] == "大附件" and head["Message-ID"] == "<big@example.com>"
    fields = {e.get("FieldURI") for e in exchange.calls("GetItem")[-1].iter(f"{{{T}}}FieldURI")}
    assert "item:MimeContent" not in fields
    mailbox.ack([m.ref for m in batch.messages])
    assert [i.raw for i in exchange.in_folder("oversize")] == [big]


# -- sending -----------------------------------------------------------------------------------

def test_send_keeps_the_mime_and_returns_the_message_id_exchange_kept(
        exchange: FakeExchange) -> None:
    mailbox = backend()
    mailbox.start()
    raw = message(subject="通知", message_id="<n1@collab.example.com>",
                  headers={"Auto-Submitted": "auto-generated",
                           "X-Auto-Response-Suppress": "All"})
    receipt = mailbox.send(raw, sender=SHARED, recipients=["liu.yang@example.com"])
    create = exchange.calls("CreateItem")[-1]
    assert create.get("MessageDisposition") == "SaveOnly"
    assert base64.b64decode(_text(create, ".//t:MimeContent") or "") == raw
    send = exchange.calls("SendItem")[-1]
    assert send.get("SaveItemToFolder") == "true"
    assert exchange.sent == [raw]
    assert receipt.server_message_id == "<n1@collab.example.com>"


def test_send_as_denied_pauses_sending_and_gives_nothing_up(exchange: FakeExchange) -> None:
    """A permission missing is the account's trouble, not the message's: every message
    would be refused alike, so sending pauses until an admin grants it."""
    mailbox = backend()
    mailbox.start()
    exchange.fail_next("CreateItem", "CreateItem_message_error_ErrorSendAsDenied.xml", 200)
    with pytest.raises(SendError) as info:
        mailbox.send(message(subject="x"), sender=SHARED, recipients=["a@example.com"])
    assert info.value.unreachable and not info.value.permanent
    assert "ErrorSendAsDenied" in str(info.value)


def test_an_item_exchange_cannot_convert_does_not_hold_up_the_rest(
        exchange: FakeExchange, caplog: pytest.LogCaptureFixture) -> None:
    good = exchange.deliver(message(subject="好的", message_id="<ok1@example.com>"))
    bad = exchange.deliver(message(subject="坏的", message_id="<bad1@example.com>"))
    after = exchange.deliver(message(subject="之后", message_id="<ok2@example.com>"))
    exchange.broken[bad.id] = "ErrorMimeContentConversionFailed"
    mailbox = backend()
    mailbox.start()
    batch = mailbox.fetch(None)
    assert [parse(m.raw)["Subject"] for m in batch.messages] == ["好的", "之后"]
    assert [i.raw for i in exchange.in_folder("failed")] == [bad.raw]  # kept whole
    assert "ErrorMimeContentConversionFailed" in caplog.text
    mailbox.ack([m.ref for m in batch.messages])
    assert sorted(i.raw for i in exchange.in_folder("processed")) == sorted(
        [good.raw, after.raw])


def test_a_wrong_password_stops_the_start_without_retrying(exchange: FakeExchange) -> None:
    exchange.fail_next("GetFolder", "ErrorServerBusy_soapfault_BackOff1500ms.xml", 401)
    mailbox = backend()
    with pytest.raises(CollabdError, match="refused"):
        mailbox.start()
    assert exchange.ops() == ["GetFolder"]  # one logon, not a series that locks it out


def test_oauth2_token_is_read_again_after_the_server_refused_it(
        exchange: FakeExchange, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("token-one\n", encoding="utf-8")
    source = Secret(xoauth2_token_file=token).source(tmp_path)
    # max_wait 0: the refusal is not waited out inside the call (it would be, up to 30 s).
    mailbox = EwsMailbox(settings(auth_type="oauth2", username=None, max_wait_seconds=0,
                                  auth=Secret(xoauth2_token_file=token)),
                         address=SHARED, tz=TZ, secret=source, client_secret=None,
                         base_dir=tmp_path)
    mailbox.start()
    assert exchange.requests[-1][2].headers["Authorization"] == "Bearer token-one"
    token.write_text("token-two\n", encoding="utf-8")  # the helper refreshed it
    exchange.fail_next("SyncFolderItems", "ErrorServerBusy_soapfault_BackOff1500ms.xml", 401)
    with pytest.raises(MailboxUnavailable):
        mailbox.fetch(None)
    mailbox.pause.until = 0.0  # the pause is over
    mailbox.fetch(None)
    assert exchange.requests[-1][2].headers["Authorization"] == "Bearer token-two"


# -- a deployment on Exchange ------------------------------------------------------------------

def ews_deployment(root: Path) -> Config:
    path = init_deployment(root, address=SHARED, port=free_port())
    (root / "ews.secret").write_text(PASSWORD + "\n", encoding="utf-8")
    text = path.read_text(encoding="utf-8").replace("backend: local\n", f"""\
backend: ews
ews:
  service_endpoint: {URL}
  auth_type: basic
  username: CORP\\svc-collab
  auth:
    password_file: ews.secret
  version: "15.1"
""", 1)
    path.write_text(text, encoding="utf-8")
    meetings = root / "rules" / "meetings.yaml"
    meetings.write_text(meetings.read_text(encoding="utf-8").replace(
        "invite_heads: false", "invite_heads: true"), encoding="utf-8")
    config = apply_test_defaults(load_config(path))
    no_lunch_break(config)  # the recorded Exchange traffic was made on a 09:00-18:00 day
    return config


class ExchangeHarness:
    """The daemon in this process on the Exchange backend, on a clock the test drives."""

    def __init__(self, config: Config, exchange: FakeExchange, start: str) -> None:
        self.exchange = exchange
        self.clock = FixedClock(at(start), TZ)
        self.daemon = Daemon(config, self.clock)
        self.daemon.start()
        self._seen = 0

    def at(self, when: str, *raws: bytes, items: tuple[tuple[bytes, str], ...] = ()
           ) -> list[EmailMessage]:
        self.clock.set(at(when))
        for raw in raws:
            self.exchange.deliver(raw)
        for raw, tag in items:
            self.exchange.deliver(raw, tag=tag)
        self.daemon.run_once()
        self.daemon.run_once()  # what the first pass journaled (answers) is processed
        new = [parse(raw) for raw in self.exchange.sent[self._seen:]]
        self._seen = len(self.exchange.sent)
        return new

    def record(self, record_id: str) -> dict[str, Any]:
        found = self.daemon.view.record(record_id)
        assert found is not None
        return found


@pytest.fixture
def h(tmp_path: Path, exchange: FakeExchange) -> Iterator[ExchangeHarness]:
    harness = ExchangeHarness(ews_deployment(tmp_path / "deploy"), exchange,
                              "2026-12-01 10:00")
    yield harness
    harness.daemon.close()


MEETING = "HY-2026-0001"


def test_request_acknowledged_and_review_meeting_created_in_exchange(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    sent = h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    subjects = [str(m["Subject"]) for m in sent]
    assert any("需求已受理" in s for s in subjects)
    # The invite did not go out as an iMIP message: Exchange has the meeting and sends
    # the invitations itself.
    assert not any(m.get_content_type() == "text/calendar" for s in sent for m in s.walk())
    [item] = exchange.calendar_items()
    f = item.fields
    assert f["subject"] == "[HY-2026-0001] 需求评审会：双十二活动预算"
    assert dt.datetime.fromisoformat(f["start"]) == at("2026-12-02 09:30")
    assert sorted(a["address"] for a in f["attendees"]) == [
        "he.fang@example.com", "huang.lei@example.com", "wu.min@example.com",
        "zheng.hao@example.com"]
    assert f["uid"] == f["collabd-uid"] == h.record(MEETING)["uid"]
    assert exchange.invitations == [("create", "SendToAllAndSaveCopy", [
        a["address"] for a in f["attendees"]])]
    # The ack is in Sent Items, moved out of the inbox: the request was processed once.
    assert len(exchange.in_folder("processed")) == 1


def test_attendee_answers_are_read_from_the_calendar_item(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    uid = h.record(MEETING)["uid"]
    exchange.answer(uid, "zheng.hao@example.com", "Accept")
    exchange.answer(uid, "wu.min@example.com", "Decline")
    # Exchange puts the answer into the shared mailbox as a MeetingResponse item too: it
    # is recorded and never answered, and makes the daemon read the answers at once.
    response = message(sender="吴敏 <wu.min@example.com>",
                       subject="拒绝: [HY-2026-0001] 需求评审会",
                       message_id="<resp-wu@example.com>")
    sent = h.at("2026-12-01 10:06", items=((response, "MeetingResponse"),))
    partstats = {a["address"]: a["partstat"] for a in h.record(MEETING)["attendees"]}
    assert partstats["zheng.hao@example.com"] == "ACCEPTED"
    assert partstats["wu.min@example.com"] == "DECLINED"
    # A required attendee declined: the organizer is told; the MeetingResponse itself
    # got no "could not understand" answer.
    assert [str(m["Subject"]) for m in sent] == [
        "[HY-2026-0001] 吴敏 拒绝了会议邀请：需求评审会：双十二活动预算"]
    # Read again later: nothing changed, nothing new.
    assert h.at("2026-12-01 11:00") == []
    assert [a["what"] for a in h.record(MEETING)["audit"]].count("rsvp declined") == 1


def test_answers_given_before_a_reschedule_do_not_count_after_it(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    uid = h.record(MEETING)["uid"]
    exchange.answer(uid, "wu.min@example.com", "Decline", at=at("2026-12-01 10:20"))
    first = h.at("2026-12-01 10:30", items=((message(
        sender="吴敏 <wu.min@example.com>", subject="拒绝: [HY-2026-0001] 需求评审会",
        message_id="<resp-wu-1@example.com>"), "MeetingResponse"),))
    assert [str(m["Subject"]) for m in first] == [
        "[HY-2026-0001] 吴敏 拒绝了会议邀请：需求评审会：双十二活动预算"]
    invitation = EmailMessage()
    invitation["From"] = SHARED
    invitation["Subject"] = "[HY-2026-0001] 需求评审会：双十二活动预算"
    invitation["Message-ID"] = "<exchange-invitation-2@mail.example.com>"
    invitation.set_content("会议邀请")
    h.at("2026-12-01 11:00", reply_to(invitation, sender="何芳 <he.fang@example.com>",
                                      text="改期：2026-12-03 15:00"))
    # Exchange still shows her Decline (given for the old time); it is not news.
    later = h.at("2026-12-01 16:00", items=((message(
        sender="郑浩 <zheng.hao@example.com>", subject="接受: [HY-2026-0001] 需求评审会",
        message_id="<resp-zheng@example.com>"), "MeetingResponse"),))
    assert not any("拒绝了会议邀请" in str(m["Subject"]) for m in later)
    attendees = {a["address"]: a["partstat"] for a in h.record(MEETING)["attendees"]}
    assert attendees["wu.min@example.com"] == "NEEDS-ACTION"


def test_an_older_invite_retried_late_does_not_move_the_meeting_back(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    from collabd.mailbox.base import Attendee, NativeMeeting

    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    record = h.record(MEETING)
    calendar = h.daemon.mailbox.calendar
    assert calendar is not None
    newer = NativeMeeting(uid=record["uid"], subject="[HY-2026-0001] 需求评审会",
                          start=at("2026-12-03 15:00"), end=at("2026-12-03 16:00"),
                          location="", body_html="<p>改期</p>",
                          attendees=(Attendee("he.fang@example.com", "何芳"),), sequence=2)
    calendar.save_meeting(newer, notify=[])
    older = NativeMeeting(uid=record["uid"], subject="[HY-2026-0001] 需求评审会",
                          start=at("2026-12-02 09:30"), end=at("2026-12-02 10:30"),
                          location="", body_html="<p>旧</p>",
                          attendees=(Attendee("he.fang@example.com", "何芳"),), sequence=1)
    updates = len(exchange.calls("UpdateItem"))
    calendar.save_meeting(older, notify=[])
    assert len(exchange.calls("UpdateItem")) == updates
    [item] = exchange.calendar_items()
    assert dt.datetime.fromisoformat(item.fields["start"]) == at("2026-12-03 15:00")


def test_a_meeting_exchange_cannot_take_fails_that_message_only(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    """exchangelib refuses some values itself (a subject over 255 characters is cut, an
    end before the start is not): the invite fails for good, the daemon goes on."""
    from collabd.mailbox.base import Attendee, NativeMeeting

    calendar = h.daemon.mailbox.calendar
    assert calendar is not None
    bad = NativeMeeting(uid="HY-2026-0099-x@example.com", subject="长" * 300,
                        start=at("2026-12-03 15:00"), end=at("2026-12-03 14:00"),
                        location="", body_html="", attendees=(Attendee("a@example.com"),))
    with pytest.raises(SendError) as info:
        calendar.save_meeting(bad, notify=[])
    assert info.value.permanent
    long_subject = NativeMeeting(uid="HY-2026-0098-x@example.com", subject="长" * 300,
                                 start=at("2026-12-03 15:00"), end=at("2026-12-03 16:00"),
                                 location="", body_html="",
                                 attendees=(Attendee("a@example.com"),))
    calendar.save_meeting(long_subject, notify=[])
    assert [len(i.fields["subject"]) for i in exchange.calendar_items()] == [255]


def test_reschedule_and_cancel_go_through_exchange(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    sent = h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    ack = next(m for m in sent if "需求已受理" in str(m["Subject"]))
    organizer = "何芳 <he.fang@example.com>"
    # The organizer answers the invitation Exchange sent: its subject names the meeting.
    invitation = EmailMessage()
    invitation["From"] = SHARED
    invitation["Subject"] = "[HY-2026-0001] 需求评审会：双十二活动预算"
    invitation["Message-ID"] = "<exchange-invitation@mail.example.com>"
    invitation.set_content("会议邀请")
    h.at("2026-12-01 11:00", reply_to(invitation, sender=organizer,
                                      text="改期：2026-12-03 15:00"))
    [item] = exchange.calendar_items()
    assert dt.datetime.fromisoformat(item.fields["start"]) == at("2026-12-03 15:00")
    assert exchange.invitations[-1][:2] == ("update", "SendToAllAndSaveCopy")
    h.at("2026-12-01 11:10", reply_to(invitation, sender=organizer, text="增加参会人：周杰"))
    assert "zhou.jie@example.com" in [a["address"] for a in item.fields["attendees"]]
    # Only the new attendee needs an invitation: Exchange sends to the changed ones.
    assert exchange.invitations[-1][:2] == ("update", "SendToChangedAndSaveCopy")
    h.at("2026-12-01 11:30", reply_to(invitation, sender=organizer, text="取消会议"))
    assert item.fields.get("cancelled") is True
    assert exchange.invitations[-1][0] == "cancel"
    assert h.record(MEETING)["status"] == "cancelled"
    assert ack is not None


def test_free_busy_moves_the_review_meeting_past_busy_attendees(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    # 郑浩 is busy at the first slot (Dec 2, 09:30-10:30 Shanghai) in his own calendar.
    exchange.busy["zheng.hao@example.com"] = [
        (dt.datetime(2026, 12, 2, 9, 0), dt.datetime(2026, 12, 2, 11, 0), "Busy")]
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    start = dt.datetime.fromisoformat(h.record(MEETING)["start"])
    assert start == at("2026-12-02 11:00")
    availability = exchange.calls("GetUserAvailabilityRequest")[-1]
    asked = sorted(e.text or "" for e in availability.iter(f"{{{T}}}Address"))
    assert "zheng.hao@example.com" in asked


def test_unavailable_free_busy_falls_back_to_our_own_meetings(
        h: ExchangeHarness, exchange: FakeExchange, caplog: pytest.LogCaptureFixture) -> None:
    exchange.fail_next("GetServerTimeZones", "ErrorNonExistentMailbox_soapfault_zh-CN.xml")
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    assert dt.datetime.fromisoformat(h.record(MEETING)["start"]) == at("2026-12-02 09:30")
    assert "free/busy not available" in caplog.text


def test_check_reports_the_exchange_it_found(tmp_path: Path, exchange: FakeExchange) -> None:
    config = ews_deployment(tmp_path / "deploy")
    from collabd.checks import run_checks

    problems, findings = run_checks(config)
    assert problems == []
    text = "\n".join(findings)
    assert "logged in as CORP\\svc-collab (delegate access to collab@example.com)" in text
    assert "Exchange version 15.1.2507.6" in text


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


logging.getLogger("exchangelib").setLevel(logging.WARNING)



def test_the_same_answer_from_the_calendar_and_from_the_mail_counts_once(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    from collabd.outbound.invites import native_answer

    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    meeting = h.record(MEETING)
    exchange.answer(meeting["uid"], "wu.min@example.com", "Decline", at=at("2026-12-01 10:20"))
    told = h.at("2026-12-01 10:30")  # read from the calendar at the next due read
    assert [str(m["Subject"]) for m in told] == [
        "[HY-2026-0001] 吴敏 拒绝了会议邀请：需求评审会：双十二活动预算"]
    # Then her client's own iMIP REPLY comes in (as Exchange keeps it, with its
    # text/calendar part): the same answer, a different message.
    attendee = next(a for a in meeting["attendees"] if a["address"] == "wu.min@example.com")
    mail = native_answer(meeting, attendee, "DECLINED", answered_at=None,
                         organizer=SHARED, stamp=at("2026-12-01 10:21"))
    again = h.at("2026-12-01 10:40", items=((mail, "MeetingResponse"),))
    assert again == []  # the organizer is not told twice
    whats = [a["what"] for a in h.record(MEETING)["audit"]]
    assert whats.count("rsvp declined") == 1 and whats.count("rsvp repeated") == 1


def test_a_room_booked_in_exchange_is_not_booked_again(
        h: ExchangeHarness, exchange: FakeExchange) -> None:
    from helpers import edit_rules

    # The first room has a room mailbox; someone booked it in Outlook at the first slot.
    edit_rules(h.daemon.config, "meetings.yaml", ("  - name: 总部3楼第一会议室\n    capacity: 10\n",
                                          "  - name: 总部3楼第一会议室\n    capacity: 10\n"
                                          "    calendar: room-3f-1@example.com\n"))
    h.daemon.reload()
    exchange.busy["room-3f-1@example.com"] = [
        (dt.datetime(2026, 12, 2, 9, 0), dt.datetime(2026, 12, 2, 11, 0), "Busy")]
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    meeting = h.record(MEETING)
    assert dt.datetime.fromisoformat(meeting["start"]) == at("2026-12-02 09:30")
    assert meeting["room"] == "总部3楼第二会议室"  # the same time, another room
    asked = {e.text for call in exchange.calls("GetUserAvailabilityRequest")
             for e in call.iter(f"{{{T}}}Address")}
    assert "room-3f-1@example.com" in asked
