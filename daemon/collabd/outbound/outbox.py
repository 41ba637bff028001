"""The outbox: messages committed with the changes that caused them, sent with backoff.

Exactly-once in the normal case: a message is queued in the same commit as the record
change that caused it, with its Message-ID fixed at that moment; it leaves the outbox in
a commit made right after the server accepted it. The one window for a duplicate is
between the server's acceptance and that commit (a crash or power loss there): on
restart the message is sent again, byte for byte the same and with the same
Message-ID, so mail clients show it once. Nothing is ever lost: a message leaves the
outbox only after the server took it, or after it failed permanently (recorded on the
record, shown by `collabd status`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collabd.clock import Clock, isoformat
from collabd.inbound.message import synthetic
from collabd.inbound.quotes import Original
from collabd.logs import about
from collabd.mailbox.base import Mailbox, SendError, SendReceipt
from collabd.outbound.compose import Draft, Person, compose, new_message_id
from collabd.outbound.native import invite_in
from collabd.store.state import Store, Txn

log = logging.getLogger(__name__)

OUTBOX = "outbox"
MARK_BATCH = 50
MESSAGES = "messages"
# How many earlier Message-IDs a message names in References: the record's first and
# its latest (RFC 5322 §3.6.4 lets a long thread be trimmed in the middle).
THREAD_REFERENCES = 10


@dataclass(frozen=True)
class SendPolicy:
    max_attempts: int = 12
    backoff_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0

    def delay(self, attempts: int) -> dt.timedelta:
        """Exponential backoff: 30 s, 60 s, 2 min, ... capped at an hour."""
        seconds = min(self.backoff_seconds * (2 ** max(attempts - 1, 0)),
                      self.backoff_max_seconds)
        return dt.timedelta(seconds=seconds)


@dataclass(frozen=True)
class Queued:
    message_id: str
    raw: bytes
    recipients: list[str]


class Outbox:
    def __init__(self, store: Store, clock: Clock, *, sender: Person, envelope_from: str,
                 policy: SendPolicy = SendPolicy(),
                 id_factory: Callable[[], str] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.sender = sender
        self.envelope_from = envelope_from
        # The server itself is down (not one message's trouble): sending pauses as a
        # whole, with its own backoff, and no message is charged an attempt for it.
        self._down_since: dt.datetime | None = None
        self._down_failures = 0
        self._resume_at: dt.datetime | None = None
        self.policy = policy
        domain = sender.address.rsplit("@", 1)[-1]
        self._new_id = id_factory or (lambda: new_message_id(domain))

    # -- queueing (inside the commit that causes the message) ------------------------

    def queue(self, txn: Txn, draft: Draft) -> Queued:
        """Compose `draft` and put it in `txn`; it is sent once `txn` is committed."""
        now = self.clock.now()
        message_id = self._new_id()
        draft = self._threaded(txn, draft)
        raw = compose(draft, sender=self.sender, message_id=message_id, now=now)
        recipients = draft.recipients()
        txn.put(OUTBOX, message_id, {
            "raw": raw.decode("ascii"),
            "envelope_from": self.envelope_from,
            "recipients": recipients,
            "record": draft.record,
            "purpose": draft.purpose,
            "queued": isoformat(now),
            "attempts": 0,
            "next_attempt": isoformat(now),
            "last_error": None,
            "failed": False,
        })
        # The index that threads replies: a reply's In-Reply-To names this message, and
        # with it the record and the one person it asked.
        txn.put(MESSAGES, message_id, {
            "dir": "out",
            "record": draft.record,
            "purpose": draft.purpose,
            "asks": draft.asks,
            "to": recipients,
            "at": isoformat(now),
            # What it says, as fingerprints: a reply quoting it is read without the quote.
            "quote": Original.of_message(draft.subject, draft.text, draft.html,
                                         echo=draft.meta.get("echo")),
            **({"meta": draft.meta} if draft.meta else {}),
        })
        return Queued(message_id, raw, recipients)

    def _threaded(self, txn: Txn, draft: Draft) -> Draft:
        """One conversation per record: a message about a record answers the record's
        latest message (unless it answers a particular one) and references its first
        and latest ones — the person's and ours, as the message index has them, in the
        order they came — so that every client shows them as one thread."""
        if draft.record is None:
            return draft
        thread = [k for k in self.store.group_keys(draft.record) if not synthetic(k)]
        known = set(thread)
        for op in txn.ops:  # messages of the same commit, before this one
            if (op[0] == "put" and op[1] == MESSAGES and op[2] not in known
                    and not synthetic(op[2])
                    and isinstance(op[3], dict) and op[3].get("record") == draft.record):
                thread.append(op[2])
                known.add(op[2])
        if not thread:
            return draft
        chosen = thread[:1] + thread[1:][-(THREAD_REFERENCES - 1):]
        references = list(dict.fromkeys([*chosen, *draft.references]))
        if len(references) > THREAD_REFERENCES + 2:  # the first, and the latest
            references = references[:1] + references[-(THREAD_REFERENCES + 1):]
        return dataclasses.replace(draft, references=tuple(references),
                                   in_reply_to=draft.in_reply_to or thread[-1])

    # -- sending ------------------------------------------------------------------

    def due(self) -> list[tuple[str, dict[str, Any]]]:
        now = self.clock.now()
        ready = [
            (mid, entry) for mid, entry in self.store.items(OUTBOX)
            if not entry["failed"] and dt.datetime.fromisoformat(entry["next_attempt"]) <= now
        ]
        ready.sort(key=lambda item: item[1]["queued"])
        return ready

    def seconds_until_due(self) -> float | None:
        """How long until the next send is due (0: now); None with nothing queued."""
        times = [dt.datetime.fromisoformat(e["next_attempt"])
                 for e in self.store.values(OUTBOX) if not e["failed"]]
        if not times:
            return None
        due = max(min(times), self._resume_at) if self._resume_at else min(times)
        return max(0.0, (due - self.clock.now()).total_seconds())

    def pending_count(self) -> int:
        return sum(1 for e in self.store.values(OUTBOX) if not e["failed"])

    def send_due(self, mailbox: Mailbox, *, limit: int | None = None,
                 should_stop: Callable[[], bool] = lambda: False,
                 progress: Callable[[], None] = lambda: None) -> int:
        """Send what is due; `progress` is called after each message (the watchdog)."""
        sent = 0
        if self._resume_at is not None and self.clock.now() < self._resume_at:
            return 0
        # Group commit: the "sent" marks of up to MARK_BATCH messages share one
        # fdatasync. A crash before it resends those (byte for byte, same Message-ID):
        # the documented duplicate window, a batch wide.
        marks = Txn()
        # (a store whose every commit is durable at once marks each as it goes: a
        # leader that loses its mailbox to a standby resends at most one)
        batch = MARK_BATCH if self.store.group_commit else 1
        try:
            for message_id, entry in self.due()[:limit]:
                if should_stop():
                    break
                done = self._send_one(mailbox, message_id, entry, marks)
                progress()
                if done:
                    sent += 1
                    if len(marks.ops) >= 2 * batch:
                        committed = self._commit_marks(mailbox, marks)
                        marks = Txn()  # recorded, or to go again: never recorded later
                        if not committed:
                            break
                elif self._resume_at is not None:
                    break  # the server is down: the rest waits for it too
        finally:
            if marks:
                self._commit_marks(mailbox, marks)
        return sent

    def _commit_marks(self, mailbox: Mailbox, marks: Txn) -> bool:
        """Record a batch as sent, once the backend made its part durable; if it could
        not, the batch stays queued and is sent again (never recorded unsent)."""
        try:
            mailbox.flush()
        except SendError as exc:
            log.error("the last %d message(s) sent are not recorded as sent and go again: "
                      "%s", sum(1 for op in marks.ops if op[0] == "del"), exc)
            return False
        self.store.commit(marks)
        return True

    @property
    def server_down(self) -> bool:
        return self._down_since is not None

    def _server_down(self, exc: SendError) -> None:
        now = self.clock.now()
        self._down_failures += 1
        pause = min(self.policy.delay(self._down_failures),
                    dt.timedelta(seconds=min(self.policy.backoff_max_seconds, 600)))
        self._resume_at = now + pause
        if self._down_since is None:
            # Logged once when it goes, once when it is back; not on every retry.
            self._down_since = now
            log.warning("cannot send, %d message(s) wait; retrying with backoff: %s",
                        self.pending_count(), exc)
        else:
            log.debug("sending still impossible (retry %d): %s", self._down_failures, exc)

    def _server_up(self) -> None:
        if self._down_since is not None:
            down = (self.clock.now() - self._down_since).total_seconds()
            log.info("sending works again after %.0f s", down)
        self._down_since, self._down_failures, self._resume_at = None, 0, None

    def _send_one(self, mailbox: Mailbox, message_id: str, entry: dict[str, Any],
                  marks: Txn) -> bool:
        record = entry.get("record")
        raw = entry["raw"].encode("ascii")
        invite = None
        if mailbox.calendar is not None:
            try:
                invite = invite_in(raw)
                if invite is not None and not mailbox.calendar.accepts(invite.meeting):
                    invite = None  # (a series it cannot keep: the iMIP carries all of it)
            except Exception:  # an invite it cannot read goes out as iMIP after all
                log.exception("reading the meeting out of %s failed; sending it as mail",
                              message_id)
        try:
            if invite is not None and mailbox.calendar is not None:
                # The server's own calendar sends the invitations (Exchange).
                try:
                    if invite.method == "CANCEL":
                        mailbox.calendar.cancel_meeting(
                            invite.meeting.uid, reason=invite.body_html,
                            occurrence=invite.meeting.recurrence_id,
                            now_at=invite.meeting.start)
                    else:
                        mailbox.calendar.save_meeting(invite.meeting,
                                                      notify=entry["recipients"])
                    receipt = SendReceipt()
                except LookupError as exc:
                    # Not in the server's calendar (a series that went out as iMIP): the
                    # iMIP the workflow wrote says it to the attendees instead.
                    log.warning("%s: %s; sending it as iMIP", message_id, exc)
                    receipt = mailbox.send(raw, sender=entry["envelope_from"],
                                           recipients=entry["recipients"])
            else:
                receipt = mailbox.send(raw, sender=entry["envelope_from"],
                                       recipients=entry["recipients"])
        except SendError as exc:
            if exc.unreachable:
                self._server_down(exc)
            else:
                self._server_up()
                self._failed(message_id, entry, exc)
            return False
        except Exception as exc:  # a backend's bug must not stop the daemon: retried
            log.exception("sending %s raised", message_id)
            self._failed(message_id, entry, SendError(f"unexpected error: {exc!r}"))
            return False
        self._server_up()
        now = self.clock.now()
        marks.delete(OUTBOX, message_id)
        index = dict(self.store.get(MESSAGES, message_id) or {"dir": "out", "record": record})
        index["sent"] = isoformat(now)
        if receipt.server_message_id and receipt.server_message_id != message_id:
            # Exchange assigns its own Message-ID; replies will name that one.
            index["server_message_id"] = receipt.server_message_id
            marks.put(MESSAGES, receipt.server_message_id, {**index, "alias_of": message_id})
        marks.put(MESSAGES, message_id, index)
        log.info("sent %s (%s) to %s", message_id, entry.get("purpose"),
                 ", ".join(entry["recipients"]), extra=about(record))
        return True

    def _failed(self, message_id: str, entry: dict[str, Any], exc: SendError) -> None:
        attempts = int(entry["attempts"]) + 1
        now = self.clock.now()
        updated = dict(entry, attempts=attempts, last_error=str(exc))
        give_up = exc.permanent or attempts >= self.policy.max_attempts
        if give_up:
            updated["failed"] = True
            log.error("giving up on %s after %d attempt(s): %s", message_id, attempts, exc,
                      extra=about(entry.get("record")))
        else:
            updated["next_attempt"] = isoformat(now + self.policy.delay(attempts))
            # Log the first failure and then only every fourth: a server that is down
            # must not fill the journal with one line per retry.
            level = logging.WARNING if attempts == 1 or attempts % 4 == 0 else logging.DEBUG
            log.log(level, "sending %s failed (attempt %d, next at %s): %s", message_id,
                    attempts, updated["next_attempt"], exc, extra=about(entry.get("record")))
        txn = Txn()
        txn.put(OUTBOX, message_id, updated)
        self.store.commit(txn)
