"""Hostile and malformed mail through the daemon: never crash, never hang, never lose,
never be a weapon. Every message here is built in the test (bombs included: small on
disk, huge when inflated) or is one of sisimai's real bounces and robots' notices."""

from __future__ import annotations

import base64
import io
import json
import smtplib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabd.config import Config
from helpers import (
    DATA,
    DaemonProcess,
    Harness,
    body_text,
    bug_on,
    collabd,
    message,
    subjects,
    wait_until,
)

pytestmark = pytest.mark.integration

SISIMAI = DATA / "sisimai" / "maildir"
FORM = ("发起部门：市场部\n接收部门：研发部\n需求背景与目标：渠道复盘。\n具体需求内容：接入数据。\n"
        "期望完成时间：2026-12-30\n紧急程度：一般\n交付标准：每日可查。\n")


@pytest.fixture
def h(deployment: Config) -> Iterator[Harness]:
    h = Harness(deployment, "2026-12-01 10:00")
    yield h
    h.close()


def _raw(*, charset: str = "utf-8", body: bytes | None = None, subject: bytes = b"test",
         extra: bytes = b"", sender: bytes = b"zhang.wei@example.com",
         ctype: bytes = b"text/plain") -> bytes:
    return (b"From: " + sender + b"\r\nTo: collab@example.com\r\nSubject: " + subject
            + b"\r\nMessage-ID: <h-" + base64.b16encode(subject[:8] + charset.encode()[:8])
            + b"@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: " + ctype
            + b'; charset="' + charset.encode("latin-1") + b'"\r\n' + extra + b"\r\n"
            + (body if body is not None else FORM.encode("gbk")))


def _parse(config: Config, raw: bytes, tmp: Path) -> dict:  # type: ignore[type-arg]
    path = tmp / "m.eml"
    path.write_bytes(raw)
    return json.loads(collabd("parse", str(path), config=config).stdout)  # type: ignore[no-any-return]


# -- no input raises out of parsing -----------------------------------------------------------

@pytest.mark.parametrize("label", [
    "base64", "zlib", "bz2", "hex", "uu", "quopri", "rot13", "undefined", "idna", "punycode",
    "utf-8\x00", "gb2312\xff", "x-unknown-charset", "unicode_escape", "ks_c_5601-1987",
])
def test_every_charset_label_family_is_read_without_raising(deployment: Config, tmp_path: Path,
                                                             label: str) -> None:
    data = _parse(deployment, _raw(charset=label), tmp_path)
    # The GBK form is read whatever the label says, and the label marked as wrong.
    assert data["kind"] == "request" and data["fields"]["content"] == "接入数据。"
    assert data["charset_repaired"] is True


def test_deep_multipart_nesting_is_read_up_to_a_bound(h: Harness, tmp_path: Path) -> None:
    raw = (b"From: zhang.wei@example.com\r\nSubject: deep\r\nMessage-ID: <deep@example.com>\r\n"
           b"MIME-Version: 1.0\r\n" + b"".join(
               b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (n, n)
               for n in range(1500)) + b"Content-Type: text/plain\r\n\r\nhello\r\n")
    assert _parse(h.config, raw, tmp_path)["kind"] == "unreadable"
    sent = h.at("2026-12-01 10:05", raw)
    # Not set aside, and the sender (known) told once that it was not read.
    assert h.daemon.journal.counts()["shunt"] == 0
    assert subjects(sent) == ["邮件未能自动处理：deep"]


def test_deep_html_is_read_without_recursion(deployment: Config, tmp_path: Path) -> None:
    html = b"<div>" * 50_000 + "确认".encode() + b"</div>" * 50_000
    data = _parse(deployment, _raw(body=html, ctype=b"text/html"), tmp_path)
    assert data["kind"] in ("unknown", "unreadable")


