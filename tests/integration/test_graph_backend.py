"""The `graph` backend's real client code against recorded Microsoft Graph answers
(tests/data/graph, shaped on Microsoft's documentation samples; no real tenant can exist
here): app-only sign-in through MSAL and its renewal, folders found and created, new
mail by delta pages with the raw MIME of each message, a removed item, an oversize one,
an expired delta token, moves after journaling, sending the daemon's own MIME, and
throttling (429 + Retry-After) waited out within its budget; 401/403 never retried."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests_mock as rm

from collabd.config import GraphServer, Secret
from collabd.mailbox.base import MailboxUnavailable, SendError
from collabd.mailbox.graph import GraphMailbox
from helpers import DATA

pytestmark = pytest.mark.integration

GRAPH = DATA / "graph"
BASE = "https://graph.microsoft.com/v1.0/users/collab%40contoso.com"
USERS = r"https://graph\.microsoft\.com/v1\.0/users/[^/]+"  # any mailbox
LOGIN = "https://login.microsoftonline.com"
TENANT = "contoso-tenant"


def body(name: str) -> Any:
    return json.loads((GRAPH / name).read_text(encoding="utf-8"))


def settings(**changes: Any) -> GraphServer:
    values: dict[str, Any] = {"tenant_id": TENANT, "client_id": "11111111-2222-3333-4444-5555",
                              "client_secret": Secret(password_env="UNUSED"),
                              "max_message_bytes": 4096}
    values.update(changes)
    return GraphServer(**values)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def graph() -> Iterator[rm.Mocker]:
    with rm.Mocker() as mock:
        # The identity platform: tenant discovery and the client credentials grant.
        mock.get(re.compile(rf"{LOGIN}/common/discovery/instance.*"),
                 json={"tenant_discovery_endpoint":
                       f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
                       "api-version": "1.1", "metadata": []})
        mock.get(f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
                 json=body("openid-configuration.json"))
        mock.post(f"{LOGIN}/{TENANT}/oauth2/v2.0/token", json=body("token.json"))
        # Folders: the inbox, collabd below it, and its children (created).
        mock.get(re.compile(rf"{USERS}/mailFolders/inbox$"), json=body("inbox.json"))
        mock.get(re.compile(rf"{USERS}/mailFolders/AAMkAGInbox=/childFolders\?.*"),
                 json=body("child_folders_collabd.json"))
        mock.get(re.compile(rf"{USERS}/mailFolders/AAMkAGCollabd=/childFolders\?.*"),
                 json=body("child_folders_none.json"))

        def created(request: Any, context: Any) -> dict[str, Any]:
            context.status_code = 201
            name = request.json()["displayName"]
            return {**body("folder_created.json"), "id": f"AAMkAG-{name}=", "displayName": name}

        mock.post(re.compile(rf"{USERS}/mailFolders/AAMkAGCollabd=/childFolders$"),
                  json=created)
        yield mock


def mailbox(sleeps: Sleeps | None = None, **changes: Any) -> GraphMailbox:
    return GraphMailbox(settings(**changes), address="collab@contoso.com",
                        secret=lambda: "app-secret", base_dir=Path("."),
                        sleep=sleeps if sleeps is not None else Sleeps())


def raw_message(subject: str, size: int = 0) -> bytes:
    text = (f"From: 刘洋 <liu.yang@contoso.com>\r\nTo: collab@contoso.com\r\n"
            f"Subject: {subject}\r\nMessage-ID: <{subject}@contoso.com>\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n")
    return text.encode("utf-8") + b"x" * size


def test_new_mail_by_delta_pages_raw_mime_and_moves(graph: rm.Mocker) -> None:
    graph.get(re.compile(rf"{re.escape(BASE)}/mailFolders/AAMkAGInbox=/messages/delta\?\$select.*"),
              json=body("delta_page1.json"))
    graph.get(f"{BASE}/messages/AAMkAGMsg1=/$value", content=raw_message("first"))
    graph.get(re.compile(r".*\$skiptoken=.*"), json=body("delta_page2.json"))
    graph.get(f"{BASE}/messages/AAMkAGMsg2=/$value", content=raw_message("big", 10_000))
    graph.get(re.compile(rf"{re.escape(BASE)}/messages/AAMkAGMsg2=\?.*"),
              json={"subject": "附上全部设计稿", "internetMessageId": "<g-big@contoso.com>",
                    "from": {"emailAddress": {"name": "刘洋",
                                              "address": "liu.yang@contoso.com"}}})
    graph.get(re.compile(r".*\$deltatoken=Lzt.*"), json=body("delta_next_round.json"))
    graph.post(re.compile(rf"{re.escape(BASE)}/messages/.*/move"), json=body("moved.json"),
               status_code=201)
    box = mailbox()
    box.start()
    created = [r.json()["displayName"] for r in graph.request_history if r.method == "POST"
               and r.url.endswith("/childFolders")]
    assert created == ["processed", "oversize", "failed"]  # below inbox/collabd
    first = box.fetch(None)
    assert [m.raw for m in first.messages] == [raw_message("first")]
    assert first.more and "$skiptoken" in json.loads(first.cursor or "{}")["link"]
    second = box.fetch(first.cursor)
    [big] = second.messages  # (the removed item is not mail)
    assert big.raw.startswith(b"X-Collabd-Oversize: 4097 4096\r\n")
    assert b"Message-ID: <g-big@contoso.com>" in big.raw
    assert not second.more and "$deltatoken" in json.loads(second.cursor or "{}")["link"]
    box.ack([m.ref for m in first.messages + second.messages])
    moves = [(r.url.split("/messages/")[1].split("/")[0], r.json()["destinationId"])
             for r in graph.request_history if r.url.endswith("/move")]
    assert moves == [("AAMkAGMsg1=", "AAMkAG-processed="), ("AAMkAGMsg2=", "AAMkAG-oversize=")]
    third = box.fetch(second.cursor)
    assert third.messages == [] and "SecondRoundToken" in (third.cursor or "")
    # Every Graph call carried the application's token, asked once (MSAL caches it).
    calls = [r for r in graph.request_history if "graph.microsoft.com" in r.url]
    assert all(r.headers["Authorization"].endswith("token-one") for r in calls)
    [token] = [r for r in graph.request_history if r.url.endswith("/token")]
    assert "grant_type=client_credentials" in token.text
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in token.text


def test_a_page_journaled_but_not_moved_is_moved_after_a_restart(graph: rm.Mocker) -> None:
    graph.get(re.compile(r".*\$deltatoken=Lzt.*"), json=body("delta_next_round.json"))
    graph.post(f"{BASE}/messages/AAMkAGMsg1=/move", json=body("moved.json"), status_code=201)
    graph.post(f"{BASE}/messages/AAMkAGMsg2=/move", json=body("not_found.json"),
               status_code=404)  # moved by someone meanwhile: fine
    cursor = json.dumps({"link": body("delta_page2.json")["@odata.deltaLink"],
                         "pending": [json.dumps(["AAMkAGMsg1="]), json.dumps(["AAMkAGMsg2="])]})
    batch = mailbox().fetch(cursor)
    assert batch.messages == []
    assert [r.url.split("/messages/")[1] for r in graph.request_history
            if r.url.endswith("/move")] == ["AAMkAGMsg1=/move", "AAMkAGMsg2=/move"]


def test_an_expired_delta_token_reads_the_folder_afresh(graph: rm.Mocker) -> None:
    graph.get(re.compile(r".*\$deltatoken=.*"), json=body("delta_gone.json"), status_code=410)
    graph.get(re.compile(rf"{re.escape(BASE)}/mailFolders/AAMkAGInbox=/messages/delta\?\$select.*"),
              json=body("delta_next_round.json"))
    box = mailbox()
    cursor = json.dumps({"link": f"{BASE}/mailFolders/AAMkAGInbox=/messages/delta?"
                                 "$deltatoken=Old", "pending": []})
    restart = box.fetch(cursor)
    assert restart.messages == [] and restart.more
    assert json.loads(restart.cursor or "{}")["link"] is None
    fresh = box.fetch(restart.cursor)
    assert "SecondRoundToken" in (fresh.cursor or "")


def test_throttling_is_waited_out_within_its_budget_then_pauses(graph: rm.Mocker) -> None:
    link = re.compile(rf"{re.escape(BASE)}/mailFolders/AAMkAGInbox=/messages/delta\?\$select.*")
    graph.get(link, [{"json": body("throttled.json"), "status_code": 429,
                      "headers": {"Retry-After": "7"}},
                     {"json": body("delta_next_round.json")}])
    sleeps = Sleeps()
    batch = mailbox(sleeps).fetch(None)
    assert sleeps == [7.0] and "SecondRoundToken" in (batch.cursor or "")
    # Asked to wait longer than the budget: the backend pauses, the loop goes on.
    graph.get(link, json=body("throttled.json"), status_code=429,
              headers={"Retry-After": "120"})
    box = mailbox(sleeps, max_wait_seconds=30)
    with pytest.raises(MailboxUnavailable, match="throttled"):
        box.fetch(None)
    assert sleeps == [7.0]  # nothing more waited inside the call
    with pytest.raises(MailboxUnavailable):
        box.fetch(None)  # paused: not even tried
    assert box.pause.remaining() > 100


@pytest.mark.parametrize(("status", "name"), [(401, "unauthorized.json"),
                                              (403, "forbidden.json")])
def test_refused_access_is_not_retried_and_says_what_to_check(
        graph: rm.Mocker, status: int, name: str) -> None:
    graph.get(re.compile(rf"{re.escape(BASE)}/mailFolders/AAMkAGInbox=/messages/delta.*"),
              json=body(name), status_code=status)
    with pytest.raises(MailboxUnavailable) as caught:
        mailbox().fetch(None)
    assert "application access policy" in str(caught.value)
    assert len([r for r in graph.request_history if "/delta" in r.url]) == 1


def test_the_token_is_renewed_when_it_expires(graph: rm.Mocker) -> None:
    graph.post(f"{LOGIN}/{TENANT}/oauth2/v2.0/token", [
        {"json": {**body("token.json"), "expires_in": 1, "access_token": "token-one"}},
        {"json": {**body("token.json"), "access_token": "token-two"}}])
    box = mailbox()
    box.start()
    box.check()
    tokens = {r.headers["Authorization"].split()[-1] for r in graph.request_history
              if "graph.microsoft.com" in r.url}
    assert tokens == {"token-one", "token-two"}


def test_sign_in_refused_names_the_application_and_what_to_check(graph: rm.Mocker) -> None:
    graph.post(f"{LOGIN}/{TENANT}/oauth2/v2.0/token", status_code=401, json={
        "error": "invalid_client", "error_description": "AADSTS7000215: Invalid client "
        "secret provided. Ensure the secret being sent in the request is the client secret "
        "value, not the client secret ID."})
    findings = mailbox().check()
    [(ok, line)] = findings
    assert not ok and "invalid_client" in line and "11111111-2222-3333-4444-5555" in line


def test_the_daemons_own_mime_is_sent_and_the_kept_id_read_back(graph: rm.Mocker) -> None:
    graph.post(f"{BASE}/messages", json=body("draft_from_mime.json"), status_code=201)
    graph.post(f"{BASE}/messages/AAMkAGDraft=/send", status_code=202)
    raw = raw_message("ack")
    receipt = mailbox().send(raw, sender="collab@contoso.com",
                             recipients=["liu.yang@contoso.com"])
    assert receipt.server_message_id == "<SERVER-ID@APC01.prod.outlook.com>"
    create = next(r for r in graph.request_history if r.url == f"{BASE}/messages")
    assert create.headers["Content-Type"] == "text/plain"
    assert base64.b64decode(create.body) == raw  # the MIME exactly as the outbox holds it


def test_a_refused_message_is_not_retried_and_its_draft_goes(graph: rm.Mocker) -> None:
    graph.post(f"{BASE}/messages", json=body("draft_from_mime.json"), status_code=201)
    graph.post(f"{BASE}/messages/AAMkAGDraft=/send", status_code=400, json={
        "error": {"code": "ErrorInvalidRecipients", "message": "At least one recipient is "
                  "not valid."}})
    graph.delete(f"{BASE}/messages/AAMkAGDraft=", status_code=204)
    with pytest.raises(SendError) as caught:
        mailbox().send(raw_message("bad"), sender="collab@contoso.com", recipients=["x"])
    assert caught.value.permanent and "ErrorInvalidRecipients" in str(caught.value)
    assert any(r.method == "DELETE" for r in graph.request_history)
    # The server in trouble is not the message's fault: retried later, not counted.
    graph.post(f"{BASE}/messages", status_code=503, json={"error": {
        "code": "ServiceUnavailable", "message": "try later"}})
    with pytest.raises(SendError) as caught:
        mailbox(max_wait_seconds=0).send(raw_message("later"), sender="collab@contoso.com",
                                         recipients=["x"])
    assert caught.value.unreachable and not caught.value.permanent


def test_the_daemon_answers_a_request_through_graph(graph: rm.Mocker, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole way: a request in the inbox by delta, journaled, processed, moved to
    the processed folder, and the acknowledgement and notice sent as MIME drafts."""
    from collabd.app import Daemon
    from collabd.clock import FixedClock
    from collabd.config import load_config
    from helpers import SHARED, TZ, at, make_deployment

    monkeypatch.setenv("COLLABD_TEST_GRAPH_SECRET", "app-secret")
    config = make_deployment(tmp_path / "deploy")
    config.path.write_text(config.path.read_text(encoding="utf-8").replace(
        "backend: local\n", "backend: graph\ngraph:\n  tenant_id: contoso-tenant\n"
        "  client_id: 11111111-2222-3333-4444-5555\n  client_secret:\n"
        "    password_env: COLLABD_TEST_GRAPH_SECRET\n", 1), encoding="utf-8")
    config = load_config(config.path)
    user = "https://graph.microsoft.com/v1.0/users/" + SHARED.replace("@", "%40")
    graph.get(re.compile(rf"{re.escape(user)}/mailFolders/AAMkAGInbox=/messages/delta\?.*"),
              json=body("delta_next_round.json") | {"value": [
                  {"id": "AAMkAGReq=", "internetMessageId": "<graph-req@example.com>"}]})
    graph.get(f"{user}/messages/AAMkAGReq=/$value",
              content=(DATA / "qqmail_numbered_request.eml").read_bytes())
    graph.post(f"{user}/messages/AAMkAGReq=/move", json=body("moved.json"), status_code=201)
    drafts: list[bytes] = []

    def draft(request: Any, context: Any) -> dict[str, Any]:
        drafts.append(base64.b64decode(request.body))
        context.status_code = 201
        return {**body("draft_from_mime.json"), "id": f"AAMkAGDraft{len(drafts)}=",
                "internetMessageId": None}

    graph.post(f"{user}/messages", json=draft)
    graph.post(re.compile(rf"{re.escape(user)}/messages/AAMkAGDraft\d+=/send"),
               status_code=202)
    daemon = Daemon(config, FixedClock(at("2026-12-01 10:05"), TZ), listen=False)
    daemon.start()
    try:
        result = daemon.run_once()
    finally:
        daemon.close()
    assert (result.fetched, result.processed) == (1, 1) and result.sent == len(drafts) >= 2
    subjects = [d.split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0] for d in drafts]
    assert any(b"XQ-2026-0001" in s for s in subjects)
    assert any(r.url.endswith("/AAMkAGReq=/move") for r in graph.request_history)


