"""The `imap` backend: the shared mailbox over IMAP (imapclient), sending by SMTP.

Tencent Exmail, Alibaba and NetEase enterprise mail, Gmail, Dovecot and on-premises
Exchange all speak these. New mail is found by IDLE where the server has it (re-issued
well before the 29-minute limit) and by polling otherwise; the position read is a
cursor (UIDVALIDITY, last UID) kept in the daemon's state. A message is acknowledged —
moved to the processed folder — only after it is journaled; `\\Seen` is never relied on,
since people read the shared mailbox too. A changed UIDVALIDITY (the folder was
recreated, or the server migrated) rereads the folder; what was processed before is
recognised by its Message-ID and changes nothing.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import logging
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from collabd.config import ImapServer, SmtpServer
from collabd.errors import CollabdError
from collabd.mailbox.base import (
    OVERSIZE_HEADER,
    FetchBatch,
    Fetched,
    Mailbox,
    MailboxUnavailable,
    SendError,
    SendReceipt,
)
from collabd.mailbox.smtp import SmtpSender, tls_context

log = logging.getLogger(__name__)

# What a broken or lost connection raises, from the socket up to imaplib and imapclient.
_NETWORK = (OSError, ssl.SSLError, imaplib.IMAP4.error, imaplib.IMAP4.abort, IMAPClientError,
            EOFError)
# Reconnecting after a failure waits 1 s, 2 s, 4 s, ... up to this.
RECONNECT_MAX_SECONDS = 300.0


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int

    def dump(self) -> str:
        return json.dumps({"uidvalidity": self.uidvalidity, "last_uid": self.last_uid})

    @staticmethod
    def load(text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return Cursor(int(data["uidvalidity"]), int(data["last_uid"]))
        except (ValueError, KeyError, TypeError):
            return None


class ImapMailbox(Mailbox):
    kind = "imap"

    def __init__(self, imap: ImapServer, smtp: SmtpServer, *, imap_secret: str | None,
                 smtp_secret: str | None, base_dir: Path) -> None:
        self.settings = imap
        self.secret = imap_secret
        self.base_dir = base_dir
        self.sender = SmtpSender(
            smtp.host, smtp.effective_port, security=smtp.security, username=smtp.username,
            secret=smtp_secret, oauth2=bool(smtp.auth and smtp.auth.oauth2),
            verify=smtp.verify, ca_file=self._path(smtp.ca_file),
            timeout=smtp.timeout_seconds)
        self._client: IMAPClient | None = None
        self._delimiter = "/"
        self._oversize: set[int] = set()
        self._cleaned_up_to: int | None = None  # re-acks done after a (re)connect
        self._failures = 0
        self._retry_at = 0.0  # time.monotonic() before which no reconnect is tried
        self._last_error = ""
        self._uidnext: int | None = None  # as of the last fetch

    def _path(self, path: Path | None) -> Path | None:
        if path is None:
            return None
        return path if path.is_absolute() else self.base_dir / path

    def describe(self) -> str:
        s = self.settings
        return (f"imap {s.username}@{s.host}:{s.effective_port} ({s.security}) folder "
                f"{s.folder}, smtp {self.sender.describe()}")

    # -- connection ------------------------------------------------------------------------

    def _connect(self) -> IMAPClient:
        s = self.settings
        context = tls_context(s.verify, self._path(s.ca_file))
        try:
            client = IMAPClient(s.host, port=s.effective_port, ssl=s.security == "tls",
                                ssl_context=context, timeout=s.timeout_seconds)
            if s.security == "starttls":
                client.starttls(context)
            if s.auth.oauth2:
                client.oauth2_login(s.username, self.secret or "")
            else:
                client.login(s.username, self.secret or "")
            folders = client.list_folders()
            if folders:
                delimiter = folders[0][1]
                self._delimiter = delimiter.decode() if isinstance(delimiter, bytes) else (
                    delimiter or "/")
            for name in (s.processed_folder, s.oversize_folder):
                folder = self._folder(name)
                if not client.folder_exists(folder):
                    client.create_folder(folder)
                    log.info("imap: created folder %s", folder)
        except LoginError as exc:
            raise MailboxUnavailable(f"IMAP {s.host}:{s.effective_port}: login as "
                                     f"{s.username} refused: {exc}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise MailboxUnavailable(
                f"IMAP {s.host}:{s.effective_port}: the server's certificate could not be "
                f"verified ({exc.verify_message}); give its CA with imap.ca_file") from exc
        except _NETWORK as exc:
            raise MailboxUnavailable(f"IMAP {s.host}:{s.effective_port}: {exc}") from exc
        return client

    def _folder(self, name: str) -> str:
        return name.replace("/", self._delimiter)

    def _ensure(self) -> IMAPClient:
        if self._client is None:
            if time.monotonic() < self._retry_at:
                raise MailboxUnavailable(self._last_error)
            try:
                self._client = self._connect()
            except MailboxUnavailable as exc:
                self._failures += 1
                self._retry_at = time.monotonic() + min(2.0 ** (self._failures - 1),
                                                        RECONNECT_MAX_SECONDS)
                self._last_error = str(exc)
                raise
            self._failures, self._retry_at = 0, 0.0
            self._cleaned_up_to = None
        return self._client

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(*_NETWORK):
                self._client.shutdown()
            self._client = None

    def start(self) -> None:
        """Connect. A login refused stops the start (the configuration is wrong); a
        server not reachable yet does not: the loop keeps trying, with backoff."""
        try:
            self._ensure()
        except MailboxUnavailable as exc:
            if isinstance(exc.__cause__, LoginError | ssl.SSLCertVerificationError):
                raise CollabdError(str(exc)) from exc
            log.warning("imap: not reachable yet, retrying with backoff: %s", exc)
            return
        log.info("imap: connected to %s", self.describe())

    def stop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(*_NETWORK):
                self._client.logout()
            self._client = None
        self.sender.close()

    # -- receiving ---------------------------------------------------------------------------

    def fetch(self, cursor: str | None, limit: int = 100) -> FetchBatch:
        try:
            return self._fetch(Cursor.load(cursor), limit)
        except _NETWORK as exc:
            self._drop()
            raise MailboxUnavailable(f"IMAP {self.settings.host}: {exc}") from exc

    def _fetch(self, cursor: Cursor | None, limit: int) -> FetchBatch:
        client = self._ensure()
        selected = client.select_folder(self.settings.folder)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        self._uidnext = int(selected[b"UIDNEXT"]) if b"UIDNEXT" in selected else None
        last = 0
        if cursor is not None and cursor.uidvalidity == uidvalidity:
            last = cursor.last_uid
            if self._cleaned_up_to is None and last > 0:
                # Messages at or below the cursor were journaled before a crash or a lost
                # connection stopped their move: move them now.
                leftovers = [u for u in client.search(["UID", f"1:{last}"]) if u <= last]
                if leftovers:
                    self._move_aside(client, leftovers)
                    log.info("imap: moved %d already journaled message(s) left in %s",
                             len(leftovers), self.settings.folder)
                self._cleaned_up_to = last
        elif cursor is not None:
            log.warning("imap: UIDVALIDITY of %s changed (%d → %d); reading the folder "
                        "again, messages already processed are recognised by Message-ID",
                        self.settings.folder, cursor.uidvalidity, uidvalidity)
        # "UID n:*" always matches the newest message, even below n: filter.
        uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
        batch, more = uids[:limit], len(uids) > limit
        if not batch:
            return FetchBatch([], Cursor(uidvalidity, last).dump(), False)
        sizes = client.fetch(batch, ["RFC822.SIZE"])
        small = [u for u in batch if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0))
                 <= self.settings.max_message_bytes]
        big = [u for u in batch if u not in small]
        messages: list[Fetched] = []
        bodies = client.fetch(small, ["BODY.PEEK[]"]) if small else {}
        heads = client.fetch(big, ["BODY.PEEK[HEADER]"]) if big else {}
        for uid in batch:
            if uid in bodies:
                raw = bodies[uid].get(b"BODY[]")
                if isinstance(raw, bytes):
                    messages.append(Fetched(str(uid), raw))
            elif uid in heads:
                size = int(sizes[uid][b"RFC822.SIZE"])
                header = heads[uid].get(b"BODY[HEADER]") or b""
                # Too large to download: only its headers go through the pipeline, marked,
                # so the sender is answered once and the message is set aside.
                note = (f"{OVERSIZE_HEADER}: {size} {self.settings.max_message_bytes}\r\n"
                        ).encode("ascii")
                messages.append(Fetched(f"{uid}:oversize", note + header.rstrip(b"\r\n")
                                        + b"\r\n\r\n"))
                self._oversize.add(uid)
        return FetchBatch(messages, Cursor(uidvalidity, max(batch)).dump(), more)

    def ack(self, refs: Sequence[str]) -> None:
        normal = [int(r) for r in refs if r.isdigit()]
        oversize = [int(r.split(":")[0]) for r in refs if r.endswith(":oversize")]
        try:
            client = self._ensure()
            client.select_folder(self.settings.folder)
            if normal:
                self._move(client, normal, self.settings.processed_folder)
            if oversize:
                self._move(client, oversize, self.settings.oversize_folder)
        except _NETWORK as exc:
            # Journaled already: the next fetch after reconnecting moves them.
            self._drop()
            raise MailboxUnavailable(f"IMAP {self.settings.host}: {exc}") from exc

    def _move_aside(self, client: IMAPClient, uids: list[int]) -> None:
        """Acknowledge journaled messages whose refs were lost (a crash or a dropped
        connection between journaling and the move): the oversized ones to their folder."""
        sizes = client.fetch(uids, ["RFC822.SIZE"])
        big = [u for u in uids if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0))
               > self.settings.max_message_bytes]
        small = [u for u in uids if u not in big]
        if small:
            self._move(client, small, self.settings.processed_folder)
        if big:
            self._move(client, big, self.settings.oversize_folder)

    def _move(self, client: IMAPClient, uids: list[int], folder_name: str) -> None:
        folder = self._folder(folder_name)
        if client.has_capability("MOVE"):
            client.move(uids, folder)
            return
        # RFC 6851's fallback: COPY, flag \\Deleted, and expunge just these (UIDPLUS).
        client.copy(uids, folder)
        client.delete_messages(uids)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    def wait(self, poll: float, until_next: float, stop: threading.Event) -> None:
        """Until new mail may be there (IDLE), other work is due, or `stop` is set."""
        try:
            client = self._ensure()
        except MailboxUnavailable:
            # Down: sleep until the next reconnect is due (the fetch reports the outage).
            stop.wait(max(0.0, min(poll, until_next, self._retry_at - time.monotonic())))
            return
        if not self.settings.idle or not client.has_capability("IDLE"):
            stop.wait(min(poll, until_next))
            return
        # The IDLE is issued anew on every wait, so never held longer than
        # idle_renew_seconds: far inside the server's 29-minute limit (RFC 2177).
        deadline = time.monotonic() + min(until_next, self.settings.idle_renew_seconds)
        try:
            selected = client.select_folder(self.settings.folder)
            if self._uidnext is not None and selected.get(b"UIDNEXT") not in (
                    None, self._uidnext):
                return  # mail came between the last fetch and now
            client.idle()
            try:
                # Short checks keep a stop request answered within a second.
                while not stop.is_set():
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    began = time.monotonic()
                    responses = [r for r in client.idle_check(timeout=min(1.0, left))
                                 if isinstance(r, tuple)]
                    if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                        break  # new mail
                    if any(r and r[0] == b"BYE" for r in responses) or (
                            not responses and time.monotonic() - began < min(0.5, left)):
                        # The server is going away, or closed the connection (a quick
                        # empty answer is imapclient's EOF): idle_done fails and drops it.
                        break
            finally:
                client.idle_done()
        except _NETWORK:
            self._drop()  # the next fetch reconnects, and reports it if it cannot

    # -- sending -------------------------------------------------------------------------------

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SendReceipt:
        self.sender.send(raw, sender, recipients)
        return SendReceipt()

    # -- check -----------------------------------------------------------------------------------

    def check(self) -> list[tuple[bool, str]]:
        s = self.settings
        findings: list[tuple[bool, str]] = []
        try:
            client = self._connect()
        except MailboxUnavailable as exc:
            findings.append((False, f"IMAP: {exc}"))
        else:
            try:
                folders = [f[2] for f in client.list_folders()]
                caps = {c.decode() if isinstance(c, bytes) else str(c)
                        for c in client.capabilities()}
                selected = client.select_folder(s.folder, readonly=True)
                findings += [(True, line) for line in (
                    f"IMAP {s.host}:{s.effective_port} ({s.security}): logged in as "
                    f"{s.username}",
                    f"folders: {', '.join(folders)}",
                    f"{s.folder}: {selected.get(b'EXISTS', 0)} message(s), UIDVALIDITY "
                    f"{selected.get(b'UIDVALIDITY')}",
                    "IDLE: " + ("yes" if "IDLE" in caps else "no (polling)"),
                    "MOVE: " + ("yes" if "MOVE" in caps else "no (COPY + EXPUNGE)"),
                )]
            finally:
                client.logout()
        try:
            findings += [(True, line) for line in self.sender.probe()]
        except SendError as exc:
            findings.append((False, f"SMTP {exc}"))
        return findings
