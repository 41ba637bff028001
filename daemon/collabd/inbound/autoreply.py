"""Mail that must never be answered: auto-replies, out-of-office, bounces, lists, our own.

RFC 3834 marks automatic mail with Auto-Submitted; real clients mostly do not (QQ Mail
sets X-QQ-AUTO-REPLY, Exchange sets X-Auto-Response-Suppress, many only change the
subject), so the headers, the envelope sender and the subject are all read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collabd.inbound.message import InboundMessage
from collabd.outbound.compose import LOOP_HEADER

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:自动回复|自動回覆|自动答复|自動答覆|自动应答|自動回复|休假回复|外出|不在办公室|"
    r"automatic reply|auto(?:matic)?[- ]?reply|autoreply|auto[- ]?response|autorespons|"
    r"out of (?:the )?office|ooo\b|vacation)\s*[:：]?",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(?:undeliverable|undelivered mail|delivery status notification|delivery failure|"
    r"failure notice|returned mail|mail delivery failed|delivery has failed|"
    r"退信|系统退信|投递失败|无法投递|未送达|邮件被退回|postmaster.{0,40}的退信)",
    re.IGNORECASE,
)
_RECALL_SUBJECT = re.compile(r"^\s*(?:撤回|召回|recall)\s*[:：]", re.IGNORECASE)
_DAEMON_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|post_master|mail-daemon|"
                            r"noreply-dsn)@", re.IGNORECASE)
# Parts only machines write: delivery reports, abuse/feedback-loop reports (ARF, DMARC
# failure reports), read receipts, the returned headers of a bounced message.
_REPORT_PARTS = frozenset({
    "message/delivery-status", "message/global-delivery-status", "message/feedback-report",
    "message/disposition-notification", "text/rfc822-headers", "message/rfc822-headers",
    "message/global-headers", "message/tlsrpt+json", "application/tlsrpt+json",
    "application/tlsrpt+gzip"})
# Notices from robots that carry none of the headers above: mailing-list managers,
# carriers, cloud providers, abuse desks, DMARC and TLS reports.
_NOTICE_SUBJECT = re.compile(
    r"^\s*(?:report domain:|dmarc (?:aggregate |forensic |failure )?report|"
    r"\[dmarc-ietf\]|tls report|email feedback report|abuse report|"
    r"complaint about message|aws notification message|loop alert|"
    r"you .{0,80} are not member|メールエラー通知|delivery status\b|"
    r"mail system error|message could not be delivered|notification of delivery)",
    re.IGNORECASE)
# Who answers nothing a person writes: robots, abuse desks, list managers.
_ROBOT_SENDER = re.compile(
    r"^(?:mailer-daemon|postmaster|post_master|mail-daemon|no[-_.]?reply|do[-_.]?not[-_.]?"
    r"reply|bounces?|abuse|feedback(?:loop)?|fbl|dmarc[\w.+-]*|opendmarc[\w.+-]*|"
    r"[\w.+-]*-(?:admin|owner|request|bounces?)|owner-[\w.+-]+|listserv|majordomo|"
    r"mailman|notifications?|alerts?|automailer|daemon)(?:\+[^@]*)?@", re.IGNORECASE)
_REPORT_ATTACHMENT = re.compile(r"\.(?:xml|zip|gz|gzip)$", re.IGNORECASE)


@dataclass(frozen=True)
class Automatic:
    kind: str  # "auto_reply" | "bounce"
    reason: str


def own(message: InboundMessage, own_address: str) -> Automatic | None:
    address = own_address.lower()
    if message.header(LOOP_HEADER).strip().lower() == address or message.sender == address:
        return Automatic("auto_reply", "our own message (loop header or our address)")
    return None


def detect(message: InboundMessage, own_address: str) -> Automatic | None:
    header = message.header
    mine = own(message, own_address)
    if mine is not None:
        return mine
    body = message.body
    if body.report == "delivery-status" or message.msg.get_content_type() == (
            "message/delivery-status"):
        return Automatic("bounce", "delivery status notification (multipart/report)")
    if body.report == "disposition-notification":
        return Automatic("auto_reply", "read receipt (disposition notification)")
    if body.report:
        return Automatic("auto_reply", f"machine report (multipart/report; "
                                       f"report-type={body.report})")
    reports = body.part_types & _REPORT_PARTS
    if reports:
        kind = "bounce" if any("delivery-status" in t or "headers" in t for t in reports) else (
            "auto_reply")
        return Automatic(kind, f"a machine report part ({', '.join(sorted(reports))})")
    return_path = header("Return-Path").strip()
    subject = message.subject
    if _DAEMON_SENDER.match(message.sender):
        return Automatic("bounce", f"sent by {message.sender}")
    if return_path == "<>" and _BOUNCE_SUBJECT.search(subject):
        return Automatic("bounce", "null return path and a bounce subject")
    if _BOUNCE_SUBJECT.search(subject) and (return_path == "<>" or
                                            header("X-Failed-Recipients")):
        return Automatic("bounce", "bounce subject")
    auto_submitted = header("Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted != "no":
        return Automatic("auto_reply", f"Auto-Submitted: {auto_submitted}")
    if header("X-QQ-AUTO-REPLY").strip().lower() in ("true", "yes", "1"):
        return Automatic("auto_reply", "X-QQ-AUTO-REPLY (QQ Mail vacation reply)")
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if message.has_header(name):
            return Automatic("auto_reply", f"{name} header")
    if message.has_header("X-Auto-Response-Suppress") and _AUTO_SUBJECT.search(subject):
        return Automatic("auto_reply", "X-Auto-Response-Suppress with an automatic subject")
    precedence = header("Precedence").strip().lower()
    if precedence in ("bulk", "list", "junk", "auto_reply"):
        return Automatic("auto_reply", f"Precedence: {precedence}")
    if message.has_header("List-Id") or message.has_header("List-Unsubscribe"):
        return Automatic("auto_reply", "mailing-list traffic (List-Id)")
    if return_path == "<>":
        return Automatic("bounce", "null return path (a notification, not a person)")
    if _AUTO_SUBJECT.search(subject):
        return Automatic("auto_reply", f"automatic-reply subject: {subject[:40]}")
    if _BOUNCE_SUBJECT.search(subject):
        return Automatic("bounce", f"bounce subject: {subject[:40]}")
    if _RECALL_SUBJECT.search(subject):
        return Automatic("auto_reply", "Outlook recall notice (撤回)")
    if _NOTICE_SUBJECT.search(subject):
        return Automatic("auto_reply", f"a robot's notice: {subject[:40]}")
    if robot_sender(message.sender) and any(
            _REPORT_ATTACHMENT.search(a.filename) for a in body.attachments):
        return Automatic("auto_reply", f"a report from {message.sender}")
    # X-Auto-Response-Suppress alone is not enough: Outlook also sets it on people's
    # meeting responses, which must be read.
    return None


def robot_sender(address: str) -> bool:
    """An address no person reads (noreply@, postmaster@, list managers, abuse desks):
    what it sends may still be read, but it is never answered."""
    return bool(_ROBOT_SENDER.match(address or ""))
