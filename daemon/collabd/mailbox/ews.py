"""The `ews` backend: the shared mailbox and its calendar on Exchange Server (exchangelib).

The service account reaches the shared mailbox (collab@company) with delegate
(FullAccess) rights or by impersonation. New mail is read with SyncFolderItems, one
page per fetch: the page's sync state is the cursor, stored by the daemon only after
the page is journaled (or, where a server has no usable sync, a `datetime_received`
cursor). Each item's MIME content goes through the same inbound pipeline as every other
backend; processed items are moved to a subfolder. Messages are sent from the raw MIME
the outbox holds, so the headers are those of every other backend; the Message-ID
Exchange keeps is read back and returned for the threading index.

Meetings are native: an invite the workflow wrote as iMIP (text/calendar REQUEST or
CANCEL) becomes a CalendarItem in the shared mailbox's calendar, created, updated or
cancelled through Exchange, which sends the invitations. The attendees' answers are read
from the item (`responses`) and fed back as iMIP replies; free/busy comes from
GetUserAvailability (`busy`).

Throttling: exchangelib's FaultTolerance waits out a short back-off inside the call
(at most `ews.max_wait_seconds`, well inside the systemd watchdog); a longer one asked by
the server becomes a pause of the whole backend, logged once, without blocking the loop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import hashlib
import json
import logging
import tempfile
import threading
from collections.abc import Sequence
from email.header import Header
from pathlib import Path
from typing import Any

import certifi
import requests
from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    Account,
    Build,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
    FaultTolerance,
    Folder,
    HTMLBody,
    Identity,
    Message,
    OAuth2AuthorizationCodeCredentials,
    OAuth2Credentials,
    Version,
)
from exchangelib.errors import (
    ErrorFolderNotFound,
    ErrorInvalidSyncStateData,
    ErrorItemNotFound,
    EWSError,
    RateLimitError,
    ResponseMessageError,
    TransportError,
    UnauthorizedError,
)
from exchangelib.items import (
    SEND_TO_ALL_AND_SAVE_COPY,
    SEND_TO_CHANGED_AND_SAVE_COPY,
    MeetingCancellation,
    MeetingMessage,
    MeetingRequest,
    MeetingResponse,
)
from exchangelib.properties import Attendee
from exchangelib.properties import Mailbox as EwsAddress
from exchangelib.protocol import BaseProtocol, NoVerifyHTTPAdapter
from exchangelib.services import SyncFolderItems
from exchangelib.transport import BASIC, NTLM, OAUTH2

from collabd.config import EwsServer
from collabd.errors import CollabdError
from collabd.mailbox.base import (
    MEETING_ITEM_HEADER,
    OVERSIZE_HEADER,
    FetchBatch,
    Fetched,
    Mailbox,
    MailboxUnavailable,
    NativeAnswer,
    NativeMeeting,
    RetryPause,
    SendError,
    SendReceipt,
)
from collabd.mailbox.smtp import SecretSource

log = logging.getLogger(__name__)

# A pause caused by an outage starts at 1 s and doubles up to this.
RETRY_MAX_SECONDS = 300.0
# After a refused login: at most one more try in this long (AD lockout policies count).
AUTH_RETRY_SECONDS = 600.0
# Answers from Exchange's attendee response types, as iCalendar PARTSTATs.
PARTSTAT = {"Accept": "ACCEPTED", "Decline": "DECLINED", "Tentative": "TENTATIVE"}
# Errors of a call at all (the server, the network, the answer): caught around calls.
_UNAVAILABLE = (TransportError, requests.exceptions.RequestException, OSError)
# Exchange's answers that mean "not now" or "not with this account" rather than "not
# this message": sending pauses (and says so once) instead of failing message after
# message, and the mail waits until someone fixes the server or the permissions.
_TRANSIENT = {"ErrorServerBusy", "ErrorInternalServerTransientError", "ErrorTimeoutExpired",
              "ErrorTooManyObjectsOpened", "ErrorMailboxStoreUnavailable",
              "ErrorConnectionFailed", "ErrorMailboxMoveInProgress", "ErrorInternalServerError",
              "ErrorAccessDenied", "ErrorNonExistentMailbox", "ErrorSendAsDenied",
              "ErrorQuotaExceeded", "ErrorImpersonateUserDenied",
              "ErrorImpersonationDenied", "ErrorMailboxLogonFailed"}


def _server_side(exc: BaseException) -> bool:
    """The server or the way to it is the trouble (pause and retry), not the request."""
    if isinstance(exc, requests.exceptions.RequestException | OSError | RateLimitError |
                  UnauthorizedError):
        return True
    if isinstance(exc, ResponseMessageError):
        return type(exc).__name__ in _TRANSIENT
    return isinstance(exc, TransportError)


class CollabdUid(ExtendedProperty):  # type: ignore[misc]
    """The meeting's iCalendar UID in a named property of our own: Exchange cannot search
    calendar:UID, but it can search this, so a retried invite finds the item it already
    created instead of creating a second one."""

    distinguished_property_set_id = "PublicStrings"
    property_name = "collabd-uid"
    property_type = "String"


class CollabdSequence(ExtendedProperty):  # type: ignore[misc]
    """The iCalendar SEQUENCE of the invite last applied to the item: an older invite
    retried after a newer one must not move the meeting back."""

    distinguished_property_set_id = "PublicStrings"
    property_name = "collabd-sequence"
    property_type = "Integer"


for _name, _prop in (("collabd_uid", CollabdUid), ("collabd_sequence", CollabdSequence)):
    with contextlib.suppress(ValueError):  # registered once per process
        CalendarItem.register(_name, _prop)


class LoggedFaultTolerance(FaultTolerance):  # type: ignore[misc]
    """exchangelib's back-off on ErrorServerBusy, logged, with a budget per operation:
    FaultTolerance checks each back-off against max_wait on its own, so a server asking
    again and again for short pauses could hold one call far past the watchdog."""

    def __init__(self, max_wait: float) -> None:
        super().__init__(max_wait=max_wait)
        self.waited = 0.0

    def begin(self) -> None:
        """A new operation (a fetch, a move, a send): its own budget."""
        self.waited = 0.0

    def back_off(self, seconds: float | None) -> None:
        wait = self.DEFAULT_BACKOFF if seconds is None else seconds
        if self.waited + wait > self.max_wait:
            raise RateLimitError("Max timeout reached", wait=wait)
        self.waited += wait
        log.warning("ews: Exchange is throttling (ErrorServerBusy); waiting %.1f s", wait)
        super().back_off(seconds)

    def raise_response_errors(self, response: Any) -> Any:
        # FaultTolerance takes a 401 for throttling and retries it: with NTLM each retry
        # is a failed logon, and a wrong password would lock the service account out.
        if response.status_code == 401:
            raise UnauthorizedError(f"Invalid credentials for {response.url}")
        return super().raise_response_errors(response)


def _ca_adapter(ca_file: Path) -> type:
    """requests' adapter trusting the company's CA (and the public ones, which the
    OAuth2 token endpoint needs): exchangelib has no `verify` of its own, its sessions
    take the adapter class from BaseProtocol.HTTP_ADAPTER_CLS."""
    bundle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the process
        prefix="collabd-ca-", suffix=".pem", delete=False)
    bundle.write(Path(certifi.where()).read_bytes() + b"\n" + ca_file.read_bytes())
    bundle.close()
    path = bundle.name

    class CompanyCAAdapter(requests.adapters.HTTPAdapter):
        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            super().cert_verify(conn, url, path, cert)

        def get_connection_with_tls_context(self, request: Any, verify: Any,
                                            proxies: Any = None, cert: Any = None) -> Any:
            return super().get_connection_with_tls_context(request, path, proxies, cert)

    return CompanyCAAdapter


class TokenFileCredentials(OAuth2AuthorizationCodeCredentials):  # type: ignore[misc]
    """An OAuth2 access token kept fresh in a file (or variable) by an outside helper:
    taken to live five minutes, after which requests-oauthlib calls it expired and
    exchangelib asks for a refresh, which reads it again; a token refused before that
    drops the connection, and reconnecting reads it too."""

    def __init__(self, source: SecretSource) -> None:
        self._source = source
        super().__init__(access_token=self._token())

    def _token(self) -> dict[str, Any]:
        return {"access_token": self._source() or "", "token_type": "Bearer",
                "expires_in": 300}

    def refresh(self, session: Any) -> None:
        self.access_token = self._token()


class EwsMailbox(Mailbox):
    kind = "ews"

    def __init__(self, settings: EwsServer, *, address: str, tz: str,
                 secret: SecretSource | None, client_secret: SecretSource | None,
                 base_dir: Path) -> None:
        self.settings = settings
        self.address = address
        self.tz = EWSTimeZone(tz)
        self.secret = secret
        self.client_secret = client_secret
        self.base_dir = base_dir
        self._account: Account | None = None
        self._source: Folder | None = None
        self._processed: Folder | None = None
        self._oversize: Folder | None = None
        self._failed_folder: Folder | None = None
        self._policy: LoggedFaultTolerance | None = None
        self.pause = RetryPause(RETRY_MAX_SECONDS)
        self._cleaned_up = False
        self.native = EwsCalendar(self) if settings.native_calendar else None
        self.calendar = self.native

    def describe(self) -> str:
        s = self.settings
        where = s.service_endpoint or "autodiscover"
        return f"ews {self.address} via {where} ({s.auth_type}, {s.access}) folder {s.folder}"

    # -- connection --------------------------------------------------------------------------

    def _path(self, path: Path | None) -> Path | None:
        if path is None:
            return None
        return path if path.is_absolute() else self.base_dir / path

    def _credentials(self) -> Any:
        s = self.settings
        if s.auth_type == "oauth2":
            if s.oauth2_client is not None:
                assert self.client_secret is not None
                return OAuth2Credentials(
                    client_id=s.oauth2_client.client_id, client_secret=self.client_secret(),
                    tenant_id=s.oauth2_client.tenant_id,
                    identity=Identity(primary_smtp_address=self.address))
            assert self.secret is not None
            return TokenFileCredentials(self.secret)
        assert self.secret is not None
        return Credentials(s.username or "", self.secret() or "")

    def _connect(self) -> Account:
        s = self.settings
        # Process-wide in exchangelib; one Exchange per daemon.
        if not s.verify:
            BaseProtocol.HTTP_ADAPTER_CLS = NoVerifyHTTPAdapter
        elif s.ca_file is not None:
            ca_file = self._path(s.ca_file)
            assert ca_file is not None
            try:
                BaseProtocol.HTTP_ADAPTER_CLS = _ca_adapter(ca_file)
            except OSError as exc:
                raise MailboxUnavailable(f"EWS: cannot read ews.ca_file {ca_file}: "
                                         f"{exc.strerror}") from exc
        else:
            BaseProtocol.HTTP_ADAPTER_CLS = requests.adapters.HTTPAdapter
        BaseProtocol.TIMEOUT = s.timeout_seconds
        try:
            credentials = self._credentials()
        except CollabdError as exc:
            raise MailboxUnavailable(f"EWS: {exc}") from exc
        auth = {"ntlm": NTLM, "basic": BASIC, "oauth2": OAUTH2}[s.auth_type]
        version = Version(build=Build(*map(int, s.version.split(".")))) if s.version else None
        self._policy = LoggedFaultTolerance(max_wait=s.max_wait_seconds)
        config = Configuration(
            service_endpoint=s.service_endpoint, credentials=credentials, auth_type=auth,
            version=version, retry_policy=self._policy, max_connections=1)
        try:
            account = Account(
                primary_smtp_address=self.address, config=config,
                autodiscover=s.service_endpoint is None,
                access_type=IMPERSONATION if s.access == "impersonation" else DELEGATE,
                default_timezone=self.tz, locale="zh_CN")
            self._source = self._folder_at(account, s.folder)
            self._processed = self._ensure_folder(account, s.processed_folder)
            self._oversize = self._ensure_folder(account, s.oversize_folder)
            self._failed_folder = self._ensure_folder(account, s.failed_folder)
        except UnauthorizedError as exc:
            raise MailboxUnavailable(f"EWS {self.describe()}: login as "
                                     f"{s.username or self.address} refused: {exc}") from exc
        except (EWSError, *_UNAVAILABLE) as exc:
            raise MailboxUnavailable(f"EWS {self.describe()}: {_say(exc)}") from exc
        return account

    @staticmethod
    def _folder_at(account: Account, path: str) -> Folder:
        """"inbox", or a path below it ("inbox/协作")."""
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0].lower() != "inbox":
            parts = ["inbox", *parts]
        folder = account.inbox
        for name in parts[1:]:
            folder = folder // name
        return folder

    def _ensure_folder(self, account: Account, path: str) -> Folder:
        """A folder below the inbox ("collabd/processed"), created where absent."""
        folder = account.inbox
        for name in [p for p in path.split("/") if p]:
            try:
                folder = folder // name
            except ErrorFolderNotFound:
                child = Folder(parent=folder, name=name)
                child.save()
                log.info("ews: created folder %s", "/".join(f.name for f in child.parts[1:])
                         if child.parts else name)
                folder = child
        return folder

    def _ensure(self) -> Account:
        """The connected account, its throttling budget renewed for one operation."""
        if self._policy is not None:
            self._policy.begin()
        if self._account is None:
            self.pause.check()
            try:
                self._account = self._connect()
            except MailboxUnavailable as exc:
                self.pause.failed(exc)
                raise
            self._cleaned_up = False
        return self._account

    def _lost(self, exc: Exception) -> MailboxUnavailable:
        """An EWS call failed for a reason of the server's: drop the account (a token
        or password is read again on reconnecting) and pause."""
        self._account = None
        wait = exc.wait if isinstance(exc, RateLimitError) else None
        if isinstance(exc, UnauthorizedError):
            # Every retry is a failed logon: few of them, lest the account be locked.
            wait = max(wait or 0.0, AUTH_RETRY_SECONDS)
        error = MailboxUnavailable(f"EWS: {_say(exc)}" + (
            f" (Exchange asked for a pause of {wait:.0f} s)" if wait else ""))
        self.pause.failed(error, at_least=wait)
        return error

    def start(self) -> None:
        try:
            self._ensure()
        except MailboxUnavailable as exc:
            if isinstance(exc.__cause__, UnauthorizedError):
                raise CollabdError(str(exc)) from exc
            log.warning("ews: not reachable yet, retrying with backoff: %s", exc)
            return
        log.info("ews: connected to %s", self.describe())

    def stop(self) -> None:
        if self._account is not None:
            with contextlib.suppress(Exception):
                self._account.protocol.close()
            self._account = None

    # -- receiving ---------------------------------------------------------------------------

    def wait(self, poll: float, until_next: float, stop: threading.Event) -> None:
        """Sync every `ews.poll_seconds` (not the local backend's 2 s), sooner when other
        work is due; while paused, until the pause is over."""
        stop.wait(min(max(poll, self.settings.poll_seconds, self.pause.remaining()),
                      until_next))

    def fetch(self, cursor: str | None, limit: int = 100) -> FetchBatch:
        state = _load(cursor)
        try:
            account = self._ensure()
            if not self._cleaned_up and state.get("pending"):
                self._move_pending(account, state["pending"])
            self._cleaned_up = True
            if self.settings.sync == "sync":
                batch = self._sync_page(account, state, limit)
            else:
                batch = self._received_page(account, state, limit)
        except (EWSError, *_UNAVAILABLE) as exc:
            raise self._lost(exc) from exc
        self.pause.worked()
        return batch

    def _sync_page(self, account: Account, state: dict[str, Any], limit: int) -> FetchBatch:
        assert self._source is not None
        folder = self._source
        fields = {f for f in folder.normalize_fields(fields=["size", "datetime_received"])
                  if not f.field.is_attribute}
        service = SyncFolderItems(account=account)
        sync_state = state.get("sync_state")
        try:
            changes = list(service.call(
                folder=folder, shape="IdOnly", additional_fields=fields,
                sync_state=sync_state, ignore=None, max_changes_returned=min(limit, 512),
                sync_scope="NormalItems"))
        except ErrorInvalidSyncStateData:
            # Expired or from another folder: read the folder from the start. What was
            # processed was moved out, and anything left is known by its Message-ID.
            log.warning("ews: the sync state of %s is no longer valid; reading the "
                        "folder from the start (processed mail is recognised)",
                        self.settings.folder)
            return FetchBatch([], json.dumps({"sync_state": None}), True)
        except AttributeError as exc:
            # exchangelib 5.6 fails this way on an error answer that lacks <SyncState>.
            raise TransportError(f"SyncFolderItems answered without a sync state: {exc}"
                                 ) from exc
        created = [item for change, item in changes if change == "create"]
        messages = self._download(account, created)
        new_state = service.sync_state
        more = not service.includes_last_item_in_range and new_state != sync_state
        pending = [m.ref for m in messages]
        return FetchBatch(messages, json.dumps({"sync_state": new_state, "pending": pending}),
                          more)

    def _received_page(self, account: Account, state: dict[str, Any],
                       limit: int) -> FetchBatch:
        """Without SyncFolderItems: items received at or after the cursor's moment,
        oldest first; those at exactly that moment already taken are skipped."""
        assert self._source is not None
        after = state.get("after")
        seen = set(state.get("seen", ()))
        query = self._source.all()
        if after:
            query = self._source.filter(
                datetime_received__gte=EWSDateTime.from_datetime(dt.datetime.fromisoformat(after)))
        items = [i for i in query.order_by("datetime_received").only(
            "id", "changekey", "size", "datetime_received")[: limit + len(seen)]
            if i.id not in seen][:limit]
        messages = self._download(account, items)
        if not items:
            return FetchBatch([], json.dumps(state), False)
        newest = max(i.datetime_received for i in items)
        at_newest = [i.id for i in items if i.datetime_received == newest]
        if after and dt.datetime.fromisoformat(after) == newest:
            at_newest += list(seen)
        cursor = {"after": newest.isoformat(), "seen": at_newest,
                  "pending": [m.ref for m in messages]}
        return FetchBatch(messages, json.dumps(cursor), len(items) == limit)

    def _download(self, account: Account, items: Sequence[Any]) -> list[Fetched]:
        if not items:
            return []
        limit = self.settings.max_message_bytes
        small = [i for i in items if (i.size or 0) <= limit]
        big = [i for i in items if (i.size or 0) > limit]
        messages: list[Fetched] = []
        unreadable: list[tuple[Any, BaseException]] = []
        results = account.fetch([(i.id, i.changekey) for i in small], folder=self._source,
                                only_fields=["mime_content"])
        for asked, got in zip(small, results, strict=True):
            if isinstance(got, ErrorItemNotFound):
                continue  # moved or deleted by someone meanwhile
            if isinstance(got, Exception):
                if _server_side(got):
                    raise got
                unreadable.append((asked, got))  # this item's trouble, not the server's
                continue
            raw = got.mime_content
            if isinstance(raw, str):
                raw = raw.encode("utf-8")
            if not raw:
                unreadable.append((asked, ValueError("no MIME content")))
                continue
            if isinstance(got, MeetingResponse | MeetingRequest | MeetingCancellation |
                          MeetingMessage):
                # A meeting message for the shared mailbox: the answer is read from the
                # calendar item; the message itself is recorded, never answered.
                note = f"{MEETING_ITEM_HEADER}: {type(got).__name__}\r\n".encode("ascii")
                raw = note + raw
                if self.native is not None:
                    self.native.answers_changed = True
            messages.append(Fetched(_ref(got.id, got.changekey), raw))
        if big:
            results = account.fetch(
                [(i.id, i.changekey) for i in big], folder=self._source,
                only_fields=["subject", "author", "message_id", "datetime_sent", "size"])
            for asked, got in zip(big, results, strict=True):
                if isinstance(got, ErrorItemNotFound):
                    continue
                if isinstance(got, Exception):
                    if _server_side(got):
                        raise got
                    unreadable.append((asked, got))
                    continue
                messages.append(Fetched(_ref(got.id, got.changekey, oversize=True),
                                        _oversize_headers(got, limit)))
        if unreadable:
            self._set_aside(account, unreadable)
        return messages

    def _set_aside(self, account: Account, unreadable: list[tuple[Any, BaseException]]
                   ) -> None:
        """Items Exchange cannot hand over (ErrorMimeContentConversionFailed, a corrupt
        item): kept whole in the failed folder, where people can open them, so that one
        bad item does not hold up the mail behind it."""
        for item, error in unreadable:
            log.error("ews: item %s cannot be read (%s); moved to %s", item.id,
                      _say(error), self.settings.failed_folder)
        for result in account.bulk_move([(i.id, i.changekey) for i, _ in unreadable],
                                        to_folder=self._failed_folder):
            if isinstance(result, Exception) and not isinstance(result, ErrorItemNotFound):
                log.error("ews: could not move an unreadable item aside: %s", _say(result))

    def ack(self, refs: Sequence[str]) -> None:
        try:
            account = self._ensure()
            self._move(account, refs)
        except (EWSError, *_UNAVAILABLE) as exc:
            # Journaled, and listed as pending in the stored cursor: moved on reconnect.
            raise self._lost(exc) from exc

    def _move(self, account: Account, refs: Sequence[str]) -> None:
        parsed = [json.loads(r) for r in refs]
        normal = [(p[0], p[1]) for p in parsed if len(p) == 2]
        oversize = [(p[0], p[1]) for p in parsed if len(p) == 3]
        for ids, folder in ((normal, self._processed), (oversize, self._oversize)):
            if not ids:
                continue
            for moved, result in zip(ids, account.bulk_move(ids, to_folder=folder),
                                     strict=False):
                if isinstance(result, ErrorItemNotFound):
                    continue  # moved already (a retried move), or deleted by someone
                if isinstance(result, Exception):
                    if _server_side(result):
                        raise result
                    # Journaled already; only its move failed: it stays where it is.
                    log.error("ews: item %s could not be moved (%s); it stays in %s",
                              moved[0], _say(result), self.settings.folder)

    def _move_pending(self, account: Account, pending: Sequence[str]) -> None:
        self._move(account, pending)
        log.info("ews: moved %d journaled item(s) whose move was interrupted", len(pending))

    # -- sending -----------------------------------------------------------------------------

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SendReceipt:
        """Send the MIME as it is: saved as a draft (so the Message-ID Exchange gives it
        can be read), then sent with a copy in Sent Items. Exchange sends to the
        recipients in the MIME headers; Bcc does not occur in what collabd sends.

        As with every backend, a crash after Exchange took the message and before the
        outbox recorded it sends it again after the restart, with the same Message-ID."""
        draft: Message | None = None
        try:
            account = self._ensure()
            draft = Message(account=account, folder=account.drafts, mime_content=raw)
            draft.save()
            kept = next(iter(account.fetch([(draft.id, draft.changekey)],
                                           only_fields=["message_id"])))
            if isinstance(kept, Exception):
                raise kept
            draft.changekey = kept.changekey
            draft.send(save_copy=True, copy_to_folder=account.sent)
            draft = None
        except MailboxUnavailable as exc:
            raise SendError(str(exc), unreachable=True) from exc
        except (EWSError, *_UNAVAILABLE) as exc:
            if _server_side(exc):
                self._lost(exc)
                raise SendError(f"EWS: {_say(exc)}", unreachable=True) from exc
            # A recipient or a size Exchange refuses: this message's trouble.
            raise SendError(f"EWS refused the message: {_say(exc)}",
                            permanent=_permanent(exc)) from exc
        finally:
            if draft is not None and draft.id:
                # Not sent: the next try makes a new draft; this one goes.
                with contextlib.suppress(Exception):
                    draft.delete()
        return SendReceipt(server_message_id=kept.message_id or None)

    # -- check -------------------------------------------------------------------------------

    def check(self) -> list[tuple[bool, str]]:
        try:
            account = self._connect()
        except MailboxUnavailable as exc:
            return [(False, str(exc))]
        lines: list[tuple[bool, str]] = [
            (True, f"EWS {account.protocol.service_endpoint}: logged in as "
                   f"{self.settings.username or self.address} ({self.settings.access} "
                   f"access to {self.address})"),
            (True, f"Exchange version {account.version.build}"),
        ]
        try:
            assert self._source is not None
            lines.append((True, f"{self.settings.folder}: {self._source.total_count} item(s)"))
            lines.append((True, f"processed folder {self.settings.processed_folder}, "
                                f"oversize folder {self.settings.oversize_folder}"))
            if self.calendar is not None:
                lines.append((True, "calendar: " + (account.calendar.name or "Calendar")))
        except (EWSError, *_UNAVAILABLE) as exc:
            lines.append((False, f"EWS: {_say(exc)}"))
        return lines


class EwsCalendar:
    """NativeCalendar on Exchange: CalendarItems in the shared mailbox's calendar."""

    def __init__(self, mailbox: EwsMailbox) -> None:
        self.mailbox = mailbox
        self.poll_seconds = mailbox.settings.response_poll_seconds
        self.answers_changed = False  # a meeting message came in: read answers soon

    def _account(self) -> Account:
        try:
            return self.mailbox._ensure()
        except MailboxUnavailable as exc:
            raise SendError(str(exc), unreachable=True) from exc

    def _find(self, account: Account, uid: str) -> CalendarItem | None:
        found = list(account.calendar.filter(collabd_uid=uid).only(
            "id", "changekey", "start", "end", "location", "subject", "required_attendees",
            "optional_attendees", "collabd_uid", "collabd_sequence"))
        return found[0] if found else None

    def save_meeting(self, meeting: NativeMeeting, *, notify: Sequence[str]) -> str:
        """Create the meeting, or update the one with its UID; Exchange sends the
        invitations (to everyone when the time or place changed, else to those added).
        An invite older than what the item already has (a retried one, overtaken by a
        newer) changes nothing."""
        try:
            account = self._account()
            item = self._find(account, meeting.uid)
            if item is not None and (item.collabd_sequence or 0) > meeting.sequence:
                log.info("ews: meeting %s is at sequence %s already; the older invite "
                         "(%d) is not applied", meeting.uid, item.collabd_sequence,
                         meeting.sequence)
                return str(item.id)
            known = {} if item is None else {
                (a.mailbox.email_address or "").lower(): a
                for a in [*(item.required_attendees or []), *(item.optional_attendees or [])]}
            # Attendees already on the item are kept as Exchange has them (their answers
            # and its tracking); new ones are added.
            required = [known.get(a.address.lower()) or _attendee(a.address, a.name)
                        for a in meeting.attendees if a.required]
            optional = [known.get(a.address.lower()) or _attendee(a.address, a.name)
                        for a in meeting.attendees if not a.required]
            start = EWSDateTime.from_datetime(meeting.start)
            end = EWSDateTime.from_datetime(meeting.end)
            subject, location = meeting.subject[:255], meeting.location[:255]
            if item is None:
                item = CalendarItem(
                    account=account, folder=account.calendar, subject=subject,
                    start=start, end=end, location=location,
                    body=HTMLBody(meeting.body_html), required_attendees=required,
                    optional_attendees=optional or None, uid=meeting.uid,
                    collabd_uid=meeting.uid, collabd_sequence=meeting.sequence,
                    legacy_free_busy_status="Busy", reminder_is_set=True,
                    reminder_minutes_before_start=15)
                item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
                return str(item.id)
            moved = (item.start != start or item.end != end
                     or (item.location or "") != location)
            item.subject, item.start, item.end = subject, start, end
            item.location, item.body = location, HTMLBody(meeting.body_html)
            item.required_attendees, item.optional_attendees = required, optional or None
            item.collabd_sequence = meeting.sequence
            item.save(update_fields=["subject", "start", "end", "location", "body",
                                     "required_attendees", "optional_attendees",
                                     "collabd_sequence"],
                      send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY if moved
                      else SEND_TO_CHANGED_AND_SAVE_COPY)
            return str(item.id)
        except SendError:
            raise
        except Exception as exc:  # whatever it is, the outbox must go on
            raise self._error(exc) from exc

    def accepts(self, meeting: NativeMeeting) -> bool:
        """Single meetings only (a series would be kept as its first occurrence)."""
        return meeting.rrule is None and meeting.recurrence_id is None

    def cancel_meeting(self, uid: str, *, reason: str,
                       occurrence: dt.datetime | None = None,
                       now_at: dt.datetime | None = None) -> None:
        try:
            account = self._account()
            item = self._find(account, uid)
            if item is None:
                log.warning("ews: no calendar item with UID %s to cancel", uid)
                return
            item.cancel(new_body=HTMLBody(reason))
        except SendError:
            raise
        except Exception as exc:  # whatever it is, the outbox must go on
            raise self._error(exc) from exc

    def _error(self, exc: Exception) -> SendError:
        if _server_side(exc):
            self.mailbox._lost(exc)
            return SendError(f"EWS: {_say(exc)}", unreachable=True)
        if not isinstance(exc, EWSError):
            # exchangelib's own checks (a value it will not send): not going to change.
            log.error("ews: the meeting could not be written: %s", _say(exc))
            return SendError(f"the meeting could not be written: {_say(exc)}",
                             permanent=True)
        return SendError(f"EWS refused the meeting: {_say(exc)}", permanent=_permanent(exc))

    def _failed_read(self, exc: Exception) -> MailboxUnavailable:
        """A read for the calendar failed: the backend pauses only for server trouble."""
        if _server_side(exc):
            return self.mailbox._lost(exc)
        return MailboxUnavailable(f"EWS: {_say(exc)}")

    def responses(self, uids: Sequence[str]) -> dict[str, dict[str, NativeAnswer]]:
        """UID → attendee address → (PARTSTAT, when answered), for those who answered."""
        if not uids:
            return {}
        account = self.mailbox._ensure()
        self.answers_changed = False
        try:
            items = list(account.calendar.filter(collabd_uid__in=list(uids)).only(
                "collabd_uid", "required_attendees", "optional_attendees"))
        except (EWSError, *_UNAVAILABLE) as exc:
            raise self._failed_read(exc) from exc
        answers: dict[str, dict[str, NativeAnswer]] = {}
        for item in items:
            for attendee in [*(item.required_attendees or []), *(item.optional_attendees or [])]:
                partstat = PARTSTAT.get(attendee.response_type or "")
                address = (attendee.mailbox.email_address or "").lower()
                if partstat and address:
                    when = attendee.last_response_time
                    answers.setdefault(item.collabd_uid, {})[address] = NativeAnswer(
                        partstat, _plain(when) if when is not None else None)
        return answers

    def busy(self, addresses: Sequence[str], start: dt.datetime,
             end: dt.datetime) -> dict[str, list[tuple[dt.datetime, dt.datetime]]]:
        """Each address's busy, tentative and out-of-office intervals (GetUserAvailability)."""
        account = self.mailbox._ensure()
        tz = self.mailbox.tz
        try:
            views = list(account.protocol.get_free_busy_info(
                accounts=[(a, "Required", False) for a in addresses],
                start=EWSDateTime.from_datetime(start).astimezone(tz),
                end=EWSDateTime.from_datetime(end).astimezone(tz), requested_view="Detailed"))
        except (EWSError, *_UNAVAILABLE) as exc:
            raise self._failed_read(exc) from exc
        result: dict[str, list[tuple[dt.datetime, dt.datetime]]] = {}
        for address, view in zip(addresses, views, strict=False):
            if isinstance(view, Exception):
                log.info("ews: no free/busy for %s: %s", address, _say(view))
                continue
            result[address] = [
                (_plain(e.start), _plain(e.end)) for e in (view.calendar_events or [])
                if e.busy_type in ("Busy", "Tentative", "OOF")]
        return result


# -- small helpers -----------------------------------------------------------------------------

def _ref(item_id: str, changekey: str | None, oversize: bool = False) -> str:
    return json.dumps([item_id, changekey] + (["oversize"] if oversize else []))


def _load(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _attendee(address: str, name: str) -> Attendee:
    # An Attendee object, not a bare address: exchangelib would mark a bare address as
    # having accepted already.
    return Attendee(mailbox=EwsAddress(email_address=address, name=name or None),
                    response_type="Unknown")


def _plain(value: Any) -> dt.datetime:
    return dt.datetime.fromisoformat(value.isoformat())


def _say(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _permanent(exc: BaseException) -> bool:
    """Exchange's refusals that another try will not change."""
    return type(exc).__name__ in {
        "ErrorInvalidRecipients", "ErrorMessageSizeExceeded", "ErrorInvalidSmtpAddress",
        "ErrorMimeContentConversionFailed", "ErrorInvalidRequest", "ErrorItemSave"}


def _oversize_headers(item: Any, limit: int) -> bytes:
    """What stands for a message too large to download: enough headers to answer it."""
    author = item.author
    sender = email.utils.formataddr(
        (str(Header(author.name or "", "utf-8")) if author and author.name else "",
         author.email_address if author else ""))
    lines = [f"{OVERSIZE_HEADER}: {int(item.size or 0)} {limit}",
             f"From: {sender}",
             f"Subject: {Header(item.subject or '', 'utf-8').encode()}",
             f"Message-ID: {item.message_id or _fallback_id(item.id)}"]
    if item.datetime_sent:
        lines.append(f"Date: {email.utils.format_datetime(_plain(item.datetime_sent))}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii", "replace")


def _fallback_id(item_id: str) -> str:
    return f"<ews-{hashlib.sha1(item_id.encode()).hexdigest()[:20]}@collabd.invalid>"

