"""One raw message → one typed event: request, problem, reply, calendar reply, automatic
mail (auto-reply or bounce, never answered), or unknown."""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from collabd.ids import ours
from collabd.inbound import autoreply, imip
from collabd.inbound.budget import BudgetExceeded, budget
from collabd.inbound.decode import html_to_text
from collabd.inbound.forms import (
    FORM_EXTENSIONS,
    LEGACY_EXTENSIONS,
    FoundFields,
    LabelSet,
    UnreadableAttachment,
    attachment_lines,
    find_fields,
    text_lines,
)
from collabd.inbound.imip import CalendarReply
from collabd.inbound.intent import Intent
from collabd.inbound.intent import classify as classify_intent
from collabd.inbound.interpret import Reading, read_problem, read_request
from collabd.inbound.message import InboundMessage
from collabd.inbound.plan import PlanReader
from collabd.inbound.quotes import MAX_TEXT_CHARS, Original, forwarded_texts, new_text
from collabd.mailbox.base import MEETING_ITEM_HEADER, OVERSIZE_HEADER
from collabd.policy.rules import Rules
from collabd.textnorm import fold

# [XQ-2026-0001], [WT-2026-0003], [HY-2026-0002]: the tag every message about a record
# carries in its subject; replies keep it behind any number of Re:/回复:/答复: prefixes.
SUBJECT_TAG = re.compile(r"[\[【]\s*((?:[A-Z]{2,6}-)?(?:XQ|WT|HY|RW|PJ)-\d{4}-\d{4,5})"
                         r"\s*[\]】]",
                         re.IGNORECASE)

log = logging.getLogger(__name__)

MessageLookup = Callable[[str], "dict[str, Any] | None"]


@dataclass
class Event:
    # request | problem | project | plan_update | reply | calendar_reply | auto_reply |
    # bounce | unknown
    kind: str
    message: InboundMessage
    reading: Reading | None = None
    thread: str | None = None  # the record this message is about
    replied_to: dict[str, Any] | None = None  # index entry of our message it answers
    replied_to_id: str | None = None
    auto_reason: str | None = None
    intent: Intent | None = None
    new_text: str | None = None
    calendar: CalendarReply | None = None
    unreadable: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # kind-specific keys for JSON

    def to_json(self) -> dict[str, Any]:
        """The stable object `collabd parse --json` prints."""
        reading = self.reading
        out: dict[str, Any] = {
            "kind": self.kind,
            "message_id": self.message.message_id,
            "from": self.message.sender,
            "subject": self.message.subject,
            "fields": dict(reading.fields) if reading else {},
            "missing": list(reading.missing) if reading else [],
            "errors": list(reading.errors) if reading else [],
            "thread": self.thread,
            "charset_repaired": self.message.charset_repaired,
        }
        if reading is not None:
            out["form"] = reading.kind
            out["source"] = reading.source
            if reading.notes:
                out["notes"] = list(reading.notes)
            if reading.plan is not None:
                out["tasks"] = [t.to_json() for t in reading.plan.tasks]
                out["meetings"] = [m.to_json() for m in reading.plan.meetings]
        if self.auto_reason:
            out["auto_reason"] = self.auto_reason
        if self.message.sender_issues:
            out["sender_issues"] = list(self.message.sender_issues)
        if self.unreadable:
            out["unreadable_attachments"] = list(self.unreadable)
        if self.intent is not None:
            out["intent"] = self.intent.kind
            out["new_text"] = self.new_text
            out["read_as"] = self.intent.why
            out["reason"] = self.intent.reason if self.intent.kind in (
                "reject", "progress", "delivered") else None
            if self.intent.kind == "progress":
                out["progress"] = {"percent": self.intent.percent,
                                   "status": self.intent.status}
            if self.intent.links:
                out["links"] = list(self.intent.links)
        out.update(self.extra)
        return out


_UID_RECORD = re.compile(r"^((?:[A-Z]{2,6}-)?HY-\d{4}-\d{4,5})[-.@]", re.IGNORECASE)


def meeting_of_uid(uid: str) -> str | None:
    """Our UIDs start with the meeting's record id: HY-2026-0001-<random>@<domain>."""
    found = _UID_RECORD.match(uid)
    return ours(found.group(1).upper()) if found else None


def subject_tag(subject: str) -> str | None:
    found = SUBJECT_TAG.search(subject)
    return ours(found.group(1).upper()) if found else None


@dataclass
class _Candidate:
    kind: str
    found: FoundFields
    source: str

    @property
    def score(self) -> int:
        return sum(1 for v in self.found.values.values() if v) + self.found.labels_seen


