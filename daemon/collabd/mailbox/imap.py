"""The `imap` backend: the shared mailbox over IMAP (imapclient), sending by SMTP.

Tencent Exmail, Alibaba and NetEase enterprise mail, Gmail, Dovecot and on-premises
Exchange all speak these. New mail is found by IDLE where the server has it and by
polling otherwise; the position read is a cursor (UIDVALIDITY, last UID, and the UIDs
still to be moved) kept in the daemon's state. A message is acknowledged — moved to
the processed folder — only after it is journaled; `\\Seen` is never read or set, since
people read the shared mailbox too. A changed UIDVALIDITY (the folder was recreated,
or the server migrated) rereads the folder; what was processed before is recognised by
its Message-ID and changes nothing.
"""

from __future__ import annotations

import contextlib
import imaplib
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    RetryPause,
    SendError,
    SendReceipt,
)
from collabd.mailbox.smtp import SecretSource, SmtpSender, tls_context

log = logging.getLogger(__name__)

# What a broken or lost connection, or a command the server refused, raises: from the
# socket up to imaplib and imapclient.
_NETWORK = (OSError, ssl.SSLError, imaplib.IMAP4.error, imaplib.IMAP4.abort, IMAPClientError,
            EOFError)
# After a failure the next try waits 1 s, 2 s, 4 s, ... up to this.
RETRY_MAX_SECONDS = 300.0
# One fetch downloads at most this much (the first message always, whatever its size
# under the limit), in groups of at most GROUP_BYTES: memory stays bounded and the
# daemon's watchdog is fed between batches.
BATCH_BYTES = 32 * 1024 * 1024
GROUP_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Cursor:
    uidvalidity: int
    last_uid: int
    # Journaled and not yet known to be moved: what to move after a reconnect.
    pending: tuple[int, ...] = field(default=())

    def dump(self) -> str:
        return json.dumps({"uidvalidity": self.uidvalidity, "last_uid": self.last_uid,
                           "pending": list(self.pending)})

    @staticmethod
    def load(text: str | None) -> Cursor | None:
        if not text:
            return None
        try:
            data = json.loads(text)
            return Cursor(int(data["uidvalidity"]), int(data["last_uid"]),
                          tuple(int(u) for u in data.get("pending", ())))
        except (ValueError, KeyError, TypeError):
            return None


def _ref(uidvalidity: int, uid: int, oversize: bool = False) -> str:
    return f"{uidvalidity}:{uid}" + (":oversize" if oversize else "")


