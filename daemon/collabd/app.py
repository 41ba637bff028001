"""Wires backend, store, journal, workflow and outbox together; the daemon's main loop.

One pass of the loop: fetch new mail → journal it durably → acknowledge it on the
server → process the journal (classify, workflow, one commit of records + outbox per
message) → run due ticks → send what the outbox holds → checkpoint when due.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import schedule

from collabd.clock import Clock, isoformat
from collabd.config import Config
from collabd.inbound.classify import Classifier, read_event
from collabd.inbound.message import read_message
from collabd.logs import about
from collabd.mailbox.base import Mailbox, MailboxUnavailable, SendError
from collabd.mailbox.local import LocalMailbox
from collabd.model import AnyRecord, Meeting
from collabd.outbound.compose import Person
from collabd.outbound.invites import native_answer
from collabd.outbound.outbox import MESSAGES, OUTBOX, Outbox, SendPolicy
from collabd.outbound.templates import Templates
from collabd.policy.rules import Rules, load_rules
from collabd.resources import skeleton_dir
from collabd.sdnotify import Notifier
from collabd.store import StateLock, Txn
from collabd.store.backend import daemon_parts, on_postgresql
from collabd.store.errors import Fenced, StoreBusy, StoreUnavailable
from collabd.store.view import CLOSED, StateView
from collabd.web.links import BoardLinks
from collabd.workflow.agenda import Agenda
from collabd.workflow.context import BusyLookup
from collabd.workflow.engine import Identity, Workflow
from collabd.workflow.outcome import Outcome
from collabd.workflow.settle import settled
from collabd.workflow.waits import waiting_on
from collabd.yamlsrc import ConfigError

log = logging.getLogger(__name__)

FETCH_BATCH = 200
CURSOR_KEY = "mailbox_cursor"


def load_policy(config: Config) -> tuple[Rules, Templates]:
    """The deployment's rules and templates, validated together (a ladder's template
    must exist). Raises ConfigError listing every problem as file:line."""
    from collabd.checks import ladder_template_problems
    from collabd.policy import sources

    rules = load_rules(config.rules_dir, tz=config.tz, defaults=skeleton_dir("rules"))
    # the people of the directory sources, as last read (Daemon.refresh_directory)
    rules = sources.with_members(rules, sources.load(config.state_dir))
    templates = Templates(config.templates_dir, skeleton_dir("mail_templates"))
    missing = ladder_template_problems(rules, templates)
    if missing:
        raise ConfigError(missing)
    return rules, templates


def _board_links(config: Config) -> BoardLinks | None:
    """The board's link maker, when the deployment has a board (served by the daemon, or
    by `collabd board` at the configured url); else `看板` is told there is none."""
    board = config.settings.board
    if not (board.enabled or board.url):
        return None
    from collabd.web.links import load_key

    return BoardLinks(load_key(config.state_dir), board.base_url, board.link_days)


def make_mailbox(config: Config, *, listen: bool = True) -> Mailbox:
    settings = config.settings
    if settings.backend == "local":
        relay = settings.local.relay
        password = relay.auth.source(config.base_dir) if relay and relay.auth else None
        return LocalMailbox(settings.local, state_dir=config.state_dir,
                            address=settings.mailbox.address, relay_password=password,
                            listen=listen)
    if settings.backend == "imap":
        from collabd.mailbox.imap import ImapMailbox

        assert settings.imap is not None and settings.smtp is not None  # the schema says so
        smtp_auth = settings.smtp.auth
        return ImapMailbox(
            settings.imap, settings.smtp, imap_secret=settings.imap.auth.source(config.base_dir),
            smtp_secret=smtp_auth.source(config.base_dir) if smtp_auth else None,
            base_dir=config.base_dir)
    if settings.backend == "graph":
        from collabd.mailbox.graph import GraphMailbox

        graph = settings.graph
        assert graph is not None  # the schema says so
        return GraphMailbox(
            graph, address=settings.mailbox.address, base_dir=config.base_dir,
            secret=graph.client_secret.source(config.base_dir) if graph.client_secret
            else None)
    if settings.backend == "ews":
        from collabd.mailbox.ews import EwsMailbox

        ews = settings.ews
        assert ews is not None  # the schema says so
        client = ews.oauth2_client
        return EwsMailbox(
            ews, address=settings.mailbox.address, tz=settings.timezone,
            secret=ews.auth.source(config.base_dir) if ews.auth else None,
            client_secret=client.client_secret.source(config.base_dir) if client else None,
            base_dir=config.base_dir)
    raise AssertionError(f"unknown backend {settings.backend}")  # the schema prevents it


# In the daemon's loop a pass fetches, processes and sends at most this much, so that a
# backlog streams: the first acknowledgements leave while the rest is still coming in,
# and the watchdog is fed between batches. (`run --once` drains everything.)
PROCESS_BATCH = 200
GROUP_COMMIT = 50  # messages whose commits share one fdatasync
FETCH_BATCHES_PER_PASS = 2


@dataclass
class PassResult:
    fetched: int = 0
    processed: int = 0
    sent: int = 0
    more: bool = False  # a batch bound was reached: another pass follows at once

    @property
    def busy(self) -> bool:
        return bool(self.fetched or self.processed or self.sent or self.more)


class Daemon:
    def __init__(self, config: Config, clock: Clock, *, mailbox: Mailbox | None = None,
                 listen: bool = True, notifier: Notifier | None = None,
                 workflow: Workflow | None = None) -> None:
        self.config = config
        self.clock = clock
        settings = config.settings
        state = config.state_dir
        # Embedded: the state directory's lock makes this the only daemon on it. On
        # PostgreSQL: the mailbox's advisory lock there, and any number stand by.
        self.standby = on_postgresql(config)
        self.lock = None if self.standby else StateLock(state)
        parts = daemon_parts(config)
        self.store: Any = parts.store
        self.archive: Any = parts.archive
        self.view: StateView = parts.view(config)
        self.journal: Any = parts.journal
        self.mailbox = mailbox or make_mailbox(config, listen=listen)
        self.notifier = notifier or Notifier()
        self.rules, self.templates = load_policy(config)
        self.identity = Identity(settings.mailbox.address, settings.mailbox.display_name,
                                 board=_board_links(config))
        self.workflow = workflow or Workflow(self.rules, self.templates, self.identity,
                                             busy=self._busy_lookup())
        self.classifier = Classifier(self.rules, settings.mailbox.address)
        d = settings.daemon
        self.outbox = Outbox(
            self.store, clock,
            sender=Person(settings.mailbox.address, settings.mailbox.display_name),
            envelope_from=settings.mailbox.bounce_address or settings.mailbox.address,
            policy=SendPolicy(d.send_max_attempts, d.send_backoff_seconds,
                              d.send_backoff_max_seconds),
        )
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._wake = threading.Event()
        self._scheduler = schedule.Scheduler()
        self._mailbox_down_since: float | None = None
        self._answers_read_at: float | None = None
        self._calendar_warned = False
        self._directory_read = False
        self._directory_problem: str | None = None
        self._started = False
        # When each open record next needs the clock, and when each closed one is due
        # for the archive: a tick visits only what is due (workflow/agenda.py).
        self.agenda = Agenda()
        self.to_archive = Agenda()

    # -- lifecycle ------------------------------------------------------------------

    def start(self, *, stand_by: bool = True) -> None:
        """Open the state and the mailbox. On PostgreSQL, first wait (standing by) until
        this process leads the mailbox; a stop requested meanwhile returns unstarted.
        `stand_by=False` (`run --once`): another process leading is an error instead."""
        if self.lock is not None:
            self.lock.acquire()
        try:
            self.store.open()
            if self.standby and not stand_by and not self.store.lead():
                raise StoreBusy(
                    f"collabd is already running on mailbox {self.store.space} "
                    f"({self.store.leader() or 'another process'}); stop it first, or run "
                    "without --once to stand by")
            if self.standby and not self._await_leadership():
                self.store.close()
                return
            self.journal.ensure()
            moved = self.journal.recover()
            self.store.check_lead()  # (before the mailbox is touched)
            self.mailbox.start()
        except BaseException:
            self.store.close()  # (what a failed start opened: nothing to checkpoint)
            if self.lock is not None:
                self.lock.release()
            raise
        self._started = True
        self.agenda, self.to_archive = Agenda(), Agenda()  # (planned anew, a leader again)
        try:
            self.refresh_directory(replan=False)
            self._plan(self.store.values("records"), self.clock.now())
            for target in moved:
                if self.journal.is_bad(target):
                    self._tell_about_set_aside(target)
        except Fenced as exc:  # (the lead lost again while starting: let go of all)
            self.stand_down(exc)
            raise
        log.info("started on %s, state %s (%d records, %d queued to send)",
                 self.mailbox.describe(), self.store.describe(),
                 self.store.count("records"), self.outbox.pending_count())

    def _await_leadership(self) -> bool:
        """Stand by until this process leads the mailbox (True), or a stop is asked."""
        pg = self.config.settings.postgresql
        assert pg is not None
        poll = min(1.0, pg.takeover_seconds / 10)
        self.store.announce()
        said = False
        while not self.stopping:
            if self.store.leading or self.store.lead():
                log.info("leading mailbox %s on %s", self.store.space, self.store.describe())
                return True
            if not said:
                log.info("standing by: mailbox %s is served by %s", self.store.space,
                         self.store.leader() or "another process")
                self.notifier.ready(f"standing by for {self.store.space}")
                said = True
            self.notifier.watchdog()
            self._stop.wait(poll)
        return False

    def stand_down(self, why: BaseException) -> None:
        """Another process leads the mailbox now (this one was cut off): let go of
        the mailbox and the state without writing anything, to stand by again."""
        log.error("%s; standing down", why)
        self.notifier.status("standing down")
        self._started = False
        try:
            self.mailbox.stop()
        except Exception:
            log.exception("disconnecting from the mailbox raised")
        self.store.close()

    def close(self) -> None:
        if not self._started:
            return
        self._started = False
        try:
            self.mailbox.stop()
        finally:
            self.store.close()
            if self.lock is not None:
                self.lock.release()
        log.info("stopped; state checkpointed")

    def request_stop(self, *_: Any) -> None:
        self._stop.set()
        self._wake.set()

    def request_reload(self, *_: Any) -> None:
        # Acted on by the main loop, not inside the signal handler.
        self._reload.set()
        self._wake.set()

    def refresh_directory(self, *, replan: bool = True) -> None:
        """Read the directory sources (collabd.yaml `directory`), keep what was read, and
        use it when it changed; when they cannot be read, the last good read goes on.
        `replan`: plan the records anew with the changed rules (not at start, which
        plans them right after)."""
        from collabd.policy import sources

        if not self.config.settings.directory.sources:
            return
        before = sources.load(self.config.state_dir)
        members, problem = sources.refresh(self.config)
        if problem is not None:
            if problem != self._directory_problem:  # (said once, not every refresh)
                log.error("the directory sources could not be read; going on with the %d "
                          "people of the last good read: %s", len(members), problem)
            self._directory_problem = problem
            return
        if self._directory_problem is not None:
            log.info("the directory sources can be read again")
            self._directory_problem = None
        if members != before or not self._directory_read:
            log.info("directory: %d people from %d source(s)", len(members),
                     len(self.config.settings.directory.sources))
        self._directory_read = True
        if members != before:
            # (the rules in use were loaded with `before`, the last good read)
            self.reload(quiet=True, replan=replan)

    def reload(self, *, quiet: bool = False, replan: bool = True) -> None:
        """Re-read the rules and templates (SIGHUP), with the directory's people. Only a
        valid set replaces the one in use; otherwise every problem is logged and the
        daemon goes on with the old one."""
        self._reload.clear()
        if not quiet:
            log.info("reload requested (SIGHUP)")
        try:
            rules, templates = load_policy(self.config)
        except ConfigError as exc:
            log.error("the changed rules are not valid; keeping the rules in use:\n%s", exc)
            return
        self.rules, self.templates = rules, templates
        self.workflow = Workflow(rules, templates, self.identity, busy=self._busy_lookup())
        self.classifier = Classifier(rules, self.config.settings.mailbox.address)
        self.agenda = Agenda()  # other rules, other moments
        if replan:
            self._plan(self.store.values("records"), self.clock.now())
        if not quiet:
            log.info("rules and templates reloaded from %s and %s", self.config.rules_dir,
                     self.config.templates_dir)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop -----------------------------------------------------------------

    def run_once(self) -> PassResult:
        """One fetch-process-tick-send pass (`collabd run --once`)."""
        result = self.fetch_and_process()
        self.tick()
        result.sent = self.outbox.send_due(self.mailbox, should_stop=lambda: self.stopping,
                                           progress=self.notifier.watchdog)
        return result

    def install_signals(self) -> None:
        """SIGTERM/SIGINT stop, SIGHUP reloads. Installed before start-up: a reload
        arriving while the mailbox is still connecting must not kill the process (the
        default action of SIGHUP)."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)

    def run_forever(self, *, install_signals: bool = True) -> None:
        if install_signals:
            self.install_signals()
        tick_seconds = self.config.settings.daemon.tick_seconds
        self._scheduler.every(tick_seconds).seconds.do(self.tick)
        if self.config.settings.directory.sources:
            self._scheduler.every(self.config.settings.directory.refresh_minutes).minutes.do(
                self.refresh_directory)
        while not self.stopping:
            try:
                self._serve()
            except Fenced as exc:
                self.stand_down(exc)
                retry_start(self)  # stands by until it leads again

    def _serve(self) -> None:
        if not self._started:
            return
        self.tick()
        self.notifier.ready(f"receiving on {self.mailbox.describe()}")
        poll = self.config.settings.daemon.poll_seconds
        while not self.stopping:
            if self._reload.is_set():
                self.reload()
            result = self.fetch_and_process(bounded=True)
            if result.processed:
                # What the new mail set in motion (a review meeting to plan) happens now,
                # not at the next scheduled tick.
                self.tick()
            self._scheduler.run_pending()
            self.store.check_lead()  # (before anything is sent)
            result.sent = self.outbox.send_due(self.mailbox, should_stop=lambda: self.stopping,
                                               progress=self.notifier.watchdog)
            self.notifier.watchdog()
            self.store.poll_checkpoint()
            if self.store.checkpoint_due() and not result.busy:
                # Written by a thread: at 100,000 records the files take seconds.
                self.store.checkpoint(background=True)
            if not result.busy:
                self.mailbox.wait(poll, self._until_next(), self._wake)
                self._wake.clear()
        self.notifier.stopping()
        log.info("stop requested; finishing")

    def _until_next(self) -> float:
        """Seconds until the next scheduled tick or the next send that is due."""
        idle = self._scheduler.idle_seconds
        waits = [max(0.0, idle) if idle is not None else 60.0]
        due = self.outbox.seconds_until_due()
        if due is not None:
            waits.append(due)
        return min(waits)

    # -- receiving -------------------------------------------------------------------

    def fetch_and_process(self, *, bounded: bool = False) -> PassResult:
        """Fetch and process; `bounded` (the daemon's loop): at most a batch of each,
        with `more` set when something is left for the next pass."""
        result = PassResult()
        result.fetched = self.fetch(max_batches=FETCH_BATCHES_PER_PASS if bounded else None)
        result.processed = self.process_journal(limit=PROCESS_BATCH if bounded else None)
        if bounded:
            result.more = (result.fetched >= FETCH_BATCHES_PER_PASS * FETCH_BATCH
                           or result.processed >= PROCESS_BATCH)
        return result

    def fetch(self, *, max_batches: int | None = None) -> int:
        """Journal what the server has for us, then acknowledge it there."""
        total = 0
        batches = 0
        while not self.stopping and (max_batches is None or batches < max_batches):
            batches += 1
            self.store.check_lead()  # (a leader cut off touches no mailbox)
            try:
                batch = self.mailbox.fetch(self.view.meta(CURSOR_KEY), FETCH_BATCH)
            except MailboxUnavailable as exc:
                self._mailbox_down(exc)
                return total
            except Exception as exc:  # a backend's bug: logged with its traceback, once
                if self._mailbox_down_since is None:
                    log.exception("fetching from the mailbox raised")
                self._mailbox_down(exc)
                return total
            self._mailbox_up()
            # One flush for the batch (fsutil.rename_batch), before it is acknowledged.
            self.journal.put_many([fetched.raw for fetched in batch.messages])
            self.notifier.watchdog()  # a backlog is fetched batch by batch
            if batch.cursor is not None and batch.cursor != self.view.meta(CURSOR_KEY):
                txn = Txn()
                txn.put("meta", CURSOR_KEY, {"value": batch.cursor})
                self.store.commit(txn)
            total += len(batch.messages)
            # Only now, with every message of the batch durable in the journal.
            if batch.messages:
                try:
                    self.mailbox.ack([m.ref for m in batch.messages])
                except MailboxUnavailable as exc:
                    # Journaled and behind the cursor: the backend acknowledges them
                    # when it is reachable again; nothing is fetched twice.
                    self._mailbox_down(exc)
                    return total
            if not batch.more:
                break
        return total

    def _mailbox_down(self, exc: Exception) -> None:
        # Logged once when it goes down and once when it is back, not on every retry.
        if self._mailbox_down_since is None:
            self._mailbox_down_since = self.clock.monotonic()
            log.warning("mailbox unavailable, retrying: %s", exc)

    def _mailbox_up(self) -> None:
        if self._mailbox_down_since is not None:
            down = self.clock.monotonic() - self._mailbox_down_since
            log.info("mailbox reachable again after %.0f s", down)
            self._mailbox_down_since = None

    def process_journal(self, *, limit: int | None = None) -> int:
        """Process what the journal holds. Group commit: the commits of up to
        GROUP_COMMIT messages share one fdatasync, and only then are their journal
        entries removed (a crash before it redoes them; a Message-ID seen makes a redo
        change nothing), and only then can anything they queued be sent."""
        count = 0
        settled: list[Any] = []
        group = GROUP_COMMIT if self.store.group_commit else 1
        try:
            for entry in self.journal:
                if self.stopping or (limit is not None and count >= limit):
                    # Put it back untouched: it was not processed.
                    self.journal.release(entry)
                    break
                if self.process_entry(entry, sync=False):
                    settled.append(entry)
                count += 1
                if len(settled) >= group:
                    self._settle(settled)
                self.notifier.watchdog()
        finally:
            self._settle(settled)
        return count

    def _settle(self, entries: list[Any]) -> None:
        self.store.sync()
        for entry in entries:
            self.journal.done(entry)
        entries.clear()

    def process_entry(self, entry: Any, *, sync: bool = True) -> bool:
        """Process one journal entry; True when it is done with (to be removed from the
        journal once its commit is durable), False when it was set aside."""
        try:
            raw = entry.read()
            self.handle_raw(raw, sync=sync, entry=entry)
        except Exception as exc:
            target = self.journal.shunt(entry, exc)
            log.exception("processing %s raised; set aside in %s", entry.name, target)
            self._tell_about_set_aside(target)
            return False
        if sync:
            self.journal.done(entry)
        return True

    def _set_aside_descriptions(self) -> list[dict[str, Any]]:
        from collabd.journalcli import list_entries

        return list_entries(self.journal, self.config.tz)

    def _tell_about_set_aside(self, target: Any) -> None:
        """A message set aside is never silent: its sender, if the directory knows
        them, is told that the secretary has it (the secretary gets the daily summary).
        Telling must not fail the daemon in turn."""
        try:
            head = read_message(self.journal.read(target)[:65536].split(b"\r\n\r\n", 1)[0]
                                .split(b"\n\n", 1)[0] + b"\r\n\r\n")
            outcome = self.workflow.on_set_aside(head, target.name, self.view,
                                                 self.clock.now())
            if outcome.drafts or outcome.meta:
                self.commit(outcome)
        except Exception:
            log.exception("telling the sender of %s failed", target.name)

    def handle_raw(self, raw: bytes, *, sync: bool = True, entry: Any = None) -> str | None:
        """Classify one message and commit its effects. Returns the record it concerned.
        `entry`: its journal entry, settled by the same commit where the journal is in
        the store's database (a crash cannot leave it both done and waiting)."""
        message = read_message(raw)
        seen = self.view.message(message.key)
        if seen is not None and seen.get("dir") == "in":
            log.info("duplicate of %s (already processed %s); nothing changed",
                     message.key, seen.get("at"), extra=about(seen.get("record")))
            return seen.get("record")
        now = self.clock.now()
        event = read_event(self.classifier, message, now, self.view.message)
        outcome = self.workflow.on_event(event, self.view, now)
        inbound = {"dir": "in", "at": isoformat(now), "from": message.sender,
                   "subject": message.subject, **outcome.inbound}
        settles = [entry.id] if self.standby and entry is not None else []
        self.commit(outcome, inbound_key=message.key, inbound=inbound, sync=sync,
                    settles=settles)
        record = inbound.get("record")
        log.info("processed %s from %s as %s", message.key, message.sender or "(no sender)",
                 inbound.get("kind", "unknown"), extra=about(record))
        return record

    # -- committing ------------------------------------------------------------------

    def commit(self, outcome: Outcome, *, inbound_key: str | None = None,
               inbound: dict[str, Any] | None = None, sync: bool = True,
               settles: Sequence[int] = ()) -> int:
        txn = Txn(settles=list(settles))
        if outcome.records:
            ctx = self.workflow.context(self.view, self.clock.now())
            for record in outcome.records:
                # Whoever was told of a delay that has now ended is told so.
                already = {p.address for d in outcome.drafts if d.record == record["id"]
                           for p in (*d.to, *d.cc)}
                if inbound and inbound.get("from"):
                    already.add(email.utils.parseaddr(str(inbound["from"]))[1].lower())
                outcome.drafts.extend(settled(record, ctx, already))
                # Always whom it waits for as it now stands (status shows and filters it).
                record["waiting_on"] = waiting_on(record, ctx)
                # With names and departments, so that `status` needs no directory.
                record["waiting_people"] = [ctx.person_by_address(a)
                                            for a in record["waiting_on"]]
                txn.put("records", record["id"], record)
        for key, value in outcome.meta.items():
            txn.put("meta", key, {"value": value})
        if inbound_key is not None:
            # First: what it causes is threaded after it (Outbox._threaded).
            txn.put(MESSAGES, inbound_key, inbound or {"dir": "in"})
        for draft in outcome.drafts:
            self.outbox.queue(txn, draft)
        seq = int(self.store.commit(txn, sync=sync))
        if outcome.records:
            self._plan([cast("AnyRecord | None", self.store.get("records", r["id"])) or r
                        for r in outcome.records],
                       self.clock.now())
        return seq

    def _plan(self, records: Iterable[AnyRecord], now: dt.datetime) -> None:
        """Put records on the agenda (the moment a tick next needs them) and the closed
        ones on the archive's (the moment they leave the working set)."""
        ctx = self.workflow.context(self.view, now)
        keep = dt.timedelta(days=self.config.settings.daemon.archive_after_days)
        for record in records:
            self.agenda.plan(record, ctx)
            closed = _closed_at(record)
            self.to_archive.set(record["id"], closed + keep if closed else None)

    # -- the clock -------------------------------------------------------------------

    def tick(self) -> None:
        with self.store.reading():  # each due record decoded once, not per reader
            self._tick()

    def _tick(self) -> None:
        now = self.clock.now()
        try:
            self.read_native_answers(now)
            due = self.agenda.due(now)
            skipped: set[str] = set()
            outcome = self.workflow.on_tick(self.view, now, only=due, skipped=skipped,
                                            review_only=self.agenda.review_only(due, now))
            if CHECK_AGENDA:
                _same_tick(outcome, self.workflow.on_tick(self.view, now), now)
            outcome.merge(self.workflow.set_aside_summary(
                self.view, now, self._set_aside_descriptions))
            if outcome.records or outcome.drafts or outcome.meta:
                self.commit(outcome)
            # Visited and unchanged: still planned from what they are now (those left
            # unread are as they were, and so is their place on the agenda).
            settled = {r["id"] for r in outcome.records} | skipped
            self._plan([r for r in (self.store.get("records", i) for i in due
                                    if i not in settled) if r is not None], now)
            self.archive_closed(now)
        except Exception:
            log.exception("tick at %s raised; the next tick tries again", isoformat(now))

    # -- a native calendar (Exchange) ---------------------------------------------------

    def _busy_lookup(self) -> BusyLookup | None:
        calendar = self.mailbox.calendar
        if calendar is None:
            return None

        def lookup(addresses: Sequence[str], start: dt.datetime, end: dt.datetime
                   ) -> list[tuple[dt.datetime, dt.datetime]]:
            try:
                found = calendar.busy(addresses, start, end)
            except Exception as exc:  # whatever it is, a slot is still chosen
                # The slot is then chosen from our own meetings alone.
                if not self._calendar_warned:
                    self._calendar_warned = True
                    log.warning("free/busy not available, choosing meeting times from "
                                "collabd's own meetings: %s", exc)
                return []
            self._calendar_warned = False
            return [interval for intervals in found.values() for interval in intervals]

        return lookup

    def read_native_answers(self, now: dt.datetime, *, force: bool = False) -> int:
        """Attendees' answers as the server's calendar has them, for our scheduled
        meetings, journaled as iMIP replies where they changed (then processed as any
        reply). Every `poll_seconds`, and soon after a meeting message came in."""
        calendar = self.mailbox.calendar
        if calendar is None:
            return 0
        moment = self.clock.monotonic()
        due = (force or calendar.answers_changed or self._answers_read_at is None
               or moment - self._answers_read_at >= calendar.poll_seconds)
        if not due:
            return 0
        self._answers_read_at = moment
        meetings = [m for m in self.view.records("meeting")
                    if m.get("status") == "scheduled" and m.get("uid")
                    and dt.datetime.fromisoformat(m["end"]) > now - dt.timedelta(days=1)]
        if not meetings:
            return 0
        try:
            answers = calendar.responses([m["uid"] for m in meetings])
        except (MailboxUnavailable, SendError) as exc:
            self._mailbox_down(exc)
            return 0
        except Exception:
            log.exception("reading the attendees' answers failed; the next tick tries again")
            return 0
        journaled = 0
        for meeting in meetings:
            got = answers.get(meeting["uid"], {})
            asked = _last_asked(meeting)
            for attendee in meeting.get("attendees", []):
                answer = got.get(attendee["address"].lower())
                if answer is None or answer.partstat == attendee.get("partstat"):
                    continue
                if answer.at is not None and answer.at < asked - ANSWER_CLOCK_SLACK:
                    continue  # an answer to the meeting's time before it was moved
                self.journal.put(native_answer(
                    meeting, attendee, answer.partstat, answered_at=answer.at,
                    organizer=self.config.settings.mailbox.address, stamp=now))
                journaled += 1
        if journaled:
            log.info("%d answer(s) to meetings read from the calendar", journaled)
            self._wake.set()
        return journaled

    def archive_closed(self, now: dt.datetime) -> int:
        """Move records closed more than `archive_after_days` ago into the archive."""
        days = self.config.settings.daemon.archive_after_days
        cutoff = now - dt.timedelta(days=days)
        candidates = (self.store.get("records", i) for i in self.to_archive.due(now))
        old = [r for r in candidates
               if r is not None and (closed := _closed_at(r)) and closed <= cutoff]
        if not old:
            return 0
        # A record whose mail is still to be sent stays until it is: its message-index
        # entries are what a reply to that mail will be read against.
        sending = {e.get("record") for e in self.store.values(OUTBOX)}
        for record in [r for r in old if r["id"] in sending]:
            old.remove(record)
            self.to_archive.set(record["id"], now + dt.timedelta(minutes=10))
        if not old:
            return 0
        # Their message-index entries go with them, out of the working set.
        messages = {key: entry for record in old
                    for key in self.store.group_keys(record["id"])
                    if (entry := self.store.get(MESSAGES, key)) is not None}
        self.archive.put_many(old, messages)
        txn = Txn()
        for key in messages:
            txn.delete(MESSAGES, key)
        for record in old:
            txn.delete("records", record["id"])
            self.to_archive.set(record["id"], None)
            self.agenda.set(record["id"], None)
        self.store.commit(txn)
        log.info("archived %d closed record(s)", len(old))
        return len(old)


