"""The `collabd` command: init, run, deliver, status, show, check."""

from __future__ import annotations

import functools
import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo

import click

from collabd import __version__
from collabd.clock import Clock, FixedClock, SystemClock, isoformat, parse_instant
from collabd.configpath import CONFIG_ENV
from collabd.errors import CollabdError

if TYPE_CHECKING:  # the settings' models are imported by the commands that need them
    from collabd.config import Config

# sysexits.h codes an MTA understands when `deliver` is its pipe: 75 = try again later.
EX_DATAERR = 65
EX_TEMPFAIL = 75

_MAILBOX: list[str | None] = [None]  # --mailbox, for _load
_LOADED: dict[str, Config] = {}  # _load's, by --config


def _choose_mailbox(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    _MAILBOX[0] = value


def config_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """--config, and --mailbox for a configuration that serves several (`mailboxes:`)."""
    command = click.option(
        "--mailbox", default=None, metavar="NAME", expose_value=False,
        callback=_choose_mailbox, is_eager=True,
        help="Which mailbox of a configuration with several (its name, address or id "
             "prefix); `run` without it serves them all.")(command)
    return click.option(
        "--config", "config_path", type=click.Path(path_type=Path), default=None,
        help=f"collabd.yaml to use (default: ${CONFIG_ENV} or ./collabd.yaml).",
    )(command)


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"collabd: {message}", err=True)
    sys.exit(code)


def _load(config_path: Path | None, *, whole_group: bool = False) -> Config:
    """The configuration; of one with several mailboxes, the one --mailbox names (or,
    `whole_group`, the first, whose `group` is all of them)."""
    import os

    from collabd.config import load_config

    key = f"{config_path}|{os.environ.get(CONFIG_ENV)}|{os.getcwd()}"
    config = _LOADED.get(key)  # (a command that asks twice reads the file once)
    if config is None:
        try:
            config = _LOADED[key] = load_config(config_path)
        except CollabdError as exc:
            _fail(str(exc), 2)
    wanted = _MAILBOX[0]
    names = ", ".join(c.name for c in config.group)
    if wanted is not None:
        chosen = config.mailbox(wanted)
        if chosen is None:
            _fail(f"--mailbox {wanted}: {config.path} has no such mailbox ({names})", 2)
        return chosen
    if len(config.group) > 1 and not whole_group:
        _fail(f"{config.path} serves {len(config.group)} mailboxes ({names}): say which "
              "with --mailbox NAME", 2)
    return config


def _clock(tz: ZoneInfo, now: str | None, option: str = "--now") -> Clock:
    """The system clock, or one fixed at `--now` (or the command's `option`)."""
    if now is None:
        return SystemClock(tz)
    try:
        return FixedClock(parse_instant(now, tz), tz)
    except ValueError as exc:
        _fail(f"{option}: {exc}", 2)


def _print_json(data: Any) -> None:
    # orjson: `status --json` at 100,000 open records is 20 MB of JSON, which the
    # stdlib encoder took four seconds to write.
    import orjson

    sys.stdout.buffer.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.buffer.flush()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="collabd")
def main() -> None:
    """collabd runs cross-department collaboration (跨部门协作) by email.

    People email requests to the shared mailbox, accept the invites it sends and reply
    确认 to sign off; collabd keeps the records, chases and escalates by the rules.
    """


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--address", default="collab@example.com", show_default=True,
              help="The shared mailbox address people write to.")
@click.option("--port", default=2525, show_default=True, type=int,
              help="Port of the local SMTP listener.")
@click.option("--provider", default=None,
              type=click.Choice(["exmail", "aliyun", "netease", "feishu", "dingtalk"],
                                case_sensitive=False),
              help="Use this enterprise mail provider's IMAP/SMTP servers instead of the "
                   "embedded backend: exmail (腾讯企业邮), aliyun (阿里邮箱), netease "
                   "(网易企业邮), feishu (飞书邮箱), dingtalk (钉邮).")
def init(directory: Path, address: str, port: int, provider: str | None) -> None:
    """Create a ready deployment in DIRECTORY (local backend, default rules and templates).

    Then start it with: collabd run --config DIRECTORY/collabd.yaml. A directory that
    already holds a deployment is left exactly as it is.
    """
    from collabd.deployment import existing_deployment, init_deployment

    existing = existing_deployment(directory)
    if existing is not None:
        click.echo(f"{existing} already exists; the deployment is kept as it is")
        if provider is not None:
            from collabd.providers import PROVIDERS, config_section

            # Not written into a configuration someone may have edited: shown to paste.
            click.echo(f"--provider {provider} was not applied. To move this deployment to "
                       f"{PROVIDERS[provider.lower()].name}, replace `backend: local` in "
                       f"{existing} with:\n")
            click.echo(config_section(PROVIDERS[provider.lower()], address))
        click.echo(f"start the daemon:  collabd run --config {existing}")
        return
    try:
        provider = provider.lower() if provider else None
        config_path = init_deployment(directory, address=address, port=port,
                                      provider=provider)
    except CollabdError as exc:
        _fail(str(exc))
    click.echo(f"created {config_path}")
    if provider is not None:
        from collabd.providers import PROVIDERS

        if address.endswith("@example.com"):
            click.echo(f"note: the shared mailbox is {address}, the example; give yours with "
                       "--address, or change mailbox.address and imap/smtp.username in "
                       f"{config_path}")
        secret = config_path.parent / "mail.secret"
        click.echo(f"on {PROVIDERS[provider].name}: put the mailbox's password (or its "
                   f"client-only password) in {secret} (chmod 600), then:")
        for n, step in enumerate(PROVIDERS[provider].login_steps, 1):
            click.echo(f"  {n}. {step}")
        click.echo(f"check it:          collabd check --config {config_path}")
    click.echo(f"start the daemon:  collabd run --config {config_path}")


