"""Testing helpers in the spirit of Mailman's: deployments, messages from inline text,
daemons that run until their queues are empty, and assertions on what landed where."""

from __future__ import annotations

import datetime as dt
import email
import email.encoders
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from collabd.app import Daemon
from collabd.clock import FixedClock
from collabd.config import Config, load_config
from collabd.demo import reply_to  # noqa: F401 - replies as Outlook writes them, shared
from collabd.deployment import init_deployment

TZ = "Asia/Shanghai"
SHARED = "collab@example.com"
REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Distinct free loopback ports, all held until all are chosen."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


# 2027 as the tests know it: the days off the `holidays` package gives for 2027 while
# it has no State Council notice for it (fixed-rule holidays on weekdays, no 调休), so
# that tests running into January keep their deadlines whatever package is installed,
# and no deployment tells the secretary the year is unknown (test_calendar_defaults
# covers that, with the shipped calendar.yaml).
TEST_2027 = """years:
  2027:
    days_off: [2027-01-01, 2027-02-05, 2027-02-08..2027-02-10, 2027-04-05,
               2027-05-03..2027-05-04, 2027-06-09, 2027-09-15, 2027-10-01,
               2027-10-04..2027-10-05]
    workdays: []
"""


def apply_test_defaults(config: Config, *, digest: bool = False) -> Config:
    """What every test deployment changes in the shipped rules: 2027 pinned (above), and
    the daily digest off unless asked for — a morning mail to everyone something waits
    on, which every test of another flow would have to step around (test_digest_e2e
    has it on, as shipped)."""
    edit_rules(config, "calendar.yaml", ("years: {}", TEST_2027))
    if not digest:
        edit_rules(config, "sla.yaml", ("digest:\n  enabled: true", "digest:\n  enabled: false"))
    return config


# COLLABD_TEST_STORE=postgresql: every deployment the tests make keeps its state in
# PostgreSQL (one throwaway server for the run, a space per deployment), so that the
# flows' suites run on that store too (.ci/run runs a set of them so).
STORE = os.environ.get("COLLABD_TEST_STORE", "embedded")
_POSTGRES: list[Any] = []


def shared_postgres() -> Any:
    """The run's PostgreSQL server (started on first use, stopped at exit)."""
    if not _POSTGRES:
        import atexit

        from servers import Postgres

        _POSTGRES.append(Postgres().start())
        atexit.register(_POSTGRES[0].close)
    return _POSTGRES[0]


def make_deployment(root: Path, *, port: int | None = None, extra_yaml: str = "",
                    digest: bool = False) -> Config:
    """A deployment made by `collabd init`, with the tests' defaults."""
    path = init_deployment(root, address=SHARED, port=port or free_port())
    if STORE == "postgresql" and "store:" not in extra_yaml:
        import uuid

        extra_yaml += (f"store: postgresql\npostgresql:\n  dsn: \"{shared_postgres().dsn}\"\n"
                       f"  space: t-{uuid.uuid4().hex[:12]}\n")
    if extra_yaml:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(extra_yaml)
    return apply_test_defaults(load_config(path), digest=digest)


def finance_request(due: str = "2026-12-20") -> str:
    """A request form: 刘洋 of 市场部 asks 财务部 for discount data (the ledgers', the
    digest's and the board's tests)."""
    return ("发起部门：市场部\n发起人：刘洋\n接收部门：财务部\n"
            "需求背景与目标：促销预算需要历史折扣数据。\n"
            "具体需求内容：导出去年同期各渠道折扣与毛利数据。\n"
            f"期望完成时间：{due}\n交付标准：数据表经市场部确认。\n")


def at(text: str) -> dt.datetime:
    """A moment in the deployment's timezone: at('2026-12-01 09:30')."""
    from zoneinfo import ZoneInfo

    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(TZ))


def message(*, sender: str = "张伟 <zhang.wei@example.com>", to: str = SHARED,
            subject: str = "测试", body: str = "你好", message_id: str | None = None,
            headers: dict[str, str] | None = None) -> bytes:
    """A message built from inline values, as UTF-8 bytes with CRLF line ends."""
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = "Mon, 30 Nov 2026 10:00:00 +0800"
    if message_id:
        msg["Message-ID"] = message_id
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes()


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def sent_files(state_dir: Path) -> list[Path]:
    root = state_dir / "mail" / "sent"
    found = [p for d in ("new", "cur") if (root / d).is_dir() for p in (root / d).iterdir()]
    return sorted(found)