class ImapMailbox(Mailbox):
    kind = "imap"

    def __init__(self, imap: ImapServer, smtp: SmtpServer, *, imap_secret: SecretSource,
                 smtp_secret: SecretSource | None, base_dir: Path) -> None:
        self.settings = imap
        self.secret = imap_secret  # read at every login: tokens and passwords rotate
        self.base_dir = base_dir
        self.sender = SmtpSender(
            smtp.host, smtp.effective_port, security=smtp.security, username=smtp.username,
            secret=smtp_secret, oauth2=bool(smtp.auth and smtp.auth.oauth2),
            verify=smtp.verify, ca_file=self._path(smtp.ca_file),
            timeout=smtp.timeout_seconds, provider=smtp.provider or imap.provider)
        self._client: IMAPClient | None = None
        self._delimiter = "/"
        self._prefix = ""  # the personal namespace's prefix ("INBOX." on Courier, Cyrus)
        self._cleaned_up = False  # pending moves done since the last (re)connect
        self.pause = RetryPause(RETRY_MAX_SECONDS)
        self._uidnext: int | None = None  # as of the last fetch
        self._warned_expunge = False
        self._unexpunged: set[int] = set()  # ours, copied and flagged, not yet expunged

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
        where = f"IMAP {s.host}:{s.effective_port}"
        context = tls_context(s.verify, self._path(s.ca_file))
        try:
            secret = self.secret() or ""
        except CollabdError as exc:
            raise MailboxUnavailable(f"{where}: {exc}") from exc
        try:
            client = IMAPClient(s.host, port=s.effective_port, ssl=s.security == "tls",
                                ssl_context=context, timeout=s.timeout_seconds)
            # Keepalive: an IDLE connection must outlive NAT and firewall idle timeouts.
            with contextlib.suppress(OSError, AttributeError):
                client.socket().setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if s.security == "starttls":
                client.starttls(context)
            if s.auth.oauth2:
                client.oauth2_login(s.username, secret)
            else:
                client.login(s.username, secret)
            self._identify(client)
            self._learn_namespace(client)
            for name in (s.processed_folder, s.oversize_folder):
                folder = self._folder(name)
                if not client.folder_exists(folder):
                    client.create_folder(folder)
                    log.info("imap: created folder %s", folder)
        except LoginError as exc:
            from collabd.providers import login_hint

            said = exc.args[0] if exc.args else exc
            said = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
            raise MailboxUnavailable(f"{where}: login as {s.username} refused: {said}"
                                     f"{login_hint(s.host, s.provider)}") from exc
        except ssl.SSLCertVerificationError as exc:
            raise MailboxUnavailable(
                f"{where}: the server's certificate could not be verified "
                f"({exc.verify_message}); give its CA with imap.ca_file") from exc
        except _NETWORK as exc:
            raise MailboxUnavailable(f"{where}: {exc}") from exc
        return client

    @staticmethod
    def _identify(client: IMAPClient) -> None:
        """The IMAP ID command (RFC 2971) to a server that lists it: NetEase's refuses to
        open a mailbox for a client that has not said who it is ("Unsafe Login")."""
        if not client.has_capability("ID"):
            return
        from collabd import __version__

        try:
            client.id_({"name": "collabd", "version": __version__})
        except IMAPClientError as exc:  # (a server that lists ID and fails it: go on)
            log.info("imap: the ID command failed: %s", exc)

    def _learn_namespace(self, client: IMAPClient) -> None:
        """The hierarchy separator and personal prefix, from NAMESPACE (RFC 2342) where
        the server has it, else from LIST "" "" (RFC 3501 6.3.8)."""
        if client.has_capability("NAMESPACE"):
            personal = client.namespace().personal
            if personal:
                prefix, delimiter = personal[0]
                self._prefix = _text(prefix)
                self._delimiter = _text(delimiter) or "/"
                return
        for _flags, delimiter, _name in client.list_folders("", ""):
            self._delimiter = _text(delimiter) or "/"

    def _folder(self, name: str) -> str:
        """A configured folder name ("collabd/processed") as this server spells it."""
        if name.upper() == "INBOX":
            return "INBOX"
        translated = name.replace("/", self._delimiter)
        if self._prefix and not translated.startswith(self._prefix):
            translated = self._prefix + translated
        return translated

    def _ensure(self) -> IMAPClient:
        if self._client is None:
            self.pause.check()
            try:
                self._client = self._connect()
            except MailboxUnavailable as exc:
                self.pause.failed(exc)
                raise
            self._cleaned_up = False
            self._unexpunged = set()
        return self._client

    def _drop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(*_NETWORK):
                self._client.shutdown()
            self._client = None

    def _lost(self, exc: Exception) -> MailboxUnavailable:
        """Any failed cycle (connect, select, fetch, move) pauses before the next: a
        wrong folder name must not turn into a login every few milliseconds, which
        Gmail and Exmail punish by locking the account."""
        self._drop()
        error = MailboxUnavailable(f"IMAP {self.settings.host}: {exc}")
        self.pause.failed(error)
        return error

    def start(self) -> None:
        """Connect. A login refused for good stops the start (the configuration is
        wrong); a server not reachable yet, or refusing for now, does not: the loop
        keeps trying, with backoff."""
        try:
            self._ensure()
        except MailboxUnavailable as exc:
            cause = exc.__cause__
            temporary = "[UNAVAILABLE]" in str(exc) or "[INUSE]" in str(exc)
            if isinstance(cause, ssl.SSLCertVerificationError) or (
                    isinstance(cause, LoginError) and not temporary):
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
            batch = self._fetch(Cursor.load(cursor), limit)
        except _NETWORK as exc:
            raise self._lost(exc) from exc
        self.pause.worked()
        return batch

    def _fetch(self, cursor: Cursor | None, limit: int) -> FetchBatch:
        client = self._ensure()
        selected = client.select_folder(self._folder(self.settings.folder))
        uidvalidity = int(selected[b"UIDVALIDITY"])
        self._uidnext = int(selected[b"UIDNEXT"]) if b"UIDNEXT" in selected else None
        last = 0
        if cursor is not None and cursor.uidvalidity == uidvalidity:
            last = cursor.last_uid
            if not self._cleaned_up and cursor.pending:
                # Journaled, but a crash or a lost connection stopped their move.
                self._move_pending(client, list(cursor.pending))
            self._cleaned_up = True
        elif cursor is not None:
            log.warning("imap: UIDVALIDITY of %s changed (%d → %d); reading the folder "
                        "again, messages already processed are recognised by Message-ID",
                        self.settings.folder, cursor.uidvalidity, uidvalidity)
        # "UID n:*" always matches the newest message, even below n: filter.
        uids = sorted(u for u in client.search(["UID", f"{last + 1}:*"]) if u > last)
        if not uids:
            return FetchBatch([], Cursor(uidvalidity, last).dump(), False)
        candidates = uids[:limit]
        sizes = {u: int(v.get(b"RFC822.SIZE", 0))
                 for u, v in client.fetch(candidates, ["RFC822.SIZE"]).items()}
        batch: list[int] = []
        total = 0
        for uid in candidates:
            if uid not in sizes:
                continue  # expunged by someone meanwhile
            size = sizes[uid] if sizes[uid] <= self.settings.max_message_bytes else 0
            if batch and total + size > BATCH_BYTES:
                break
            batch.append(uid)
            total += size
        more = len(uids) > len(batch)
        messages = self._download(client, uidvalidity, batch, sizes)
        taken = [int(m.ref.split(":")[1]) for m in messages]
        skipped = sorted(set(batch) - set(taken))
        if skipped:
            log.warning("imap: message(s) with UID %s could not be read and stay in %s",
                        ", ".join(map(str, skipped)), self.settings.folder)
        last_uid = max(batch) if batch else last
        return FetchBatch(messages, Cursor(uidvalidity, last_uid, tuple(taken)).dump(), more)

    def _download(self, client: IMAPClient, uidvalidity: int, batch: list[int],
                  sizes: dict[int, int]) -> list[Fetched]:
        limit = self.settings.max_message_bytes
        raws: dict[int, bytes] = {}
        group: list[int] = []
        group_bytes = 0
        small = [u for u in batch if sizes[u] <= limit]
        for uid in [*small, None]:
            if uid is not None and (not group or group_bytes + sizes[uid] <= GROUP_BYTES):
                group.append(uid)
                group_bytes += sizes[uid]
                continue
            if group:
                for got, data in client.fetch(group, ["BODY.PEEK[]"]).items():
                    raw = data.get(b"BODY[]")
                    if isinstance(raw, bytes):
                        raws[got] = raw
            if uid is not None:
                group, group_bytes = [uid], sizes[uid]
        big = [u for u in batch if sizes[u] > limit]
        heads = client.fetch(big, ["BODY.PEEK[HEADER]"]) if big else {}
        messages: list[Fetched] = []
        for uid in batch:
            if uid in raws:
                messages.append(Fetched(_ref(uidvalidity, uid), raws[uid]))
            elif uid in heads:
                header = heads[uid].get(b"BODY[HEADER]") or b""
                # Too large to download: only its headers go through the pipeline, marked,
                # so the sender is answered once and the message is set aside.
                note = f"{OVERSIZE_HEADER}: {sizes[uid]} {limit}\r\n".encode("ascii")
                messages.append(Fetched(_ref(uidvalidity, uid, oversize=True),
                                        note + header.rstrip(b"\r\n") + b"\r\n\r\n"))
        return messages

    def ack(self, refs: Sequence[str]) -> None:
        parsed = [r.split(":") for r in refs]
        try:
            client = self._ensure()
            selected = client.select_folder(self._folder(self.settings.folder))
            uidvalidity = str(selected[b"UIDVALIDITY"])
            stale = [p for p in parsed if p[0] != uidvalidity]
            if stale:
                # The folder was recreated since the fetch: these UIDs may name other
                # messages now. The reread after the change finds ours again.
                log.warning("imap: UIDVALIDITY of %s changed before %d message(s) could "
                            "be moved; they are read again", self.settings.folder,
                            len(stale))
            normal = [int(p[1]) for p in parsed if p[0] == uidvalidity and len(p) == 2]
            oversize = [int(p[1]) for p in parsed if p[0] == uidvalidity and len(p) == 3]
            if normal:
                self._move(client, normal, self.settings.processed_folder)
            if oversize:
                self._move(client, oversize, self.settings.oversize_folder)
        except _NETWORK as exc:
            # Journaled and in the cursor's pending list: moved after reconnecting.
            raise self._lost(exc) from exc

    def _move_pending(self, client: IMAPClient, pending: list[int]) -> None:
        """Move messages whose move was interrupted: exactly those journaled (the cursor
        lists them), found still here and not already copied (flagged \\Deleted by our
        COPY fallback); the oversized ones to their folder."""
        here = client.search(["UID", ",".join(map(str, pending)), "NOT", "DELETED"])
        if not here:
            return
        sizes = client.fetch(here, ["RFC822.SIZE"])
        big = [u for u in here if int(sizes.get(u, {}).get(b"RFC822.SIZE", 0))
               > self.settings.max_message_bytes]
        small = [u for u in here if u not in big]
        if small:
            self._move(client, small, self.settings.processed_folder)
        if big:
            self._move(client, big, self.settings.oversize_folder)
        log.info("imap: moved %d already journaled message(s) left in %s", len(here),
                 self.settings.folder)

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
            return
        # A plain EXPUNGE removes every message flagged \\Deleted, also those a person
        # flagged and means to keep for now: only when every flagged one is ours.
        flagged = set(client.search(["DELETED"]))
        ours = self._unexpunged | set(uids)
        if flagged <= ours:
            client.expunge()
            self._unexpunged = set()
            return
        self._unexpunged = ours & flagged  # expunged with a later move, when possible
        if not self._warned_expunge:
            self._warned_expunge = True
            log.warning("imap: %s has no MOVE nor UIDPLUS and other messages are flagged "
                        "\\Deleted there; processed messages are copied and flagged "
                        "\\Deleted but not expunged, so as not to remove those",
                        self.settings.folder)

    def wait(self, poll: float, until_next: float, stop: threading.Event) -> None:
        """Until new mail may be there (IDLE), other work is due, or `stop` is set."""
        try:
            client = self._ensure()
        except MailboxUnavailable:
            # Down: sleep until the next try is due (the fetch reports the outage).
            stop.wait(min(poll, until_next, self.pause.remaining()))
            return
        if not self.settings.idle or not client.has_capability("IDLE"):
            stop.wait(min(poll, until_next))
            return
        # The IDLE is issued anew on every wait, so never held longer than
        # idle_renew_seconds: far inside the server's 29-minute limit (RFC 2177).
        deadline = time.monotonic() + min(until_next, self.settings.idle_renew_seconds,
                                          self.settings.idle_recheck_seconds)
        try:
            selected = client.select_folder(self._folder(self.settings.folder))
            if self._uidnext is not None and selected.get(b"UIDNEXT") not in (
                    None, self._uidnext):
                return  # mail came between the last fetch and now
            client.idle()
            try:
                self._idle_until(client, deadline, stop)
            finally:
                client.idle_done()
        except _NETWORK as exc:
            self._lost(exc)  # the next fetch reconnects, after the backoff
            stop.wait(min(until_next, self.pause.remaining()))

    @staticmethod
    def _idle_until(client: IMAPClient, deadline: float, stop: threading.Event) -> None:
        # Short checks keep a stop request answered within a second.
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            began = time.monotonic()
            responses = [r for r in client.idle_check(timeout=min(1.0, left))
                         if isinstance(r, tuple)]
            if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                return  # new mail
            if any(r and r[0] == b"BYE" for r in responses) or (
                    not responses and time.monotonic() - began < min(0.5, left)):
                # The server is going away, or closed the connection (a quick empty
                # answer is imapclient's EOF): idle_done fails and drops it.
                return

    # -- sending -------------------------------------------------------------------------------

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SendReceipt:
        self.sender.send(raw, sender, recipients)
        return SendReceipt()

    # -- check -----------------------------------------------------------------------------------

    def check(self) -> list[tuple[bool, str]]:
        findings: list[tuple[bool, str]] = []
        try:
            client = self._connect()
        except MailboxUnavailable as exc:
            findings.append((False, str(exc)))  # (it names IMAP host:port already)
        else:
            try:
                findings += self._check_imap(client)
            finally:
                with contextlib.suppress(*_NETWORK):
                    client.logout()
        try:
            findings += [(True, line) for line in self.sender.probe()]
        except SendError as exc:
            findings.append((False, f"SMTP {exc}"))
        return findings

    def _check_imap(self, client: IMAPClient) -> list[tuple[bool, str]]:
        s = self.settings
        folders = [f[2] for f in client.list_folders()]
        caps = {_text(c) for c in client.capabilities()}
        lines: list[tuple[bool, str]] = [
            (True, f"IMAP {s.host}:{s.effective_port} ({s.security}): logged in as "
                   f"{s.username}"),
            (True, f"folders: {', '.join(folders)}"),
        ]
        try:
            selected = client.select_folder(self._folder(s.folder), readonly=True)
        except _NETWORK as exc:
            lines.append((False, f"IMAP folder {s.folder}: {exc}"))
        else:
            lines.append((True, f"{s.folder}: {selected.get(b'EXISTS', 0)} message(s), "
                                f"UIDVALIDITY {selected.get(b'UIDVALIDITY')}"))
        lines.append((True, "IDLE: " + ("yes" if "IDLE" in caps else "no (polling)")))
        move = "yes" if "MOVE" in caps else "no (COPY + " + (
            "UID EXPUNGE)" if "UIDPLUS" in caps else "EXPUNGE when only ours are flagged)")
        lines.append((True, f"MOVE: {move}"))
        return lines


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)