@main.command()
@config_option
@click.option("--once", is_flag=True,
              help="Do one fetch-process-tick-send pass and exit.")
@click.option("--now", "now", metavar="ISO-8601", default=None,
              help="Fix the clock at this moment for the run (e.g. 2026-12-01T09:30).")
def run(config_path: Path | None, once: bool, now: str | None) -> None:
    """Run the daemon: receive, process, apply the rules on the clock, send.

    Runs in the foreground until SIGTERM/SIGINT (systemd Type=notify). A second `run`
    on the same state directory is refused.
    """
    from collabd import logs
    from collabd.app import Daemon, retry_start

    config = _load(config_path, whole_group=True)
    logs.setup(config.settings.daemon.log_level)
    clock = _clock(config.tz, now)
    if _MAILBOX[0] is None and len(config.group) > 1:
        _run_group(config.group, clock, once=once)
        return
    daemon = Daemon(config, clock, listen=not once)
    if now is not None and not once:
        from collabd import report

        # `status` then judges what is overdue by the daemon's clock, not the wall's.
        report.set_daemon_clock(config.state_dir, clock.now())
    try:
        if once:
            daemon.start(stand_by=False)
        else:
            daemon.install_signals()
            retry_start(daemon)
    except CollabdError as exc:
        _fail(str(exc))
    server = None
    if not once and config.settings.board.enabled:
        server = _start_board(config, daemon.rules, clock)
    try:
        if once:
            result = daemon.run_once()
            click.echo(f"fetched {result.fetched}, processed {result.processed}, "
                       f"sent {result.sent}", err=True)
        elif not daemon.stopping:
            daemon.run_forever(install_signals=False)
    finally:
        if server is not None:
            server.shutdown()
        daemon.close()
        if now is not None and not once:
            from collabd import report

            report.set_daemon_clock(config.state_dir, None)


def _run_group(configs: list[Config], clock: Clock, *, once: bool) -> None:
    """Serve every mailbox of the configuration in this process, each on a thread of
    its own with its own state, rules and backend (`--mailbox` serves one: the group
    can be spread over processes and machines instead)."""
    import logging
    import signal
    import threading

    from collabd.app import Daemon, retry_start

    daemons = [Daemon(c, clock, listen=not once) for c in configs]
    if once:
        me = threading.current_thread()
        named = me.name
        for daemon in daemons:
            me.name = f"mailbox {daemon.config.name}"  # (its log lines say which)
            try:
                daemon.start(stand_by=False)
                result = daemon.run_once()
            except CollabdError as exc:
                _fail(f"{daemon.config.name}: {exc}")
            finally:
                daemon.close()
                me.name = named
            click.echo(f"{daemon.config.name}: fetched {result.fetched}, processed "
                       f"{result.processed}, sent {result.sent}", err=True)
        return

    def stop(*_: Any) -> None:
        for daemon in daemons:
            daemon.request_stop()

    def reload(*_: Any) -> None:
        for daemon in daemons:
            daemon.request_reload()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    failed: list[str] = []

    def serve(daemon: Daemon) -> None:
        server = None
        try:
            retry_start(daemon)
            if daemon.config.settings.board.enabled and not daemon.stopping:
                server = _start_board(daemon.config, daemon.rules, clock)
            if not daemon.stopping:
                daemon.run_forever(install_signals=False)
        except BaseException as exc:  # one mailbox's failure stops the whole process
            failed.append(f"{daemon.config.name}: {exc}")
            logging.getLogger("collabd").exception("mailbox %s stopped", daemon.config.name)
            stop()
        finally:
            if server is not None:
                server.shutdown()
            daemon.close()

    threads = [threading.Thread(target=serve, args=(d,), name=f"mailbox {d.config.name}")
               for d in daemons]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        for thread in threads:
            thread.join(0.5)
    if failed:
        _fail("\n".join(failed))


def _start_board(config: Config, rules: Any, clock: Clock) -> Any:
    """The board served beside the daemon (board.enabled), on a thread of its own that
    reads the committed state like `collabd board` does."""
    import logging
    import threading

    from collabd.web.server import board_for, make_server

    settings = config.settings.board
    try:
        server = make_server(board_for(config, rules, clock.now), settings.listen,
                             settings.port)
    except OSError as exc:
        # The daemon's work is the mail; a board that cannot listen is logged, not fatal.
        logging.getLogger("collabd.board").error(
            "the board cannot listen on %s:%s (%s); the daemon runs without it",
            settings.listen, settings.port, exc)
        return None
    threading.Thread(target=server.serve_forever, name="board", daemon=True).start()
    logging.getLogger("collabd.board").info("board on %s", settings.base_url)
    return server