class Classifier:
    def __init__(self, rules: Rules, own_address: str) -> None:
        self.rules = rules
        self.own_address = own_address.lower()
        self.labels = {
            "request": LabelSet(rules.forms.request),
            "problem": LabelSet(rules.forms.problem),
        }
        self.plans = PlanReader(rules)

    def classify(self, message: InboundMessage, now: dt.datetime,
                 lookup: MessageLookup = lambda _: None) -> Event:
        self._unreadable: list[str] = []
        mine = autoreply.own(message, self.own_address)
        if mine is not None:
            return Event(mine.kind, message, auto_reason=mine.reason)
        # Before the automatic-mail rules: clients mark meeting responses in ways that
        # look automatic (Outlook's suppression header, Google's sender), and they must
        # be read.
        calendar_broken = None
        try:
            calendar = imip.find(message.body.calendars)
        except imip.UnreadableCalendar as exc:
            calendar, calendar_broken = None, str(exc)
        if calendar is not None:
            return Event("calendar_reply", message, thread=meeting_of_uid(calendar.uid),
                         calendar=calendar, extra=calendar.to_json())
        item = message.header(MEETING_ITEM_HEADER)
        if item:
            # A meeting message as Exchange keeps it (an attendee's answer without an
            # iCalendar part): the answer is read from the calendar item instead.
            return Event("auto_reply", message,
                         auto_reason=f"Exchange meeting message ({item})")
        automatic = autoreply.detect(message, self.own_address)
        if automatic is not None:
            event = Event(automatic.kind, message, auto_reason=automatic.reason)
            if automatic.kind == "bounce":
                self._bounced(event, lookup)
            return event
        oversize = message.header(OVERSIZE_HEADER).split()
        if len(oversize) == 2 and all(part.isdigit() for part in oversize):
            # The backend did not download it (only its headers are here).
            return Event("oversize", message, extra={"size": int(oversize[0]),
                                                     "limit": int(oversize[1])})

        replied_to, replied_id = self._thread_entry(message, lookup)
        tag = subject_tag(message.subject)
        thread = (replied_to or {}).get("record") or tag

        resubmission = _is_resubmission(replied_to)
        if thread is not None and thread.upper().startswith("PJ-") and not resubmission:
            # An updated plan on a project's thread: applied as a diff. Only what they
            # wrote and attached is read: the quote of our acknowledgement holds the
            # plan's own table.
            known = self.rules.directory.by_address(message.sender)
            names = tuple(n for n in (message.sender_name, known.name if known else "") if n)
            original = Original.load((replied_to or {}).get("quote"))
            plan = self._find_plan(message, now,
                                   text=new_text(message.body, names, original), html=False)
            if plan is not None:
                return Event("plan_update", message, reading=plan, thread=thread,
                             replied_to=replied_to, replied_to_id=replied_id)
        if thread is None or resubmission:
            # A project plan holds labels of the request form too (负责人, 目标): it is
            # looked for first, by its task table.
            plan = self._find_plan(message, now)
            if plan is not None:
                return Event("project", message, reading=plan)
        if resubmission:
            # An answer to "the form was incomplete": what it adds (only the missing
            # fields, as that message invites, or a whole form) is merged with what the
            # first one said, later values winning.
            form = self._correction(message, replied_to or {})
        else:
            form = self._find_form(message)
        if form is not None and (thread is None or resubmission):
            reader = read_request if form.kind == "request" else read_problem
            reading = reader(form.found, message, self.rules, now)
            reading.source = form.source
            return Event(form.kind, message, reading=reading)
        if thread is not None:
            known = self.rules.directory.by_address(message.sender)
            names = tuple(n for n in (message.sender_name, known.name if known else "") if n)
            original = Original.load((replied_to or {}).get("quote"))
            text = new_text(message.body, names, original)
            has_attachment = bool(message.body.documents)
            intent = classify_intent(text, self.rules.signoff.keywords,
                                     has_attachment=has_attachment)
            return Event("reply", message, thread=thread, replied_to=replied_to,
                         replied_to_id=replied_id, intent=intent, new_text=text)
        # "What is open for me?" (a form that happens to start with 查询 is a form: it
        # was looked for first).
        query = read_query(message) if thread is None else None
        if query is not None:
            return Event("query", message, extra={"query": query})
        unreadable = [a.filename for a in message.body.attachments
                      if a.filename.lower().endswith(LEGACY_EXTENSIONS)]
        unreadable += [name for name in self._unreadable if name not in unreadable]
        if calendar_broken is not None:
            # A calendar answer nobody can read, and nothing else in it: recorded, never
            # answered (its sender is most likely a calendar, not a person).
            return Event("auto_reply", message,
                         auto_reason=f"a calendar part that cannot be read ({calendar_broken})")
        return Event("unknown", message, unreadable=unreadable, replied_to=replied_to,
                     replied_to_id=replied_id)

    # -- threads -----------------------------------------------------------------------

    def _thread_entry(self, message: InboundMessage,
                      lookup: MessageLookup) -> tuple[dict[str, Any] | None, str | None]:
        for message_id in message.thread_ids():
            entry = lookup(message_id)
            if entry is not None and entry.get("dir") == "out":
                return entry, message_id
        return None, None

    def _bounced(self, event: Event, lookup: MessageLookup) -> None:
        from collabd.inbound.message import message_ids

        headers = event.message.body.reported_headers or ""
        found = re.search(r"^message-id:\s*(<[^>]+>)", headers, re.IGNORECASE | re.MULTILINE)
        candidates = [found.group(1)] if found else []
        candidates += message_ids(event.message.body.text)
        for message_id in candidates:
            entry = lookup(message_id)
            if entry is not None and entry.get("dir") == "out":
                event.thread = entry.get("record")
                event.replied_to, event.replied_to_id = entry, message_id
                return

    # -- forms -------------------------------------------------------------------------

    def _sources(self, message: InboundMessage) -> list[tuple[str, list[str]]]:
        body = message.body
        sources: list[tuple[str, list[str]]] = []
        if body.text:
            sources.append(("body", text_lines(body.text[:MAX_TEXT_CHARS])))
        html_text = html_to_text(body.html) if body.html is not None else None
        if html_text is not None:
            sources.append(("html", text_lines(html_text)))
        # A form forwarded inline (Outlook's 原始邮件 block, QQ/Foxmail's separator):
        # the forwarder is the sender, the form says who the requester is.
        for text in (body.text, html_text):
            for forwarded in forwarded_texts(text or "")[:2]:
                sources.append(("forwarded", text_lines(forwarded)))
        return sources + self._attachment_sources(message)

    def _attachment_sources(self, message: InboundMessage) -> list[tuple[str, list[str]]]:
        sources: list[tuple[str, list[str]]] = []
        for attachment in message.body.attachments:
            try:
                lines = attachment_lines(attachment.filename, attachment.data)
            except UnreadableAttachment as exc:
                # Told to the sender if nothing else in the mail can be read.
                log.info("attachment %s not read: %s", attachment.filename, exc)
                self._unreadable.append(attachment.filename)
                continue
            if lines is not None:
                sources.append((f"attachment:{attachment.filename}", lines))
        return sources

    def _find_plan(self, message: InboundMessage, now: dt.datetime, *,
                   text: str | None = None, html: bool = True) -> Reading | None:
        """A project plan: the first source (body, HTML body, attachment) with 表2's
        headings — under a 项目名称 or a subject that says it is a plan — read again with
        its empty cells kept so that each value stays in its column; 表1's lines may
        also be in the body when the tables are attached. `text`: read this instead of
        the body (a reply's own words); `html`: read the HTML body too."""
        body = message.body
        candidates: list[tuple[str, Callable[[], list[str] | None]]] = []
        text = body.text[:MAX_TEXT_CHARS] if text is None and body.text else text
        if text:
            candidates.append(("body", lambda: text_lines(text or "")))
        if body.html is not None and html:
            markup = body.html
            candidates.append(("html", lambda: text_lines(html_to_text(markup,
                                                                       keep_empty=True))))
        for attachment in body.attachments:
            if attachment.filename.lower().endswith(FORM_EXTENSIONS):
                candidates.append((f"attachment:{attachment.filename}",
                                   lambda a=attachment: attachment_lines(  # type: ignore[misc]
                                       a.filename, a.data, keep_empty=True)))
        today = now.astimezone(self.rules.calendar.tz).date()
        for source, read in candidates:
            try:
                lines = read()
            except UnreadableAttachment:
                continue  # (told to the sender when nothing else can be read)
            if not lines or not self.plans.looks_like_plan(lines, message.subject):
                continue
            attached = source.startswith("attachment:")
            if attached:
                lines = self.plans.rows(lines)
            reading = self.plans.read(lines, today, message.sender)
            if attached and text and reading.missing:
                # 表1 may be written in the mail with the tables attached.
                extra = text_lines(text)
                reading = self.plans.read([*lines, "", *extra], today, message.sender)
            reading.source = source
            return reading
        return None

    def _correction(self, message: InboundMessage,
                    asked: dict[str, Any]) -> _Candidate | None:
        # Only what they wrote (and attached) is read: the quote of our notice holds the
        # blank form and what the first mail said, which must not be read as answers.
        original = Original.load(asked.get("quote"))
        text = new_text(message.body, (message.sender_name,), original)
        sources = [("body", text_lines(text)), *self._attachment_sources(message)]
        meta = asked.get("meta") or {}
        kind, before = meta.get("form"), meta.get("fields") or {}
        if kind not in self.labels:
            return self._find_form(message, sources)
        best: _Candidate | None = None
        for source, lines in sources:
            found = find_fields(lines, self.labels[kind])
            if not any(found.values.values()):
                continue
            merged = FoundFields({**before, **{k: v for k, v in found.values.items() if v}},
                                 found.labels_seen)
            candidate = _Candidate(kind, merged, source)
            if best is None or candidate.score > best.score:
                best = candidate
        return best or self._find_form(message, sources)

    def _find_form(self, message: InboundMessage,
                   sources: list[tuple[str, list[str]]] | None = None) -> _Candidate | None:
        subject = fold(message.subject)
        titled = {
            kind: any(fold(word) in subject for word in spec.title_words)
            for kind, spec in (("request", self.rules.forms.request),
                               ("problem", self.rules.forms.problem))
        }
        best: _Candidate | None = None
        for source, lines in sources if sources is not None else self._sources(message):
            head = fold("\n".join(lines[:5]))
            for kind, labels in self.labels.items():
                found = find_fields(lines, labels)
                distinct = sum(1 for v in found.values.values() if v)
                spec = self.rules.forms.request if kind == "request" else self.rules.forms.problem
                named = titled[kind] or any(fold(w) in head for w in spec.title_words)
                # A form: three answered fields, or two under the form's own title.
                if distinct < 3 and not (named and distinct >= 2):
                    continue
                candidate = _Candidate(kind, found, source)
                bonus = 100 if named else 0
                if best is None or candidate.score + bonus > best.score + (
                        100 if titled[best.kind] else 0):
                    best = candidate
        return best