def sent_messages(state_dir: Path) -> list[EmailMessage]:
    """Every message the local backend sent, parsed, in the order they were filed."""
    return [parse(p.read_bytes()) for p in sent_files(state_dir)]


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None, "message has no text/plain part"
    content = part.get_content()
    assert isinstance(content, str)
    return content


def daemon_at(config: Config, when: dt.datetime, **kwargs: Any) -> Daemon:
    """An in-process daemon on a fixed clock, started, without the SMTP listener."""
    d = Daemon(config, FixedClock(when, TZ), listen=False, **kwargs)
    d.start()
    return d


def collabd(*args: str, config: Config | None = None, stdin: bytes | None = None,
            check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[bytes]:
    """Run the installed `collabd` command, as an operator would."""
    argv = [sys.executable, "-m", "collabd", *args]
    if config is not None and "--config" not in args:
        argv += ["--config", str(config.path)]
    result = subprocess.run(argv, input=stdin, capture_output=True, timeout=timeout,
                            check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"collabd {' '.join(args)} exited {result.returncode}\n"
            f"stdout: {result.stdout.decode(errors='replace')}\n"
            f"stderr: {result.stderr.decode(errors='replace')}"
        )
    return result


class DaemonProcess:
    """`collabd run` as a real process, as systemd would run it."""

    def __init__(self, config: Config, *args: str) -> None:
        self.config = config
        self.args = args  # more of `collabd run`'s options (--now …)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = config.state_dir.parent / "daemon.log"

    def start(self, timeout: float = 20, *, until: tuple[bytes, ...] = (b"started on",)
              ) -> DaemonProcess:
        """Start it and wait until it is up (a client backend: until its log says one
        of `until`; a standby says "standing by")."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collabd", "run", "--config", str(self.config.path),
             *self.args],
            stdout=log, stderr=log, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        local = self.config.settings.local
        listens = self.config.settings.backend == "local"
        start = self.log_path.stat().st_size if self.log_path.exists() else 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
            if not listens:
                # A client backend: up once it says so.
                logged = self.log_path.read_bytes()[start:]
                if any(text in logged for text in until):
                    return self
                time.sleep(0.05)
                continue
            try:
                with socket.create_connection((local.listen_host, local.listen_port), 0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"daemon did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if (
            self.log_path.exists()) else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)


def live_round_trip(live: Any, cursor: str | None = None, *,
                    pause: float = 3.0) -> tuple[Any, Any, EmailMessage]:
    """A live backend sends a message to its own shared mailbox and finds it again
    (only that message is acknowledged, so only it is moved): (receipt, the fetched
    message, it parsed). The headers that keep auto-replies and loops away are checked
    to have survived the server's rewriting."""
    import uuid

    token = uuid.uuid4().hex[:12]
    raw = message(sender=f"collabd <{live.address}>", to=live.address,
                  subject=f"collabd live test {token}",
                  message_id=f"<live-{token}@collabd.invalid>",
                  headers={"Auto-Submitted": "auto-generated",
                           "X-Auto-Response-Suppress": "All",
                           "X-Collabd-Loop": live.address})
    receipt = live.send(raw, sender=live.address, recipients=[live.address])
    found = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and found is None:
        batch = live.fetch(cursor)
        cursor = batch.cursor
        found = next((m for m in batch.messages if token.encode() in m.raw), None)
        if found is None and not batch.more:
            time.sleep(pause)
    assert found is not None, "the message sent to the shared mailbox never arrived"
    live.ack([found.ref])
    arrived = email.message_from_bytes(found.raw, policy=email.policy.default)
    assert isinstance(arrived, EmailMessage)
    assert arrived["Auto-Submitted"] == "auto-generated"
    assert arrived["X-Auto-Response-Suppress"] == "All"
    assert arrived["X-Collabd-Loop"] == live.address
    return receipt, found, arrived


def wait_until(predicate: Any, *, timeout: float = 20, interval: float = 0.05,
               message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def smtp_send(config: Config, raw: bytes, *, sender: str = "zhang.wei@example.com",
              recipients: Sequence[str] = (SHARED,)) -> None:
    import smtplib

    local = config.settings.local
    with smtplib.SMTP(local.listen_host, local.listen_port, timeout=10) as smtp:
        smtp.sendmail(sender, list(recipients), raw)


def iter_lines(text: str) -> Iterator[str]:
    yield from (line for line in text.splitlines() if line.strip())


def require_binary(name: str, *, why: str) -> str:
    """The path of a program a test needs. Missing: a skip locally, a failure in CI."""
    import shutil

    import pytest

    path = shutil.which(name)
    if path is None:
        for extra in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
            candidate = Path(extra) / name
            if candidate.exists():
                path = str(candidate)
                break
    if path is None:
        text = f"{name} is not installed ({why}); .ci/run installs it"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(text + " - and CI=true, so this is a failure, not a skip")
        pytest.skip(text)
    return path


def default_rules():  # type: ignore[no-untyped-def]
    """The shipped rules (rules/ at the top of the repository)."""
    from zoneinfo import ZoneInfo

    from collabd.policy.rules import load_rules

    return load_rules(REPO / "rules", tz=ZoneInfo(TZ))


def classify_file(name: str, now: dt.datetime, lookup: Any = None):  # type: ignore[no-untyped-def]
    """Classify tests/data/<name> with the shipped rules, as `collabd parse` would."""
    from collabd.inbound.classify import Classifier
    from collabd.inbound.message import read_message

    classifier = Classifier(default_rules(), SHARED)
    raw = (DATA / name).read_bytes()
    return classifier.classify(read_message(raw), now, lookup or (lambda _: None))


def find_sent(state_dir: Path, *, subject: str, to: str | None = None) -> EmailMessage:
    """The one sent message whose subject contains `subject` (and sent to `to`)."""
    found = [m for m in sent_messages(state_dir) if subject in str(m["Subject"])
             and (to is None or to in str(m["To"]))]
    assert len(found) == 1, [str(m["Subject"]) for m in sent_messages(state_dir)]
    return found[0]


IMIP = DATA / "imip"


def calendar_part(msg: EmailMessage) -> bytes:
    """The text/calendar part of a sent message (an invite, an update, a cancellation)."""
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            return data
    raise AssertionError("no text/calendar part")


def _reply_ics(template: bytes, *, uid: str, sequence: int, attendee: str, name: str,
               partstat: str, extra: dict[str, str] | None = None,
               delegated_to: str | None = None) -> bytes:
    """A REPLY calendar shaped like `template` (a real client's, X- properties and
    all) but answering our meeting: its UID, SEQUENCE and one attendee replaced."""
    import icalendar

    cal = icalendar.Calendar.from_ical(template)
    for event in cal.walk("VEVENT"):
        event["UID"] = icalendar.vText(uid)
        event["SEQUENCE"] = sequence
        address = icalendar.vCalAddress(f"mailto:{attendee}")
        address.params["CN"] = name
        address.params["PARTSTAT"] = partstat
        if delegated_to:
            address.params["DELEGATED-TO"] = f"mailto:{delegated_to}"
        event["ATTENDEE"] = address
        for key, value in (extra or {}).items():
            event[key] = value
    return bytes(cal.to_ical())


def calendar_reply(invite: EmailMessage, *, fixture: str, attendee: str, name: str,
                   partstat: str, subject: str, sender: str | None = None,
                   delegated_to: str | None = None, comment: str | None = None,
                   mutate: Any = None) -> bytes:
    """A real client's reply message (tests/data/imip/<fixture>) re-addressed to answer
    `invite`: the message structure, encodings and X- properties stay the client's."""
    import icalendar

    sent = icalendar.Calendar.from_ical(calendar_part(invite))
    event = next(iter(sent.walk("VEVENT")))
    msg = email.message_from_bytes((IMIP / fixture).read_bytes(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    for part in msg.walk():
        is_calendar = part.get_content_type() == "text/calendar" or str(
            part.get_filename() or "").endswith(".ics")
        if not is_calendar:
            continue
        original = part.get_payload(decode=True)
        assert isinstance(original, bytes)
        extra = {"COMMENT": comment} if comment else None
        ics = _reply_ics(original, uid=str(event["UID"]), sequence=int(event.get("SEQUENCE", 0)),
                         attendee=attendee, name=name, partstat=partstat, extra=extra,
                         delegated_to=delegated_to)
        if mutate is not None:
            changed = icalendar.Calendar.from_ical(ics)
            mutate(changed)
            ics = bytes(changed.to_ical())
        cte = str(part.get("Content-Transfer-Encoding", "7bit")).lower()
        part.set_payload(ics)
        del part["Content-Transfer-Encoding"]
        if cte == "base64":
            email.encoders.encode_base64(part)
        else:
            import quopri

            part.set_payload(quopri.encodestring(ics))
            part["Content-Transfer-Encoding"] = "quoted-printable"
    for header in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
                   "Date"):
        del msg[header]
    msg["From"] = f"{name} <{sender or attendee}>"
    msg["To"] = str(invite["From"])
    msg["Subject"] = subject
    msg["Date"] = "Wed, 02 Dec 2026 09:00:00 +0800"
    import uuid

    msg["Message-ID"] = f"<rsvp-{uuid.uuid4().hex[:12]}@example.com>"
    return msg.as_bytes(policy=email.policy.SMTP)


_SHAPES: dict[str, Any] = {}


def shape_problems(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Why each record that has not collabd.model's shape has not: a field the model
    does not name (in the record or in anything nested in it), or a value of another
    type. Every test's harness checks what its run left (Harness.close)."""
    from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

    from collabd import model

    if not _SHAPES:
        for value in vars(model).values():
            if isinstance(value, type) and issubclass(value, dict) and value is not dict:
                with_config(ConfigDict(extra="forbid"))(value)
        _SHAPES.update({kind: TypeAdapter(t) for kind, t in model.KINDS.items()})
    problems = []
    for record in records:
        adapter = _SHAPES.get(record.get("kind", ""))
        if adapter is None:
            problems.append(f"{record.get('id')}: no kind of record is {record.get('kind')!r}")
            continue
        try:
            adapter.validate_python(record)
        except ValidationError as exc:
            problems.append(f"{record.get('id')}: {exc}")
    return problems


def bug_on(monkeypatch: Any, daemon: Daemon, word: str = "毒") -> Any:
    """Processing a message whose subject holds `word` raises, as a bug in this version
    would (the message is then set aside); returns the real handler, to put back."""
    real = daemon.workflow.on_event

    def broken(event, view, now):  # type: ignore[no-untyped-def]
        if word in event.message.subject:
            raise RuntimeError("a bug in this version")
        return real(event, view, now)

    monkeypatch.setattr(daemon.workflow, "on_event", broken)
    return real


class Harness:
    """A daemon on the local backend in this process, on a clock the test drives: each
    `at()` delivers mail into the journal and does one fetch-process-tick-send pass."""

    def __init__(self, config: Config, start: str) -> None:
        self.config = config
        self.clock = FixedClock(at(start), TZ)
        self.daemon = Daemon(config, self.clock, listen=False)
        self.daemon.start()
        self._seen = 0

    def at(self, when: str, *raws: bytes) -> list[EmailMessage]:
        """Advance to `when`, deliver `raws`, run one pass; the messages it sent."""
        moment = at(when)
        assert moment >= self.clock.now(), "the clock only goes forward"
        self.clock.set(moment)
        for raw in raws:
            self.daemon.journal.put(raw)
        self.daemon.run_once()
        sent = sent_messages(self.config.state_dir)
        new = sent[self._seen:]
        self._seen = len(sent)
        return new

    def sent(self, subject: str, to: str | None = None) -> EmailMessage:
        return find_sent(self.config.state_dir, subject=subject, to=to)

    def first(self, subject: str) -> EmailMessage:
        """The first message sent whose subject contains `subject`."""
        return next(m for m in sent_messages(self.config.state_dir)
                    if subject in str(m["Subject"]))

    def record(self, record_id: str) -> dict[str, Any]:
        found = self.daemon.view.record(record_id)
        assert found is not None, record_id
        return found

    def whats(self, record_id: str) -> list[str]:
        return [a["what"] for a in self.record(record_id)["audit"]]

    def close(self) -> None:
        """Stop the daemon; every record the run left must have the model's shape."""
        from collabd.store.backend import read_parts

        self.daemon.close()  # (a test may have stopped it already)
        store = read_parts(self.config).store
        try:
            problems = shape_problems(store.values("records"))
        finally:
            store.close()
        assert not problems, "\n".join(problems)

    def record_from_disk(self, record_id: str) -> dict[str, Any]:
        """The record as another process sees it (the daemon here may be stopped)."""
        from collabd.store.backend import read_parts
        from collabd.store.view import StateView

        parts = read_parts(self.config)
        try:
            found = StateView(parts.store, parts.archive).record(record_id)
        finally:
            parts.store.close()
        assert found is not None, record_id
        return found

    def sent_since_last(self) -> list[EmailMessage]:
        sent = sent_messages(self.config.state_dir)
        new = sent[self._seen:]
        self._seen = len(sent)
        return new


def subjects(messages: Sequence[EmailMessage]) -> list[str]:
    return [str(m["Subject"]) for m in messages]


def edit_rules(config: Config, name: str, *changes: tuple[str, str]) -> None:
    """Change a deployment's rules file: each (old, new) must be found."""
    path = config.rules_dir / name
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, f"{old!r} not in {path}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def no_lunch_break(config: Config) -> None:
    """A 09:00-18:00 day without the default lunch break: for tests whose times were
    worked out on it (the lunch break has tests of its own, test_calendar_defaults)."""
    edit_rules(config, "calendar.yaml", ('  lunch: "12:00-13:30"', '  # lunch: "12:00-13:30"'))


def no_review_meetings(config: Config) -> None:
    """No request gets a review meeting (tests of other flows stay uncluttered)."""
    edit_rules(config, "meetings.yaml", ("type: [项目推进]", "type: []"),
               ("urgency: [紧急]", "urgency: []"))


# Quote headers as clients write them (CLIENT_FORMATS.md and the peers' suites), each
# with the marks the client puts before every quoted line: name → (header, marks).
QUOTE_STYLES = {
    "netease_mail_master": ("---- 回复的原邮件 ----\n| 发件人 | 王芳<wang.fang@example.com> |\n"
                            "| 日期 | 2026年12月10日 10:00 |", ""),
    "qq_english_ui": ("------------------ Original ------------------\n"
                      "From: \"王芳\"<wang.fang@example.com>;\nDate: Thu, Dec 10, 2026 10:00 AM",
                      ""),
    "short_original": ("---Original---\nFrom: \"王芳\"<wang.fang@example.com>", ""),
    "zoho": ("---- 在 星期四, 10 十二月 2026 10:00:00 +0800 王芳 <wang.fang@example.com> "
             "撰写 ----", ""),
    "old_gmail": ("2017-11-24 16:32 GMT+08:00 王芳 <wang.fang@example.com>:", "> "),
    "old_gmail_wrapped": ("2017-11-24 16:32 GMT+08:00 王芳 <\nwang.fang@example.com>:", "> "),
    "outlook_zh_cn": ("________________________________\n发件人: 王芳 <wang.fang@example.com>\n"
                      "发送时间: 2026年12月10日 10:00\n收件人: 张伟\n主题: 方案", ""),
    "outlook_zh_tw": ("寄件者: 王芳 <wang.fang@example.com>\n寄件日期: 2026年12月10日 上午 10:00\n"
                      "收件者: 張偉\n主旨: 方案", ""),
    "foxmail": ("------------------ 原始邮件 ------------------\n"
                "发件人: \"王芳\"<wang.fang@example.com>;", ""),
    "welink": ("发件人：王芳\n收件人：张伟\n抄 送：\n主 题：方案\n"
               "时 间：2026-03-24\u300023:54:15", ""),
    "gmail_zh": ("王芳 <wang.fang@example.com> 于2026年12月10日周四 10:38写道：", "> "),
    "gmail_zh_wrapped": ("王芳 <wang.fang@example.com> 于2026年12月10日周四\n10:38写道：", "> "),
    "apple_zh": ("> 2026年12月10日 14:09，王芳 <wang.fang@example.com> 写道：", "> "),
    "thunderbird_zh": ("在 2026/12/10 14:10, 王芳 写道:", "> "),
    "netease_unmarked": ("在 2026-12-10 10:00:48，\"王芳\" <wang.fang@example.com> 写道：", ""),
    "german": ("Von: 王芳 <wang.fang@example.com>\nGesendet: Donnerstag, 10. Dezember 2026\n"
               "An: 张伟\nBetreff: Plan", ""),
    "german_attribution": ("Am 10.12.2026 um 10:00 schrieb 王芳 <wang.fang@example.com>:", "> "),
    "french": ("Le jeu. 10 déc. 2026 à 10:00, 王芳 <wang.fang@example.com> a écrit :", "> "),
    "spanish": ("El jue, 10 dic 2026 a las 10:00, 王芳 (<wang.fang@example.com>) escribió:",
                "> "),
    "portuguese": ("Em qui., 10 de dez. de 2026 às 10:00, 王芳 <wang.fang@example.com> "
                   "escreveu:", "> "),
    "polish": ("W dniu 10.12.2026 o 10:00, 王芳 pisze:", "> "),
    "russian": ("чт, 10 дек. 2026 г. в 10:00, 王芳 <wang.fang@example.com>:", "> "),
    "danish": ("Den 10. dec. 2026 kl. 10.00 skrev 王芳 <wang.fang@example.com>:", "> "),
    "wrote_without_colon": ("On Thu, Dec 10, 2026 at 10:00 AM 王芳 wrote", "> "),
    "outlook_en": ("-----Original Message-----\nFrom: 王芳 [mailto:wang.fang@example.com]\n"
                   "Sent: Thursday, December 10, 2026 10:00 AM", ""),
}
