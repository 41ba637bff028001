"""The `graph` backend: the shared mailbox on Exchange Online through Microsoft Graph.

Exchange Online blocks EWS by default since October 2026 and retires it in April 2027;
`ews` stays for Exchange Server on premises. collabd signs in as an application (client
credentials: a secret or a certificate, through MSAL), limited by an application access
policy to the shared mailbox (README: the admin steps and permissions).

New mail is read by delta query on the inbox, one page per fetch: the page's nextLink
or deltaLink is the cursor, stored by the daemon only after the page is journaled (a
delta token Exchange no longer knows — 410 — starts the folder afresh: what was
processed was moved out, anything left is known by its Message-ID). Each message's raw
MIME (`/$value`) goes through the same pipeline as every other backend's; processed
messages are moved to a folder (created). Messages are sent from the raw MIME the outbox
holds — created as a draft from MIME (so the Message-ID Exchange keeps can be read) and
then sent — so headers and threading are those of every other backend.

Meetings are native, as with `ews`: an invite the workflow wrote as iMIP becomes an
event in the shared mailbox's calendar (found again by collabd's UID, kept in an
extended property), created, updated or cancelled through Graph, which sends the
invitations; the attendees' answers are read from the event's attendees, free/busy
comes from getSchedule. With `native_calendar: false` invites go out as iMIP mail.

Throttling: 429/503 with Retry-After is waited out inside a call up to
`graph.max_wait_seconds`; a longer wait pauses the backend (the loop goes on). 401 is
not retried: the application's credentials or permissions are wrong, and the message
says which step of the admin set-up to look at.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

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

if TYPE_CHECKING:
    from collabd.config import GraphServer

log = logging.getLogger("collabd.graph")
RETRY_MAX_SECONDS = 300.0
# `sync: received`: how far back each listing looks before the newest message taken,
# and how many taken ids are remembered to skip within it.
LOOK_BACK = dt.timedelta(minutes=30)
SEEN_MAX = 2000
CLOUDS = {  # authority host, Graph endpoint
    "global": ("https://login.microsoftonline.com", "https://graph.microsoft.com"),
    "china": ("https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
}
SETUP_HINT = ("check the application's credentials (graph.client_secret or certificate), "
              "its application permissions Mail.ReadWrite and Mail.Send with admin consent, "
              "and the application access policy that lets it reach this mailbox "
              "(README: Exchange Online through Microsoft Graph)")


class OccurrenceNotFound(LookupError):
    """The series, or the occurrence an invite is about, is not in the calendar (moved
    far, or the series went out as iMIP): the outbox sends the invite as iMIP instead."""


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code


class Throttled(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"throttled for {seconds:.0f} s")
        self.seconds = seconds


def _error(response: requests.Response) -> GraphError:
    try:
        body = response.json().get("error") or {}
    except ValueError:
        body = {}
    return GraphError(response.status_code, str(body.get("code") or response.reason),
                      str(body.get("message") or response.text[:200]))


def send_error(exc: Exception, mailbox: GraphMailbox, what: str) -> SendError:
    """A failed write (a message, a meeting) as the outbox needs it: the server in
    trouble pauses sending and counts no attempt; a refusal of this one is permanent
    where Graph says the content is wrong."""
    if isinstance(exc, Throttled):
        mailbox._throttled(exc)
        return SendError(f"Graph: throttled for {exc.seconds:.0f} s", unreachable=True)
    if isinstance(exc, MailboxUnavailable):
        return SendError(str(exc), unreachable=True)
    if isinstance(exc, GraphError) and exc.status >= 500:
        mailbox._lost(exc)
        return SendError(f"Graph: {exc}", unreachable=True)
    return SendError(f"Graph refused the {what}: {exc}",
                     permanent=isinstance(exc, GraphError) and exc.status in (400, 413))


class GraphClient:
    """HTTP to Graph as the application: a token from MSAL (cached, renewed before it
    expires), throttling waited out within a budget, errors as GraphError."""

    def __init__(self, settings: GraphServer, *, secret: Callable[[], str | None] | None,
                 base_dir: Path, session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.authority_host, self.endpoint = CLOUDS[settings.cloud]
        self.base_dir = base_dir
        self.session = session or requests.Session()
        if settings.ca_file is not None:
            ca = settings.ca_file if settings.ca_file.is_absolute() else base_dir / settings.ca_file
            self.session.verify = str(ca)
        elif not settings.verify:
            self.session.verify = False
        self._secret = secret
        self._sleep = sleep
        self._app: Any = None
        self._lock = threading.Lock()
        self._waited = 0.0  # throttling waited out in the current operation

    def begin(self) -> None:
        """A new operation (a fetch, an ack, a send): its own throttling budget. One
        budget per operation, not per call: a page of a hundred downloads must not wait
        a hundred times (the watchdog gives the loop 120 s)."""
        self._waited = 0.0

    def _credential(self) -> Any:
        s = self.settings
        if s.certificate_file is not None:
            path = s.certificate_file if s.certificate_file.is_absolute() \
                else self.base_dir / s.certificate_file
            try:
                key = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise MailboxUnavailable(f"Graph: cannot read graph.certificate_file {path}: "
                                         f"{exc.strerror}") from exc
            return {"private_key": key, "thumbprint": s.certificate_thumbprint}
        value = self._secret() if self._secret is not None else None
        if not value:
            raise MailboxUnavailable("Graph: no client secret (graph.client_secret)")
        return value

    def token(self) -> str:
        import msal

        with self._lock:
            try:
                if self._app is None:
                    # (it asks the sign-in service for the tenant's endpoints at once)
                    self._app = msal.ConfidentialClientApplication(
                        self.settings.client_id, client_credential=self._credential(),
                        authority=f"{self.authority_host}/{self.settings.tenant_id}",
                        http_client=self.session, timeout=self.settings.timeout_seconds)
                result = self._app.acquire_token_for_client(
                    scopes=[f"{self.endpoint}/.default"])
            except MailboxUnavailable:
                raise
            except Exception as exc:  # network, a tenant that does not exist, a bad key
                raise MailboxUnavailable(f"Graph: sign-in at {self.authority_host} for "
                                         f"tenant {self.settings.tenant_id} failed: "
                                         f"{type(exc).__name__}: {exc}") from exc
        if "access_token" not in result:
            raise MailboxUnavailable(
                f"Graph: sign-in refused for application {self.settings.client_id}: "
                f"{result.get('error')}: {result.get('error_description', '')[:300]} "
                f"— {SETUP_HINT}")
        return str(result["access_token"])

    def url(self, path: str) -> str:
        return path if path.startswith("https://") else f"{self.endpoint}/v1.0{path}"

    def request(self, method: str, path: str, *, ok: Sequence[int] = (200,),
                **kwargs: Any) -> requests.Response:
        """One call; 429/503/504 waited out within the operation's budget; an answer
        outside `ok` raises GraphError (401/403: MailboxUnavailable, not retried)."""
        for attempt in range(8):
            headers = {"Authorization": f"Bearer {self.token()}",
                       **kwargs.pop("headers", {})}
            try:
                response = self.session.request(method, self.url(path), headers=headers,
                                                timeout=self.settings.timeout_seconds,
                                                **kwargs)
            except requests.RequestException as exc:
                raise MailboxUnavailable(f"Graph: {exc}") from exc
            kwargs["headers"] = {k: v for k, v in headers.items() if k != "Authorization"}
            if response.status_code in (429, 503, 504):
                try:
                    wait = float(response.headers.get("Retry-After", ""))
                except ValueError:
                    wait = min(2.0 ** attempt, 30.0)
                if self._waited + wait > self.settings.max_wait_seconds:
                    raise Throttled(wait)
                log.info("graph: %s %s throttled (%d); waiting %.0f s", method, path,
                         response.status_code, wait)
                self._sleep(wait)
                self._waited += wait
                continue
            if response.status_code in (401, 403):
                # Credentials, consent or the access policy: not retried.
                raise MailboxUnavailable(f"Graph: {method} {path}: {_error(response)} — "
                                         f"{SETUP_HINT}")
            if response.status_code not in ok:
                raise _error(response)
            return response
        raise Throttled(30.0)

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call whose answer is JSON; an answer that is not is the server's trouble."""
        response = self.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError as exc:
            raise MailboxUnavailable(f"Graph: {method} {path}: the answer is not JSON "
                                     f"({response.status_code}, {response.text[:100]!r})"
                                     ) from exc


