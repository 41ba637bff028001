"""Mail in, acknowledgement out: how long a requester waits, at 0, 10k and 100k records.

Real servers on loopback, as the tests run them: Dovecot (IMAP with IDLE, LMTP) from a
throwaway configuration, and an SMTP submission server (in its own process) that
delivers into Dovecot. For each size, the state is filled with that many open requests
shaped as intake writes them (bench/scale.py), `collabd run` starts on the `imap`
backend with its clock fixed at 10:00 on a working day, and 60 request forms are
submitted one at a time by SMTP, each timed from the end of its SMTP transaction to
the moment its acknowledgement is in the requester's INBOX (NOOP every 20 ms). The
submission server queues as an MTA does, so the time includes its delivery into the
shared mailbox; 0.5 s of it is Dovecot's own delay before it tells an IDLE client.

Prints one JSON line per size: {"bench": "latency", "stored_records", "n", "p50_s",
"p95_s", "max_s"}. Never passes or fails.

Run: python bench/latency.py [--sizes 0,10000,100000] [-n 60]
"""

from __future__ import annotations

import argparse
import email.header
import json
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from imapclient import IMAPClient

from backlog import submission_server
from collabd.config import Config
from helpers import SHARED
from intake import PEOPLE, request_message
from scale import _templates, populate
from servers import PASSWORD, Dovecot, imap_deployment

NOW = "2026-12-01T10:00:00+08:00"


def _start_daemon(config: Config) -> subprocess.Popen[bytes]:
    log = (config.state_dir.parent / "daemon.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "collabd", "run", "--config",
                             str(config.path), "--now", NOW], stdout=log, stderr=log)
    deadline = time.monotonic() + 300
    while b"started on" not in (config.state_dir.parent / "daemon.log").read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the daemon did not start; see daemon.log")
        time.sleep(0.1)
    return proc


def _acked(client: IMAPClient, marker: str) -> bool:
    found = client.search(["SUBJECT", marker], charset="UTF-8")
    if not found:
        return False
    subject = client.fetch(found, ["BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    text = b"".join(v[b"BODY[HEADER.FIELDS (SUBJECT)]"] for v in subject.values())
    decoded = str(email.header.make_header(email.header.decode_header(
        text.decode("ascii", "replace").partition(":")[2].strip())))
    if "需求已受理" not in decoded:
        raise RuntimeError(f"expected an acknowledgement, found {decoded!r}")
    return True


def measure(root: Path, size: int, count: int, dovecot: Dovecot, port: int,
            templates: object) -> dict[str, object]:
    submission = types.SimpleNamespace(port=port)
    config = imap_deployment(root / f"deploy-{size}", dovecot, submission)  # type: ignore[arg-type]
    if size:
        populate(config, size, 0, templates)  # type: ignore[arg-type]
    proc = _start_daemon(config)
    waits: list[float] = []
    try:
        watchers = {}
        for _name, address, _dept in PEOPLE:
            client = IMAPClient("127.0.0.1", port=dovecot.imap_port, ssl=False)
            client.login(address, PASSWORD)
            client.select_folder("INBOX", readonly=True)
            watchers[address] = client
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.login(SHARED, PASSWORD)
            for n in range(count + 1):  # the first one warms up, and is not counted
                number = size * 10 + 100_000 + n  # titles unique across sizes
                raw = request_message(number)
                sender = PEOPLE[number % 4][1]
                watcher = watchers[sender]
                smtp.sendmail(sender, [SHARED], raw)
                began = time.perf_counter()
                if os.environ.get("COLLABD_BENCH_TRACE"):
                    print(f"{time.time():.3f} submitted {number}", file=sys.stderr)
                marker = f"第{number}号"
                while not _acked(watcher, marker):
                    if time.perf_counter() - began > 120:
                        raise RuntimeError(f"no acknowledgement for request {number}")
                    time.sleep(0.02)
                    watcher.noop()  # the session sees what was delivered since
                if n:
                    waits.append(time.perf_counter() - began)
                    if os.environ.get("COLLABD_BENCH_KEEP_LOG"):
                        print(n, round(waits[-1], 3), time.strftime("%H:%M:%S"),
                              file=sys.stderr)
        for client in watchers.values():
            client.logout()
    finally:
        proc.terminate()
        proc.wait(60)
        if os.environ.get("COLLABD_BENCH_KEEP_LOG"):
            log = config.state_dir.parent / "daemon.log"
            Path(os.environ["COLLABD_BENCH_KEEP_LOG"]).write_bytes(log.read_bytes())
    waits.sort()
    return {"bench": "latency", "stored_records": size, "n": len(waits),
            "p50_s": round(statistics.median(waits), 3),
            "p95_s": round(waits[int(0.95 * (len(waits) - 1))], 3),
            "max_s": round(waits[-1], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0,10000,100000")
    parser.add_argument("-n", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collabd-latency-",
                                     dir=os.environ.get("TMPDIR")) as tmp:
        root = Path(tmp)
        dovecot = Dovecot().start()
        try:
            with submission_server(dovecot.lmtp_port) as port:
                templates = _templates(root)
                for size in (int(s) for s in args.sizes.split(",") if s):
                    print(json.dumps(measure(root, size, args.n, dovecot, port, templates)),
                          flush=True)
        finally:
            dovecot.cleanup()


if __name__ == "__main__":
    main()
