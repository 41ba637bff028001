"""`collabd demo`: every flow, on the embedded backend, on a simulated clock.

Two working weeks around New Year 2027 (a weekend and a public holiday included): people
of the default org directory send requests, answer invites, write minutes, report
progress and sign off, as mail; the daemon answers as it would, and the timeline shows
who wrote what and what the daemon sent. Everything runs in a throwaway deployment, or
in --out DIR, which then keeps the config, the rules, the state and every sent message.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from collabd.app import Daemon
from collabd.clock import FixedClock
from collabd.config import load_config
from collabd.deployment import existing_deployment, init_deployment

TZ = ZoneInfo("Asia/Shanghai")
SHARED = "collab@example.com"
_WEEKDAYS = "一二三四五六日"
_POLICY = email.policy.SMTP


# -- mail as people write it ---------------------------------------------------------------

def person(name: str, address: str) -> str:
    return email.utils.formataddr((name, address))


def new_mail(sender: str, subject: str, body: str, *, to: str = SHARED,
             attachments: Sequence[tuple[str, bytes]] = ()) -> bytes:
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = f"<demo-{uuid.uuid4().hex[:16]}@example.com>"
    msg.set_content(body)
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def body_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


def reply_to(original: EmailMessage, *, sender: str, text: str,
             attachments: Sequence[tuple[str, bytes]] = (), message_id: str | None = None,
             in_reply_to: str | None = None) -> bytes:
    """A reply as Outlook zh-CN writes it: the new text, a line of underscores, the
    发件人 block and the quoted original; threaded to `original` (or `in_reply_to`)."""
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = sender
    msg["To"] = str(original["From"])
    msg["Subject"] = "答复: " + str(original["Subject"])
    msg["Date"] = "Tue, 01 Dec 2026 15:00:00 +0800"
    msg["Message-ID"] = message_id or f"<reply-{uuid.uuid4().hex[:12]}@example.com>"
    parent = in_reply_to or str(original["Message-ID"])
    msg["In-Reply-To"] = parent
    msg["References"] = parent
    msg.set_content(
        f"{text}\n\n________________________________\n发件人: {original['From']}\n"
        f"发送时间: 2026年12月1日 10:00\n收件人: {sender}\n主题: {original['Subject']}\n\n"
        f"{body_text(original)}\n"
    )
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream",
                           filename=name)
    return msg.as_bytes()


def rsvp(invite: EmailMessage, *, name: str, address: str, partstat: str) -> bytes:
    """An Outlook-style meeting response: 已接受:/拒绝: and a METHOD:REPLY calendar."""
    calendar = None
    for part in invite.walk():
        data = part.get_payload(decode=True)
        if part.get_content_type() == "text/calendar" and isinstance(data, bytes):
            calendar = icalendar.Calendar.from_ical(data)
    assert calendar is not None, "the invite has no calendar"
    sent = next(iter(calendar.walk("VEVENT")))
    reply = icalendar.Calendar()
    reply.add("prodid", "Microsoft Exchange Server 2010")
    reply.add("version", "2.0")
    reply.add("method", "REPLY")
    event = icalendar.Event()
    for key in ("UID", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY"):
        if key in sent:
            event[key] = sent[key]
    event.add("dtstamp", dt.datetime.now(dt.UTC))
    attendee = icalendar.vCalAddress(f"mailto:{address}")
    attendee.params["CN"] = name
    attendee.params["PARTSTAT"] = partstat
    event.add("attendee", attendee)
    reply.add_component(event)
    word = {"ACCEPTED": "已接受", "DECLINED": "拒绝", "TENTATIVE": "暂定"}[partstat]
    msg = EmailMessage(policy=_POLICY)
    msg["From"] = person(name, address)
    msg["To"] = str(invite["From"])
    msg["Subject"] = f"{word}: {sent['SUMMARY']!s}"
    msg["Message-ID"] = f"<rsvp-{uuid.uuid4().hex[:12]}@example.com>"
    msg.set_content(f"{name} {word}了此会议。")
    msg.add_alternative(bytes(reply.to_ical()), maintype="text", subtype="calendar",
                        params={"method": "REPLY"})
    return msg.as_bytes()


# -- the scenario ----------------------------------------------------------------------------

LIU = person("刘洋", "liu.yang@example.com")      # 市场部 liaison, the requester
SUN = person("孙丽", "sun.li@example.com")        # 研发部 liaison
ZHOU = person("周杰", "zhou.jie@example.com")     # 研发部, does the work
ZHAO = person("赵强", "zhao.qiang@example.com")   # 研发部 head
HE = person("何芳", "he.fang@example.com")        # 运营部 liaison
ZHENG = person("郑浩", "zheng.hao@example.com")   # 财务部 liaison
CHEN = person("陈晨", "chen.chen@example.com")    # 市场部
LI = person("李静", "li.jing@example.com")        # the secretary (执行秘书)

REQUEST_A = """各位好，请协助以下需求：

