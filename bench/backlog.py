"""A backlog at start: how fast it drains, when the first acknowledgement leaves, the
longest tick, peak memory.

Default (real servers): N request forms are APPENDed into the shared mailbox's INBOX
on a real Dovecot (started from a throwaway configuration, as the tests do) before the
daemon starts on the `imap` backend; its replies go through a real SMTP submission
server (the tests', in a separate process, so that it does not share this one's CPU)
that queues them as an MTA does and delivers them into Dovecot by LMTP in the
background. The first acknowledgement is timed to its arrival in the requester's mailbox.
--local: the same with the messages in the embedded backend's Maildir inbox.

The daemon's real loop runs in this process, on a fixed clock in working hours, until
every message is processed and every reply sent. Prints one JSON line: {"bench":
"backlog", "backend", "messages", "drain_per_s", "first_ack_s", "longest_tick_s",
"ticks", "ticks_total_s", "daemon_cpu_s", "peak_rss_mb"}. Never passes or fails.

Run: python bench/backlog.py [--local] [-n 10000]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collabd.app import Daemon
from collabd.clock import FixedClock
from collabd.config import Config, load_config
from collabd.deployment import init_deployment
from intake import NOW, TZ, request_message

TESTS = Path(__file__).resolve().parent.parent / "tests"


@dataclass
class _Run:
    daemon: Daemon
    start: float
    ticks: list[float]
    cpu_start: float = 0.0

    def result(self, backend: str, count: int, first_ack: float | None) -> dict[str, object]:
        took = time.perf_counter() - self.start
        return {"bench": "backlog", "backend": backend, "messages": count,
                "drain_per_s": round(count / took, 1), "seconds": round(took, 1),
                "first_ack_s": round(first_ack or -1, 2),
                "longest_tick_s": round(max(self.ticks, default=0.0), 3),
                "ticks": len(self.ticks), "ticks_total_s": round(sum(self.ticks), 1),
                # CPU the daemon's process used while draining (all its threads): how
                # much of the 2 cores the daemon had, next to the servers' share.
                "daemon_cpu_s": round(time.process_time() - self.cpu_start, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}

    def check_time(self) -> None:
        if time.perf_counter() - self.start > 1800:
            raise RuntimeError("the backlog did not drain in 30 minutes")


@contextlib.contextmanager
def _running(config: Config) -> Iterator[_Run]:
    """The daemon's real loop in a thread, on a fixed clock in working hours, its ticks
    timed; stopped and closed on the way out."""
    daemon = Daemon(config, FixedClock(NOW, TZ), listen=False)
    ticks: list[float] = []
    real_tick = daemon.tick

    def timed_tick() -> None:
        began = time.perf_counter()
        real_tick()
        ticks.append(time.perf_counter() - began)

    daemon.tick = timed_tick  # type: ignore[method-assign]
    run = _Run(daemon, time.perf_counter(), ticks, time.process_time())
    daemon.start()
    loop = threading.Thread(target=daemon.run_forever, kwargs={"install_signals": False})
    loop.start()
    try:
        yield run
    finally:
        daemon.request_stop()
        loop.join()
        daemon.close()


def run_local(count: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="collabd-backlog-"))
    config = load_config(init_deployment(root / "deploy"))
    new = config.state_dir / "mail" / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (new / f"{n:08d}.backlog").write_bytes(request_message(n))
    sent_dir = config.state_dir / "mail" / "sent" / "new"
    first_ack = None
    with _running(config) as run:
        while True:
            # Polled cheaply and not too often: this thread shares the GIL with the daemon.
            time.sleep(0.2 if first_ack is not None else 0.02)
            sent = len(os.listdir(sent_dir)) if sent_dir.is_dir() else 0
            if first_ack is None and sent:
                first_ack = time.perf_counter() - run.start
            left = len(os.listdir(new)) + run.daemon.journal.counts()["waiting"]
            if not left and run.daemon.outbox.pending_count() == 0 and sent >= 2 * count:
                return run.result("local", count, first_ack)
            run.check_time()


SUBMISSION = """
import sys, time, types, warnings
warnings.simplefilter("ignore")  # aiosmtpd: AUTH without TLS, on loopback
sys.path.insert(0, sys.argv[2])
from servers import Submission
server = Submission(types.SimpleNamespace(lmtp_port=int(sys.argv[1]))).start()
lmtp = server.handler._lmtp
# As a real MTA does: accept, queue, deliver in the background (in order), so that the
# daemon is measured rather than this server's one-recipient-at-a-time LMTP.
import queue, threading
waiting = queue.Queue()
def deliver():
    while True:
        sender, rcpt, content = waiting.get()
        began = time.time()
        try:
            lmtp(sender, rcpt, content)
        except Exception as exc:
            print(f"LMTP delivery to {rcpt} failed: {exc}", file=sys.stderr, flush=True)
        if time.time() - began > 1:
            print(f"slow LMTP delivery to {rcpt}: {time.time() - began:.1f} s at "
                  f"{time.strftime('%H:%M:%S')}", file=sys.stderr, flush=True)