# -- meetings as events -------------------------------------------------------------------------

def _meeting(sequence: int = 2, **changes: Any) -> Any:
    import datetime as dt

    from collabd.mailbox.base import Attendee, NativeMeeting

    values: dict[str, Any] = dict(
        uid="review-XQ-2026-0001@collabd", subject="[XQ-2026-0001] 需求评审会",
        start=dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        end=dt.datetime(2026, 12, 3, 11, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        location="总部3楼第一会议室", body_html="<p>议程：需求评审</p>",
        attendees=(Attendee("sun.li@contoso.com", "孙丽"),
                   Attendee("zhao.qiang@contoso.com", "赵强", required=False)),
        sequence=sequence)
    values.update(changes)
    return NativeMeeting(**values)


def test_a_meeting_becomes_an_event_and_is_updated_by_its_uid(graph: rm.Mocker) -> None:
    events = re.compile(rf"{re.escape(BASE)}/events\?.*")
    graph.get(events, json=body("events_none.json"))
    graph.post(f"{BASE}/events", json=body("event_created.json"), status_code=201)
    calendar = mailbox().calendar
    assert calendar is not None
    assert calendar.save_meeting(_meeting(0), notify=[]) == "AAMkAGEvent1="
    created = next(r for r in graph.request_history if r.method == "POST"
                   and r.url.endswith("/events")).json()
    assert created["start"] == {"dateTime": "2026-12-03T02:00:00", "timeZone": "UTC"}
    assert [(a["emailAddress"]["address"], a["type"]) for a in created["attendees"]] == [
        ("sun.li@contoso.com", "required"), ("zhao.qiang@contoso.com", "optional")]
    props = {p["id"].split()[-1]: p["value"] for p in created["singleValueExtendedProperties"]}
    assert props == {"collabdUid": "review-XQ-2026-0001@collabd", "collabdSequence": "0"}
    find = next(r for r in graph.request_history if r.method == "GET" and "/events?" in r.url)
    # (requests_mock shows the query lowercased)
    assert "name collabduid' and ep/value eq 'review-xq-2026-0001@collabd'" in \
        find.qs["$filter"][0]
    # Moved: the event with its UID is updated (Exchange tells the attendees)
    graph.get(events, json=body("events_found.json"))
    graph.patch(f"{BASE}/events/AAMkAGEvent1=", json=body("event_created.json"))
    import datetime as dt

    later = _meeting(3, start=_meeting().start + dt.timedelta(hours=4),
                     end=_meeting().end + dt.timedelta(hours=4))
    assert calendar.save_meeting(later, notify=[]) == "AAMkAGEvent1="
    patch = next(r for r in graph.request_history if r.method == "PATCH").json()
    assert patch["start"]["dateTime"] == "2026-12-03T06:00:00"
    # An older invite (a retried one, overtaken) changes nothing
    before = len(graph.request_history)
    calendar.save_meeting(_meeting(1), notify=[])
    assert not [r for r in graph.request_history[before:] if r.method == "PATCH"]


def test_answers_are_read_from_the_events_attendees(graph: rm.Mocker) -> None:
    graph.get(re.compile(rf"{re.escape(BASE)}/events\?.*"), json=body("events_found.json"))
    calendar = mailbox().calendar
    assert calendar is not None
    answers = calendar.responses(["review-XQ-2026-0001@collabd"])
    got = {a: (r.partstat, r.at.isoformat() if r.at else None)
           for a, r in answers["review-XQ-2026-0001@collabd"].items()}
    assert got == {"sun.li@contoso.com": ("ACCEPTED", "2026-12-01T03:10:00+00:00"),
                   "zhang.wei@contoso.com": ("TENTATIVE", "2026-12-01T03:20:00+00:00")}


def test_a_cancellation_and_free_busy(graph: rm.Mocker) -> None:
    graph.get(re.compile(rf"{re.escape(BASE)}/events\?.*"), json=body("events_found.json"))
    graph.post(f"{BASE}/events/AAMkAGEvent1=/cancel", status_code=202)
    graph.post(f"{BASE}/calendar/getSchedule", json=body("get_schedule.json"))
    calendar = mailbox().calendar
    assert calendar is not None
    calendar.cancel_meeting("review-XQ-2026-0001@collabd", reason="<p>需求已撤回</p>")
    cancel = next(r for r in graph.request_history if r.url.endswith("/cancel"))
    assert cancel.json() == {"comment": "<p>需求已撤回</p>"}
    import datetime as dt

    start = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
    busy = calendar.busy(["sun.li@contoso.com", "nobody@contoso.com"], start,
                         start + dt.timedelta(days=1))
    assert list(busy) == ["sun.li@contoso.com"]  # the unknown address is left out
    assert busy["sun.li@contoso.com"] == [  # busy and out of office; free is not
        (dt.datetime(2026, 12, 3, 1, tzinfo=dt.UTC), dt.datetime(2026, 12, 3, 2, tzinfo=dt.UTC)),
        (dt.datetime(2026, 12, 3, 6, tzinfo=dt.UTC), dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC))]
    asked = next(r for r in graph.request_history if r.url.endswith("/getSchedule")).json()
    assert asked["schedules"] == ["sun.li@contoso.com", "nobody@contoso.com"]