发起部门：市场部
发起人：刘洋
接收部门：研发部
接收人：孙丽
需求类型：■项目推进 □资源支持 □问题解决 □信息同步 □其他
需求背景与目标：季度复盘需要统一的销售数据口径，减少各区域手工汇总。
具体需求内容：开发销售数据看板，按区域、产品线展示周度指标。
期望完成时间：2027年1月8日
紧急程度：□紧急 ■一般 □不急
交付标准：看板上线，数据与财务月报误差小于1%，通过市场部验收。

刘洋
"""

REQUEST_B_INCOMPLETE = """发起部门：运营部
接收部门：财务部
需求类型：信息同步
具体需求内容：请财务部同步新的报销标准。
期望完成时间：2027-01-15
"""

REQUEST_B = """发起部门：运营部
接收部门：财务部
需求类型：信息同步
需求背景与目标：新年起差旅报销标准调整，门店同事需要提前了解。
具体需求内容：请财务部同步新的报销标准，并安排一次答疑。
期望完成时间：2027-01-15
紧急程度：不急
交付标准：报销标准文件发布到门店群，答疑会完成。
"""

PROBLEM = """问题标题：官网活动页无法下单
反馈部门：市场部
涉及部门：研发部
问题描述：12月28日下午起，官网新年活动页点击“立即购买”报错，无法下单。
影响范围：全部线上用户，新年活动无法进行。
严重程度：■重大 □重要 □一般
"""


@dataclass
class Step:
    when: str
    who: str
    what: str
    mail: Callable[[Any], list[bytes]]


def _steps() -> list[Step]:
    def sent(run: Run, subject: str, to: str | None = None) -> EmailMessage:
        return run.find(subject, to)

    return [
        Step("2026-12-28 09:10", "刘洋（市场部）", "发来《跨部门沟通需求表》：销售数据看板",
             lambda r: [new_mail(LIU, "跨部门沟通需求表：销售数据看板", REQUEST_A)]),
        Step("2026-12-28 09:20", "何芳（运营部）", "发来需求表，但缺背景与交付标准",
             lambda r: [new_mail(HE, "需求表：报销标准同步", REQUEST_B_INCOMPLETE)]),
        Step("2026-12-28 09:40", "何芳（运营部）", "补全后直接回复那封提示邮件",
             lambda r: [reply_to(sent(r, "信息不完整"), sender=HE, text=REQUEST_B)]),
        Step("2026-12-28 10:00", "孙丽（研发部）", "在 Outlook 里接受评审会邀请",
             lambda r: [rsvp(sent(r, "会议邀请"), name="孙丽", address="sun.li@example.com",
                             partstat="ACCEPTED")]),
        Step("2026-12-28 10:05", "刘洋", "回复邀请：增加参会人：周杰",
             lambda r: [reply_to(sent(r, "会议邀请", "sun.li"), sender=LIU,
                                 text="增加参会人：周杰")]),
        Step("2026-12-28 10:30", "周杰（研发部）", "接受邀请",
             lambda r: [rsvp(sent(r, "会议邀请", "zhou.jie"), name="周杰",
                             address="zhou.jie@example.com", partstat="ACCEPTED")]),
        Step("2026-12-28 11:00", "孙丽", "回复需求通知：已安排",
             lambda r: [reply_to(sent(r, "新的跨部门需求", "sun.li"), sender=SUN,
                                 text="收到，由周杰负责开发，计划1月6日交付。")]),
        Step("2026-12-28 14:00", "陈晨（市场部）", "发来《问题反馈单》：官网活动页无法下单（重大）",
             lambda r: [new_mail(CHEN, "问题反馈单：官网活动页无法下单", PROBLEM)]),
        Step("2026-12-28 16:00", "赵强（研发部负责人）", "回复问题上报：已修复",
             lambda r: [reply_to(sent(r, "重大问题上报"), sender=ZHAO,
                                 text="已修复：库存服务超时导致，已扩容并加监控。")]),
        Step("2026-12-29 09:10", "陈晨", "回复：确认已恢复",
             lambda r: [reply_to(sent(r, "问题反馈已登记"), sender=CHEN, text="确认，已恢复")]),
        Step("2026-12-29 11:30", "刘洋", "回复会议纪要（含两项待办）",
             lambda r: [reply_to(sent(r, "提交会议纪要：需求评审会"), sender=LIU, text=(
                 "需求评审会纪要：\n1. 看板第一期覆盖全部区域。\n"
                 "待办：完成数据接口 负责人：周杰 截止：2027-01-05\n"
                 "待办：确认指标口径 负责人：刘洋 截止：2027-01-06"))]),
        Step("2026-12-29 14:00", "孙丽", "确认纪要",
             lambda r: [reply_to(sent(r, "请确认会议纪要", "sun.li"), sender=SUN, text="确认")]),
        Step("2027-01-04 10:00", "周杰", "终于确认纪要（回复提醒邮件）",
             lambda r: [reply_to(r.latest("前确认会议纪要"), sender=ZHOU,
                                 text="确认，节前休假，抱歉回复晚了")]),
        Step("2027-01-04 11:00", "周杰", "回复待办：阻塞",
             lambda r: [reply_to(sent(r, "新的待办事项：完成数据接口"), sender=ZHOU,
                                 text="阻塞，原因：测试环境不可用，等待运维扩容。")]),
        Step("2027-01-04 15:30", "李静（执行秘书）", "回复风险排查会纪要",
             lambda r: [reply_to(sent(r, "提交会议纪要", "li.jing"), sender=LI, text=(
                 "风险排查会纪要：测试环境由研发部当日扩容。\n"
                 "待办：完成测试环境扩容 负责人：赵强 截止：2027-01-05"))]),
        Step("2027-01-04 16:00", "周杰、刘洋", "确认风险排查会纪要",
             lambda r: [reply_to(m, sender=str(m["To"]), text="确认")
                        for m in r.all("请确认会议纪要：风险排查会")]),
        Step("2027-01-05 10:00", "周杰", "回复待办：已完成",
             lambda r: [reply_to(sent(r, "新的待办事项：完成数据接口"), sender=ZHOU,
                                 text="已完成，接口已上线。")]),
        Step("2027-01-05 11:00", "赵强", "回复待办：测试环境已扩容",
             lambda r: [reply_to(sent(r, "新的待办事项：完成测试环境扩容"), sender=ZHAO,
                                 text="已完成，测试环境已扩容。")]),
        Step("2027-01-05 14:00", "刘洋", "回复待办：指标口径已确认",
             lambda r: [reply_to(sent(r, "新的待办事项：确认指标口径"), sender=LIU,
                                 text="已完成，口径与财务部对齐。")]),
        Step("2027-01-06 10:00", "孙丽", "提交交付物",
             lambda r: [reply_to(sent(r, "新的跨部门需求", "sun.li"), sender=SUN,
                                 text="已交付，看板地址 https://bi.example.com/sales 请验收。")]),
        Step("2027-01-06 11:00", "刘洋", "驳回：缺少华东区数据",
             lambda r: [reply_to(sent(r, "请验收交付物（第1次）"), sender=LIU,
                                 text="驳回：缺少华东区数据，请于1月8日前补充后重新交付。")]),
        Step("2027-01-07 10:00", "郑浩（财务部）", "回复需求：进度 30%，滞后",
             lambda r: [reply_to(sent(r, "新的跨部门需求", "zheng.hao"), sender=ZHENG,
                                 text="进度 30%，状态：滞后，原因：月末结账人手紧张。")]),
        Step("2027-01-07 11:00", "孙丽", "整改后再次交付",
             lambda r: [reply_to(sent(r, "验收未通过"), sender=SUN,
                                 text="已交付，已补充华东区：https://bi.example.com/sales?v=2")]),
        Step("2027-01-07 14:00", "刘洋", "验收：确认",
             lambda r: [reply_to(sent(r, "请验收交付物（第2次）"), sender=LIU,
                                 text="确认，辛苦了！")]),
        Step("2027-01-07 16:00", "李静", "回复专项风险排查会纪要",
             lambda r: [reply_to(sent(r, "提交会议纪要：风险排查会：报销标准同步"), sender=LI,
                                 text="风险排查会纪要：财务部调配一名同事支援，1月13日前完成。")]),
        Step("2027-01-07 17:00", "郑浩、何芳", "确认纪要",
             lambda r: [reply_to(m, sender=str(m["To"]), text="确认")
                        for m in r.all("请确认会议纪要：风险排查会：报销标准同步")]),
    ]


class Run:
    def __init__(self, root: Path, out: Callable[[str], None]) -> None:
        config_path = existing_deployment(root) or init_deployment(root, address=SHARED)
        self.config = load_config(config_path)
        self.clock = FixedClock(dt.datetime(2026, 12, 28, 8, 0, tzinfo=TZ), TZ)
        self.daemon = Daemon(self.config, self.clock, listen=False)
        self.out = out
        self.sent_dir = self.config.state_dir / "mail" / "sent"
        self._seen: set[str] = set()
        self._noted: set[str] = set()
        self._parsed: dict[str, EmailMessage] = {}
        self.sent_count = 0

    # -- reading what was sent -----------------------------------------------------------

    def _all(self) -> list[EmailMessage]:
        """Every sent message, in sending order (each file is parsed once)."""
        files = sorted((p for d in ("new", "cur") if (self.sent_dir / d).is_dir()
                        for p in (self.sent_dir / d).iterdir()), key=lambda p: p.name)
        for path in files:
            if path.name not in self._parsed:
                msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                assert isinstance(msg, EmailMessage)
                self._parsed[path.name] = msg
        return [self._parsed[p.name] for p in files]

    def all(self, subject: str) -> list[EmailMessage]:
        return [m for m in self._all() if subject in str(m["Subject"])]

    def find(self, subject: str, to: str | None = None) -> EmailMessage:
        found = [m for m in self.all(subject) if to is None or to in str(m["To"])]
        if not found:
            raise LookupError(f"no sent message with {subject!r}")
        return found[0]

    def latest(self, subject: str) -> EmailMessage:
        return self.all(subject)[-1]

    # -- running -----------------------------------------------------------------------------

    def _stamp(self, moment: dt.datetime) -> str:
        return f"{moment:%Y-%m-%d} 周{_WEEKDAYS[moment.weekday()]} {moment:%H:%M}"

    def _pass(self, raws: Sequence[bytes] = ()) -> list[EmailMessage]:
        """Deliver `raws`, run one fetch-process-tick-send pass; what it sent."""
        for raw in raws:
            self.daemon.journal.put(raw)
        self.daemon.run_once()
        new = [m for m in self._all() if str(m["Message-ID"]) not in self._seen]
        self._seen.update(str(m["Message-ID"]) for m in new)
        self.sent_count += len(new)
        return new

    def _show(self, sent: Sequence[EmailMessage]) -> None:
        for m in sent:
            to = "、".join(a.display_name or a.addr_spec for a in m["To"].addresses)
            cc = ("；抄送 " + "、".join(a.display_name or a.addr_spec
                                        for a in m["Cc"].addresses)) if m["Cc"] else ""
            self.out(f"{'':22}⇒ {m['Subject']}  → {to}{cc}")

    def _until(self, moment: dt.datetime) -> None:
        """Tick every 15 minutes of working time up to `moment` (the daemon ticks every
        minute); what the rules send on their own is shown as （规则）."""
        calendar = self.daemon.rules.calendar
        step = dt.timedelta(minutes=15)
        t = self.clock.now()
        t = t.replace(minute=t.minute - t.minute % 15, second=0, microsecond=0) + step
        while t < moment:
            if calendar.is_working_time(t):
                self.clock.set(t)
                sent = self._pass()
                if sent:
                    self.out(f"{self._stamp(t)}  （规则）时限已到：自动提醒、升级或安排会议")
                    self._show(sent)
                self._weekly_notes()
            t += step
        self.clock.set(moment)

    def _weekly_notes(self) -> None:
        """Say when the weekly risk meeting was decided against (holiday, nothing at risk)."""
        for key, entry in self.daemon.store.items("meta"):
            if not key.startswith("risk_weekly:") or key in self._noted:
                continue
            self._noted.add(key)
            value = entry.get("value") or {}
            if "skipped" in value:
                day = dt.date.fromisoformat(key.split(":", 1)[1])
                why = {"not a workday": "那天放假", "no open risk items": "没有风险事项"}.get(
                    value["skipped"], value["skipped"])
                self.out(f"{self._stamp(self.clock.now())}  （规则）{day.month}月{day.day}日"
                         f"的每周风险排查会不召开：{why}")

    def play(self, steps: Sequence[Step] | None = None, *, until: dt.datetime | None = None,
             what: str = "") -> None:
        self.daemon.start()
        try:
            steps = list(steps) if steps is not None else _steps()
            self.out(f"collabd demo: {len(steps)} things people do over two working weeks "
                     f"(a weekend and the New Year holiday included){what}\n")
            for step in steps:
                moment = dt.datetime.fromisoformat(step.when).replace(tzinfo=TZ)
                self._until(moment)
                raws = step.mail(self)
                self.out(f"{self._stamp(moment)}  {step.who}：{step.what}")
                self._show(self._pass(raws))
            self._until(until or dt.datetime(2027, 1, 8, 18, 0, tzinfo=TZ))
        finally:
            self.daemon.close()


def run_demo(out_dir: Path | None, out: Callable[[str], None] = print, *,
             project: bool = False) -> Path:
    root = out_dir if out_dir is not None else Path(tempfile.mkdtemp(prefix="collabd-demo-"))
    run = Run(root, out)
    if project:
        from collabd.demo_project import play_project

        play_project(run)
        shown = "PJ-2026-0001"
    else:
        run.play()
        shown = "XQ-2026-0001"
    out("")
    out(f"{run.sent_count} messages sent; each is a file, exactly as sent, in")
    out(f"  {run.sent_dir / 'new'}")
    out(f"The deployment (config, rules, state) is in {root}"
        + ("" if out_dir is not None else " (temporary; --out DIR keeps it where you say)"))
    out(f"Look around:  collabd status --config {root / 'collabd.yaml'}")
    out(f"              collabd show {shown} --config {root / 'collabd.yaml'}")
    return root