@main.command()
@config_option
@click.option("--listen", default=None, metavar="ADDRESS",
              help="Address to listen on (default: board.listen, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default: board.port, 8470).")
@click.option("--link", "link_for", default=None, metavar="ADDRESS|NAME",
              help="Print a personal link for this directory member and exit.")
@click.option("--now", "now", metavar="ISO-8601", default=None,
              help="Judge deadlines and 'this week' at this moment (the records are shown "
                   "as they are now, not as they were then).")
def board(config_path: Path | None, listen: str | None, port: int | None,
          link_for: str | None, now: str | None) -> None:
    """Serve the board (进度看板) read-only over the state, in the foreground.

    People get their link by mailing 看板 to the shared address (or from --link); see
    the README's "Board" for running it behind a reverse proxy.
    """
    from collabd import logs
    from collabd.policy.rules import load_rules
    from collabd.resources import skeleton_dir
    from collabd.web.server import board_for, make_server

    config = _load(config_path)
    logs.setup(config.settings.daemon.log_level)
    clock = _clock(config.tz, now)
    try:
        rules = load_rules(config.rules_dir, tz=config.tz, defaults=skeleton_dir("rules"))
    except CollabdError as exc:
        _fail(str(exc))
    settings = config.settings.board
    host, number = listen or settings.listen, port or settings.port
    # Links point at board.url; without one, at where this board listens.
    base = settings.url or f"http://{host}:{number}"
    try:
        the_board = board_for(config, rules, clock.now, base_url=base)
        the_board.view()  # a state that cannot be read is said now, not on each page
    except CollabdError as exc:
        _fail(str(exc))
    if link_for is not None:
        person = rules.directory.by_address(link_for)
        if person is None:
            named = rules.directory.by_name(link_for)
            if len(named) > 1:
                _fail(f"{link_for} names {len(named)} people in the org directory; give "
                      f"an address: {', '.join(p.address for p in named)}")
            person = named[0] if named else None
        if person is None:
            _fail(f"{link_for} is neither an address nor a name in the org directory "
                  "(rules/org.yaml)")
        link, expires = the_board.links.link(person.address, clock.now())
        click.echo(link)
        click.echo(f"valid until {expires.isoformat(timespec='minutes')}", err=True)
        return
    try:
        server = make_server(the_board, host, number)
    except (OSError, OverflowError) as exc:
        _fail(f"cannot listen on {host}:{number}: {exc}")
    click.echo(f"board on http://{host}:{server.server_address[1]}/ "
               f"(links point at {base})", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@config_option
def deliver(config_path: Path | None) -> None:
    """Hand one raw message on stdin to the daemon (an MTA pipe, or a test).

    The message is journaled durably before this returns; the daemon processes it on
    its next pass (or the next `collabd run`). Works while the daemon runs. Exit code
    75 (EX_TEMPFAIL) tells an MTA to try again later.
    """
    from collabd.configpath import quick_settings
    from collabd.store.journal import Journal

    # Once per message: the two settings it needs, read without the settings' models.
    quick = quick_settings(config_path)
    config = None
    if quick is None:  # (a file that is not plain, or a state in PostgreSQL)
        config = _load(config_path)
        quick = config.state_dir, config.settings.local.max_message_bytes
    state_dir, limit = quick
    raw = sys.stdin.buffer.read()
    if not raw.strip():
        _fail("no message on standard input (expected a raw RFC 5322 message)", EX_DATAERR)
    if len(raw) > limit:
        _fail(f"message is {len(raw)} bytes, over the limit of {limit}", EX_DATAERR)
    if config is not None and config.settings.store == "postgresql":
        from collabd.store.backend import journal_for

        try:
            queue = journal_for(config)
            try:
                name = queue.put(raw)
            finally:
                queue.store.close()
        except CollabdError as exc:
            _fail(f"could not journal the message: {exc}", EX_TEMPFAIL)
        except Exception as exc:  # psycopg's errors: the database, try later
            _fail(f"could not journal the message: {exc}", EX_TEMPFAIL)
        click.echo(f"queued {name}", err=True)
        return
    try:
        path = Journal(state_dir / "queue").put(raw)
    except OSError as exc:
        _fail(f"could not journal the message: {exc}", EX_TEMPFAIL)
    click.echo(f"queued {path.name}", err=True)


def _open_view(config: Config) -> Any:
    if config.settings.store == "postgresql":
        return _open_parts(config)[0]
    return _open_state(config.state_dir)


def _open_parts(config: Config, *, summary: bool = False) -> tuple[Any, Any]:
    """The state read-only and its journal, wherever the deployment keeps them."""
    from collabd.store.backend import read_parts

    try:
        parts = read_parts(config, summary=summary)
    except CollabdError as exc:
        _fail(str(exc))
    return parts.view(config), parts.journal


def _open_state(state_dir: Path, *, summary: bool = False) -> Any:
    """The state, read-only. `summary`: only what `status` shows (the summary the
    daemon keeps, not every record), unless that summary cannot serve."""
    from collabd.store.backend import read_embedded

    try:
        return read_embedded(state_dir, summary=summary).view()
    except CollabdError as exc:
        _fail(str(exc))


def _show_data(config_path: Path | None, state_dir: Path,
               record_id: str) -> dict[str, Any] | None:
    """One record and its messages, read from slices of the state files (a few
    milliseconds at any size); the whole state only if those cannot serve."""
    import time

    from collabd import report
    from collabd.store.archive import Archive
    from collabd.store.derived import Unavailable, read_one

    db_dir = state_dir / "db"
    for attempt in range(3):
        try:
            record, messages = read_one(db_dir, record_id)
        except Unavailable:
            time.sleep(0.05 * attempt)  # the daemon may be writing a checkpoint
            continue
        except (OSError, ValueError):
            break
        if record is not None:
            return report.show_record(record, messages, archived=False)
        archived, archived_messages = Archive(db_dir).get_with_messages(record_id)
        if archived is None:
            return None
        return report.show_record(archived, {**messages, **archived_messages},
                                  archived=True)
    return report.show(_open_view(_load(config_path)), record_id)


def _pg_config(config_path: Path | None) -> Config | None:
    """The settings, when the state is in PostgreSQL (what the quick read cannot tell:
    the file then is loaded properly)."""
    from collabd.configpath import quick_paths

    if quick_paths(config_path) is not None:
        return None
    config = _load(config_path)
    return config if config.settings.store == "postgresql" else None


def _status_settings(config_path: Path | None) -> tuple[Path, Path, ZoneInfo]:
    """State directory, rules directory and timezone, read without the settings' models
    (a tenth of a second); a file that does not read plainly is loaded properly, for
    its errors."""
    from collabd.configpath import quick_paths

    quick = quick_paths(config_path)
    if quick is not None:
        try:
            return quick[0], quick[1], ZoneInfo(quick[2])
        except (ValueError, KeyError):
            pass  # not a timezone: the full load says so
    config = _load(config_path)
    return config.state_dir, config.rules_dir, config.tz


@main.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--now", "now", metavar="ISO-8601", default=None,
              help="Judge what is overdue as of this moment (default: the daemon's "
                   "clock when it runs with --now, else now).")