def _closed_at(record: AnyRecord) -> dt.datetime | None:
    """When a closed record was closed (its last update, for older records); None for an
    open one."""
    if record.get("status") not in CLOSED:
        return None
    return dt.datetime.fromisoformat(record.get("closed") or record["updated"])


# Tests run every tick both ways (only what the agenda says is due, and every open
# record) and stop at the first difference: the agenda may visit too much, never too
# little.
CHECK_AGENDA = os.environ.get("COLLABD_CHECK_AGENDA") == "1"


def _same_tick(planned: Outcome, full: Outcome, now: dt.datetime) -> None:
    def summary(outcome: Outcome) -> tuple[list[str], list[tuple[str, tuple[str, ...]]]]:
        return (sorted(r["id"] for r in outcome.records),
                sorted((d.purpose, tuple(d.recipients())) for d in outcome.drafts))
    if summary(planned) != summary(full):
        raise AssertionError(f"the agenda's tick at {isoformat(now)} differs from a full one: "
                             f"{summary(planned)} != {summary(full)}")


# Between our clock and the mail server's: an answer this much older than the last time
# everyone was asked still counts.
ANSWER_CLOCK_SLACK = dt.timedelta(minutes=1)


def _last_asked(meeting: Meeting) -> dt.datetime:
    """When everyone was last asked to answer: the meeting made, or last moved."""
    moments = [meeting["created"]] + [a["at"] for a in meeting.get("audit", [])
                                      if a.get("what") == "rescheduled"]
    return max(dt.datetime.fromisoformat(m) for m in moments)


def retry_start(daemon: Daemon, *, attempts: int = 0,
                sleep: Callable[[float], object] | None = None) -> None:
    """Start, retrying a mailbox that is not reachable yet (attempts=0: forever); a stop
    requested meanwhile ends the waiting at once."""
    sleep = sleep or daemon._stop.wait
    delay = 1.0
    tries = 0
    while not daemon.stopping:
        try:
            daemon.start()
            return
        except (MailboxUnavailable, StoreUnavailable, Fenced) as exc:
            # (Fenced: the lead was lost again while starting; stand by once more)
            tries += 1
            if attempts and tries >= attempts:
                raise
            what = "mailbox" if isinstance(exc, MailboxUnavailable) else "database"
            log.warning("%s not reachable (%s); retrying in %.0f s", what, exc, delay)
            sleep(delay)
            delay = min(delay * 2, 60.0)