def test_without_delta_query_mail_is_read_by_its_received_time(graph: rm.Mocker) -> None:
    """21Vianet's cloud (世纪互联) offers no message delta: `sync: received` (the default
    with cloud: china) lists the inbox oldest first after the cursor's moment."""
    china = "https://microsoftgraph.chinacloudapi.cn/v1.0/users/collab%40contoso.com"
    login = "https://login.chinacloudapi.cn"
    graph.get(re.compile(rf"{re.escape(login)}/common/discovery/instance.*"),
              json={"tenant_discovery_endpoint":
                    f"{login}/{TENANT}/v2.0/.well-known/openid-configuration",
                    "api-version": "1.1", "metadata": []})
    graph.get(f"{login}/{TENANT}/v2.0/.well-known/openid-configuration",
              json={k: (v.replace(LOGIN, login) if isinstance(v, str) else v)
                    for k, v in body("openid-configuration.json").items()})
    graph.post(f"{login}/{TENANT}/oauth2/v2.0/token", json=body("token.json"))
    graph.get(f"{china}/mailFolders/inbox", json=body("inbox.json"))
    for name in ("collabd", "none"):
        folder = "AAMkAGInbox=" if name == "collabd" else "AAMkAGCollabd="
        graph.get(re.compile(rf"{re.escape(china)}/mailFolders/{folder}/childFolders\?.*"),
                  json=body(f"child_folders_{name}.json"))
    graph.post(f"{china}/mailFolders/AAMkAGCollabd=/childFolders",
               json=body("folder_created.json"), status_code=201)
    listed = [{"id": "AAMkAGA=", "receivedDateTime": "2026-12-01T02:05:00Z"},
              {"id": "AAMkAGB=", "receivedDateTime": "2026-12-01T02:06:00Z"},
              {"id": "AAMkAGC=", "receivedDateTime": "2026-12-01T02:06:00Z"}]

    def listing(request: Any, context: Any) -> dict[str, Any]:
        after = (request.qs.get("$filter") or [""])[0].split(" ge ")[-1].upper()
        return {"value": [i for i in listed if not after or i["receivedDateTime"] >= after]}

    graph.get(re.compile(rf"{re.escape(china)}/mailFolders/AAMkAGInbox=/messages\?.*"),
              json=listing)
    for item in ("A", "B", "C"):
        graph.get(f"{china}/messages/AAMkAG{item}=/$value", content=raw_message(item))
    box = mailbox(cloud="china")
    first = box.fetch(None, limit=2)
    assert [m.raw for m in first.messages] == [raw_message("A"), raw_message("B")]
    assert first.more
    second = box.fetch(first.cursor, limit=2)  # B, at the same moment as C, not again
    assert [m.raw for m in second.messages] == [raw_message("C")]
    third = box.fetch(second.cursor, limit=2)
    assert third.messages == [] and not third.more
    assert not [r for r in graph.request_history if "/delta" in r.url]


