"""The board's web server (进度看板): read-only pages over the state, bound to
127.0.0.1 by default. No page is shown without an identity — a personal link mailed on
request (`看板`; signed, expiring, exchanged for a cookie on first use) or, behind the
company's reverse proxy, a trusted header naming the person, believed only from the
proxy's own addresses. Whoever it is must be in the org directory.

The standard library's threading HTTP server is enough for a few pages a minute read
by people; each request reads the state afresh (at most every `refresh_seconds`), so
`collabd board` beside a running daemon shows what the daemon has committed."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from collabd.ids import ours
from collabd.web import pages
from collabd.web.links import BoardLinks

if TYPE_CHECKING:
    from collabd.config import Config
    from collabd.policy.rules import Rules
    from collabd.store.view import StateView

log = logging.getLogger("collabd.board")
COOKIE = "collabd_board"
_RECORD = re.compile(r"^/r/((?:[A-Z]{2,6}-)?[A-Z]{2}-\d{4}-\d{4,})$")
HEADERS = {
    # Pages have no script; forms only submit to the board itself.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "img-src data:; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


_ID = re.compile(r"\b((?:[A-Z]{2,6}-)?(?:XQ|WT|HY|RW|PJ)-\d{4}-\d{4,})\b")


def linked(text: Any) -> Markup:
    """Text with every record number in it a link to that record's page."""
    return Markup(_ID.sub(lambda m: f'<a href="/r/{ours(m.group(1))}">{m.group(1)}</a>',
                          str(escape(str(text)))))


class Board:
    """What the handler needs: the rules (re-read when their files change: a person
    removed from org.yaml loses the board at once), a fresh read-only view, the links,
    the clock."""

    def __init__(self, config: Config, rules: Callable[[], Rules], links: BoardLinks,
                 open_view: Callable[[], StateView],
                 now: Callable[[], dt.datetime]) -> None:
        self.config = config
        self.settings = config.settings.board
        self._rules = rules
        self.links = links
        self._open_view = open_view
        self.now = now
        self._view: StateView | None = None
        self._read_at = 0.0
        self._figures: tuple[float, dict[str, Any]] | None = None
        self._lock = threading.Lock()
        self.env = Environment(
            loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True, lstrip_blocks=True)
        self.env.filters["linked"] = linked

    @property
    def rules(self) -> Rules:
        return self._rules()

    def view(self) -> StateView:
        with self._lock:
            if self._view is None or time.monotonic() - self._read_at > (
                    self.settings.refresh_seconds):
                self._view = self._open_view()
                self._read_at = time.monotonic()
            return self._view

    def figures(self, view: StateView) -> dict[str, Any]:
        """This month so far, against last month (recomputed at most every 10 minutes:
        it reads the archive)."""
        from collabd import figures

        with self._lock:
            if self._figures is None or time.monotonic() - self._figures[0] > 600:
                now = self.now()
                data = figures.of_state(view, self.rules, now,
                                        figures.month(now.astimezone(self.rules.calendar.tz)))
                self._figures = (time.monotonic(), data)
            return self._figures[1]

    def who(self, token: str | None, header: str | None, peer: str) -> str | None:
        """The directory member this request is from, or None."""
        address = None
        if token:
            address = self.links.verify(token, self.now())
        elif header and self.settings.trusted_header and _peer_trusted(
                peer, self.settings.trusted_proxies):
            address = header.strip()
        if not address:
            return None
        person = self.rules.directory.by_address(address)
        return person.address if person is not None else None

    def render(self, name: str, **context: Any) -> bytes:
        return self.env.get_template(name).render(
            mailbox=self.config.settings.mailbox.address, **context).encode("utf-8")


def _peer_trusted(peer: str, proxies: list[str]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(p, strict=False) for p in proxies)