def test_a_broken_calendar_is_recorded_not_answered(h: Harness) -> None:
    raw = (b"From: zhang.wei@example.com\r\nSubject: Accepted: x\r\nMessage-ID: <cal@x>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: text/calendar; method=REPLY\r\n\r\n"
           b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nDTSTART:garbage\r\n")
    assert h.at("2026-12-01 10:05", raw) == []
    entry = h.daemon.view.message("<cal@x>")
    assert entry is not None and entry["kind"] == "auto_reply"


def test_an_eight_bit_message_id_does_not_break_the_acknowledgement(h: Harness) -> None:
    raw = (b"From: =?utf-8?B?5byg5Lyf?= <zhang.wei@example.com>\r\nTo: collab@example.com\r\n"
           b"Subject: =?utf-8?B?6ZyA5rGC6KGo?=\r\nMessage-ID: <\xe4\xbd\xa0\xff@x>\r\n"
           b"References: <a\xff@b> <ok@example.com>\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + FORM.encode())
    sent = h.at("2026-12-01 10:05", raw)
    ack = next(m for m in sent if "需求已受理" in str(m["Subject"]))
    assert ack["In-Reply-To"] is None  # an id that cannot be written back is not


# -- bounded work per message -----------------------------------------------------------------

def _attached(name: str, data: bytes) -> bytes:
    return (b"From: zhang.wei@example.com\r\nTo: collab@example.com\r\nSubject: form\r\n"
            b"Message-ID: <" + name.encode() + b"@example.com>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n--b\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
            b'filename="' + name.encode() + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + base64.encodebytes(data) + b"\r\n--b--\r\n")


def docx_bomb(megabytes: int = 300) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b"<w:document><w:body><w:p><w:r><w:t>")
            chunk = b"A" * (1024 * 1024)
            for _ in range(megabytes):
                part.write(chunk)
            part.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return buffer.getvalue()


def xlsx_rows(rows: int = 100_000) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["发起部门", "市场部"])
    for n in range(rows):
        sheet.append([f"行{n}", n])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_zip_bomb_docx_is_refused_before_it_inflates(h: Harness) -> None:
    bomb = docx_bomb()
    assert len(bomb) < 1_000_000  # small on the wire, 300 MB inflated
    sent = h.at("2026-12-01 10:05", _attached("form.docx", bomb))
    [answer] = sent
    assert "form.docx" in body_text(answer) and "无法读取" in body_text(answer)


def test_a_sheet_of_100000_rows_is_read_up_to_its_bound(deployment: Config,
                                                        tmp_path: Path) -> None:
    data = _parse(deployment, _attached("表.xlsx", xlsx_rows()), tmp_path)
    assert data["kind"] in ("unknown", "request")