class GraphMailbox(Mailbox):
    kind = "graph"

    def __init__(self, settings: GraphServer, *, address: str,
                 secret: Callable[[], str | None] | None, base_dir: Path,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.address = settings.mailbox or address
        self.client = GraphClient(settings, secret=secret, base_dir=base_dir,
                                  session=session, sleep=sleep)
        self.user = f"/users/{urllib.parse.quote(self.address)}"
        self.pause = RetryPause(RETRY_MAX_SECONDS)
        self._folders: dict[str, str] = {}
        self._cleaned_up = False
        # delta query, where the cloud offers it for messages (not 21Vianet's)
        self.sync = settings.sync if settings.sync != "auto" else (
            "received" if settings.cloud == "china" else "delta")
        self.native = GraphCalendar(self) if settings.native_calendar else None
        self.calendar = self.native

    def describe(self) -> str:
        s = self.settings
        return (f"graph {self.address} (tenant {s.tenant_id}, app {s.client_id}, "
                f"{s.cloud}) folder {s.folder}")

    # -- folders ---------------------------------------------------------------------

    def _folder(self, path: str, *, create: bool) -> str:
        """The id of "inbox" or of a folder path below it ("inbox/协作", or
        "collabd/processed", which is taken below the inbox), created where asked."""
        if path in self._folders:
            return self._folders[path]
        parts = [p for p in path.split("/") if p]
        if parts and parts[0].lower() == "inbox":
            parts = parts[1:]
        folder = str(self.client.json("GET", f"{self.user}/mailFolders/inbox")["id"])
        for part in parts:
            quoted = part.replace("'", "''")
            found = self.client.json(
                "GET", f"{self.user}/mailFolders/{folder}/childFolders",
                params={"$filter": f"displayName eq '{quoted}'", "$select": "id"})
            if found.get("value"):
                folder = str(found["value"][0]["id"])
            elif create:
                folder = str(self.client.json(
                    "POST", f"{self.user}/mailFolders/{folder}/childFolders",
                    json={"displayName": part}, ok=(200, 201))["id"])
                log.info("graph: created folder %s", path)
            else:
                raise MailboxUnavailable(f"Graph: folder {path} not found in {self.address}")
        self._folders[path] = folder
        return folder

    def _ensure(self) -> None:
        """The folders' ids (found once per connection). Raises GraphError, Throttled,
        MailboxUnavailable: the caller pauses the backend."""
        s = self.settings
        self._folder(s.folder, create=False)
        for path in (s.processed_folder, s.oversize_folder, s.failed_folder):
            self._folder(path, create=True)

    def _lost(self, exc: BaseException) -> MailboxUnavailable:
        self._folders.clear()
        self._cleaned_up = False
        self.pause.failed(exc)
        return exc if isinstance(exc, MailboxUnavailable) else MailboxUnavailable(
            f"Graph {self.describe()}: {exc}")

    def _throttled(self, exc: Throttled) -> MailboxUnavailable:
        self._cleaned_up = False  # (the pending moves are tried again after the pause)
        self.pause.failed(exc, at_least=exc.seconds)
        log.warning("graph: throttled by Exchange Online; pausing %.0f s", exc.seconds)
        return MailboxUnavailable(f"Graph: throttled, retry after {exc.seconds:.0f} s")

    def start(self) -> None:
        try:
            self._ensure()
        except Throttled as exc:
            raise self._throttled(exc) from exc
        except (GraphError, MailboxUnavailable) as exc:
            raise self._lost(exc) from exc

    def stop(self) -> None:
        self._folders.clear()

    def wait(self, poll: float, until_next: float, stop: threading.Event) -> None:
        # Each delta call counts against the mailbox's Graph budget: not every 2 s.
        stop.wait(min(max(poll, self.settings.poll_seconds), until_next))

    # -- receiving ---------------------------------------------------------------------

    def fetch(self, cursor: str | None, limit: int = 100) -> FetchBatch:
        state = _load(cursor)
        self.pause.check()  # (paused: refused at once, the pause left as it is)
        self.client.begin()
        try:
            self._ensure()
            if not self._cleaned_up and state.get("pending"):
                self._move(state["pending"])
                log.info("graph: moved %d journaled message(s) whose move was interrupted",
                         len(state["pending"]))
            self._cleaned_up = True
            if self.sync == "delta":
                batch = self._delta_page(state, limit)
            else:
                batch = self._received_page(state, limit)
        except Throttled as exc:
            raise self._throttled(exc) from exc
        except (GraphError, MailboxUnavailable) as exc:
            raise self._lost(exc) from exc
        self.pause.worked()
        return batch

    def _delta_page(self, state: dict[str, Any], limit: int) -> FetchBatch:
        link = state.get("link")
        if not link:
            source = self._folder(self.settings.folder, create=False)
            link = (f"{self.user}/mailFolders/{source}/messages/delta?"
                    + urllib.parse.urlencode({"$select": "id,internetMessageId,subject,"
                                                         "receivedDateTime"}, safe="$,"))
        try:
            page = self.client.json(
                "GET", link, headers={"Prefer": f"odata.maxpagesize={min(limit, 100)}"}
            )
        except GraphError as exc:
            if exc.status == 410 or exc.code.lower() in ("syncstatenotfound",
                                                         "syncstateinvalid", "resyncrequired"):
                log.warning("graph: the delta token of %s is no longer valid; reading the "
                            "folder from the start (processed mail is recognised)",
                            self.settings.folder)
                return FetchBatch([], json.dumps({"link": None}), True)
            raise
        items = [i for i in page.get("value", []) if "@removed" not in i and i.get("id")]
        messages = self._download_all(items)
        following = page.get("@odata.nextLink") or page.get("@odata.deltaLink")
        more = "@odata.nextLink" in page
        return FetchBatch(messages, json.dumps({"link": following,
                                                "pending": [m.ref for m in messages]}), more)

    def _received_page(self, state: dict[str, Any], limit: int) -> FetchBatch:
        """Without delta query (21Vianet's cloud does not offer it): the messages received
        at or after the cursor's moment, oldest first; those at exactly that moment taken
        already are skipped."""
        source = self._folder(self.settings.folder, create=False)
        after = state.get("after")
        seen = set(state.get("seen", ()))
        params: dict[str, Any] = {"$select": "id,internetMessageId,subject,receivedDateTime",
                                  "$orderby": "receivedDateTime asc",
                                  "$top": min(limit + len(seen), 1000)}
        if after:
            # A look-back: a message can reach the folder after one received later than
            # it (delivery order is not receipt order); what was taken is in `seen`.
            since = dt.datetime.fromisoformat(after.replace("Z", "+00:00")) - LOOK_BACK
            params["$filter"] = ("receivedDateTime ge "
                                 + since.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        items: list[dict[str, Any]] = []
        link: str | None = f"{self.user}/mailFolders/{source}/messages"
        while link and len(items) < limit:  # (past what was taken, page by page)
            page = self.client.json("GET", link, params=params)
            items += [i for i in page.get("value", []) if i.get("id") not in seen]
            link, params = page.get("@odata.nextLink"), {}
        items = items[:limit]
        messages = self._download_all(items)
        if not items:
            return FetchBatch([], json.dumps({**state, "pending": []}), False)
        newest = max([str(i.get("receivedDateTime", "")) for i in items]
                     + ([after] if after else []))
        # Remembered: everything taken within the look-back of the newest (bounded)
        taken = [*seen, *(str(i["id"]) for i in items)]
        return FetchBatch(messages, json.dumps({"after": newest, "seen": taken[-SEEN_MAX:],
                                                "pending": [m.ref for m in messages]}),
                          len(items) == limit)

    def _download_all(self, items: Sequence[dict[str, Any]]) -> list[Fetched]:
        """Each item's MIME. An item Exchange will not hand over for its own reasons (a
        4xx, no MIME at all) is moved to the failed folder, where people can open it, so
        that one bad item does not hold up the mail behind it; the server in trouble
        (5xx, throttling, the network) stops the page, to be read again."""
        messages = []
        for item in items:
            try:
                fetched = self._download(item)
            except GraphError as exc:
                if exc.status == 404:
                    continue  # moved or deleted by someone meanwhile
                if exc.status >= 500:
                    raise
                self._set_aside(item, str(exc))
                continue
            if fetched is None:
                self._set_aside(item, "no MIME content")
                continue
            messages.append(fetched)
        return messages

    def _set_aside(self, item: dict[str, Any], why: str) -> None:
        log.error("graph: message %s cannot be read (%s); moved to %s", item["id"], why,
                  self.settings.failed_folder)
        target = self._folder(self.settings.failed_folder, create=True)
        try:
            self.client.request("POST", f"{self.user}/messages/{item['id']}/move",
                                json={"destinationId": target}, ok=(200, 201))
        except GraphError as exc:
            if exc.status >= 500:
                raise
            log.error("graph: could not move message %s aside: %s", item["id"], exc)

    def _download(self, item: dict[str, Any]) -> Fetched | None:
        """The raw MIME, read no further than the size limit: a larger message is kept on
        the server (moved to the oversize folder) and only its headers go on. A meeting
        message (an attendee's answer, as Exchange files it) is marked: its answer is read
        from the calendar."""
        limit = self.settings.max_message_bytes
        response = self.client.request("GET", f"{self.user}/messages/{item['id']}/$value",
                                       stream=True)
        try:
            with response:
                chunks, size = [], 0
                for chunk in response.iter_content(64 * 1024):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        break
        except requests.RequestException as exc:
            raise MailboxUnavailable(f"Graph: reading message {item['id']}: {exc}") from exc
        if size > limit:
            return Fetched(_ref(item["id"], oversize=True), self._oversize_headers(item, limit))
        raw = b"".join(chunks)
        if not raw:
            return None
        if "eventmessage" in str(item.get("@odata.type", "")).lower():
            raw = f"{MEETING_ITEM_HEADER}: {item['@odata.type']}\r\n".encode("ascii") + raw
            if self.native is not None:
                self.native.answers_changed = True
        return Fetched(_ref(item["id"]), raw)

    def _oversize_headers(self, item: dict[str, Any], limit: int) -> bytes:
        details = self.client.json(
            "GET", f"{self.user}/messages/{item['id']}",
            params={"$select": "subject,from,internetMessageId,sentDateTime"})
        sender = (details.get("from") or {}).get("emailAddress") or {}
        msg = EmailMessage()
        msg["From"] = email.utils.formataddr((sender.get("name") or "",
                                              sender.get("address") or ""))
        msg["Subject"] = details.get("subject") or ""
        if details.get("internetMessageId"):
            msg["Message-ID"] = details["internetMessageId"]
        body = msg.as_bytes()
        return f"{OVERSIZE_HEADER}: {limit + 1} {limit}\r\n".encode("ascii") + body

    def ack(self, refs: Sequence[str]) -> None:
        self.pause.check()
        self.client.begin()
        try:
            self._ensure()
            self._move(refs)
        except Throttled as exc:
            raise self._throttled(exc) from exc
        except (GraphError, MailboxUnavailable) as exc:
            # Journaled, and listed as pending in the stored cursor: moved on reconnect.
            raise self._lost(exc) from exc

    def _move(self, refs: Sequence[str]) -> None:
        for ref in refs:
            item, oversize = _parse_ref(ref)
            target = self._folder(self.settings.oversize_folder if oversize
                                  else self.settings.processed_folder, create=True)
            try:
                self.client.request("POST", f"{self.user}/messages/{item}/move",
                                    json={"destinationId": target}, ok=(200, 201))
            except GraphError as exc:
                if exc.status == 404:
                    continue  # moved already (a retried move), or deleted by someone
                if exc.status >= 500:
                    raise
                # Journaled already; only its move failed: it stays where it is.
                log.error("graph: message %s could not be moved (%s); it stays in %s",
                          item, exc, self.settings.folder)

    # -- sending -----------------------------------------------------------------------

    def send(self, raw: bytes, *, sender: str, recipients: Sequence[str]) -> SendReceipt:
        """The MIME as it is, made a draft (Exchange answers with the Message-ID it keeps)
        and sent, with a copy in Sent Items. As with every backend, a crash between the
        send and the outbox's record sends it again after the restart, same Message-ID."""
        draft: str | None = None
        self.client.begin()
        try:
            created = self.client.json(
                "POST", f"{self.user}/messages", data=base64.b64encode(raw),
                headers={"Content-Type": "text/plain"}, ok=(200, 201))
            draft = str(created["id"])
            self.client.request("POST", f"{self.user}/messages/{draft}/send", ok=(202,))
            kept = created.get("internetMessageId")
            draft = None
        except (Throttled, MailboxUnavailable, GraphError) as exc:
            raise send_error(exc, self, "message") from exc
        finally:
            if draft is not None:
                # Not sent: the next try makes a new draft; this one goes.
                try:
                    self.client.request("DELETE", f"{self.user}/messages/{draft}",
                                        ok=(204, 404))
                except Exception:  # (the draft is left behind; logged)
                    log.warning("graph: could not delete unsent draft %s", draft)
        return SendReceipt(server_message_id=str(kept) if kept else None)

    # -- check -------------------------------------------------------------------------

    def check(self) -> list[tuple[bool, str]]:
        try:
            self.client.token()
            inbox = self.client.json("GET", f"{self.user}/mailFolders/inbox")
            self._ensure()
        except (MailboxUnavailable, GraphError, Throttled) as exc:
            return [(False, f"Graph {self.describe()}: {exc}")]
        return [(True, f"Graph: signed in as application {self.settings.client_id}"),
                (True, f"{self.address} inbox: {inbox.get('totalItemCount', '?')} "
                       f"message(s); folders {self.settings.processed_folder}, "
                       f"{self.settings.oversize_folder} ready")]


def _ref(item_id: str, oversize: bool = False) -> str:
    return json.dumps([item_id, "oversize"] if oversize else [item_id])


def _parse_ref(ref: str) -> tuple[str, bool]:
    parsed = json.loads(ref)
    return str(parsed[0]), len(parsed) > 1


def _load(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


# collabd's UID and the invite's SEQUENCE on the event (MAPI named properties in
# collabd's own property set): how an update finds its event again.
PROPERTY_SET = "{6f3cba58-4c7a-4a38-9a0c-8d3c1a2f0e51}"
UID_PROPERTY = f"String {PROPERTY_SET} Name collabdUid"
SEQUENCE_PROPERTY = f"Integer {PROPERTY_SET} Name collabdSequence"
RESPONSES = {"accepted": "ACCEPTED", "declined": "DECLINED",
             "tentativelyAccepted": "TENTATIVE"}
_DAYS = {"MO": "monday", "TU": "tuesday", "WE": "wednesday", "TH": "thursday",
         "FR": "friday", "SA": "saturday", "SU": "sunday"}


def graph_recurrence(rrule: str, start: Any) -> dict[str, Any] | None:
    """An iCalendar RRULE as Graph's patternedRecurrence, from the series' first start
    (its local date); None for a rule Graph cannot say the same way (the invite then
    goes as iMIP): in a zone other than China's +08:00, which the series is written in."""
    if start.utcoffset() != dt.timedelta(hours=8):
        return None
    parts = dict(p.split("=", 1) for p in rrule.upper().split(";") if "=" in p)
    freq, interval = parts.get("FREQ"), int(parts.get("INTERVAL", "1"))
    days = [_DAYS.get(d[-2:]) for d in parts.get("BYDAY", "").split(",") if d]
    if None in days or any(k in parts for k in ("BYHOUR", "BYMINUTE", "BYMONTH", "BYWEEKNO",
                                                 "BYYEARDAY")):
        return None
    pattern: dict[str, Any]
    if freq == "DAILY" and not days:
        pattern = {"type": "daily", "interval": interval}
    elif freq in ("DAILY", "WEEKLY") and (days or freq == "WEEKLY"):
        weekday = days or [_DAYS[("MO", "TU", "WE", "TH", "FR", "SA", "SU")[start.weekday()]]]
        pattern = {"type": "weekly", "interval": interval, "daysOfWeek": weekday,
                   "firstDayOfWeek": "monday"}
    elif freq == "MONTHLY" and "BYMONTHDAY" in parts and "," not in parts["BYMONTHDAY"] \
            and 0 < int(parts["BYMONTHDAY"]) <= 28:  # (Exchange moves a 29-31 into short
        #                                            months, where the rule skips them)
        pattern = {"type": "absoluteMonthly", "interval": interval,
                   "dayOfMonth": int(parts["BYMONTHDAY"])}
    elif freq == "MONTHLY" and days and parts.get("BYSETPOS") == "-1":
        pattern = {"type": "relativeMonthly", "interval": interval, "daysOfWeek": days,
                   "index": "last"}
    else:
        return None
    first = start.date()
    recurrence_range: dict[str, Any] = {"startDate": first.isoformat()}
    if "UNTIL" in parts:
        text = parts["UNTIL"]
        if "T" in text:  # a moment: UTC when it ends in Z, else the series' own time
            zone = dt.UTC if text.endswith("Z") else start.tzinfo
            until = dt.datetime.strptime(text[:15], "%Y%m%dT%H%M%S").replace(tzinfo=zone)
            last = until.astimezone(start.tzinfo).date()
        else:
            last = dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        recurrence_range |= {"type": "endDate", "endDate": last.isoformat()}
    elif "COUNT" in parts:
        recurrence_range |= {"type": "numbered",
                             "numberOfOccurrences": int(parts["COUNT"])}
    else:
        recurrence_range |= {"type": "noEnd"}
    return {"pattern": pattern, "range": recurrence_range}
BUSY = ("busy", "tentative", "oof")


def _graph_time(moment: Any) -> dict[str, str]:
    utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return {"dateTime": utc.isoformat(timespec="seconds"), "timeZone": "UTC"}


def _local_time(moment: Any) -> dict[str, str]:
    """A time in its own zone, for a series (China has one zone and no DST: +08:00 is
    China Standard Time; any other offset is given in UTC)."""
    offset = moment.utcoffset()
    if offset == dt.timedelta(hours=8):
        return {"dateTime": moment.replace(tzinfo=None).isoformat(timespec="seconds"),
                "timeZone": "China Standard Time"}
    return _graph_time(moment)


def _moment(value: dict[str, Any]) -> Any:
    """A Graph dateTimeTimeZone (asked in UTC) as an aware datetime."""
    text = str(value.get("dateTime", ""))[:26]
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


class GraphCalendar:
    """NativeCalendar on Exchange Online: events in the shared mailbox's calendar."""

    def __init__(self, mailbox: GraphMailbox) -> None:
        self.mailbox = mailbox
        self.client = mailbox.client
        self.user = mailbox.user
        self.poll_seconds = mailbox.settings.response_poll_seconds
        self.answers_changed = False

    def accepts(self, meeting: NativeMeeting) -> bool:
        """A single meeting, a series whose rule Graph can say, or one of its
        occurrences."""
        return meeting.rrule is None or graph_recurrence(meeting.rrule, meeting.start) is not None

    def _instances(self, event_id: str, start: Any, end: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        link: str | None = f"{self.user}/events/{event_id}/instances"
        params: dict[str, Any] | None = {
            "startDateTime": start.astimezone(dt.UTC).isoformat(),
            "endDateTime": end.astimezone(dt.UTC).isoformat(),
            "$select": "id,start,end,originalStart,isCancelled"}
        while link:
            page = self.client.json("GET", link, params=params,
                                       headers={"Prefer": 'outlook.timezone="UTC"'})
            found += page.get("value", [])
            link, params = page.get("@odata.nextLink"), None
        return found

    def _occurrence(self, event_id: str, original: Any,
                    now_at: Any = None) -> dict[str, Any] | None:
        """The instance of a series whose original start is `original`: looked for
        around that moment and around where it is now (`now_at`; Graph lists instances by
        their current start, and a holiday move can be a week)."""
        moments = [original] + ([now_at] if now_at is not None else [])
        for moment in moments:
            for instance in self._instances(event_id, moment - dt.timedelta(days=1),
                                            moment + dt.timedelta(days=1)):
                first = instance.get("originalStart") or (instance.get("start") or {}).get(
                    "dateTime")
                if first and _moment({"dateTime": str(first).rstrip("Z")}) == original:
                    return instance
        return None

    def _apply_exceptions(self, event_id: str, meeting: NativeMeeting) -> None:
        """The series' skipped occurrences deleted (Exchange tells the attendees), its
        moved ones moved."""
        for day in meeting.exdates:
            instance = self._occurrence(event_id, day)
            if instance is not None and not instance.get("isCancelled"):
                self.client.request("DELETE", f"{self.user}/events/{instance['id']}",
                                    ok=(204, 404))
        for original, start, end in meeting.moved:
            instance = self._occurrence(event_id, original)
            if instance is not None:
                self.client.request("PATCH", f"{self.user}/events/{instance['id']}",
                                    json={"start": _graph_time(start), "end": _graph_time(end)})

    def _find(self, uid: str) -> dict[str, Any] | None:
        quoted = uid.replace("'", "''")
        found = self.client.json("GET", f"{self.user}/events", params={
            "$filter": f"singleValueExtendedProperties/Any(ep: ep/id eq '{UID_PROPERTY}' "
                       f"and ep/value eq '{quoted}')",
            "$select": "id,subject,start,end,location,attendees,isCancelled",
            "$expand": f"singleValueExtendedProperties($filter=id eq '{SEQUENCE_PROPERTY}' "
                       f"or id eq '{UID_PROPERTY}')",
        }, headers={"Prefer": 'outlook.timezone="UTC"'}).get("value", [])
        return found[0] if found else None

    @staticmethod
    def _property(event: dict[str, Any], property_id: str) -> str | None:
        for prop in event.get("singleValueExtendedProperties") or []:
            if str(prop.get("id", "")).lower() == property_id.lower():
                return str(prop.get("value"))
        return None

    def save_meeting(self, meeting: NativeMeeting, *, notify: Sequence[str]) -> str:
        """Create the event, or update the one with its UID; Exchange sends the
        invitations. An invite older than what the event has changes nothing."""
        try:
            event = self._find(meeting.uid)
            if meeting.recurrence_id is not None:
                # One occurrence of a series moved: its instance, not the series.
                instance = self._occurrence(str(event["id"]), meeting.recurrence_id,
                                            meeting.start) if event is not None else None
                if instance is None:
                    raise OccurrenceNotFound(f"no occurrence {meeting.recurrence_id} of "
                                             f"{meeting.uid} in the calendar")
                self.client.request("PATCH", f"{self.user}/events/{instance['id']}", json={
                    "start": _graph_time(meeting.start), "end": _graph_time(meeting.end)})
                return str(instance["id"])
            if event is not None:
                known = int(self._property(event, SEQUENCE_PROPERTY) or 0)
                if known > meeting.sequence:
                    log.info("graph: meeting %s is at sequence %s already; the older "
                             "invite (%d) is not applied", meeting.uid, known, meeting.sequence)
                    return str(event["id"])
            attendees = [{"emailAddress": {"address": a.address, "name": a.name or a.address},
                          "type": "required" if a.required else "optional"}
                         for a in meeting.attendees]
            fields: dict[str, Any] = {
                "subject": meeting.subject[:255],
                "body": {"contentType": "html", "content": meeting.body_html},
                "start": _graph_time(meeting.start), "end": _graph_time(meeting.end),
                "location": {"displayName": meeting.location[:255]},
                "attendees": attendees,
                "singleValueExtendedProperties": [
                    {"id": UID_PROPERTY, "value": meeting.uid},
                    {"id": SEQUENCE_PROPERTY, "value": str(meeting.sequence)}],
            }
            if meeting.rrule is not None:
                # A series: its rule, in the series' own zone (a weekly 15:00 stays 15:00)
                fields["recurrence"] = graph_recurrence(meeting.rrule, meeting.start)
                fields["start"] = _local_time(meeting.start)
                fields["end"] = _local_time(meeting.end)
            if event is None:
                created = self.client.json("POST", f"{self.user}/events", json={
                    **fields, "showAs": "busy", "isReminderOn": True,
                    "reminderMinutesBeforeStart": 15,
                    "allowNewTimeProposals": True}, ok=(200, 201))
                event_id = str(created["id"])
            else:
                event_id = str(event["id"])
                self.client.request("PATCH", f"{self.user}/events/{event_id}", json=fields)
            if meeting.rrule is not None:
                self._apply_exceptions(event_id, meeting)
            return event_id
        except (Throttled, MailboxUnavailable, GraphError) as exc:
            raise send_error(exc, self.mailbox, "meeting") from exc

    def cancel_meeting(self, uid: str, *, reason: str, occurrence: Any = None,
                       now_at: Any = None) -> None:
        try:
            event = self._find(uid)
            if event is None:
                if occurrence is not None:
                    raise OccurrenceNotFound(f"no series {uid} in the calendar")
                log.warning("graph: no event with UID %s to cancel", uid)
                return
            if occurrence is not None:
                instance = self._occurrence(str(event["id"]), occurrence, now_at)
                if instance is None:
                    raise OccurrenceNotFound(f"no occurrence {occurrence} of {uid} "
                                             "in the calendar")
                if instance.get("isCancelled"):
                    return
                event = instance
            if event.get("isCancelled"):
                return
            self.client.request("POST", f"{self.user}/events/{event['id']}/cancel",
                                json={"comment": reason}, ok=(202,))
        except (Throttled, MailboxUnavailable, GraphError) as exc:
            raise send_error(exc, self.mailbox, "cancellation") from exc

    def responses(self, uids: Sequence[str]) -> dict[str, dict[str, NativeAnswer]]:
        """UID → attendee address → (PARTSTAT, when answered), for those who answered."""
        self.answers_changed = False
        answers: dict[str, dict[str, NativeAnswer]] = {}
        try:
            for uid in uids:
                event = self._find(uid)
                for attendee in (event or {}).get("attendees") or []:
                    status = attendee.get("status") or {}
                    partstat = RESPONSES.get(str(status.get("response", "")))
                    address = str((attendee.get("emailAddress") or {}).get("address", ""))
                    if partstat and address:
                        when = status.get("time")
                        moment = None
                        if when and not str(when).startswith("0001-01-01"):
                            moment = _moment({"dateTime": str(when).rstrip("Z")})
                        answers.setdefault(uid, {})[address.lower()] = NativeAnswer(
                            partstat, moment)
        except Throttled as exc:
            raise self.mailbox._throttled(exc) from exc
        except GraphError as exc:
            raise MailboxUnavailable(f"Graph: {exc}") from exc
        return answers

    def busy(self, addresses: Sequence[str], start: Any,
             end: Any) -> dict[str, list[tuple[Any, Any]]]:
        """Each address's busy, tentative and out-of-office intervals (getSchedule);
        an address Exchange cannot answer for is left out."""
        try:
            answer = self.client.json(
                "POST", f"{self.user}/calendar/getSchedule",
                headers={"Prefer": 'outlook.timezone="UTC"'},
                json={"schedules": list(addresses), "startTime": _graph_time(start),
                      "endTime": _graph_time(end), "availabilityViewInterval": 30})
        except Throttled as exc:
            raise self.mailbox._throttled(exc) from exc
        except GraphError as exc:
            raise MailboxUnavailable(f"Graph: {exc}") from exc
        result: dict[str, list[tuple[Any, Any]]] = {}
        for schedule in answer.get("value", []):
            address = str(schedule.get("scheduleId", ""))
            if schedule.get("error"):
                log.info("graph: no free/busy for %s: %s", address,
                         (schedule["error"] or {}).get("message"))
                continue
            result[address] = [(_moment(i["start"]), _moment(i["end"]))
                               for i in schedule.get("scheduleItems") or []
                               if str(i.get("status", "")).lower() in BUSY]
        return result