class Handler(http.server.BaseHTTPRequestHandler):
    board: Board
    server_version = "collabd-board"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: HTTPStatus, body: bytes, *, extra: dict[str, str] | None = None,
              head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for key, value in {**HEADERS, **(extra or {})}.items():
            self.send_header(key, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        board = self.board
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/healthz":
            self._send(HTTPStatus.OK, b"ok\n", head=head)
            return
        fresh = query["t"][0] if query.get("t") else None
        if fresh is not None:
            # A mailed link: exchanged for a cookie, and the token taken out of the
            # address bar (and so out of history and any Referer).
            if board.who(fresh, None, self.client_address[0]) is None:
                self._denied(head, expired=True)
                return
            rest = urllib.parse.urlencode(
                [(k, v) for k, vs in query.items() if k != "t" for v in vs])
            secure = "; Secure" if board.settings.base_url.startswith("https:") else ""
            self.send_response(HTTPStatus.SEE_OTHER)
            self.send_header("Location", url.path + (f"?{rest}" if rest else ""))
            self.send_header("Set-Cookie", f"{COOKIE}={fresh}; Path=/; HttpOnly; "
                                           f"SameSite=Lax; Max-Age={board.links.days * 86400}"
                                           f"{secure}")
            for key, value in HEADERS.items():
                self.send_header(key, value)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        cookie = _cookie(self.headers.get("Cookie", ""), COOKIE)
        header = (self.headers.get(board.settings.trusted_header)
                  if board.settings.trusted_header else None)
        who = board.who(cookie, header, self.client_address[0])
        if who is None:
            self._denied(head, expired=cookie is not None)
            return
        try:
            body, status = self._page(url.path, query, who)
        except Exception:  # a page that fails says so; the server goes on
            log.exception("board page %s failed", url.path)
            body, status = board.render("error.html.j2"), HTTPStatus.INTERNAL_SERVER_ERROR
        self._send(status, body, head=head)

    def _denied(self, head: bool, *, expired: bool) -> None:
        self._send(HTTPStatus.FORBIDDEN, self.board.render("denied.html.j2", expired=expired),
                   head=head)

    def _page(self, path: str, query: dict[str, list[str]], who: str) -> tuple[bytes, HTTPStatus]:
        board = self.board
        now = board.now()
        view = board.view()
        person = board.rules.directory.by_address(who)
        viewer = person.name if person is not None else who
        if path == "/":
            def one(name: str) -> str | None:
                value = (query.get(name) or [""])[0].strip()
                return value or None

            from collabd.report import kind_of

            rules = board.rules
            notices = []
            dept = one("dept")
            if dept:
                found_dept = rules.directory.department(dept)  # (an alias names it too)
                if found_dept is None:
                    notices.append(f"组织目录中没有「{dept}」，显示全部部门")
                dept = found_dept.name if found_dept is not None else None
            kind = kind_of(one("kind") or "") or None
            if kind is not None and kind not in pages.KINDS:
                notices.append(f"没有「{one('kind')}」这一类型，显示全部类型")
                kind = None
            data = pages.overview(view, rules, now, dept=dept, person=one("person"),
                                  kind=kind, figures_data=board.figures(view))
            return board.render("index.html.j2", viewer=viewer, notices=notices,
                                **data), HTTPStatus.OK
        found = _RECORD.match(path)
        page = pages.record_page(view, board.rules, now, found.group(1)) if found else None
        if page is None:
            return board.render("missing.html.j2", viewer=viewer), HTTPStatus.NOT_FOUND
        return board.render("record.html.j2", viewer=viewer, **page), HTTPStatus.OK


def _cookie(header: str, name: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def make_server(board: Board, host: str, port: int) -> http.server.ThreadingHTTPServer:
    handler = type("BoardHandler", (Handler,), {"board": board})
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def rules_watcher(config: Config, rules: Rules) -> Callable[[], Rules]:
    """The rules with the directory sources' people (as the daemon last read them), re-read
    when a rules file or that read changed (looked at once a second at most); rules that
    no longer load keep the last good ones, and say so in the log."""
    from collabd.errors import CollabdError
    from collabd.policy import sources
    from collabd.policy.rules import load_rules
    from collabd.resources import skeleton_dir

    def stamp() -> tuple[tuple[str, int], ...]:
        files = [*config.rules_dir.glob("*.yaml"), config.state_dir / sources.CACHE]
        return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in files if p.exists()))

    state: dict[str, Any] = {"rules": sources.with_members(rules, sources.load(config.state_dir)),
                             "stamp": stamp(), "checked": time.monotonic()}
    lock = threading.Lock()

    def current() -> Rules:
        with lock:
            if time.monotonic() - state["checked"] >= 1.0:
                state["checked"] = time.monotonic()
                now = stamp()
                if now != state["stamp"]:
                    state["stamp"] = now
                    try:
                        state["rules"] = sources.with_members(
                            load_rules(config.rules_dir, tz=config.tz,
                                       defaults=skeleton_dir("rules")),
                            sources.load(config.state_dir))
                        log.info("rules re-read")
                    except CollabdError as exc:
                        log.error("the changed rules do not load; keeping the last "
                                  "good ones:\n%s", exc)
            return state["rules"]  # type: ignore[no-any-return]

    return current


def board_for(config: Config, rules: Rules, now: Callable[[], dt.datetime], *,
              base_url: str | None = None) -> Board:
    """The board of a deployment, reading its state read-only."""
    from collabd.store.backend import read_view
    from collabd.web.links import load_key

    live: list[StateView] = []

    def open_view() -> StateView:
        # Embedded: the committed state read anew (a read-only store holds no files
        # open). PostgreSQL: one view, whose every read is the database's current
        # state (one connection, used by one request at a time).
        if config.settings.store == "postgresql":
            if not live:
                live.append(read_view(config))
            return live[0]
        return read_view(config)  # type: ignore[no-any-return]

    settings = config.settings.board
    links = BoardLinks(load_key(config.state_dir), base_url or settings.base_url,
                       settings.link_days)
    return Board(config, rules_watcher(config, rules), links, open_view, now)