# -- a project's recurring meeting ------------------------------------------------------------

def test_an_icalendar_rule_as_graphs_recurrence() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from collabd.mailbox.graph import graph_recurrence

    start = dt.datetime(2026, 12, 4, 15, tzinfo=ZoneInfo("Asia/Shanghai"))
    weekly = graph_recurrence("FREQ=WEEKLY;UNTIL=20270122T155900Z;BYDAY=FR", start)
    assert weekly == {"pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["friday"],
                                  "firstDayOfWeek": "monday"},
                      "range": {"startDate": "2026-12-04", "type": "endDate",
                                "endDate": "2027-01-22"}}  # (15:59 UTC is 23:59 there)
    daily = graph_recurrence("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10", start)
    assert daily is not None and daily["pattern"]["daysOfWeek"] == [
        "monday", "tuesday", "wednesday", "thursday", "friday"]
    assert daily["range"] == {"startDate": "2026-12-04", "type": "numbered",
                              "numberOfOccurrences": 10}
    assert graph_recurrence("FREQ=MONTHLY;BYMONTHDAY=15", start)["pattern"] == {  # type: ignore[index]
        "type": "absoluteMonthly", "interval": 1, "dayOfMonth": 15}
    last = graph_recurrence("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", start)
    assert last is not None and last["pattern"]["index"] == "last"
    assert graph_recurrence("FREQ=YEARLY;BYMONTH=1", start) is None  # the iMIP goes instead