@click.option("--person", default=None, metavar="NAME|ADDRESS",
              help="Only what waits on this person.")
@click.option("--dept", default=None, metavar="DEPARTMENT",
              help="Only what waits on someone of this department.")
@click.option("--kind", default=None, metavar="KIND",
              help="Only records of this kind: request/需求, meeting/会议, task/待办, "
                   "problem/问题, project/项目.")
@click.option("--overdue", is_flag=True, help="Only what is overdue.")
@click.option("--csv", "as_csv", is_flag=True,
              help="The open records as CSV (UTF-8 with a BOM, for Excel), one per line.")
def status(config_path: Path | None, as_json: bool, now: str | None, person: str | None,
           dept: str | None, kind: str | None, overdue: bool, as_csv: bool) -> None:
    """What is open, overdue, and waiting on whom; the queues in and out.

    Reads the state without locking it, so it works while the daemon runs.
    """
    from collabd import report
    from collabd.store import Journal

    # A short-lived reader that builds a summary per record: the cyclic collector,
    # set off again and again by 100,000 new dicts, would be half of its time (nothing
    # it makes is a cycle that outlives the command).
    gc.disable()
    state_dir, rules_dir, tz = _status_settings(config_path)
    pg_config = _pg_config(config_path)
    if pg_config is not None:
        view, queue = _open_parts(pg_config, summary=True)
    else:
        view, queue = _open_state(state_dir, summary=True), Journal(state_dir / "queue")

    @functools.cache
    def rules() -> Any:
        from collabd.policy.rules import load_rules
        from collabd.resources import skeleton_dir

        try:
            return load_rules(rules_dir, tz=tz, defaults=skeleton_dir("rules"))
        except CollabdError:
            return None  # the state can still be shown; due dates then end at 18:00

    if kind is not None and report.kind_of(kind) not in report.KIND_LABELS:
        _fail(f"--kind {kind!r}: expected one of "
              + ", ".join(f"{k}/{v}" for k, v in report.KIND_LABELS.items()), 2)
    if dept is not None and rules() is not None and rules().directory.department(dept) is None:
        _fail(f"--dept {dept!r}: no such department in the org directory "
              f"({', '.join(rules().directory.department_names())})", 2)
    # On PostgreSQL: who leads and who stands by (else the state directory's lock says)
    daemon = report.nodes_state(view.store.nodes()) if pg_config is not None else None
    if now is None:
        # a daemon run with --now: its moment
        now = report.daemon_clock(state_dir, running=daemon["running"] if daemon else None)
    data = report.status(
        view, queue, state_dir, _clock(tz, now).now(),
        report.LazyCalendar(lambda: rules() and rules().calendar,
                            lambda: rules() and rules().directory),
        kind=kind, person=person, dept=dept, overdue=overdue, daemon=daemon)
    if as_csv:
        sys.stdout.buffer.write(report.status_csv(data).encode("utf-8-sig"))
    elif as_json:
        _print_json(data)
    else:
        click.echo(report.status_text(data))


