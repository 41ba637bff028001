"""The outbox: committed with its cause, retried with backoff, never sent twice."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from collabd.clock import FixedClock
from collabd.mailbox.base import FetchBatch, Mailbox, SendError, SendReceipt
from collabd.outbound.compose import Draft, Person
from collabd.outbound.outbox import Outbox, SendPolicy
from collabd.store import Store, Txn
from helpers import TZ, at, parse


class RecordingMailbox(Mailbox):
    """A backend that records what it was asked to send and fails on command."""

    kind = "test"

    def __init__(self, failures: Sequence[SendError] = ()) -> None:
        self.failures = list(failures)
        self.sent: list[bytes] = []

    def start(self) -> None: ...
    def stop(self) -> None: ...

    def fetch(self, cursor: str | None, limit: int = 100) -> FetchBatch:
        return FetchBatch([])

    def ack(self, refs: Sequence[str]) -> None: ...

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SendReceipt:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(raw)
        return SendReceipt()


def _outbox(store: Store, clock: FixedClock, **policy: float) -> Outbox:
    return Outbox(store, clock, sender=Person("collab@example.com", "协作秘书"),
                  envelope_from="collab@example.com", policy=SendPolicy(**policy))  # type: ignore[arg-type]


def _draft(n: int = 1) -> Draft:
    return Draft(to=[Person("liu.yang@example.com", "刘洋")], subject=f"[XQ-2026-000{n}] 通知",
                 text="请查收。", record=f"XQ-2026-000{n}")


def test_queued_with_record_change_in_one_commit(tmp_path: Path) -> None:
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock)
    txn = Txn()
    txn.put("records", "XQ-2026-0001", {"id": "XQ-2026-0001"})
    queued = outbox.queue(txn, _draft())
    seq = store.commit(txn)
    entry = store.get("outbox", queued.message_id)
    assert entry is not None and store.get("records", "XQ-2026-0001") is not None
    # The Message-ID was fixed when queued and is inside the stored bytes.
    assert parse(entry["raw"].encode())["Message-ID"] == queued.message_id
    assert seq == store.seq  # one commit for both


def test_retry_with_exponential_backoff_then_sent_once(tmp_path: Path) -> None:
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock, backoff_seconds=30, backoff_max_seconds=3600)
    txn = Txn()
    queued = outbox.queue(txn, _draft())
    store.commit(txn)
    mailbox = RecordingMailbox([SendError("connection refused")] * 3)

    waits = []
    for _ in range(3):
        assert outbox.send_due(mailbox) == 0
        entry = store.get("outbox", queued.message_id)
        assert entry is not None
        nxt = dt.datetime.fromisoformat(entry["next_attempt"])
        waits.append((nxt - clock.now()).total_seconds())
        assert outbox.send_due(mailbox) == 0  # not yet due: no attempt
        clock.set(nxt)
    assert waits == [30, 60, 120]
    assert outbox.send_due(mailbox) == 1
    assert len(mailbox.sent) == 1
    assert store.get("outbox", queued.message_id) is None
    index = store.get("messages", queued.message_id)
    assert index is not None and index["sent"] == clock.now().isoformat()
    assert outbox.send_due(mailbox) == 0
    assert len(mailbox.sent) == 1


def test_no_duplicate_after_restart(tmp_path: Path) -> None:
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock)
    txn = Txn()
    for n in (1, 2):
        outbox.queue(txn, _draft(n))
    store.commit(txn)
    mailbox = RecordingMailbox()
    assert outbox.send_due(mailbox) == 2
    store.wal.close()  # crash right after: no checkpoint, no clean close

    restarted = Store(tmp_path).open()
    again = RecordingMailbox()
    assert _outbox(restarted, clock).send_due(again) == 0
    assert again.sent == []


def test_crash_between_send_and_its_record_resends_the_same_bytes(tmp_path: Path) -> None:
    """The documented window: the server took it, we died before recording that."""
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock)
    txn = Txn()
    outbox.queue(txn, _draft())
    store.commit(txn)

    class DiesAfterSend(RecordingMailbox):
        def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SendReceipt:
            super().send(raw, sender=sender, recipients=recipients)
            raise KeyboardInterrupt  # the process dies before the commit

    first = DiesAfterSend()
    with contextlib.suppress(KeyboardInterrupt):
        outbox.send_due(first)
    store.wal.close()
    restarted = Store(tmp_path).open()
    second = RecordingMailbox()
    assert _outbox(restarted, clock).send_due(second) == 1
    assert second.sent == first.sent  # byte for byte, same Message-ID


def test_permanent_failure_stops_retrying_and_is_kept(tmp_path: Path) -> None:
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock)
    txn = Txn()
    queued = outbox.queue(txn, _draft())
    store.commit(txn)
    mailbox = RecordingMailbox([SendError("550 no such user", permanent=True)])
    outbox.send_due(mailbox)
    entry = store.get("outbox", queued.message_id)
    assert entry is not None and entry["failed"] and "550" in entry["last_error"]
    clock.advance(dt.timedelta(days=1))
    assert outbox.send_due(mailbox) == 0
    assert mailbox.sent == []


def test_outgoing_headers_mark_automatic_mail_and_never_carry_newlines(tmp_path: Path) -> None:
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock)
    txn = Txn()
    draft = Draft(to=[Person("liu.yang@example.com", "刘洋\r\nBcc: evil@example.net")],
                  subject="[XQ-2026-0001] 注入\r\nBcc: evil@example.net", text="正文")
    queued = outbox.queue(txn, draft)
    msg = parse(queued.raw)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["Bcc"] is None
    assert "\n" not in str(msg["Subject"]) and str(msg["Subject"]).startswith("[XQ-2026-0001]")
    assert queued.recipients == ["liu.yang@example.com"]
    assert all(b < 128 for b in queued.raw)  # 7-bit clean: survives any relay


def test_server_down_pauses_the_queue_without_charging_messages(
        tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    """A refused connection is the server's trouble, not the messages': sending pauses as
    a whole with backoff, is logged once, and no message comes nearer to giving up."""
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock, backoff_seconds=30, backoff_max_seconds=3600,
                     max_attempts=2)
    txn = Txn()
    for n in (1, 2, 3):
        outbox.queue(txn, _draft(n))
    store.commit(txn)
    down = SendError("connection refused", unreachable=True)
    mailbox = RecordingMailbox([down] * 20)
    caplog.set_level("DEBUG", logger="collabd.outbound.outbox")
    for n in range(1, 11):  # far more retries than max_attempts
        assert outbox.send_due(mailbox) == 0
        assert len(mailbox.failures) == 20 - n  # one try; the rest of the queue waited
        assert outbox.send_due(mailbox) == 0  # paused: not even a try
        assert len(mailbox.failures) == 20 - n
        until = outbox.seconds_until_due()
        assert until is not None and until > 0
        clock.advance(dt.timedelta(seconds=until))
    assert outbox.server_down
    assert all(e["attempts"] == 0 and not e["failed"] for e in store.values("outbox"))
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1 and "3 message(s) wait" in warnings[0].getMessage()

    mailbox.failures.clear()  # the server is back
    assert outbox.send_due(mailbox) == 3
    assert not outbox.server_down and len(mailbox.sent) == 3
    assert any("sending works again" in r.getMessage() for r in caplog.records)


def test_pause_between_retries_grows_and_is_capped(tmp_path: Path) -> None:
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock, backoff_seconds=30, backoff_max_seconds=3600)
    txn = Txn()
    outbox.queue(txn, _draft())
    store.commit(txn)
    mailbox = RecordingMailbox([SendError("421 try later", unreachable=True)] * 10)
    pauses = []
    for _ in range(8):
        outbox.send_due(mailbox)
        pause = outbox.seconds_until_due()
        assert pause is not None
        pauses.append(pause)
        clock.advance(dt.timedelta(seconds=pause))
    assert pauses == [30, 60, 120, 240, 480, 600, 600, 600]


def test_a_batch_the_sent_folder_could_not_file_stays_queued_and_is_filed_once(
        tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    from collabd.config import LocalBackend
    from collabd.mailbox import local

    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path / "state").open()
    outbox = _outbox(store, clock)
    mailbox = local.LocalMailbox(LocalBackend(), state_dir=tmp_path / "state",
                                 address="collab@example.com", listen=False)
    mailbox.start()
    # More than one batch of sent marks (50), so a failure meets the batch boundary.
    for n in range(1, 61):
        txn = Txn()
        outbox.queue(txn, _draft(n))
        store.commit(txn)
    real = local.rename_batch
    failing = pytest.MonkeyPatch()
    failing.setattr(local, "rename_batch", lambda *_: (_ for _ in ()).throw(
        OSError(28, "No space left on device")))
    outbox.send_due(mailbox)
    failing.undo()
    assert local.rename_batch is real
    # Nothing filed, nothing recorded as sent: all sixty are still to go.
    assert list(mailbox.sent.new.iterdir()) == []
    assert outbox.pending_count() == 60
    assert list(mailbox.sent.tmp.iterdir()) == []
    assert outbox.send_due(mailbox) == 60
    assert len(list(mailbox.sent.new.iterdir())) == 60
    assert outbox.pending_count() == 0
    mailbox.stop()
    store.close()


def test_a_batch_of_journal_entries_is_whole_or_not_there(tmp_path: Path) -> None:
    from collabd.store import Journal, fsutil

    journal = Journal(tmp_path / "queue")
    raws = [f"Message-ID: <m{n}@x>\r\n\r\nbody {n}\r\n".encode() for n in range(5)]
    paths = journal.put_many(raws)
    assert [p.read_bytes() for p in paths] == raws
    assert sorted(p.name for p in journal.pending()) == sorted(p.name for p in paths)
    # A crash after the temp files were written, before they were renamed: at the next
    # start they are removed, and nothing half-written is ever read as a message.
    incoming = tmp_path / "queue" / "in"
    for raw in raws[:2]:
        fsutil.write_new_file(fsutil.temp_path_for(incoming / "x.eml"), raw, sync=False)
    again = Journal(tmp_path / "queue")
    again.recover()
    assert sorted(p.name for p in again.pending()) == sorted(p.name for p in paths)
    assert not [p for p in incoming.iterdir() if p.name.startswith(".")]


def test_a_failed_commit_counts_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path).open()
    txn = Txn()
    txn.put("messages", "<a@x>", {"dir": "in", "record": "XQ-2026-0001"})
    real = store.wal.append

    def full(*args: object, **kwargs: object) -> bytes:
        raise OSError(28, "No space left on device")

    store.wal.append = full  # type: ignore[method-assign]
    with contextlib.suppress(OSError):
        store.commit(txn)
    store.wal.append = real  # type: ignore[method-assign]
    store.commit(txn)  # the same change, retried
    assert store.message_counts() == [1, 0]
    store.close()


def test_an_occurrence_the_server_calendar_lacks_goes_out_as_imip(tmp_path: Path) -> None:
    """A native calendar that cannot find the series an occurrence belongs to (it went out
    as iMIP) says so; the invite is then sent as the iMIP the workflow wrote, not
    recorded as sent with nothing sent."""
    import icalendar

    from collabd.outbound.compose import CalendarPart

    class LostCalendar:
        poll_seconds, answers_changed = 300.0, False

        def accepts(self, meeting: object) -> bool:
            return True

        def save_meeting(self, meeting: object, *, notify: Sequence[str]) -> str:
            raise AssertionError("not a REQUEST")

        def cancel_meeting(self, uid: str, *, reason: str, occurrence: object = None,
                           now_at: object = None) -> None:
            raise LookupError(f"no series {uid} in the calendar")

    event = icalendar.Event()
    event.add("uid", "series-1@collabd")
    event.add("summary", "项目周例会")
    event.add("dtstart", dt.datetime(2027, 1, 8, 7, tzinfo=dt.UTC))
    event.add("dtend", dt.datetime(2027, 1, 8, 8, tzinfo=dt.UTC))
    event.add("recurrence-id", dt.datetime(2027, 1, 1, 7, tzinfo=dt.UTC))
    cal = icalendar.Calendar()
    cal.add("prodid", "-//collabd//test//")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL")
    cal.add_component(event)
    clock = FixedClock(at("2026-12-01 10:00"), TZ)
    store = Store(tmp_path).open()
    outbox = _outbox(store, clock)
    txn = Txn()
    outbox.queue(txn, Draft(to=[Person("sun.li@example.com", "孙丽")],
                            subject="[PJ-2026-0001] 会议取消：项目周例会", text="本次取消。",
                            record="PJ-2026-0001",
                            calendar=CalendarPart(cal.to_ical(), "CANCEL")))
    store.commit(txn)
    mailbox = RecordingMailbox()
    mailbox.calendar = LostCalendar()  # type: ignore[assignment]
    assert outbox.send_due(mailbox) == 1
    [sent] = mailbox.sent
    assert b"text/calendar" in sent and b"CANCEL" in sent