def test_a_series_is_one_event_with_its_skips_and_moves(graph: rm.Mocker) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Shanghai")
    graph.get(re.compile(rf"{re.escape(BASE)}/events\?.*"), json=body("events_none.json"))
    graph.post(f"{BASE}/events", json=body("event_created.json"), status_code=201)
    graph.get(re.compile(rf"{re.escape(BASE)}/events/AAMkAGEvent1=/instances\?.*"),
              json=body("instances.json"))
    graph.delete(f"{BASE}/events/AAMkAGInst1225=", status_code=204)
    graph.patch(f"{BASE}/events/AAMkAGInst0101=", json={"id": "AAMkAGInst0101="})
    series = _meeting(0, uid="series-PJ-2026-0001@collabd",
                      start=dt.datetime(2026, 12, 4, 15, tzinfo=tz),
                      end=dt.datetime(2026, 12, 4, 16, tzinfo=tz),
                      rrule="FREQ=WEEKLY;UNTIL=20270122T155900Z;BYDAY=FR",
                      exdates=(dt.datetime(2026, 12, 25, 15, tzinfo=tz),),  # (a holiday)
                      moved=((dt.datetime(2027, 1, 1, 15, tzinfo=tz),
                              dt.datetime(2027, 1, 4, 15, tzinfo=tz),
                              dt.datetime(2027, 1, 4, 16, tzinfo=tz)),))
    calendar = mailbox().calendar
    assert calendar is not None and calendar.accepts(series)
    calendar.save_meeting(series, notify=[])
    created = next(r for r in graph.request_history if r.method == "POST"
                   and r.url.endswith("/events")).json()
    assert created["recurrence"]["pattern"]["daysOfWeek"] == ["friday"]
    assert created["start"] == {"dateTime": "2026-12-04T15:00:00",
                                "timeZone": "China Standard Time"}
    deleted = [r.url.rsplit("/", 1)[1] for r in graph.request_history if r.method == "DELETE"]
    assert deleted == ["AAMkAGInst1225="]  # the skipped occurrence
    moved = next(r for r in graph.request_history if r.method == "PATCH")
    assert moved.url.endswith("/AAMkAGInst0101=")
    assert moved.json()["start"] == {"dateTime": "2027-01-04T07:00:00", "timeZone": "UTC"}


