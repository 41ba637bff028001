"""The embedded `local` backend: an SMTP listener into a Maildir, sent mail as files.

Nothing external is needed to try collabd: people (or `swaks`, or any mail client
pointed at 127.0.0.1:2525) send to the shared address; the listener delivers into the
Maildir `state/mail/inbox`; every message the daemon sends is written, exactly as sent,
into the Maildir `state/mail/sent`, and handed to a relay when one is configured.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import re
import socket
import time
from collections.abc import Sequence
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from collabd.config import LocalBackend
from collabd.mailbox.base import (
    FetchBatch,
    Fetched,
    Mailbox,
    MailboxUnavailable,
    SendError,
    SendReceipt,
)
from collabd.mailbox.maildir import Maildir
from collabd.mailbox.smtp import SecretSource, SmtpSender
from collabd.store.fsutil import rename_batch

log = logging.getLogger(__name__)


class _LongLinesSMTP(SMTP):
    """aiosmtpd answers a data line longer than 1,000 octets with `500 Line too long`, a
    permanent failure: the sender gets a bounce. Real MTAs accept such mail (Postfix
    folds the lines), and so does this listener, up to the message size limit; only
    size, recipient and policy are refused. The end of data is recognised only as
    CRLF.CRLF (aiosmtpd >= 1.4.5, against SMTP smuggling): a bare LF inside the data is
    kept as it came, the way Postfix's `smtpd_forbid_bare_newline = normalize` does not
    let it end the message either."""


class _Controller(Controller):
    def __init__(self, handler: Any, *, line_limit: int, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._line_limit = line_limit

    def factory(self) -> SMTP:
        # The limit is read when the server is made (it sizes the stream reader), so it
        # is set on a class of its own, not on the instance afterwards.
        server_class: type[SMTP] = type("_SizedSMTP", (_LongLinesSMTP,),
                                        {"line_length_limit": self._line_limit})
        server: SMTP = server_class(self.handler, **self.SMTP_kwargs)
        return server


class _InboxHandler:
    """aiosmtpd handler: accept mail for the shared address only, deliver to the Maildir."""

    def __init__(self, inbox: Maildir, accepted: set[str]) -> None:
        self.inbox = inbox
        self.accepted = accepted

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address.casefold() not in self.accepted:
            return f"550 5.1.1 <{address}>: this server only accepts mail for the shared mailbox"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content
        if content is None:
            return "554 5.6.0 no message content"
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        mail_from = envelope.mail_from or ""
        # What a local delivery agent adds: the envelope sender (an empty one marks a
        # bounce, which the daemon must never answer) and a trace line.
        stamp = email.utils.formatdate(localtime=True)
        trace = (
            f"Return-Path: <{mail_from}>\r\n"
            f"Received: from {session.host_name or 'unknown'} ([{peer}])\r\n"
            f"\tby collabd-local with SMTP; {stamp}\r\n"
        ).encode("ascii", "replace")
        try:
            path = self.inbox.deliver(trace + content)
        except OSError as exc:
            log.error("local: could not store incoming message: %s", exc)
            return "451 4.3.0 could not store the message, try again later"
        return f"250 2.0.0 OK queued as {path.name}"


class LocalMailbox(Mailbox):
    kind = "local"

    def __init__(self, settings: LocalBackend, *, state_dir: Path, address: str,
                 relay_password: SecretSource | None = None, listen: bool = True) -> None:
        self.settings = settings
        self.address = address
        self.inbox = Maildir(state_dir / "mail" / "inbox")
        self.sent = Maildir(state_dir / "mail" / "sent")
        relay = settings.relay
        self.relay = SmtpSender(
            relay.host, relay.port, security=relay.security, username=relay.username,
            secret=relay_password, oauth2=bool(relay.auth and relay.auth.oauth2),
            timeout=relay.timeout_seconds) if relay is not None else None
        self.listen = listen
        self._controller: Controller | None = None
        self._filed_digests: set[str] | None = None
        self._staged: list[tuple[Path, Path]] = []

    def _filed(self) -> set[str]:
        """Digests of the Message-IDs already in the sent folder (read once)."""
        if self._filed_digests is None:
            self._filed_digests = {
                p.name.split(".M", 1)[1].split(".", 1)[0]
                for p in self.sent.all_messages() if ".M" in p.name}
        return self._filed_digests

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        self.inbox.ensure()
        self.sent.ensure()
        for left in self.sent.tmp.iterdir():  # staged by a run that died before filing
            left.unlink(missing_ok=True)
        self.inbox.clean_tmp()
        if not self.listen or self._controller is not None:
            return
        handler = _InboxHandler(self.inbox, {self.address.casefold()})
        controller = _Controller(
            handler,
            line_limit=self.settings.max_message_bytes + 1024,
            hostname=self.settings.listen_host,
            port=self.settings.listen_port,
            data_size_limit=self.settings.max_message_bytes,
            enable_SMTPUTF8=True,
            server_hostname="collabd-local",
        )
        try:
            controller.start()
        except (OSError, RuntimeError) as exc:
            raise MailboxUnavailable(
                f"cannot listen for SMTP on {self.settings.listen_host}:"
                f"{self.settings.listen_port}: {exc} (is another program using the port? set "
                "local.listen_port in collabd.yaml)"
            ) from exc
        self._controller = controller
        log.info("local: listening for mail to %s on %s:%d", self.address,
                 self.settings.listen_host, self.settings.listen_port)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self.relay is not None:
            self.relay.close()

    def describe(self) -> str:
        where = f"{self.settings.listen_host}:{self.settings.listen_port}"
        relay = self.settings.relay
        return f"local (SMTP {where}, relay {relay.host}:{relay.port})" if relay else (
            f"local (SMTP {where})")

    # -- receiving ------------------------------------------------------------------

    def fetch(self, cursor: str | None, limit: int = 100) -> FetchBatch:
        # The Maildir's new/ is itself the queue of unacknowledged mail: no cursor needed.
        messages: list[Fetched] = []
        more = False
        for path in self.inbox.new_messages():
            if len(messages) >= limit:
                more = True
                break
            try:
                messages.append(Fetched(path.name, path.read_bytes()))
            except FileNotFoundError:
                continue
        return FetchBatch(messages, None, more)

    def ack(self, refs: Sequence[str]) -> None:
        for ref in refs:
            self.inbox.mark_seen(ref)

    # -- sending --------------------------------------------------------------------

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SendReceipt:
        digest = _message_digest(raw)
        # Idempotent: a retry after a relay failure, or the resend after a crash between
        # sending and recording it, must not file the message twice.
        if digest not in self._filed():
            # Named by the time it is filed, so the folder lists in sending order.
            name = f"{time.time_ns()}.M{digest}.collabd"
            try:
                # Filed in new/ with the rest of the batch, by one flush (flush), before
                # the batch is recorded as sent. A crash before sends the batch again,
                # and a message whose file was filed is not filed twice.
                self._staged.append(self.sent.stage(raw, name))
            except OSError as exc:
                raise SendError(f"cannot write to {self.sent.root}: {exc}") from exc
            self._filed().add(digest)
        if self.relay is not None:
            self.relay.send(raw, sender, recipients)
        return SendReceipt()

    def flush(self) -> None:
        staged, self._staged = self._staged, []
        try:
            rename_batch(staged, self.sent.new)
        except OSError as exc:
            # Not filed: forgotten, so that sending them again files them.
            for tmp, final in staged:
                tmp.unlink(missing_ok=True)
                if not final.exists():
                    self._filed().discard(final.name.split(".M", 1)[1].split(".", 1)[0])
            raise SendError(f"cannot file sent mail in {self.sent.root}: {exc}") from exc

    def check(self) -> list[tuple[bool, str]]:
        findings = [(True, f"inbox Maildir {self.inbox.root}"),
                    (True, f"sent Maildir {self.sent.root}")]
        host, port = self.settings.listen_host, self.settings.listen_port
        probe = socket.socket()
        try:
            probe.settimeout(1)
            if probe.connect_ex((host, port)) == 0:
                findings.append((True, f"something already listens on {host}:{port} (a "
                                       "running collabd, or a port clash)"))
            else:
                findings.append((True, f"SMTP listener will bind {host}:{port}"))
        finally:
            probe.close()
        if self.relay is not None:
            try:
                findings.extend((True, f"relay: {line}") for line in self.relay.probe())
            except SendError as exc:
                findings.append((False, f"relay: {exc}"))
        return findings


_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*([^\r\n]*)\r?\n(?![ \t])", re.I | re.M)


def _message_digest(raw: bytes) -> str:
    # Our own messages carry a one-line Message-ID: found in the header block without
    # parsing the message (which cost a tenth of the time of a backlog). Anything else
    # is parsed as before, so the digest of a message never changes.
    end = raw.find(b"\n\n")
    end = raw.find(b"\r\n\r\n") if end < 0 else end
    found = _MESSAGE_ID.search(raw, 0, end if end >= 0 else len(raw))
    if found is not None and found.group(1).strip() and found.group(1).isascii():
        message_id = found.group(1).decode("ascii")
    else:
        headers = BytesHeaderParser().parsebytes(raw)
        message_id = str(headers.get("Message-ID", "")) or hashlib.sha1(raw).hexdigest()
    return hashlib.sha1(message_id.encode("utf-8", "replace")).hexdigest()[:20]