@main.command()
@config_option
@click.argument("record_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(config_path: Path | None, record_id: str, as_json: bool) -> None:
    """One record (XQ-…, WT-…, …) with its full audit trail and messages."""
    from collabd import report
    from collabd.configpath import quick_settings

    # The state directory is all it needs: read without the settings' models.
    quick = quick_settings(config_path)
    config = _load(config_path) if quick is None else None
    wanted = record_id.strip().upper()
    if config is not None and config.settings.mailbox.id_prefix:
        from collabd.ids import with_prefix

        # (written as people write it, without the mailbox's prefix)
        wanted = with_prefix(wanted, config.settings.mailbox.id_prefix)
    if config is not None and config.settings.store == "postgresql":
        data = report.show(_open_view(config), wanted)
    else:
        state_dir = quick[0] if quick is not None else config.state_dir  # type: ignore[union-attr]
        data = _show_data(config_path, state_dir, wanted)
    if data is None:
        _fail(f"no record {record_id} (open or archived)")
    if as_json:
        _print_json(data)
    else:
        click.echo(report.show_text(data))


@main.command()
@click.argument("files", nargs=-1, required=True,
                type=click.Path(path_type=Path, exists=True, dir_okay=False, allow_dash=True))
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the default).")
@click.option("--now", "now", metavar="ISO-8601", default=None,
              help="Read dates as of this moment (a year-less 12月10日, a due date passed).")
def parse(files: tuple[Path, ...], config_path: Path | None, as_json: bool,
          now: str | None) -> None:
    """Classify messages and extract their fields, without touching any state.

    FILES are raw .eml files (or - for standard input). One file: one JSON object;
    several: one JSON object per line, in order, each with its "file". Uses the
    deployment's rules when a config is found (--config, $COLLABD_CONFIG or
    ./collabd.yaml), else the defaults.
    """
    from collabd.parsing import parse_files

    failed = 0
    try:
        results = parse_files(list(files), config_path=config_path, now=now)
        if len(files) == 1:
            data = next(results)
            if "error" in data:
                _fail(f"{data['file']}: {data['error']}", 2)
            _print_json(data)
            return
        for path, data in zip(files, results, strict=True):
            failed += "error" in data
            click.echo(json.dumps({"file": str(path), **data}, ensure_ascii=False))
    except CollabdError as exc:
        _fail(str(exc), 2)
    if failed:
        sys.exit(2)


@main.group()
def store() -> None:
    """Move a whole state between stores (export, import); repairs of the embedded state
    after damage, as the refusal to start says (daemon stopped)."""


def _embedded_only(config: Config, command: str) -> None:
    if config.settings.store == "postgresql":
        _fail(f"store {command} repairs the embedded store's files; this deployment keeps "
              "its state in PostgreSQL, which keeps its own log (restore a damaged "
              "database from its backups)", 2)


@store.command("export")
@config_option
@click.option("--out", "out", type=click.Path(path_type=Path, dir_okay=False),
              required=True, help="The file to write (JSON Lines; - for standard output).")
def store_export(config_path: Path | None, out: Path) -> None:
    """Write the deployment's whole state — records, message index, outbox, counters and
    cursors, archive, journal — to one file, from whichever store it is in. Stop the
    daemon first for an exact copy (a running one goes on changing the state)."""
    from collabd.store import transfer
    from collabd.store.backend import read_parts

    config = _load(config_path)
    try:
        parts = read_parts(config)
    except CollabdError as exc:
        _fail(str(exc))
    try:
        if str(out) == "-":
            counts = transfer.write_export(parts, sys.stdout, source=config.settings.store)
        else:
            tmp = out.with_name(out.name + ".partial")
            with tmp.open("w", encoding="utf-8") as fh:
                counts = transfer.write_export(parts, fh, source=config.settings.store)
            tmp.replace(out)
    finally:
        parts.store.close()
    click.echo("exported " + ", ".join(f"{n} {t}" for t, n in counts.items())
               + (f" to {out}" if str(out) != "-" else ""), err=True)