def test_one_occurrence_is_cancelled_not_the_series(graph: rm.Mocker) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    graph.get(re.compile(rf"{re.escape(BASE)}/events\?.*"), json=body("events_found.json"))
    graph.get(re.compile(rf"{re.escape(BASE)}/events/AAMkAGEvent1=/instances\?.*"),
              json=body("instances.json"))
    graph.post(f"{BASE}/events/AAMkAGInst0101=/cancel", status_code=202)
    calendar = mailbox().calendar
    assert calendar is not None
    calendar.cancel_meeting("review-XQ-2026-0001@collabd", reason="<p>元旦休息</p>",
                            occurrence=dt.datetime(2027, 1, 1, 15,
                                                   tzinfo=ZoneInfo("Asia/Shanghai")))
    cancels = [r.url for r in graph.request_history if r.url.endswith("/cancel")]
    assert cancels == [f"{BASE}/events/AAMkAGInst0101=/cancel"]


# -- what a review found ----------------------------------------------------------------------

def test_one_unreadable_message_is_set_aside_and_the_rest_goes_on(graph: rm.Mocker) -> None:
    graph.get(re.compile(rf"{re.escape(BASE)}/mailFolders/AAMkAGInbox=/messages/delta\?\$select.*"),
              json=body("delta_next_round.json") | {"value": [
                  {"id": "AAMkAGBad="}, {"id": "AAMkAGGood="}]})
    graph.get(f"{BASE}/messages/AAMkAGBad=/$value", status_code=400, json={"error": {
        "code": "ErrorMimeContentConversionFailed", "message": "cannot convert"}})
    graph.get(f"{BASE}/messages/AAMkAGGood=/$value", content=raw_message("good"))
    graph.post(f"{BASE}/messages/AAMkAGBad=/move", json=body("moved.json"), status_code=201)
    batch = mailbox().fetch(None)
    assert [m.raw for m in batch.messages] == [raw_message("good")]
    [aside] = [r for r in graph.request_history if r.url.endswith("/AAMkAGBad=/move")]
    assert aside.json() == {"destinationId": "AAMkAG-failed="}
    # The server in trouble is not one item's fault: the page is read again later.
    graph.get(f"{BASE}/messages/AAMkAGBad=/$value", status_code=500, json={"error": {
        "code": "ErrorInternalServerError", "message": "try later"}})
    with pytest.raises(MailboxUnavailable):
        mailbox().fetch(None)


