"""A small Exchange for the EWS tests: exchangelib's HTTP answered with real EWS XML.

No Exchange server can run here. exchangelib's requests are intercepted (requests_mock)
and answered from the EWS responses in tests/data/ews/ — Microsoft's documented
samples, a real Office 365 capture and exchangelib's recorded faults (PROVENANCE.md) —
with the envelope and response structure kept as recorded and only the item, folder
and id values filled in from a little mailbox kept here. So exchangelib really builds
every request and really parses every answer; the tests look at both.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import email
import email.policy
import email.utils
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests_mock
from lxml import etree

DATA = Path(__file__).resolve().parent / "data" / "ews"
URL = "https://mail.example.com/EWS/Exchange.asmx"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
# What an Exchange 2016 CU23 says of itself; the samples' Exchange 2007 headers would
# make exchangelib fall back to the 2007 schema.
SERVER_VERSION = {"MajorVersion": "15", "MinorVersion": "1", "MajorBuildNumber": "2507",
                  "MinorBuildNumber": "6", "Version": "V2017_07_11"}


def t(tag: str, text: str | None = None, *children: etree._Element,
      **attrs: str) -> etree._Element:
    element = etree.Element(f"{{{T}}}{tag}", {k: v for k, v in attrs.items()})
    if text is not None:
        element.text = text
    element.extend(children)
    return element


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


@dataclass
class Item:
    id: str
    folder: str
    tag: str = "Message"  # Message, MeetingResponse, CalendarItem, ...
    raw: bytes = b""
    message_id: str | None = None
    received: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    changekey: str = "CK1"
    fields: dict[str, Any] = field(default_factory=dict)  # calendar items: subject, ...

    @property
    def size(self) -> int:
        return len(self.raw) if self.raw else 400


@dataclass
class Folder:
    id: str
    name: str
    parent: str | None
    distinguished: str | None = None
    tag: str = "Folder"


class FakeExchange:
    def __init__(self, url: str = URL, mailbox: str = "collab@example.com") -> None:
        self.url = url
        self.mailbox = mailbox
        self.folders: dict[str, Folder] = {}
        self.items: dict[str, Item] = {}
        self.created: list[str] = []  # item ids in arrival order: what sync replays
        self.sent: list[bytes] = []  # MIME of every message sent
        self.invitations: list[tuple[str, str, list[str]]] = []  # (what, mode, attendees)
        self.busy: dict[str, list[tuple[dt.datetime, dt.datetime, str]]] = {}
        self.requests: list[tuple[str, etree._Element, Any]] = []
        self.expired_states: set[str] = set()
        self.unknown_folders: list[dict[str, str]] = []
        self.broken: dict[str, str] = {}  # item id → the error GetItem answers for it
        self._faults: dict[str, list[tuple[int, bytes]]] = {}
        self._ids = itertools.count(1)
        self._mocker = requests_mock.Mocker()
        for name, distinguished, tag in (
                ("根", "root", "Folder"), ("顶层", "msgfolderroot", "Folder"),
                ("收件箱", "inbox", "Folder"), ("草稿", "drafts", "Folder"),
                ("已发送邮件", "sentitems", "Folder"), ("日历", "calendar", "CalendarFolder")):
            folder_id = f"F-{distinguished}"
            parent = None if distinguished == "root" else "F-root"
            self.folders[folder_id] = Folder(folder_id, name, parent, distinguished, tag)

    # -- as a test uses it ---------------------------------------------------------------

    def __enter__(self) -> FakeExchange:
        self._mocker.__enter__()
        self._mocker.post(self.url, content=self._answer)
        return self

    def __exit__(self, *exc: object) -> None:
        self._mocker.__exit__(*exc)

    def deliver(self, raw: bytes, *, tag: str = "Message", folder: str = "F-inbox",
                message_id: str | None = None, received: dt.datetime | None = None) -> Item:
        """A message arrives in the shared mailbox."""
        item = Item(self._new_id(), folder, tag, raw, message_id=message_id)
        if received is not None:
            item.received = received
        self.items[item.id] = item
        self.created.append(item.id)
        return item

    def fail_next(self, operation: str, template: str, status: int = 500) -> None:
        """The next call of `operation` gets this recorded error answer."""
        self._faults.setdefault(operation, []).append((status, _load(template)))

    def in_folder(self, name: str) -> list[Item]:
        folder = next(f for f in self.folders.values() if f.name == name or f.id == name)
        return [i for i in self.items.values() if i.folder == folder.id]

    def calendar_items(self) -> list[Item]:
        return [i for i in self.items.values() if i.tag == "CalendarItem"]

    def answer(self, uid: str, address: str, response: str,
               at: dt.datetime | None = None) -> None:
        """An attendee answers in their own client; Exchange notes it on the item."""
        item = next(i for i in self.calendar_items() if i.fields.get("collabd-uid") == uid)
        for attendee in item.fields["attendees"]:
            if attendee["address"].lower() == address.lower():
                attendee["response"] = response
                if at is not None:
                    attendee["answered"] = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def ops(self) -> list[str]:
        return [op for op, _, _ in self.requests]

    def calls(self, operation: str) -> list[etree._Element]:
        return [body for op, body, _ in self.requests if op == operation]

    def _new_id(self) -> str:
        return f"AAMkADQ{next(self._ids):04d}="

    # -- the dispatcher --------------------------------------------------------------------

    def _answer(self, request: Any, context: Any) -> bytes:
        envelope = etree.fromstring(request.body if isinstance(request.body, bytes)
                                    else request.body.encode())
        body = envelope.find(f"{{{SOAP}}}Body")
        assert body is not None
        operation = body[0]
        op = _local(operation)
        self.requests.append((op, operation, request))
        context.headers["Content-Type"] = "text/xml; charset=utf-8"
        faults = self._faults.get(op)
        if faults:
            status, content = faults.pop(0)
            context.status_code = status
            return content
        handler: Callable[[etree._Element], etree._Element] = getattr(self, f"_op_{op}")
        return etree.tostring(handler(operation), xml_declaration=True, encoding="utf-8")

    # -- response scaffolding from the recorded answers ------------------------------------

    def _response(self, template: str, fills: list[Callable[[etree._Element], None]]
                  ) -> etree._Element:
        """The recorded answer with one response message per fill: each a copy of the
        recording's first one, changed by `fill`."""
        return self._fill_root(etree.fromstring(_load(template)), fills)

    @staticmethod
    def _replace(message: etree._Element, container: str, children: list[etree._Element]
                 ) -> None:
        if container.startswith("t:"):
            holder = message.find(f".//{{{T}}}{container[2:]}")
        else:
            holder = message.find(f".//{{{M}}}{container}")
        assert holder is not None, container
        for child in list(holder):
            holder.remove(child)
        holder.extend(children)

    def _error(self, template: str, code: str, text: str) -> Callable[[etree._Element], None]:
        def fill(message: etree._Element) -> None:
            message.set("ResponseClass", "Error")
            message.find(f"{{{M}}}ResponseCode").text = code  # type: ignore[union-attr]
            text_element = message.find(f"{{{M}}}MessageText")
            if text_element is None:
                text_element = etree.Element(f"{{{M}}}MessageText")
                message.insert(0, text_element)
            text_element.text = text
            for name in ("MessageXml", "Items", "Folders"):
                part = message.find(f"{{{M}}}{name}")
                if part is not None and name == "MessageXml":
                    message.remove(part)
                elif part is not None:
                    for child in list(part):
                        part.remove(child)
        return fill

    def _item_not_found(self) -> Callable[[etree._Element], None]:
        return self._error("GetItem_message_error_ErrorInvalidPropertyRequest.xml",
                           "ErrorItemNotFound",
                           "The specified object was not found in the store.")

    # -- folders ---------------------------------------------------------------------------

    def _folder_element(self, folder: Folder) -> etree._Element:
        count = len([i for i in self.items.values() if i.folder == folder.id])
        children = [f for f in self.folders.values() if f.parent == folder.id]
        element = t(folder.tag, None,
                    t("FolderId", Id=folder.id, ChangeKey="AQAAAB"),
                    *([t("ParentFolderId", Id=folder.parent, ChangeKey="AQAAAA")]
                      if folder.parent else []),
                    t("FolderClass", "IPF.Appointment" if folder.tag == "CalendarFolder"
                      else "IPF.Note"),
                    t("DisplayName", folder.name),
                    t("TotalCount", str(count)),
                    t("ChildFolderCount", str(len(children))),
                    t("UnreadCount", "0"))
        return element

    def _resolve_folder(self, element: etree._Element) -> Folder | None:
        if _local(element) == "DistinguishedFolderId":
            return next((f for f in self.folders.values()
                         if f.distinguished == element.get("Id")), None)
        return self.folders.get(element.get("Id", ""))

    def _op_GetFolder(self, operation: etree._Element) -> etree._Element:
        ids = operation.find(f"{{{M}}}FolderIds")
        assert ids is not None
        fills = []
        for ref in ids:
            folder = self._resolve_folder(ref)
            if folder is None:
                self.unknown_folders.append(dict(ref.attrib))
                fills.append(self._error("GetFolder_success_inbox.xml", "ErrorFolderNotFound",
                                         "The specified folder could not be found."))
            else:
                fills.append(lambda m, f=folder: self._replace(
                    m, "Folders", [self._folder_element(f)]))
        return self._response("GetFolder_success_inbox.xml", fills)

    def _op_FindFolder(self, operation: etree._Element) -> etree._Element:
        parent_ref = operation.find(f"{{{M}}}ParentFolderIds")
        assert parent_ref is not None
        parent = self._resolve_folder(parent_ref[0])
        wanted = [c.get("Value") for c in operation.iter(f"{{{T}}}Constant")]
        found = [f for f in self.folders.values() if parent and f.parent == parent.id
                 and (not wanted or f.name.lower() in [w.lower() for w in wanted if w])]

        def fill(message: etree._Element) -> None:
            root = message.find(f"{{{M}}}RootFolder")
            assert root is not None
            root.set("TotalItemsInView", str(len(found)))
            root.set("IncludesLastItemInRange", "true")
            self._replace(message, "t:Folders", [self._folder_element(f) for f in found])
        return self._response("FindFolder_success.xml", [fill])

    def _op_CreateFolder(self, operation: etree._Element) -> etree._Element:
        parent_ref = operation.find(f"{{{M}}}ParentFolderId")
        assert parent_ref is not None
        parent = self._resolve_folder(parent_ref[0])
        assert parent is not None
        fills = []
        new_folders = operation.find(f"{{{M}}}Folders")
        for new in new_folders if new_folders is not None else []:
            name = new.findtext(f"{{{T}}}DisplayName") or ""
            folder = Folder(f"F-{len(self.folders)}-{name}", name, parent.id)
            self.folders[folder.id] = folder
            fills.append(lambda m, f=folder: self._replace(
                m, "Folders", [t("Folder", None, t("FolderId", Id=f.id, ChangeKey="AQAAAB"))]))
        return self._response("CreateFolder_success_two_folders.xml", fills)

    # -- receiving -------------------------------------------------------------------------

    def _op_SyncFolderItems(self, operation: etree._Element) -> etree._Element:
        folder_ref = operation.find(f"{{{M}}}SyncFolderId")
        assert folder_ref is not None
        folder = self._resolve_folder(folder_ref[0])
        assert folder is not None
        state = operation.findtext(f"{{{M}}}SyncState")
        limit = int(operation.findtext(f"{{{M}}}MaxChangesReturned") or "512")
        if state in self.expired_states or (state and not state.startswith("H4sI:")):
            return self._response("SyncFolderItems_error_ErrorInvalidSyncStateData.xml",
                                  [lambda m: None])
        position = int(state.split(":")[1]) if state else 0
        later = self.created[position:]
        shown = [i for i in later[:limit] if i in self.items
                 and self.items[i].folder == folder.id]
        new_position = position + len(later[:limit])
        done = new_position >= len(self.created)

        def fill(message: etree._Element) -> None:
            message.find(f"{{{M}}}SyncState").text = f"H4sI:{new_position}"  # type: ignore[union-attr]
            message.find(f"{{{M}}}IncludesLastItemInRange").text = (  # type: ignore[union-attr]
                "true" if done else "false")
            changes = []
            for item_id in shown:
                item = self.items[item_id]
                changes.append(t("Create", None, t(
                    item.tag, None, t("ItemId", Id=item.id, ChangeKey=item.changekey),
                    t("DateTimeReceived", item.received.strftime("%Y-%m-%dT%H:%M:%SZ")),
                    t("Size", str(item.size)))))
            self._replace(message, "Changes", changes)
        return self._response("SyncFolderItems_inbox_initial_5creates_IdOnly.xml", [fill])

    def _op_GetItem(self, operation: etree._Element) -> etree._Element:
        wanted = {e.get("FieldURI") for e in operation.iter(f"{{{T}}}FieldURI")}
        extended = [e for e in operation.iter(f"{{{T}}}ExtendedFieldURI")]
        ids = operation.find(f"{{{M}}}ItemIds")
        assert ids is not None
        fills = []
        for ref in ids:
            item = self.items.get(ref.get("Id", ""))
            if item is None:
                fills.append(self._item_not_found())
                continue
            if item.id in self.broken:
                fills.append(self._error("GetItem_message_error_ErrorInvalidPropertyRequest.xml",
                                         self.broken[item.id],
                                         "Exchange could not convert this item."))
                continue
            element = self._item_element(item, wanted, bool(extended))
            fills.append(lambda m, e=element: self._replace(m, "Items", [e]))
        template = ("GetItem_calendar_with_attendee_responses_ADAPTED.xml"
                    if any(self.items.get(r.get("Id", ""), Item("", "")).tag == "CalendarItem"
                           for r in ids) else "GetItem_message_success_mime_ADAPTED.xml")
        return self._response(template, fills)

    def _item_element(self, item: Item, wanted: set[str | None], extended: bool
                      ) -> etree._Element:
        children = [t("ItemId", Id=item.id, ChangeKey=item.changekey)]
        if "item:MimeContent" in wanted and item.raw:
            children.insert(0, t("MimeContent", base64.b64encode(item.raw).decode(),
                                 CharacterSet="UTF-8"))
        if "item:Size" in wanted:
            children.append(t("Size", str(item.size)))
        f = item.fields
        if item.tag != "CalendarItem" and item.raw:
            headers = email.message_from_bytes(item.raw, policy=email.policy.default)
            if "item:Subject" in wanted:
                children.append(t("Subject", str(headers.get("Subject", ""))))
            if "item:DateTimeSent" in wanted and headers.get("Date"):
                sent = email.utils.parsedate_to_datetime(str(headers["Date"]))
                children.append(t("DateTimeSent", sent.astimezone(dt.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ")))
            if "message:From" in wanted and headers.get("From"):
                name, address = email.utils.parseaddr(str(headers["From"]))
                children.append(t("From", None, t("Mailbox", None, t("Name", name),
                                                  t("EmailAddress", address),
                                                  t("RoutingType", "SMTP"))))
            if "message:InternetMessageId" in wanted and not item.message_id:
                item.message_id = str(headers.get("Message-ID", "")) or None
        if item.tag == "CalendarItem":
            for uri, tag, key in (("item:Subject", "Subject", "subject"),
                                  ("calendar:Start", "Start", "start"),
                                  ("calendar:End", "End", "end"),
                                  ("calendar:Location", "Location", "location")):
                if uri in wanted and f.get(key) is not None:
                    children.append(t(tag, str(f[key])))
            for uri, tag, required in (("calendar:RequiredAttendees", "RequiredAttendees", True),
                                       ("calendar:OptionalAttendees", "OptionalAttendees",
                                        False)):
                people = [a for a in f.get("attendees", []) if a["required"] == required]
                if uri in wanted and people:
                    children.append(t(tag, None, *[t("Attendee", None, t(
                        "Mailbox", None, t("Name", a["name"]), t("EmailAddress", a["address"]),
                        t("RoutingType", "SMTP"), t("MailboxType", "Mailbox")),
                        t("ResponseType", a.get("response", "NoResponseReceived")),
                        *([t("LastResponseTime", a["answered"])] if a.get("answered") else []))
                        for a in people]))
        if "message:InternetMessageId" in wanted and item.message_id:
            children.append(t("InternetMessageId", item.message_id))
        if extended and "collabd-uid" in f:
            children.append(_collabd_uid(f["collabd-uid"]))
        if extended and "collabd-sequence" in f:
            children.append(_extended("collabd-sequence", "Integer", f["collabd-sequence"]))
        return t(item.tag, None, *children)

    def _op_MoveItem(self, operation: etree._Element) -> etree._Element:
        to = operation.find(f"{{{M}}}ToFolderId")
        ids = operation.find(f"{{{M}}}ItemIds")
        assert to is not None and ids is not None
        target = self._resolve_folder(to[0])
        assert target is not None
        fills = []
        for ref in ids:
            item = self.items.pop(ref.get("Id", ""), None)
            if item is None:
                fills.append(self._item_not_found())
                continue
            # A move gives the item a new id in its new folder, as Exchange does.
            item.id, item.folder = self._new_id(), target.id
            self.items[item.id] = item
            fills.append(lambda m, i=item: self._replace(
                m, "Items", [t(i.tag, None, t("ItemId", Id=i.id, ChangeKey=i.changekey))]))
        return self._response("MoveItem_success_fixedItemId.xml", fills)

    # -- sending ---------------------------------------------------------------------------

    def _op_CreateItem(self, operation: etree._Element) -> etree._Element:
        items = operation.find(f"{{{M}}}Items")
        assert items is not None
        fills = []
        for new in items:
            kind = _local(new)
            if kind == "Message":
                raw = base64.b64decode(new.findtext(f"{{{T}}}MimeContent") or "")
                message_id = _header(raw, "Message-ID") or f"<{self._new_id()}@mail.example.com>"
                item = Item(self._new_id(), "F-drafts", "Message", raw, message_id=message_id)
                self.items[item.id] = item
                fills.append(lambda m, i=item: self._replace(m, "Items", [
                    t("Message", None, t("ItemId", Id=i.id, ChangeKey=i.changekey))]))
            elif kind == "CalendarItem":
                item = Item(self._new_id(), "F-calendar", "CalendarItem",
                            fields=_calendar_fields(new))
                self.items[item.id] = item
                self.invitations.append(("create", operation.get("SendMeetingInvitations", ""),
                                         [a["address"] for a in item.fields["attendees"]]))
                fills.append(lambda m, i=item: self._replace(m, "Items", [
                    t("CalendarItem", None, t("ItemId", Id=i.id, ChangeKey=i.changekey))]))
            elif kind == "CancelCalendarItem":
                ref = new.find(f"{{{T}}}ReferenceItemId")
                assert ref is not None
                item = self.items[ref.get("Id", "")]
                item.fields["cancelled"] = True
                self.invitations.append(("cancel", "SendToAllAndSaveCopy",
                                         [a["address"] for a in item.fields["attendees"]]))
                fills.append(lambda m, i=item: self._replace(m, "Items", [
                    t("CalendarItem", None, t("ItemId", Id=i.id, ChangeKey=i.changekey))]))
        cancelling = any(_local(new) == "CancelCalendarItem" for new in items)
        return self._response("CancelCalendarItem_CreateItem_success.xml" if cancelling
                              else "CreateItem_calendar_success.xml", fills)

    def _op_SendItem(self, operation: etree._Element) -> etree._Element:
        ids = operation.find(f"{{{M}}}ItemIds")
        assert ids is not None
        fills = []
        for ref in ids:
            item = self.items.get(ref.get("Id", ""))
            if item is None:
                fills.append(self._item_not_found())
                continue
            self.sent.append(item.raw)
            item.folder = "F-sentitems"
            fills.append(lambda m: None)
        # SendItem answers as DeleteItem does: a bare success per item (constructed).
        root = self._response("DeleteItem_success.xml", fills)
        for element in root.iter():
            if isinstance(element.tag, str) and "DeleteItem" in element.tag:
                element.tag = element.tag.replace("DeleteItem", "SendItem")
        return root

    def _op_UpdateItem(self, operation: etree._Element) -> etree._Element:
        fills = []
        for change in operation.iter(f"{{{T}}}ItemChange"):
            ref = change.find(f"{{{T}}}ItemId")
            assert ref is not None
            item = self.items[ref.get("Id", "")]
            for update in change.iter(f"{{{T}}}SetItemField", f"{{{T}}}DeleteItemField"):
                new = update.find(f"{{{T}}}CalendarItem")
                if new is not None:
                    fields = _calendar_fields(new, partial=True)
                    if "attendees" in fields:
                        kept = {a["address"].lower(): a for a in item.fields["attendees"]}
                        merged = [a for a in item.fields["attendees"]
                                  if a["required"] != fields["attendees"][0]["required"]] if (
                            fields["attendees"]) else []
                        for a in fields["attendees"]:
                            old = kept.get(a["address"].lower())
                            # Exchange keeps an attendee's answer and its time.
                            merged.append({**a, **{k: old[k] for k in ("response", "answered")
                                                   if k in old}} if old else a)
                        fields["attendees"] = merged
                    item.fields.update(fields)
            item.changekey = f"CK{int(item.changekey[2:]) + 1}"
            self.invitations.append(("update", operation.get(
                "SendMeetingInvitationsOrCancellations", ""),
                [a["address"] for a in item.fields["attendees"]]))
            fills.append(lambda m, i=item: self._replace(m, "Items", [
                t("CalendarItem", None, t("ItemId", Id=i.id, ChangeKey=i.changekey))]))
        return self._response("UpdateItem_success.xml", fills)

    def _op_FindItem(self, operation: etree._Element) -> etree._Element:
        parent_ref = operation.find(f"{{{M}}}ParentFolderIds")
        assert parent_ref is not None
        folder = self._resolve_folder(parent_ref[0])
        restriction = operation.find(f"{{{M}}}Restriction")
        uris = {e.get("FieldURI") for e in restriction.iter(f"{{{T}}}FieldURI")} if (
            restriction is not None) else set()
        wanted = {c.get("Value") for c in operation.iter(f"{{{T}}}Constant")}
        found = [i for i in self.items.values() if folder and i.folder == folder.id]
        if "item:DateTimeReceived" in uris:  # received at or after a moment
            since = min(dt.datetime.fromisoformat(w.replace("Z", "+00:00"))
                        for w in wanted if w)
            found = sorted((i for i in found if i.received >= since),
                           key=lambda i: i.received)
        elif wanted:
            found = [i for i in found if i.fields.get("collabd-uid") in wanted]
        view = operation.find(f"{{{M}}}IndexedPageItemView")
        if view is not None:
            offset = int(view.get("Offset", "0"))
            found = found[offset: offset + int(view.get("MaxEntriesReturned", "1000"))]

        def fill(message: etree._Element) -> None:
            root = message.find(f"{{{M}}}RootFolder")
            assert root is not None
            root.attrib.pop("IndexedPagingOffset", None)
            root.set("TotalItemsInView", str(len(found)))
            root.set("IncludesLastItemInRange", "true")
            self._replace(message, "t:Items", [
                t(i.tag, None, t("ItemId", Id=i.id, ChangeKey=i.changekey),
                  t("DateTimeReceived", i.received.strftime("%Y-%m-%dT%H:%M:%SZ")),
                  t("Size", str(i.size)),
                  *([_collabd_uid(i.fields["collabd-uid"])] if "collabd-uid" in i.fields
                    else []),
                  *([_extended("collabd-sequence", "Integer", i.fields["collabd-sequence"])]
                    if "collabd-sequence" in i.fields else [])) for i in found])
        root = etree.fromstring(_load("FindItem_o365_real_3messages.xml"))
        root.attrib.pop("testns", None)  # added by the capture's author, not the server
        return self._fill_root(root, [fill])

    def _fill_root(self, root: etree._Element, fills: list[Callable[[etree._Element], None]]
                   ) -> etree._Element:
        messages = root.find(f".//{{{M}}}ResponseMessages")
        assert messages is not None
        prototype = messages[0]
        for child in list(messages):
            messages.remove(child)
        for fill in fills:
            message = copy.deepcopy(prototype)
            fill(message)
            messages.append(message)
        _version(root)
        return root

    # -- availability ------------------------------------------------------------------------

    def _op_GetServerTimeZones(self, operation: etree._Element) -> etree._Element:
        """China Standard Time, in the shape Exchange gives a zone without daylight time
        (adapted from the recorded Eastern Standard Time answer)."""
        root = etree.fromstring(_load("GetServerTimeZones_full_EST.xml"))
        definition = next(root.iter(f"{{{T}}}TimeZoneDefinition"))
        for child in list(definition):
            definition.remove(child)
        definition.set("Id", "China Standard Time")
        definition.set("Name", "(UTC+08:00) Beijing, Chongqing, Hong Kong, Urumqi")
        period = "trule:Microsoft/Registry/China Standard Time/1-Standard"
        definition.extend([
            t("Periods", None, t("Period", Bias="-PT8H", Name="Standard", Id=period)),
            t("TransitionsGroups", None, t("TransitionsGroup", None, t(
                "Transition", None, t("To", period, Kind="Period")), Id="0")),
            t("Transitions", None, t("Transition", None, t("To", "0", Kind="Group")))])
        _version(root)
        return root

    def _op_GetUserAvailabilityRequest(self, operation: etree._Element) -> etree._Element:
        root = etree.fromstring(_load("GetUserAvailability_success.xml"))
        array = next(root.iter(f"{{{M}}}FreeBusyResponseArray"))
        prototype = array[0]
        for child in list(array):
            array.remove(child)
        for address in [e.text or "" for e in operation.iter(f"{{{T}}}Address")]:
            response = copy.deepcopy(prototype)
            events = next(response.iter(f"{{{T}}}CalendarEventArray"))
            for child in list(events):
                events.remove(child)
            for start, end, busy_type in self.busy.get(address, []):
                events.append(t("CalendarEvent", None,
                                t("StartTime", start.strftime("%Y-%m-%dT%H:%M:%S")),
                                t("EndTime", end.strftime("%Y-%m-%dT%H:%M:%S")),
                                t("BusyType", busy_type)))
            array.append(response)
        _version(root)
        return root


# -- helpers -----------------------------------------------------------------------------------

def _load(name: str) -> bytes:
    root = etree.fromstring((DATA / name).read_bytes())
    _version(root)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _version(root: etree._Element) -> None:
    for element in root.iter():
        if isinstance(element.tag, str) and _local(element) == "ServerVersionInfo":
            for key, value in SERVER_VERSION.items():
                element.set(key, value)


def _collabd_uid(uid: str) -> etree._Element:
    return _extended("collabd-uid", "String", uid)


def _extended(name: str, kind: str, value: str) -> etree._Element:
    return t("ExtendedProperty", None,
             t("ExtendedFieldURI", DistinguishedPropertySetId="PublicStrings",
               PropertyName=name, PropertyType=kind),
             t("Value", value))


def _calendar_fields(element: etree._Element, *, partial: bool = False) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for tag, key in (("Subject", "subject"), ("Start", "start"), ("End", "end"),
                     ("Location", "location"), ("UID", "uid")):
        value = element.findtext(f"{{{T}}}{tag}")
        if value is not None:
            fields[key] = value
    body = element.find(f"{{{T}}}Body")
    if body is not None:
        fields["body"] = body.text or ""
    people = []
    for tag, required in (("RequiredAttendees", True), ("OptionalAttendees", False)):
        for attendee in element.findall(f"{{{T}}}{tag}/{{{T}}}Attendee"):
            people.append({"address": attendee.findtext(f".//{{{T}}}EmailAddress") or "",
                           "name": attendee.findtext(f".//{{{T}}}Name") or "",
                           "required": required, "response": "NoResponseReceived"})
    if people or not partial:
        fields["attendees"] = people
    for prop in element.findall(f"{{{T}}}ExtendedProperty"):
        uri = prop.find(f"{{{T}}}ExtendedFieldURI")
        if uri is not None and uri.get("PropertyName") in ("collabd-uid", "collabd-sequence"):
            fields[uri.get("PropertyName")] = prop.findtext(f"{{{T}}}Value")
    return fields


def _header(raw: bytes, name: str) -> str | None:
    value = email.message_from_bytes(raw).get(name)
    return str(value) if value else None

