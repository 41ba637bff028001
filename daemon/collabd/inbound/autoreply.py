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
_DAEMON_SENDER = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|noreply-dsn)@",
                            re.IGNORECASE)


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
    # X-Auto-Response-Suppress alone is not enough: Outlook also sets it on people's
    # meeting responses, which must be read.
    return None