def test_a_throttled_ack_is_retried_after_the_pause(graph: rm.Mocker) -> None:
    graph.post(f"{BASE}/messages/AAMkAGMsg1=/move", [
        {"json": body("throttled.json"), "status_code": 429, "headers": {"Retry-After": "90"}},
        {"json": body("moved.json"), "status_code": 201}])
    graph.get(re.compile(r".*\$deltatoken=Lzt.*"), json=body("delta_next_round.json"))
    box = mailbox(max_wait_seconds=30)
    box.fetch(json.dumps({"link": body("delta_page2.json")["@odata.deltaLink"]}))
    with pytest.raises(MailboxUnavailable, match="throttled"):
        box.ack([json.dumps(["AAMkAGMsg1="])])
    box.pause.until = 0  # (the pause is over)
    cursor = json.dumps({"link": body("delta_page2.json")["@odata.deltaLink"],
                         "pending": [json.dumps(["AAMkAGMsg1="])]})
    box.fetch(cursor)  # the daemon's next pass, with the cursor it stored
    moves = [r for r in graph.request_history if r.url.endswith("/AAMkAGMsg1=/move")]
    assert len(moves) == 2  # tried again, and done


def test_the_sign_in_service_unreachable_at_start_is_a_pause_not_a_crash(
        graph: rm.Mocker) -> None:
    import requests

    graph.get(f"{LOGIN}/{TENANT}/v2.0/.well-known/openid-configuration",
              exc=requests.ConnectionError("no route to host"))
    with pytest.raises(MailboxUnavailable, match="sign-in"):
        mailbox().start()