def test_a_huge_encoded_subject_and_a_2mb_html_body_are_read(deployment: Config,
                                                             tmp_path: Path) -> None:
    subject = b" ".join([b"=?utf-8?B?5byg5Lyf?="] * 30_000)  # 600 KB of encoded words
    data = _parse(deployment, _raw(subject=subject), tmp_path)
    assert data["kind"] == "request" and data["subject"].startswith("张伟张伟")
    cell = "<tr><td>标签</td><td>值</td></tr>".encode()
    html = b"<table>" + cell * (2_000_000 // len(cell)) + b"</table>"
    data = _parse(deployment, _raw(body=html, ctype=b"text/html"), tmp_path)
    assert data["kind"] in ("unknown", "unreadable")


# -- a poison message is never silent ---------------------------------------------------------

def test_a_set_aside_message_is_told_summarised_and_retried(h: Harness, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    real = bug_on(monkeypatch, h.daemon)
    raw = message(sender="张伟 <zhang.wei@example.com>", subject="需求表：毒", body=FORM,
                  message_id="<poison@example.com>")
    sent = h.at("2026-12-01 10:05", raw)
    told, summary = sent
    assert str(told["To"]) == "张伟 <zhang.wei@example.com>"
    assert "未能自动处理" in str(told["Subject"]) and "执行秘书" in body_text(told)
    assert h.daemon.journal.counts()["shunt"] == 1
    status = json.loads(collabd("status", "--json", config=h.config).stdout)
    assert status["journal"]["shunt"] == 1
    # The secretary gets one summary a working day, of what is new.
    assert str(summary["To"]) == "李静 <li.jing@example.com>"
    assert str(summary["Subject"]) == "【待处理】1 封邮件未能自动处理"
    assert "需求表：毒" in body_text(summary) and "a bug in this version" in body_text(summary)
    assert h.at("2026-12-01 15:00") == []  # once a day
    assert h.at("2026-12-02 09:00") == []  # nothing new since
    # The operator lists it, and retries it once the bug is fixed.
    listed = json.loads(collabd("journal", "list", "--json", config=h.config).stdout)
    [entry] = listed["set_aside"]
    assert entry["subject"] == "需求表：毒" and "a bug in this version" in entry["error"]
    monkeypatch.setattr(h.daemon.workflow, "on_event", real)
    collabd("journal", "retry", entry["name"][:20], config=h.config)
    sent = h.at("2026-12-02 10:30")
    assert any("需求已受理" in s for s in subjects(sent))
    [operation] = h.daemon.journal.operations()
    assert operation["action"] == "retry" and operation["message"].startswith(
        entry["name"][:20])


def test_a_set_aside_message_can_be_dropped_and_is_kept(h: Harness,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(h.daemon.workflow, "on_event",
                        lambda *_: (_ for _ in ()).throw(RuntimeError("boom")))
    h.at("2026-12-01 10:05", message(sender="x@outside.example", subject="s",
                                     message_id="<drop@x>"))
    [entry] = json.loads(collabd("journal", "list", "--json", config=h.config).stdout)[
        "set_aside"]
    collabd("journal", "drop", entry["name"], config=h.config)
    assert h.daemon.journal.counts()["shunt"] == 0
    # Kept, not deleted, and the operation recorded (queue/dropped/ and operations.log,
    # or the database journal's rows).
    [kept] = [e for e in h.daemon.journal.export_entries() if e["state"] == "dropped"]
    assert b"<drop@x>" in kept["raw"] and "boom" in kept["error"]
    assert [op["action"] for op in h.daemon.journal.operations()] == ["drop"]


# -- automatic mail is never answered ---------------------------------------------------------

def test_sisimai_bounces_and_robots_are_never_answered(h: Harness) -> None:
    files = sorted(SISIMAI.rglob("*.eml"))
    assert len(files) == 709
    sent = h.at("2026-12-01 10:05", *[p.read_bytes() for p in files])
    assert sent == []
    assert h.daemon.journal.counts() == {"waiting": 0, "shunt": 0, "bad": 0}


# -- the SMTP listener ------------------------------------------------------------------------

def test_a_2000_character_line_is_accepted_over_smtp(deployment: Config) -> None:
    line = "确认。" + "很长的一行" * 400  # 2,000+ characters on one line, no folding
    raw = message(subject="长行", body=line, message_id="<longline@example.com>")
    raw = raw.replace(b"Content-Transfer-Encoding: base64", b"Content-Transfer-Encoding: 8bit")
    raw = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n" + line.encode() + b"\r\n"
    daemon = DaemonProcess(deployment).start()
    try:
        local = deployment.settings.local
        with smtplib.SMTP(local.listen_host, local.listen_port, timeout=10) as smtp:
            assert smtp.sendmail("zhang.wei@example.com", ["collab@example.com"], raw) == {}
        wait_until(lambda: json.loads(collabd("status", "--json", config=deployment).stdout)[
            "mail"]["processed"] == 1, message="the long-lined message processed")
    finally:
        assert daemon.stop() == 0, daemon.log()


def test_an_outside_sender_gets_our_secretarys_address_but_not_their_own_links(
        h: Harness) -> None:
    sent = h.at("2026-12-01 10:05", message(
        sender="x <someone@elsewhere.test>", subject="需求表：数据",
        body=("发起部门：市场部\n发起人：外部人 http://phish.example.net/login\n"
              "接收部门：财务部\n需求背景与目标：无。\n具体需求内容：无。\n"
              "期望完成时间：2026-12-20\n交付标准：无。\n"),
        message_id="<outside-form@example.com>"))
    text = " ".join(body_text(m) for m in sent)
    assert "phish.example.net" not in text and "[链接]" in text
    assert "li.jing@example.com" in text  # whom to ask, as we wrote it