threading.Thread(target=deliver, daemon=True).start()
server.handler._lmtp = lambda sender, rcpt, content: waiting.put((sender, rcpt, content))
import os
if os.environ.get("COLLABD_BENCH_TRACE"):
    data = server.handler.handle_DATA
    async def traced(srv, session, envelope):
        import re
        mid = re.search(rb"Message-ID: (<[^>]*>)", envelope.original_content or b"", re.I)
        print(f"{time.time():.3f} accepted {mid.group(1).decode() if mid else '?'} "
              f"for {envelope.rcpt_tos}", file=sys.stderr, flush=True)
        return await data(srv, session, envelope)
    server.handler.handle_DATA = traced
print(server.port, flush=True)
sys.stdin.read()
server.close()
"""


@contextlib.contextmanager
def submission_server(lmtp_port: int) -> Iterator[int]:
    """The tests' SMTP submission server delivering into Dovecot by LMTP, in a process
    of its own (so that it does not share the daemon's CPU); yields its port."""
    helper = subprocess.Popen([sys.executable, "-c", SUBMISSION, str(lmtp_port), str(TESTS)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert helper.stdout is not None
        yield int(helper.stdout.readline())
    finally:
        helper.communicate("")


def run_dovecot(count: int) -> dict[str, object]:
    sys.path.insert(0, str(TESTS))
    # The tests' own servers and addresses.
    from helpers import SHARED
    from servers import Dovecot, imap_deployment

    root = Path(tempfile.mkdtemp(prefix="collabd-backlog-"))
    dovecot = Dovecot().start()
    try:
        with submission_server(dovecot.lmtp_port) as port:
            with dovecot.login(SHARED) as client:
                for n in range(count):
                    client.append("INBOX", request_message(n))
            requester = "zhang.wei@example.com"  # request 0's sender (bench/intake.PEOPLE)
            config = imap_deployment(root / "deploy", dovecot,
                                     types.SimpleNamespace(port=port))  # type: ignore[arg-type]
            first_ack = None
            with _running(config) as run:
                with dovecot.login(requester) as watcher:
                    while first_ack is None:
                        if watcher.folder_exists("INBOX") and watcher.folder_status(
                                "INBOX", ["MESSAGES"])[b"MESSAGES"]:
                            first_ack = time.perf_counter() - run.start
                        else:
                            time.sleep(0.05)
                while True:
                    time.sleep(0.5)
                    processed = run.daemon.store.message_counts()[0]
                    if (processed >= count and run.daemon.journal.counts()["waiting"] == 0
                            and run.daemon.outbox.pending_count() == 0):
                        return run.result("imap (Dovecot)", count, first_ack)
                    run.check_time()
    finally:
        dovecot.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--local", action="store_true",
                        help="the embedded backend instead of Dovecot")
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args()
    print(json.dumps(run_local(args.n) if args.local else run_dovecot(args.n)))


if __name__ == "__main__":
    main()