def test_an_attendees_answer_filed_by_exchange_is_marked_as_such(graph: rm.Mocker) -> None:
    graph.get(re.compile(rf"{re.escape(BASE)}/mailFolders/AAMkAGInbox=/messages/delta\?\$select.*"),
              json=body("delta_next_round.json") | {"value": [
                  {"@odata.type": "#microsoft.graph.eventMessageResponse", "id": "AAMkAGAns="}]})
    graph.get(f"{BASE}/messages/AAMkAGAns=/$value", content=raw_message("Accepted"))
    box = mailbox()
    [message] = box.fetch(None).messages
    assert message.raw.startswith(b"X-Collabd-Exchange-Item: #microsoft.graph.eventMessage")
    assert box.calendar is not None and box.calendar.answers_changed  # read answers soon


def test_an_occurrence_moved_far_is_still_found_and_one_missing_is_said(
        graph: rm.Mocker) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from collabd.mailbox.graph import OccurrenceNotFound

    tz = ZoneInfo("Asia/Shanghai")
    graph.get(re.compile(rf"{re.escape(BASE)}/events\?.*"), json=body("events_found.json"))

    def instances(request: Any, context: Any) -> dict[str, Any]:
        # Graph lists an instance where it is now: the 01-01 one, moved to 01-08
        start = request.qs["startdatetime"][0]
        moved = {"id": "AAMkAGInstMoved=", "isCancelled": False,
                 "originalStart": "2027-01-01T07:00:00Z",
                 "start": {"dateTime": "2027-01-08T07:00:00.0000000", "timeZone": "UTC"},
                 "end": {"dateTime": "2027-01-08T08:00:00.0000000", "timeZone": "UTC"}}
        return {"value": [moved] if start.startswith("2027-01-07") else []}

    graph.get(re.compile(rf"{re.escape(BASE)}/events/AAMkAGEvent1=/instances\?.*"),
              json=instances)
    graph.post(f"{BASE}/events/AAMkAGInstMoved=/cancel", status_code=202)
    calendar = mailbox().calendar
    assert calendar is not None
    calendar.cancel_meeting("review-XQ-2026-0001@collabd", reason="取消",
                            occurrence=dt.datetime(2027, 1, 1, 15, tzinfo=tz),
                            now_at=dt.datetime(2027, 1, 8, 15, tzinfo=tz))
    assert any(r.url.endswith("/AAMkAGInstMoved=/cancel") for r in graph.request_history)
    with pytest.raises(OccurrenceNotFound):  # (the outbox then sends the iMIP)
        calendar.cancel_meeting("review-XQ-2026-0001@collabd", reason="取消",
                                occurrence=dt.datetime(2027, 1, 15, 15, tzinfo=tz))


def test_received_listing_looks_back_for_mail_delivered_late(graph: rm.Mocker) -> None:
    """A message whose receivedDateTime is older than one already taken (delivery order
    is not receipt order) is still read; nothing is taken twice."""
    listed = [{"id": "AAMkAGLater=", "receivedDateTime": "2026-12-01T02:06:00Z"}]

    def listing(request: Any, context: Any) -> dict[str, Any]:
        after = (request.qs.get("$filter") or [""])[0].split(" ge ")[-1].upper()
        return {"value": sorted((i for i in listed if not after or
                                 i["receivedDateTime"] >= after),
                                key=lambda i: i["receivedDateTime"])}

    graph.get(re.compile(rf"{re.escape(BASE)}/mailFolders/AAMkAGInbox=/messages\?.*"),
              json=listing)
    graph.get(f"{BASE}/messages/AAMkAGLater=/$value", content=raw_message("later"))
    graph.get(f"{BASE}/messages/AAMkAGEarlier=/$value", content=raw_message("earlier"))
    box = mailbox(sync="received")
    first = box.fetch(None)
    assert [m.raw for m in first.messages] == [raw_message("later")]
    # now one received a minute before it shows up in the folder
    listed.append({"id": "AAMkAGEarlier=", "receivedDateTime": "2026-12-01T02:05:00Z"})
    second = box.fetch(first.cursor)
    assert [m.raw for m in second.messages] == [raw_message("earlier")]
    assert box.fetch(second.cursor).messages == []