# "What is open for me?": 我的待办 / 待办 / 查询 [XQ-2026-0012 | 部门 | 研发部] in the
# subject or the first line of a new mail.
_QUERY = re.compile(r"^\s*(?:(?P<mine>我的待[办辦]|待[办辦]事[项項]|待[办辦]|我的任[务務])"
                    r"\s*[?？]?"
                    r"|(?P<unsubscribe>退订|退訂|取消订阅|取消訂閱)"
                    r"|(?P<subscribe>订阅|訂閱|重新订阅|重新訂閱)"
                    r"|(?P<board>看板|进度看板|進度看板)"
                    r"|(?P<ask>查询|查詢)(?:\s*[:：]?\s*(?P<what>\S+))?)\s*[?？。]?\s*$")


def read_query(message: InboundMessage) -> dict[str, str] | None:
    """A query by mail: {"what": "mine" | "record" | "dept", "record": id, "dept": name},
    or a command about what the daemon sends a person: {"what": "unsubscribe" |
    "subscribe"} (the daily digest), {"what": "board"} (a link to the board)."""
    first = next((line for line in (message.body.text or "").splitlines() if line.strip()),
                 "")
    for text in (clean_query_subject(message.subject), first):
        found = _QUERY.match(unicodedata.normalize("NFKC", text or ""))
        if found is None:
            continue
        for command in ("unsubscribe", "subscribe", "board"):
            if found.group(command):
                return {"what": command}
        if found.group("mine") or not found.group("what"):
            return {"what": "mine"}
        what = found.group("what")
        record = SUBJECT_TAG.search(f"[{what.upper()}]")
        if record is not None:
            return {"what": "record", "record": ours(record.group(1).upper())}
        if what in ("部门", "本部门", "我的部门"):
            return {"what": "dept", "dept": ""}
        if re.fullmatch(r"[\u4e00-\u9fff]{1,10}(?:部|中心|办公室)", what):
            return {"what": "dept", "dept": what}
        return {"what": "mine"}  # (查询一下我的需求: what waits on them)
    return None


def clean_query_subject(subject: str) -> str:
    return re.sub(r"^(?:\s*(?:re|fw|fwd|回复|答复|转发)\s*[:：])+", "", subject or "",
                  flags=re.IGNORECASE).strip()


def _is_resubmission(replied_to: dict[str, Any] | None) -> bool:
    """A form sent as a reply to our "the form was incomplete" message is a new form."""
    return replied_to is not None and replied_to.get("record") is None


def read_event(classifier: Classifier, message: InboundMessage, now: dt.datetime,
               lookup: MessageLookup = lambda _: None) -> Event:
    """Classify within the reading budget: a message that cannot be read in time, or
    whose structure is beyond every bound, is an `unreadable` event (kept, and its
    sender told), never an exception."""
    try:
        with budget():
            event = classifier.classify(message, now, lookup)
    except BudgetExceeded as exc:
        return Event("unreadable", message, extra={"reason": "读取超时", "detail": str(exc)})
    if message.too_deep and event.kind == "unknown":
        return Event("unreadable", message, extra={"reason": "邮件结构嵌套过深"})
    return event