@store.command("import")
@config_option
@click.argument("source", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def store_import(config_path: Path | None, source: Path) -> None:
    """Read a `store export` file into the deployment's store (as collabd.yaml `store:`
    says: embedded or postgresql), which must be empty, with no daemon running on it.
    To move from the embedded store to PostgreSQL: export, set `store: postgresql`,
    import, start the daemon."""
    from collabd.store import transfer
    from collabd.store.backend import daemon_parts

    config = _load(config_path)
    try:
        transfer.check_export(source)  # (a file cut short is refused before anything)
    except CollabdError as exc:
        _fail(str(exc))
    parts = daemon_parts(config)
    lock = None
    try:
        if config.settings.store == "postgresql":
            parts.store.open()
            if not parts.store.lead():
                _fail(f"a daemon serves mailbox {parts.store.space}; stop it (and its "
                      "standbys) before importing")
        else:
            from collabd.store import StateLock

            lock = StateLock(config.state_dir)
            lock.acquire()
            parts.store.open()
        counts = transfer.import_into(parts, source)
    except CollabdError as exc:
        _fail(str(exc))
    finally:
        parts.store.close()
        if lock is not None:
            lock.release()
    click.echo(f"imported into {parts.store.describe()}: "
               + ", ".join(f"{n} {t}" for t, n in counts.items()))


@store.command("truncate-log")
@config_option
@click.argument("where", metavar="SEGMENT:LINE")
def store_truncate_log(config_path: Path | None, where: str) -> None:
    """Cut the write-ahead log at a damaged line (and drop later segments), keeping a
    copy of what is cut as SEGMENT.damaged. Only as the refusal to start says."""
    from collabd.store import StateLock
    from collabd.store.wal import segments, truncate_at

    config = _load(config_path)
    _embedded_only(config, "truncate-log")
    name, _, line = where.rpartition(":")
    wal_dir = config.state_dir / "db" / "wal"
    path = wal_dir / name
    if not name or not line.isdigit() or not path.is_file():
        _fail(f"{where}: expected SEGMENT:LINE naming a file in {wal_dir}", 2)
    from collabd.store import Store

    with StateLock(config.state_dir):
        kept, dropped = truncate_at(path, int(line))
        later = [p for p in segments(wal_dir) if p.name > path.name]
        for extra in later:
            extra.rename(extra.with_name(extra.name + ".damaged"))
        # What was cut was committed: the commit mark is brought back to the new end,
        # the loss the refusal described being the one accepted by running this.
        try:
            Store(config.state_dir).accept_loss()
        except CollabdError as exc:
            _fail(f"the log was cut, but the state still does not open:\n{exc}")
    at = isoformat(SystemClock(config.tz).now())
    _journal(config).record("truncate-log", name, at=at, line=int(line), kept=kept, dropped=dropped,
                   later_segments=[p.name for p in later])
    click.echo(f"{name}: kept {kept} entries, dropped {dropped} line(s) from line {line}"
               + (f" and {len(later)} later segment(s)" if later else "")
               + "; the cut part is kept as .damaged. Start the daemon again.")


@store.command("accept-loss")
@config_option
def store_accept_loss(config_path: Path | None) -> None:
    """Accept that committed log entries are gone (no backup has them): the state
    restarts from the last entry the log holds. Only as the refusal to start says."""
    from collabd.store import StateLock, Store

    config = _load(config_path)
    _embedded_only(config, "accept-loss")
    with StateLock(config.state_dir):
        try:
            seq, marked = Store(config.state_dir).accept_loss()
        except CollabdError as exc:
            _fail(str(exc))
    _journal(config).record("accept-loss", "db/committed",
                            at=isoformat(SystemClock(config.tz).now()), log_ends=seq,
                            was_committed=marked)
    click.echo(f"the state now starts from entry {seq}"
               + (f" (entries {seq + 1} to {marked} are lost)" if marked and marked > seq
                  else "") + ". Start the daemon again.")


@main.command("report")
@config_option
@click.argument("which", type=click.Choice(["weekly", "problems", "departments"]))
@click.option("--at", "at", metavar="ISO-8601", default=None,
              help="Date the ledger at this moment: its week, what is overdue then "
                   "(default: now). The records are as they are now, not as they were.")
@click.option("--dept", default=None, metavar="DEPARTMENT",
              help="Only what concerns this department (a head's view).")
@click.option("--month", default=None, metavar="YYYY-MM",
              help="departments: the month to measure (default: the last complete month "
                   "before --at).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Directory to write the ledger's .html and .xlsx into.")
def report_command(config_path: Path | None, which: str, at: str | None, dept: str | None,
                   month: str | None, out_dir: Path) -> None:
    """The secretary's ledgers on demand: weekly (《跨部门协作进度台账》), problems
    (《问题台账》) or departments (部门协作绩效, a month against the month before), as the
    HTML mailed and the .xlsx attached."""
    import datetime as dt

    from collabd import figures, ledger
    from collabd.outbound.templates import Templates
    from collabd.policy.rules import load_rules
    from collabd.resources import skeleton_dir

    config = _load(config_path)
    try:
        rules = load_rules(config.rules_dir, tz=config.tz, defaults=skeleton_dir("rules"))
    except CollabdError as exc:
        _fail(str(exc))
    if dept:
        found = rules.directory.department(dept)
        if found is None:
            _fail(f"no department {dept!r} in the org directory "
                  f"({', '.join(rules.directory.department_names())})")
        dept = found.name
    now = _clock(config.tz, at, "--at").now()
    view = _open_view(config)
    records = [dict(r) for r in view.records()]
    if month is not None and which != "departments":
        _fail("--month is for `report departments`")
    data: dict[str, Any]
    if which == "departments":
        if month is None:
            period = figures.last_complete_month(now)
        else:
            try:
                year, number = (int(x) for x in month.split("-"))
                period = figures.month(dt.date(year, number, 1), tz=config.tz)
            except ValueError:
                _fail(f"--month {month!r}: expected YYYY-MM, e.g. 2026-11")
            if period.start > now:
                _fail(f"--month {month}: that month has not begun at {now:%Y-%m-%d %H:%M} "
                      "(--at, default now)")
        data = figures.of_state(view, rules, now, period, dept=dept)
        xlsx, name = figures.departments_xlsx(data), "部门协作绩效"
    elif which == "weekly":
        data = ledger.weekly(records, now, rules.calendar, dept=dept)
        xlsx, name = ledger.weekly_xlsx(data), "跨部门协作进度台账"
    else:
        data = ledger.problems(records, now, dept=dept)
        xlsx, name = ledger.problems_xlsx(data), "问题台账"
    templates = Templates(config.templates_dir, skeleton_dir("mail_templates"))
    template = "figures_departments" if which == "departments" else f"ledger_{which}"
    rendered = templates.render(template, now=now, as_file=True,
                                mailbox=config.settings.mailbox.address,
                                secretary_name=config.settings.mailbox.display_name, **data)
    stamp = f"{data['period'].start:%Y%m}" if which == "departments" else f"{now:%Y%m%d}"
    stem = f"{name}_{dept + '_' if dept else ''}{stamp}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"{stem}.html").write_text(rendered.html, encoding="utf-8")
        (out_dir / f"{stem}.xlsx").write_bytes(xlsx)
    except OSError as exc:
        _fail(f"cannot write into {out_dir}: {exc}")
    click.echo(f"{out_dir / stem}.html\n{out_dir / stem}.xlsx")


@main.group()
def archive() -> None:
    """The archive (资料归档) of a request or a project."""


@archive.command("export")
@config_option
@click.argument("record_id")
@click.option("--out", "out_path", type=click.Path(path_type=Path), default=None,
              help="The .zip to write (default: 协作事项_部门_日期.zip here).")
def archive_export(config_path: Path | None, record_id: str, out_path: Path | None) -> None:
    """Every document of a request or project in one .zip: the form or plan, the memo,
    minutes, the task table, deliverables, the 复盘报告 and the whole audit trail."""
    from collabd import bundle

    config = _load(config_path)
    view = _open_view(config)
    wanted = record_id.strip().upper()
    record = view.record(wanted)
    if record is None:
        _fail(f"no record {record_id} (open or archived)")
    if record["kind"] not in ("request", "project", "problem"):
        _fail(f"{wanted} is a {record['kind']}: export the request or project it belongs to")
    index: dict[str, dict[str, dict[str, Any]]] = {}
    for message_id, entry in view.store.items("messages"):
        if isinstance(entry, dict) and entry.get("record"):
            index.setdefault(str(entry["record"]), {})[message_id] = entry

    def messages(rid: str) -> dict[str, dict[str, Any]]:
        found = dict(index.get(rid, {}))
        found.update(view.archive.messages_of(rid))
        return found

    from collabd.inbound.interpret import form_labels
    from collabd.policy.rules import load_rules
    from collabd.resources import skeleton_dir

    name_of = None
    try:
        rules = load_rules(config.rules_dir, tz=config.tz, defaults=skeleton_dir("rules"))
        labels = form_labels(rules, record["kind"])
        name_of = bundle.names_from(rules.directory)
    except CollabdError:
        labels = {}  # (rules that do not load: the archive keeps the stored names)
    name, data = bundle.build(
        dict(record), lambda rid: dict(found) if (found := view.record(rid)) else None,
        messages, _clock(config.tz, None).now().date(), labels=labels, name_of=name_of,
        sent_dir=config.state_dir / "mail" / "sent")
    target = out_path or Path(name)
    try:
        target.write_bytes(data)
    except OSError as exc:
        _fail(f"cannot write {target}: {exc}")
    click.echo(f"{target}: {len(data)} bytes")


@main.group()
def journal() -> None:
    """Messages set aside because processing them failed: list, show, retry, drop."""


def _journal(config: Config) -> Any:
    from collabd.store.backend import journal_for

    try:
        return journal_for(config)
    except CollabdError as exc:
        _fail(str(exc))


def _set_aside(config: Config, name: str) -> tuple[str, Any]:
    found = _journal(config).find(name)
    if found is None:
        _fail(f"no set-aside message named {name!r} (see `collabd journal list`)")
    return found  # type: ignore[no-any-return]


@journal.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def journal_list(config_path: Path | None, as_json: bool) -> None:
    """Every message in queue/shunt (processing raised) and queue/bad (the daemon
    stopped three times on it), with its sender, subject and error."""
    from collabd import journalcli

    config = _load(config_path)
    queue = _journal(config)
    entries = journalcli.list_entries(queue, config.tz)
    if as_json:
        _print_json({"set_aside": entries, "waiting": queue.counts()["waiting"]})
    else:
        click.echo(journalcli.text(entries, queue.counts()["waiting"]))


@journal.command("show")
@config_option
@click.argument("name")
@click.option("--raw", is_flag=True, help="Print the message itself, as it arrived.")
def journal_show(config_path: Path | None, name: str, raw: bool) -> None:
    """One set-aside message: what it is, and the full error (or the raw message)."""
    from collabd import journalcli

    config = _load(config_path)
    queue = _journal(config)
    kind, target = _set_aside(config, name)
    if raw:
        sys.stdout.buffer.write(queue.read(target))
        return
    _print_json(journalcli.describe(queue, kind, target, config.tz))
    error = queue.error(target)
    if error:
        click.echo(error)


@journal.command("retry")
@config_option
@click.argument("name")
def journal_retry(config_path: Path | None, name: str) -> None:
    """Put a set-aside message back in the queue (after a fix or an upgrade); the
    running daemon processes it at its next pass."""
    import getpass

    config = _load(config_path)
    _, path = _set_aside(config, name)
    at = isoformat(SystemClock(config.tz).now())
    target = _journal(config).requeue(path, by=getpass.getuser(), at=at)
    click.echo(f"requeued {path.name} as {target.name}")


@journal.command("drop")
@config_option
@click.argument("name")
def journal_drop(config_path: Path | None, name: str) -> None:
    """Take a set-aside message out of the list (kept in queue/dropped/, recorded)."""
    import getpass

    config = _load(config_path)
    _, path = _set_aside(config, name)
    at = isoformat(SystemClock(config.tz).now())
    target = _journal(config).drop(path, by=getpass.getuser(), at=at)
    click.echo(f"dropped {path.name}; kept as {target}")


@main.command()
@config_option
@click.option("--offline", is_flag=True, help="Do not contact the mail server.")
def check(config_path: Path | None, offline: bool) -> None:
    """Validate config, rules, org directory and templates; probe the mailbox.

    Exits non-zero with file:line messages on any error.
    """
    from collabd.checks import check_files, run_checks
    from collabd.config import load_config
    from collabd.configpath import rough_layout

    try:
        config = load_config(config_path)
    except CollabdError as exc:
        # Every layer in one run: the rules and templates where the file names them
        # (or the defaults beside it); the mailbox needs a valid configuration.
        problems = [str(exc)]
        findings: list[str] = []
        located = rough_layout(config_path)
        if located is not None:
            more, findings = check_files(*located)
            problems += more
        notes = ["mailbox: not checked (it needs a valid configuration)"]
    else:
        problems, findings, notes = [], [], []
        members = config.group
        if _MAILBOX[0] is not None:
            chosen = config.mailbox(_MAILBOX[0])
            if chosen is None:
                _fail(f"--mailbox {_MAILBOX[0]}: {config.path} has no such mailbox "
                      f"({', '.join(c.name for c in config.group)})", 2)
            members = [chosen]
        for member in members:  # (each mailbox of a configuration with several)
            found, seen = run_checks(member, offline=offline)
            tag = f"[{member.name}] " if len(config.group) > 1 else ""
            problems += [tag + line for line in found]
            findings += [f"warning: {tag}{line.removeprefix('warning: ')}"
                         if line.startswith("warning: ") else tag + line for line in seen]
    for line in findings:
        click.echo(line if line.startswith("warning: ") else f"ok: {line}")
    for line in notes:
        click.echo(line)
    if problems:
        for line in problems:
            click.echo(line, err=True)
        _fail(f"{len(problems)} problem(s) found", 1)
    click.echo("all checks passed")


@main.group()
def rules() -> None:
    """The company's rules (rules/*.yaml): what they would do, when."""


@rules.command("simulate")
@config_option
@click.option("--at", "at", metavar="ISO-8601", required=True,
              help="The moment to evaluate the rules at, e.g. 2026-12-07T09:00.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rules_simulate(config_path: Path | None, at: str, as_json: bool) -> None:
    """What the rules would do at --at: which reminders and escalations fire, to whom
    and why, which meetings are planned; nothing is sent, nothing changes."""
    from collabd.simulate import simulate, text

    config = _load(config_path)
    try:
        moment = parse_instant(at, config.tz)
    except ValueError as exc:
        _fail(f"--at: {exc}", 2)
    try:
        report = simulate(config, moment)
    except CollabdError as exc:
        _fail(str(exc))
    if as_json:
        _print_json(report)
    else:
        click.echo(text(report))


@main.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Keep the deployment the demo used (config, rules, state, sent mail) here.")
@click.option("--project", is_flag=True,
              help="A cross-department project instead: plan, 启动会, memo, tasks, 复盘, 归档.")
def demo(out_dir: Path | None, project: bool) -> None:
    """Every flow on the embedded backend, on a simulated clock, in a few seconds.

    Requests (one incomplete, then fixed), a review meeting with RSVPs, minutes with a
    silent attendee chased and escalated, a blocked task and its risk meeting, the
    weekly risk meeting, a deliverable rejected then accepted, a 重大 problem
    escalated — two working weeks with a weekend and a public holiday, as a timeline.
    """
    import logging

    from collabd.demo import run_demo

    if out_dir is not None and out_dir.exists() and any(out_dir.iterdir()):
        _fail(f"{out_dir} is not empty; the demo needs a new or empty directory")
    logging.getLogger("collabd").setLevel(logging.WARNING)
    try:
        run_demo(out_dir, click.echo, project=project)
    except CollabdError as exc:
        _fail(str(exc))
